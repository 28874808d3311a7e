package session

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"drawbridge/protocol"
)

// hostedSession hosts a session with a fresh host and returns both.
func hostedSession(t *testing.T, srv *Server) (*tc, *Session) {
	t.Helper()
	h := connect(t, srv, ConnInfo{Transport: "tcp"})
	h.host("alice", nil)
	ss := srv.Sessions()
	if len(ss) != 1 {
		t.Fatalf("%d sessions, want 1", len(ss))
	}
	return h, ss[0]
}

// drain reads every batch that is available now (the bubble is idle).
func drain(t *testing.T, tp *Tap) (frames []protocol.Frame, resets int) {
	t.Helper()
	for {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		var got []protocol.Frame
		var reset bool
		var err error
		go func() {
			got, _, reset, err = tp.Next(ctx, nil)
			close(done)
		}()
		synctest.Wait()
		cancel()
		<-done
		if errors.Is(err, context.Canceled) {
			return frames, resets
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if reset {
			resets++
			frames = nil
		}
		frames = append(frames, got...)
	}
}

func opaqueTypes(fs []protocol.Frame) []protocol.Type {
	var out []protocol.Type
	for _, f := range fs {
		if f.Type() >= 32 {
			out = append(out, f.Type())
		}
	}
	return out
}

func TestTapFollowsHistoryWithoutUserSlot(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		h, s := hostedSession(t, srv)
		tp, err := s.Tap()
		if err != nil {
			t.Fatal(err)
		}
		defer tp.Close()
		tp.SetViewers(3)
		if got := s.Desc().UserCount; got != 1 {
			t.Errorf("UserCount = %d with a tap, want 1", got)
		}
		if got := s.Viewers(); got != 3 {
			t.Errorf("Viewers = %d, want 3", got)
		}
		for i := range 5 {
			if err := h.sendFrame(128, 1, nil); err != nil { // UndoPoint
				t.Fatal(err)
			}
			if err := h.sendFrame(35, 1, []byte{0, 0, 'h', byte('0' + i)}); err != nil { // Chat
				t.Fatal(err)
			}
		}
		synctest.Wait()
		frames, resets := drain(t, tp)
		if resets != 0 {
			t.Errorf("%d resets, want 0", resets)
		}
		// The tap sees exactly what a client sees in its history: compare
		// with a late joiner's catch-up.
		j := connect(t, srv, ConnInfo{Transport: "tcp"})
		j.join("bob", s.ID(), nil)
		synctest.Wait()
		more, _ := drain(t, tp)
		frames = append(frames, more...)
		var joined []protocol.Frame
		for _, f := range j.conn.take() {
			if f.Type() >= 32 {
				joined = append(joined, f)
			}
		}
		want, got := opaqueTypes(joined), opaqueTypes(frames)
		if len(got) != len(want) {
			t.Fatalf("tap got %v\njoiner got %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("message %d: tap %v, joiner %v", i, got[i], want[i])
			}
		}
		tp.SetViewers(0)
		if got := s.Viewers(); got != 0 {
			t.Errorf("Viewers = %d after SetViewers(0)", got)
		}
	})
}

func TestTapEndsWithSession(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		_, s := hostedSession(t, srv)
		tp, err := s.Tap()
		if err != nil {
			t.Fatal(err)
		}
		drain(t, tp)
		errc := make(chan error, 1)
		go func() {
			_, _, _, err := tp.Next(context.Background(), nil)
			errc <- err
		}()
		synctest.Wait()
		s.terminate("bye", 0)
		if err := <-errc; !errors.Is(err, ErrTapClosed) {
			t.Fatalf("Next after terminate = %v, want ErrTapClosed", err)
		}
		if _, err := s.Tap(); !errors.Is(err, ErrTapClosed) {
			t.Fatalf("Tap on an ended session = %v", err)
		}
	})
}

func TestTapCloseUnblocksNext(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		_, s := hostedSession(t, srv)
		tp, _ := s.Tap()
		drain(t, tp)
		errc := make(chan error, 1)
		go func() {
			_, _, _, err := tp.Next(context.Background(), nil)
			errc <- err
		}()
		synctest.Wait()
		tp.Close()
		if err := <-errc; !errors.Is(err, ErrTapClosed) {
			t.Fatalf("Next after Close = %v", err)
		}
	})
}

func TestTapLaggingIsClosedNotSkipped(t *testing.T) {
	inBubble(t, func(st *Settings) { st.MaxLag = 64 * 1024 }, func(t *testing.T, srv *Server) {
		h, s := hostedSession(t, srv)
		tp, _ := s.Tap()
		drain(t, tp)
		big := make([]byte, 60000)
		for range 3 {
			if err := h.sendFrame(35, 1, append([]byte{0, 0}, big...)); err != nil {
				t.Fatal(err)
			}
			synctest.Wait() // the host's writer keeps up, the tap does not
		}
		_, _, _, err := tp.Next(context.Background(), nil)
		var lag *TapLagError
		if !errors.As(err, &lag) || lag.Lag <= 64*1024 {
			t.Fatalf("Next = %v, want a TapLagError", err)
		}
		if _, _, _, err := tp.Next(context.Background(), nil); !errors.Is(err, ErrTapClosed) {
			t.Fatalf("Next after lag = %v, want ErrTapClosed", err)
		}
		if h.c.isClosing() {
			t.Error("the host was disconnected because of a tap")
		}
	})
}

func TestTapSeesClassicReset(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		h, s := hostedSession(t, srv)
		tp, _ := s.Tap()
		drain(t, tp)
		h.send("reset-session", nil, map[string]any{"type": "current"})
		h.send("init-begin", nil, nil)
		if err := h.sendFrame(129, 1, make([]byte, 16)); err != nil {
			t.Fatal(err)
		}
		h.send("init-complete", nil, nil)
		synctest.Wait()
		frames, resets := drain(t, tp)
		if resets != 1 {
			t.Fatalf("%d resets, want 1", resets)
		}
		if types := opaqueTypes(frames); len(types) == 0 || types[0] != 32 {
			t.Fatalf("new generation starts with %v, want Join first", types)
		}
	})
}

// fakeImager answers reset requests with a fixed image.
type fakeImager struct{ asked []int64 }

func (f *fakeImager) RequestResetImage(at int64) { f.asked = append(f.asked, at) }

func TestServerSideReset(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		h, s := hostedSession(t, srv)
		if _, err := s.StartServerReset(); !errors.Is(err, ErrNoResetImager) {
			t.Fatalf("StartServerReset without imager = %v", err)
		}
		im := &fakeImager{}
		s.SetResetImager(im)
		for range 20 {
			if err := h.sendFrame(128, 1, nil); err != nil {
				t.Fatal(err)
			}
		}
		tp, _ := s.Tap()
		drain(t, tp)
		before := s.Desc().Size
		at, err := s.StartServerReset()
		if err != nil {
			t.Fatal(err)
		}
		if len(im.asked) != 1 || im.asked[0] != at {
			t.Fatalf("imager asked %v, want [%d]", im.asked, at)
		}
		image := []protocol.Frame{mustFrame(129, 1, make([]byte, 16))} // CanvasResize from ctx 1
		if err := s.CompleteServerReset(at+5, image); err == nil {
			t.Fatal("CompleteServerReset at a wrong index succeeded")
		}
		if err := s.CompleteServerReset(at, []protocol.Frame{mustFrame(33, 1, nil)}); err == nil {
			t.Fatal("an image with Leave was accepted")
		}
		// The failed attempt cleared the pending reset: start again.
		s.mu.Lock()
		s.nextAutoReset = s.nextAutoReset.AddDate(-1, 0, 0)
		s.mu.Unlock()
		at, err = s.StartServerReset()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteServerReset(at, image); err != nil {
			t.Fatal(err)
		}
		// The swap waits until the host was sent history past the marker.
		for range 2 {
			if err := h.sendFrame(35, 1, []byte{0, 0, 'h', 'i'}); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		if after := s.Desc().Size; after >= before {
			t.Fatalf("history size %d after server reset, %d before", after, before)
		}
		// The tap had not passed the marker when the history was swapped:
		// it restarts from the compacted generation.
		if frames, resets := drain(t, tp); resets != 1 {
			t.Errorf("tap saw %d resets across the server-side reset, want 1", resets)
		} else if types := opaqueTypes(frames); len(types) < 3 || types[0] != 32 || types[2] != 129 {
			t.Errorf("tap restarted with %v, want Join, SessionOwner, CanvasResize, …", types)
		}
		// A new joiner gets Join, SessionOwner, the image (ctx 0),
		// then the tail.
		j := connect(t, srv, ConnInfo{Transport: "tcp"})
		j.join("bob", s.ID(), nil)
		synctest.Wait()
		var got []protocol.Frame
		for _, f := range j.conn.take() {
			if f.Type() >= 32 {
				got = append(got, f)
			}
		}
		types := opaqueTypes(got)
		if len(types) < 3 || types[0] != 32 || types[1] != 34 || types[2] != 129 {
			t.Fatalf("joiner history %v, want Join, SessionOwner, CanvasResize, …", types)
		}
		if got[2].Ctx() != 0 {
			t.Errorf("image message ctx %d, want 0", got[2].Ctx())
		}
		for _, ty := range types {
			if ty == 128 {
				t.Fatal("compacted history still holds the old UndoPoints")
			}
		}
	})
}

func TestWatchSecret(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		_, s := hostedSession(t, srv)
		sec := s.WatchSecret()
		if len(sec) != 12 || sec == s.Code() || sec == s.ID() {
			t.Fatalf("bad watch secret %q", sec)
		}
		if s.WatchSecret() != sec {
			t.Fatal("watch secret changed")
		}
		if srv.LookupWatch(sec) != s {
			t.Fatal("LookupWatch did not find the session")
		}
		if srv.Lookup(sec) != nil {
			t.Fatal("the watch secret works as a join key")
		}
		if srv.LookupWatch(s.Code()) != nil || srv.LookupWatch(s.ID()) != nil {
			t.Fatal("LookupWatch accepts the room code or id")
		}
	})
}

func TestAutoresetByServerHook(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		_, s := hostedSession(t, srv)
		s.lock()
		handled := s.autoresetByServerLocked()
		s.mu.Unlock()
		if handled {
			t.Fatal("handled without a ResetImager: the client autoreset must run")
		}
		im := &fakeImager{}
		s.SetResetImager(im)
		for range 3 {
			s.lock()
			handled = s.autoresetByServerLocked()
			s.mu.Unlock()
			if !handled {
				t.Fatal("not handled with a ResetImager")
			}
		}
		if len(im.asked) != 1 {
			t.Fatalf("imager asked %d times, want once while the reset is pending", len(im.asked))
		}
		s.AbortServerReset(im.asked[0], "test")
		s.mu.Lock()
		retry := s.nextAutoReset
		s.mu.Unlock()
		if !retry.After(time.Now()) {
			t.Error("an aborted server-side reset does not back off")
		}
	})
}

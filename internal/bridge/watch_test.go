package bridge

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"drawbridge/internal/client"
	"drawbridge/internal/session"
	"drawbridge/protocol"
)

func TestParseDelay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "", want: 0},
		{in: "0s", want: 0},
		{in: "30s", want: 30 * time.Second},
		{in: "1m", want: time.Minute},
		{in: "2.5", want: 2500 * time.Millisecond},
		{in: "120", want: 2 * time.Minute},
		{in: "121s", bad: true},
		{in: "-1s", bad: true},
		{in: "NaN", bad: true},
		{in: "1h", bad: true},
		{in: "soon", bad: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseDelay(tc.in)
			if tc.bad {
				if err == nil {
					t.Fatalf("parseDelay(%q) = %v, want an error", tc.in, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseDelay(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

// watchHost logs a host into b over TCP with a w×h canvas and one layer,
// reading its echo in the background.
func watchHost(t *testing.T, ctx context.Context, b *Bridge, w, h int32) *client.Client {
	t.Helper()
	tr, err := client.DialTCP(ctx, b.TCPAddr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	host := client.New(tr, client.Options{Info: client.DefaultClientInfo("0123456789abcdef0123456789abcdef")})
	if _, err := host.Login(ctx, client.LoginOptions{Ident: client.IdentOptions{Name: "host"}, Host: &client.HostOptions{}}); err != nil {
		t.Fatal(err)
	}
	uid := host.UserID()
	var init []protocol.Frame
	for _, m := range []protocol.Message{
		protocol.CanvasResize{Right: w, Bottom: h},
		protocol.LayerTreeCreate{ID: protocol.LayerID(uid, 1), Fill: 0xffffffff, Title: "Layer 1"},
	} {
		f, err := protocol.EncodeFrame(uid, m, protocol.Layout425)
		if err != nil {
			t.Fatal(err)
		}
		init = append(init, f)
	}
	if err := host.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			if _, err := host.Recv(ctx); err != nil {
				return
			}
		}
	}()
	return host
}

// viewerSocks returns the wsSocks of b's spectator WebSockets.
func viewerSocks(b *Bridge) map[*wsSock]bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[*wsSock]bool{}
	for c := range b.conns {
		if v, ok := c.(*viewerConn); ok {
			out[v.sock] = true
		}
	}
	return out
}

// readWatch reads one spectator message: a binary message holding exactly
// one protocol message.
func readWatch(t *testing.T, ctx context.Context, c *websocket.Conn) protocol.Frame {
	t.Helper()
	typ, data, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if typ != websocket.MessageBinary {
		t.Fatalf("spectator got a %v message", typ)
	}
	f, err := protocol.FrameFromWS(data)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// untilCaughtUp reads a spectator's catch-up up to its caughtup marker.
func untilCaughtUp(t *testing.T, ctx context.Context, c *websocket.Conn) int {
	t.Helper()
	for n := 1; ; n++ {
		f := readWatch(t, ctx, c)
		if f.Type() == protocol.TypeServerCommand && strings.Contains(string(f.Payload()), `"caughtup"`) {
			return n
		}
	}
}

// Spectators over real loopback get the live history in order, message
// for message; what piles up while a spectator's socket is busy reaches it
// in one batched write (wscork.go), not one write per message.
func TestSpectatorBatchesOverLoopback(t *testing.T) {
	b := startBridge(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	host := watchHost(t, ctx, b, 512, 512)
	s := b.Server().Lookup(host.JoinInfo().ID)
	if s == nil {
		t.Fatal("hosted session not found")
	}
	url := "ws://" + b.HTTPAddr() + "/watch/" + s.WatchSecret() + "/ws"
	dial := func() (*websocket.Conn, *wsSock) {
		before := viewerSocks(b)
		c, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadLimit(protocol.WSHeaderLen + protocol.MaxPayload)
		t.Cleanup(func() { c.CloseNow() })
		if f := readWatch(t, ctx, c); f.Type() != protocol.TypeServerCommand || !strings.Contains(string(f.Payload()), `"watch"`) {
			t.Fatalf("first spectator message %q is not the watch header", f.Payload())
		}
		untilCaughtUp(t, ctx, c)
		var sock *wsSock
		for s := range viewerSocks(b) {
			if !before[s] {
				sock = s
			}
		}
		if sock == nil {
			t.Fatal("spectator not registered")
		}
		return c, sock
	}
	layer := protocol.LayerID(host.UserID(), 1)
	const fills = 300
	var want [][]byte
	for i := range fills {
		m := protocol.FillRect{Layer: layer, Mode: 1, X: uint32(i % 400), Y: uint32(i % 300), W: 64, H: 64,
			Color: 0xff000000 | uint32(i)*0x010305}
		p, err := protocol.AppendPayload(nil, m, protocol.Layout425)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, p)
	}
	// expectFills reads c up to the chat text, checking that it got every
	// fill in order and unaltered; it returns the messages read.
	expectFills := func(c *websocket.Conn, text string) int {
		t.Helper()
		got, n := 0, 0
		for {
			f := readWatch(t, ctx, c)
			n++
			switch {
			case f.Type() == protocol.TypeFillRect:
				if got >= fills || !bytes.Equal(f.Payload(), want[got]) {
					t.Fatalf("fill %d out of order or altered: %x", got, f.Payload())
				}
				got++
			case f.Type() == protocol.TypeChat && bytes.HasSuffix(f, []byte(text)):
				if got != fills {
					t.Fatalf("got %d fills before %q, want %d", got, text, fills)
				}
				return n
			}
		}
	}

	live, _ := dial()
	held, sock := dial()
	// Hold the second spectator's socket: its writer blocks with at most
	// one batch while the whole burst reaches the mirror.
	sock.mu.Lock()
	w0 := sock.writes.Load()
	for _, p := range want {
		if err := host.Send(ctx, protocol.TypeFillRect, p); err != nil {
			sock.mu.Unlock()
			t.Fatal(err)
		}
	}
	if err := host.Chat(ctx, "end of fills"); err != nil {
		sock.mu.Unlock()
		t.Fatal(err)
	}
	expectFills(live, "end of fills") // the mirror has logged the whole burst
	sock.mu.Unlock()
	n := expectFills(held, "end of fills")
	// The batch taken before the hold, then the rest of the burst in one
	// batch; allow one more for a batch the mirror split.
	if w := sock.writes.Load() - w0; w > 3 {
		t.Fatalf("held spectator: %d messages in %d socket writes, want ≤ 3 writes", n, w)
	}
	t.Logf("held spectator: %d messages in %d socket writes", n, sock.writes.Load()-w0)

	// A late spectator catches up, then all three follow the live history.
	late, _ := dial()
	if err := host.Chat(ctx, "after catch-up"); err != nil {
		t.Fatal(err)
	}
	for i, c := range []*websocket.Conn{live, held, late} {
		for {
			f := readWatch(t, ctx, c)
			if f.Type() == protocol.TypeChat && bytes.HasSuffix(f, []byte("after catch-up")) {
				break
			}
			if f.Type() == protocol.TypeFillRect && c != late {
				t.Fatalf("spectator %d: a fill after the burst", i)
			}
		}
	}
}

// A spectator that stops reading is disconnected once a batch misses the
// write deadline (the mirror's lag limit is out of the way here), and the
// other spectators keep their stream.
func TestSlowSpectatorDisconnected(t *testing.T) {
	st := session.DefaultSettings()
	st.WriteTimeout = 500 * time.Millisecond
	st.MaxLag = 1 << 40 // only the write deadline can find the stalled viewer
	st.SessionSizeLimit, st.AutoResetThreshold = 0, 0
	b := startBridge(t, func(c *Config) { c.Settings = &st })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	host := watchHost(t, ctx, b, 256, 256)
	url := "ws://" + b.HTTPAddr() + "/watch/" + b.Server().Lookup(host.JoinInfo().ID).WatchSecret() + "/ws"
	dial := func(rcvbuf int) (*websocket.Conn, *wsSock) {
		before := viewerSocks(b)
		var opts websocket.DialOptions
		if rcvbuf > 0 {
			d := &net.Dialer{}
			opts.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				nc, err := d.DialContext(ctx, network, addr)
				if err == nil {
					err = nc.(*net.TCPConn).SetReadBuffer(rcvbuf)
				}
				return nc, err
			}}}
		}
		c, _, err := websocket.Dial(ctx, url, &opts)
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadLimit(protocol.WSHeaderLen + protocol.MaxPayload)
		t.Cleanup(func() { c.CloseNow() })
		untilCaughtUp(t, ctx, c)
		for s := range viewerSocks(b) {
			if !before[s] {
				return c, s
			}
		}
		t.Fatal("spectator not registered")
		return nil, nil
	}
	live, _ := dial(0)
	_, stalled := dial(4096)
	// Small fixed buffers on the server side too, so a few hundred KB fill
	// the path to the stalled viewer.
	if tc, ok := stalled.Conn.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	layer := protocol.LayerID(host.UserID(), 1)
	payload := func(i int) []byte {
		p, err := protocol.AppendPayload(nil, protocol.FillRect{Layer: layer, Mode: 1, X: uint32(i % 200), Y: uint32(i % 190),
			W: 32, H: 32, Color: 0xff000000 | uint32(i)}, protocol.Layout425)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// The live viewer keeps up; the stalled one never reads.
	for round := 0; ; round++ {
		for i := range 500 {
			if err := host.Send(ctx, protocol.TypeFillRect, payload(round*500+i)); err != nil {
				t.Fatal(err)
			}
		}
		text := "round " + strconv.Itoa(round)
		if err := host.Chat(ctx, text); err != nil {
			t.Fatal(err)
		}
		for {
			f := readWatch(t, ctx, live)
			if f.Type() == protocol.TypeChat && bytes.HasSuffix(f, []byte(text)) {
				break
			}
		}
		if !viewerSocks(b)[stalled] {
			break // disconnected
		}
		if round >= 40 {
			t.Fatalf("stalled spectator still connected after %d rounds (%d socket writes)", round+1, stalled.writes.Load())
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(100 * time.Millisecond): // let a write deadline pass
		}
	}
	if err := host.Chat(ctx, "still live"); err != nil {
		t.Fatal(err)
	}
	for {
		f := readWatch(t, ctx, live)
		if f.Type() == protocol.TypeChat && bytes.HasSuffix(f, []byte("still live")) {
			break
		}
	}
}

package e2e

import (
	"bytes"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"sync"
	"testing"

	"drawbridge/internal/client"
	"drawbridge/protocol"
)

// TestWatchViewersConverge: 50 spectators watch a session over the
// spectator WebSocket while two users draw; none of them takes a user
// slot, the session reports them as viewers, and every spectator's canvas
// ends up identical to a joined client's. A late spectator starts from the
// mirror's snapshot and converges too.
func TestWatchViewersConverge(t *testing.T) {
	e := newEnv(t)
	alice := e.host("alice", tcp, client.HostOptions{Config: &client.SessionConf{Title: client.Ptr("watched")}})
	s := e.b.Server().Lookup(alice.JoinInfo().ID)
	if s == nil {
		t.Fatal("hosted session not found")
	}
	secret := s.WatchSecret()
	wsrv := e.watchServer()
	url := wsBase(wsrv) + "/watch/" + secret + "/ws"

	const viewers = 50
	type result struct {
		p   *canvasPlayer
		err error
	}
	results := make(chan result, viewers)
	var ready sync.WaitGroup
	ready.Add(viewers)
	for range viewers {
		go func() {
			sp, err := dialSpectator(e.ctx, url)
			ready.Done()
			if err != nil {
				results <- result{err: err}
				return
			}
			defer sp.c.CloseNow()
			p := newCanvasPlayer()
			err = sp.until(e.ctx, t, p, func() bool { return p.saw("done") && p.saw("bob done") })
			results <- result{p, err}
		}()
	}
	ready.Wait()
	eventually(t, "50 viewers reported", func() bool { return s.Viewers() == viewers })
	if n := s.Desc().UserCount; n != 1 {
		t.Fatalf("UserCount = %d with %d spectators, want 1", n, viewers)
	}

	// bob's client replays the whole history: the reference canvas.
	bob, err := e.joinOpts("bob", ws, client.JoinOptions{Session: alice.JoinInfo().ID})
	if err != nil {
		t.Fatal(err)
	}
	sendMsg(e.ctx, t, bob, protocol.LayerTreeCreate{ID: protocol.LayerID(bob.UserID(), 1), Fill: 0x80ff0000, Title: "bob"})
	for i := range 12 {
		e.draw(alice, int32(10+i*12))
		if i%3 == 0 {
			sendMsg(e.ctx, t, bob, protocol.UndoPoint{})
			sendMsg(e.ctx, t, bob, protocol.FillRect{Layer: protocol.LayerID(bob.UserID(), 1), Mode: 1,
				X: uint32(20 * i), Y: uint32(5 * i), W: 30, H: 40, Color: 0xff3050f0})
		}
	}
	sendMsg(e.ctx, t, alice, protocol.Undo{}) // undo alice's last stroke
	// Both users' messages are in order per user, not across users: wait
	// for a marker from each.
	e.chat(alice, "done")
	e.chat(bob, "bob done")

	ref := newCanvasPlayer()
	clientUntil(e.ctx, t, bob, ref, "done")
	clientUntil(e.ctx, t, bob, ref, "bob done")
	want := ref.render()
	for range viewers {
		r := <-results
		if r.err != nil {
			t.Fatalf("spectator: %v", r.err)
		}
		sameRender(t, "spectator", r.p.render(), want)
	}

	// A late spectator gets a snapshot and the tail.
	late, err := dialSpectator(e.ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer late.c.CloseNow()
	if late.info["id"] != alice.JoinInfo().ID || late.info["title"] != "watched" {
		t.Errorf("watch header %v", late.info)
	}
	lp := newCanvasPlayer()
	if err := late.until(e.ctx, t, lp, func() bool { return lp.caughtUp }); err != nil {
		t.Fatal(err)
	}
	e.chat(bob, "late")
	clientUntil(e.ctx, t, bob, ref, "late")
	if err := late.until(e.ctx, t, lp, func() bool { return lp.saw("late") }); err != nil {
		t.Fatal(err)
	}
	sameRender(t, "late spectator", lp.render(), want)
	if lp.msgs >= ref.msgs {
		t.Errorf("late spectator replayed %d messages, a joiner %d: expected a shorter snapshot", lp.msgs, ref.msgs)
	}
	t.Logf("late spectator: %d messages / %d bytes; joined client: %d messages / %d bytes", lp.msgs, lp.bytes, ref.msgs, ref.bytes)

	// The live thumbnail is the canvas (256×192 fits the box unscaled).
	resp, err := http.Get(wsrv.URL + "/api/sessions/" + alice.JoinInfo().ID + "/thumbnail.png")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("thumbnail: %s %q", resp.Status, body)
	}
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != want.Rect {
		t.Fatalf("thumbnail size %v, want %v", img.Bounds(), want.Rect)
	}
	for _, pt := range [][2]int{{0, 0}, {22, 12}, {60, 10}, {200, 150}} {
		g, w := img.At(pt[0], pt[1]), want.At(pt[0], pt[1])
		gr, gg, gb, ga := g.RGBA()
		wr, wg, wb, wa := w.RGBA()
		if gr>>8 != wr>>8 || gg>>8 != wg>>8 || gb>>8 != wb>>8 || ga>>8 != wa>>8 {
			t.Errorf("thumbnail pixel %v = %v, want %v", pt, g, w)
		}
	}
}

// TestWatchSecretIsSeparate: the spectator secret is not the room code,
// cannot be used to join, and the room code cannot be used to watch.
func TestWatchSecretIsSeparate(t *testing.T) {
	e := newEnv(t)
	alice := e.host("alice", tcp, client.HostOptions{})
	s := e.b.Server().Lookup(alice.JoinInfo().ID)
	secret := s.WatchSecret()
	wsrv := e.watchServer()
	for _, code := range []string{s.Code(), alice.JoinInfo().ID, "x" + secret[1:]} {
		for _, path := range []string{"/watch/" + code, "/embed/" + code, "/watch/" + code + "/ws"} {
			resp, err := http.Get(wsrv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s = %s, want 404", path, resp.Status)
			}
		}
	}
	if _, err := e.joinOpts("mallory", tcp, client.JoinOptions{Session: secret}); err == nil {
		t.Fatal("joining with the spectator secret succeeded")
	}
	for _, path := range []string{"/watch/" + secret, "/embed/" + secret + "?bg=transparent&fit=contain&cursors=off&laser=on&chat=off&delay=0s"} {
		resp, err := http.Get(wsrv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("GET %s = %s %s", path, resp.Status, resp.Header.Get("Content-Type"))
		}
	}
	resp, err := http.Get(wsrv.URL + "/watch/" + secret + "/ws?delay=1h")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("delay=1h: %s, want 400", resp.Status)
	}
	// A password-protected session has no public thumbnail.
	if err := alice.SessionConf(e.ctx, client.SessionConf{Password: client.Ptr("pw")}); err != nil {
		t.Fatal(err)
	}
	e.sync(alice)
	resp, err = http.Get(fmt.Sprintf("%s/api/sessions/%s/thumbnail.png", wsrv.URL, alice.JoinInfo().ID))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("thumbnail of a password-protected session: %s, want 404", resp.Status)
	}
}

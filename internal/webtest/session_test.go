package webtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"drawbridge/canvas"
	"drawbridge/internal/bridge"
	"drawbridge/internal/client"
	"drawbridge/internal/webassets"
	"drawbridge/protocol"
)

// replay is the bot's own render of the session: the snapshot plus every
// message the bot received, applied in server order.
type replay struct {
	mu sync.Mutex
	c  *canvas.Canvas // guarded by mu
}

func (r *replay) apply(ctx uint8, m protocol.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_ = r.c.Apply(ctx, m) // invalid commands are skipped, as clients do
}

func (r *replay) png(t *testing.T) []byte {
	t.Helper()
	r.mu.Lock()
	img := r.c.Render(canvas.RenderOptions{})
	r.mu.Unlock()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// botMsg is one message the bot received.
type botMsg struct {
	typ protocol.Type
	ctx uint8
	msg protocol.Message
}

// hostSession starts a bridge and a Go bot that hosts a 640×480 session
// with one white layer; it returns the bridge, the bot and the bot's
// received messages.
func hostSession(t *testing.T) (*bridge.Bridge, *client.Client, <-chan botMsg, string, *replay) {
	t.Helper()
	b := startBridge(t)
	bot, msgs, code, rp := hostOn(t, b, "webtest", "")
	return b, bot, msgs, code, rp
}

func startBridge(t testing.TB) *bridge.Bridge {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	b, err := bridge.Start(context.Background(), bridge.Config{TCPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"}, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// hostOn makes a Go bot host a session with the alias (and password, if
// not empty) on b.
func hostOn(t *testing.T, b *bridge.Bridge, alias, password string) (*client.Client, <-chan botMsg, string, *replay) {
	t.Helper()
	snapshot := []protocol.Message{
		protocol.CanvasResize{Right: 640, Bottom: 480},
		protocol.LayerTreeCreate{ID: protocol.LayerID(1, 1), Fill: 0xffffffff, Title: "Background"},
	}
	bot := hostBot(t, b, alias, password, "webtest session", snapshot)
	rp := &replay{c: canvas.New()}
	for _, m := range snapshot {
		rp.apply(1, m)
	}
	s := b.Server().Lookup(alias)
	if s == nil {
		t.Fatal("hosted session not found by alias")
	}
	msgs := readBot(bot, rp)
	return bot, msgs, s.Code(), rp
}

// serveWithBridge serves the built client through the asset handler and
// forwards /ws and /api/ to the bridge, so the page talks to the bridge on
// its own origin.
func serveWithBridge(t testing.TB, dir string, b *bridge.Bridge) string {
	t.Helper()
	assets, err := webassets.New(os.DirFS(dir), webassets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse("http://" + b.HTTPAddr())
	proxy := httputil.NewSingleHostReverseProxy(target)
	mux := http.NewServeMux()
	mux.Handle("/ws", proxy)
	mux.Handle("/api/", proxy)
	mux.Handle("/", assets)
	return serveMux(t, mux)
}

// serveMux serves h on a fresh 127.0.0.1 port until the test ends.
func serveMux(t testing.TB, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// waitBot waits for a message from the bot's reader that match accepts.
// waitBotFor waits up to d for a message from the bot that matches; ok
// is false when none came.
func waitBotFor(msgs <-chan botMsg, d time.Duration, match func(botMsg) bool) (m botMsg, ok bool) {
	timeout := time.After(d)
	for {
		select {
		case m := <-msgs:
			if match(m) {
				return m, true
			}
		case <-timeout:
			return botMsg{}, false
		}
	}
}

func waitBot(t *testing.T, msgs <-chan botMsg, what string, match func(botMsg) bool) botMsg {
	t.Helper()
	m, ok := waitBotFor(msgs, 30*time.Second, match)
	if !ok {
		t.Fatalf("bot did not receive %s", what)
	}
	return m
}

// TestClientJoinsSession joins a session hosted by a Go bot on a real
// bridge through /r/CODE, checks the page renders the session's canvas
// (the layer fill and a remote FillRect), draws a pen stroke that the bot
// receives as dabs from the page's context id, undoes it, and round-trips
// a chat message.
func TestClientJoinsSession(t *testing.T) {
	dir := buildClient(t)
	b, bot, msgs, code, rp := hostSession(t)
	base := serveWithBridge(t, dir, b)

	start := time.Now()
	br := Start(t, Options{Width: 1024, Height: 768})
	p := br.NewPage(t)
	if err := p.Navigate(base + "/r/" + code); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.__drawbridge && window.__drawbridge.page === 'name'"); err != nil {
		t.Fatalf("%v\nconsole:\n%s", err, p.ConsoleText())
	}
	if err := p.Exec(`document.getElementById('name-input').value = 'painter'; document.getElementById('name-ok').click()`); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.__drawbridge.session === 'connected'"); err != nil {
		status, _ := Eval[string](p, "document.getElementById('status').textContent + ' | ' + document.getElementById('error').textContent")
		t.Fatalf("%v (status: %s)\nconsole:\n%s", err, status, p.ConsoleText())
	}
	t.Logf("connected after %v", time.Since(start).Round(time.Millisecond))
	// A second page watches: it must show what the first draws.
	viewer := br.NewPage(t)
	if err := viewer.Navigate(base + "/r/" + code); err != nil {
		t.Fatal(err)
	}
	if err := viewer.WaitTrue("window.__drawbridge && window.__drawbridge.page === 'name'"); err != nil {
		t.Fatal(err)
	}
	if err := viewer.Exec(`document.getElementById('name-input').value = 'viewer'; document.getElementById('name-ok').click()`); err != nil {
		t.Fatal(err)
	}
	if err := viewer.WaitTrue("window.__drawbridge.session === 'connected'"); err != nil {
		t.Fatal(err)
	}
	p.CheckNoPanic(t)
	size, err := Eval[[]int](p, "window.__drawbridge.canvasSize")
	if err != nil || size[0] != 640 || size[1] != 480 {
		t.Fatalf("canvas size = %v, %v; want the session's 640x480", size, err)
	}
	if err := p.WaitTrue("window.__drawbridge.pixel(600, 400).join() === '255,255,255,255'"); err != nil {
		t.Fatalf("layer fill not rendered: %v", err)
	}

	// A remote command from the bot appears on the page.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fill, err := protocol.EncodeFrame(1, protocol.FillRect{Layer: protocol.LayerID(1, 1), Mode: protocol.BlendNormal,
		X: 10, Y: 10, W: 50, H: 40, Color: 0xffff0000}, protocol.Layout425)
	if err != nil {
		t.Fatal(err)
	}
	if err := bot.SendFrame(ctx, fill); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.__drawbridge.pixel(30, 30).join() === '255,0,0,255'"); err != nil {
		px, _ := Eval[[]int](p, "window.__drawbridge.pixel(30, 30)")
		t.Fatalf("remote FillRect not rendered (pixel %v): %v", px, err)
	}

	// The page's pen stroke reaches the bot as dabs from the page's user.
	uid, err := Eval[int](p, "window.__drawbridge.userID")
	if err != nil {
		t.Fatal(err)
	}
	sync := nextUpdate(p)
	pts := canvasLine(t, p, 100.0, 500, 80, 240, 0.8)
	if err := p.PointerStroke(Stroke{Type: Pen, Points: pts}, sync); err != nil {
		t.Fatal(err)
	}
	dab := waitBot(t, msgs, "the page's dabs", func(m botMsg) bool {
		return m.typ == protocol.TypeDrawDabsClassic && int(m.ctx) == uid
	})
	if d := dab.msg.(protocol.DrawDabsClassic); d.Layer != protocol.LayerID(1, 1) || len(d.Dabs) == 0 {
		t.Errorf("dabs message = %+v", d)
	}
	t.Logf("bot got the page's dabs after %v", time.Since(start).Round(time.Millisecond))
	waitBot(t, msgs, "the page's pen-up", func(m botMsg) bool { return m.typ == protocol.TypePenUp && int(m.ctx) == uid })
	if px, _ := Eval[[]int](p, "window.__drawbridge.pixel(300, 240)"); px[0] > 100 {
		t.Errorf("own stroke not on the page's canvas: %v", px)
	}

	t.Logf("stroke done after %v", time.Since(start).Round(time.Millisecond))

	// Undo takes the stroke off the page at once and reaches the bot.
	if err := p.Exec(`document.getElementById('undo').click()`); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.__drawbridge.pixel(300, 240).join() === '255,255,255,255'"); err != nil {
		t.Errorf("undo did not remove the stroke: %v", err)
	}
	waitBot(t, msgs, "the page's undo", func(m botMsg) bool {
		u, ok := m.msg.(protocol.Undo)
		return ok && int(m.ctx) == uid && !u.Redo
	})

	// Layers: add one (owned by the page's user), dim it, draw on it.
	if err := p.Exec(`document.getElementById('layer-add').click()`); err != nil {
		t.Fatal(err)
	}
	created := waitBot(t, msgs, "the page's new layer", func(m botMsg) bool {
		return m.typ == protocol.TypeLayerTreeCreate && int(m.ctx) == uid
	}).msg.(protocol.LayerTreeCreate)
	if protocol.LayerOwner(created.ID) != uint8(uid) {
		t.Errorf("new layer %#x is not owned by user %d", created.ID, uid)
	}
	if err := p.WaitTrue(fmt.Sprintf("window.__drawbridge.layer === %d && document.querySelectorAll('#layers li').length === 2", created.ID)); err != nil {
		t.Errorf("new layer not selected or not listed: %v", err)
	}
	if err := p.Exec(`const o = document.getElementById('layer-opacity'); o.value = 50; o.dispatchEvent(new Event('change'))`); err != nil {
		t.Fatal(err)
	}
	attr := waitBot(t, msgs, "the layer opacity", func(m botMsg) bool {
		return m.typ == protocol.TypeLayerAttributes && int(m.ctx) == uid
	}).msg.(protocol.LayerAttributes)
	if attr.ID != created.ID || attr.Opacity != 128 {
		t.Errorf("layer attributes = %+v, want opacity 128 on %#x", attr, created.ID)
	}

	// Draw again, then the page's canvas must equal the bot's replay of
	// the session history, byte for byte as PNG (the download's bytes).
	if err := p.PointerStroke(Stroke{Type: Pen, Points: pts[1:4]}, sync); err != nil {
		t.Fatal(err)
	}
	second := waitBot(t, msgs, "the second stroke", func(m botMsg) bool {
		return m.typ == protocol.TypeDrawDabsClassic && int(m.ctx) == uid
	}).msg.(protocol.DrawDabsClassic)
	if second.Layer != created.ID {
		t.Errorf("second stroke on layer %#x, want the new layer %#x", second.Layer, created.ID)
	}
	waitBot(t, msgs, "the second pen-up", func(m botMsg) bool { return m.typ == protocol.TypePenUp && int(m.ctx) == uid })
	pagePNG, err := Eval[string](p, "window.__drawbridge.canvasPNG()")
	if err != nil {
		t.Fatal(err)
	}
	want := base64.StdEncoding.EncodeToString(rp.png(t))
	if pagePNG != want {
		t.Errorf("page canvas (%d base64 bytes) differs from the replay of the session (%d)", len(pagePNG), len(want))
	}
	// The other page renders the remote strokes: its pixels (test hook) show
	// the second stroke (on a layer at 50 % opacity: grey, not black), and
	// its canvas equals the replay too. The cheap pixel condition is polled
	// first; encoding PNGs in a polling loop would slow the page down.
	if err := viewer.WaitTrue("window.__drawbridge.pixel(260, 240)[0] < 200 && window.__drawbridge.pixel(30, 30).join() === '255,0,0,255'"); err != nil {
		px, _ := Eval[[]int](viewer, "window.__drawbridge.pixel(260, 240)")
		t.Errorf("viewer pixels do not show the strokes (pixel on stroke %v): %v", px, err)
	}
	if got, err := Eval[string](viewer, "window.__drawbridge.canvasPNG()"); err != nil || got != want {
		t.Errorf("viewer canvas differs from the replay of the session (err %v)", err)
	}
	viewer.CheckNoPanic(t)

	shot(t, p, "session-desktop")
	// Users and cursors: the list shows both users; the bot's pointer gets
	// a name label; the page's pointer reaches the bot.
	if err := p.WaitTrue(`(() => { const t = document.getElementById('users').textContent; return t.includes('bot') && t.includes('painter (you)'); })()`); err != nil {
		list, _ := Eval[string](p, "document.getElementById('users').textContent")
		t.Errorf("user list %q: %v", list, err)
	}
	mp, err := protocol.EncodeFrame(1, protocol.MovePointer{X: 200 * 4, Y: 100 * 4}, protocol.Layout425)
	if err != nil {
		t.Fatal(err)
	}
	mctx, mcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer mcancel()
	if err := bot.SendFrame(mctx, mp); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue(`document.getElementById('cursors').textContent === 'bot'`); err != nil {
		t.Errorf("no cursor label for the bot: %v", err)
	}
	waitBot(t, msgs, "the page's pointer", func(m botMsg) bool { return m.typ == protocol.TypeMovePointer && int(m.ctx) == uid })

	// Chat: the page's message reaches the bot; the bot's reaches the page.
	if err := p.Exec(`document.getElementById('chat-input').value = 'hello from the browser'; document.getElementById('chat-form').requestSubmit()`); err != nil {
		t.Fatal(err)
	}
	waitBot(t, msgs, "the page's chat", func(m botMsg) bool {
		c, ok := m.msg.(protocol.Chat)
		return ok && c.Message == "hello from the browser"
	})
	cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer ccancel()
	if err := bot.Chat(cctx, "hello from the bot"); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("document.getElementById('chat-log').textContent.includes('bot: hello from the bot')"); err != nil {
		log, _ := Eval[string](p, "document.getElementById('chat-log').textContent")
		t.Errorf("bot chat not shown (log %q): %v", log, err)
	}
	p.CheckNoPanic(t)
}

// TestClientPassword joins a passworded session: a wrong password in the
// link shows a clear error; without one the page asks for it and joins.
func TestClientPassword(t *testing.T) {
	dir := buildClient(t)
	b := startBridge(t)
	_, _, code, _ := hostOn(t, b, "locked", "sesame")
	base := serveWithBridge(t, dir, b)
	br := Start(t, Options{Width: 800, Height: 600})

	enter := func(p *Page, url string) {
		t.Helper()
		if err := p.Navigate(url); err != nil {
			t.Fatal(err)
		}
		if err := p.WaitTrue("window.__drawbridge && window.__drawbridge.page === 'name'"); err != nil {
			t.Fatalf("%v\nconsole:\n%s", err, p.ConsoleText())
		}
		if err := p.Exec(`document.getElementById('name-input').value = 'guest'; document.getElementById('name-ok').click()`); err != nil {
			t.Fatal(err)
		}
	}
	wrong := br.NewPage(t)
	enter(wrong, base+"/r/"+code+"#nope")
	if err := wrong.WaitTrue(`!document.getElementById('error').hidden && document.getElementById('error').textContent.includes('wrong password')`); err != nil {
		msg, _ := Eval[string](wrong, "document.getElementById('error').textContent")
		t.Errorf("wrong password: error shown %q: %v", msg, err)
	}
	wrong.CheckNoPanic(t)

	right := br.NewPage(t)
	enter(right, base+"/r/"+code)
	if err := right.WaitTrue("!document.getElementById('password-dialog').hidden"); err != nil {
		t.Fatalf("no password prompt: %v", err)
	}
	if err := right.Exec(`document.getElementById('password-input').value = 'sesame'; document.getElementById('password-ok').click()`); err != nil {
		t.Fatal(err)
	}
	if err := right.WaitTrue("window.__drawbridge.session === 'connected'"); err != nil {
		msg, _ := Eval[string](right, "document.getElementById('error').textContent")
		t.Fatalf("did not join with the password (error %q): %v", msg, err)
	}
	right.CheckNoPanic(t)
}

// BenchmarkClientFrameWork joins a 4000×3000 session with 20 layers and
// measures the client's own work per frame (Update + Draw, from the test
// hook) while drawing pen strokes, reported as ms/frame-p50/p95/max (the
// issue's target: p95 under 8 ms). Run it with
//
//	go test -run XXX -bench ClientFrameWork -benchtime 1x ./internal/webtest
func BenchmarkClientFrameWork(b *testing.B) {
	t := b
	dir := buildClient(t)
	br0 := startBridge(t)
	msgs := []protocol.Message{protocol.CanvasResize{Right: 4000, Bottom: 3000}}
	for i := 1; i <= 20; i++ {
		fill := uint32(0)
		if i == 1 {
			fill = 0xffffffff
		}
		msgs = append(msgs, protocol.LayerTreeCreate{ID: protocol.LayerID(1, uint16(i)), Fill: fill, Title: fmt.Sprintf("Layer %d", i)})
		// Some content on every layer so flattening has work to do.
		msgs = append(msgs, protocol.FillRect{Layer: protocol.LayerID(1, uint16(i)), Mode: protocol.BlendNormal,
			X: uint32(i * 150), Y: uint32(i * 100), W: 1200, H: 900, Color: 0x40000000 | uint32(i*12)<<16})
	}
	drainBot(hostBot(t, br0, "big", "", "big", msgs))
	code := br0.Server().Lookup("big").Code()
	base := serveWithBridge(t, dir, br0)
	br := Start(t, Options{Width: 1280, Height: 800})
	p := br.NewPage(t)
	if err := p.Navigate(base + "/r/" + code); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.__drawbridge && window.__drawbridge.page === 'name'"); err != nil {
		t.Fatal(err)
	}
	if err := p.Exec(`document.getElementById('name-input').value = 'perf'; document.getElementById('name-ok').click()`); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrueFor("window.__drawbridge.session === 'connected' && window.__drawbridge.canvasSize[0] === 4000", 60*time.Second); err != nil {
		t.Fatalf("%v\nconsole:\n%s", err, p.ConsoleText())
	}
	// Let the first full render finish (it is spread over many frames),
	// then measure only the frames of the drawing.
	if err := p.WaitTrueFor("window.__drawbridge.pixel(3999, 2999)[3] === 255", 60*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.Exec(`document.getElementById('size').value = 60; document.getElementById('size').dispatchEvent(new Event('input'))`); err != nil {
		t.Fatal(err)
	}
	before, err := Eval[int](p, "window.__drawbridge.frames")
	if err != nil {
		t.Fatal(err)
	}
	sync := nextUpdate(p)
	row := 0
	for b.Loop() {
		var pts []Point
		for i := 0; i <= 30; i++ {
			pts = append(pts, Point{X: 200 + float64(i)*25, Y: 200 + float64(row%6)*80 + 60*math.Sin(float64(i)/5), Pressure: 0.5 + float64(i%10)/20})
		}
		row++
		if err := p.PointerStroke(Stroke{Type: Pen, Points: pts}, sync); err != nil {
			t.Fatal(err)
		}
	}
	b.StopTimer()
	after, err := Eval[int](p, "window.__drawbridge.frames")
	if err != nil {
		t.Fatal(err)
	}
	work, err := Eval[[]float64](p, "window.__drawbridge.work()")
	if err != nil {
		t.Fatal(err)
	}
	n := min(after-before, len(work))
	if n < 10 {
		t.Fatalf("only %d frames measured", n)
	}
	w := work[len(work)-n:]
	t.Logf("4000x3000, 20 layers, drawing: %d frames, work per frame p50 %.2f ms, p95 %.2f ms, max %.2f ms", n, percentile(w, 50), percentile(w, 95), maxOf(w))
	b.ReportMetric(percentile(w, 50), "ms/frame-p50")
	b.ReportMetric(percentile(w, 95), "ms/frame-p95")
	b.ReportMetric(maxOf(w), "ms/frame-max")
	p.CheckNoPanic(t)
}

// TestClientHostsSession hosts a session from the landing page's host
// dialog; a Go bot joins it by the room code the page shows and sees the
// initial canvas and the page's stroke; the page, an operator, kicks it.
func TestClientHostsSession(t *testing.T) {
	dir := buildClient(t)
	b := startBridge(t)
	base := serveWithBridge(t, dir, b)
	br := Start(t, Options{Width: 1024, Height: 768})
	p := br.NewPage(t)
	if err := p.Navigate(base + "/"); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.__drawbridge && window.__drawbridge.page === 'landing'"); err != nil {
		t.Fatalf("%v\nconsole:\n%s", err, p.ConsoleText())
	}
	shot(t, p, "landing")
	if err := p.Exec(`document.getElementById('host-open').click()`); err != nil {
		t.Fatal(err)
	}
	shot(t, p, "host-dialog")
	if err := p.Exec(`document.getElementById('host-name').value = 'hoster';
		document.getElementById('host-title').value = 'browser hosted';
		document.getElementById('host-width').value = '320';
		document.getElementById('host-height').value = '200';
		document.getElementById('host-bg').value = '#00ff00';
		document.getElementById('host-ok').click();`); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.__drawbridge.session === 'connected' && document.getElementById('invite-code').textContent !== ''"); err != nil {
		msg, _ := Eval[string](p, "document.getElementById('error').textContent")
		t.Fatalf("hosting failed (error %q): %v\nconsole:\n%s", msg, err, p.ConsoleText())
	}
	if err := p.WaitTrue("window.__drawbridge.canvasSize[0] === 320 && window.__drawbridge.pixel(10, 10).join() === '0,255,0,255' && window.__drawbridge.layer !== 0"); err != nil {
		px, _ := Eval[[]int](p, "window.__drawbridge.pixel(10, 10)")
		t.Fatalf("hosted canvas not shown (pixel %v): %v", px, err)
	}
	shot(t, p, "hosted-invite")
	code, err := Eval[string](p, "document.getElementById('invite-code').textContent")
	if err != nil {
		t.Fatal(err)
	}
	if path, _ := Eval[string](p, "location.pathname"); path != "/r/"+code {
		t.Errorf("address bar %q, want the room link /r/%s", path, code)
	}
	s := b.Server().Lookup(code)
	if s == nil {
		t.Fatalf("room code %q unknown to the bridge", code)
	}

	// A bot joins by the code and receives the initial canvas.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := client.DialTCP(ctx, b.TCPAddr())
	if err != nil {
		t.Fatal(err)
	}
	bot := client.New(conn, client.Options{Info: client.DefaultClientInfo("fedcba9876543210fedcba9876543210")})
	t.Cleanup(func() { bot.Close() })
	if _, err := bot.Login(ctx, client.LoginOptions{Ident: client.IdentOptions{Name: "joiner"}, Join: &client.JoinOptions{Session: s.ID()}}); err != nil {
		t.Fatalf("bot join: %v", err)
	}
	rp := &replay{c: canvas.New()}
	msgs := make(chan botMsg, 4096)
	botDone := make(chan error, 1)
	go func() {
		for {
			m, err := bot.Recv(context.Background())
			if err != nil {
				botDone <- err
				return
			}
			dm, err := protocol.Decode(m.Frame, protocol.Layout425)
			if err != nil {
				continue
			}
			rp.apply(m.Frame.Ctx(), dm)
			select {
			case msgs <- botMsg{typ: m.Frame.Type(), ctx: m.Frame.Ctx(), msg: dm}:
			default:
			}
		}
	}()
	waitBot(t, msgs, "the initial canvas size", func(m botMsg) bool {
		r, ok := m.msg.(protocol.CanvasResize)
		return ok && r.Right == 320 && r.Bottom == 200
	})

	sync := nextUpdate(p)
	pts := canvasLine(t, p, 50.0, 250, 50, 100, 1)
	if err := p.PointerStroke(Stroke{Type: Pen, Points: pts}, sync); err != nil {
		t.Fatal(err)
	}
	waitBot(t, msgs, "the host's pen-up", func(m botMsg) bool { return m.typ == protocol.TypePenUp })
	want := base64.StdEncoding.EncodeToString(rp.png(t))
	if got, err := Eval[string](p, "window.__drawbridge.canvasPNG()"); err != nil || got != want {
		t.Errorf("host canvas differs from the joiner's replay (err %v)", err)
	}

	// The host is an operator: the user list offers actions on the bot,
	// and Kick disconnects it.
	if err := p.WaitTrue(`document.querySelector('#users button[data-act="kick"]') !== null`); err != nil {
		list, _ := Eval[string](p, "document.getElementById('users').textContent")
		t.Fatalf("no operator actions in the user list %q: %v", list, err)
	}
	if err := p.Exec(`document.querySelector('#users button[data-act="kick"]').click()`); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-botDone:
		var de *client.DisconnectError
		if !errors.As(err, &de) {
			t.Errorf("bot ended with %v, want a disconnect (kick)", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("kick from the page did not disconnect the bot")
	}
	p.CheckNoPanic(t)
}

// TestClientReconnects drops the page's connection (as a network failure
// would) right before a stroke: the client reconnects with its history
// index, and the stroke drawn while disconnected still reaches the bot;
// afterwards the page's canvas equals the bot's replay.
func TestClientReconnects(t *testing.T) {
	dir := buildClient(t)
	b, _, msgs, code, rp := hostSession(t)
	base := serveWithBridge(t, dir, b)
	br := Start(t, Options{Width: 1024, Height: 768})
	p := br.NewPage(t)
	if err := p.Navigate(base + "/r/" + code); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.__drawbridge && window.__drawbridge.page === 'name'"); err != nil {
		t.Fatal(err)
	}
	if err := p.Exec(`document.getElementById('name-input').value = 'flaky'; document.getElementById('name-ok').click()`); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.__drawbridge.session === 'connected'"); err != nil {
		t.Fatal(err)
	}
	uid, err := Eval[int](p, "window.__drawbridge.userID")
	if err != nil {
		t.Fatal(err)
	}
	sync := nextUpdate(p)
	stroke := func(y float64) {
		pts := canvasLine(t, p, 100.0, 500, 100, y, 1)
		if err := p.PointerStroke(Stroke{Type: Pen, Points: pts}, sync); err != nil {
			t.Fatal(err)
		}
	}
	if dropped, err := Eval[bool](p, "window.__drawbridge.dropConnection()"); err != nil || !dropped {
		t.Fatalf("dropConnection = %v, %v", dropped, err)
	}
	stroke(300) // drawn while the connection is down
	if err := p.WaitTrue("window.__drawbridge.reconnects >= 1 && window.__drawbridge.session === 'connected'"); err != nil {
		status, _ := Eval[string](p, "document.getElementById('status').textContent")
		t.Fatalf("no reconnect (status %q): %v\nconsole:\n%s", status, err, p.ConsoleText())
	}
	if _, ok := waitBotFor(msgs, 30*time.Second, func(m botMsg) bool {
		return m.typ == protocol.TypePenUp && int(m.ctx) == uid
	}); !ok {
		status, _ := Eval[string](p, "document.getElementById('status').textContent")
		t.Fatalf("bot did not receive the stroke drawn while disconnected (status %q)\nconsole:\n%s", status, p.ConsoleText())
	}
	if err := p.WaitTrue("window.__drawbridge.pixel(300, 300)[0] < 100"); err != nil {
		t.Errorf("stroke missing on the page after reconnecting: %v", err)
	}
	want := base64.StdEncoding.EncodeToString(rp.png(t))
	if got, err := Eval[string](p, "window.__drawbridge.canvasPNG()"); err != nil || got != want {
		t.Errorf("page canvas differs from the replay after reconnecting (err %v)", err)
	}
	p.CheckNoPanic(t)
}

package webtest

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"testing"

	"drawbridge/internal/bridge"
	"drawbridge/internal/webassets"
	"drawbridge/protocol"
)

// TestClientProxyJoin joins a session on another server through the
// bridge's proxy mode: /join?host=H&port=P&session=S#password resolves the
// upstream, relays the WebSocket to its TCP port, and the page logs in
// with the password from the fragment, shows the upstream canvas and
// draws a stroke the upstream's host receives.
func TestClientProxyJoin(t *testing.T) {
	dir := buildClient(t)
	up := startBridge(t)
	_, msgs, _, _ := hostOn(t, up, "upstreamroom", "pw2")
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	front, err := bridge.Start(context.Background(), bridge.Config{TCPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		Proxy: bridge.ProxyConfig{Upstreams: []string{up.TCPAddr()}}}, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { front.Close() })

	assets, err := webassets.New(os.DirFS(dir), webassets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse("http://" + front.HTTPAddr())
	rp := httputil.NewSingleHostReverseProxy(target)
	mux := http.NewServeMux()
	mux.Handle("/proxy/", rp)
	mux.Handle("/join", rp)
	mux.Handle("/api/", rp)
	mux.Handle("/", assets)
	base := serveMux(t, mux)

	host, port, _ := net.SplitHostPort(up.TCPAddr())
	br := Start(t, Options{Width: 1024, Height: 768})
	p := br.NewPage(t)
	if err := p.Navigate(fmt.Sprintf("%s/join?host=%s&port=%s&session=upstreamroom#pw2", base, host, port)); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.__drawbridge && window.__drawbridge.page === 'name'"); err != nil {
		t.Fatalf("no name prompt on /join: %v\nconsole:\n%s", err, p.ConsoleText())
	}
	if err := p.Exec(`document.getElementById('name-input').value = 'relayed';
		document.getElementById('name-ok').click();`); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.__drawbridge.session === 'connected' && window.__drawbridge.canvasSize[0] === 640 && window.__drawbridge.pixel(10, 10).join() === '255,255,255,255'"); err != nil {
		msg, _ := Eval[string](p, "document.getElementById('error').textContent + ' / ' + document.getElementById('status').textContent")
		t.Fatalf("proxied join failed (%q): %v\nconsole:\n%s", msg, err, p.ConsoleText())
	}
	uid, err := Eval[int](p, "window.__drawbridge.userID")
	if err != nil {
		t.Fatal(err)
	}
	waitBot(t, msgs, "the relayed user's join", func(m botMsg) bool { return m.typ == protocol.TypeJoin && int(m.ctx) == uid })

	sync := nextUpdate(p)
	pts := canvasLine(t, p, 100.0, 300, 50, 200, 0.7)
	if err := p.PointerStroke(Stroke{Type: Pen, Points: pts}, sync); err != nil {
		t.Fatal(err)
	}
	waitBot(t, msgs, "the relayed stroke", func(m botMsg) bool { return m.typ == protocol.TypeDrawDabsClassic && int(m.ctx) == uid })
	p.CheckNoPanic(t)
}

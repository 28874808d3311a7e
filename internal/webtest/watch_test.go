package webtest

import (
	"fmt"
	"html"
	"image/color"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"testing"

	"drawbridge/internal/bridge"
	"drawbridge/internal/session"
	"drawbridge/internal/webassets"
	"drawbridge/protocol"
)

// hostMessages makes a Go bot host a session whose initial canvas is
// msgs (context id 1) and returns it.
func hostMessages(t *testing.T, b *bridge.Bridge, alias string, msgs []protocol.Message) *session.Session {
	t.Helper()
	drainBot(hostBot(t, b, alias, "", "watched", msgs))
	s := b.Server().Lookup(alias)
	if s == nil {
		t.Fatal("hosted session not found")
	}
	return s
}

// serveWithWatch is serveWithBridge plus the bridge's spectator routes
// (/watch/…, /embed/…), mounted from Bridge.WatchHandler.
func serveWithWatch(t *testing.T, dir string, b *bridge.Bridge) string {
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
	mux.Handle("/watch/", b.WatchHandler())
	mux.Handle("/embed/", b.WatchHandler())
	// /frame?src=URL: a lime page with the URL in an iframe, as a web
	// page or an OBS scene would embed the canvas.
	mux.HandleFunc("/frame", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><body style="margin:0;background:#00ff00"><iframe src="%s" style="border:0;width:100vw;height:100vh;display:block"></iframe></body></html>`,
			html.EscapeString(r.URL.Query().Get("src")))
	})
	mux.Handle("/", assets)
	return serveMux(t, mux)
}

// TestClientEmbedTransparent opens /embed/SECRET?bg=transparent… on a
// session whose canvas is half transparent: the page logs in as nobody,
// shows no panels, fits the canvas into the frame, and its screenshot
// (over a transparent default background) is transparent where the canvas
// is and red where the canvas is red.
func TestClientEmbedTransparent(t *testing.T) {
	dir := buildClient(t)
	b := startBridge(t)
	s := hostMessages(t, b, "embedded", []protocol.Message{
		protocol.CanvasResize{Right: 200, Bottom: 100},
		protocol.LayerTreeCreate{ID: protocol.LayerID(1, 1), Title: "Layer 1"},
		protocol.FillRect{Layer: protocol.LayerID(1, 1), Mode: protocol.BlendNormal, X: 0, Y: 0, W: 100, H: 100, Color: 0xffff0000},
	})
	base := serveWithWatch(t, dir, b)
	br := Start(t, Options{Width: 800, Height: 600})
	p := br.NewPage(t)
	embed := "/embed/" + s.WatchSecret() + "?bg=transparent&fit=contain&cursors=off&laser=on&chat=off&delay=0s"
	if err := p.Navigate(base + "/frame?src=" + url.QueryEscape(embed)); err != nil {
		t.Fatal(err)
	}
	const hook = "document.querySelector('iframe').contentWindow.__drawbridge"
	if err := p.WaitTrue(hook + " && " + hook + ".session === 'connected' && " + hook + ".pixel(50, 50).join() === '255,0,0,255'"); err != nil {
		st, _ := Eval[string](p, "(() => { const d = document.querySelector('iframe').contentDocument; return d.getElementById('status').textContent + ' / ' + d.getElementById('error').textContent; })()")
		t.Fatalf("embed did not show the session (%q): %v\nconsole:\n%s", st, err, p.ConsoleText())
	}
	if px, _ := Eval[[]int](p, hook+".pixel(150, 50)"); len(px) != 4 || px[3] != 0 {
		t.Errorf("canvas pixel (150,50) = %v, want transparent", px)
	}
	if page, _ := Eval[string](p, hook+".page"); page != "embed" {
		t.Errorf("page %q, want embed", page)
	}
	// No panels, no name prompt, no toolbar.
	vis, err := Eval[bool](p, `(() => { const d = document.querySelector('iframe').contentDocument;
		return ['toolbar','side','status','name-dialog','landing'].some(id => { const e = d.getElementById(id); return e && e.offsetParent !== null; }); })()`)
	if err != nil || vis {
		t.Errorf("embed shows UI panels (err %v)", err)
	}
	// fit=contain: the 200×100 canvas fills the 800-pixel width.
	if v, err := Eval[[]float64](p, hook+".toScreen(200, 100)"); err != nil || v[0] < 799 || v[0] > 801 || v[1] < 499 || v[1] > 501 {
		t.Errorf("canvas corner at %v (err %v), want (800, 500)", v, err)
	}
	// Wait until frames after the canvas arrived were presented.
	n, err := p.Counter(hook + ".frames")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitAdvance(hook+".frames", n, 3); err != nil {
		t.Fatal(err)
	}
	img, err := p.ScreenshotImage()
	if err != nil {
		t.Fatal(err)
	}
	shot(t, p, "embed-transparent")
	at := func(cx, cy float64) color.NRGBA {
		v, err := Eval[[]float64](p, fmt.Sprintf("%s.toScreen(%v, %v)", hook, cx, cy))
		if err != nil {
			t.Fatal(err)
		}
		return color.NRGBAModel.Convert(img.At(int(v[0]), int(v[1]))).(color.NRGBA)
	}
	lime := func(c color.NRGBA) bool { return c.R < 5 && c.G > 250 && c.B < 5 }
	if c := at(50, 50); c.R < 250 || c.G > 5 || c.B > 5 {
		t.Errorf("screen over the red half = %v, want red", c)
	}
	if c := at(150, 50); !lime(c) {
		t.Errorf("screen over the transparent half = %v, want the embedding page's lime", c)
	}
	if c := color.NRGBAModel.Convert(img.At(400, 20)).(color.NRGBA); !lime(c) {
		t.Errorf("screen outside the canvas = %v, want the embedding page's lime (no workspace colour)", c)
	}
	p.CheckNoPanic(t)
}

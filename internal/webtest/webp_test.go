package webtest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"drawbridge/internal/webp"
	"drawbridge/protocol"
)

// readImageJS loads an image URL into an <img>, draws it on a 2D canvas
// and returns its size and RGBA pixels (base64), as the page sees them.
const readImageJS = `(async (src) => {
	const img = new Image();
	img.src = src;
	await img.decode();
	const c = document.createElement('canvas');
	c.width = img.naturalWidth;
	c.height = img.naturalHeight;
	const g = c.getContext('2d', {willReadFrequently: true});
	g.drawImage(img, 0, 0);
	const d = g.getImageData(0, 0, c.width, c.height).data;
	let s = '';
	for (let i = 0; i < d.length; i += 8192) {
		s += String.fromCharCode.apply(null, d.subarray(i, i + 8192));
	}
	return {w: c.width, h: c.height, px: btoa(s)};
})`

type pagePixels struct {
	W  int    `json:"w"`
	H  int    `json:"h"`
	Px string `json:"px"`
}

// browserPixels returns the pixels of the image at src as Chromium
// decodes them.
func browserPixels(t *testing.T, p *Page, src string) *image.NRGBA {
	t.Helper()
	got, err := Eval[pagePixels](p, readImageJS+"("+jsString(src)+")")
	if err != nil {
		t.Fatalf("browser could not load the image: %v\nconsole:\n%s", err, p.ConsoleText())
	}
	px, err := base64.StdEncoding.DecodeString(got.Px)
	if err != nil || len(px) != got.W*got.H*4 {
		t.Fatalf("pixels: %d bytes for %d×%d (%v)", len(px), got.W, got.H, err)
	}
	return &image.NRGBA{Pix: px, Stride: got.W * 4, Rect: image.Rect(0, 0, got.W, got.H)}
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// sameAsBrowser compares the source pixels with the browser's. A 2D
// canvas stores premultiplied colour, so alpha must match exactly, opaque
// pixels exactly, transparent ones only in alpha, and translucent ones
// within the rounding of premultiplying by alpha (255/alpha + 1).
func sameAsBrowser(t *testing.T, what string, want, got *image.NRGBA) {
	t.Helper()
	if want.Rect.Size() != got.Rect.Size() {
		t.Fatalf("%s: browser size %v, want %v", what, got.Rect.Size(), want.Rect.Size())
	}
	bad := 0
	for y := range want.Rect.Dy() {
		for x := range want.Rect.Dx() {
			w := want.NRGBAAt(want.Rect.Min.X+x, want.Rect.Min.Y+y)
			g := got.NRGBAAt(x, y)
			ok := w.A == g.A
			if ok && w.A != 0 {
				tol := 0
				if w.A != 255 {
					tol = 255/int(w.A) + 1
				}
				for _, d := range []int{int(w.R) - int(g.R), int(w.G) - int(g.G), int(w.B) - int(g.B)} {
					ok = ok && d <= tol && -d <= tol
				}
			}
			if !ok {
				if bad < 5 {
					t.Errorf("%s: pixel (%d,%d) browser %v, want %v", what, x, y, g, w)
				}
				bad++
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d pixels differ", what, bad)
	}
}

// TestBrowserDecodesWebP: Chromium decodes the WebP files of internal/webp
// to the source pixels: synthetic images from data: URLs, and a session's
// live thumbnail fetched by an <img> from the bridge, which must answer
// the browser's own Accept header with WebP.
func TestBrowserDecodesWebP(t *testing.T) {
	b := startBridge(t)
	hostMessages(t, b, "webpthumb", []protocol.Message{
		protocol.CanvasResize{Right: 200, Bottom: 100},
		protocol.LayerTreeCreate{ID: protocol.LayerID(1, 1), Title: "Layer 1"},
		protocol.FillRect{Layer: protocol.LayerID(1, 1), Mode: protocol.BlendNormal, X: 0, Y: 0, W: 100, H: 100, Color: 0xffff0000},
		protocol.FillRect{Layer: protocol.LayerID(1, 1), Mode: protocol.BlendNormal, X: 120, Y: 10, W: 60, H: 80, Color: 0xff2080c0},
		protocol.FillRect{Layer: protocol.LayerID(1, 1), Mode: protocol.BlendNormal, X: 20, Y: 30, W: 150, H: 20, Color: 0x8000ff00},
	})
	// The served content types of thumbnail requests, for the check
	// that the browser's <img> got WebP.
	var mu sync.Mutex
	var served []string
	watch := b.WatchHandler()
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		watch.ServeHTTP(w, r)
		mu.Lock()
		served = append(served, r.URL.RequestURI()+" "+w.Header().Get("Content-Type")+" Accept: "+r.Header.Get("Accept"))
		mu.Unlock()
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><html><body></body></html>")
	})
	base := serveMux(t, mux)

	br := Start(t, Options{Width: 400, Height: 300})
	p := br.NewPage(t)
	if err := p.Navigate(base + "/"); err != nil {
		t.Fatal(err)
	}

	r := rand.New(rand.NewPCG(8, 8))
	synthetic := []struct {
		name string
		w, h int
		px   func(x, y int) color.NRGBA
	}{
		{"1x1", 1, 1, func(x, y int) color.NRGBA { return color.NRGBA{10, 20, 30, 255} }},
		{"opaque gradient and noise", 97, 61, func(x, y int) color.NRGBA {
			if x > 60 {
				return color.NRGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
			}
			return color.NRGBA{uint8(x * 4), uint8(y * 4), uint8(x + y), 255}
		}},
		{"translucent noise", 64, 40, func(x, y int) color.NRGBA {
			return color.NRGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256))}
		}},
		{"flat with hole", 300, 200, func(x, y int) color.NRGBA {
			if x > 100 && x < 150 && y > 50 && y < 120 {
				return color.NRGBA{}
			}
			return color.NRGBA{250, 250, 245, 255}
		}},
	}
	for _, c := range synthetic {
		src := image.NewNRGBA(image.Rect(0, 0, c.w, c.h))
		for y := range c.h {
			for x := range c.w {
				src.SetNRGBA(x, y, c.px(x, y))
			}
		}
		enc, err := webp.Append(nil, src)
		if err != nil {
			t.Fatal(err)
		}
		got := browserPixels(t, p, "data:image/webp;base64,"+base64.StdEncoding.EncodeToString(enc))
		sameAsBrowser(t, c.name, src, got)
	}

	// The bridge's thumbnail: first the PNG (forced, decoded by Go) once
	// the mirror has rendered the whole canvas, then the browser's <img>.
	var want *image.NRGBA
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(base + "/api/sessions/webpthumb/thumbnail.png?format=png")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == 200 {
			img, err := png.Decode(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			n, ok := img.(*image.NRGBA)
			if ok && n.Bounds().Dx() == 200 && n.NRGBAAt(50, 40).A != 0 && n.NRGBAAt(150, 50).A == 255 {
				want = n
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("thumbnail never showed the canvas (status %d)", res.StatusCode)
		}
		// Poll (thumbnail requests are cheap and re-render at most once
		// per interval); not a coordination sleep on a fixed outcome.
		time.Sleep(100 * time.Millisecond)
	}
	got := browserPixels(t, p, base+"/api/sessions/webpthumb/thumbnail.png")
	sameAsBrowser(t, "bridge thumbnail", want, got)
	mu.Lock()
	defer mu.Unlock()
	last := served[len(served)-1]
	if !strings.Contains(last, "/thumbnail.png image/webp ") {
		t.Errorf("the browser's <img> request was served %q, want image/webp", last)
	}
	t.Logf("served: %q", last)
}

// TestLandingThumbnails: the landing page's session list shows each
// public session's live thumbnail, which Chromium gets as WebP and shows
// at the canvas's size; a password-protected session has none.
func TestLandingThumbnails(t *testing.T) {
	dir := buildClient(t)
	b := startBridge(t)
	hostMessages(t, b, "thumbs", []protocol.Message{
		protocol.CanvasResize{Right: 160, Bottom: 90},
		protocol.LayerTreeCreate{ID: protocol.LayerID(1, 1), Title: "Layer 1"},
		protocol.FillRect{Layer: protocol.LayerID(1, 1), Mode: protocol.BlendNormal, X: 0, Y: 0, W: 80, H: 90, Color: 0xff3060f0},
	})
	hostOn(t, b, "locked", "secret")
	base := serveWithBridge(t, dir, b)
	br := Start(t, Options{Width: 1000, Height: 700})
	p := br.NewPage(t)
	if err := p.Navigate(base + "/"); err != nil {
		t.Fatal(err)
	}
	const thumbs = `document.querySelectorAll('#sessions img.thumb')`
	if err := p.WaitTrue(`document.querySelectorAll('#sessions li').length === 2 && ` + thumbs + `.length === 1 && ` +
		thumbs + `[0].complete && ` + thumbs + `[0].naturalWidth > 0`); err != nil {
		html, _ := Eval[string](p, `document.getElementById('sessions').innerHTML`)
		t.Fatalf("no loaded thumbnail in the session list: %v\n%s\nconsole:\n%s", err, html, p.ConsoleText())
	}
	size, err := Eval[[]int](p, `[`+thumbs+`[0].naturalWidth, `+thumbs+`[0].naturalHeight]`)
	if err != nil || len(size) != 2 || size[0] != 160 || size[1] != 90 {
		t.Errorf("thumbnail natural size %v (%v), want 160×90", size, err)
	}
	// What the page's <img> asked for is what Chromium sends for images;
	// the bridge answers it with WebP.
	src, err := Eval[string](p, thumbs+`[0].src`)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", src, nil)
	req.Header.Set("Accept", "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if ct := res.Header.Get("Content-Type"); res.StatusCode != 200 || ct != "image/webp" {
		t.Errorf("%s: %s %q, want 200 image/webp", src, res.Status, ct)
	}
	p.CheckNoPanic(t)
}

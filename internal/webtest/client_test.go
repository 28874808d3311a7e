package webtest

import (
	"flag"
	"fmt"
	"image/color"
	"io/fs"
	"math"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"drawbridge/internal/webassets"
	"drawbridge/internal/webassets/precompress"
	"drawbridge/web"
)

// screenshots, when set, is a directory where the browser tests write PNG
// screenshots of the main screens (for docs/):
//
//	go test ./internal/webtest -run Client -args -screenshots=$PWD/docs/screenshots
var screenshots = flag.String("screenshots", "", "directory for screenshots of the main screens")

// shot saves a screenshot of the page as NAME.png when -screenshots is set.
func shot(t testing.TB, p *Page, name string) {
	t.Helper()
	if *screenshots == "" {
		return
	}
	b, err := p.Screenshot()
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.MkdirAll(*screenshots, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*screenshots, name+".png"), b, 0o644); err != nil {
		t.Error(err)
	}
}

// The wasm client is built once per test binary (buildClient) and removed
// by TestMain.
var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// buildClient builds cmd/webclient for GOOS=js into a directory with the
// static files of package web and the compiler's wasm_exec.js, and
// precompresses it (cheap settings; `make web` uses the strong ones). The
// Go build cache keeps rebuilds to a relink.
func buildClient(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "webtest-client-")
		if buildErr == nil {
			buildErr = buildInto(t, buildDir)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildDir
}

func buildInto(t testing.TB, dir string) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("go tool not found: %w", err)
	}
	start := time.Now()
	cmd := exec.Command(gobin, "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(dir, "client.wasm"), "drawbridge/cmd/webclient")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build wasm client: %w\n%s", err, out)
	}
	t.Logf("wasm build took %v", time.Since(start).Round(time.Millisecond))
	goroot, err := exec.Command(gobin, "env", "GOROOT").Output()
	if err != nil {
		return err
	}
	if err := copyFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"), filepath.Join(dir, "wasm_exec.js")); err != nil {
		return err
	}
	// Static files from package web, except build outputs that may be stale.
	err = fs.WalkDir(web.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch {
		case p == "client.wasm", p == "wasm_exec.js", p == webassets.ManifestName,
			strings.HasSuffix(p, ".gz"), strings.HasSuffix(p, ".br"):
			return nil
		}
		b, err := fs.ReadFile(web.FS(), p)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		return err
	}
	start = time.Now()
	res, err := precompress.Dir(dir, precompress.Options{GzipLevel: 1, BrotliQuality: 1})
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.Name == "client.wasm" {
			t.Logf("client.wasm: raw %d, gzip-1 %d, br-1 %d bytes (precompressed in %v)", r.Size, r.Gzip, r.Brotli, time.Since(start).Round(time.Millisecond))
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

// serveAssets serves dir through the real asset handler on 127.0.0.1.
func serveAssets(t *testing.T, dir string) string {
	t.Helper()
	h, err := webassets.New(os.DirFS(dir), webassets.Options{})
	if err != nil {
		t.Fatal(err)
	}
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

// TestClientDrawsWithPressure starts the real wasm client in headless
// Chromium, checks it starts without panics and draws a first frame, then
// draws two pen strokes with synthesized pressure and checks the canvas
// pixels (through the test hook and the screenshot) and that higher
// pressure gives a wider line.
func TestClientDrawsWithPressure(t *testing.T) {
	dir := buildClient(t)
	base := serveAssets(t, dir)
	b := Start(t, Options{Width: 1024, Height: 768})
	p := b.NewPage(t)
	start := time.Now()
	if err := p.Navigate(base + "/r/TEST42"); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.__drawbridge && window.__drawbridge.ready"); err != nil {
		t.Fatalf("%v\nconsole:\n%s", err, p.ConsoleText())
	}
	firstFrame, err := Eval[float64](p, "window.__drawbridge.firstFrameMs")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first frame %.0f ms after navigation start (%v wall clock incl. CDP)", firstFrame, time.Since(start).Round(time.Millisecond))
	p.CheckNoPanic(t)

	// The wasm was fetched compressed and instantiated (the MIME type must
	// be application/wasm for instantiateStreaming).
	sizes, err := Eval[[]float64](p, `(() => { const e = performance.getEntriesByType('resource').find(r => r.name.includes('client.') && r.name.endsWith('.wasm')); return e ? [e.encodedBodySize, e.decodedBodySize] : [0, 0]; })()`)
	if err != nil {
		t.Fatal(err)
	}
	if sizes[1] == 0 || sizes[0] >= sizes[1] {
		t.Errorf("wasm transfer sizes (encoded, decoded) = %v: not compressed or not hashed", sizes)
	}

	// Name prompt → canvas. The room does not exist on this plain file
	// server: the client says so and keeps a local canvas to draw on.
	if page, _ := Eval[string](p, "window.__drawbridge.page"); page != "name" {
		t.Fatalf("page = %q, want the name prompt", page)
	}
	shot(t, p, "name-prompt")
	if err := p.Exec(`document.getElementById('name-input').value = 'tester'; document.getElementById('name-ok').click()`); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.__drawbridge.page === 'canvas'"); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue(`!document.getElementById('error').hidden && document.getElementById('error').textContent.includes('does not exist')`); err != nil {
		t.Errorf("no clear error for an unknown room: %v", err)
	}

	sync := nextUpdate(p)
	toScreen := func(x, y float64) (float64, float64) {
		v, err := Eval[[]float64](p, fmt.Sprintf("window.__drawbridge.toScreen(%v, %v)", x, y))
		if err != nil {
			t.Fatal(err)
		}
		return v[0], v[1]
	}
	stroke := func(y, pressure float64) {
		var pts []Point
		for x := 200.0; x <= 600; x += 100 {
			sx, sy := toScreen(x, y)
			pts = append(pts, Point{X: sx, Y: sy, Pressure: pressure, TiltX: 15})
		}
		if err := p.PointerStroke(Stroke{Type: Pen, Points: pts}, sync); err != nil {
			t.Fatal(err)
		}
	}
	if px, err := Eval[[]int](p, "window.__drawbridge.pixel(400, 300)"); err != nil || px[0] != 255 || px[3] != 255 {
		t.Fatalf("blank canvas pixel = %v, %v; want opaque white", px, err)
	}
	stroke(300, 0.2)
	stroke(600, 1.0)

	last, err := Eval[map[string]any](p, "window.__drawbridge.lastPointer()")
	if err != nil {
		t.Fatal(err)
	}
	if last["type"] != "pen" || !near(last["pressure"].(float64), 1.0) || last["tiltX"].(float64) != 15 {
		t.Errorf("last pointer sample = %v, want pen with pressure 1 and tiltX 15", last)
	}

	// Line width across each stroke at x=400, from the canvas pixels.
	width := func(y0 int) int {
		col, err := Eval[[][]int](p, fmt.Sprintf("Array.from({length: 60}, (_, i) => window.__drawbridge.pixel(400, %d + i))", y0-30))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, px := range col {
			if px[0] < 128 {
				n++
			}
		}
		return n
	}
	thin, thick := width(300), width(600)
	t.Logf("stroke width at pressure 0.2: %d px, at 1.0: %d px", thin, thick)
	if thin < 1 || thick <= thin {
		t.Errorf("pressure does not change the line: widths %d (0.2) and %d (1.0)", thin, thick)
	}
	if px, _ := Eval[[]int](p, "window.__drawbridge.pixel(400, 450)"); px[0] != 255 {
		t.Errorf("pixel between the strokes = %v, want white", px)
	}

	// The frame shows it: the screenshot is dark on the thick stroke and
	// light beside it.
	img, err := p.ScreenshotImage()
	if err != nil {
		t.Fatal(err)
	}
	sx, sy := toScreen(400, 600)
	on := color.RGBAModel.Convert(img.At(int(sx), int(sy))).(color.RGBA)
	bx, by := toScreen(400, 450)
	off := color.RGBAModel.Convert(img.At(int(bx), int(by))).(color.RGBA)
	if on.R > 100 || off.R < 200 {
		t.Errorf("screenshot: on stroke %v, beside %v; want dark and white", on, off)
	}
	if work, err := Eval[[]float64](p, "window.__drawbridge.work()"); err != nil || len(work) == 0 {
		t.Errorf("work() = %v, %v", work, err)
	} else {
		t.Logf("client work per frame (Update+Draw) over %d frames: p50 %.2f ms, p95 %.2f ms, max %.2f ms", len(work), percentile(work, 50), percentile(work, 95), maxOf(work))
	}
	if d, _ := Eval[int](p, "window.__drawbridge.dabs"); d < 10 {
		t.Errorf("dabs = %d", d)
	}
	t.Logf("desktop part took %v", time.Since(start).Round(time.Millisecond))
	shot(t, p, "canvas-desktop")

	// Phone portrait with touch: a one-finger drag draws, and reaches the
	// client as pointerType "touch".
	phone := time.Now()
	if err := p.SetViewport(390, 844, true); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.innerWidth === 390"); err != nil {
		t.Fatal(err)
	}
	if err := p.Exec(`document.querySelector('#fit').click()`); err != nil {
		t.Fatal(err)
	}
	if err := sync(); err != nil {
		t.Fatal(err)
	}
	var touches []Touch
	for y := 800.0; y <= 1000; y += 100 {
		sx, sy := toScreen(1200, y)
		touches = append(touches, Touch{ID: 1, X: sx, Y: sy})
	}
	for i, tc := range touches {
		kind := "touchMove"
		if i == 0 {
			kind = "touchStart"
		}
		if err := p.TouchEvent(kind, []Touch{tc}); err != nil {
			t.Fatal(err)
		}
		if err := sync(); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.TouchEvent("touchEnd", nil); err != nil {
		t.Fatal(err)
	}
	if err := sync(); err != nil {
		t.Fatal(err)
	}
	if last, _ := Eval[map[string]any](p, "window.__drawbridge.lastPointer()"); last["type"] != "touch" {
		t.Errorf("last pointer after touch drag = %v", last)
	}
	if px, _ := Eval[[]int](p, "window.__drawbridge.pixel(1200, 900)"); px[0] > 100 {
		t.Errorf("touch drag did not draw: pixel %v", px)
	}
	t.Logf("phone part took %v", time.Since(phone).Round(time.Millisecond))
	shot(t, p, "canvas-phone")
	p.CheckNoPanic(t)
}

// percentile returns the p-th percentile (nearest rank) of v.
func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func maxOf(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

// Package webtest drives headless Chromium from Go tests through chromedp.
//
// It owns starting the browser with the flags measured on our machines
// (docs: shared/reference/browser-testing.md, copied in spirit into
// this comment): a fresh user-data-dir per browser, headless mode, WebGL2
// through SwiftShader (or Mesa llvmpipe with RendererEGL), an explicit
// viewport, console capture with detection of Go panics (which reach the
// console as console.log), helpers that wait for a JavaScript condition or
// counter, synthesized pointer input with pressure and tilt through the
// DevTools protocol, and PNG screenshots.
//
// It does not own any page or application logic: tests of the web client
// read its state through the client's own test hook (window.__drawbridge,
// documented in cmd/webclient/hook.go).
//
// This package's own tests build cmd/webclient for GOOS=js once per test
// binary and run it in Chromium: offline drawing with pen pressure and
// touch (client_test.go); joining a session hosted by a Go bot on a real
// bridge through /r/CODE with a second page watching, chat, undo, layers,
// cursors, a byte-exact comparison of the page's canvas with the bot's
// replay of the session, passwords, hosting from the browser and
// reconnecting with hidx (session_test.go). BenchmarkClientFrameWork
// measures the client's work per frame on a 4000×3000, 20-layer canvas.
// `-args -screenshots=DIR` saves screenshots of the main screens.
//
// A missing browser is a test failure with a clear message, never a skip:
// `make test` installs Chromium first (scripts/ensure-test-deps.sh).
//
// Goroutines: each Page runs one console-reader goroutine, owned by the
// Page and ended by its Close (or the test's cleanup).
//
// Timing: helpers never sleep for a fixed time to coordinate; they poll a
// condition until a context deadline, because Ebitengine reads input once
// per tick and headless frame rates are low and noisy.
package webtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Renderer chooses how Chromium provides WebGL without a GPU.
type Renderer int

const (
	// RendererSwiftShader uses the SwiftShader that ships inside the
	// chromium package. It always works; it is the default.
	RendererSwiftShader Renderer = iota
	// RendererEGL uses Mesa's llvmpipe through EGL: about 1.5x faster,
	// needs libegl1, libegl-mesa0 and libgl1-mesa-dri.
	RendererEGL
)

// Options configure a Browser. The zero value is a 1024x768 viewport with
// SwiftShader and Chromium found on PATH or at /usr/bin/chromium.
type Options struct {
	// Width and Height are the page viewport in CSS pixels (default
	// 1024x768). The viewport is set explicitly on every page, because the
	// window size is not the viewport.
	Width, Height int
	// ExecPath is the browser binary; empty means FindChromium.
	ExecPath string
	// Renderer selects the WebGL backend.
	Renderer Renderer
	// Timeout bounds every helper call that waits (default 30 s). It is a
	// safety net against hangs, not a performance assertion.
	Timeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Width <= 0 {
		o.Width = 1024
	}
	if o.Height <= 0 {
		o.Height = 768
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	return o
}

// ErrNoBrowser is returned by FindChromium when no Chromium binary exists.
var ErrNoBrowser = errors.New("webtest: chromium not found (install it with scripts/ensure-test-deps.sh or `apt-get install chromium`)")

// FindChromium returns the path of the Chromium binary: the first of
// chromium, chromium-browser, google-chrome on PATH, then /usr/bin/chromium.
func FindChromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", nil
	}
	return "", ErrNoBrowser
}

// Browser is one headless Chromium process with its own fresh profile.
type Browser struct {
	opts Options
	// ctx is the chromedp browser context (first tab); immutable after
	// construction.
	ctx    context.Context
	cancel context.CancelFunc
	logf   func(string, ...any)
}

// Flags returns the Chromium command-line flags webtest uses, without the
// user-data-dir (which is a fresh temporary directory per browser).
func Flags(r Renderer) map[string]any {
	f := map[string]any{
		"headless":                      true,
		"no-sandbox":                    true,
		"disable-quic":                  true,
		"no-first-run":                  true,
		"disable-background-networking": true,
		"disable-component-update":      true,
		"disable-sync":                  true,
		"hide-scrollbars":               true,
		"mute-audio":                    true,
		"disable-dev-shm-usage":         true,
		"disable-extensions":            true,
		// Keep timers and rAF running in an unfocused headless tab.
		"disable-background-timer-throttling":    true,
		"disable-backgrounding-occluded-windows": true,
		"disable-renderer-backgrounding":         true,
		"force-color-profile":                    "srgb",
		"password-store":                         "basic",
		"use-mock-keychain":                      true,
	}
	switch r {
	case RendererEGL:
		f["use-angle"] = "gl-egl"
		f["ignore-gpu-blocklist"] = true
	default:
		f["disable-gpu"] = true
		f["use-angle"] = "swiftshader"
		f["enable-unsafe-swiftshader"] = true
	}
	return f
}

// Start launches a browser for the test and registers its shutdown with
// t.Cleanup. It fails the test (never skips) when Chromium is missing or
// does not start.
func Start(t testing.TB, opts Options) *Browser {
	t.Helper()
	opts = opts.withDefaults()
	if opts.ExecPath == "" {
		p, err := FindChromium()
		if err != nil {
			t.Fatal(err)
		}
		opts.ExecPath = p
	}
	allocOpts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(opts.ExecPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(opts.Width, opts.Height),
	}
	for name, v := range Flags(opts.Renderer) {
		allocOpts = append(allocOpts, chromedp.Flag(name, v))
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	logf := func(format string, args ...any) { t.Logf(format, args...) }
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(logf))
	b := &Browser{opts: opts, ctx: ctx, logf: logf, cancel: func() { cancel(); allocCancel() }}
	if err := firstRun(ctx, opts.Timeout); err != nil {
		b.cancel()
		t.Fatalf("webtest: start %s: %v", opts.ExecPath, err)
	}
	t.Cleanup(b.Close)
	return b
}

// firstRun makes chromedp create the browser or tab of ctx. That first Run
// must not carry a timeout (chromedp would close the tab or browser when it
// ends), so the bound is a separate timer.
func firstRun(ctx context.Context, timeout time.Duration) error {
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-started:
		return err
	case <-timer.C:
		return fmt.Errorf("not started within %v", timeout)
	}
}

// Close ends the browser and removes its profile. It is safe to call twice.
func (b *Browser) Close() {
	cctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	_ = chromedp.Cancel(cctx)
	b.cancel()
}

// Page is one browser tab with console capture.
type Page struct {
	b *Browser
	// ctx is the tab's chromedp context; immutable after construction.
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when the console reader ends

	mu      sync.Mutex                // guards console
	console []chromedp.ConsoleMessage // guarded by mu
}

// NewPage opens a new tab with the browser's viewport and starts capturing
// its console. The tab closes at test cleanup.
func (b *Browser) NewPage(t testing.TB) *Page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	p := &Page{b: b, ctx: ctx, cancel: cancel, done: make(chan struct{})}
	if err := firstRun(ctx, b.opts.Timeout); err != nil {
		cancel()
		t.Fatalf("webtest: open tab: %v", err)
	}
	if err := p.run(chromedp.EmulateViewport(int64(b.opts.Width), int64(b.opts.Height))); err != nil {
		cancel()
		t.Fatalf("webtest: set viewport: %v", err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		defer close(p.done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.console = append(p.console, m)
			p.mu.Unlock()
		}
	}()
	t.Cleanup(p.Close)
	return p
}

// Close closes the tab and waits for the console reader to end.
func (p *Page) Close() {
	p.cancel()
	<-p.done
}

// Context returns the tab's chromedp context, for chromedp actions the
// helpers do not cover.
func (p *Page) Context() context.Context { return p.ctx }

// run runs actions with the page's timeout.
func (p *Page) run(actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(p.ctx, p.b.opts.Timeout)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// Navigate loads url and waits for its load event.
func (p *Page) Navigate(url string) error {
	if err := p.run(chromedp.Navigate(url)); err != nil {
		return fmt.Errorf("navigate %s: %w", url, err)
	}
	return nil
}

// Eval evaluates a JavaScript expression in the page and decodes its JSON
// value into T. Promises are awaited.
func Eval[T any](p *Page, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(p.ctx, p.b.opts.Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return v, fmt.Errorf("eval %q: %w", shorten(expr), err)
	}
	return v, nil
}

// Exec evaluates a JavaScript expression for its side effects.
func (p *Page) Exec(expr string) error {
	_, err := Eval[chromedp.Void](p, expr)
	return err
}

// WaitTrue polls a JavaScript expression until it is truthy, the page
// panics, or the timeout passes. Exceptions thrown by the expression count
// as false (the page may still be loading).
func (p *Page) WaitTrue(expr string) error {
	return p.WaitTrueFor(expr, p.b.opts.Timeout)
}

// WaitTrueFor is WaitTrue with an explicit timeout.
func (p *Page) WaitTrueFor(expr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	wrapped := "(() => { try { return !!(" + expr + "); } catch (e) { return false; } })()"
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](wrapped))
		if err == nil && ok {
			return nil
		}
		if msg := p.Panic(); msg != "" {
			return fmt.Errorf("wait for %q: page panicked: %s", shorten(expr), msg)
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = ctx.Err()
			}
			return fmt.Errorf("wait for %q: %w", shorten(expr), err)
		case <-tick.C:
		}
	}
}

// Counter reads a numeric JavaScript expression (such as a frame counter).
func (p *Page) Counter(expr string) (float64, error) {
	return Eval[float64](p, expr)
}

// WaitAdvance waits until the numeric expression exceeds from by at least
// n. Use it after each input event with the client's update counter, so that
// the game loop has seen the event (see browser-testing.md, pitfalls).
func (p *Page) WaitAdvance(expr string, from float64, n int) error {
	return p.WaitTrue(fmt.Sprintf("(%s) >= %v", expr, from+float64(n)))
}

// Console returns a copy of the console messages captured so far.
func (p *Page) Console() []chromedp.ConsoleMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), p.console...)
}

// ConsoleText returns the captured console as one line per message.
func (p *Page) ConsoleText() string {
	var sb strings.Builder
	for _, m := range p.Console() {
		sb.WriteString(m.String())
		sb.WriteByte('\n')
	}
	return sb.String()
}

// panicMarkers are console texts that mean the Go program died: Go writes
// panics and fatal errors through console.log, and wasm_exec.js reports the
// exit.
var panicMarkers = []string{"panic:", "fatal error:", "Go program has already exited", "RuntimeError: unreachable", "exit code:"}

// Panic returns the first console message that shows the Go program
// panicked or exited, or an uncaught exception; "" when none did.
func (p *Page) Panic() string {
	for _, m := range p.Console() {
		if m.IsException() {
			return m.String()
		}
		for _, mark := range panicMarkers {
			if strings.Contains(m.Text, mark) {
				return m.String()
			}
		}
	}
	return ""
}

// CheckNoPanic fails the test when the page panicked, printing the console.
func (p *Page) CheckNoPanic(t testing.TB) {
	t.Helper()
	if msg := p.Panic(); msg != "" {
		t.Fatalf("page panicked: %s\nconsole:\n%s", msg, p.ConsoleText())
	}
}

// Screenshot captures the viewport as PNG bytes, with the exact colours
// drawn (CDP screenshots are not colour-managed beyond sRGB).
func (p *Page) Screenshot() ([]byte, error) {
	ctx, cancel := context.WithTimeout(p.ctx, p.b.opts.Timeout)
	defer cancel()
	b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return nil, fmt.Errorf("screenshot: %w", err)
	}
	return b, nil
}

// ScreenshotImage captures the viewport and decodes it.
func (p *Page) ScreenshotImage() (image.Image, error) {
	b, err := p.Screenshot()
	if err != nil {
		return nil, err
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("decode screenshot: %w", err)
	}
	return img, nil
}

// SetViewport changes the tab's viewport (CSS pixels), e.g. to a phone
// size; mobile also turns on touch emulation.
func (p *Page) SetViewport(width, height int, mobile bool) error {
	opts := []chromedp.EmulateViewportOption{}
	if mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2))
	}
	if err := p.run(chromedp.EmulateViewport(int64(width), int64(height), opts...)); err != nil {
		return fmt.Errorf("set viewport: %w", err)
	}
	return nil
}

func shorten(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

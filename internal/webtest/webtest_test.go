package webtest

import (
	"bytes"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// serveDir serves testdata on 127.0.0.1 only.
func serveDir(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.FileServerFS(os.DirFS("testdata")))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

type event struct {
	Type        string  `json:"type"`
	PointerType string  `json:"pointerType"`
	Pressure    float64 `json:"pressure"`
	TiltX       float64 `json:"tiltX"`
	X, Y        float64
	Buttons     int `json:"buttons"`
}

// TestPointerClickScreenshot checks the harness on a plain page: viewport,
// clicks, pen events with pressure and tilt, screenshots, and that a Go
// panic printed to the console is detected.
func TestPointerClickScreenshot(t *testing.T) {
	base := serveDir(t)
	b := Start(t, Options{Width: 800, Height: 600})
	p := b.NewPage(t)
	if err := p.Navigate(base + "/pointer.html"); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.events !== undefined"); err != nil {
		t.Fatal(err)
	}

	// The viewport is what we asked for, not the window size.
	vw, err := Eval[[]int](p, "[window.innerWidth, window.innerHeight]")
	if err != nil {
		t.Fatal(err)
	}
	if vw[0] != 800 || vw[1] != 600 {
		t.Errorf("viewport = %v, want [800 600]", vw)
	}

	// A click on the button arrives.
	if err := p.Click(550, 70); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.clicks === 1"); err != nil {
		t.Fatal(err)
	}

	// A pen stroke arrives with its pressure, tilt and pointer type.
	stroke := Stroke{Type: Pen, Points: []Point{
		{X: 50, Y: 50, Pressure: 0.25, TiltX: 10},
		{X: 100, Y: 60, Pressure: 0.5, TiltX: 20},
		{X: 150, Y: 70, Pressure: 0.75, TiltX: 30},
	}}
	if err := p.PointerStroke(stroke, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.events.some(e => e.type === 'pointerup')"); err != nil {
		t.Fatal(err)
	}
	evs, err := Eval[[]event](p, "window.events")
	if err != nil {
		t.Fatal(err)
	}
	var down, moves []event
	for _, e := range evs {
		if e.PointerType != "pen" {
			t.Errorf("event %s has pointerType %q, want pen", e.Type, e.PointerType)
		}
		switch e.Type {
		case "pointerdown":
			down = append(down, e)
		case "pointermove":
			if e.Buttons&1 != 0 {
				moves = append(moves, e)
			}
		}
	}
	if len(down) != 1 || !near(down[0].Pressure, 0.25) || down[0].X != 50 {
		t.Errorf("pointerdown = %+v, want one at x=50 with pressure 0.25", down)
	}
	if len(moves) != 2 || !near(moves[1].Pressure, 0.75) || moves[1].TiltX != 30 {
		t.Errorf("pressed moves = %+v, want two, the last with pressure 0.75 and tiltX 30", moves)
	}

	// The screenshot is a real PNG of the viewport with the painted squares.
	raw, err := p.Screenshot()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if got := img.Bounds().Size(); got.X != 800 || got.Y != 600 {
		t.Errorf("screenshot size = %v, want 800x600", got)
	}
	red := color.RGBAModel.Convert(img.At(100, 60)).(color.RGBA)
	if red.R < 200 || red.G > 50 || red.B > 50 {
		t.Errorf("pixel at stroke = %v, want red", red)
	}
	white := color.RGBAModel.Convert(img.At(300, 250)).(color.RGBA)
	if white.R < 240 || white.G < 240 || white.B < 240 {
		t.Errorf("pixel away from stroke = %v, want white", white)
	}
	p.CheckNoPanic(t)

	// Go writes panics with console.log; the harness must notice them and
	// stop waiting.
	if err := p.Exec(`console.log("panic: runtime error: index out of range [3] with length 2")`); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.never === true"); err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("WaitTrue on a panicked page = %v, want a panic error", err)
	}
	if msg := p.Panic(); !strings.Contains(msg, "index out of range") {
		t.Fatalf("panic not detected: %q; console:\n%s", msg, p.ConsoleText())
	}
}

func near(a, b float64) bool { d := a - b; return d < 0.01 && d > -0.01 }

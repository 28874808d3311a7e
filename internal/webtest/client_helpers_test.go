package webtest

import (
	"fmt"
	"testing"
)

// nextUpdate returns the sync function for Page.PointerStroke with the web
// client: it waits until the game loop has run one more Update after an
// event, so no synthesized input is merged or missed (browser-testing.md).
func nextUpdate(p *Page) func() error {
	return func() error {
		n, err := p.Counter("window.__drawbridge.updates")
		if err != nil {
			return err
		}
		return p.WaitAdvance("window.__drawbridge.updates", n, 1)
	}
}

// canvasLine returns pen points in screen coordinates along canvas row y,
// from canvas x0 to x1 (inclusive) every dx pixels, all at pressure.
func canvasLine(t *testing.T, p *Page, x0, x1, dx, y, pressure float64) []Point {
	t.Helper()
	var pts []Point
	for x := x0; x <= x1; x += dx {
		v, err := Eval[[]float64](p, fmt.Sprintf("window.__drawbridge.toScreen(%v, %v)", x, y))
		if err != nil {
			t.Fatal(err)
		}
		pts = append(pts, Point{X: v[0], Y: v[1], Pressure: pressure})
	}
	return pts
}

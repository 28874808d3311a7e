package canvas

import (
	"os"
	"testing"
)

// TestDebugCase prints where a render case differs (set DEBUG_CASE).
func TestDebugCase(t *testing.T) {
	name := os.Getenv("DEBUG_CASE")
	if name == "" {
		t.Skip("DEBUG_CASE not set")
	}
	c := loadRecording(t, "testdata/render/"+name+".dprec")
	got := c.Render(RenderOptions{Checkerboard: true})
	want := readPNG(t, "testdata/render/"+name+".png")
	w, h := got.Bounds().Dx(), got.Bounds().Dy()
	n := 0
	minx, miny, maxx, maxy := w, h, 0, 0
	for y := range h {
		for x := range w {
			o := y*got.Stride + x*4
			g, e := got.Pix[o:o+4], want.Pix[o:o+4]
			if g[0] != e[0] || g[1] != e[1] || g[2] != e[2] || g[3] != e[3] {
				minx, miny, maxx, maxy = min(minx, x), min(miny, y), max(maxx, x), max(maxy, y)
				if n < 20 {
					t.Logf("(%d,%d) got %v want %v", x, y, g, e)
				}
				n++
			}
		}
	}
	t.Logf("%d px differ in [%d,%d]-[%d,%d]", n, minx, miny, maxx, maxy)
}

func TestDebugCells(t *testing.T) {
	name := os.Getenv("DEBUG_CASE")
	cell := 32
	if name == "" {
		t.Skip("DEBUG_CASE not set")
	}
	if os.Getenv("DEBUG_CELL") == "64" {
		cell = 64
	}
	c := loadRecording(t, "testdata/render/"+name+".dprec")
	got := c.Render(RenderOptions{Checkerboard: true})
	want := readPNG(t, "testdata/render/"+name+".png")
	w, h := got.Bounds().Dx(), got.Bounds().Dy()
	cnt := map[[2]int]int{}
	for y := range h {
		for x := range w {
			o := y*got.Stride + x*4
			g, e := got.Pix[o:o+4], want.Pix[o:o+4]
			if g[0] != e[0] || g[1] != e[1] || g[2] != e[2] || g[3] != e[3] {
				cnt[[2]int{y / cell, x / cell}]++
			}
		}
	}
	t.Logf("cells (row,col)->count: %v", cnt)
}

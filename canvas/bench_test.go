package canvas

import (
	"bytes"
	"fmt"
	"os"
	"testing"
)

// benchCanvas is engine.md §9's setup: a 4000×3000 layer pre-filled white.
func benchCanvas(b *testing.B) *Canvas {
	c := New()
	if err := c.Resize(0, 4000, 3000, 0); err != nil {
		b.Fatal(err)
	}
	if err := c.LayerTreeCreate(0x101, 0, 0, 0xffffffff, false, false, "L"); err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkClassicDabs draws Normal classic dabs (hardness 200, opacity 128,
// 50 per message) and reports dabs/s, comparable with §9's table.
func BenchmarkClassicDabs(b *testing.B) {
	for _, diam := range []int{4, 20, 60, 200} {
		b.Run(fmt.Sprintf("d%d", diam), func(b *testing.B) {
			c := benchCanvas(b)
			dabs := make([]ClassicDab, 50)
			for i := range dabs {
				dabs[i] = ClassicDab{X: 13, Y: 5, Size: uint32(diam * 256), Hardness: 200, Opacity: 128}
			}
			b.ResetTimer()
			x, y := int32(400), int32(400)
			for i := 0; i < b.N; i++ {
				if err := c.DrawDabsClassic(1, 0, 0x101, x, y, 0xff336699, ModeNormal, dabs); err != nil {
					b.Fatal(err)
				}
				x += 4 * 37
				if x > 4*3800 {
					x = 400
					y += 4 * 41
					if y > 4*2800 {
						y = 400
					}
				}
			}
			b.ReportMetric(float64(b.N*len(dabs))/b.Elapsed().Seconds(), "dabs/s")
		})
	}
}

// BenchmarkFlatten flattens a 4000×3000 single-layer canvas to 8-bit.
func BenchmarkFlatten(b *testing.B) {
	c := benchCanvas(b)
	c.SetBackground(SolidTile(0xfff7f3ea))
	for b.Loop() {
		_ = c.Render(RenderOptions{})
	}
}

// BenchmarkPerfSession replays perf_session.dprec (parse + replay +
// flatten, no PNG encoding).
func BenchmarkPerfSession(b *testing.B) {
	data, err := os.ReadFile("testdata/perf/perf_session.dprec")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		c, err := renderRecording(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		_ = c.Render(RenderOptions{Checkerboard: true})
	}
}

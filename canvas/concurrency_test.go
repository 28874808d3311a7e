package canvas

import (
	"sync"
	"testing"

	"drawbridge/protocol"
)

// TestCanvasesInParallel draws on separate canvases from several
// goroutines, as the bridge's mirrors do: package-level caches (the
// classic hardness tables) must be safe for that. Run with -race.
func TestCanvasesInParallel(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := New()
			if err := c.Apply(1, protocol.CanvasResize{Right: 64, Bottom: 64}); err != nil {
				t.Error(err)
				return
			}
			if err := c.Apply(1, protocol.LayerTreeCreate{ID: 0x0101, Fill: 0xffffffff}); err != nil {
				t.Error(err)
				return
			}
			dabs := make([]protocol.ClassicDab, 8)
			for i := range dabs {
				dabs[i] = protocol.ClassicDab{X: 4, Size: 10 * 256, Hardness: uint8(30 * (i + g)), Opacity: 200}
			}
			if err := c.Apply(1, protocol.DrawDabsClassic{Layer: 0x0101, X: 40, Y: 80, Color: 0xff000000, Mode: 1, Dabs: dabs}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

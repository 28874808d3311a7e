package canvas

import (
	"math/rand/v2"
	"testing"
)

// TestTileRecycling replays a multi-user session with a small undo depth
// (so saved states are discarded often) on a recycling and a
// non-recycling canvas, and requires identical pixels.
func TestTileRecycling(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 8))
	pooled, plain := New(), New()
	plain.noPool = true
	recycled := 0
	both := func(ctx uint8, cmd Command) {
		_ = pooled.Do(ctx, cmd)
		_ = plain.Do(ctx, cmd)
	}
	both(1, func(c *Canvas) error { return c.Resize(0, 300, 200, 0) })
	for _, id := range []uint32{0x101, 0x102} {
		both(1, func(c *Canvas) error { return c.LayerTreeCreate(id, 0, 0, 0, false, false, "") })
	}
	both(1, func(c *Canvas) error { return c.FillRect(0x101, ModeNormal, 0, 0, 300, 200, 0xffeeddcc) })
	pooled.SetUndoDepth(3)
	plain.SetUndoDepth(3)
	for step := range 400 {
		ctx := uint8(1 + r.IntN(2))
		switch r.IntN(10) {
		case 0:
			redo := r.IntN(2) == 0
			_ = pooled.Undo(ctx, 0, redo)
			_ = plain.Undo(ctx, 0, redo)
		case 1, 2:
			pooled.UndoPoint(ctx)
			plain.UndoPoint(ctx)
		default:
			layer := 0x100 | uint32(ctx)
			x, y := int32(r.IntN(300*4)), int32(r.IntN(200*4))
			dabs := []ClassicDab{{Size: uint32(256 * (2 + r.IntN(40))), Hardness: 200, Opacity: 200}, {X: 20, Y: 10, Size: 2560, Hardness: 100, Opacity: 255}}
			mode := ModeNormal
			if r.IntN(4) == 0 {
				mode = ModeErase
			}
			flags := uint8(r.IntN(3))
			col := uint32(r.Uint32()) | 0xff000000
			both(ctx, func(c *Canvas) error { return c.DrawDabsClassic(ctx, flags, layer, x, y, col, mode, dabs) })
			if r.IntN(3) == 0 {
				both(ctx, func(c *Canvas) error { return c.PenUp(ctx, 0) })
			}
		}
		recycled = max(recycled, len(pooled.pool))
		if step%50 == 49 {
			checkSame(t, pooled, plain)
		}
	}
	checkSame(t, pooled, plain)
	if recycled == 0 {
		t.Error("no tile was ever recycled")
	}
}

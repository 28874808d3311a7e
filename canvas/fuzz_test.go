package canvas

import (
	"encoding/binary"
	"testing"
)

// byteReader hands out fuzz input; it returns zeros when exhausted.
type byteReader struct{ b []byte }

func (r *byteReader) u8() uint8 {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}
func (r *byteReader) u16() uint16 { return uint16(r.u8())<<8 | uint16(r.u8()) }
func (r *byteReader) u32() uint32 { return uint32(r.u16())<<16 | uint32(r.u16()) }

// checkCanvas verifies the structural and pixel invariants of every layer.
func checkCanvas(t *testing.T, c *Canvas) {
	n := c.st.xtiles() * c.st.ytiles()
	var check func([]*Layer)
	check = func(list []*Layer) {
		for _, l := range list {
			if l.Group {
				check(l.Children)
				continue
			}
			lists := [][]*Tile{l.tiles}
			for _, s := range l.subs {
				lists = append(lists, s.tiles)
			}
			for _, tiles := range lists {
				if len(tiles) != n {
					t.Fatalf("layer %#x has %d tiles, want %d", l.ID, len(tiles), n)
				}
				for _, tl := range tiles {
					if tl == nil {
						continue
					}
					for _, p := range tl.Px {
						if !p.Valid() {
							t.Fatalf("layer %#x: invalid pixel %v", l.ID, p)
						}
					}
				}
			}
		}
	}
	check(c.st.root)
	if c.st.w > 0 {
		var buf [TilePixels]Pixel15
		for i := range n {
			c.FlattenTile(&buf, i)
			for _, p := range buf {
				if !p.Valid() {
					t.Fatalf("flattened tile %d: invalid pixel %v", i, p)
				}
			}
		}
	}
}

// checkDirty verifies TakeDirtyTiles: every tile it does not report must
// flatten exactly as in the previous frame.
func checkDirty(t *testing.T, c *Canvas, frames *[][TilePixels]Pixel15) {
	tiles, all := c.TakeDirtyTiles()
	n := c.st.xtiles() * c.st.ytiles()
	dirty := make([]bool, n)
	for _, i := range tiles {
		dirty[i] = true
	}
	if !all && len(*frames) != n {
		t.Fatalf("canvas has %d tiles but the viewer holds %d and all is false", n, len(*frames))
	}
	if all {
		*frames = make([][TilePixels]Pixel15, n)
	}
	var buf [TilePixels]Pixel15
	for i := range n {
		c.FlattenTile(&buf, i)
		if !all && !dirty[i] && buf != (*frames)[i] {
			t.Fatalf("tile %d changed but was not reported dirty", i)
		}
		(*frames)[i] = buf
	}
}

// checkSame verifies that two canvases fed the same commands hold the same
// pixels (one recycles tiles, the other does not).
func checkSame(t *testing.T, a, b *Canvas) {
	if a.Width() != b.Width() || a.Height() != b.Height() {
		t.Fatalf("sizes differ")
	}
	if a.Width() == 0 {
		return
	}
	var x, y [TilePixels]Pixel15
	for i := range a.st.xtiles() * a.st.ytiles() {
		a.FlattenTile(&x, i)
		b.FlattenTile(&y, i)
		if x != y {
			t.Fatalf("tile %d differs between the pooled and the unpooled canvas", i)
		}
	}
}

// FuzzCanvas applies random, mostly valid command sequences to a small
// canvas: the engine must never panic and must keep every pixel valid.
func FuzzCanvas(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte("\x03\x01\x02\x00\x00\x10\x10\x05\x05\xff\x00\x00\xff\x04\x01\x02\x00\x10\x00\x10\x07\x08\x09\x06\x01"))
	seed := make([]byte, 0, 400)
	for i := range 400 {
		seed = append(seed, byte(i*37+11))
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &byteReader{b: data}
		var frames [][TilePixels]Pixel15
		c := New()
		ref := New() // same commands without tile recycling
		ref.noPool = true
		_ = c.Do(1, func(c *Canvas) error { return c.Resize(0, 100, 70, 0) })
		_ = ref.Do(1, func(c *Canvas) error { return c.Resize(0, 100, 70, 0) })
		c.SetUndoDepth(3 + int(r.u8()%4)) // small depths make truncation (and recycling) frequent
		ref.SetUndoDepth(c.hist.limit)
		ids := []uint32{0x101, 0x201, 0x301}
		layer := func() uint32 { return ids[int(r.u8())%len(ids)] }
		mode := func() BlendMode {
			m := allModes()
			return m[int(r.u8())%len(m)]
		}
		for steps := 0; len(r.b) > 0 && steps < 64; steps++ {
			ctx := r.u8()%3 + 1
			var cmd Command
			switch r.u8() % 19 {
			case 0:
				id, grp, into, tgt := layer(), r.u8()&1 != 0, r.u8()&1 != 0, layer()
				if r.u8()&1 == 0 {
					tgt = 0
				}
				fill := r.u32()
				cmd = func(c *Canvas) error { return c.LayerTreeCreate(id, 0, tgt, fill, grp, into, "x") }
			case 1:
				id, fl, op, m := layer(), r.u8(), r.u8(), mode()
				sub := r.u8() % 4
				cmd = func(c *Canvas) error { return c.LayerAttributes(id, sub, fl&1 != 0, fl&4 != 0, fl&8 != 0, op, m) }
			case 2:
				id, x, y, w, h, col, m := layer(), uint32(r.u8()), uint32(r.u8()), uint32(r.u8()), uint32(r.u8()), r.u32(), mode()
				cmd = func(c *Canvas) error { return c.FillRect(id, m, x, y, w, h, col) }
			case 3:
				id, fl, x, y, col, m := layer(), r.u8(), int32(int16(r.u16())), int32(int16(r.u16())), r.u32(), mode()
				dabs := make([]ClassicDab, 1+r.u8()%4)
				for i := range dabs {
					dabs[i] = ClassicDab{X: int8(r.u8()), Y: int8(r.u8()), Size: uint32(r.u16()), Hardness: r.u8(), Opacity: r.u8()}
				}
				cmd = func(c *Canvas) error { return c.DrawDabsClassic(ctx, fl, id, x, y, col, m, dabs) }
			case 4:
				id, sq, fl, x, y, col, m := layer(), r.u8()&1 != 0, r.u8(), int32(int8(r.u8())), int32(int8(r.u8())), r.u32(), mode()
				dabs := make([]PixelDab, 1+r.u8()%4)
				for i := range dabs {
					dabs[i] = PixelDab{X: int8(r.u8()), Y: int8(r.u8()), Size: uint16(r.u8()), Opacity: r.u8()}
				}
				cmd = func(c *Canvas) error { return c.DrawDabsPixel(ctx, sq, fl, id, x, y, col, m, dabs) }
			case 5:
				id := layer()
				if r.u8()&1 == 0 {
					id = 0
				}
				cmd = func(c *Canvas) error { return c.PenUp(ctx, id) }
			case 6:
				t, rr, b, l := int32(int8(r.u8())), int32(int8(r.u8())), int32(int8(r.u8())), int32(int8(r.u8()))
				if r.u8()&1 == 0 {
					t, l = t&^63, l&^63
				}
				if c.Width()+int(l+rr) > 300 || c.Height()+int(t+b) > 300 {
					continue // keep the per-step full-frame checks cheap
				}
				cmd = func(c *Canvas) error { return c.Resize(t, rr, b, l) }
			case 7:
				id, m, x, y := layer(), mode(), uint32(r.u8()), uint32(r.u8())
				w, h := uint32(r.u8()%20+1), uint32(r.u8()%20+1)
				pix := make([]byte, w*h*4)
				for i := 0; i < len(pix); i += 4 {
					a := r.u8()
					pix[i], pix[i+1], pix[i+2], pix[i+3] = min(r.u8(), a), min(r.u8(), a), min(r.u8(), a), a
				}
				cmd = func(c *Canvas) error { return c.PutImage(id, m, x, y, w, h, pix) }
			case 8:
				id, mt := layer(), layer()
				if r.u8()&1 == 0 {
					mt = 0
				}
				cmd = func(c *Canvas) error { return c.LayerTreeDelete(id, mt) }
			case 9:
				id, p, s := layer(), layer(), layer()
				if r.u8()&1 == 0 {
					p = 0
				}
				if r.u8()&1 == 0 {
					s = 0
				}
				cmd = func(c *Canvas) error { return c.LayerTreeMove(id, p, s) }
			case 10:
				c.UndoPoint(ctx)
				ref.UndoPoint(ctx)
				checkDirty(t, c, &frames)
				continue
			case 11:
				redo := r.u8()&1 != 0
				_ = c.Undo(ctx, 0, redo)
				_ = ref.Undo(ctx, 0, redo)
				checkDirty(t, c, &frames)
				continue
			case 12:
				id, sub, col, row, rep := layer(), r.u8()%3, uint16(r.u8()%3), uint16(r.u8()%3), uint16(r.u8()%4)
				var pix [TilePixels * 4]byte
				binary.BigEndian.PutUint32(pix[:], r.u32())
				tile := TileFrom8(pix[:], true)
				cmd = func(c *Canvas) error { return c.PutTile(id, sub, col, row, rep, tile) }
			case 13:
				col := r.u32()
				cmd = func(c *Canvas) error { c.SetBackground(SolidTile(col)); return nil }
			case 14:
				id, fl, x, y, col := layer(), r.u8(), int32(int16(r.u16())), int32(int16(r.u16())), r.u32()
				la, co, po, md := r.u8(), r.u8(), r.u8(), r.u8()
				dabs := make([]MyPaintDab, 1+r.u8()%3)
				for i := range dabs {
					dabs[i] = MyPaintDab{X: int8(r.u8()), Y: int8(r.u8()), Size: uint32(r.u16()), Hardness: r.u8(), Opacity: r.u8(), Angle: r.u8(), AspectRatio: r.u8()}
				}
				cmd = func(c *Canvas) error { return c.DrawDabsMyPaint(ctx, fl, id, x, y, col, la, co, po, md, dabs) }
			case 15:
				id, src := layer(), layer()
				sx, sy, tx, ty := int32(int8(r.u8())), int32(int8(r.u8())), int32(int8(r.u8())), int32(int8(r.u8()))
				w, h := int32(r.u8()%40), int32(r.u8()%40)
				m, op := mode(), r.u8()
				var mask []byte
				if r.u8()&1 == 0 && w > 0 && h > 0 {
					mask = make([]byte, w*h)
					for i := range mask {
						mask[i] = r.u8()
					}
				}
				cmd = func(c *Canvas) error { return c.MoveRect(id, src, sx, sy, tx, ty, w, h, m, op, mask) }
			case 16:
				id, src := layer(), layer()
				bx, by, bw, bh := int32(int8(r.u8())), int32(int8(r.u8())), int32(r.u8()%40), int32(r.u8()%40)
				var q [8]int32
				for i := range q {
					q[i] = int32(int8(r.u8()))
				}
				interp, m, op := r.u8()%3, mode(), r.u8()
				cmd = func(c *Canvas) error { return c.TransformRegion(id, src, bx, by, bw, bh, q, interp, m, op, nil) }
			case 17:
				sel, col, row, kind := 128+r.u8()%2, uint16(r.u8()%3), uint16(r.u8()%3), SelectionTileKind(r.u8()%3)
				var mask []byte
				if kind == SelectionMask {
					mask = make([]byte, TilePixels)
					v := r.u8()
					for i := range mask {
						mask[i] = v + byte(i)
					}
				}
				cmd = func(c *Canvas) error { return c.SyncSelectionTile(ctx, sel, col, row, kind, mask) }
			case 18:
				id, x, y, col, m := layer(), int32(int16(r.u16())), int32(int16(r.u16())), r.u32(), mode()
				fl := r.u8() // includes selection bits
				dabs := []ClassicDab{{Size: uint32(r.u16()), Hardness: r.u8(), Opacity: r.u8()}}
				cmd = func(c *Canvas) error { return c.DrawDabsClassic(ctx, fl, id, x, y, col, m, dabs) }
			}
			_ = c.Do(ctx, cmd)
			_ = ref.Do(ctx, cmd)
			checkDirty(t, c, &frames)
		}
		checkCanvas(t, c)
		checkSame(t, c, ref)
	})
}

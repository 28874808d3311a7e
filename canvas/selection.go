package canvas

// Selections (2.3, engine.md §3.4): a selection is a mask layer (alpha
// only) owned by (context id, selection id). Remote copies arrive as
// SyncSelectionTile; DrawDabs flags reference them as mask and flood
// selections.

// opaqueSelTile is the shared "fully selected" tile (DP_tile_opaque);
// masking with it is a no-op and it is compared by identity, as in C.
var opaqueSelTile = func() *Tile {
	t := &Tile{}
	for i := range t.Px {
		t.Px[i].A = One
	}
	return t
}()

func selKey(ctx, id uint8) uint16 { return uint16(ctx)<<8 | uint16(id) }

// SelectionTileKind says what a SyncSelectionTile carries.
type SelectionTileKind uint8

// Kinds of SyncSelectionTile payloads.
const (
	SelectionMask   SelectionTileKind = iota // 64×64 8-bit alpha mask
	SelectionBlank                           // nothing selected in the tile
	SelectionOpaque                          // whole tile selected
)

// SyncSelectionTile sets one tile of remote selection selID (≥ 128) of user
// ctx; col = row = 0xffff with a blank tile clears the selection. mask holds
// 4096 alpha bytes for SelectionMask.
func (c *Canvas) SyncSelectionTile(ctx, selID uint8, col, row uint16, kind SelectionTileKind, mask []byte) error {
	const op = "SyncSelectionTile"
	if selID < 128 {
		return cmdErr(op, "invalid selection id %d", selID)
	}
	key := selKey(ctx, selID)
	if col == 0xffff && row == 0xffff && kind == SelectionBlank {
		delete(c.st.selections, key)
		return nil
	}
	xt := c.st.xtiles()
	total := xt * c.st.ytiles()
	index := int(row)*xt + int(col)
	if index >= total {
		return cmdErr(op, "index %d beyond total %d", index, total)
	}
	var t *Tile
	switch kind {
	case SelectionOpaque:
		t = opaqueSelTile
	case SelectionMask:
		if len(mask) != TilePixels {
			return cmdErr(op, "mask has %d bytes", len(mask))
		}
		t = &Tile{}
		blank, opaque := true, true
		for i, a := range mask {
			t.Px[i].A = Conv8To15(a)
			blank = blank && a == 0
			opaque = opaque && a == 255
		}
		switch {
		case blank:
			t = nil
		case opaque:
			t = opaqueSelTile
		}
	}
	sel, ok := c.st.selections[key]
	if !ok {
		if t == nil {
			return nil
		}
		if c.st.selections == nil {
			c.st.selections = map[uint16][]*Tile{}
		}
		sel = make([]*Tile, total)
		c.st.selections[key] = sel
	}
	sel[index] = t
	return nil
}

// selectionFor resolves the mask (flags bits 3–5) or flood (bits 6–7)
// selection of a DrawDabs message.
func (c *Canvas) selectionFor(ctx uint8, n uint8, base uint8) ([]*Tile, bool) {
	if n == 0 {
		return nil, true
	}
	sel, ok := c.st.selections[selKey(ctx, base+n-1)]
	return sel, ok
}

// selTilesUnder calls fn for every canvas tile under the square stamp
// (left, top, d) clipped to the canvas.
func (c *Canvas) stampArea(left, top, d int) (x0, y0, x1, y1 int, ok bool) {
	x0, y0 = max(left, 0), max(top, 0)
	x1, y1 = min(left+d, c.st.w), min(top+d, c.st.h)
	return x0, y0, x1, y1, x0 < x1 && y0 < y1
}

// needsMask is needs_mask_lc: whether any selection tile under the stamp is
// not the shared opaque tile.
func (c *Canvas) needsMask(s stamp, sel []*Tile) bool {
	if sel == nil {
		return false
	}
	x0, y0, x1, y1, ok := c.stampArea(s.left, s.top, s.d)
	if !ok {
		return false
	}
	xt := c.st.xtiles()
	for ty := y0 / TileSize; ty <= (y1-1)/TileSize; ty++ {
		for tx := x0 / TileSize; tx <= (x1-1)/TileSize; tx++ {
			if sel[ty*xt+tx] != opaqueSelTile {
				return true
			}
		}
	}
	return false
}

// applySelMask is apply_mask_lc: zero stamp entries outside the canvas or
// over unselected tiles, scale the others by the selection alpha.
func (c *Canvas) applySelMask(data []uint16, s stamp, sel []*Tile) {
	x0, y0, x1, y1, _ := c.stampArea(s.left, s.top, s.d)
	xt := c.st.xtiles()
	for y := range s.d {
		cy := s.top + y
		row := data[y*s.d : (y+1)*s.d]
		for x := range row {
			cx := s.left + x
			if cy < y0 || cy >= y1 || cx < x0 || cx >= x1 {
				row[x] = 0
				continue
			}
			t := sel[(cy/TileSize)*xt+cx/TileSize]
			switch {
			case t == opaqueSelTile:
			case t == nil:
				row[x] = 0
			case row[x] != 0:
				row[x] = uint16(mul(uint32(row[x]), uint32(t.Px[(cy%TileSize)*TileSize+cx%TileSize].A)))
			}
		}
	}
}

// maskStamp applies the mask and flood selections to a stamp, copying its
// data into scratch first unless inPlace (the data is already a scratch
// buffer owned by this dab).
func (c *Canvas) maskStamp(s stamp, mask, flood []*Tile, inPlace bool) stamp {
	nm, nf := c.needsMask(s, mask), false
	if !nm {
		nf = c.needsMask(s, flood)
		if !nf {
			return s
		}
	}
	if !inPlace {
		buf := c.scratch(&c.selBuf, s.d*s.d)
		copy(buf, s.data[:s.d*s.d])
		s.data = buf
	}
	if nm {
		c.applySelMask(s.data, s, mask)
		nf = c.needsMask(s, flood)
	}
	if nf {
		c.applySelMask(s.data, s, flood)
	}
	return s
}

// maskTile multiplies src by the selection alpha of mt into dst
// (DP_mask_tile).
func maskTile(dst, src, mt *Tile) {
	for i, sp := range src.Px {
		ma := uint32(mt.Px[i].A)
		switch {
		case sp.A == 0 || ma == 0:
			dst.Px[i] = Pixel15{}
		case sp.A == One && ma == One:
			dst.Px[i] = sp
		default:
			dst.Px[i] = Pixel15{uint16(mul(uint32(sp.B), ma)), uint16(mul(uint32(sp.G), ma)), uint16(mul(uint32(sp.R), ma)), uint16(mul(uint32(sp.A), ma))}
		}
	}
}

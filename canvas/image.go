package canvas

// Image commands: FillRect, PutImage, PutTile (engine.md §3.2).

// FillRect fills a rectangle in mask context with mask = One and
// O = the colour's alpha (color is unpremultiplied 0xAARRGGBB).
func (c *Canvas) FillRect(layer uint32, mode BlendMode, x, y, w, h uint32, color uint32) error {
	const op = "FillRect"
	if !mode.ValidForBrush() {
		return cmdErr(op, "blend mode %d not valid for brushes", mode)
	}
	l, _, _ := findLayer(c.st.root, layer)
	if l == nil || l.Group {
		return cmdErr(op, "bad layer %#x", layer)
	}
	cw, ch := int64(c.st.w), int64(c.st.h)
	// x, y are cast to signed ints and clamped (engine.md §10.2 item 3)
	left, top := int64(int32(x)), int64(int32(y))
	right, bottom := left+int64(w), top+int64(h)
	left, top = max(left, 0), max(top, 0)
	right, bottom = min(right, cw), min(bottom, ch)
	if left >= right || top >= bottom {
		return cmdErr(op, "empty rectangle")
	}
	defer c.endCommand()
	c.fillRectRaw(l.tiles, mode, int(left), int(top), int(right), int(bottom), upixelFromARGB(color))
	return nil
}

// fillRectRaw is DP_transient_layer_content_fill_rect with the rectangle
// [left,right)×[top,bottom) clamped to the canvas; O = src.a.
func (c *Canvas) fillRectRaw(tiles []*Tile, mode BlendMode, left, top, right, bottom int, src upixel15) {
	cw, ch := c.st.w, c.st.h
	O := src.a
	if left == 0 && top == 0 && right == cw && bottom == ch &&
		(mode == ModeReplace || (mode == ModeNormal && src.a == One)) {
		t := c.solidTile(premPixel(src.b, src.g, src.r, src.a))
		for i := range tiles {
			tiles[i] = t
		}
		c.freeze()
		c.markAllDirty()
		return
	}
	left, top = max(left, 0), max(top, 0)
	right, bottom = min(right, cw), min(bottom, ch)
	if left >= right || top >= bottom {
		return
	}
	blank := mode.BlendsOntoBlank() && O != 0 && ((mode != ModeNormalAndEraser && mode != ModeReplace) || src.a != 0)
	xtiles := c.st.xtiles()
	var ones [TileSize]uint16
	for i := range ones {
		ones[i] = One
	}
	for ty := top / TileSize; ty <= (bottom-1)/TileSize; ty++ {
		cy := ty * TileSize
		for tx := left / TileSize; tx <= (right-1)/TileSize; tx++ {
			cx := tx * TileSize
			px := max(cx, left) - cx
			py := max(cy, top) - cy
			pw := min((tx+1)*TileSize, right) - cx - px
			ph := min((ty+1)*TileSize, bottom) - cy - py
			i := ty*xtiles + tx
			t := c.mutTile(tiles, i, blank)
			if t == nil {
				continue
			}
			for row := range ph {
				o := (py+row)*TileSize + px
				blendMask(t.Px[o:o+pw], src, mode, ones[:pw], O)
			}
			c.markDirty(i)
			if mode.DecreasesOpacity() {
				c.maybeBlank(tiles, i)
			}
		}
	}
}

// PutImage writes w×h premultiplied 8-bit pixels (bytes B,G,R,A per pixel,
// row-major) at (x, y) with the PutImage rules (engine.md §3.2). pix must
// hold w*h*4 bytes.
func (c *Canvas) PutImage(layer uint32, mode BlendMode, x, y, w, h uint32, pix []byte) error {
	const op = "PutImage"
	if mode == ModeCompatLocalMatch || mode == 252 {
		return nil
	}
	if modeTable[mode].fam == famNone && mode != ModeNormalAndEraser {
		return cmdErr(op, "unknown blend mode %d", mode)
	}
	if x > 0x7fffffff || y > 0x7fffffff || w > 0x7fffffff || h > 0x7fffffff || w == 0 || h == 0 {
		return cmdErr(op, "bad rectangle")
	}
	if uint64(len(pix)) != uint64(w)*uint64(h)*4 {
		return cmdErr(op, "image has %d bytes, want %d", len(pix), uint64(w)*uint64(h)*4)
	}
	l, _, _ := findLayer(c.st.root, layer)
	if l == nil || l.Group {
		return cmdErr(op, "bad layer %#x", layer)
	}
	defer c.endCommand()
	c.putPixels(l.tiles, mode, int(x), int(y), int(w), int(h), pix)
	return nil
}

// putPixels is DP_transient_layer_content_put_pixels: pix (w×h, 8-bit
// premultiplied B,G,R,A) is written at (left, top), clipped to the canvas.
func (c *Canvas) putPixels(tiles []*Tile, mode BlendMode, left, top, w, h int, pix []byte) {
	cw, ch := c.st.w, c.st.h
	x0, y0 := max(left, 0), max(top, 0)
	x1, y1 := min(left+w, cw), min(top+h, ch)
	if x0 >= x1 || y0 >= y1 {
		return
	}
	xtiles := c.st.xtiles()
	bb := mode.BlendsOntoBlank()
	for ty := y0 / TileSize; ty <= (y1-1)/TileSize; ty++ {
		for tx := x0 / TileSize; tx <= (x1-1)/TileSize; tx++ {
			i := ty*xtiles + tx
			present := tiles[i] != nil
			if !present && !bb {
				continue
			}
			var t *Tile
			sx0, sy0 := max(tx*TileSize, x0), max(ty*TileSize, y0)
			sx1, sy1 := min((tx+1)*TileSize, x1), min((ty+1)*TileSize, y1)
			for py := sy0; py < sy1; py++ {
				for px := sx0; px < sx1; px++ {
					o := ((py-top)*w + (px - left)) * 4
					b, g, r, a := pix[o], pix[o+1], pix[o+2], pix[o+3]
					p15 := Pixel15{Conv8To15(b), Conv8To15(g), Conv8To15(r), Conv8To15(a)}
					set := false
					switch mode {
					case ModeErase, ModeErasePreserve:
						if !present || a == 0 {
							continue
						}
						if a == 255 {
							p15, set = Pixel15{}, true
						} else {
							aa := Conv8To15(a)
							p15 = Pixel15{aa, aa, aa, aa}
						}
					case ModeNormal:
						if a == 0 {
							continue
						}
						set = a == 255
					case ModeNormalAndEraser:
						set = a == 255
					case ModeReplace:
						if !present && a == 0 {
							continue
						}
						set = true
					default:
						if a == 0 {
							continue
						}
					}
					if t == nil {
						t = c.mutTile(tiles, i, true)
						c.markDirty(i)
						if mode.DecreasesOpacity() {
							c.maybeBlank(tiles, i)
						}
					}
					di := (py-ty*TileSize)*TileSize + (px - tx*TileSize)
					if set {
						t.Px[di] = p15
					} else {
						t.Px[di] = blendPixel(t.Px[di], p15, mode, One)
					}
				}
			}
		}
	}
}

// PutTile replaces tiles start..start+repeat (row-major, clamped to the last
// tile) of a layer, or of (creating) sublayer sub, with t (nil = blank).
func (c *Canvas) PutTile(layer uint32, sub uint8, col, row, repeat uint16, t *Tile) error {
	const op = "PutTile"
	l, _, _ := findLayer(c.st.root, layer)
	if l == nil || l.Group {
		return cmdErr(op, "bad layer %#x", layer)
	}
	xt := c.st.xtiles()
	total := xt * c.st.ytiles()
	if int(col) >= xt {
		return cmdErr(op, "column %d out of bounds", col)
	}
	start := int(row)*xt + int(col)
	if start >= total {
		return cmdErr(op, "tile %d,%d out of bounds", col, row)
	}
	tiles := l.tiles
	if sub != 0 {
		sl := l.sublayer(int(sub))
		if sl == nil {
			sl = &sublayer{id: int(sub), tiles: make([]*Tile, len(l.tiles)), blend: ModeNormal, opacity: One}
			l.subs = append(l.subs, sl)
		}
		tiles = sl.tiles
	}
	if t != nil {
		t.gen = 0 // shared between indices: never written in place
	}
	end := min(start+int(repeat), total-1)
	for i := start; i <= end; i++ {
		tiles[i] = t
		c.markDirty(i)
	}
	return nil
}

// TileFrom8 decodes a 64×64 premultiplied 8-bit tile (B,G,R,A bytes,
// 16384 bytes), clamping colour channels to alpha when clamp is set.
func TileFrom8(pix []byte, clamp bool) *Tile {
	t := &Tile{shared: true}
	_ = pix[TilePixels*4-1]
	for i := range t.Px {
		o := i * 4
		t.Px[i] = pixelFrom8(pix[o], pix[o+1], pix[o+2], pix[o+3], clamp)
	}
	return t
}

// SolidTile returns a tile of one unpremultiplied 0xAARRGGBB colour.
func SolidTile(argb uint32) *Tile {
	p := pixelFromARGB(argb)
	t := &Tile{shared: true}
	for i := range t.Px {
		t.Px[i] = p
	}
	return t
}

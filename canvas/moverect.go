package canvas

// MoveRect and the selection helpers shared with TransformRegion
// (engine.md §3.2).

func blendModeExists(m BlendMode) bool {
	return modeTable[m].fam != famNone || m == ModeNormalAndEraser
}

// selectImage is DP_layer_content_select: the w×h rectangle at (x, y) of
// tiles as 8-bit premultiplied BGRA, scaled by opacity and the optional
// 8-bit mask (w×h); pixels outside the canvas or with mask 0 stay
// transparent.
func (c *Canvas) selectImage(tiles []*Tile, x, y, w, h int, mask []byte, opacity uint16) []byte {
	return c.selectSub(tiles, x, y, w, h, mask, w, opacity)
}

// selectSub is selectImage with a mask of row stride maskStride whose
// first element corresponds to (x, y).
func (c *Canvas) selectSub(tiles []*Tile, x, y, w, h int, mask []byte, maskStride int, opacity uint16) []byte {
	img := make([]byte, w*h*4)
	x0, y0 := max(x, 0), max(y, 0)
	x1, y1 := min(x+w, c.st.w), min(y+h, c.st.h)
	xt := c.st.xtiles()
	for py := y0; py < y1; py++ {
		for px := x0; px < x1; px++ {
			t := tiles[(py/TileSize)*xt+px/TileSize]
			if t == nil {
				continue
			}
			di := (py-y)*w + (px - x)
			mo := uint8(255)
			if mask != nil {
				mo = mask[(py-y)*maskStride+(px-x)]
			}
			if mo == 0 {
				continue
			}
			p := t.Px[(py%TileSize)*TileSize+px%TileSize]
			if opacity != One || mo != 255 {
				a := mul(uint32(opacity), uint32(Conv8To15(mo)))
				p = Pixel15{uint16(mul(uint32(p.B), a)), uint16(mul(uint32(p.G), a)), uint16(mul(uint32(p.R), a)), uint16(mul(uint32(p.A), a))}
			}
			img[di*4] = Conv15To8(p.B)
			img[di*4+1] = Conv15To8(p.G)
			img[di*4+2] = Conv15To8(p.R)
			img[di*4+3] = Conv15To8(p.A)
		}
	}
	return img
}

func (c *Canvas) moveTargets(op string, layer, source uint32) (src, dst *Layer, err error) {
	src, _, _ = findLayer(c.st.root, source)
	if src == nil || src.Group {
		return nil, nil, cmdErr(op, "invalid source %#x", source)
	}
	dst, _, _ = findLayer(c.st.root, layer)
	if dst == nil || dst.Group {
		return nil, nil, cmdErr(op, "invalid target %#x", layer)
	}
	return src, dst, nil
}

func rectsIntersect(x, y, w, h, cw, ch int) bool {
	return x < cw && y < ch && x+w > 0 && y+h > 0
}

// cutAndPaste is move_image: cut the source rectangle (by mask or
// entirely), then paste img at (ox, oy) on the destination.
func (c *Canvas) cutAndPaste(src, dst *Layer, x, y, w, h int, mask []byte, img []byte, iw, ih, ox, oy int, blend BlendMode) {
	if mask != nil {
		// erase by the mask, built only for the part inside the canvas
		x0, y0 := max(x, 0), max(y, 0)
		x1, y1 := min(x+w, c.st.w), min(y+h, c.st.h)
		if x0 < x1 && y0 < y1 {
			ww, hh := x1-x0, y1-y0
			mimg := make([]byte, ww*hh*4)
			for j := range hh {
				row := mask[(y0-y+j)*w+(x0-x):]
				for i := range ww {
					a := row[i]
					o := (j*ww + i) * 4
					mimg[o], mimg[o+1], mimg[o+2], mimg[o+3] = a, a, a, a
				}
			}
			c.putPixels(src.tiles, ModeErase, x0, y0, ww, hh, mimg)
		}
	} else {
		c.fillRectRaw(src.tiles, ModeReplace, x, y, x+w, y+h, upixel15{})
	}
	c.putPixels(dst.tiles, blend, ox, oy, iw, ih, img)
}

// MoveRect moves (copies and cuts) a rectangle of source to (tx, ty) on
// layer, through 8 bits per channel, with an optional w×h 8-bit mask.
func (c *Canvas) MoveRect(layer, source uint32, sx, sy, tx, ty, w, h int32, blend BlendMode, opacity uint8, mask []byte) error {
	const op = "MoveRect"
	if w <= 0 || h <= 0 {
		return cmdErr(op, "selection is empty")
	}
	if !rectsIntersect(int(sx), int(sy), int(w), int(h), c.st.w, c.st.h) {
		return cmdErr(op, "source out of bounds")
	}
	if !rectsIntersect(int(tx), int(ty), int(w), int(h), c.st.w, c.st.h) {
		return cmdErr(op, "destination out of bounds")
	}
	if !blendModeExists(blend) {
		return cmdErr(op, "unknown blend mode %d", blend)
	}
	if opacity == 0 {
		return cmdErr(op, "opacity is zero")
	}
	if mask != nil && len(mask) != int(w)*int(h) {
		return cmdErr(op, "mask has %d bytes, want %d", len(mask), int(w)*int(h))
	}
	src, dst, err := c.moveTargets(op, layer, source)
	if err != nil {
		return err
	}
	defer c.endCommand()
	// Only the part of the moved image that lands inside the canvas can
	// change anything, so select just that window: the result is the same
	// and a hostile w×h cannot make the engine allocate more than the
	// canvas size.
	ix0, iy0 := max(0, -int(tx)), max(0, -int(ty))
	ix1, iy1 := min(int(w), c.st.w-int(tx)), min(int(h), c.st.h-int(ty))
	var img []byte
	var sub []byte
	if mask != nil {
		sub = mask[iy0*int(w)+ix0:]
	}
	iw, ih := ix1-ix0, iy1-iy0
	img = c.selectSub(src.tiles, int(sx)+ix0, int(sy)+iy0, iw, ih, sub, int(w), Conv8To15(opacity))
	c.cutAndPaste(src, dst, int(sx), int(sy), int(w), int(h), mask, img, iw, ih, int(tx)+ix0, int(ty)+iy0, blend)
	return nil
}

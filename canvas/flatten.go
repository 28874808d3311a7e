package canvas

import (
	"image"
)

type flattenOpts struct {
	sublayers      bool // include in-progress indirect strokes
	revealCensored bool // ignore the censor flag (group collapse)
}

// censorTile is the diagonal stripe pattern drawn instead of censored
// content (engine.md §1.7).
var censorTile = func() *Tile {
	t := &Tile{}
	a := Pixel15{4497, 4883, 5268, One}
	b := Pixel15{10151, 10280, 10408, One}
	for y := range TileSize {
		for x := range TileSize {
			if ((x+y)/32)%2 == 0 {
				t.Px[y*TileSize+x] = a
			} else {
				t.Px[y*TileSize+x] = b
			}
		}
	}
	return t
}()

func (c *Canvas) visible(l *Layer, parentOpacity uint32) (uint32, bool) {
	if parentOpacity == 0 || l.Opacity == 0 || c.hidden[l.ID] {
		return 0, false
	}
	return mul(parentOpacity, uint32(l.Opacity)), true
}

func effMode(m BlendMode, clip bool) BlendMode {
	if clip {
		return clipMode(m)
	}
	return m
}

// flattenList composites a layer list onto dst (DP_layer_list_flatten_tile_to).
// have says whether dst holds a tile (vs. C's NULL); the result says whether
// it does afterwards. When have is false dst must be all zero.
func (c *Canvas) flattenList(dst *[TilePixels]Pixel15, list []*Layer, ti int, parentOpacity uint32, ptCensored, clip bool, o flattenOpts) bool {
	return c.flattenListHave(dst, false, list, ti, parentOpacity, ptCensored, clip, o)
}

func (c *Canvas) flattenListHave(dst *[TilePixels]Pixel15, have bool, list []*Layer, ti int, parentOpacity uint32, ptCensored, clip bool, o flattenOpts) bool {
	for i := 0; i < len(list); i++ {
		l := list[i]
		clipCount := 0
		if !l.Group || l.Isolated {
			for j := i + 1; j < len(list) && list[j].Clip; j++ {
				clipCount++
			}
		}
		if clipCount == 0 {
			have = c.flattenEntryHave(dst, have, l, ti, parentOpacity, ptCensored, clip, o)
			continue
		}
		base := *l
		base.Blend = ModeNormal
		base.Opacity = One
		base.Censored = false
		var tmp Tile
		ch := c.flattenEntryHave(&tmp.Px, false, &base, ti, One, false, false, o)
		if ch {
			for j := 1; j <= clipCount; j++ {
				ch = c.flattenEntryHave(&tmp.Px, ch, list[i+j], ti, One, false, true, o)
			}
			if eff, ok := c.visible(l, parentOpacity); ok {
				have = true
				if l.Censored && !o.revealCensored {
					blendTile(dst, &censorTile.Px, eff, l.Blend)
				} else {
					blendTile(dst, &tmp.Px, eff, l.Blend)
				}
			}
		}
		i += clipCount
	}
	return have
}

func (c *Canvas) flattenEntry(dst *[TilePixels]Pixel15, l *Layer, ti int, parentOpacity uint32, ptCensored, clip bool, o flattenOpts, have bool) bool {
	return c.flattenEntryHave(dst, have, l, ti, parentOpacity, ptCensored, clip, o)
}

func (c *Canvas) flattenEntryHave(dst *[TilePixels]Pixel15, have bool, l *Layer, ti int, parentOpacity uint32, ptCensored, clip bool, o flattenOpts) bool {
	eff, ok := c.visible(l, parentOpacity)
	if !ok {
		return have
	}
	censored := ptCensored || (l.Censored && !o.revealCensored)
	if l.Group {
		if !l.Isolated {
			return c.flattenListHave(dst, have, l.Children, ti, eff, censored, clip, o)
		}
		var tmp Tile
		if !c.flattenList(&tmp.Px, l.Children, ti, One, false, false, o) {
			return have
		}
		if censored {
			blendTile(dst, &censorTile.Px, eff, effMode(l.Blend, clip))
		} else {
			blendTile(dst, &tmp.Px, eff, effMode(l.Blend, clip))
		}
		return true
	}
	t := l.tiles[ti]
	mode := effMode(l.Blend, clip)
	if censored {
		show := t != nil
		if !show && o.sublayers {
			for _, s := range l.subs {
				if s.tiles[ti] != nil {
					show = true
					break
				}
			}
		}
		if !show {
			return have
		}
		blendTile(dst, &censorTile.Px, eff, mode)
		return true
	}
	if !o.sublayers || len(l.subs) == 0 {
		if t == nil {
			return have
		}
		blendTile(dst, &t.Px, eff, mode)
		return true
	}
	var tmp Tile
	th := false
	if t != nil {
		tmp.Px = t.Px
		th = true
	}
	var masked *Tile
	for _, s := range l.subs {
		st := s.tiles[ti]
		if st == nil || s.opacity == 0 {
			continue
		}
		if s.mask != nil {
			mt := s.mask[ti]
			if mt == nil {
				continue
			}
			if mt != opaqueSelTile {
				if masked == nil {
					masked = &Tile{}
				}
				maskTile(masked, st, mt)
				st = masked
			}
		}
		blendTile(&tmp.Px, &st.Px, uint32(s.opacity), s.blend)
		th = true
	}
	if !th {
		return have
	}
	blendTile(dst, &tmp.Px, eff, mode)
	return true
}

// FlattenTile composites tile ti (row*xtiles + col) of the canvas into dst:
// background, then every visible layer including in-progress strokes.
func (c *Canvas) FlattenTile(dst *[TilePixels]Pixel15, ti int) {
	if c.st.bg != nil {
		*dst = c.st.bg.Px
	} else {
		*dst = [TilePixels]Pixel15{}
	}
	c.flattenListHave(dst, true, c.st.root, ti, One, false, false, flattenOpts{sublayers: true})
}

// needsCheckerboard reproduces drawpile-cmd's rule for compositing its grey
// checkerboard under the canvas (vectors/render/README.md).
func (c *Canvas) needsCheckerboard() bool {
	if !c.st.bgOpaque {
		return true
	}
	var look func(list []*Layer) bool
	look = func(list []*Layer) bool {
		for _, l := range list {
			if l.Group && !l.Isolated {
				if look(l.Children) {
					return true
				}
				continue
			}
			if l.Blend.DecreasesOpacity() {
				return true
			}
		}
		return false
	}
	return look(c.st.root)
}

var checkerTile = func() *Tile {
	t := &Tile{}
	dark := Pixel15{Conv8To15(0x64), Conv8To15(0x64), Conv8To15(0x64), One}
	light := Pixel15{Conv8To15(0x87), Conv8To15(0x87), Conv8To15(0x87), One}
	for y := range TileSize {
		for x := range TileSize {
			if (x < 32) != (y < 32) {
				t.Px[y*TileSize+x] = light
			} else {
				t.Px[y*TileSize+x] = dark
			}
		}
	}
	return t
}()

// RenderOptions selects how Render converts the canvas.
type RenderOptions struct {
	// Checkerboard composites drawpile-cmd's grey checkerboard under the
	// canvas when its rule says so (transparent background or a root layer
	// with an opacity-decreasing mode).
	Checkerboard bool
}

// Render flattens the whole canvas to an 8-bit, non-premultiplied image
// (Qt's unpremultiply table, as drawpile-cmd writes PNGs).
func (c *Canvas) Render(opt RenderOptions) *image.NRGBA {
	checker := opt.Checkerboard && c.needsCheckerboard()
	return c.renderTiles(func(dst *[TilePixels]Pixel15, ti int) {
		c.FlattenTile(dst, ti)
		if checker {
			blendTile(dst, &checkerTile.Px, One, ModeBehind)
		}
	})
}

// RenderTileRGBA writes tile ti as 64×64 premultiplied 8-bit RGBA
// (4·64·64 bytes, row-major) for viewers that upload dirty tiles.
func (c *Canvas) RenderTileRGBA(dst []byte, ti int) {
	var buf [TilePixels]Pixel15
	c.FlattenTile(&buf, ti)
	_ = dst[TilePixels*4-1]
	for i, p := range buf {
		o := dst[i*4 : i*4+4 : i*4+4]
		o[0] = Conv15To8(p.R)
		o[1] = Conv15To8(p.G)
		o[2] = Conv15To8(p.B)
		o[3] = Conv15To8(p.A)
	}
}

// LayerImage returns the pixels of pixel layer id, including in-progress
// indirect strokes, as non-premultiplied 8-bit RGBA (the layer's own
// opacity, blend mode and censoring are not applied). It is meant for
// layered exports such as OpenRaster.
func (c *Canvas) LayerImage(id uint32) (*image.NRGBA, error) {
	l, _, _ := findLayer(c.st.root, id)
	if l == nil || l.Group {
		return nil, cmdErr("LayerImage", "no pixel layer %#x", id)
	}
	plain := *l
	plain.Opacity, plain.Blend, plain.Censored, plain.Clip = One, ModeNormal, false, false
	return c.renderTiles(func(dst *[TilePixels]Pixel15, ti int) {
		*dst = [TilePixels]Pixel15{}
		c.flattenEntryHave(dst, true, &plain, ti, One, false, false, flattenOpts{sublayers: true, revealCensored: true})
	}), nil
}

// BackgroundImage returns the background tile repeated over the canvas as
// non-premultiplied 8-bit RGBA, or nil if the canvas has no background.
func (c *Canvas) BackgroundImage() *image.NRGBA {
	if c.st.bg == nil {
		return nil
	}
	return c.renderTiles(func(dst *[TilePixels]Pixel15, _ int) { *dst = c.st.bg.Px })
}

func (c *Canvas) renderTiles(tile func(dst *[TilePixels]Pixel15, ti int)) *image.NRGBA {
	w, h := c.st.w, c.st.h
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	var buf [TilePixels]Pixel15
	xt, yt := c.st.xtiles(), c.st.ytiles()
	for ty := range yt {
		for tx := range xt {
			tile(&buf, ty*xt+tx)
			x0, y0 := tx*TileSize, ty*TileSize
			for y := 0; y < TileSize && y0+y < h; y++ {
				row := img.Pix[(y0+y)*img.Stride+x0*4:]
				for x := 0; x < TileSize && x0+x < w; x++ {
					p := buf[y*TileSize+x]
					a := Conv15To8(p.A)
					o := row[x*4 : x*4+4 : x*4+4]
					o[0] = unpremultiply8(Conv15To8(p.R), a)
					o[1] = unpremultiply8(Conv15To8(p.G), a)
					o[2] = unpremultiply8(Conv15To8(p.B), a)
					o[3] = a
				}
			}
		}
	}
	return img
}

// LayerHidden reports the local visibility state of a layer (LocalChange).
func (c *Canvas) LayerHidden(id uint32) bool { return c.hidden[id] }

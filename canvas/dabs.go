package canvas

import (
	"math"
	"sync"

	"drawbridge/protocol"
)

// Brush dab rendering (engine.md §4).

// Dab size limits.
const (
	maxClassicSize = 1000 * 256 // classic/MyPaint size field (diameter·256)
	maxPixelSize   = 1000
)

// ClassicDab is one soft round dab. X, Y are deltas from the previous dab in
// quarter pixels; Size is the diameter·256.
type ClassicDab = protocol.ClassicDab

// PixelDab is one aliased dab. X, Y are deltas in whole pixels; Size is the
// diameter in pixels.
type PixelDab = protocol.PixelDab

// classic hardness LUTs, generated lazily per scaled hardness 0..100.
const (
	classicLUTRadius = 128
	classicLUTSize   = classicLUTRadius * classicLUTRadius
)

// classicLUTs are computed on first use; several canvases may draw in
// different goroutines (the bridge's mirrors), so each table is built
// under its own sync.Once and read-only afterwards.
var (
	classicLUTs    [101][]uint16
	classicLUTOnce [101]sync.Once
)

// classicLUTPatches are the entries where Go's math.Pow differs from glibc's
// pow (engine.md §10.1): {hardness, index, C value}.
var classicLUTPatches = [][3]int{
	{40, 8788, 11136}, {80, 12800, 12768}, {80, 13056, 11960},
	{80, 15360, 3968}, {84, 9216, 24992}, {84, 12544, 15961},
}

func classicLUT(h int) []uint16 {
	classicLUTOnce[h].Do(func() { classicLUTs[h] = makeClassicLUT(h) })
	return classicLUTs[h]
}

func makeClassicLUT(h int) []uint16 {
	l := make([]uint16, classicLUTSize)
	hh := 1.0 - float64(h)/100.0
	e := 0.4 / hh
	if hh < 0.0000004 {
		e = 1000000.0
	}
	for i := range l {
		d := 1.0 - math.Pow(math.Pow(math.Sqrt(float64(i))/classicLUTRadius, e), 2.0)
		l[i] = d2u16(d * One)
	}
	for _, p := range classicLUTPatches {
		if p[0] == h {
			l[p[1]] = uint16(p[2])
		}
	}
	return l
}

// stamp is a square brush mask placed at (left, top).
type stamp struct {
	left, top, d int
	data         []uint16 // d*d
}

func sq32(x float32) float32 { return float32(x * x) }

// classicMask computes the unshifted classic mask for diameter diam
// (engine.md §4.3) into buf and returns the stamp (origin offsets only).
func classicMask(buf []uint16, diam float32, h int) stamp {
	lut := classicLUT(h)
	if diam < 8 {
		rawD := int(float32(math.Ceil(float64(diam))) + 2)
		rawOff := (float32(math.Ceil(float64(diam))) - diam) / -2
		var d int
		var off float32
		if rawD%2 == 0 {
			d, off = rawD+1, rawOff-2.5
		} else {
			d, off = rawD, rawOff-1.5
		}
		scale := sq32((classicLUTRadius - 1.0) / diam)
		data := buf[:d*d]
		// the squared offsets depend on x or y only: compute them once
		// (same float operations in the same order as per pixel)
		var sq0, sq1 [16]float32 // d ≤ 11 here
		for i := range d {
			i2 := float32(i * 2)
			sq0[i] = sq32(float32(i2-diam) + off)
			sq1[i] = sq32(float32(float32(i2+1)-diam) + off)
		}
		k := 0
		for y := range d {
			yy0, yy1 := sq0[y], sq1[y]
			for x := range d {
				xx0, xx1 := sq0[x], sq1[x]
				acc := lutAt(lut, float32(xx0+yy0)*scale) + lutAt(lut, float32(xx0+yy1)*scale) +
					lutAt(lut, float32(xx1+yy0)*scale) + lutAt(lut, float32(xx1+yy1)*scale)
				data[k] = uint16(acc / 4)
				k++
			}
		}
		return stamp{left: -(d / 2), top: -(d / 2), d: d, data: data}
	}
	r := diam / 2
	rawD := int(float32(math.Ceil(float64(diam))) + 2)
	var d int
	var off float32
	even := rawD%2 == 0
	if even {
		d, off = rawD+1, -1
	} else {
		d, off = rawD, -0.5
	}
	var fudge float32 = 1
	if r < 4 {
		fudge = 0.8
	} else if even && r < 8 {
		fudge = 0.9
	}
	scale := sq32((classicLUTRadius - 1.0) / r)
	data := buf[:d*d]
	var sqBuf [256]float32 // squared offset per row/column, as in the per-pixel expression
	var sq []float32
	if d <= len(sqBuf) {
		sq = sqBuf[:d]
	} else {
		sq = make([]float32, d)
	}
	for i := range d {
		sq[i] = sq32(float32(float32(i)-r) + off)
	}
	k := 0
	for y := range d {
		yy := sq[y]
		row := data[k : k+d]
		for x, xx := range sq {
			dist := float32(float32(float32(xx+yy)*fudge) * scale)
			row[x] = lutAt16(lut, dist)
		}
		k += d
	}
	return stamp{left: -(d / 2), top: -(d / 2), d: d, data: data}
}

func lutAt(lut []uint16, dist float32) uint32 {
	i := f2i(dist)
	if i < classicLUTSize {
		return uint32(lut[i])
	}
	return 0
}

func lutAt16(lut []uint16, dist float32) uint16 {
	i := f2i(dist)
	if i < classicLUTSize {
		return lut[i]
	}
	return 0
}

// f2i is C's (int) cast of a non-negative float, saturating instead of UB.
func f2i(f float32) int {
	if !(f < 2147483647) {
		return math.MaxInt32
	}
	return int(f)
}

// offsetMask shifts a classic mask by a quarter-pixel phase (engine.md §4.3).
func offsetMask(dst, src []uint16, d int, xf, yf uint32) {
	k0 := xf * yf
	k1 := (4 - xf) * yf
	k2 := xf * (4 - yf)
	k3 := (4 - xf) * (4 - yf)
	dst = dst[:d*d]
	src = src[:d*d]
	// row 0: only the k2/k3 terms (the row above is outside the mask)
	r1 := src[:d]
	out := dst[:d]
	out[0] = uint16((uint32(r1[0]) * k3) / 16)
	for x := 1; x < d; x++ {
		out[x] = uint16((uint32(r1[x-1])*k2 + uint32(r1[x])*k3) / 16)
	}
	for y := 1; y < d; y++ {
		r0 := src[(y-1)*d : y*d]
		r1 := src[y*d : (y+1)*d]
		out := dst[y*d : (y+1)*d]
		out[0] = uint16((uint32(r0[0])*k1 + uint32(r1[0])*k3) / 16)
		for x := 1; x < len(out) && x < len(r0) && x < len(r1); x++ {
			out[x] = uint16((uint32(r0[x-1])*k0 + uint32(r0[x])*k1 + uint32(r1[x-1])*k2 + uint32(r1[x])*k3) / 16)
		}
	}
}

// applyStamp blends a stamp into tiles (engine.md §4.6): tiles are visited
// only inside the canvas, but within a visited tile the whole remaining stamp
// is written, including the off-canvas part of edge tiles.
func (c *Canvas) applyStamp(tiles []*Tile, s stamp, src upixel15, mode BlendMode, O uint32) {
	blank := mode.BlendsOntoBlank() && O != 0 && ((mode != ModeNormalAndEraser && mode != ModeReplace) || src.a != 0)
	decrease := mode.DecreasesOpacity()
	// This loop duplicates applyStampSpans without the per-row closure call:
	// it is the hot path of every brush stroke.
	width, height := c.st.w, c.st.h
	top, left, d := s.top, s.left, s.d
	if left+d <= 0 || top+d <= 0 || left >= width || top >= height {
		return
	}
	bottom := min(top+d, height)
	right := min(left+d, width)
	xtiles := c.st.xtiles()
	y, yb := max(top, 0), 0
	if top < 0 {
		yb = -top
	}
	x0, xb0 := max(left, 0), 0
	if left < 0 {
		xb0 = -left
	}
	for y < bottom {
		yi := y / TileSize
		yt := y - yi*TileSize
		hb := TileSize - yt
		if yt+d-yb < TileSize {
			hb = d - yb
		}
		x, xb := x0, xb0
		for x < right {
			xi := x / TileSize
			xt := x - xi*TileSize
			wb := TileSize - xt
			if xt+d-xb < TileSize {
				wb = d - xb
			}
			moff := yb*d + xb
			i := xtiles*yi + xi
			x = (xi + 1) * TileSize
			xb += wb
			t := c.mutTile(tiles, i, blank)
			if t == nil {
				continue
			}
			for row := range hb {
				po := (yt+row)*TileSize + xt
				mo := moff + row*d
				blendMask(t.Px[po:po+wb], src, mode, s.data[mo:mo+wb], O)
			}
			c.markDirty(i)
			if decrease {
				c.maybeBlank(tiles, i)
			}
		}
		y = (yi + 1) * TileSize
		yb += hb
	}
}

// applyStampFn runs fn over every stamp row span inside existing tiles.
func (c *Canvas) applyStampFn(tiles []*Tile, s stamp, blank bool, fn func(dst []Pixel15, mask []uint16)) {
	c.applyStampSpans(tiles, s, blank, false, fn)
}

func (c *Canvas) applyStampSpans(tiles []*Tile, s stamp, blank, decrease bool, fn func(dst []Pixel15, mask []uint16)) {
	width, height := c.st.w, c.st.h
	top, left, d := s.top, s.left, s.d
	if left+d <= 0 || top+d <= 0 || left >= width || top >= height {
		return
	}
	bottom := min(top+d, height)
	right := min(left+d, width)
	xtiles := c.st.xtiles()
	y, yb := max(top, 0), 0
	if top < 0 {
		yb = -top
	}
	x0, xb0 := max(left, 0), 0
	if left < 0 {
		xb0 = -left
	}
	for y < bottom {
		yi := y / TileSize
		yt := y - yi*TileSize
		hb := TileSize - yt
		if yt+d-yb < TileSize {
			hb = d - yb
		}
		x, xb := x0, xb0
		for x < right {
			xi := x / TileSize
			xt := x - xi*TileSize
			wb := TileSize - xt
			if xt+d-xb < TileSize {
				wb = d - xb
			}
			moff := yb*d + xb
			i := xtiles*yi + xi
			x = (xi + 1) * TileSize
			xb += wb
			t := c.mutTile(tiles, i, blank)
			if t == nil {
				continue
			}
			for row := range hb {
				po := (yt+row)*TileSize + xt
				mo := moff + row*d
				fn(t.Px[po:po+wb], s.data[mo:mo+wb])
			}
			c.markDirty(i)
			if decrease {
				c.maybeBlank(tiles, i)
			}
		}
		y = (yi + 1) * TileSize
		yb += hb
	}
}

// maybeBlank records a tile that may have become fully transparent; it is
// dropped at the end of the command (engine.md §1.1).
func (c *Canvas) maybeBlank(tiles []*Tile, i int) {
	c.blankCheck = append(c.blankCheck, tileRef{tiles, i})
}

type tileRef struct {
	tiles []*Tile
	i     int
}

// endCommand drops tiles that ended up all zero.
func (c *Canvas) endCommand() {
	for _, r := range c.blankCheck {
		if t := r.tiles[r.i]; t != nil && t.gen == c.gen && isAllZero(t) {
			r.tiles[r.i] = nil
			// not frozen, so no saved state holds it; a shared tile may
			// still sit at other positions
			c.recycle(t)
		}
	}
	c.blankCheck = c.blankCheck[:0]
}

// dabParams are the per-message fields shared by all dab types.
type dabParams struct {
	ctx       uint8
	layer     uint32
	x, y      int32
	color     uint32 // 0xAARRGGBB
	mode      BlendMode
	paintMode uint8 // 0 direct, 1 indirect wash, 2 indirect soft, 3 indirect normal
	flags     uint8 // message flags (selection bits 3–7)
}

// dabTarget is where a DrawDabs message paints.
type dabTarget struct {
	tiles       []*Tile
	mode        BlendMode
	mask, flood []*Tile // selections masking each dab (nil = none)
}

// dabTiles resolves the tiles that a DrawDabs message paints into, creating
// the sender's sublayer for indirect strokes (engine.md §4.2), the blend
// mode to draw with and the selection masks.
func (c *Canvas) dabTiles(op string, p *dabParams, myPaintIndirect bool) (dabTarget, error) {
	if !p.mode.ValidForBrush() {
		return dabTarget{}, cmdErr(op, "blend mode %d not valid for brushes", p.mode)
	}
	l, _, _ := findLayer(c.st.root, p.layer)
	if l == nil || l.Group {
		return dabTarget{}, cmdErr(op, "bad layer id %#x", p.layer)
	}
	mask, ok := c.selectionFor(p.ctx, (p.flags>>3)&7, 128)
	if !ok {
		return dabTarget{}, cmdErr(op, "bad mask selection")
	}
	flood, ok := c.selectionFor(p.ctx, p.flags>>6, 192)
	if !ok {
		return dabTarget{}, cmdErr(op, "bad flood selection")
	}
	var ind BlendMode
	switch p.paintMode {
	case 0:
		return dabTarget{l.tiles, p.mode, mask, flood}, nil
	case 1:
		ind = ModeCompareDensity
	case 2:
		ind = ModeCompareDensitySoft
	default:
		ind = ModeNormal
	}
	sid := int(p.ctx)
	sl := l.sublayer(sid)
	rgb := p.color & 0xffffff
	if sl == nil {
		sl = &sublayer{id: sid, tiles: make([]*Tile, len(l.tiles)), blend: p.mode,
			opacity: Conv8To15(uint8(p.color >> 24)), color: rgb}
		l.subs = append(l.subs, sl) // no visible change until dabs land
		if mask != nil {
			sl.mask = mask
		}
	} else if !myPaintIndirect && (ind == ModeCompareDensity || ind == ModeCompareDensitySoft) {
		if sl.colorChanged || rgb != sl.color {
			sl.colorChanged = true
			if ind == ModeCompareDensity {
				ind = ModeMarkerAlphaWash
			} else {
				ind = ModeMarkerAlpha
			}
		}
	}
	if mask != nil {
		sl.mask = mask
	}
	return dabTarget{sl.tiles, ind, nil, flood}, nil
}

// DrawDabsClassic draws soft round dabs (message DrawDabsClassic).
func (c *Canvas) DrawDabsClassic(ctx uint8, flags uint8, layer uint32, x, y int32, color uint32, mode BlendMode, dabs []ClassicDab) error {
	const op = "DrawDabsClassic"
	if len(dabs) == 0 {
		return cmdErr(op, "no dabs")
	}
	p := dabParams{ctx: ctx, layer: layer, x: x, y: y, color: color, mode: mode, paintMode: flags & 3, flags: flags}
	dt, err := c.dabTiles(op, &p, false)
	if err != nil {
		return err
	}
	tiles, bm := dt.tiles, dt.mode
	defer c.endCommand()
	maxSize := uint32(0)
	for _, d := range dabs {
		maxSize = max(maxSize, min(d.Size, maxClassicSize))
	}
	if maxSize == 0 {
		return nil
	}
	n := int(float32(maxSize)/256+4) + 1
	mask := c.scratch(&c.maskBuf, n*n)
	off := c.scratch(&c.offBuf, n*n)
	src := upixelFromARGB(color)
	lastX, lastY := int(x), int(y)
	lastSize, lastH := uint32(0), -1
	var ms stamp
	for _, d := range dabs {
		cx, cy := lastX+int(d.X), lastY+int(d.Y)
		lastX, lastY = cx, cy
		size := min(d.Size, maxClassicSize)
		diam := float32(size) / 256
		if !(diam >= 0.1) || d.Opacity == 0 {
			continue
		}
		h := int(d.Hardness) * 100 / 255
		if size != lastSize || h != lastH {
			lastSize, lastH = size, h
			ms = classicMask(mask, diam, h)
		}
		s := stamp{left: ms.left + cx/4, top: ms.top + cy/4, d: ms.d, data: ms.data}
		if h == 100 || s.d < 48 {
			xf, yf := uint32(cx&3), uint32(cy&3)
			if xf < 2 {
				xf += 2
				s.left--
			} else {
				xf -= 2
			}
			if yf < 2 {
				yf += 2
				s.top--
			} else {
				yf -= 2
			}
			offsetMask(off, ms.data, s.d, xf, yf)
			s.data = off[:s.d*s.d]
			s = c.maskStamp(s, dt.mask, dt.flood, true)
		} else {
			s = c.maskStamp(s, dt.mask, dt.flood, false)
		}
		c.applyStamp(tiles, s, src, bm, uint32(Conv8To15(d.Opacity)))
	}
	return nil
}

func (c *Canvas) scratch(buf *[]uint16, n int) []uint16 {
	if cap(*buf) < n {
		*buf = make([]uint16, n)
	}
	return (*buf)[:n]
}

// DrawDabsPixel draws aliased round (square=false) or square dabs.
func (c *Canvas) DrawDabsPixel(ctx uint8, square bool, flags uint8, layer uint32, x, y int32, color uint32, mode BlendMode, dabs []PixelDab) error {
	op := "DrawDabsPixel"
	if square {
		op = "DrawDabsPixelSquare"
	}
	if len(dabs) == 0 {
		return cmdErr(op, "no dabs")
	}
	p := dabParams{ctx: ctx, layer: layer, x: x, y: y, color: color, mode: mode, paintMode: flags & 3, flags: flags}
	dt, err := c.dabTiles(op, &p, false)
	if err != nil {
		return err
	}
	tiles, bm := dt.tiles, dt.mode
	defer c.endCommand()
	maxD := 0
	for _, d := range dabs {
		maxD = max(maxD, int(min(d.Size, maxPixelSize)))
	}
	if maxD == 0 {
		return nil
	}
	buf := c.scratch(&c.maskBuf, maxD*maxD)
	src := upixelFromARGB(color)
	lastX, lastY := int(x), int(y)
	lastD := -1
	for _, d := range dabs {
		cx, cy := lastX+int(d.X), lastY+int(d.Y)
		lastX, lastY = cx, cy
		dia := int(min(d.Size, maxPixelSize))
		if dia == 0 || d.Opacity == 0 {
			continue
		}
		data := buf[:dia*dia]
		if dia != lastD {
			lastD = dia
			if square {
				for i := range data {
					data[i] = One
				}
			} else {
				r := float32(dia) / 2
				rr := sq32(r)
				for yy := range dia {
					dy := sq32(float32(float32(yy)-r) + 0.5)
					for xx := range dia {
						dx := sq32(float32(float32(xx)-r) + 0.5)
						v := uint16(0)
						if float32(dx+dy) <= rr {
							v = One
						}
						data[yy*dia+xx] = v
					}
				}
			}
		}
		s := stamp{left: cx - dia/2, top: cy - dia/2, d: dia, data: data}
		s = c.maskStamp(s, dt.mask, dt.flood, false)
		c.applyStamp(tiles, s, src, bm, uint32(Conv8To15(d.Opacity)))
	}
	return nil
}

// PenUp merges the sender's indirect stroke into its layer: on layer, or on
// all layers when layer is 0. ctx 0 merges every user's strokes.
func (c *Canvas) PenUp(ctx uint8, layer uint32) error {
	defer c.endCommand()
	merge := func(l *Layer) {
		if l.Group || len(l.subs) == 0 {
			return
		}
		kept := l.subs[:0:0]
		for _, s := range l.subs {
			if ctx != 0 && s.id != int(ctx) {
				kept = append(kept, s)
				continue
			}
			c.mergeSublayer(l, s)
		}
		l.subs = kept
	}
	if layer == 0 {
		walkLayers(c.st.root, merge)
		return nil
	}
	l, _, _ := findLayer(c.st.root, layer)
	if l == nil {
		return cmdErr("PenUp", "layer %#x not found", layer)
	}
	merge(l)
	return nil
}

func (c *Canvas) mergeSublayer(l *Layer, s *sublayer) {
	blank := s.blend.BlendsOntoBlank() && s.opacity != 0
	var tmp *Tile
	for i, st := range s.tiles {
		if st == nil {
			continue
		}
		if s.mask != nil {
			mt := s.mask[i]
			if mt == nil {
				continue
			}
			if mt != opaqueSelTile {
				if tmp == nil {
					tmp = &Tile{}
				}
				maskTile(tmp, st, mt)
				st = tmp
			}
		}
		t := c.mutTile(l.tiles, i, blank)
		if t == nil {
			continue
		}
		blendTile(&t.Px, &st.Px, uint32(s.opacity), s.blend)
		c.markDirty(i)
		if s.blend.DecreasesOpacity() {
			c.maybeBlank(l.tiles, i)
		}
	}
}

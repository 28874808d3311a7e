package canvas

import "math"

// TransformRegion (engine.md §3.2, §3.5): the selected 8-bit image is
// mapped onto a destination quad with a projective transform, rasterized
// with a port of Qt's gray raster (FreeType's "smooth" anti-aliasing
// rasterizer) for coverage, fetched with Qt-style nearest or bilinear
// interpolation and composited with 8-bit source-over.

// Interpolation modes of TransformRegion.
const (
	InterpolationNearest  = 0
	InterpolationBilinear = 1
)

// maxTransformArea bounds the transformed image (DP_IMAGE_TRANSFORM_MAX_AREA).
const maxTransformArea = 35000000

// xform is a 3×3 projective matrix in Drawpile's (Qt's) row-vector layout.
type xform [9]float64

func f64(x float64) float64 { return x } // marks a product that must not be fused

func xmul(a, b xform) xform {
	r := func(i, j int) float64 {
		return f64(f64(a[i]*b[j])+f64(a[i+1]*b[j+3])) + f64(a[i+2]*b[j+6])
	}
	return xform{r(0, 0), r(0, 1), r(0, 2), r(3, 0), r(3, 1), r(3, 2), r(6, 0), r(6, 1), r(6, 2)}
}

func (m xform) apply(x, y float64) (float64, float64) {
	hx := f64(f64(m[0]*x)+f64(m[3]*y)) + m[6]
	hy := f64(f64(m[1]*x)+f64(m[4]*y)) + m[7]
	hw := f64(f64(m[2]*x)+f64(m[5]*y)) + m[8]
	return hx / hw, hy / hw
}

func (m xform) invert() (xform, bool) {
	det := f64(f64(m[0]*f64(f64(m[8]*m[4])-f64(m[7]*m[5])))-f64(m[3]*f64(f64(m[8]*m[1])-f64(m[7]*m[2])))) +
		f64(m[6]*f64(f64(m[5]*m[1])-f64(m[4]*m[2])))
	if !(det < -0.000000000001 || det > 0.000000000001) {
		return xform{}, false
	}
	d := func(a, b, c, e float64) float64 { return (f64(a*b) - f64(c*e)) / det }
	return xform{
		d(m[4], m[8], m[5], m[7]), d(m[5], m[6], m[3], m[8]), d(m[3], m[7], m[4], m[6]),
		d(m[2], m[7], m[1], m[8]), d(m[0], m[8], m[2], m[6]), d(m[1], m[6], m[0], m[7]),
		d(m[1], m[5], m[2], m[4]), d(m[2], m[3], m[0], m[5]), d(m[0], m[4], m[1], m[3]),
	}, true
}

func (m xform) transpose() xform {
	return xform{m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]}
}

type quad [8]int // x1,y1 … x4,y4

func unitSquareToQuad(q quad) (xform, bool) {
	x1, y1, x2, y2 := float64(q[0]), float64(q[1]), float64(q[2]), float64(q[3])
	x3, y3, x4, y4 := float64(q[4]), float64(q[5]), float64(q[6]), float64(q[7])
	ax := ((x1 - x2) + x3) - x4
	ay := ((y1 - y2) + y3) - y4
	if ax == 0 && ay == 0 {
		return xform{x2 - x1, y2 - y1, 0, x3 - x2, y3 - y2, 0, x1, y1, 1}, true
	}
	ax1, ax2 := x2-x3, x4-x3
	ay1, ay2 := y2-y3, y4-y3
	bot := f64(ax1*ay2) - f64(ax2*ay1)
	if bot == 0 {
		return xform{}, false
	}
	m13 := (f64(ax*ay2) - f64(ax2*ay)) / bot
	m11 := (x2 - x1) + f64(m13*x2)
	m12 := (y2 - y1) + f64(m13*y2)
	m23 := (f64(ax1*ay) - f64(ax*ay1)) / bot
	m21 := (x4 - x1) + f64(m23*x4)
	m22 := (y4 - y1) + f64(m23*y4)
	return xform{m11, m12, m13, m21, m22, m23, x1, y1, 1}, true
}

func quadToQuad(src, dst quad) (xform, bool) {
	s, ok := unitSquareToQuad(src)
	if !ok {
		return xform{}, false
	}
	qts, ok := s.invert()
	if !ok {
		return xform{}, false
	}
	stq, ok := unitSquareToQuad(dst)
	if !ok {
		return xform{}, false
	}
	return xmul(qts, stq), true
}

func quadBounds(q quad) (x1, y1, x2, y2 int) {
	x1, x2 = min(q[0], q[2], q[4], q[6]), max(q[0], q[2], q[4], q[6])
	y1, y2 = min(q[1], q[3], q[5], q[7]), max(q[1], q[3], q[5], q[7])
	return
}

// --- gray raster (qgrayraster.c, PIXEL_BITS = 8) ---

const (
	pixelBits = 8
	onePixel  = 1 << pixelBits
)

type grayCell struct {
	x     int64
	cover int64
	area  int64
}

type graySpan struct {
	x, y     int
	len      int
	coverage int
}

type grayRaster struct {
	ex, ey                     int64
	minEx, maxEx, minEy, maxEy int64
	countEx, countEy           int64
	area                       int64
	cover                      int64
	invalid                    bool
	x, y                       int64
	rows                       [][]grayCell // per y, sorted by x
	spans                      []graySpan
	batch                      func([]graySpan)
}

func trunc8(x int64) int64 { return x >> pixelBits }

func (r *grayRaster) findCell() *grayCell {
	x := min(r.ex, r.countEx)
	row := r.rows[r.ey]
	i := 0
	for i < len(row) && row[i].x < x {
		i++
	}
	if i < len(row) && row[i].x == x {
		return &r.rows[r.ey][i]
	}
	row = append(row, grayCell{})
	copy(row[i+1:], row[i:])
	row[i] = grayCell{x: x}
	r.rows[r.ey] = row
	return &r.rows[r.ey][i]
}

func (r *grayRaster) recordCell() {
	if r.area|r.cover != 0 {
		c := r.findCell()
		c.area += r.area
		c.cover += r.cover
	}
}

func (r *grayRaster) setCell(ex, ey int64) {
	ey -= r.minEy
	if ex > r.maxEx {
		ex = r.maxEx
	}
	ex -= r.minEx
	if ex < 0 {
		ex = -1
	}
	if ex != r.ex || ey != r.ey {
		if !r.invalid {
			r.recordCell()
		}
		r.area, r.cover = 0, 0
		r.ex, r.ey = ex, ey
	}
	r.invalid = uint64(ey) >= uint64(r.countEy) || ex >= r.countEx
}

func (r *grayRaster) startCell(ex, ey int64) {
	if ex > r.maxEx {
		ex = r.maxEx
	}
	if ex < r.minEx {
		ex = r.minEx - 1
	}
	r.area, r.cover = 0, 0
	r.ex, r.ey = ex-r.minEx, ey-r.minEy
	r.invalid = false
	r.setCell(ex, ey)
}

// divMod is FT_DIV_MOD: C division with the remainder made non-negative.
func divMod(a, b int64) (q, m int64) {
	q, m = a/b, a%b
	if m < 0 {
		q--
		m += b
	}
	return
}

func (r *grayRaster) renderScanline(ey, x1, y1, x2, y2 int64) {
	dx := x2 - x1
	ex1, ex2 := trunc8(x1), trunc8(x2)
	fx1, fx2 := x1-ex1*onePixel, x2-ex2*onePixel
	if y1 == y2 {
		r.setCell(ex2, ey)
		return
	}
	if ex1 == ex2 {
		delta := y2 - y1
		r.area += (fx1 + fx2) * delta
		r.cover += delta
		return
	}
	p := (onePixel - fx1) * (y2 - y1)
	first := int64(onePixel)
	incr := int64(1)
	if dx < 0 {
		p = fx1 * (y2 - y1)
		first = 0
		incr = -1
		dx = -dx
	}
	delta, mod := divMod(p, dx)
	r.area += (fx1 + first) * delta
	r.cover += delta
	ex1 += incr
	r.setCell(ex1, ey)
	y1 += delta
	if ex1 != ex2 {
		p = onePixel * (y2 - y1 + delta)
		lift, rem := divMod(p, dx)
		mod -= dx
		for ex1 != ex2 {
			delta = lift
			mod += rem
			if mod >= 0 {
				mod -= dx
				delta++
			}
			r.area += onePixel * delta
			r.cover += delta
			y1 += delta
			ex1 += incr
			r.setCell(ex1, ey)
		}
	}
	delta = y2 - y1
	r.area += (fx2 + onePixel - first) * delta
	r.cover += delta
}

func (r *grayRaster) renderLine(toX, toY int64) {
	ey1, ey2 := trunc8(r.y), trunc8(toY)
	fy1, fy2 := r.y-ey1*onePixel, toY-ey2*onePixel
	dx, dy := toX-r.x, toY-r.y
	defer func() { r.x, r.y = toX, toY }()
	if (ey1 >= r.maxEy && ey2 >= r.maxEy) || (ey1 < r.minEy && ey2 < r.minEy) {
		return
	}
	if ey1 == ey2 {
		r.renderScanline(ey1, r.x, fy1, toX, fy2)
		return
	}
	if dx == 0 {
		ex := trunc8(r.x)
		twoFx := (r.x - ex*onePixel) << 1
		first := int64(onePixel)
		if dy < 0 {
			first = 0
		}
		delta := first - fy1
		r.area += twoFx * delta
		r.cover += delta
		delta = first + first - onePixel
		area := twoFx * delta
		maxEy1 := r.countEy + r.minEy
		if dy < 0 {
			if ey1 > maxEy1 {
				ey1 = max(maxEy1, ey2)
				r.setCell(ex, ey1)
			} else {
				ey1--
				r.setCell(ex, ey1)
			}
			for ey1 > ey2 && ey1 >= r.minEy {
				r.area += area
				r.cover += delta
				ey1--
				r.setCell(ex, ey1)
			}
			if ey1 != ey2 {
				ey1 = ey2
				r.setCell(ex, ey1)
			}
		} else {
			if ey1 < r.minEy {
				ey1 = min(r.minEy, ey2)
				r.setCell(ex, ey1)
			} else {
				ey1++
				r.setCell(ex, ey1)
			}
			for ey1 < ey2 && ey1 < maxEy1 {
				r.area += area
				r.cover += delta
				ey1++
				r.setCell(ex, ey1)
			}
			if ey1 != ey2 {
				ey1 = ey2
				r.setCell(ex, ey1)
			}
		}
		delta = fy2 - onePixel + first
		r.area += twoFx * delta
		r.cover += delta
		return
	}
	p := (onePixel - fy1) * dx
	first := int64(onePixel)
	incr := int64(1)
	if dy < 0 {
		p = fy1 * dx
		first = 0
		incr = -1
		dy = -dy
	}
	delta, mod := p/dy, p%dy
	if mod < 0 {
		delta--
		mod += dy
	}
	x := r.x + delta
	r.renderScanline(ey1, r.x, fy1, x, first)
	ey1 += incr
	r.setCell(trunc8(x), ey1)
	if ey1 != ey2 {
		p = onePixel * dx
		lift, rem := divMod(p, dy)
		mod -= dy
		for ey1 != ey2 {
			delta = lift
			mod += rem
			if mod >= 0 {
				mod -= dy
				delta++
			}
			x2 := x + delta
			r.renderScanline(ey1, x, onePixel-first, x2, first)
			x = x2
			ey1 += incr
			r.setCell(trunc8(x), ey1)
		}
	}
	r.renderScanline(ey1, x, onePixel-first, toX, fy2)
}

func (r *grayRaster) hline(x, y, area, acount int64) {
	coverage := area >> (pixelBits*2 + 1 - 8)
	if coverage < 0 {
		coverage = -coverage
	}
	if coverage >= 256 {
		coverage = 255
	}
	y += r.minEy
	x += r.minEx
	x, y = min(x, 32767), min(y, 32767)
	if coverage == 0 {
		return
	}
	if n := len(r.spans); n > 0 {
		s := &r.spans[n-1]
		if s.y == int(y) && s.x+s.len == int(x) && s.coverage == int(coverage) {
			s.len += int(acount)
			return
		}
		if n >= 256 {
			r.batch(r.spans)
			r.spans = r.spans[:0]
		}
	}
	r.spans = append(r.spans, graySpan{x: int(x), y: int(y), len: int(acount), coverage: int(coverage)})
}

func (r *grayRaster) sweep() {
	for yi, row := range r.rows {
		var cover, x int64
		for _, c := range row {
			if c.x > x && cover != 0 {
				r.hline(x, int64(yi), cover*(onePixel*2), c.x-x)
			}
			cover += c.cover
			area := cover*(onePixel*2) - c.area
			if area != 0 && c.x >= 0 {
				r.hline(c.x, int64(yi), area, 1)
			}
			x = c.x + 1
		}
		if r.countEx > x && cover != 0 {
			r.hline(x, int64(yi), cover*(onePixel*2), r.countEx-x)
		}
	}
}

// rasterizeQuad renders the closed polygon pts (26.6 fixed point) clipped
// to [0,w)×[0,h) and calls batch with the spans in batches of at most 256,
// as gray_raster_render does in direct mode.
func rasterizeQuad(pts [4][2]int64, w, h int, batch func([]graySpan)) {
	r := &grayRaster{invalid: true, batch: batch}
	minX, maxX, minY, maxY := pts[0][0], pts[0][0], pts[0][1], pts[0][1]
	for _, p := range pts[1:] {
		minX, maxX = min(minX, p[0]), max(maxX, p[0])
		minY, maxY = min(minY, p[1]), max(maxY, p[1])
	}
	r.minEx, r.minEy = minX>>6, minY>>6
	r.maxEx, r.maxEy = (maxX+63)>>6, (maxY+63)>>6
	if r.maxEx <= 0 || r.minEx >= int64(w) || r.maxEy <= 0 || r.minEy >= int64(h) {
		return
	}
	r.minEx, r.minEy = max(r.minEx, 0), max(r.minEy, 0)
	r.maxEx, r.maxEy = min(r.maxEx, int64(w)), min(r.maxEy, int64(h))
	r.countEx, r.countEy = r.maxEx-r.minEx, r.maxEy-r.minEy
	r.rows = make([][]grayCell, r.countEy)
	up := func(v int64) int64 { return v * (onePixel >> 6) }
	// move_to
	r.x, r.y = up(pts[0][0]), up(pts[0][1])
	r.startCell(trunc8(r.x), trunc8(r.y))
	for _, p := range pts[1:] {
		r.renderLine(up(p[0]), up(p[1]))
	}
	r.renderLine(up(pts[0][0]), up(pts[0][1])) // the closing point equals the start
	r.renderLine(up(pts[0][0]), up(pts[0][1])) // decompose's explicit close
	if !r.invalid {
		r.recordCell()
	}
	r.sweep()
	if len(r.spans) > 0 {
		batch(r.spans)
	}
}

// --- fetching and compositing (image_transform.c) ---

func pixel8Mul(a, b uint32) uint32 {
	c := a*b + 0x80
	return ((c >> 8) + c) >> 8
}

func interpolatePixel(x, a, y, b uint32) uint32 {
	t := (x&0xff00ff)*a + (y&0xff00ff)*b
	t >>= 8
	t &= 0xff00ff
	x = ((x>>8)&0xff00ff)*a + ((y>>8)&0xff00ff)*b
	x &= 0xff00ff00
	return x | t
}

func interpolate4(tl, tr, bl, br, distx, disty uint32) uint32 {
	idx, idy := 256-distx, 256-disty
	xtop := interpolatePixel(tl, idx, tr, distx)
	xbot := interpolatePixel(bl, idx, br, distx)
	return interpolatePixel(xtop, idy, xbot, disty)
}

// d2i is C's (int) of a double on x86-64 (truncation; saturated here).
func d2i(f float64) int {
	if f != f {
		return math.MinInt32
	}
	if f >= math.MaxInt32 {
		return math.MaxInt32
	}
	if f <= math.MinInt32 {
		return math.MinInt32
	}
	return int(f)
}

// d2u32 is C's (uint32_t) of a double as gcc compiles it on x86-64
// (through a 64-bit signed conversion, so negatives wrap).
func d2u32(f float64) uint32 {
	if f != f || f >= 9.2e18 || f <= -9.2e18 {
		return 0
	}
	return uint32(int64(f))
}

func fetchPixel(interp, w, h int, px []uint32, x, y float64) uint32 {
	if interp == InterpolationNearest {
		ix := min(max(d2i(x+0.5), 0), w-1)
		iy := min(max(d2i(y+0.5), 0), h-1)
		return px[iy*w+ix]
	}
	x1 := d2i(x)
	if x < 0 {
		x1--
	}
	y1 := d2i(y)
	if y < 0 {
		y1--
	}
	bounds := func(l2, v int) (int, int) {
		switch {
		case v < 0:
			return 0, 0
		case v >= l2:
			return l2, l2
		}
		return v, v + 1
	}
	x1, x2 := bounds(w-1, x1)
	y1, y2 := bounds(h-1, y1)
	tl, tr := px[y1*w+x1], px[y1*w+x2]
	bl, br := px[y2*w+x1], px[y2*w+x2]
	distx := d2u32(f64(x-float64(x1)) * 256.0)
	disty := d2u32(f64(y-float64(y1)) * 256.0)
	return interpolate4(tl, tr, bl, br, distx, disty)
}

func blendPixel8(d, s uint32, opacity uint32) uint32 {
	sa := pixel8Mul(s>>24, opacity)
	if sa == 255 {
		return s
	}
	if sa == 0 {
		return d
	}
	sa1 := 255 - sa
	ch := func(shift uint) uint32 {
		return uint32(uint8(pixel8Mul((s>>shift)&0xff, opacity)+pixel8Mul((d>>shift)&0xff, sa1))) << shift
	}
	return ch(0) | ch(8) | ch(16) | ch(24)
}

const transformBufferSize = 204

// transformImage is DP_image_transform_pixels: it maps the sw×sh image src
// (packed 0xAARRGGBB premultiplied) onto q and returns the destination image
// (packed) with its size and offset.
func transformImage(src []uint32, sw, sh int, q quad, interp int) (dst []uint32, dw, dh, ox, oy int, ok bool) {
	bx1, by1, bx2, by2 := quadBounds(q)
	tq := quad{q[0] - bx1, q[1] - by1, q[2] - bx1, q[3] - by1, q[4] - bx1, q[5] - by1, q[6] - bx1, q[7] - by1}
	tf, ok := quadToQuad(quad{0, 0, sw, 0, sw, sh, 0, sh}, tq)
	if !ok {
		return nil, 0, 0, 0, 0, false
	}
	dw, dh = bx2-bx1+1, by2-by1+1
	if int64(dw)*int64(dh) > maxTransformArea {
		return nil, 0, 0, 0, 0, false
	}
	delta := xform{1, 0, 0, 0, 1, 0, 1.0 / 65536.0, 1.0 / 65536.0, 1}
	inv, ok := xmul(delta, tf).invert()
	if !ok {
		return nil, 0, 0, 0, 0, false
	}
	m := inv.transpose()
	dst = make([]uint32, dw*dh)
	outline := func(x, y float64) [2]int64 {
		vx, vy := tf.apply(x, y)
		return [2]int64{int64(d2i(f64(vx*64.0) + 0.5)), int64(d2i(f64(vy*64.0) + 0.5))}
	}
	w, h := float64(sw), float64(sh)
	pts := [4][2]int64{outline(0, 0), outline(w, 0), outline(w, h), outline(0, h)}
	var buf [transformBufferSize]uint32
	fetch := func(x, y, n int) []uint32 {
		fdx, fdy, fdw := m[0], m[1], m[2]
		cx, cy := float64(x)+0.5, float64(y)+0.5
		fx := f64(f64(m[3]*cy)+f64(m[0]*cx)) + m[6]
		fy := f64(f64(m[4]*cy)+f64(m[1]*cx)) + m[7]
		fw := f64(f64(m[5]*cy)+f64(m[2]*cx)) + m[8]
		out := buf[:n]
		for i := range out {
			iw := 1.0
			if fw != 0 {
				iw = 1.0 / fw
			}
			out[i] = fetchPixel(interp, sw, sh, src, f64(fx*iw)-0.5, f64(fy*iw)-0.5)
			fx += fdx
			fy += fdy
			fw += fdw
			if fw == 0 {
				fw += fdw
			}
		}
		return out
	}
	renderSpans := func(spans []graySpan) {
		coverage := 0
		for len(spans) > 0 {
			if spans[0].len == 0 {
				spans = spans[1:]
				continue
			}
			x, y := spans[0].x, spans[0].y
			right := x + spans[0].len
			for i := 1; i < len(spans) && spans[i].y == y && spans[i].x == right; i++ {
				right += spans[i].len
			}
			length := right - x
			for length > 0 {
				l := min(length, transformBufferSize)
				length -= l
				row := dst[y*dw+x:]
				s := fetch(x, y, l)
				off := 0
				for l > 0 {
					if x == spans[0].x {
						coverage = (spans[0].coverage * 256) >> 8
					}
					pr := spans[0].x + spans[0].len
					pl := min(l, pr-x)
					var op uint32
					if interp == InterpolationNearest {
						if coverage >= 128 {
							op = 255
						}
					} else {
						op = uint32(min(max(coverage, 0), 255))
					}
					if op != 0 {
						for i := range pl {
							row[off+i] = blendPixel8(row[off+i], s[off+i], op)
						}
					}
					l -= pl
					x += pl
					off += pl
					if x == pr {
						spans = spans[1:]
					}
				}
			}
		}
	}
	rasterizeQuad(pts, dw, dh, renderSpans)
	return dst, dw, dh, bx1, by1, true
}

// TransformRegion transforms the rectangle (bx, by, bw, bh) of source onto
// the quad q of layer (engine.md §3.2), with an optional bw×bh 8-bit mask.
// Interpolation modes other than nearest and bilinear render as bilinear,
// as the reference does.
func (c *Canvas) TransformRegion(layer, source uint32, bx, by, bw, bh int32, q [8]int32, interp uint8, blend BlendMode, opacity uint8, mask []byte) error {
	const op = "TransformRegion"
	if bw <= 0 || bh <= 0 {
		return cmdErr(op, "selection is empty")
	}
	cw, ch := c.st.w, c.st.h
	if !rectsIntersect(int(bx), int(by), int(bw), int(bh), cw, ch) {
		return cmdErr(op, "source out of bounds")
	}
	var dq quad
	for i := range q {
		dq[i] = int(q[i])
	}
	x1, y1, x2, y2 := quadBounds(dq)
	if !rectsIntersect(x1, y1, x2-x1+1, y2-y1+1, cw, ch) {
		return cmdErr(op, "destination out of bounds")
	}
	if int64(x2-x1+1) > int64(cw)*2 || int64(y2-y1+1) > int64(ch)*2 {
		return cmdErr(op, "attempt to scale too far beyond image size")
	}
	if !blendModeExists(blend) {
		return cmdErr(op, "unknown blend mode %d", blend)
	}
	if opacity == 0 {
		return cmdErr(op, "opacity is zero")
	}
	if mask != nil && len(mask) != int(bw)*int(bh) {
		return cmdErr(op, "mask has %d bytes, want %d", len(mask), int(bw)*int(bh))
	}
	if int64(bw)*int64(bh) > maxTransformArea {
		// Drawpile would try to allocate the whole source image; refuse
		// instead (see KNOWN_DIFFERENCES.md).
		return cmdErr(op, "source rectangle %dx%d too large", bw, bh)
	}
	mode := int(interp)
	if mode != InterpolationNearest {
		mode = InterpolationBilinear
	}
	src, dst, err := c.moveTargets(op, layer, source)
	if err != nil {
		return err
	}
	defer c.endCommand()
	img := c.selectImage(src.tiles, int(bx), int(by), int(bw), int(bh), mask, Conv8To15(opacity))
	if x2-x1+1 == int(bw) && y2-y1+1 == int(bh) && dq[0] < dq[2] {
		// translation only: paste at (x1, y2) of the message, as the reference does
		c.cutAndPaste(src, dst, int(bx), int(by), int(bw), int(bh), mask, img, int(bw), int(bh), dq[0], dq[3], blend)
		return nil
	}
	packed := make([]uint32, int(bw)*int(bh))
	for i := range packed {
		packed[i] = uint32(img[i*4]) | uint32(img[i*4+1])<<8 | uint32(img[i*4+2])<<16 | uint32(img[i*4+3])<<24
	}
	out, dw, dh, ox, oy, ok := transformImage(packed, int(bw), int(bh), dq, mode)
	if !ok {
		return cmdErr(op, "image transform failed")
	}
	pix := make([]byte, dw*dh*4)
	for i, p := range out {
		pix[i*4], pix[i*4+1], pix[i*4+2], pix[i*4+3] = byte(p), byte(p>>8), byte(p>>16), byte(p>>24)
	}
	c.cutAndPaste(src, dst, int(bx), int(by), int(bw), int(bh), mask, pix, dw, dh, ox, oy, blend)
	return nil
}

package canvas

import (
	"math"

	"drawbridge/protocol"
)

// MyPaint dabs (engine.md §4.5), reproducing the x86-64 reference with
// DP_CPU_SUPPORT=default: scalar opacity truncation, but the SSE rr-mask
// formula for the first 4·⌊idia/4⌋ columns of each row (§2.5).

// MyPaintDab is one MyPaint dab: X, Y deltas in quarter pixels, Size =
// diameter·256, angle and aspect ratio as bytes.
type MyPaintDab = protocol.MyPaintDab

const (
	aaBorder        = float32(1.0)
	twoPi           = float32(6.283185307179586)
	radiusOfArea1   = float32(0.5641895835477563)
	myPaintMinSize  = 51
	myPaintFlagMode = 0x80
)

// mypaintTrig holds cosf/sinf of (a/255)·2π as computed by glibc for every
// angle byte (engine.md §10.1: Go differs in 5 values, patched here).
var mypaintCos, mypaintSin = func() (c, s [256]float32) {
	for a := range 256 {
		x := float32(float32(a)/255) * twoPi
		c[a] = float32(math.Cos(float64(x)))
		s[a] = float32(math.Sin(float64(x)))
	}
	s[113] = math.Float32frombits(0x3eb30f55)
	c[182] = math.Float32frombits(0xbe675fae)
	c[202] = math.Float32frombits(0x3e8609c2)
	c[213] = math.Float32frombits(0x3f02b8b9)
	s[230] = math.Float32frombits(0xbf13e8fc)
	return
}()

func aspectFromByte(b uint8) float32 {
	if b == 0 {
		return 1
	}
	return float32(float32(b)/28.333) + 1
}

func rSample(x, y, ar, sn, cs float32) float32 {
	yyr := float32(float32(float32(y*cs)-float32(x*sn)) * ar)
	xxr := float32(float32(y*sn) + float32(x*cs))
	return float32(float32(yyr*yyr) + float32(xxr*xxr))
}

func rrAntialiased(xp, yp int, radius, ar, sn, cs, oor2, rAAStart float32) float32 {
	pr := radius - float32(xp)
	pb := radius - float32(yp)
	pcx := pr - 0.5
	pcy := pb - 0.5
	pl := pr - 1
	pt := pb - 1
	var nx, ny, rrNear float32
	if pl < 0 && pr > 0 && pt < 0 && pb > 0 {
		nx, ny, rrNear = 0, 0, 0
	} else {
		l2 := float32(float32(cs*cs) + float32(sn*sn))
		dot := float32(float32(pcx*cs) + float32(pcy*sn))
		t := dot / l2
		nx = min(pr, max(pl, float32(cs*t)))
		ny = min(pt, max(pb, float32(sn*t)))
		rrNear = float32(rSample(nx, ny, ar, sn, cs) * oor2)
	}
	if rrNear > 1 {
		return rrNear
	}
	// sign_point_in_line(pcx, pcy, cs, -sn) = (px − vx)·(−vy) − vx·(py − vy)
	sign := float32(float32((pcx-cs)*sn) - float32(cs*(pcy+sn)))
	var fx, fy float32
	if sign < 0 {
		fx = nx - float32(sn*radiusOfArea1)
		fy = ny + float32(cs*radiusOfArea1)
	} else {
		fx = nx + float32(sn*radiusOfArea1)
		fy = ny - float32(cs*radiusOfArea1)
	}
	rFar := rSample(fx, fy, ar, sn, cs)
	rrFar := float32(rFar * oor2)
	if rFar < rAAStart {
		return float32((rrFar + rrNear) * 0.5)
	}
	delta := rrFar - rrNear
	delta2 := 1 + delta
	vis := (1 - rrNear) / delta2
	return 1 - vis
}

// myPaintStamp computes the mask of one MyPaint dab into mask (and rr as
// scratch); it returns the radius, or 0 for an invisible dab.
func myPaintStamp(s *stamp, mask []uint16, rr []float32, rawX, rawY int, size uint32, opacity, hardness, aspect, angle uint8) float32 {
	if size < myPaintMinSize || opacity == 0 || hardness == 0 {
		return 0
	}
	x := float32(rawX) / 4
	y := float32(rawY) / 4
	diam := float32(size) / 256
	hard := float32(hardness) / 255
	ar := aspectFromByte(aspect)
	s1o := float32(1)
	s1s := -(1/hard - 1)
	s2o := hard / (1 - hard)
	s2s := -hard / (1 - hard)
	cs, sn := mypaintCos[angle], mypaintSin[angle]
	radius := diam / 2
	idia := int(float32(math.Floor(float64(diam + 2))))
	oor2 := 1 / float32(radius*radius)
	n := idia * idia
	rr = rr[:n]
	if radius < 3 {
		aaStart := max(0, radius-aaBorder)
		rAAStart := float32(aaStart * float32(aaStart/ar))
		for yp := range idia {
			for xp := range idia {
				rr[yp*idia+xp] = rrAntialiased(xp, yp, radius, ar, sn, cs, oor2, rAAStart)
			}
		}
	} else {
		hmr := 0.5 - radius
		sse := idia - idia%4
		for yp := range idia {
			row := rr[yp*idia : (yp+1)*idia]
			yyS := float32(yp) + hmr
			yy := float32(float32(yp)+0.5) - radius
			for xp := range idia {
				var xx, yv float32
				if xp < sse {
					xx, yv = float32(xp)+hmr, yyS
				} else {
					xx, yv = float32(float32(xp)+0.5)-radius, yy
				}
				yyr := float32(float32(float32(yv*cs)-float32(xx*sn)) * ar)
				xxr := float32(float32(yv*sn) + float32(xx*cs))
				row[xp] = float32(float32(float32(yyr*yyr)+float32(xxr*xxr)) * oor2)
			}
		}
	}
	mask = mask[:n]
	for i, r := range rr {
		var opa float32
		if r <= 1 {
			if r <= hard {
				opa = s1o + float32(r*s1s)
			} else {
				opa = s2o + float32(r*s2s)
			}
		}
		mask[i] = f2u16(float32(opa * One))
	}
	s.top = f2iTrunc(y - radius + 0.5)
	s.left = f2iTrunc(x - radius + 0.5)
	s.d = idia
	s.data = mask
	return radius
}

// f2u16 is C's (uint16_t) of a float: truncation, clamped.
func f2u16(f float32) uint16 {
	if !(f > 0) {
		return 0
	}
	if f >= 65535 {
		return 65535
	}
	return uint16(f)
}

// f2iTrunc is C's (int) of a float (truncation toward zero), saturating.
func f2iTrunc(f float32) int {
	if f != f {
		return 0
	}
	if f >= math.MaxInt32 {
		return math.MaxInt32
	}
	if f <= math.MinInt32 {
		return math.MinInt32
	}
	return int(f)
}

func scaleOpacity(ratio, opacity float32) uint32 {
	return uint32(f2u16(float32(float32(ratio*opacity) * One)))
}

type myPaintParams struct {
	indirect                   bool
	src                        upixel15
	normal, lockAlpha          float32
	colorize, posterize        float32
	posterizeNum               int
	modeNE, modeNormal, modeRC BlendMode
	blend                      BlendMode // DrawDabsMyPaintBlend: mode for every dab
	isBlend                    bool
	mask, flood                []*Tile
}

func (c *Canvas) applyMyPaintDab(tiles []*Tile, p *myPaintParams, s stamp, opacity uint8) {
	s = c.maskStamp(s, p.mask, p.flood, false)
	if p.isBlend {
		c.applyStamp(tiles, s, p.src, p.blend, uint32(Conv8To15(opacity)))
		return
	}
	if p.indirect {
		c.applyStamp(tiles, s, p.src, ModeCompareDensitySoft, uint32(Conv8To15(opacity)))
		return
	}
	o := float32(opacity) / 255
	if p.normal > 0 {
		m := p.modeNE
		if p.src.a == One {
			m = p.modeNormal
		}
		c.applyStamp(tiles, s, p.src, m, scaleOpacity(p.normal, o))
	}
	if p.lockAlpha > 0 && p.src.a != 0 {
		c.applyStamp(tiles, s, p.src, p.modeRC, scaleOpacity(p.lockAlpha, o))
	}
	if p.colorize > 0 {
		c.applyStamp(tiles, s, p.src, ModeColor, scaleOpacity(p.colorize, o))
	}
	if p.posterize > 0 {
		c.applyPosterize(tiles, s, p.posterizeNum, scaleOpacity(p.posterize, o))
	}
}

// DrawDabsMyPaint draws MyPaint dabs (message DrawDabsMyPaint).
func (c *Canvas) DrawDabsMyPaint(ctx uint8, flags uint8, layer uint32, x, y int32, color uint32, lockAlpha, colorize, posterize, mode uint8, dabs []MyPaintDab) error {
	const op = "DrawDabsMyPaint"
	if len(dabs) == 0 {
		return cmdErr(op, "no dabs")
	}
	var blend BlendMode
	var paintMode uint8
	posterizeNum := 0
	if mode&myPaintFlagMode != 0 {
		switch mode & 3 {
		case 1:
			blend, paintMode = ModeNormal, 2
		case 2:
			blend, paintMode = ModeRecolor, 2
		case 3:
			blend, paintMode = ModeErase, 2
		default:
			blend = ModeNormalAndEraser
		}
	} else {
		switch flags & 3 {
		case 1:
			blend = ModePigmentAndEraser
		case 2:
			blend = ModeOklabNormalAndEraser
		default:
			blend = ModeNormalAndEraser
		}
		posterizeNum = int(mode)
	}
	dp := dabParams{ctx: ctx, layer: layer, x: x, y: y, color: color, mode: blend, paintMode: paintMode, flags: flags}
	dt, err := c.dabTiles(op, &dp, true)
	if err != nil {
		return err
	}
	tiles := dt.tiles
	defer c.endCommand()
	la, co, po := float32(lockAlpha)/255, float32(colorize)/255, float32(posterize)/255
	p := myPaintParams{
		indirect:     paintMode != 0,
		src:          upixelFromARGB(color),
		lockAlpha:    la,
		colorize:     co,
		posterize:    po,
		posterizeNum: max(0, min(127, posterizeNum)) + 1,
		normal:       float32(float32((1-la)*(1-co)) * (1 - po)),
		mask:         dt.mask,
		flood:        dt.flood,
	}
	switch blend {
	case ModePigmentAndEraser:
		p.modeNE, p.modeNormal, p.modeRC = ModePigmentAndEraser, ModePigmentAlpha, ModePigment
	case ModeOklabNormalAndEraser:
		p.modeNE, p.modeNormal, p.modeRC = ModeOklabNormalAndEraser, ModeOklabNormal, ModeOklabRecolor
	default:
		p.modeNE, p.modeNormal, p.modeRC = ModeNormalAndEraser, ModeNormal, ModeRecolor
	}
	c.drawMyPaint(tiles, &p, int(x), int(y), dabs)
	return nil
}

// DrawDabsMyPaintBlend draws MyPaint-shaped dabs with a blend mode
// (message DrawDabsMyPaintBlend, 2.3).
func (c *Canvas) DrawDabsMyPaintBlend(ctx uint8, flags uint8, layer uint32, x, y int32, color uint32, mode BlendMode, dabs []MyPaintDab) error {
	const op = "DrawDabsMyPaintBlend"
	if len(dabs) == 0 {
		return cmdErr(op, "no dabs")
	}
	dp := dabParams{ctx: ctx, layer: layer, x: x, y: y, color: color, mode: mode, paintMode: flags & 3, flags: flags}
	dt, err := c.dabTiles(op, &dp, false)
	if err != nil {
		return err
	}
	defer c.endCommand()
	p := myPaintParams{isBlend: true, blend: dt.mode, src: upixelFromARGB(color), mask: dt.mask, flood: dt.flood}
	c.drawMyPaint(dt.tiles, &p, int(x), int(y), dabs)
	return nil
}

func (c *Canvas) drawMyPaint(tiles []*Tile, p *myPaintParams, x, y int, dabs []MyPaintDab) {
	maxSize := uint32(0)
	for _, d := range dabs {
		maxSize = max(maxSize, d.Size)
	}
	if maxSize == 0 {
		return
	}
	dmax := int(float32(min(maxSize, maxClassicSize))/256+2) + 1
	mask := c.scratch(&c.maskBuf, dmax*dmax)
	if cap(c.rrBuf) < dmax*dmax {
		c.rrBuf = make([]float32, dmax*dmax)
	}
	rr := c.rrBuf[:dmax*dmax]
	first := dabs[0]
	lastX, lastY := x+int(first.X), y+int(first.Y)
	lastSize := min(first.Size, maxClassicSize)
	lastH, lastAR, lastAng := first.Hardness, first.AspectRatio, first.Angle
	var s stamp
	radius := myPaintStamp(&s, mask, rr, lastX, lastY, lastSize, first.Opacity, lastH, lastAR, lastAng)
	if radius > 0 {
		c.applyMyPaintDab(tiles, p, s, first.Opacity)
	} else {
		lastSize = 0
	}
	for _, d := range dabs[1:] {
		dx, dy := lastX+int(d.X), lastY+int(d.Y)
		size := min(d.Size, maxClassicSize)
		if d.Hardness != lastH || size != lastSize || d.AspectRatio != lastAR || d.Angle != lastAng {
			radius = myPaintStamp(&s, mask, rr, dx, dy, size, d.Opacity, d.Hardness, d.AspectRatio, d.Angle)
			if radius > 0 {
				lastH, lastSize, lastAR, lastAng = d.Hardness, size, d.AspectRatio, d.Angle
			}
		} else if d.Opacity != 0 {
			xf, yf := float32(dx)/4, float32(dy)/4
			radius = float32(size) / 256 / 2
			s.top = f2iTrunc(yf - radius + 0.5)
			s.left = f2iTrunc(xf - radius + 0.5)
		} else {
			radius = 0
		}
		if radius > 0 {
			c.applyMyPaintDab(tiles, p, s, d.Opacity)
		}
		lastX, lastY = dx, dy
	}
}

// applyPosterize is the posterize pass of MyPaint dabs (engine.md §2.4).
func (c *Canvas) applyPosterize(tiles []*Tile, s stamp, levels int, O uint32) {
	pf := float32(levels)
	c.applyStampFn(tiles, s, false, func(dst []Pixel15, mask []uint16) {
		for i, m := range mask {
			o := uint64(mul(uint32(m), O))
			d := dst[i]
			b, g, r := unpremPixel(d)
			post := func(u uint32) uint64 {
				f := float32(u) / One
				q := float32(math.Floor(float64(float32(f*pf) + 0.5)))
				return uint64(float32(float32(One*q) / pf))
			}
			o1 := One - o
			nb := (o*post(b) + o1*uint64(b)) / One
			ng := (o*post(g) + o1*uint64(g)) / One
			nr := (o*post(r) + o1*uint64(r)) / One
			dst[i] = premPixel(uint32(uint16(nb)), uint32(uint16(ng)), uint32(uint16(nr)), uint32(d.A))
		}
	})
}

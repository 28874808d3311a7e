package webui

import "math"

// BrushKind selects the dab shape.
type BrushKind uint8

const (
	// SoftRound is Drawpile's classic soft round brush.
	SoftRound BrushKind = iota
	// Pixel is the hard, aliased round pixel brush (DrawDabsPixel).
	Pixel
	// PixelSquare is the hard, aliased square pixel brush
	// (DrawDabsPixelSquare).
	PixelSquare
)

// IsPixel reports whether k is one of the pixel brushes.
func (k BrushKind) IsPixel() bool { return k == Pixel || k == PixelSquare }

// Brush limits.
const (
	MinBrushSize = 1
	MaxBrushSize = 1000 // Drawpile's classic brush maximum diameter
	MinSpacing   = 0.01 // fraction of the diameter
	MaxSpacing   = 5
)

// Brush holds the settings of the painting tools.
type Brush struct {
	Kind     BrushKind
	Size     float64 // diameter in canvas pixels at full pressure
	Opacity  float64 // [0,1] at full pressure
	Hardness float64 // [0,1]; 1 = hard edge
	Spacing  float64 // distance between dabs as a fraction of the diameter
	// SizeCurve and OpacityCurve map pressure to a factor of Size and
	// Opacity; PressureSize/PressureOpacity enable them.
	SizeCurve, OpacityCurve       Curve
	PressureSize, PressureOpacity bool
	Color                         Color
	Eraser                        bool
}

// DefaultBrush is a 12 px black soft brush with pressure-controlled size.
func DefaultBrush() Brush {
	return Brush{Kind: SoftRound, Size: 12, Opacity: 1, Hardness: 0.8, Spacing: 0.15,
		PressureSize: true, Color: Color{0, 0, 0, 255}}
}

// Normalize clamps every field into its range (NaN becomes the minimum).
func (b Brush) Normalize() Brush {
	b.Size = clamp(b.Size, MinBrushSize, MaxBrushSize)
	b.Opacity = clamp(b.Opacity, 0, 1)
	b.Hardness = clamp(b.Hardness, 0, 1)
	b.Spacing = clamp(b.Spacing, MinSpacing, MaxSpacing)
	return b
}

// Dab is one brush stamp in canvas coordinates.
type Dab struct {
	X, Y     float64
	Size     float64 // diameter
	Opacity  float64 // [0,1]
	Hardness float64
}

// Sample is one pointer sample in canvas coordinates.
type Sample struct {
	Pos      Vec
	Pressure float64 // [0,1]
}

// Stroker turns the samples of one stroke into evenly spaced dabs. The
// zero value is ready after Begin.
type Stroker struct {
	brush  Brush
	last   Sample
	carry  float64 // distance travelled since the last dab
	active bool
}

// Begin starts a stroke with the brush and returns the first dab.
func (s *Stroker) Begin(b Brush, p Sample, dst []Dab) []Dab {
	s.brush = b.Normalize()
	s.last, s.carry, s.active = p, 0, true
	return append(dst, s.dab(p.Pos, p.Pressure))
}

// Active reports whether a stroke is in progress.
func (s *Stroker) Active() bool { return s.active }

// maxDabsPerSegment bounds the dabs of one segment so a hostile or glitched
// sample (a jump of a million pixels) cannot allocate without limit.
const maxDabsPerSegment = 4096

// Move continues the stroke to p, appending dabs every spacing×size along
// the segment, with pressure interpolated linearly.
func (s *Stroker) Move(p Sample, dst []Dab) []Dab {
	if !s.active {
		return dst
	}
	from := s.last
	d := p.Pos.Sub(from.Pos)
	length := d.Len()
	if !(length > 0) || math.IsInf(length, 0) {
		s.last = Sample{Pos: s.last.Pos, Pressure: p.Pressure}
		return dst
	}
	pos := 0.0
	for n := 0; n < maxDabsPerSegment; n++ {
		// Spacing depends on the size at the current pressure, as in
		// Drawpile, with a floor of one pixel between dabs.
		t := pos / length
		pr := from.Pressure + (p.Pressure-from.Pressure)*t
		step := math.Max(s.size(pr)*s.brush.Spacing, 1) - s.carry
		if pos+step > length {
			break
		}
		pos += step
		s.carry = 0
		t = pos / length
		pr = from.Pressure + (p.Pressure-from.Pressure)*t
		dst = append(dst, s.dab(from.Pos.Add(d.Scale(t)), pr))
	}
	s.carry += length - pos
	s.last = p
	return dst
}

// End finishes the stroke.
func (s *Stroker) End() { s.active = false }

func (s *Stroker) size(pressure float64) float64 {
	if !s.brush.PressureSize {
		return s.brush.Size
	}
	return math.Max(s.brush.Size*s.brush.SizeCurve.Eval(pressure), 1)
}

func (s *Stroker) dab(p Vec, pressure float64) Dab {
	op := s.brush.Opacity
	if s.brush.PressureOpacity {
		op *= s.brush.OpacityCurve.Eval(pressure)
	}
	return Dab{X: p.X, Y: p.Y, Size: s.size(pressure), Opacity: op, Hardness: s.brush.Hardness}
}

// PixelStep is one dab of a pixel-brush message: a whole-pixel step from
// the previous dab, the diameter in pixels and the opacity (protocol.md
// DrawDabsPixel: dx i8, dy i8, size u16, opacity u8).
type PixelStep struct {
	DX, DY  int8
	Size    uint16
	Opacity uint8
}

// PixelRun is one DrawDabsPixel (or DrawDabsPixelSquare) message's dabs:
// the first dab's pixel position and the steps (the first step is 0,0).
type PixelRun struct {
	X, Y  int32
	Steps []PixelStep
}

// Pixel dab limits: the engine clamps sizes to 1000; a message holds at
// most 255 dabs here (like the classic messages we send).
const (
	maxPixelSize    = 1000
	maxDabsPerRun   = 255
	pixelStepLimit  = 127
	pixelStepMinLim = -128
)

// PixelEncoder converts the pixel-brush dabs of one stroke into message
// runs: positions rounded down to whole pixels, sizes rounded to whole
// pixels (at least 1), a new run when a step does not fit in an i8 or a
// run is full. A dab on the same pixel with the same size and opacity as
// the one before it is dropped, so a slow stroke does not pile up opacity
// on one spot. The zero value starts a stroke.
type PixelEncoder struct {
	have bool
	x, y int32
	last PixelStep
}

// Reset starts a new stroke.
func (e *PixelEncoder) Reset() { *e = PixelEncoder{} }

// Runs appends the runs for dabs to dst. Each call starts a new run (one
// call's runs become one batch of messages).
func (e *PixelEncoder) Runs(dabs []Dab, dst []PixelRun) []PixelRun {
	first := len(dst)
	for _, d := range dabs {
		if math.IsNaN(d.X) || math.IsNaN(d.Y) || math.IsInf(d.X, 0) || math.IsInf(d.Y, 0) {
			continue
		}
		x := int32(clamp(math.Floor(d.X), -1<<30, 1<<30))
		y := int32(clamp(math.Floor(d.Y), -1<<30, 1<<30))
		size := uint16(clamp(math.Round(d.Size), 1, maxPixelSize))
		op := uint8(math.Round(clamp(d.Opacity, 0, 1) * 255))
		if e.have && x == e.x && y == e.y && size == e.last.Size && op == e.last.Opacity {
			continue
		}
		dx, dy := x-e.x, y-e.y
		n := len(dst)
		if n == first || len(dst[n-1].Steps) >= maxDabsPerRun ||
			dx < pixelStepMinLim || dx > pixelStepLimit || dy < pixelStepMinLim || dy > pixelStepLimit {
			dst = append(dst, PixelRun{X: x, Y: y})
			n++
			dx, dy = 0, 0
		}
		s := PixelStep{DX: int8(dx), DY: int8(dy), Size: size, Opacity: op}
		dst[n-1].Steps = append(dst[n-1].Steps, s)
		e.have, e.x, e.y, e.last = true, x, y, s
	}
	return dst
}

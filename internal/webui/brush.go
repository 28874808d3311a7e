package webui

import "math"

// BrushKind selects the dab shape.
type BrushKind uint8

const (
	// SoftRound is Drawpile's classic soft round brush.
	SoftRound BrushKind = iota
	// Pixel is the hard, aliased square/round pixel brush.
	Pixel
)

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

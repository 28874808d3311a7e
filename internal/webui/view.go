package webui

import "math"

// Vec is a 2-D point or vector.
type Vec struct{ X, Y float64 }

// Add returns v+w.
func (v Vec) Add(w Vec) Vec { return Vec{v.X + w.X, v.Y + w.Y} }

// Sub returns v-w.
func (v Vec) Sub(w Vec) Vec { return Vec{v.X - w.X, v.Y - w.Y} }

// Scale returns v*k.
func (v Vec) Scale(k float64) Vec { return Vec{v.X * k, v.Y * k} }

// Len returns |v|.
func (v Vec) Len() float64 { return math.Hypot(v.X, v.Y) }

// Zoom limits: 1/64 to 64×, as in Drawpile's view (1.5625 % – 6400 %).
const (
	MinZoom = 1.0 / 64
	MaxZoom = 64
)

// View maps canvas coordinates to screen coordinates:
//
//	screen = Pan + Rotate(Rotation) · Zoom · MirrorX · canvas
//
// where MirrorX negates x when Mirror is set. The zero View is not valid
// (Zoom 0); use NewView.
type View struct {
	Zoom     float64 // scale, in [MinZoom, MaxZoom]
	Rotation float64 // radians, counter-clockwise on screen, in (-π, π]
	Mirror   bool    // flip the canvas horizontally
	Pan      Vec     // screen position of canvas (0,0)
}

// NewView returns the identity view.
func NewView() View { return View{Zoom: 1} }

// Matrix returns the affine transform [a c tx; b d ty] of the view, for
// Ebitengine's GeoM: screen.x = a*x + c*y + tx, screen.y = b*x + d*y + ty.
func (v View) Matrix() (a, b, c, d, tx, ty float64) {
	sin, cos := math.Sincos(v.Rotation)
	m := 1.0
	if v.Mirror {
		m = -1
	}
	a, b = cos*v.Zoom*m, sin*v.Zoom*m
	c, d = -sin*v.Zoom, cos*v.Zoom
	return a, b, c, d, v.Pan.X, v.Pan.Y
}

// ToScreen maps a canvas point to the screen.
func (v View) ToScreen(p Vec) Vec {
	a, b, c, d, tx, ty := v.Matrix()
	return Vec{a*p.X + c*p.Y + tx, b*p.X + d*p.Y + ty}
}

// ToCanvas maps a screen point to the canvas (the inverse of ToScreen).
func (v View) ToCanvas(s Vec) Vec {
	a, b, c, d, tx, ty := v.Matrix()
	det := a*d - b*c // = ±Zoom², never 0 for a valid view
	x, y := s.X-tx, s.Y-ty
	return Vec{(d*x - c*y) / det, (-b*x + a*y) / det}
}

// PanBy moves the view by a screen delta.
func (v *View) PanBy(d Vec) { v.Pan = v.Pan.Add(d) }

// ZoomAt multiplies the zoom by factor, clamped to the limits, keeping the
// canvas point under the screen point s in place.
func (v *View) ZoomAt(s Vec, factor float64) {
	if !(factor > 0) || math.IsInf(factor, 0) {
		return
	}
	c := v.ToCanvas(s)
	v.Zoom = clamp(v.Zoom*factor, MinZoom, MaxZoom)
	v.Pan = v.Pan.Add(s.Sub(v.ToScreen(c)))
}

// RotateAt rotates the view by angle radians about the screen point s.
func (v *View) RotateAt(s Vec, angle float64) {
	if math.IsNaN(angle) || math.IsInf(angle, 0) {
		return
	}
	c := v.ToCanvas(s)
	v.Rotation = normAngle(v.Rotation + angle)
	v.Pan = v.Pan.Add(s.Sub(v.ToScreen(c)))
}

// SetMirror sets mirroring, keeping the canvas point under s in place.
func (v *View) SetMirror(s Vec, on bool) {
	c := v.ToCanvas(s)
	v.Mirror = on
	v.Pan = v.Pan.Add(s.Sub(v.ToScreen(c)))
}

// Fit sets the view so that a canvas of cw×ch is centred in a screen of
// sw×sh with margin pixels around it, keeping rotation and mirroring. The
// zoom never exceeds 1 (small canvases are shown at 100 %).
func (v *View) Fit(cw, ch, sw, sh, margin float64) {
	if cw <= 0 || ch <= 0 || sw <= 0 || sh <= 0 {
		return
	}
	sin, cos := math.Abs(math.Sin(v.Rotation)), math.Abs(math.Cos(v.Rotation))
	bw, bh := cw*cos+ch*sin, cw*sin+ch*cos // rotated bounding box at zoom 1
	aw, ah := math.Max(sw-2*margin, 1), math.Max(sh-2*margin, 1)
	v.Zoom = clamp(math.Min(1, math.Min(aw/bw, ah/bh)), MinZoom, MaxZoom)
	v.Pan = Vec{}
	centre := v.ToScreen(Vec{cw / 2, ch / 2})
	v.Pan = Vec{sw / 2, sh / 2}.Sub(centre)
}

// FitFrame is the embed page's fit: no margin, the canvas scaled up or
// down to the frame, centred; contain shows all of it, cover fills the
// frame and crops the rest.
func (v *View) FitFrame(cw, ch, sw, sh float64, cover bool) {
	if cw <= 0 || ch <= 0 || sw <= 0 || sh <= 0 {
		return
	}
	sin, cos := math.Abs(math.Sin(v.Rotation)), math.Abs(math.Cos(v.Rotation))
	bw, bh := cw*cos+ch*sin, cw*sin+ch*cos
	z := math.Min(sw/bw, sh/bh)
	if cover {
		z = math.Max(sw/bw, sh/bh)
	}
	v.Zoom = clamp(z, MinZoom, MaxZoom)
	v.Pan = Vec{}
	centre := v.ToScreen(Vec{cw / 2, ch / 2})
	v.Pan = Vec{sw / 2, sh / 2}.Sub(centre)
}

// Pinch updates the view for a two-finger gesture whose fingers moved from
// a0, b0 to a1, b1 (screen points): the canvas points under the fingers
// follow them (translation, zoom from the distance ratio, rotation from the
// angle change when rotate is true). Degenerate gestures (fingers on one
// point) only pan.
func (v *View) Pinch(a0, b0, a1, b1 Vec, rotate bool) {
	m0, m1 := a0.Add(b0).Scale(0.5), a1.Add(b1).Scale(0.5)
	d0, d1 := b0.Sub(a0), b1.Sub(a1)
	anchor := v.ToCanvas(m0)
	if l0, l1 := d0.Len(), d1.Len(); l0 > 1e-6 && l1 > 1e-6 {
		v.Zoom = clamp(v.Zoom*l1/l0, MinZoom, MaxZoom)
		if rotate {
			v.Rotation = normAngle(v.Rotation + math.Atan2(d1.Y, d1.X) - math.Atan2(d0.Y, d0.X))
		}
	}
	v.Pan = v.Pan.Add(m1.Sub(v.ToScreen(anchor)))
}

func normAngle(a float64) float64 {
	a = math.Mod(a, 2*math.Pi)
	if a <= -math.Pi {
		a += 2 * math.Pi
	} else if a > math.Pi {
		a -= 2 * math.Pi
	}
	return a
}

func clamp(x, lo, hi float64) float64 {
	if math.IsNaN(x) {
		return lo
	}
	return math.Max(lo, math.Min(hi, x))
}

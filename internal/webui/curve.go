package webui

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// MaxCurvePoints bounds the control points of a Curve (Drawpile's curve
// editor allows a handful; 32 is generous).
const MaxCurvePoints = 32

// ErrCurve is wrapped by every NewCurve error.
var ErrCurve = errors.New("webui: invalid curve")

// Curve maps an input in [0,1] (pressure) to an output in [0,1]. It is a
// monotone cubic (Fritsch–Carlson) through its control points, so it
// never overshoots between points; outside the first and last point it is
// flat. The zero Curve is the identity.
type Curve struct {
	xs, ys, ms []float64 // control points and tangents; nil for identity
}

// Linear is the identity curve.
var Linear = Curve{}

// NewCurve builds a curve through points, which must have x and y in
// [0,1], distinct x, at least 2 and at most MaxCurvePoints. The points need
// not be sorted.
func NewCurve(points ...Vec) (Curve, error) {
	if len(points) < 2 || len(points) > MaxCurvePoints {
		return Curve{}, fmt.Errorf("%w: %d points, want 2..%d", ErrCurve, len(points), MaxCurvePoints)
	}
	pts := append([]Vec(nil), points...)
	sort.Slice(pts, func(i, j int) bool { return pts[i].X < pts[j].X })
	n := len(pts)
	c := Curve{xs: make([]float64, n), ys: make([]float64, n), ms: make([]float64, n)}
	for i, p := range pts {
		if !(p.X >= 0 && p.X <= 1 && p.Y >= 0 && p.Y <= 1) {
			return Curve{}, fmt.Errorf("%w: point (%v,%v) outside [0,1]", ErrCurve, p.X, p.Y)
		}
		if i > 0 && p.X == pts[i-1].X {
			return Curve{}, fmt.Errorf("%w: two points at x=%v", ErrCurve, p.X)
		}
		c.xs[i], c.ys[i] = p.X, p.Y
	}
	// Secant slopes, then Fritsch–Carlson tangents.
	delta := make([]float64, n-1)
	for i := range delta {
		delta[i] = (c.ys[i+1] - c.ys[i]) / (c.xs[i+1] - c.xs[i])
	}
	c.ms[0], c.ms[n-1] = delta[0], delta[n-2]
	for i := 1; i < n-1; i++ {
		if delta[i-1]*delta[i] <= 0 {
			c.ms[i] = 0
		} else {
			c.ms[i] = (delta[i-1] + delta[i]) / 2
		}
	}
	for i := range delta {
		if delta[i] == 0 {
			c.ms[i], c.ms[i+1] = 0, 0
			continue
		}
		a, b := c.ms[i]/delta[i], c.ms[i+1]/delta[i]
		if s := a*a + b*b; s > 9 {
			t := 3 / math.Sqrt(s)
			c.ms[i], c.ms[i+1] = t*a*delta[i], t*b*delta[i]
		}
	}
	return c, nil
}

// Eval returns the curve's value at x (clamped to [0,1]; NaN counts as 0).
func (c Curve) Eval(x float64) float64 {
	x = clamp(x, 0, 1)
	if c.xs == nil {
		return x
	}
	n := len(c.xs)
	if x <= c.xs[0] {
		return c.ys[0]
	}
	if x >= c.xs[n-1] {
		return c.ys[n-1]
	}
	i := sort.SearchFloat64s(c.xs, x) - 1 // xs[i] < x <= xs[i+1]
	h := c.xs[i+1] - c.xs[i]
	t := (x - c.xs[i]) / h
	t2, t3 := t*t, t*t*t
	y := (2*t3-3*t2+1)*c.ys[i] + (t3-2*t2+t)*h*c.ms[i] + (-2*t3+3*t2)*c.ys[i+1] + (t3-t2)*h*c.ms[i+1]
	return clamp(y, 0, 1)
}

// Points returns the control points (nil for the identity).
func (c Curve) Points() []Vec {
	var out []Vec
	for i := range c.xs {
		out = append(out, Vec{c.xs[i], c.ys[i]})
	}
	return out
}

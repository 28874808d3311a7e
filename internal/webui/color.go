package webui

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Color is a non-premultiplied 8-bit sRGB colour.
type Color struct{ R, G, B, A uint8 }

// ErrColor is wrapped by ParseHex errors.
var ErrColor = errors.New("webui: invalid colour")

// ParseHex parses "#rgb", "#rrggbb" or "#rrggbbaa" (the # is optional).
func ParseHex(s string) (Color, error) {
	if len(s) > 0 && s[0] == '#' {
		s = s[1:]
	}
	switch len(s) {
	case 3:
		s = string([]byte{s[0], s[0], s[1], s[1], s[2], s[2]})
		fallthrough
	case 6:
		s += "ff"
	case 8:
	default:
		return Color{}, fmt.Errorf("%w: %q", ErrColor, s)
	}
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return Color{}, fmt.Errorf("%w: %q", ErrColor, s)
	}
	return Color{uint8(v >> 24), uint8(v >> 16), uint8(v >> 8), uint8(v)}, nil
}

// Hex formats the colour as "#rrggbb" (alpha omitted when opaque).
func (c Color) Hex() string {
	if c.A == 255 {
		return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B)
	}
	return fmt.Sprintf("#%02x%02x%02x%02x", c.R, c.G, c.B, c.A)
}

// ARGB returns the colour as Drawpile's 32-bit ARGB word.
func (c Color) ARGB() uint32 {
	return uint32(c.A)<<24 | uint32(c.R)<<16 | uint32(c.G)<<8 | uint32(c.B)
}

// HSV returns hue in [0,360), saturation and value in [0,1].
func (c Color) HSV() (h, s, v float64) {
	r, g, b := float64(c.R)/255, float64(c.G)/255, float64(c.B)/255
	mx, mn := math.Max(r, math.Max(g, b)), math.Min(r, math.Min(g, b))
	v = mx
	d := mx - mn
	if mx > 0 {
		s = d / mx
	}
	if d == 0 {
		return 0, s, v
	}
	switch mx {
	case r:
		h = math.Mod((g-b)/d, 6)
	case g:
		h = (b-r)/d + 2
	default:
		h = (r-g)/d + 4
	}
	h *= 60
	if h < 0 {
		h += 360
	}
	return h, s, v
}

// FromHSV builds an opaque colour from hue (degrees, any value), saturation
// and value (clamped to [0,1]).
func FromHSV(h, s, v float64) Color {
	h = math.Mod(h, 360)
	if h < 0 {
		h += 360
	}
	if math.IsNaN(h) {
		h = 0
	}
	s, v = clamp(s, 0, 1), clamp(v, 0, 1)
	c := v * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	m := v - c
	var r, g, b float64
	switch {
	case h < 60:
		r, g, b = c, x, 0
	case h < 120:
		r, g, b = x, c, 0
	case h < 180:
		r, g, b = 0, c, x
	case h < 240:
		r, g, b = 0, x, c
	case h < 300:
		r, g, b = x, 0, c
	default:
		r, g, b = c, 0, x
	}
	to8 := func(f float64) uint8 { return uint8(math.Round(clamp(f+m, 0, 1) * 255)) }
	return Color{to8(r), to8(g), to8(b), 255}
}

// RecentColors is a most-recently-used list of colours without duplicates.
type RecentColors struct {
	Max    int // capacity; 0 means 10
	colors []Color
}

// Push moves c to the front.
func (r *RecentColors) Push(c Color) {
	max := r.Max
	if max <= 0 {
		max = 10
	}
	out := make([]Color, 0, max)
	out = append(out, c)
	for _, o := range r.colors {
		if o != c && len(out) < max {
			out = append(out, o)
		}
	}
	r.colors = out
}

// List returns the colours, most recent first.
func (r *RecentColors) List() []Color { return append([]Color(nil), r.colors...) }

package webui

import (
	"errors"
	"fmt"
	"image"
	"math"
)

// Raster size limits, checked before allocating: 8192 px a side, 32 Mpx.
const (
	MaxRasterSide   = 8192
	MaxRasterPixels = 32 << 20
)

// ErrRasterSize is returned by NewRaster for sizes outside the limits.
var ErrRasterSize = errors.New("webui: raster size out of range")

// Raster is a CPU layer for the local stroke preview. Pixels are
// premultiplied 8-bit RGBA (image.RGBA: offset (y*Stride + x*4), channel
// order R, G, B, A, each colour ≤ alpha). Dirty accumulates the changed
// area until TakeDirty.
type Raster struct {
	Img   *image.RGBA
	dirty image.Rectangle
}

// NewRaster allocates a w×h raster filled with the opaque colour bg.
func NewRaster(w, h int, bg Color) (*Raster, error) {
	if w < 1 || h < 1 || w > MaxRasterSide || h > MaxRasterSide || w*h > MaxRasterPixels {
		return nil, fmt.Errorf("%w: %dx%d", ErrRasterSize, w, h)
	}
	r := &Raster{Img: image.NewRGBA(image.Rect(0, 0, w, h))}
	pm := premul(bg, 1)
	pix := r.Img.Pix
	for i := 0; i < len(pix); i += 4 {
		pix[i], pix[i+1], pix[i+2], pix[i+3] = pm[0], pm[1], pm[2], pm[3]
	}
	r.dirty = r.Img.Rect
	return r, nil
}

// Bounds returns the raster rectangle.
func (r *Raster) Bounds() image.Rectangle { return r.Img.Rect }

// TakeDirty returns the area changed since the last call and resets it.
func (r *Raster) TakeDirty() image.Rectangle {
	d := r.dirty
	r.dirty = image.Rectangle{}
	return d
}

// At returns the non-premultiplied colour at (x, y); transparent outside.
func (r *Raster) At(x, y int) Color {
	if !(image.Point{x, y}.In(r.Img.Rect)) {
		return Color{}
	}
	i := r.Img.PixOffset(x, y)
	p := r.Img.Pix[i : i+4 : i+4]
	if p[3] == 0 {
		return Color{}
	}
	un := func(v uint8) uint8 { return uint8((uint32(v)*255 + uint32(p[3])/2) / uint32(p[3])) }
	return Color{un(p[0]), un(p[1]), un(p[2]), p[3]}
}

// premul returns c with its alpha multiplied by a ∈ [0,1], premultiplied,
// as 8-bit values with rounding.
func premul(c Color, a float64) [4]uint8 {
	al := float64(c.A) / 255 * a
	return [4]uint8{
		uint8(math.Round(float64(c.R) * al)),
		uint8(math.Round(float64(c.G) * al)),
		uint8(math.Round(float64(c.B) * al)),
		uint8(math.Round(255 * al)),
	}
}

// DrawDab stamps a dab in colour c (or erases when erase is set) with the
// brush kind's shape. Soft dabs are fully opaque inside Hardness×radius and
// fall off linearly to 0 at the radius; pixel dabs cover the pixels whose
// centres are inside the radius (at least one pixel). Blending is
// source-over on premultiplied values: dst = src + dst·(1−αsrc).
func (r *Raster) DrawDab(d Dab, c Color, kind BrushKind, erase bool) {
	rad := d.Size / 2
	if !(rad > 0) || !(d.Opacity > 0) || math.IsInf(d.X, 0) || math.IsInf(d.Y, 0) || math.IsNaN(d.X) || math.IsNaN(d.Y) {
		return
	}
	box := image.Rect(int(math.Floor(d.X-rad)), int(math.Floor(d.Y-rad)),
		int(math.Ceil(d.X+rad))+1, int(math.Ceil(d.Y+rad))+1).Intersect(r.Img.Rect)
	if box.Empty() {
		return
	}
	hard := clamp(d.Hardness, 0, 1)
	op := clamp(d.Opacity, 0, 1)
	if kind.IsPixel() && rad < 0.5 {
		rad = 0.5 // a 1 px pixel brush still covers the pixel it is on
	}
	changed := false
	for y := box.Min.Y; y < box.Max.Y; y++ {
		row := r.Img.Pix[r.Img.PixOffset(box.Min.X, y):]
		for x := box.Min.X; x < box.Max.X; x++ {
			dist := math.Hypot(float64(x)+0.5-d.X, float64(y)+0.5-d.Y) / rad
			var cov float64
			switch {
			case kind == PixelSquare:
				if math.Abs(float64(x)+0.5-d.X) <= rad && math.Abs(float64(y)+0.5-d.Y) <= rad {
					cov = 1
				}
			case kind == Pixel:
				if dist <= 1 {
					cov = 1
				}
			case dist >= 1:
				cov = 0
			case dist <= hard:
				cov = 1
			default:
				cov = (1 - dist) / (1 - hard)
			}
			if cov <= 0 {
				continue
			}
			a := op * cov
			p := row[(x-box.Min.X)*4 : (x-box.Min.X)*4+4 : (x-box.Min.X)*4+4]
			if erase {
				k := 1 - a*float64(c.A)/255
				for i := range 4 {
					p[i] = uint8(math.Round(float64(p[i]) * k))
				}
			} else {
				s := premul(c, a)
				k := 1 - float64(s[3])/255
				for i := range 4 {
					p[i] = uint8(math.Min(255, math.Round(float64(s[i])+float64(p[i])*k)))
				}
			}
			changed = true
		}
	}
	if changed {
		r.dirty = r.dirty.Union(box)
	}
}

// CopyRect copies the pixels of rect (clipped to the raster) into dst as
// tightly packed RGBA rows and returns the slice used; dst is reused when
// it is large enough. It is the buffer to upload with WritePixels.
func (r *Raster) CopyRect(rect image.Rectangle, dst []byte) []byte {
	rect = rect.Intersect(r.Img.Rect)
	n := rect.Dx() * rect.Dy() * 4
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	dst = dst[:n]
	w := rect.Dx() * 4
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		o := r.Img.PixOffset(rect.Min.X, y)
		copy(dst[(y-rect.Min.Y)*w:], r.Img.Pix[o:o+w])
	}
	return dst
}

// MarkDirty adds r (clipped to the raster) to the dirty area, for callers
// that write Img.Pix directly.
func (r *Raster) MarkDirty(rect image.Rectangle) {
	r.dirty = r.dirty.Union(rect.Intersect(r.Img.Rect))
}

package mirror

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"time"

	"drawbridge/canvas"
	"drawbridge/internal/webp"
)

// Format is a thumbnail image format.
type Format uint8

const (
	FormatPNG  Format = iota // image/png
	FormatWebP               // image/webp, lossless (internal/webp)
	numFormats
)

// ContentType is the format's MIME type.
func (f Format) ContentType() string {
	if f == FormatWebP {
		return "image/webp"
	}
	return "image/png"
}

// String is the format's short name ("png", "webp").
func (f Format) String() string {
	if f == FormatWebP {
		return "webp"
	}
	return "png"
}

// thumbCache is the latest thumbnail (guarded by Mirror.mu): the rendered
// image, immutable once stored, and its encodings, made on Run for the
// formats asked for recently and otherwise on demand by the first caller
// that wants them, so every format is encoded at most once per render.
type thumbCache struct {
	img  *image.NRGBA
	enc  [numFormats][]byte
	want [numFormats]time.Time // last request per format
}

// Thumbnail returns the latest PNG thumbnail; see ThumbnailAs.
func (m *Mirror) Thumbnail(ctx context.Context) ([]byte, time.Time, error) {
	return m.ThumbnailAs(ctx, FormatPNG)
}

// ThumbnailAs returns the latest thumbnail of the canvas encoded as f
// (fitting in Options.ThumbnailSize², transparent where the canvas is)
// and when it was rendered. Calling it keeps thumbnails fresh: while
// someone asks, Run re-renders at most once per Options.ThumbnailInterval
// and only when the canvas changed, and encodes the formats asked for
// since. The first call waits (bounded by ctx) for a render.
func (m *Mirror) ThumbnailAs(ctx context.Context, f Format) ([]byte, time.Time, error) {
	if f >= numFormats {
		return nil, time.Time{}, fmt.Errorf("mirror: unknown thumbnail format %d", f)
	}
	for {
		m.mu.Lock()
		now := time.Now()
		m.thumbWant = now
		m.thumb.want[f] = now
		if b := m.thumb.enc[f]; b != nil {
			at := m.thumbAt
			m.mu.Unlock()
			return b, at, nil
		}
		if img := m.thumb.img; img != nil {
			// Rendered, but not in this format yet: encode here, not on
			// Run, and keep the result unless a newer render came in.
			at := m.thumbAt
			m.mu.Unlock()
			b, err := encodeThumbnail(img, f)
			if err != nil {
				return nil, time.Time{}, err
			}
			m.mu.Lock()
			if m.thumb.img == img && m.thumb.enc[f] == nil {
				m.thumb.enc[f] = b
			}
			m.mu.Unlock()
			return b, at, nil
		}
		if m.closed {
			m.mu.Unlock()
			return nil, time.Time{}, ErrClosed
		}
		m.dirty = true
		made := m.thumbMade
		m.mu.Unlock()
		m.poke()
		select {
		case <-ctx.Done():
			return nil, time.Time{}, ctx.Err()
		case <-made:
		}
	}
}

// encodeThumbnail encodes img as f.
func encodeThumbnail(img *image.NRGBA, f Format) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	switch f {
	case FormatWebP:
		err = webp.Encode(&buf, img)
	default:
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		err = enc.Encode(&buf, img)
	}
	if err != nil {
		return nil, fmt.Errorf("mirror: encode %s thumbnail: %w", f, err)
	}
	return buf.Bytes(), nil
}

// makeThumbnail renders and scales the thumbnail and encodes it in the
// formats asked for within the idle window (on Run). A format that fails
// to encode is left to ThumbnailAs, which reports the error.
func (m *Mirror) makeThumbnail() {
	img := thumbnailImage(m.cv, m.opts.ThumbnailSize)
	m.mu.Lock()
	want := m.thumb.want
	m.mu.Unlock()
	var enc [numFormats][]byte
	for f := range numFormats {
		if time.Since(want[f]) >= m.opts.IdleTimeout.Abs()+time.Minute {
			continue
		}
		b, err := encodeThumbnail(img, f)
		if err != nil {
			m.opts.Logger.Error("mirror: encode thumbnail", "format", f.String(), "err", err)
			continue
		}
		enc[f] = b
	}
	m.mu.Lock()
	m.thumb.img = img
	m.thumb.enc = enc
	m.thumbAt = time.Now()
	m.dirty = false
	close(m.thumbMade)
	m.thumbMade = make(chan struct{})
	m.mu.Unlock()
}

// thumbnailImage renders cv scaled down to fit a box×box square (never
// scaled up); an empty canvas gives a 1×1 transparent image.
func thumbnailImage(cv *canvas.Canvas, box int) *image.NRGBA {
	w, h := cv.Width(), cv.Height()
	if w <= 0 || h <= 0 {
		return image.NewNRGBA(image.Rect(0, 0, 1, 1))
	}
	src := cv.Render(canvas.RenderOptions{})
	if w <= box && h <= box {
		return src
	}
	tw, th := box, box
	if w >= h {
		th = max(1, h*box/w)
	} else {
		tw = max(1, w*box/h)
	}
	return downscale(src, tw, th)
}

// downscale shrinks src to tw×th by averaging the source pixels whose
// top-left corner falls in each target pixel's area (box filter). Colours
// are averaged premultiplied (weighted by alpha) so transparent pixels do
// not darken edges, then unpremultiplied with rounding.
func downscale(src *image.NRGBA, tw, th int) *image.NRGBA {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	dst := image.NewNRGBA(image.Rect(0, 0, tw, th))
	for ty := range th {
		y0, y1 := ty*sh/th, max((ty+1)*sh/th, ty*sh/th+1)
		for tx := range tw {
			x0, x1 := tx*sw/tw, max((tx+1)*sw/tw, tx*sw/tw+1)
			var r, g, b, a, n uint64
			for y := y0; y < y1; y++ {
				row := src.Pix[y*src.Stride:]
				for x := x0; x < x1; x++ {
					p := row[x*4 : x*4+4 : x*4+4]
					pa := uint64(p[3])
					r += uint64(p[0]) * pa
					g += uint64(p[1]) * pa
					b += uint64(p[2]) * pa
					a += pa
					n++
				}
			}
			o := dst.Pix[ty*dst.Stride+tx*4 : ty*dst.Stride+tx*4+4 : ty*dst.Stride+tx*4+4]
			if a == 0 {
				continue // transparent
			}
			o[0] = uint8((r + a/2) / a)
			o[1] = uint8((g + a/2) / a)
			o[2] = uint8((b + a/2) / a)
			o[3] = uint8((a + n/2) / n)
		}
	}
	return dst
}

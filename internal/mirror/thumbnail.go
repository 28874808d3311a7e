package mirror

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"time"

	"drawbridge/canvas"
)

// Thumbnail returns the latest PNG thumbnail of the canvas (fitting in
// Options.ThumbnailSize², transparent where the canvas is) and when it was
// rendered. Calling it keeps thumbnails fresh: while someone asks, Run
// re-renders at most once per Options.ThumbnailInterval and only when the
// canvas changed. The first call waits (bounded by ctx) for a render.
func (m *Mirror) Thumbnail(ctx context.Context) ([]byte, time.Time, error) {
	m.mu.Lock()
	m.thumbWant = time.Now()
	if m.thumb != nil || m.closed {
		b, at, closed := m.thumb, m.thumbAt, m.closed
		m.mu.Unlock()
		if b == nil && closed {
			return nil, time.Time{}, ErrClosed
		}
		return b, at, nil
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
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.thumb == nil {
		return nil, time.Time{}, ErrClosed
	}
	return m.thumb, m.thumbAt, nil
}

// makeThumbnail renders, scales and encodes the thumbnail (on Run).
func (m *Mirror) makeThumbnail() {
	img := thumbnailImage(m.cv, m.opts.ThumbnailSize)
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		m.opts.Logger.Error("mirror: encode thumbnail", "err", err)
		return
	}
	m.mu.Lock()
	m.thumb = buf.Bytes()
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

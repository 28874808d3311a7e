package mirror

import (
	"bytes"
	"context"
	"image"
	"image/draw"
	"image/png"
	"testing"

	xwebp "golang.org/x/image/webp"

	"drawbridge/protocol"
)

// TestThumbnailWebP: the WebP thumbnail holds exactly the PNG's pixels,
// both come from the same render, and each encoding is cached.
func TestThumbnailWebP(t *testing.T) {
	m, ctx := thumbnailScene(t)

	wb, wat, err := m.ThumbnailAs(ctx, FormatWebP)
	if err != nil {
		t.Fatal(err)
	}
	if len(wb) < 20 || string(wb[:4]) != "RIFF" || string(wb[8:16]) != "WEBPVP8L" {
		t.Fatalf("not a lossless WebP: % x", wb[:min(len(wb), 16)])
	}
	pb, pat, err := m.ThumbnailAs(ctx, FormatPNG)
	if err != nil {
		t.Fatal(err)
	}
	if !wat.Equal(pat) {
		t.Errorf("WebP rendered at %v, PNG at %v: want the same render", wat, pat)
	}
	wimg, err := xwebp.Decode(bytes.NewReader(wb))
	if err != nil {
		t.Fatalf("decode WebP: %v", err)
	}
	pimg, err := png.Decode(bytes.NewReader(pb))
	if err != nil {
		t.Fatal(err)
	}
	a, b := toNRGBA(pimg), toNRGBA(wimg)
	if a.Rect != b.Rect || !bytes.Equal(a.Pix, b.Pix) {
		t.Fatalf("WebP pixels differ from the PNG's (%v vs %v)", b.Rect, a.Rect)
	}
	if a.Rect.Dx() != 100 || a.Rect.Dy() != 75 {
		t.Fatalf("thumbnail %v, want 100×75", a.Rect)
	}
	// Asked again: the cached bytes, not a new encoding.
	wb2, _, err := m.ThumbnailAs(ctx, FormatWebP)
	if err != nil {
		t.Fatal(err)
	}
	if &wb2[0] != &wb[0] {
		t.Error("second WebP request re-encoded the thumbnail")
	}
	if _, _, err := m.ThumbnailAs(ctx, numFormats); err == nil {
		t.Error("unknown format: no error")
	}
}

func toNRGBA(img image.Image) *image.NRGBA {
	if n, ok := img.(*image.NRGBA); ok && n.Rect.Min == (image.Point{}) {
		return n
	}
	n := image.NewNRGBA(image.Rect(0, 0, img.Bounds().Dx(), img.Bounds().Dy()))
	draw.Draw(n, n.Rect, img, img.Bounds().Min, draw.Src)
	return n
}

func TestFormatNames(t *testing.T) {
	for _, c := range []struct {
		f          Format
		name, mime string
	}{
		{FormatPNG, "png", "image/png"},
		{FormatWebP, "webp", "image/webp"},
	} {
		if c.f.String() != c.name || c.f.ContentType() != c.mime {
			t.Errorf("%d: %s %s, want %s %s", c.f, c.f, c.f.ContentType(), c.name, c.mime)
		}
	}
}

// backlogSource is a chanSource that reports queued batches as backlog,
// as session.Tap reports unread history.
type backlogSource struct{ *chanSource }

func (s backlogSource) Backlog() int64 { return int64(len(s.ch)) }

// TestFirstThumbnailWaitsForHistory: a thumbnail asked for while the
// mirror is still replaying the history shows the whole history, not an
// empty or half-drawn canvas.
func TestFirstThumbnailWaitsForHistory(t *testing.T) {
	src := backlogSource{newSource()}
	for _, f := range scene(t, 5) {
		src.ch <- []protocol.Frame{f} // one message per batch
	}
	m := New(src, Options{Logger: testLogger(t), IdleTimeout: -1, ThumbnailSize: 100})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.Run(ctx)
	b, _, err := m.ThumbnailAs(ctx, FormatWebP)
	if err != nil {
		t.Fatal(err)
	}
	img, err := xwebp.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds(); got.Dx() != 100 || got.Dy() != 75 {
		t.Fatalf("first thumbnail %v, want 100×75: rendered before the history was replayed", got)
	}
	if r, g, bl, a := img.At(5, 5).RGBA(); a>>8 != 255 || r>>8 != 0x20 || g>>8 != 0x60 || bl>>8 != 0xa0 {
		t.Errorf("thumbnail pixel (5,5) = %x %x %x %x, want 20 60 a0 ff", r>>8, g>>8, bl>>8, a>>8)
	}
}

package webp_test

import (
	"bufio"
	"bytes"
	"errors"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"

	"drawbridge/canvas"
	"drawbridge/internal/webp"
	"drawbridge/protocol"

	xwebp "golang.org/x/image/webp"
)

// renderRecording replays a recording with the canvas engine and renders
// it (transparent where the canvas is).
func renderRecording(tb testing.TB, path string) *image.NRGBA {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	rr, err := protocol.NewRecordingReader(bufio.NewReader(f))
	if err != nil {
		tb.Fatal(err)
	}
	layout, ok := protocol.LayoutFor(rr.Header().Version())
	if !ok {
		tb.Fatalf("%s: unsupported version", path)
	}
	c := canvas.New()
	for {
		fr, err := rr.ReadFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		if m, err := protocol.Decode(fr, layout); err == nil {
			_ = c.Apply(fr.Ctx(), m)
		}
	}
	return c.Render(canvas.RenderOptions{})
}

func recordings(tb testing.TB) []string {
	tb.Helper()
	paths, err := filepath.Glob("testdata/*.dprec")
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no recordings in testdata: %v", err)
	}
	return paths
}

// TestCanvasRenders encodes real canvas renders and checks that an
// independent decoder gives back every pixel.
func TestCanvasRenders(t *testing.T) {
	t.Parallel()
	for _, p := range recordings(t) {
		t.Run(filepath.Base(p), func(t *testing.T) {
			t.Parallel()
			img := renderRecording(t, p)
			var buf bytes.Buffer
			if err := webp.Encode(&buf, img); err != nil {
				t.Fatal(err)
			}
			got, err := xwebp.Decode(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if got.Bounds().Size() != img.Bounds().Size() {
				t.Fatalf("size %v, want %v", got.Bounds().Size(), img.Bounds().Size())
			}
			g, ok := got.(*image.NRGBA)
			if !ok {
				t.Fatalf("decoded %T, want *image.NRGBA", got)
			}
			for y := range img.Rect.Dy() {
				a := img.Pix[y*img.Stride : y*img.Stride+img.Rect.Dx()*4]
				b := g.Pix[y*g.Stride : y*g.Stride+img.Rect.Dx()*4]
				if !bytes.Equal(a, b) {
					t.Fatalf("row %d differs", y)
				}
			}
			var pngBuf bytes.Buffer
			if err := png.Encode(&pngBuf, img); err != nil {
				t.Fatal(err)
			}
			t.Logf("%v: webp %d bytes, png %d bytes", img.Rect.Size(), buf.Len(), pngBuf.Len())
		})
	}
}

// benchImage is a typical thumbnail: the largest stroke recording.
func benchImage(b *testing.B) *image.NRGBA {
	return renderRecording(b, "testdata/124_long_strokes_two_users.dprec")
}

// BenchmarkEncodeThumbnail reports encode time and size (bytes/op is the
// output size in the "size" metric) for a 384×256 canvas render.
func BenchmarkEncodeThumbnail(b *testing.B) {
	img := benchImage(b)
	b.Run("webp", func(b *testing.B) {
		var n int
		for b.Loop() {
			out, err := webp.Append(nil, img)
			if err != nil {
				b.Fatal(err)
			}
			n = len(out)
		}
		b.ReportMetric(float64(n), "size")
	})
	for _, lvl := range []png.CompressionLevel{png.BestSpeed, png.DefaultCompression} {
		name := map[png.CompressionLevel]string{png.BestSpeed: "png-bestspeed", png.DefaultCompression: "png-default"}[lvl]
		b.Run(name, func(b *testing.B) {
			enc := png.Encoder{CompressionLevel: lvl}
			var n int
			for b.Loop() {
				var buf bytes.Buffer
				if err := enc.Encode(&buf, img); err != nil {
					b.Fatal(err)
				}
				n = buf.Len()
			}
			b.ReportMetric(float64(n), "size")
		})
	}
}

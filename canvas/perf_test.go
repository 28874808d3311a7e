package canvas

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"os"
	"testing"
)

// The perf recording's expected image is not stored (5.9 MB); instead
// testdata/perf/perf_session.sha256 holds "WIDTH HEIGHT SHA256" of the
// decoded non-premultiplied RGBA pixels (image.NRGBA.Pix, stride 4·width) of
// ../shared/vectors/perf/perf_session.png. Regenerate it with
//
//	PERF_PNG=/path/to/perf_session.png go test -run TestPerfSessionHash ./canvas/
func imageHash(img *image.NRGBA) string {
	h := sha256.New()
	w := img.Bounds().Dx()
	for y := range img.Bounds().Dy() {
		h.Write(img.Pix[y*img.Stride : y*img.Stride+w*4])
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestPerfSessionHash(t *testing.T) {
	p := os.Getenv("PERF_PNG")
	if p == "" {
		t.Skip("PERF_PNG not set")
	}
	img := readPNG(t, p)
	line := fmt.Sprintf("%d %d %s\n", img.Bounds().Dx(), img.Bounds().Dy(), imageHash(img))
	if err := os.WriteFile("testdata/perf/perf_session.sha256", []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPerfSession(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("long: replays a 3000×2000 session (skipped with -short and -race)")
	}
	b, err := os.ReadFile("testdata/perf/perf_session.sha256")
	if err != nil {
		t.Fatal(err)
	}
	var w, h int
	var want string
	if _, err := fmt.Sscanf(string(b), "%d %d %s", &w, &h, &want); err != nil {
		t.Fatal(err)
	}
	c := loadRecording(t, "testdata/perf/perf_session.dprec")
	img := c.Render(RenderOptions{Checkerboard: true})
	if img.Bounds().Dx() != w || img.Bounds().Dy() != h {
		t.Fatalf("size %v, want %dx%d", img.Bounds().Size(), w, h)
	}
	if got := imageHash(img); got != want {
		if p := os.Getenv("PERF_PNG"); p != "" {
			mx, px := diffImages(img, readPNG(t, p))
			t.Errorf("max diff %d in %d px", mx, px)
		}
		t.Fatalf("pixel hash %s, want %s", got, want)
	}
}

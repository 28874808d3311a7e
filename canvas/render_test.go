package canvas

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"drawbridge/protocol"
)

var updateKnown = flag.Bool("update-known", false, "rewrite testdata/known_differences.tsv with the current results")

// loadRecording applies every message of a .dprec file to a new canvas.
func loadRecording(tb testing.TB, path string) *Canvas {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	c, err := renderRecording(bufio.NewReader(f))
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return c
}

func renderRecording(r io.Reader) (*Canvas, error) {
	rr, err := protocol.NewRecordingReader(r)
	if err != nil {
		return nil, err
	}
	layout, ok := protocol.LayoutFor(rr.Header().Version())
	if !ok {
		return nil, fmt.Errorf("unsupported version %q", rr.Header().Version())
	}
	c := New()
	for {
		fr, err := rr.ReadFrame()
		if errors.Is(err, io.EOF) {
			return c, nil
		}
		if err != nil {
			return nil, err
		}
		m, err := protocol.Decode(fr, layout)
		if err != nil {
			continue
		}
		_ = c.Apply(fr.Ctx(), m)
	}
}

func readPNG(tb testing.TB, path string) *image.NRGBA {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		tb.Fatal(err)
	}
	if n, ok := img.(*image.NRGBA); ok {
		return n
	}
	b := img.Bounds()
	n := image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			n.Set(x, y, img.At(x, y))
		}
	}
	return n
}

// diffImages returns the largest channel difference and the number of
// differing pixels (max = -1 if the sizes differ).
func diffImages(got, want *image.NRGBA) (maxDiff, px int) {
	if got.Bounds().Size() != want.Bounds().Size() {
		return -1, -1
	}
	w, h := got.Bounds().Dx(), got.Bounds().Dy()
	for y := range h {
		g := got.Pix[y*got.Stride : y*got.Stride+w*4]
		e := want.Pix[y*want.Stride : y*want.Stride+w*4]
		for x := range w {
			d := 0
			for k := range 4 {
				v := int(g[x*4+k]) - int(e[x*4+k])
				d = max(d, v, -v)
			}
			if d > 0 {
				px++
				maxDiff = max(maxDiff, d)
			}
		}
	}
	return maxDiff, px
}

// firstDiffs describes the first n differing pixels (for failure messages).
func firstDiffs(got, want *image.NRGBA, n int) string {
	var sb strings.Builder
	w, h := got.Bounds().Dx(), got.Bounds().Dy()
	for y := 0; y < h && n > 0; y++ {
		for x := 0; x < w && n > 0; x++ {
			o := y*got.Stride + x*4
			if g, e := got.Pix[o:o+4], want.Pix[o:o+4]; string(g) != string(e) {
				fmt.Fprintf(&sb, "\n\t(%d,%d) got %v want %v", x, y, g, e)
				n--
			}
		}
	}
	return sb.String()
}

type ceiling struct{ max, px int }

const knownPath = "testdata/known_differences.tsv"

func readKnown(t *testing.T) map[string]ceiling {
	m := map[string]ceiling{}
	b, err := os.ReadFile(knownPath)
	if err != nil {
		if os.IsNotExist(err) {
			return m
		}
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 3 {
			t.Fatalf("bad line in %s: %q", knownPath, line)
		}
		mx, err1 := strconv.Atoi(f[1])
		px, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil {
			t.Fatalf("bad line in %s: %q", knownPath, line)
		}
		m[f[0]] = ceiling{mx, px}
	}
	return m
}

// TestRenderConformance renders every case of the shared render vectors
// (copied from ../shared/vectors/render) and compares it with the PNG that
// Drawpile's scalar reference renderer produced. Cases listed in
// testdata/known_differences.tsv may differ up to their recorded ceiling;
// every other case must match exactly.
func TestRenderConformance(t *testing.T) {
	cases, err := filepath.Glob("testdata/render/*.dprec")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	known := readKnown(t)
	results := map[string]ceiling{}
	exact := 0
	for _, path := range cases {
		name := strings.TrimSuffix(filepath.Base(path), ".dprec")
		c := loadRecording(t, path)
		got := c.Render(RenderOptions{Checkerboard: true})
		want := readPNG(t, strings.TrimSuffix(path, ".dprec")+".png")
		mx, px := diffImages(got, want)
		results[name] = ceiling{mx, px}
		if mx == 0 {
			exact++
		}
		if *updateKnown {
			continue
		}
		k, isKnown := known[name]
		switch {
		case mx < 0:
			t.Errorf("%s: size %v, want %v", name, got.Bounds().Size(), want.Bounds().Size())
		case mx == 0:
		case !isKnown:
			t.Errorf("%s: max diff %d in %d px; was exact (not in %s)%s", name, mx, px, knownPath, firstDiffs(got, want, 5))
		case mx > k.max || px > k.px:
			t.Errorf("%s: got worse: max diff %d in %d px, ceiling %d/%d%s", name, mx, px, k.max, k.px, firstDiffs(got, want, 5))
		}
	}
	names := make([]string, 0, len(results))
	for n := range results {
		names = append(names, n)
	}
	sort.Strings(names)
	var sb strings.Builder
	sb.WriteString("# case\tmax_channel_diff\tdiffering_px (ceilings; see KNOWN_DIFFERENCES.md)\n")
	for _, n := range names {
		r := results[n]
		if r.max != 0 {
			fmt.Fprintf(&sb, "%s\t%d\t%d\n", n, r.max, r.px)
		}
	}
	t.Logf("render conformance: %d/%d cases exact", exact, len(cases))
	for _, n := range names {
		if r := results[n]; r.max != 0 {
			t.Logf("  %s: max %d, %d px", n, r.max, r.px)
		}
	}
	if *updateKnown {
		if err := os.WriteFile(knownPath, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

package main

import (
	"archive/zip"
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestRender renders a render-conformance case from the canvas package's
// testdata in both recording formats and checks the PNG against the
// reference image.
func TestRender(t *testing.T) {
	const name = "testdata/render/031_fillrect_normal_alpha"
	dir := t.TempDir()
	out := filepath.Join(dir, "out.png")
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"render", name + ".dprec", out}, nil, &stderr, &stderr); err != nil {
		t.Fatalf("render: %v (%s)", err, stderr.String())
	}
	want := decodePNG(t, name+".png")
	if got := decodePNG(t, out); !bytes.Equal(got, want) {
		t.Fatal("rendered .dprec differs from the reference")
	}
	out2 := filepath.Join(dir, "out2.png")
	if err := run(context.Background(), []string{"render", "--acl", name + ".dptxt", out2}, nil, &stderr, &stderr); err != nil {
		t.Fatalf("render dptxt: %v (%s)", err, stderr.String())
	}
	if got := decodePNG(t, out2); !bytes.Equal(got, want) {
		t.Fatal("rendered .dptxt differs from the reference")
	}
}

func TestRenderEveryUndo(t *testing.T) {
	const name = "testdata/render/112_undo_single_stroke"
	dir := t.TempDir()
	out := filepath.Join(dir, "f.png")
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"render", "--every-undo", "1", name + ".dprec", out}, nil, &stderr, &stderr); err != nil {
		t.Fatalf("render: %v (%s)", err, stderr.String())
	}
	frames, _ := filepath.Glob(filepath.Join(dir, "f-*.png"))
	if len(frames) == 0 {
		t.Fatal("no frames written")
	}
}

func TestRenderUsage(t *testing.T) {
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"render", "only-one-arg"}, nil, &stderr, &stderr); err != errUsage {
		t.Fatalf("got %v, want errUsage", err)
	}
}

func decodePNG(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return pixelsOf(img)
}

func pixelsOf(img image.Image) []byte {
	var buf bytes.Buffer
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bb, a := img.At(x, y).RGBA()
			buf.Write([]byte{byte(r >> 8), byte(g >> 8), byte(bb >> 8), byte(a >> 8)})
		}
	}
	return buf.Bytes()
}

func TestRenderORA(t *testing.T) {
	const name = "testdata/render/031_fillrect_normal_alpha"
	out := filepath.Join(t.TempDir(), "out.ora")
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"render", "--ora", name + ".dprec", out}, nil, &stderr, &stderr); err != nil {
		t.Fatalf("render: %v (%s)", err, stderr.String())
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) == 0 || zr.File[0].Name != "mimetype" || zr.File[0].Method != zip.Store {
		t.Fatal("mimetype must be the first, stored entry")
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
	}
	for _, want := range []string{"stack.xml", "mergedimage.png", "data/layer1.png", "data/background.png", "Thumbnails/thumbnail.png"} {
		if !names[want] {
			t.Errorf("missing %s (have %v)", want, names)
		}
	}
	rc, err := zr.Open("mergedimage.png")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	img, err := png.Decode(rc)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := pixelsOf(img), decodePNG(t, name+".png"); !bytes.Equal(got, want) {
		t.Error("merged image differs from the reference")
	}
}

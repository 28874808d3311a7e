package webp

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"math/rand/v2"
	"testing"

	xwebp "golang.org/x/image/webp"
)

// decodeNRGBA decodes b with golang.org/x/image/webp (an independent
// VP8L decoder) and returns its pixels as NRGBA.
func decodeNRGBA(t testing.TB, b []byte) *image.NRGBA {
	t.Helper()
	img, err := xwebp.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if m, ok := img.(*image.NRGBA); ok {
		return m
	}
	r := img.Bounds()
	m := image.NewNRGBA(r)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			m.Set(x, y, img.At(x, y))
		}
	}
	return m
}

// samePixels reports the first differing pixel of want and got.
func samePixels(t testing.TB, want, got *image.NRGBA) {
	t.Helper()
	if want.Rect.Dx() != got.Rect.Dx() || want.Rect.Dy() != got.Rect.Dy() {
		t.Fatalf("size: got %v, want %v", got.Rect, want.Rect)
	}
	for y := range want.Rect.Dy() {
		for x := range want.Rect.Dx() {
			w := want.NRGBAAt(want.Rect.Min.X+x, want.Rect.Min.Y+y)
			g := got.NRGBAAt(got.Rect.Min.X+x, got.Rect.Min.Y+y)
			if w != g {
				t.Fatalf("pixel (%d,%d): got %v, want %v", x, y, g, w)
			}
		}
	}
}

func roundTrip(t testing.TB, img *image.NRGBA) []byte {
	t.Helper()
	b, err := Append(nil, img)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	samePixels(t, img, decodeNRGBA(t, b))
	return b
}

func fill(w, h int, f func(x, y int) color.NRGBA) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetNRGBA(x, y, f(x, y))
		}
	}
	return m
}

func noise(w, h int, seed uint64, alpha bool) *image.NRGBA {
	r := rand.New(rand.NewPCG(seed, 1))
	return fill(w, h, func(x, y int) color.NRGBA {
		c := color.NRGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
		if alpha {
			c.A = uint8(r.IntN(256))
		}
		return c
	})
}

// blobs is a few flat rectangles on a transparent background, like a
// sketch: long runs, repeated colours, hard edges.
func blobs(w, h int, seed uint64) *image.NRGBA {
	r := rand.New(rand.NewPCG(seed, 2))
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for range 12 {
		c := color.NRGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(128 + r.IntN(128))}
		x0, y0 := r.IntN(w), r.IntN(h)
		x1, y1 := x0+r.IntN(w-x0)+1, y0+r.IntN(h-y0)+1
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				m.SetNRGBA(x, y, c)
			}
		}
	}
	return m
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		img  *image.NRGBA
	}{
		{"1x1 opaque", fill(1, 1, func(x, y int) color.NRGBA { return color.NRGBA{1, 2, 3, 255} })},
		{"1x1 transparent", image.NewNRGBA(image.Rect(0, 0, 1, 1))},
		{"1x1 black", fill(1, 1, func(x, y int) color.NRGBA { return color.NRGBA{0, 0, 0, 255} })},
		{"2x1", fill(2, 1, func(x, y int) color.NRGBA { return color.NRGBA{uint8(x * 200), 7, 9, 255} })},
		{"1x9 column", fill(1, 9, func(x, y int) color.NRGBA { return color.NRGBA{uint8(y * 20), uint8(y), 9, uint8(255 - y)} })},
		{"flat white 320x200", fill(320, 200, func(x, y int) color.NRGBA { return color.NRGBA{255, 255, 255, 255} })},
		{"flat colour 17x33", fill(17, 33, func(x, y int) color.NRGBA { return color.NRGBA{12, 200, 99, 255} })},
		{"transparent 64x64", image.NewNRGBA(image.Rect(0, 0, 64, 64))},
		{"horizontal gradient", fill(300, 40, func(x, y int) color.NRGBA { return color.NRGBA{uint8(x), uint8(x / 2), uint8(255 - x), 255} })},
		{"diagonal gradient alpha", fill(129, 77, func(x, y int) color.NRGBA {
			return color.NRGBA{uint8(x + y), uint8(x * y), uint8(y * 3), uint8(x * 2)}
		})},
		{"radial-ish", fill(200, 150, func(x, y int) color.NRGBA {
			d := (x-100)*(x-100) + (y-75)*(y-75)
			return color.NRGBA{uint8(d >> 4), uint8(d >> 6), uint8(d), 255}
		})},
		{"noise 31x29", noise(31, 29, 1, false)},
		{"noise alpha 100x3", noise(100, 3, 2, true)},
		{"noise 257x130", noise(257, 130, 3, true)},
		{"blobs 320x240", blobs(320, 240, 4)},
		{"blobs 1000x700", blobs(1000, 700, 5)},
		{"blobs 333x1", blobs(333, 1, 6)},
		{"stripes", fill(97, 61, func(x, y int) color.NRGBA {
			if (x/3+y/5)%2 == 0 {
				return color.NRGBA{255, 0, 0, 255}
			}
			return color.NRGBA{0, 0, 255, 128}
		})},
		{"few colours noise", fill(150, 90, func(x, y int) color.NRGBA {
			v := uint8((x*7 + y*13 + x*y) % 5)
			return color.NRGBA{v * 60, 255 - v*50, v, 255}
		})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			roundTrip(t, c.img)
		})
	}
}

func TestFlatCanvasIsTiny(t *testing.T) {
	t.Parallel()
	b := roundTrip(t, fill(1000, 700, func(x, y int) color.NRGBA { return color.NRGBA{255, 255, 255, 255} }))
	// 700,000 identical pixels are one literal and ~171 copies of 4096
	// pixels, each about 12 bits (length symbol plus 10 extra bits; the
	// distance code is the only one used, so it takes 0 bits).
	if len(b) > 400 {
		t.Errorf("flat 1000×700 image is %d bytes, want ≤ 400", len(b))
	}
}

func TestOtherImageTypes(t *testing.T) {
	t.Parallel()
	src := blobs(40, 30, 7)
	// A sub-image (non-zero Min, Stride wider than the rows).
	sub := src.SubImage(image.Rect(5, 3, 33, 27)).(*image.NRGBA)
	b, err := Append(nil, sub)
	if err != nil {
		t.Fatal(err)
	}
	samePixels(t, sub, decodeNRGBA(t, b))

	// Premultiplied RGBA goes through color.NRGBAModel.
	rgba := image.NewRGBA(image.Rect(0, 0, 20, 10))
	for y := range 10 {
		for x := range 20 {
			a := uint8(x * 13)
			rgba.SetRGBA(x, y, color.RGBA{a / 2, a / 3, uint8(y) * a / 255, a})
		}
	}
	var buf bytes.Buffer
	if err := Encode(&buf, rgba); err != nil {
		t.Fatal(err)
	}
	want := image.NewNRGBA(rgba.Rect)
	for y := range 10 {
		for x := range 20 {
			want.Set(x, y, rgba.At(x, y))
		}
	}
	samePixels(t, want, decodeNRGBA(t, buf.Bytes()))
}

func TestSizeErrors(t *testing.T) {
	t.Parallel()
	for _, r := range []image.Rectangle{
		image.Rect(0, 0, 0, 0),
		image.Rect(0, 0, 5, 0),
		image.Rect(0, 0, MaxSize+1, 1),
		image.Rect(0, 0, 1, MaxSize+1),
	} {
		// An image.Uniform-backed fake so no pixels are allocated.
		_, err := Append(nil, sizedImage{r})
		var se *SizeError
		if !errors.As(err, &se) {
			t.Errorf("%v: got %v, want *SizeError", r, err)
		}
	}
}

type sizedImage struct{ r image.Rectangle }

func (s sizedImage) ColorModel() color.Model { return color.NRGBAModel }
func (s sizedImage) Bounds() image.Rectangle { return s.r }
func (s sizedImage) At(x, y int) color.Color { return color.NRGBA{} }

func TestRIFFContainer(t *testing.T) {
	t.Parallel()
	for w := 1; w < 6; w++ {
		b, err := Append(nil, noise(w, 2, uint64(w), true))
		if err != nil {
			t.Fatal(err)
		}
		if string(b[0:4]) != "RIFF" || string(b[8:16]) != "WEBPVP8L" {
			t.Fatalf("bad container header % x", b[:16])
		}
		riff := int(b[4]) | int(b[5])<<8 | int(b[6])<<16 | int(b[7])<<24
		chunk := int(b[16]) | int(b[17])<<8 | int(b[18])<<16 | int(b[19])<<24
		if riff != len(b)-8 || len(b)%2 != 0 || chunk+20 > len(b) || chunk+21 < len(b) {
			t.Fatalf("sizes: riff %d chunk %d file %d", riff, chunk, len(b))
		}
		if b[20] != 0x2f {
			t.Fatalf("signature %#x", b[20])
		}
	}
}

func TestSubPixels(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(9, 9))
	for range 10000 {
		a, b := r.Uint32(), r.Uint32()
		if r.IntN(4) == 0 {
			b = a ^ 0x80808080
		}
		var want uint32
		for s := uint(0); s < 32; s += 8 {
			want |= ((a>>s - b>>s) & 0xff) << s
		}
		if got := subPixels(a, b); got != want {
			t.Fatalf("subPixels(%#x, %#x) = %#x, want %#x", a, b, got, want)
		}
	}
}

// TestPredictModes checks every mode of predict against a per-channel
// reading of the specification on random neighbourhoods.
func TestPredictModes(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	avg := func(a, b int) int { return (a + b) / 2 }
	clamp := func(v int) int { return min(max(v, 0), 255) }
	for range 2000 {
		const width = 3
		pix := make([]uint32, 2*width)
		for i := range pix {
			pix[i] = r.Uint32()
		}
		i := width + 1 // (1,1): L = pix[3], TL = pix[0], T = pix[1], TR = pix[2]
		for mode := range uint8(numModes) {
			got := predict(mode, pix, i, width)
			for s := uint(0); s < 32; s += 8 {
				c := func(p uint32) int { return int(p >> s & 0xff) }
				L, T, TL, TR := c(pix[3]), c(pix[1]), c(pix[0]), c(pix[2])
				var want int
				switch mode {
				case 0:
					want = c(0xff000000)
				case 1:
					want = L
				case 2:
					want = T
				case 3:
					want = TR
				case 4:
					want = TL
				case 5:
					want = avg(avg(L, TR), T)
				case 6:
					want = avg(L, TL)
				case 7:
					want = avg(L, T)
				case 8:
					want = avg(TL, T)
				case 9:
					want = avg(T, TR)
				case 10:
					want = avg(avg(L, TL), avg(T, TR))
				case 11:
					var pl, pt int
					for s2 := uint(0); s2 < 32; s2 += 8 {
						c2 := func(p uint32) int { return int(p >> s2 & 0xff) }
						pl += abs(c2(pix[1]) - c2(pix[0]))
						pt += abs(c2(pix[3]) - c2(pix[0]))
					}
					if pl < pt {
						want = L
					} else {
						want = T
					}
				case 12:
					want = clamp(L + T - TL)
				case 13:
					a := avg(L, T)
					want = clamp(a + (a-TL)/2)
				}
				if c(got) != want {
					t.Fatalf("mode %d channel %d: got %d, want %d", mode, s/8, c(got), want)
				}
			}
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

package canvas

import (
	"math/rand/v2"
	"testing"
)

func randPixel(r *rand.Rand) Pixel15 {
	switch r.IntN(8) {
	case 0:
		return Pixel15{}
	case 1:
		return Pixel15{uint16(r.IntN(One + 1)), uint16(r.IntN(One + 1)), uint16(r.IntN(One + 1)), One}
	}
	a := uint16(r.IntN(One + 1))
	return Pixel15{uint16(r.IntN(int(a) + 1)), uint16(r.IntN(int(a) + 1)), uint16(r.IntN(int(a) + 1)), a}
}

func randUPixel(r *rand.Rand) upixel15 {
	return upixel15{uint32(r.IntN(One + 1)), uint32(r.IntN(One + 1)), uint32(r.IntN(One + 1)), uint32(r.IntN(One + 1))}
}

func randOpacity(r *rand.Rand) uint32 {
	switch r.IntN(4) {
	case 0:
		return One
	case 1:
		return 0
	}
	return uint32(r.IntN(One + 1))
}

func allModes() []BlendMode {
	var ms []BlendMode
	for m := range 256 {
		if modeTable[m].fam != famNone || m == int(ModeNormalAndEraser) {
			ms = append(ms, BlendMode(m))
		}
	}
	return ms
}

// TestBlendInvariants checks, for every blend mode in both contexts, that
// valid inputs give valid outputs: colour channels ≤ alpha ≤ One.
func TestBlendInvariants(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for _, m := range allModes() {
		for range 20000 {
			d, s := randPixel(r), randPixel(r)
			o := randOpacity(r)
			if p := blendPixel(d, s, m, o); !p.Valid() {
				t.Fatalf("pixel mode %d: blend(%v, %v, O=%d) = %v invalid", m, d, s, o, p)
			}
			if !m.ValidForBrush() {
				continue
			}
			src := randUPixel(r)
			mask := uint32(r.IntN(One + 1))
			if p := blendMaskPixel(d, src, m, mask, o); !p.Valid() {
				t.Fatalf("mask mode %d: blend(%v, %v, m=%d, O=%d) = %v invalid", m, d, src, mask, o, p)
			}
		}
	}
}

// TestKernelsMatchReference compares the row/tile kernels (fast paths) with
// the per-pixel reference functions on random tiles, for every mode.
func TestKernelsMatchReference(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for _, m := range allModes() {
		for range 8 {
			var dst, src [TilePixels]Pixel15
			for i := range dst {
				dst[i], src[i] = randPixel(r), randPixel(r)
			}
			o := randOpacity(r)
			want := dst
			for i := range want {
				want[i] = blendPixel(want[i], src[i], m, o)
			}
			got := dst
			blendTile(&got, &src, o, m)
			if got != want {
				t.Fatalf("blendTile mode %d O=%d differs from reference", m, o)
			}
			mask := make([]uint16, TilePixels)
			for i := range mask {
				if r.IntN(3) > 0 {
					mask[i] = uint16(r.IntN(One + 1))
				}
			}
			col := randUPixel(r)
			want = dst
			for i := range want {
				want[i] = blendMaskPixel(want[i], col, m, uint32(mask[i]), o)
			}
			got = dst
			blendMask(got[:], col, m, mask, o)
			if got != want {
				t.Fatalf("blendMask mode %d O=%d differs from reference", m, o)
			}
		}
	}
}

// Hand-derived values (engine.md §2.3).
func TestBlendExamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  Pixel15
		want Pixel15
	}{
		// Normal, opaque source at full opacity replaces the pixel.
		{"normal opaque", blendPixel(Pixel15{1, 2, 3, 100}, Pixel15{10, 20, 30, One}, ModeNormal, One), Pixel15{10, 20, 30, One}},
		// Normal at half opacity over transparent: c = s.c·O >> 15.
		{"normal half", blendPixel(Pixel15{}, Pixel15{One, 0, One, One}, ModeNormal, One/2), Pixel15{One / 2, 0, One / 2, One / 2}},
		// Erase with alpha 1/2 halves everything: k = One − One/2.
		{"erase", blendPixel(Pixel15{1000, 2000, 3000, 4000}, Pixel15{0, 0, 0, One / 2}, ModeErase, One), Pixel15{500, 1000, 1500, 2000}},
		// Behind onto opaque does nothing.
		{"behind opaque", blendPixel(Pixel15{1, 2, 3, One}, Pixel15{One, One, One, One}, ModeBehind, One), Pixel15{1, 2, 3, One}},
		// Replace at O: every channel mul(s, O).
		{"replace", blendPixel(Pixel15{1, 2, 3, 4}, Pixel15{One, One, One, One}, ModeReplace, One/4), Pixel15{One / 4, One / 4, One / 4, One / 4}},
		// Mask Normal: m = One, O = One writes the brush colour.
		{"mask normal", blendMaskPixel(Pixel15{}, upixel15{100, 200, 300, One}, ModeNormal, One, One), Pixel15{100, 200, 300, One}},
		// Compare density soft: only raises alpha to t = mul(m, O).
		{"cds", blendMaskPixel(Pixel15{}, upixel15{One, 0, 0, One}, ModeCompareDensitySoft, One, One/2), Pixel15{One / 2, 0, 0, One / 2}},
		// Multiply with white keeps the backdrop.
		{"multiply white", blendPixel(Pixel15{1000, 2000, 3000, One}, Pixel15{One, One, One, One}, ModeMultiply, One), Pixel15{1000, 2000, 3000, One}},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestConversions(t *testing.T) {
	t.Parallel()
	for c := range 256 {
		c15 := Conv8To15(uint8(c))
		if want := uint16(float64(c) / 255 * 32768); c15 != want { // floor(c/255·32768)
			t.Fatalf("8→15(%d) = %d, want %d", c, c15, want)
		}
		if back := Conv15To8(c15); back != uint8(c) {
			t.Fatalf("8→15→8(%d) = %d", c, back)
		}
	}
	for c := 0; c <= One; c++ {
		want := uint8(float64(c)/32768*255 + 0.5)
		if got := Conv15To8(uint16(c)); got != want {
			t.Fatalf("15→8(%d) = %d, want %d", c, got, want)
		}
	}
	for _, tt := range []struct{ in, want uint16 }{{0, 0}, {1, 128}, {128, 16448}, {254, 32639}, {255, 32768}} {
		if got := Conv8To15(uint8(tt.in)); got != tt.want {
			t.Errorf("8→15(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
	// Qt unpremultiply: a = 128, c = 64 → (64·130560·… ) = 128 (half of 255 rounds up)
	if got := unpremultiply8(64, 128); got != 128 {
		t.Errorf("unpremultiply8(64, 128) = %d, want 128", got)
	}
}

func TestSqrt15(t *testing.T) {
	t.Parallel()
	for x := fix(0); x <= One; x += 7 {
		got := fsqrt(x)
		exact := fix(0)
		for (exact+1)*(exact+1) <= x<<15 {
			exact++
		}
		if got+1 < exact || got > exact+1 {
			t.Fatalf("sqrt15(%d) = %d, exact floor %d", x, got, exact)
		}
	}
}

package imagecodec

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/png"
	"io"
	"os"
	"testing"

	"drawbridge/protocol"
)

// Payload offsets of the image fields (protocol.md §3.1).
const (
	putImageImage   = 20 // layer u24, mode u8, x, y, w, h u32
	putImageW       = 12
	putImageH       = 16
	putTileImage    = 11 // user u8, layer u24, sublayer u8, col, row, repeat u16
	putTileCol      = 5
	putTileRow      = 7
	syncSelMask     = 6 // user u8, selection u8, col, row u16
	typePutImage    = 136
	typePutTile     = 146
	typeBackground  = 147
	typeSyncSelTile = 177
	typePutImageZ   = 178
	typePutTileZ    = 179
	typeBackgroundZ = 180
)

func readFrames(t testing.TB, name string) []protocol.Frame {
	t.Helper()
	f, err := os.Open("testdata/" + name + ".dprec")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := protocol.NewRecordingReader(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	var frames []protocol.Frame
	for {
		fr, err := r.ReadFrame()
		if err == io.EOF {
			return frames
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, fr.Clone())
	}
}

func readPNG(t *testing.T, name string) image.Image {
	t.Helper()
	f, err := os.Open("testdata/" + name + ".png")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// checkPremultiplied fails if any colour channel exceeds alpha: a wrong plane
// order or delta coding produces such pixels almost everywhere.
func checkPremultiplied(t *testing.T, pix []byte) {
	t.Helper()
	for i := 0; i < len(pix); i += 4 {
		if a := pix[i+3]; pix[i] > a || pix[i+1] > a || pix[i+2] > a {
			t.Fatalf("pixel %d = %v is not premultiplied", i/4, pix[i:i+4])
		}
	}
}

// checkOpaqueAgainstPNG compares every fully opaque pixel of an image placed
// at (x0, y0) with the rendered reference (an opaque pixel on the top layer
// in normal mode is what the renderer shows). It returns how many pixels
// were compared.
func checkOpaqueAgainstPNG(t *testing.T, ref image.Image, pix []byte, w, h, x0, y0 int) int {
	t.Helper()
	n := 0
	for y := range h {
		for x := range w {
			p := pix[4*(y*w+x):]
			if p[3] != 255 || !(image.Point{x0 + x, y0 + y}).In(ref.Bounds()) {
				continue
			}
			r, g, b, _ := ref.At(x0+x, y0+y).RGBA()
			if uint8(r>>8) != p[2] || uint8(g>>8) != p[1] || uint8(b>>8) != p[0] {
				t.Fatalf("pixel (%d,%d): decoded BGRA %v, reference RGB %d,%d,%d", x0+x, y0+y, p[:4], r>>8, g>>8, b>>8)
			}
			n++
		}
	}
	return n
}

func TestPutImageZstdVector(t *testing.T) {
	t.Parallel()
	ref := readPNG(t, "043_putimagezstd_planar_delta")
	images := 0
	for _, f := range readFrames(t, "043_putimagezstd_planar_delta") {
		if f.Type() != typePutImageZ {
			continue
		}
		p := f.Payload()
		x, y := int(binary.BigEndian.Uint32(p[4:])), int(binary.BigEndian.Uint32(p[8:]))
		w, h := int(binary.BigEndian.Uint32(p[putImageW:])), int(binary.BigEndian.Uint32(p[putImageH:]))
		data := p[putImageImage:]
		pix, err := DecodeImageZstd(data, w, h)
		if err != nil {
			t.Fatal(err)
		}
		checkPremultiplied(t, pix)
		roundTrip(t, pix, w, h)
		images++
		if images == 2 { // the second image is on the top layer
			if n := checkOpaqueAgainstPNG(t, ref, pix, w, h, x, y); n < 100 {
				t.Errorf("only %d opaque pixels compared", n)
			}
		}
		// Wrong dimensions are refused before decompressing.
		if _, err := DecodeImageZstd(data, w+1, h); err == nil {
			t.Error("wrong width accepted")
		}
	}
	if images != 2 {
		t.Fatalf("%d putimagezstd messages, want 2", images)
	}
}

func roundTrip(t *testing.T, pix []byte, w, h int) {
	t.Helper()
	for _, c := range []struct {
		name string
		enc  func([]byte, int, int) ([]byte, error)
		dec  func([]byte, int, int) ([]byte, error)
	}{
		{"zstd", EncodeImageZstd, DecodeImageZstd},
		{"deflate", EncodeImageDeflate, DecodeImageDeflate},
	} {
		data, err := c.enc(pix, w, h)
		if err != nil {
			t.Fatalf("%s encode: %v", c.name, err)
		}
		got, err := c.dec(data, w, h)
		if err != nil {
			t.Fatalf("%s decode: %v", c.name, err)
		}
		if !bytes.Equal(got, pix) {
			t.Fatalf("%s round trip differs", c.name)
		}
	}
}

func TestPutImageDeflateVector(t *testing.T) {
	t.Parallel()
	ref := readPNG(t, "037_putimage_opaque_normal")
	n := 0
	for _, f := range readFrames(t, "037_putimage_opaque_normal") {
		if f.Type() != typePutImage {
			continue
		}
		p := f.Payload()
		x, y := int(binary.BigEndian.Uint32(p[4:])), int(binary.BigEndian.Uint32(p[8:]))
		w, h := int(binary.BigEndian.Uint32(p[putImageW:])), int(binary.BigEndian.Uint32(p[putImageH:]))
		pix, err := DecodeImageDeflate(p[putImageImage:], w, h)
		if err != nil {
			t.Fatal(err)
		}
		checkPremultiplied(t, pix)
		roundTrip(t, pix, w, h)
		n += checkOpaqueAgainstPNG(t, ref, pix, w, h, x, y)
	}
	if n < 1000 {
		t.Errorf("only %d opaque pixels compared", n)
	}
}

func TestPutTileVectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		tileType protocol.Type
		bgType   protocol.Type
		decode   func([]byte) (Tile, error)
		encode   func(Tile) ([]byte, error)
		tiles    int // image tiles expected
		solids   int // solid tiles and backgrounds expected
	}{
		{"045_puttile_deflate_image", typePutTile, typeBackground, DecodeTileDeflate, EncodeTileDeflate, 3, 1},
		{"046_puttilezstd_and_background_zstd", typePutTileZ, typeBackgroundZ, DecodeTileZstd, EncodeTileZstd, 2, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ref := readPNG(t, tc.name)
			tiles, solids, compared := 0, 0, 0
			for _, f := range readFrames(t, tc.name) {
				var data []byte
				col, row := -1, -1
				switch f.Type() {
				case tc.tileType:
					p := f.Payload()
					data = p[putTileImage:]
					col, row = int(binary.BigEndian.Uint16(p[putTileCol:])), int(binary.BigEndian.Uint16(p[putTileRow:]))
				case tc.bgType:
					data = f.Payload()
				default:
					continue
				}
				tile, err := tc.decode(data)
				if err != nil {
					t.Fatal(err)
				}
				enc, err := tc.encode(tile)
				if err != nil {
					t.Fatal(err)
				}
				again, err := tc.decode(enc)
				if err != nil {
					t.Fatal(err)
				}
				if again.Solid != tile.Solid || again.Color != tile.Color || !bytes.Equal(again.Pix, tile.Pix) {
					t.Fatal("round trip differs")
				}
				if tile.Solid {
					solids++
					if len(data) != 4 || !bytes.Equal(enc, data) {
						t.Errorf("solid %08x re-encodes as %x, was %x", tile.Color, enc, data)
					}
					continue
				}
				tiles++
				checkPremultiplied(t, tile.Pix)
				compared += checkOpaqueAgainstPNG(t, ref, tile.Pix, TileSize, TileSize, col*TileSize, row*TileSize)
			}
			if compared < 200 {
				t.Errorf("only %d opaque pixels compared", compared)
			}
			if tiles != tc.tiles || solids != tc.solids {
				t.Errorf("%d tiles, %d solids; want %d, %d", tiles, solids, tc.tiles, tc.solids)
			}
		})
	}
}

// TestSolidColourByteOrder checks the two solid-colour byte orders against
// the rendered reference of 046: the zstd background "2Ojw/w==" is stored
// little-endian (bytes B, G, R, A), so the canvas where no tile was put is
// RGB f0 e8 d8.
func TestSolidColourByteOrder(t *testing.T) {
	t.Parallel()
	bg, err := DecodeTileZstd([]byte{0xd8, 0xe8, 0xf0, 0xff})
	if err != nil || !bg.Solid || bg.Color != 0xfff0e8d8 {
		t.Fatalf("zstd solid = %+v, %v", bg, err)
	}
	ref := readPNG(t, "046_puttilezstd_and_background_zstd")
	r, g, b, _ := ref.At(10, 100).RGBA() // tile col 0, row 1: nothing put there
	if got := uint32(0xff000000 | (r>>8)<<16 | (g>>8)<<8 | b>>8); got != bg.Color {
		t.Errorf("reference background %08x, decoded %08x", got, bg.Color)
	}
	d, err := DecodeTileDeflate([]byte{0xff, 0xf0, 0xe8, 0xd8})
	if err != nil || d.Color != 0xfff0e8d8 {
		t.Errorf("deflate solid = %+v, %v", d, err)
	}
}

func TestSelectionTileVector(t *testing.T) {
	t.Parallel()
	kinds := map[SelectionTile]int{}
	for _, f := range readFrames(t, "126_selection_mask_dabs") {
		if f.Type() != typeSyncSelTile {
			continue
		}
		data := f.Payload()[syncSelMask:]
		kind, mask, err := DecodeSelectionTile(data)
		if err != nil {
			t.Fatal(err)
		}
		kinds[kind]++
		if kind != SelectionTileMask {
			continue
		}
		if len(mask) != TilePixels {
			t.Fatalf("mask of %d bytes", len(mask))
		}
		enc, err := EncodeSelectionTile(mask)
		if err != nil {
			t.Fatal(err)
		}
		_, again, err := DecodeSelectionTile(enc)
		if err != nil || !bytes.Equal(again, mask) {
			t.Fatalf("round trip: %v", err)
		}
	}
	if kinds[SelectionTileOpaque] != 1 || kinds[SelectionTileMask] != 2 {
		t.Errorf("kinds = %v", kinds)
	}
}

func TestMaskRoundTrip(t *testing.T) {
	t.Parallel()
	w, h := 37, 11
	mask := make([]byte, w*h)
	for i := range mask {
		mask[i] = byte(i * 7 % 256)
	}
	for _, c := range []struct {
		name string
		enc  func([]byte, int, int) ([]byte, error)
		dec  func([]byte, int, int) ([]byte, error)
	}{
		{"deflate", EncodeMaskDeflate, DecodeMaskDeflate},
		{"zstd", EncodeMaskZstd, DecodeMaskZstd},
	} {
		data, err := c.enc(mask, w, h)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.dec(data, w, h)
		if err != nil || !bytes.Equal(got, mask) {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got, err := c.dec(nil, w, h); got != nil || err != nil {
			t.Errorf("%s: empty mask = %v, %v", c.name, got, err)
		}
		if _, err := c.dec(data, w, h+1); err == nil {
			t.Errorf("%s: wrong height accepted", c.name)
		}
	}
}

// TestKnownBytes pins the wire format with hand-derived bytes.
func TestKnownBytes(t *testing.T) {
	t.Parallel()
	// Two pixels, BGRA premultiplied: (1,2,3,4) and (5,5,5,5).
	// Planes B: 1,5 → deltas 1,4; G: 2,5 → 2,3; R: 3,5 → 3,2; A: 4,5 → 4,1.
	pix := []byte{1, 2, 3, 4, 5, 5, 5, 5}
	if got, want := PixelsToPlanes(pix), []byte{1, 4, 2, 3, 3, 2, 4, 1}; !bytes.Equal(got, want) {
		t.Errorf("planes = %v, want %v", got, want)
	}
	enc, err := EncodeImageZstd(pix, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := binary.LittleEndian.Uint32(enc); got != 8 || !bytes.Equal(enc[4:8], []byte{0x28, 0xb5, 0x2f, 0xfd}) {
		t.Errorf("zstd prefix %x", enc[:8])
	}
	def, err := EncodeImageDeflate(pix, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(def[:6], []byte{0, 0, 0, 8, 0x78, 0xda}) {
		t.Errorf("deflate prefix %x, want 00000008 78da", def[:6])
	}
}

func TestHostileSizes(t *testing.T) {
	t.Parallel()
	// A 4 GiB declaration must be refused without allocating it.
	zHuge := append([]byte{0xff, 0xff, 0xff, 0xff}, 0x28, 0xb5, 0x2f, 0xfd)
	qHuge := []byte{0xff, 0xff, 0xff, 0xff, 0x78, 0xda}
	tests := []struct {
		name    string
		err     error
		tooBig  bool
		allocOK bool
	}{
		{"InflateQt huge", func() error { _, err := InflateQt(qHuge, 0); return err }(), true, false},
		{"DecompressZstd huge", func() error { _, err := DecompressZstd(zHuge, 0); return err }(), true, false},
		{"image dims huge", func() error { _, err := DecodeImageZstd(zHuge, 1<<20, 1<<20); return err }(), true, false},
		{"image dims negative", func() error { _, err := DecodeImageDeflate(qHuge, -1, 5); return err }(), false, false},
		{"InflateQt short", func() error { _, err := InflateQt([]byte{0, 0}, 0); return err }(), false, false},
		{"tile wrong length", func() error { _, err := DecodeTileDeflate([]byte{0, 0, 0, 1, 0x78, 0xda}); return err }(), false, false},
	}
	for _, tc := range tests {
		var e *Error
		if !errors.As(tc.err, &e) {
			t.Errorf("%s: err = %v, want *Error", tc.name, tc.err)
			continue
		}
		if got := errors.Is(tc.err, ErrTooLarge); got != tc.tooBig {
			t.Errorf("%s: ErrTooLarge = %v, want %v (%v)", tc.name, got, tc.tooBig, tc.err)
		}
	}
	// A zstd bomb: a frame that decodes to far more than its declared
	// length is refused (the decoder's output is capped at the declared size).
	big := make([]byte, 1<<20)
	bomb, err := CompressZstd(big)
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint32(bomb, 16)
	if _, err := DecompressZstd(bomb, 0); err == nil {
		t.Error("zstd bomb accepted")
	}
	zbomb, err := DeflateQt(big)
	if err != nil {
		t.Fatal(err)
	}
	binary.BigEndian.PutUint32(zbomb, 16)
	if _, err := InflateQt(zbomb, 0); err == nil {
		t.Error("zlib stream longer than declared accepted")
	}
	binary.BigEndian.PutUint32(zbomb, 2<<20)
	if _, err := InflateQt(zbomb, 0); err == nil {
		t.Error("zlib stream shorter than declared accepted")
	}
}

func TestClampPremultiplied(t *testing.T) {
	t.Parallel()
	pix := []byte{9, 3, 200, 5, 1, 2, 3, 255}
	ClampPremultiplied(pix)
	if want := []byte{5, 3, 5, 5, 1, 2, 3, 255}; !bytes.Equal(pix, want) {
		t.Errorf("got %v, want %v", pix, want)
	}
}

func BenchmarkDecodeImageZstd(b *testing.B) {
	pix := make([]byte, 256*256*4)
	for i := range pix {
		pix[i] = byte(i / 4 % 200)
	}
	data, err := EncodeImageZstd(pix, 256, 256)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(pix)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeImageZstd(data, 256, 256); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInflateQt(b *testing.B) {
	pix := make([]byte, 256*256*4)
	for i := range pix {
		pix[i] = byte(i / 4 % 200)
	}
	for i := 0; i < len(pix); i += 37 {
		pix[i] ^= byte(i >> 3) // some noise so the stream is not trivial
	}
	data, err := DeflateQt(pix)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(pix)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := InflateQt(data, len(pix)); err != nil {
			b.Fatal(err)
		}
	}
}

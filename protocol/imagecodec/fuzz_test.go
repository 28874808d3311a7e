package imagecodec

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// seedPayloads returns every image field of the test recordings.
func seedPayloads(f *testing.F) {
	f.Helper()
	for _, name := range []string{"037_putimage_opaque_normal", "043_putimagezstd_planar_delta", "045_puttile_deflate_image", "046_puttilezstd_and_background_zstd", "126_selection_mask_dabs"} {
		for _, fr := range readFrames(f, name) {
			p := fr.Payload()
			switch fr.Type() {
			case typePutImage, typePutImageZ:
				f.Add(p[putImageImage:], int(binary.BigEndian.Uint32(p[putImageW:])), int(binary.BigEndian.Uint32(p[putImageH:])))
			case typePutTile, typePutTileZ:
				f.Add(p[putTileImage:], TileSize, TileSize)
			case typeBackground, typeBackgroundZ:
				f.Add(p, TileSize, TileSize)
			case typeSyncSelTile:
				f.Add(p[syncSelMask:], TileSize, TileSize)
			}
		}
	}
	f.Add([]byte{0, 0, 0, 4, 0x78, 0xda}, 1, 1)
	f.Add([]byte{4, 0, 0, 0, 0x28, 0xb5, 0x2f, 0xfd}, 1, 1)
}

func FuzzInflateQt(f *testing.F) {
	seedPayloads(f)
	f.Fuzz(func(t *testing.T, data []byte, w, h int) {
		out, err := InflateQt(data, 1<<20)
		if err != nil {
			return
		}
		if int64(len(out)) != int64(binary.BigEndian.Uint32(data)) {
			t.Fatalf("decoded %d bytes, declared %d", len(out), binary.BigEndian.Uint32(data))
		}
		re, err := DeflateQt(out)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := InflateQt(re, 1<<20); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzDecompressZstd(f *testing.F) {
	seedPayloads(f)
	f.Fuzz(func(t *testing.T, data []byte, w, h int) {
		out, err := DecompressZstd(data, 1<<20)
		if err != nil {
			return
		}
		if int64(len(out)) != int64(binary.LittleEndian.Uint32(data)) {
			t.Fatalf("decoded %d bytes, declared %d", len(out), binary.LittleEndian.Uint32(data))
		}
		re, err := CompressZstd(out)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := DecompressZstd(re, 1<<20); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzDecoders runs every message-level decoder on the same input and
// checks that whatever decodes re-encodes to something that decodes equal.
func FuzzDecoders(f *testing.F) {
	seedPayloads(f)
	f.Fuzz(func(t *testing.T, data []byte, w, h int) {
		w, h = w%300, h%300 // keep allocations small; sizes ≤ 0 must be refused
		if pix, err := DecodeImageDeflate(data, w, h); err == nil {
			checkImage(t, pix, w, h, EncodeImageDeflate, DecodeImageDeflate)
		}
		if pix, err := DecodeImageZstd(data, w, h); err == nil {
			checkImage(t, pix, w, h, EncodeImageZstd, DecodeImageZstd)
		}
		if m, err := DecodeMaskDeflate(data, w, h); err == nil && m != nil {
			checkImage(t, m, w, h, EncodeMaskDeflate, DecodeMaskDeflate)
		}
		if m, err := DecodeMaskZstd(data, w, h); err == nil && m != nil {
			checkImage(t, m, w, h, EncodeMaskZstd, DecodeMaskZstd)
		}
		for _, c := range []struct {
			dec func([]byte) (Tile, error)
			enc func(Tile) ([]byte, error)
		}{{DecodeTileDeflate, EncodeTileDeflate}, {DecodeTileZstd, EncodeTileZstd}} {
			tile, err := c.dec(data)
			if err != nil {
				continue
			}
			if !tile.Solid && len(tile.Pix) != TileBytes {
				t.Fatalf("tile of %d bytes", len(tile.Pix))
			}
			enc, err := c.enc(tile)
			if err != nil {
				t.Fatal(err)
			}
			again, err := c.dec(enc)
			if err != nil || again.Solid != tile.Solid || again.Color != tile.Color || !bytes.Equal(again.Pix, tile.Pix) {
				t.Fatalf("tile round trip: %v", err)
			}
		}
		if kind, mask, err := DecodeSelectionTile(data); err == nil {
			if kind == SelectionTileMask {
				enc, err := EncodeSelectionTile(mask)
				if err != nil {
					t.Fatal(err)
				}
				k2, m2, err := DecodeSelectionTile(enc)
				if err != nil || (k2 == SelectionTileMask && !bytes.Equal(m2, mask)) {
					t.Fatalf("selection round trip: %v", err)
				}
			}
		}
	})
}

func checkImage(t *testing.T, pix []byte, w, h int, enc func([]byte, int, int) ([]byte, error), dec func([]byte, int, int) ([]byte, error)) {
	t.Helper()
	data, err := enc(pix, w, h)
	if err != nil {
		t.Fatal(err)
	}
	again, err := dec(data, w, h)
	if err != nil || !bytes.Equal(again, pix) {
		t.Fatalf("round trip: %v", err)
	}
}

// Package imagecodec encodes and decodes the compressed image and mask
// payloads of Drawpile's drawing messages (protocol.md §3.6): the Qt-style
// zlib format of PutImage (136), PutTile (146), CanvasBackground (147),
// MoveRect (160) and TransformRegion (165), and the zstd split-plane delta
// format of their zstd variants (178–182), SelectionPut (174) and
// SyncSelectionTile (177).
//
// It owns byte formats only: it does not know message layouts (the caller
// passes the image field and the width and height from the message), it
// does not blend or render, and it never logs. Every decoder validates the
// declared uncompressed size against the size the message implies and
// against a hard ceiling before allocating, and never allocates more than
// that size (decompression bombs are refused, not truncated).
//
// # Pixel format
//
// Every pixel buffer in this package (parameters named pix) is 8-bit
// premultiplied BGRA, the in-memory layout of Drawpile's DP_Pixel8 on a
// little-endian machine:
//
//	pix[4*(y*w+x)+0] = blue  × alpha / 255
//	pix[4*(y*w+x)+1] = green × alpha / 255
//	pix[4*(y*w+x)+2] = red   × alpha / 255
//	pix[4*(y*w+x)+3] = alpha
//
// rows top to bottom, no padding (stride = 4×w). Decoders return the bytes
// as sent: a hostile sender can produce a colour channel greater than alpha.
// Drawpile clamps such pixels after inflating a deflate image
// (DP_pixels8_clamp); ClampPremultiplied does the same.
//
// Masks are 8-bit alpha, one byte per pixel, rows top to bottom, stride w.
//
// Solid colours (the 4-byte tile and background payloads) are returned as
// a uint32 0xAARRGGBB, not premultiplied.
//
// # Wire formats
//
//	deflate ("Qt"):  u32 BE n | zlib stream (RFC 1950) of n bytes
//	zstd:            u32 LE n | zstd frame of n bytes
//
// zstd pixel data is split into planes and delta-coded: the n = 4×w×h
// bytes are four planes of w×h bytes in the order B, G, R, A; within each
// plane byte i holds value[i] − value[i−1] mod 256 (value[−1] = 0, the
// running sum restarts at 0 for each plane). zstd masks are one plane,
// delta-coded the same way. Deflate data is never delta-coded.
//
// All functions are safe for concurrent use and build for GOOS=js.
package imagecodec

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	kzlib "github.com/klauspost/compress/zlib"
	"io"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Tile geometry (protocol.md §3.6): PutTile and CanvasBackground carry one
// 64×64 tile.
const (
	TileSize      = 64
	TilePixels    = TileSize * TileSize
	TileBytes     = TilePixels * 4
	lenPrefixSize = 4
)

// MaxDecodedBytes is the ceiling on any decoded buffer: 64 MiB, a
// 4096×4096 BGRA image. A message can carry at most 65535 compressed bytes,
// which zstd can expand to gigabytes; anything above this ceiling is refused
// before allocation.
const MaxDecodedBytes = 64 << 20

// Error is the error returned for malformed or oversized input.
type Error struct {
	Format   string // "deflate", "zstd", "image", "tile", "mask"
	Reason   string
	Err      error // underlying decompressor error, if any
	TooLarge bool  // a declared size is above the permitted maximum; errors.Is(err, ErrTooLarge)
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("imagecodec: bad %s data: %s: %v", e.Format, e.Reason, e.Err)
	}
	return fmt.Sprintf("imagecodec: bad %s data: %s", e.Format, e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrTooLarge) true for size-limit errors.
func (e *Error) Is(target error) bool { return target == ErrTooLarge && e.TooLarge }

// ErrTooLarge is matched (errors.Is) by errors for declared sizes or
// dimensions above the permitted maximum.
var ErrTooLarge = errors.New("imagecodec: declared size too large")

func tooLarge(format string, n int64, maxLen int) error {
	return &Error{Format: format, Reason: fmt.Sprintf("declared length %d exceeds the maximum %d", n, maxLen), TooLarge: true}
}

// checkDims validates w×h×bpp against MaxDecodedBytes without overflow and
// returns the product.
func checkDims(format string, w, h, bpp int) (int, error) {
	if w <= 0 || h <= 0 {
		return 0, &Error{Format: format, Reason: fmt.Sprintf("bad dimensions %d×%d", w, h)}
	}
	if w > MaxDecodedBytes/bpp || h > MaxDecodedBytes/bpp/w {
		return 0, &Error{Format: format, Reason: fmt.Sprintf("%d×%d×%d bytes exceed the maximum %d", w, h, bpp, MaxDecodedBytes), TooLarge: true}
	}
	return w * h * bpp, nil
}

// InflateQt decodes Qt-style zlib data (u32 BE length + zlib stream) of at
// most maxLen decoded bytes (maxLen ≤ 0 or above MaxDecodedBytes means
// MaxDecodedBytes). The stream must decode to exactly the declared length;
// bytes after the end of the zlib stream are ignored, as zlib does.
func InflateQt(data []byte, maxLen int) ([]byte, error) {
	if len(data) < lenPrefixSize {
		return nil, &Error{Format: "deflate", Reason: fmt.Sprintf("%d bytes cannot hold the 4-byte length", len(data))}
	}
	n := binary.BigEndian.Uint32(data)
	return inflateN(data[lenPrefixSize:], int64(n), maxLen)
}

func inflateN(stream []byte, n int64, maxLen int) ([]byte, error) {
	if maxLen <= 0 || maxLen > MaxDecodedBytes {
		maxLen = MaxDecodedBytes
	}
	if n > int64(maxLen) {
		return nil, tooLarge("deflate", n, maxLen)
	}
	zr, err := getInflater(stream)
	if err != nil {
		return nil, &Error{Format: "deflate", Reason: "bad zlib header", Err: err}
	}
	defer inflaters.Put(zr)
	out := make([]byte, n)
	if _, err := io.ReadFull(zr, out); err != nil {
		return nil, &Error{Format: "deflate", Reason: fmt.Sprintf("stream shorter than the declared %d bytes", n), Err: err}
	}
	// The stream must end here (this read also verifies the checksum).
	var one [1]byte
	if k, err := zr.Read(one[:]); k != 0 || err != io.EOF {
		if k != 0 {
			return nil, &Error{Format: "deflate", Reason: fmt.Sprintf("stream longer than the declared %d bytes", n)}
		}
		return nil, &Error{Format: "deflate", Reason: "bad stream end", Err: err}
	}
	return out, nil
}

// inflaters holds zlib readers for reuse: a reader carries ~40 KiB of
// decompressor state, and a joining client inflates thousands of images.
var inflaters sync.Pool

// getInflater returns a pooled zlib reader reset to stream.
func getInflater(stream []byte) (io.ReadCloser, error) {
	if zr, ok := inflaters.Get().(io.ReadCloser); ok {
		if err := zr.(kzlib.Resetter).Reset(bytes.NewReader(stream), nil); err != nil {
			inflaters.Put(zr)
			return nil, err
		}
		return zr, nil
	}
	return kzlib.NewReader(bytes.NewReader(stream))
}

// DeflateQt encodes raw as Qt-style zlib data at level 9, as Drawpile does
// (zlib header 78 DA).
func DeflateQt(raw []byte) ([]byte, error) {
	if uint64(len(raw)) > 0xFFFFFFFF {
		return nil, &Error{Format: "deflate", Reason: "input exceeds 4 GiB"}
	}
	var b bytes.Buffer
	b.Grow(len(raw)/2 + 64)
	b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(raw))))
	zw, err := zlib.NewWriterLevel(&b, zlib.BestCompression)
	if err != nil {
		return nil, err
	}
	zw.Write(raw) // writes to a bytes.Buffer cannot fail
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var (
	zstdDecOnce sync.Once
	zstdDec     *zstd.Decoder
	zstdDecErr  error
	zstdEncOnce sync.Once
	zstdEnc     *zstd.Encoder
	zstdEncErr  error
)

// codecConcurrency is how many DecodeAll/EncodeAll calls may run at once
// (each on its caller's goroutine).
func codecConcurrency() int { return min(runtime.GOMAXPROCS(0), 4) }

// decoder returns the shared zstd decoder. DecodeAll is safe for concurrent
// use and runs on the calling goroutine; the decoder is only used through
// DecodeAll, so it starts no goroutines, and it is never closed (it lives as
// long as the process).
func decoder() (*zstd.Decoder, error) {
	zstdDecOnce.Do(func() {
		zstdDec, zstdDecErr = zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(codecConcurrency()),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxMemory(MaxDecodedBytes),
			zstd.WithDecoderMaxWindow(MaxDecodedBytes),
			zstd.WithDecodeAllCapLimit(true))
	})
	return zstdDec, zstdDecErr
}

func encoder() (*zstd.Encoder, error) {
	zstdEncOnce.Do(func() {
		zstdEnc, zstdEncErr = zstd.NewWriter(nil,
			zstd.WithEncoderConcurrency(codecConcurrency()),
			zstd.WithEncoderLevel(zstd.SpeedDefault))
	})
	return zstdEnc, zstdEncErr
}

// DecompressZstd decodes Drawpile zstd data (u32 LE length + zstd frame) of
// at most maxLen bytes (maxLen ≤ 0 or above MaxDecodedBytes means
// MaxDecodedBytes) without undoing any delta coding. The data must decode to
// exactly the declared length.
func DecompressZstd(data []byte, maxLen int) ([]byte, error) {
	if len(data) < lenPrefixSize {
		return nil, &Error{Format: "zstd", Reason: fmt.Sprintf("%d bytes cannot hold the 4-byte length", len(data))}
	}
	n := int64(binary.LittleEndian.Uint32(data))
	if maxLen <= 0 || maxLen > MaxDecodedBytes {
		maxLen = MaxDecodedBytes
	}
	if n > int64(maxLen) {
		return nil, tooLarge("zstd", n, maxLen)
	}
	dec, err := decoder()
	if err != nil {
		return nil, &Error{Format: "zstd", Reason: "create decoder", Err: err}
	}
	// WithDecodeAllCapLimit: DecodeAll never grows out beyond cap = n.
	out, err := dec.DecodeAll(data[lenPrefixSize:], make([]byte, 0, n))
	if err != nil {
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) {
			return nil, &Error{Format: "zstd", Reason: fmt.Sprintf("frame decodes to more than the declared %d bytes", n), Err: err}
		}
		return nil, &Error{Format: "zstd", Reason: "decompress", Err: err}
	}
	if int64(len(out)) != n {
		return nil, &Error{Format: "zstd", Reason: fmt.Sprintf("frame decodes to %d bytes, declared %d", len(out), n)}
	}
	return out, nil
}

// CompressZstd encodes raw as Drawpile zstd data (u32 LE length + one zstd
// frame at the default level, content size included).
func CompressZstd(raw []byte) ([]byte, error) {
	if uint64(len(raw)) > 0xFFFFFFFF {
		return nil, &Error{Format: "zstd", Reason: "input exceeds 4 GiB"}
	}
	enc, err := encoder()
	if err != nil {
		return nil, err
	}
	dst := binary.LittleEndian.AppendUint32(make([]byte, 0, len(raw)/2+64), uint32(len(raw)))
	return enc.EncodeAll(raw, dst), nil
}

// DecodeImageDeflate decodes a PutImage (136) image: w×h premultiplied
// BGRA pixels, Qt-zlib compressed, declared length exactly 4×w×h.
func DecodeImageDeflate(data []byte, w, h int) ([]byte, error) {
	n, err := checkDims("image", w, h, 4)
	if err != nil {
		return nil, err
	}
	if err := checkDeclared("image", data, binary.BigEndian, n); err != nil {
		return nil, err
	}
	return InflateQt(data, n)
}

// EncodeImageDeflate encodes w×h premultiplied BGRA pixels as a PutImage
// (136) image.
func EncodeImageDeflate(pix []byte, w, h int) ([]byte, error) {
	if err := checkPix(pix, w, h, 4); err != nil {
		return nil, err
	}
	return DeflateQt(pix)
}

// DecodeImageZstd decodes a PutImageZstd (178) image: w×h split-plane
// delta-coded pixels, returned as premultiplied BGRA (interleaved).
func DecodeImageZstd(data []byte, w, h int) ([]byte, error) {
	n, err := checkDims("image", w, h, 4)
	if err != nil {
		return nil, err
	}
	if err := checkDeclared("image", data, binary.LittleEndian, n); err != nil {
		return nil, err
	}
	planes, err := DecompressZstd(data, n)
	if err != nil {
		return nil, err
	}
	return PlanesToPixels(planes, w*h), nil
}

// EncodeImageZstd encodes w×h premultiplied BGRA pixels as a PutImageZstd
// (178) image.
func EncodeImageZstd(pix []byte, w, h int) ([]byte, error) {
	if err := checkPix(pix, w, h, 4); err != nil {
		return nil, err
	}
	return CompressZstd(PixelsToPlanes(pix))
}

// PlanesToPixels turns split-plane delta data (4 planes of count bytes: B,
// G, R, A, each delta-coded) into interleaved BGRA pixels.
// len(planes) must be 4×count.
func PlanesToPixels(planes []byte, count int) []byte {
	pix := make([]byte, 4*count)
	for c := range 4 {
		plane := planes[c*count : (c+1)*count]
		var v byte
		for i, d := range plane {
			v += d // running sum mod 256 undoes the delta
			pix[4*i+c] = v
		}
	}
	return pix
}

// PixelsToPlanes is the inverse of PlanesToPixels.
func PixelsToPlanes(pix []byte) []byte {
	count := len(pix) / 4
	planes := make([]byte, 4*count)
	for c := range 4 {
		plane := planes[c*count : (c+1)*count]
		var prev byte
		for i := range plane {
			v := pix[4*i+c]
			plane[i] = v - prev // mod 256
			prev = v
		}
	}
	return planes
}

// Tile is the content of a PutTile (146/179) or CanvasBackground (147/180)
// image: either a solid colour or a 64×64 premultiplied BGRA tile.
type Tile struct {
	// Solid reports a 4-byte solid-colour payload; Color is then valid and
	// Pix is nil.
	Solid bool
	// Color is the solid colour as 0xAARRGGBB, not premultiplied.
	Color uint32
	// Pix holds TileBytes bytes of premultiplied BGRA (see the package
	// doc) when Solid is false.
	Pix []byte
}

// DecodeTileDeflate decodes a PutTile (146) / CanvasBackground (147) image:
// 4 bytes = solid colour u32 BE 0xAARRGGBB, else Qt-zlib of one tile.
func DecodeTileDeflate(data []byte) (Tile, error) {
	if len(data) == 4 {
		return Tile{Solid: true, Color: binary.BigEndian.Uint32(data)}, nil
	}
	if err := checkDeclared("tile", data, binary.BigEndian, TileBytes); err != nil {
		return Tile{}, err
	}
	pix, err := InflateQt(data, TileBytes)
	if err != nil {
		return Tile{}, err
	}
	return Tile{Pix: pix}, nil
}

// DecodeTileZstd decodes a PutTileZstd (179) / CanvasBackgroundZstd (180)
// image: 4 bytes = solid colour stored little-endian (bytes B, G, R, A),
// else zstd split-plane delta data of one tile.
func DecodeTileZstd(data []byte) (Tile, error) {
	if len(data) == 4 {
		return Tile{Solid: true, Color: binary.LittleEndian.Uint32(data)}, nil
	}
	pix, err := DecodeImageZstd(data, TileSize, TileSize)
	if err != nil {
		return Tile{}, err
	}
	return Tile{Pix: pix}, nil
}

// EncodeTileDeflate encodes t for PutTile (146) / CanvasBackground (147).
func EncodeTileDeflate(t Tile) ([]byte, error) {
	if t.Solid {
		return binary.BigEndian.AppendUint32(nil, t.Color), nil
	}
	if err := checkPix(t.Pix, TileSize, TileSize, 4); err != nil {
		return nil, err
	}
	return DeflateQt(t.Pix)
}

// EncodeTileZstd encodes t for PutTileZstd (179) / CanvasBackgroundZstd
// (180).
func EncodeTileZstd(t Tile) ([]byte, error) {
	if t.Solid {
		return binary.LittleEndian.AppendUint32(nil, t.Color), nil
	}
	return EncodeImageZstd(t.Pix, TileSize, TileSize)
}

// DecodeMaskDeflate decodes a MoveRect (160) / TransformRegion (165) mask
// of w×h alpha bytes. An empty mask means "the whole rectangle" and returns
// (nil, nil).
func DecodeMaskDeflate(data []byte, w, h int) ([]byte, error) {
	if len(data) == 0 {
		return nil, nil
	}
	n, err := checkDims("mask", w, h, 1)
	if err != nil {
		return nil, err
	}
	if err := checkDeclared("mask", data, binary.BigEndian, n); err != nil {
		return nil, err
	}
	return InflateQt(data, n)
}

// EncodeMaskDeflate encodes a w×h alpha mask for MoveRect (160) /
// TransformRegion (165). A nil mask encodes as empty (whole rectangle).
func EncodeMaskDeflate(mask []byte, w, h int) ([]byte, error) {
	if mask == nil {
		return nil, nil
	}
	if err := checkPix(mask, w, h, 1); err != nil {
		return nil, err
	}
	return DeflateQt(mask)
}

// DecodeMaskZstd decodes a delta-coded zstd mask of w×h alpha bytes
// (MoveRectZstd 181, TransformRegionZstd 182, SelectionPut 174). An empty
// mask returns (nil, nil); its meaning depends on the message.
func DecodeMaskZstd(data []byte, w, h int) ([]byte, error) {
	if len(data) == 0 {
		return nil, nil
	}
	n, err := checkDims("mask", w, h, 1)
	if err != nil {
		return nil, err
	}
	if err := checkDeclared("mask", data, binary.LittleEndian, n); err != nil {
		return nil, err
	}
	mask, err := DecompressZstd(data, n)
	if err != nil {
		return nil, err
	}
	var v byte
	for i, d := range mask {
		v += d
		mask[i] = v
	}
	return mask, nil
}

// EncodeMaskZstd encodes a w×h alpha mask as delta-coded zstd. A nil mask
// encodes as empty.
func EncodeMaskZstd(mask []byte, w, h int) ([]byte, error) {
	if mask == nil {
		return nil, nil
	}
	if err := checkPix(mask, w, h, 1); err != nil {
		return nil, err
	}
	delta := make([]byte, len(mask))
	var prev byte
	for i, v := range mask {
		delta[i] = v - prev
		prev = v
	}
	return CompressZstd(delta)
}

// SelectionTile is the decoded mask of a SyncSelectionTile (177).
type SelectionTile int

// SyncSelectionTile mask kinds.
const (
	SelectionTileMask   SelectionTile = iota // a 64×64 mask follows
	SelectionTileBlank                       // empty mask: nothing selected in the tile
	SelectionTileOpaque                      // single 0x00 byte: the whole tile is selected
)

// DecodeSelectionTile decodes a SyncSelectionTile (177) mask: empty = blank
// tile, a single 0x00 = fully selected tile, else a delta-coded zstd 64×64
// alpha mask (returned only for SelectionTileMask). The "clear selection"
// form (col = row = 0xFFFF, empty mask) is the caller's to recognise.
func DecodeSelectionTile(data []byte) (SelectionTile, []byte, error) {
	switch {
	case len(data) == 0:
		return SelectionTileBlank, nil, nil
	case len(data) == 1 && data[0] == 0:
		return SelectionTileOpaque, nil, nil
	}
	mask, err := DecodeMaskZstd(data, TileSize, TileSize)
	if err != nil {
		return 0, nil, err
	}
	return SelectionTileMask, mask, nil
}

// EncodeSelectionTile encodes a SyncSelectionTile (177) mask of TilePixels
// bytes, using the blank (all 0) and opaque (all 255) short forms.
func EncodeSelectionTile(mask []byte) ([]byte, error) {
	if err := checkPix(mask, TileSize, TileSize, 1); err != nil {
		return nil, err
	}
	blank, opaque := true, true
	for _, v := range mask {
		blank = blank && v == 0
		opaque = opaque && v == 255
	}
	switch {
	case blank:
		return []byte{}, nil
	case opaque:
		return []byte{0}, nil
	}
	return EncodeMaskZstd(mask, TileSize, TileSize)
}

// ClampPremultiplied lowers every colour channel that exceeds its pixel's
// alpha to the alpha, in place, as Drawpile does after inflating an image.
func ClampPremultiplied(pix []byte) {
	for i := 0; i+3 < len(pix); i += 4 {
		a := pix[i+3]
		pix[i] = min(pix[i], a)
		pix[i+1] = min(pix[i+1], a)
		pix[i+2] = min(pix[i+2], a)
	}
}

// checkDeclared checks the length prefix against the size the message
// implies, before any allocation.
func checkDeclared(format string, data []byte, order binary.ByteOrder, want int) error {
	if len(data) < lenPrefixSize {
		return &Error{Format: format, Reason: fmt.Sprintf("%d bytes cannot hold the 4-byte length", len(data))}
	}
	if got := order.Uint32(data); int64(got) != int64(want) {
		return &Error{Format: format, Reason: fmt.Sprintf("declared length %d, the dimensions need %d", got, want)}
	}
	return nil
}

func checkPix(pix []byte, w, h, bpp int) error {
	n, err := checkDims("image", w, h, bpp)
	if err != nil {
		return err
	}
	if len(pix) != n {
		return &Error{Format: "image", Reason: fmt.Sprintf("%d bytes for %d×%d×%d", len(pix), w, h, bpp)}
	}
	return nil
}

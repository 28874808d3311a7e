package webp

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"io"
)

// MaxSize is the largest width or height a VP8L image can have (14 bits).
const MaxSize = 1 << 14

// SizeError reports an image whose dimensions WebP cannot hold: zero or
// negative, or larger than MaxSize.
type SizeError struct {
	Width, Height int
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("webp: cannot encode a %d×%d image (1…%d pixels per side)", e.Width, e.Height, MaxSize)
}

// Encode writes img to w as a lossless WebP file. Pixels are encoded
// exactly as non-premultiplied 8-bit RGBA (color.NRGBA); *image.NRGBA is
// taken as is, anything else (including premultiplied *image.RGBA) is
// converted through color.NRGBAModel first.
func Encode(w io.Writer, img image.Image) error {
	b, err := Append(nil, img)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Append is Encode into a byte slice: it appends the WebP file to dst.
func Append(dst []byte, img image.Image) ([]byte, error) {
	r := img.Bounds()
	width, height := r.Dx(), r.Dy()
	if width < 1 || height < 1 || width > MaxSize || height > MaxSize {
		return dst, &SizeError{width, height}
	}
	argb, hasAlpha := toARGB(img)
	bs := encodeVP8L(argb, width, height, hasAlpha)

	// RIFF container: "RIFF", file size - 8, "WEBP", then the chunk
	// "VP8L", payload size, payload, padded to an even length.
	pad := len(bs) & 1
	dst = append(dst, "RIFF"...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(4+8+len(bs)+pad))
	dst = append(dst, "WEBPVP8L"...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(bs)))
	dst = append(dst, bs...)
	if pad == 1 {
		dst = append(dst, 0)
	}
	return dst, nil
}

// toARGB returns the pixels as 0xAARRGGBB words in row-major order, and
// whether any pixel is not opaque.
func toARGB(img image.Image) ([]uint32, bool) {
	r := img.Bounds()
	out := make([]uint32, 0, r.Dx()*r.Dy())
	alpha := uint32(0xff)
	if m, ok := img.(*image.NRGBA); ok {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			row := m.Pix[m.PixOffset(r.Min.X, y):m.PixOffset(r.Max.X, y)]
			for i := 0; i+3 < len(row); i += 4 {
				out = append(out, uint32(row[i+3])<<24|uint32(row[i])<<16|uint32(row[i+1])<<8|uint32(row[i+2]))
				alpha &= uint32(row[i+3])
			}
		}
		return out, alpha != 0xff
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			out = append(out, uint32(c.A)<<24|uint32(c.R)<<16|uint32(c.G)<<8|uint32(c.B))
			alpha &= uint32(c.A)
		}
	}
	return out, alpha != 0xff
}

// Transform types (2 bits each in the bitstream).
const (
	predictorTransform     = 0
	subtractGreenTransform = 2
)

// predictorBits is log2 of the predictor block size (16×16 blocks).
const predictorBits = 4

// encodeVP8L returns the VP8L bitstream (the chunk payload).
func encodeVP8L(argb []uint32, width, height int, hasAlpha bool) []byte {
	w := &bitWriter{buf: make([]byte, 0, len(argb)/2+64)}
	// Header: signature 0x2f, width-1 and height-1 in 14 bits each, the
	// alpha_is_used hint, a 3-bit version (0).
	w.write(0x2f, 8)
	w.write(uint32(width-1), 14)
	w.write(uint32(height-1), 14)
	if hasAlpha {
		w.write(1, 1)
	} else {
		w.write(0, 1)
	}
	w.write(0, 3)

	// Transforms in the order the encoder applies them (the decoder
	// undoes them in reverse): subtract green, then the predictor.
	w.write(1, 1)
	w.write(subtractGreenTransform, 2)
	subtractGreen(argb)

	w.write(1, 1)
	w.write(predictorTransform, 2)
	w.write(predictorBits-2, 3)
	modes, bw, bh := choosePredictors(argb, width, height, predictorBits)
	residuals := applyPredictors(argb, width, height, modes, bw, predictorBits)
	sub := make([]uint32, len(modes))
	for i, m := range modes {
		sub[i] = 0xff000000 | uint32(m)<<8 // the mode is in green
	}
	writeEntropyImage(w, sub, bw, bh, false)

	w.write(0, 1) // no more transforms
	writeEntropyImage(w, residuals, width, height, true)
	return w.bytes()
}

// subtractGreen subtracts green from red and blue (mod 256) in place.
func subtractGreen(argb []uint32) {
	for i, p := range argb {
		g := (p >> 8) & 0xff
		r := (p>>16 - g) & 0xff
		b := (p - g) & 0xff
		argb[i] = p&0xff00ff00 | r<<16 | b
	}
}

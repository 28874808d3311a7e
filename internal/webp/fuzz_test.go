package webp

import (
	"image"
	"testing"
)

// FuzzEncode builds an image of a fuzzed size from fuzzed bytes (the
// pixel bytes repeat when there are fewer than needed, which gives long
// runs as well as noise) and checks that it decodes to the same pixels.
func FuzzEncode(f *testing.F) {
	f.Add(uint8(1), uint8(1), []byte{1, 2, 3, 4})
	f.Add(uint8(16), uint8(9), []byte{255, 255, 255, 255})
	f.Add(uint8(33), uint8(17), []byte{0, 0, 0, 0, 9, 8, 7, 6, 1})
	f.Add(uint8(200), uint8(3), []byte("a few colours a few colours a few colours!"))
	f.Add(uint8(7), uint8(120), []byte{0x80, 0x7f, 0x01, 0xfe, 0x00, 0xff})
	f.Fuzz(func(t *testing.T, w, h uint8, data []byte) {
		width, height := int(w%200)+1, int(h%200)+1
		img := image.NewNRGBA(image.Rect(0, 0, width, height))
		if len(data) > 0 {
			for i := range img.Pix {
				img.Pix[i] = data[i%len(data)]
			}
		}
		roundTrip(t, img)
	})
}

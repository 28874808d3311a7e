package imagecodec_test

import (
	"fmt"

	"drawbridge/protocol/imagecodec"
)

func ExampleEncodeImageZstd() {
	// One opaque red pixel and one half-transparent blue one, premultiplied
	// BGRA: (B, G, R, A).
	pix := []byte{0, 0, 255, 255, 128, 0, 0, 128}
	data, _ := imagecodec.EncodeImageZstd(pix, 2, 1) // PutImageZstd (178) image field
	back, _ := imagecodec.DecodeImageZstd(data, 2, 1)
	fmt.Println(back)

	// Planes B, G, R, A, each delta-coded.
	fmt.Println(imagecodec.PixelsToPlanes(pix))
	// Output:
	// [0 0 255 255 128 0 0 128]
	// [0 128 0 0 255 1 255 129]
}

func ExampleDecodeTileDeflate() {
	t, _ := imagecodec.DecodeTileDeflate([]byte{0xff, 0x20, 0x40, 0x60}) // solid colour, u32 BE ARGB
	fmt.Printf("solid=%v %08x\n", t.Solid, t.Color)
	// Output:
	// solid=true ff204060
}

package webp_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"

	"drawbridge/internal/webp"
)

func ExampleEncode() {
	img := image.NewNRGBA(image.Rect(0, 0, 64, 32))
	for y := range 32 {
		for x := range 64 {
			img.SetNRGBA(x, y, color.NRGBA{R: uint8(x * 4), G: 128, B: uint8(y * 8), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := webp.Encode(&buf, img); err != nil {
		fmt.Println(err)
		return
	}
	b := buf.Bytes()
	fmt.Println(string(b[0:4]), string(b[8:16]))
	// Output: RIFF WEBPVP8L
}

package canvas

import (
	"math/rand/v2"
	"testing"

	"drawbridge/protocol"
	"drawbridge/protocol/imagecodec"
)

// BenchmarkCatchupPutImage is the engine's share of the browser test
// TestClientCatchupProgress (internal/webtest): a 640×480 canvas and 300
// incompressible 120×128 PutImage frames (15.8 MB), decoded and applied
// as the web client does while catching up. Run it under wasm too
// (GOOS=js GOARCH=wasm go test -exec go_js_wasm_exec) to compare with the
// browser.
func BenchmarkCatchupPutImage(b *testing.B) {
	const tw, th, images, msgs = 120, 128, 8, 300
	rng := rand.New(rand.NewPCG(1, 2))
	layer := protocol.LayerID(1, 1)
	setup := []protocol.Message{
		protocol.CanvasResize{Right: 640, Bottom: 480},
		protocol.LayerTreeCreate{ID: layer, Fill: 0xffffffff, Title: "bg"},
	}
	var enc [images][]byte
	for i := range images {
		pix := make([]byte, tw*th*4)
		for j := 0; j < len(pix); j += 4 {
			v := rng.Uint32()
			pix[j], pix[j+1], pix[j+2], pix[j+3] = byte(v), byte(v>>8), byte(v>>16), 255
		}
		var err error
		if enc[i], err = imagecodec.EncodeImageDeflate(pix, tw, th); err != nil {
			b.Fatal(err)
		}
	}
	frames := make([]protocol.Frame, msgs)
	size := 0
	for n := range frames {
		c := n % 20
		m := protocol.PutImage{Layer: layer, Mode: protocol.BlendNormal, X: uint32(c % 5 * tw), Y: uint32(c / 5 * th), W: tw, H: th, Image: enc[n%images]}
		f, err := protocol.EncodeFrame(1, m, protocol.Layout425)
		if err != nil {
			b.Fatal(err)
		}
		frames[n] = f
		size += len(f)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		c := New()
		for _, m := range setup {
			if err := c.Apply(1, m); err != nil {
				b.Fatal(err)
			}
		}
		for _, f := range frames {
			m, err := protocol.Decode(f, protocol.Layout425)
			if err != nil {
				b.Fatal(err)
			}
			if err := c.Apply(f.Ctx(), m); err != nil {
				b.Fatal(err)
			}
		}
	}
}

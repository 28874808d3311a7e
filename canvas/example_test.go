package canvas_test

import (
	"fmt"

	"drawbridge/canvas"
	"drawbridge/protocol"
)

// Applying decoded protocol messages and rendering the result.
func Example() {
	c := canvas.New()
	msgs := []protocol.Message{
		protocol.CanvasResize{Right: 100, Bottom: 80},
		protocol.LayerTreeCreate{ID: 0x101, Title: "Layer 1"},
		protocol.UndoPoint{},
		protocol.FillRect{Layer: 0x101, Mode: uint8(canvas.ModeNormal), X: 10, Y: 10, W: 20, H: 20, Color: 0xffff0000},
	}
	for _, m := range msgs {
		if err := c.Apply(1, m); err != nil {
			fmt.Println("error:", err)
		}
	}
	img := c.Render(canvas.RenderOptions{})
	fmt.Println(img.Bounds().Dx(), img.Bounds().Dy(), img.NRGBAAt(15, 15), img.NRGBAAt(50, 50))
	// Output: 100 80 {255 0 0 255} {0 0 0 0}
}

// An incremental viewer redraws only the tiles that changed.
func ExampleCanvas_TakeDirtyTiles() {
	c := canvas.New()
	_ = c.Apply(1, protocol.CanvasResize{Right: 200, Bottom: 100})
	_ = c.Apply(1, protocol.LayerTreeCreate{ID: 0x101})
	_, all := c.TakeDirtyTiles() // first frame: everything
	fmt.Println("all:", all)
	_ = c.Apply(1, protocol.FillRect{Layer: 0x101, Mode: uint8(canvas.ModeNormal), X: 70, Y: 5, W: 4, H: 4, Color: 0xff000000})
	tiles, all := c.TakeDirtyTiles()
	fmt.Println("tiles:", tiles, "all:", all)
	// Output:
	// all: true
	// tiles: [1] all: false
}

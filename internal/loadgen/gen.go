package loadgen

import (
	"fmt"
	"math"
	"math/rand/v2"

	"drawbridge/protocol"
)

// GenOptions shape the strokes of a Generator. The zero value is a 1920×1080
// canvas with realistic message sizes.
type GenOptions struct {
	// Width and Height bound the stroke positions in pixels (default
	// 1920×1080).
	Width, Height int
	// Fill makes every dab message large (60–120 dabs, about 0.5–0.9 KB),
	// for building big histories quickly.
	Fill bool
	// Layout is the wire layout (default protocol.Layout425; use
	// protocol.Layout424 for dp:4.24.0 sessions).
	Layout protocol.Layout
}

// Generator produces one bot's drawing: a LayerTreeCreate for the bot's own
// layer, then strokes. A stroke is UndoPoint, several DrawDabsClassic
// messages along a smooth path whose pressure rises and falls (dab size and
// opacity follow it), PenUp, and about one time in fifteen an Undo. Brush
// diameters are drawn from a mix of small and large sizes.
//
// The sequence depends only on the seed, the bot index and the context id
// passed to Next (the layer id's owner byte is the context id), so two
// servers fed with the same seed get identical messages as long as they
// assign the same ids.
//
// A Generator is not safe for concurrent use.
type Generator struct {
	rng  *rand.Rand
	opts GenOptions
	bot  int

	state    genState
	left     int // dab messages left in the current stroke
	total    int // dab messages of the current stroke
	dabIndex int // dabs emitted in the current stroke
	dabTotal int // planned dabs of the current stroke

	// Stroke parameters.
	diameter float64 // px
	hardness uint8
	color    uint32
	mode     uint8
	flags    uint8
	// Pen state, in quarter pixels (qx, qy) and px (fx, fy).
	qx, qy    int32
	fx, fy    float64
	dir, turn float64

	// Reused message values: encoding them does not allocate.
	dabs  protocol.DrawDabsClassic
	undo  protocol.Undo
	point protocol.UndoPoint
	penUp protocol.PenUp
	layer protocol.LayerTreeCreate
}

type genState uint8

const (
	genLayer genState = iota
	genUndoPoint
	genDabs
	genPenUp
	genMaybeUndo
)

// brushSizes is the mix of brush diameters (px) a stroke picks from; small
// sizes are listed more often, as people sketch more than they fill.
var brushSizes = [...]float64{1, 2, 2, 3, 3, 4, 5, 6, 8, 8, 10, 12, 16, 20, 24, 32, 48, 64, 96, 128}

// NewGenerator returns the generator of bot number bot for seed.
func NewGenerator(seed uint64, bot int, opts GenOptions) *Generator {
	if opts.Width <= 0 {
		opts.Width = 1920
	}
	if opts.Height <= 0 {
		opts.Height = 1080
	}
	g := &Generator{
		rng:  rand.New(rand.NewPCG(seed, uint64(bot)*0x9E3779B97F4A7C15+0x632BE59BD9B4E019)),
		opts: opts,
		bot:  bot,
	}
	g.fx = g.rng.Float64() * float64(opts.Width)
	g.fy = g.rng.Float64() * float64(opts.Height)
	g.dir = g.rng.Float64() * 2 * math.Pi
	g.dabs.Dabs = make([]protocol.ClassicDab, 0, 128)
	return g
}

// LayerID returns the id of the bot's own layer for context id ctx:
// element 2 (element 1 is the host's background layer), owner ctx.
func LayerID(ctx uint8) uint32 { return 2<<8 | uint32(ctx) }

// Next appends the bot's next message as a TCP frame with context id ctx
// and returns the extended slice.
func (g *Generator) Next(dst []byte, ctx uint8) ([]byte, error) {
	var m protocol.Message
	switch g.state {
	case genLayer:
		g.layer = protocol.LayerTreeCreate{ID: LayerID(ctx), Title: fmt.Sprintf("bot %d", g.bot)}
		m = &g.layer
		g.state = genUndoPoint
	case genUndoPoint:
		g.startStroke()
		m = &g.point
		g.state = genDabs
	case genDabs:
		g.nextDabs(ctx)
		m = &g.dabs
		g.left--
		if g.left == 0 {
			g.state = genPenUp
		}
	case genPenUp:
		g.penUp.Layer = LayerID(ctx)
		m = &g.penUp
		g.state = genMaybeUndo
		if g.rng.IntN(15) != 0 {
			g.state = genUndoPoint
		}
	case genMaybeUndo:
		g.undo = protocol.Undo{}
		m = &g.undo
		g.state = genUndoPoint
	}
	return protocol.AppendMessage(dst, ctx, m, g.opts.Layout)
}

// startStroke picks the parameters of a new stroke.
func (g *Generator) startStroke() {
	r := g.rng
	g.diameter = brushSizes[r.IntN(len(brushSizes))]
	g.hardness = uint8(128 + r.IntN(128))
	g.color = 0xFF000000 | r.Uint32()&0xFFFFFF
	g.mode, g.flags = 1, 0 // Normal, direct
	switch r.IntN(10) {
	case 0:
		g.mode = 0 // eraser
	case 1:
		g.flags = 2 // indirect soft (wash-like stroke)
	}
	if g.opts.Fill {
		g.total = 2 + r.IntN(6)
	} else {
		g.total = 4 + r.IntN(37)
	}
	g.left = g.total
	g.dabIndex = 0
	g.dabTotal = g.total * g.dabsPerMessageMean()
	g.turn = (r.Float64() - 0.5) * 0.2
	// Jump somewhere else now and then, as a pen lifted and moved.
	if r.IntN(3) == 0 {
		g.fx = r.Float64() * float64(g.opts.Width)
		g.fy = r.Float64() * float64(g.opts.Height)
	}
}

func (g *Generator) dabsPerMessageMean() int {
	if g.opts.Fill {
		return 90
	}
	return 8
}

// nextDabs fills g.dabs with the next piece of the stroke.
func (g *Generator) nextDabs(ctx uint8) {
	r := g.rng
	n := 3 + r.IntN(11) // 3..13 dabs: one input event's worth
	if g.opts.Fill {
		n = 60 + r.IntN(61)
	}
	d := &g.dabs
	d.Flags = g.flags
	d.Layer = LayerID(ctx)
	d.Color = g.color
	d.Mode = g.mode
	if g.flags != 0 {
		d.Color = g.color&0xFFFFFF | 0x80<<24 // indirect: alpha is the stroke opacity
	}
	g.qx = int32(math.Round(g.fx * 4))
	g.qy = int32(math.Round(g.fy * 4))
	d.X, d.Y = g.qx, g.qy
	d.Dabs = d.Dabs[:0]
	px, py := g.qx, g.qy // position of the previous dab, quarter pixels
	for i := 0; i < n; i++ {
		t := float64(g.dabIndex) / float64(max(g.dabTotal, 1))
		g.dabIndex++
		// Pressure rises and falls along the stroke, with a little tremor.
		p := math.Pow(math.Sin(math.Pi*min(t, 1)), 0.6)*0.85 + 0.15*r.Float64()
		p = min(max(p, 0.05), 1)
		size := g.diameter * (0.3 + 0.7*p)
		spacing := max(size*0.15, 0.5)
		if i > 0 {
			g.turn += (r.Float64() - 0.5) * 0.05
			g.turn = min(max(g.turn, -0.15), 0.15)
			g.dir += g.turn
			step := min(spacing, 31)
			nx := g.fx + step*math.Cos(g.dir)
			ny := g.fy + step*math.Sin(g.dir)
			if nx < 0 || nx >= float64(g.opts.Width) {
				g.dir = math.Pi - g.dir
				nx = min(max(nx, 0), float64(g.opts.Width-1))
			}
			if ny < 0 || ny >= float64(g.opts.Height) {
				g.dir = -g.dir
				ny = min(max(ny, 0), float64(g.opts.Height-1))
			}
			g.fx, g.fy = nx, ny
		}
		qx := int32(math.Round(g.fx * 4))
		qy := int32(math.Round(g.fy * 4))
		dx := min(max(qx-px, -128), 127)
		dy := min(max(qy-py, -128), 127)
		px += dx
		py += dy
		g.fx, g.fy = float64(px)/4, float64(py)/4 // stay on the grid the receiver sees
		d.Dabs = append(d.Dabs, protocol.ClassicDab{
			X:        int8(dx),
			Y:        int8(dy),
			Size:     uint32(size * 256),
			Hardness: g.hardness,
			Opacity:  uint8(40 + 215*p),
		})
	}
}

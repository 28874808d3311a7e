package webui

import "math"

// PointerKind is PointerEvent.pointerType.
type PointerKind uint8

// Pointer kinds.
const (
	Mouse PointerKind = iota
	Pen
	Touch
)

// ParsePointerKind maps a DOM pointerType string; unknown types are Mouse.
func ParsePointerKind(s string) PointerKind {
	switch s {
	case "pen":
		return Pen
	case "touch":
		return Touch
	}
	return Mouse
}

func (k PointerKind) String() string {
	switch k {
	case Pen:
		return "pen"
	case Touch:
		return "touch"
	}
	return "mouse"
}

// Phase is the stage of a pointer event.
type Phase uint8

// Pointer phases (pointerdown, pointermove, pointerup, pointercancel).
const (
	Down Phase = iota
	Move
	Up
	Cancel
)

// DOM button numbers (PointerEvent.button) and button bits (buttons).
const (
	ButtonPrimary = 0
	ButtonMiddle  = 1
	ButtonEraser  = 5  // the pen's eraser end
	BitsEraser    = 32 // buttons bit of the eraser end
	BitsMiddle    = 4
)

// PointerEvent is a normalized DOM PointerEvent (one coalesced sample).
type PointerEvent struct {
	ID           int
	Kind         PointerKind
	Phase        Phase
	Pos          Vec     // screen (CSS px relative to the canvas element)
	Pressure     float64 // PointerEvent.pressure, [0,1]
	TiltX, TiltY float64 // degrees
	Button       int     // PointerEvent.button (for Down/Up)
	Buttons      int     // PointerEvent.buttons bitmask
}

// EffectivePressure returns the pressure to paint with: mice and touches
// without real pressure (the DOM reports 0.5 or 0 for them) paint at 1;
// pens use their pressure, clamped to [0,1].
func (e PointerEvent) EffectivePressure() float64 {
	switch e.Kind {
	case Pen:
		return clamp(e.Pressure, 0, 1)
	case Touch:
		if e.Pressure > 0 && e.Pressure < 1 && e.Pressure != 0.5 {
			return e.Pressure
		}
	}
	return 1
}

// Tool is the active tool.
type Tool uint8

// Tools.
const (
	ToolBrush Tool = iota
	ToolPixelBrush
	ToolEraser
	ToolPicker
	ToolLaser
	ToolPan
)

// ActionKind says what an Action asks the client to do.
type ActionKind uint8

// Action kinds.
const (
	StrokeBegin ActionKind = iota
	StrokeMove
	StrokeEnd
	ViewChanged
	Pick  // sample the colour at Pos
	Laser // laser pointer at Pos
)

// Action is a result of input handling. Pos is in canvas coordinates.
type Action struct {
	Kind     ActionKind
	Pos      Vec
	Pressure float64
	Eraser   bool // the stroke erases (eraser tool or the pen's eraser end)
}

// Controller turns pointer events into actions and view changes. It owns
// the View. The zero value is not ready: use NewController.
type Controller struct {
	View View
	Tool Tool
	// SpaceHeld makes primary drags pan (the space-bar convention).
	SpaceHeld bool

	stroke  int  // pointer id of the active stroke, -1 for none
	eraser  bool // the active stroke erases
	pan     int  // pointer id of an active pan, -1 for none
	panLast Vec
	picking int // pointer id of an active pick/laser drag, -1 for none
	touches []touch
	pinch   bool
}

type touch struct {
	id  int
	pos Vec
}

// NewController returns a controller with the identity view and the brush.
func NewController() *Controller {
	return &Controller{View: NewView(), stroke: -1, pan: -1, picking: -1}
}

// Stroking reports whether a stroke is in progress.
func (c *Controller) Stroking() bool { return c.stroke >= 0 }

// Handle processes one event and appends the resulting actions to dst.
func (c *Controller) Handle(e PointerEvent, dst []Action) []Action {
	if e.Kind == Touch {
		return c.handleTouch(e, dst)
	}
	switch e.Phase {
	case Down:
		if c.stroke >= 0 || c.pan >= 0 || c.picking >= 0 {
			return dst // one gesture at a time
		}
		switch {
		case e.Button == ButtonMiddle || c.Tool == ToolPan || c.SpaceHeld:
			c.pan, c.panLast = e.ID, e.Pos
		case c.Tool == ToolPicker:
			c.picking = e.ID
			dst = append(dst, Action{Kind: Pick, Pos: c.View.ToCanvas(e.Pos)})
		case c.Tool == ToolLaser:
			c.picking = e.ID
			dst = append(dst, Action{Kind: Laser, Pos: c.View.ToCanvas(e.Pos)})
		default:
			c.stroke = e.ID
			c.eraser = c.Tool == ToolEraser || e.Button == ButtonEraser || e.Buttons&BitsEraser != 0
			dst = append(dst, Action{Kind: StrokeBegin, Pos: c.View.ToCanvas(e.Pos), Pressure: e.EffectivePressure(), Eraser: c.eraser})
		}
	case Move:
		switch e.ID {
		case c.pan:
			c.View.PanBy(e.Pos.Sub(c.panLast))
			c.panLast = e.Pos
			dst = append(dst, Action{Kind: ViewChanged})
		case c.stroke:
			dst = append(dst, Action{Kind: StrokeMove, Pos: c.View.ToCanvas(e.Pos), Pressure: e.EffectivePressure(), Eraser: c.eraser})
		case c.picking:
			k := Pick
			if c.Tool == ToolLaser {
				k = Laser
			}
			dst = append(dst, Action{Kind: k, Pos: c.View.ToCanvas(e.Pos)})
		}
	case Up, Cancel:
		switch e.ID {
		case c.pan:
			c.pan = -1
		case c.stroke:
			c.stroke = -1
			dst = append(dst, Action{Kind: StrokeEnd, Pos: c.View.ToCanvas(e.Pos), Eraser: c.eraser})
		case c.picking:
			c.picking = -1
		}
	}
	return dst
}

func (c *Controller) touchIndex(id int) int {
	for i, t := range c.touches {
		if t.id == id {
			return i
		}
	}
	return -1
}

// maxTouches bounds the tracked touches (a hand has five fingers; the DOM
// may report palms too).
const maxTouches = 10

func (c *Controller) handleTouch(e PointerEvent, dst []Action) []Action {
	i := c.touchIndex(e.ID)
	switch e.Phase {
	case Down:
		if i >= 0 || len(c.touches) >= maxTouches {
			return dst
		}
		c.touches = append(c.touches, touch{e.ID, e.Pos})
		switch len(c.touches) {
		case 1:
			if c.Tool == ToolPan {
				c.pan, c.panLast = e.ID, e.Pos
				return dst
			}
			return c.Handle(PointerEvent{ID: e.ID, Kind: Pen, Phase: Down, Pos: e.Pos, Pressure: e.EffectivePressure()}, dst)
		case 2:
			// A second finger turns the gesture into a pinch: end what the
			// first finger started.
			if c.stroke >= 0 {
				dst = append(dst, Action{Kind: StrokeEnd, Pos: c.View.ToCanvas(c.touches[0].pos), Eraser: c.eraser})
				c.stroke = -1
			}
			c.pan, c.picking = -1, -1
			c.pinch = true
		}
	case Move:
		if i < 0 {
			return dst
		}
		if c.pinch && i < 2 && len(c.touches) >= 2 {
			a0, b0 := c.touches[0].pos, c.touches[1].pos
			c.touches[i].pos = e.Pos
			c.View.Pinch(a0, b0, c.touches[0].pos, c.touches[1].pos, true)
			return append(dst, Action{Kind: ViewChanged})
		}
		c.touches[i].pos = e.Pos
		if !c.pinch {
			return c.Handle(PointerEvent{ID: e.ID, Kind: Pen, Phase: Move, Pos: e.Pos, Pressure: e.EffectivePressure()}, dst)
		}
	case Up, Cancel:
		if i < 0 {
			return dst
		}
		c.touches = append(c.touches[:i], c.touches[i+1:]...)
		if c.pinch {
			if len(c.touches) == 0 {
				c.pinch = false
			}
			return dst
		}
		return c.Handle(PointerEvent{ID: e.ID, Kind: Mouse, Phase: e.Phase, Pos: e.Pos}, dst)
	}
	return dst
}

// Wheel zooms about the screen point for a wheel delta in CSS pixels
// (positive = away from the user = zoom out), one doubling per 300 px.
func (c *Controller) Wheel(at Vec, deltaY float64, dst []Action) []Action {
	if deltaY == 0 || math.IsNaN(deltaY) || math.IsInf(deltaY, 0) {
		return dst
	}
	c.View.ZoomAt(at, math.Exp2(-clamp(deltaY, -600, 600)/300))
	return append(dst, Action{Kind: ViewChanged})
}

package webtest

import (
	"context"
	"fmt"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// PointerType is the kind of pointer a synthesized event comes from; the
// page sees it as PointerEvent.pointerType.
type PointerType string

// Pointer types understood by Input.dispatchMouseEvent.
const (
	Mouse PointerType = "mouse"
	Pen   PointerType = "pen"
)

// Point is one sample of a synthesized stroke, in CSS pixels relative to
// the viewport. Pressure is in [0,1] (the page sees it as
// PointerEvent.pressure for pens); TiltX and TiltY are degrees in
// [-90,90].
type Point struct {
	X, Y         float64
	Pressure     float64
	TiltX, TiltY float64
}

// Stroke is a press, moves and a release of one pointer.
type Stroke struct {
	Type   PointerType // default Pen
	Points []Point     // at least one; the first is the press, the last the release
	// Eraser presses the pen's eraser end (button "right" with buttons=32
	// is not expressible in CDP, so the eraser is sent as the pen's
	// secondary button; pages that support it read buttons&32 or button 5).
	Eraser bool
}

// Sync is called after each dispatched event of a stroke; tests pass a
// function that waits for the game loop's update counter to advance, so
// every sample is seen in its own tick.
type Sync func() error

// PointerStroke dispatches a stroke through the DevTools protocol
// (Input.dispatchMouseEvent with pointerType and force), which the page
// receives as trusted PointerEvents with pressure and tilt. sync, when not
// nil, runs after each event.
func (p *Page) PointerStroke(s Stroke, sync Sync) error {
	if len(s.Points) == 0 {
		return fmt.Errorf("webtest: stroke has no points")
	}
	typ := s.Type
	if typ == "" {
		typ = Pen
	}
	send := func(kind input.DispatchMouseEventType, pt Point, buttons int64, button input.MouseButton, clicks int64) error {
		ctx, cancel := context.WithTimeout(p.ctx, p.b.opts.Timeout)
		defer cancel()
		params := input.DispatchMouseEventParams{
			Type:        kind,
			X:           pt.X,
			Y:           pt.Y,
			Button:      button,
			Buttons:     buttons,
			ClickCount:  clicks,
			Force:       pt.Pressure,
			TiltX:       pt.TiltX,
			TiltY:       pt.TiltY,
			PointerType: input.DispatchMouseEventPointerType(typ),
		}
		if _, err := chromedp.Call(ctx, input.DispatchMouseEvent, params); err != nil {
			return fmt.Errorf("dispatch %s at (%v,%v): %w", kind, pt.X, pt.Y, err)
		}
		if sync != nil {
			return sync()
		}
		return nil
	}
	btn, btns := input.MouseButtonLeft, int64(1)
	if s.Eraser {
		btn, btns = input.MouseButtonRight, 2
	}
	first := s.Points[0]
	// Hover to the start so pointerenter/over fire before the press.
	if err := send(input.DispatchMouseEventTypeMouseMoved, Point{X: first.X, Y: first.Y}, 0, input.MouseButtonNone, 0); err != nil {
		return err
	}
	if err := send(input.DispatchMouseEventTypeMousePressed, first, btns, btn, 1); err != nil {
		return err
	}
	for _, pt := range s.Points[1:] {
		if err := send(input.DispatchMouseEventTypeMouseMoved, pt, btns, btn, 0); err != nil {
			return err
		}
	}
	last := s.Points[len(s.Points)-1]
	return send(input.DispatchMouseEventTypeMouseReleased, last, 0, btn, 1)
}

// Click sends a left mouse click at (x, y).
func (p *Page) Click(x, y float64) error {
	return p.run(chromedp.MouseClickXY(x, y))
}

// Wheel sends a mouse wheel event at (x, y) with the given deltas.
func (p *Page) Wheel(x, y, dx, dy float64) error {
	ctx, cancel := context.WithTimeout(p.ctx, p.b.opts.Timeout)
	defer cancel()
	_, err := chromedp.Call(ctx, input.DispatchMouseEvent, input.DispatchMouseEventParams{
		Type: input.DispatchMouseEventTypeMouseWheel, X: x, Y: y, DeltaX: dx, DeltaY: dy,
	})
	if err != nil {
		return fmt.Errorf("dispatch wheel: %w", err)
	}
	return nil
}

// Touch is one touch point of a touch event.
type Touch struct {
	ID    int
	X, Y  float64
	Force float64 // 0 means the protocol default (1.0)
}

// TouchEvent dispatches a touch event: kind is "touchStart", "touchMove",
// "touchEnd" or "touchCancel"; touches lists the points still down (empty
// for touchEnd and touchCancel).
func (p *Page) TouchEvent(kind string, touches []Touch) error {
	ctx, cancel := context.WithTimeout(p.ctx, p.b.opts.Timeout)
	defer cancel()
	pts := make([]*input.TouchPoint, 0, len(touches))
	for _, t := range touches {
		id := float64(t.ID)
		tp := &input.TouchPoint{X: t.X, Y: t.Y, ID: &id}
		if t.Force > 0 {
			f := t.Force
			tp.Force = &f
		}
		pts = append(pts, tp)
	}
	_, err := chromedp.Call(ctx, input.DispatchTouchEvent, input.DispatchTouchEventParams{
		Type: input.DispatchTouchEventType(kind), TouchPoints: pts,
	})
	if err != nil {
		return fmt.Errorf("dispatch %s: %w", kind, err)
	}
	return nil
}

// KeyPress types keys (text or kb constants) into the focused element.
func (p *Page) KeyPress(keys string) error {
	return p.run(chromedp.KeyEvent(keys))
}

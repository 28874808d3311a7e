//go:build js

package main

import (
	"sync"
	"syscall/js"

	"drawbridge/internal/webui"
)

// pointerSample is one queued input sample: a pointer event (one coalesced
// sample each) or a wheel event.
type pointerSample struct {
	e         webui.PointerEvent
	coalesced int // how many coalesced samples the DOM event carried
	wheel     bool
	deltaY    float64
}

// maxQueued bounds the input queue; when the game loop stalls (a hidden
// tab) older move samples are dropped, never presses and releases.
const maxQueued = 1 << 14

// eventQueue carries input from JavaScript callbacks to Update. The
// callbacks run on their own goroutines; they append under mu and never
// call into JavaScript while holding it.
type eventQueue struct {
	mu      sync.Mutex
	samples []pointerSample // guarded by mu
	cmds    []func(*Game)   // guarded by mu: UI commands from DOM callbacks

	attached bool     // owned by the game goroutine
	canvas   js.Value // owned by the game goroutine after attach
	funcs    []js.Func
}

func (q *eventQueue) push(s pointerSample) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.samples) >= maxQueued && s.e.Phase == webui.Move && !s.wheel {
		return
	}
	q.samples = append(q.samples, s)
}

// do queues a UI command to run in Update.
func (q *eventQueue) do(f func(*Game)) {
	q.mu.Lock()
	q.cmds = append(q.cmds, f)
	q.mu.Unlock()
}

// take removes up to max samples and every queued command.
func (q *eventQueue) take(max int) ([]pointerSample, []func(*Game)) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(max, len(q.samples))
	out := append([]pointerSample(nil), q.samples[:n]...)
	q.samples = append(q.samples[:0], q.samples[n:]...)
	cmds := q.cmds
	q.cmds = nil
	return out, cmds
}

// attach installs the Pointer Event listeners on Ebitengine's canvas once
// it exists. Called from Update.
func (q *eventQueue) attach() {
	if q.attached {
		return
	}
	doc := js.Global().Get("document")
	canvas := doc.Call("querySelector", "canvas")
	if !canvas.Truthy() {
		return
	}
	q.attached, q.canvas = true, canvas
	style := canvas.Get("style")
	style.Set("touchAction", "none") // no browser panning or zooming on the canvas
	style.Set("userSelect", "none")
	phases := map[string]webui.Phase{
		"pointerdown": webui.Down, "pointermove": webui.Move,
		"pointerup": webui.Up, "pointercancel": webui.Cancel,
	}
	for typ, phase := range phases {
		f := js.FuncOf(func(this js.Value, args []js.Value) any {
			q.onPointer(args[0], phase)
			return nil
		})
		q.funcs = append(q.funcs, f)
		canvas.Call("addEventListener", typ, f)
	}
	wheel := js.FuncOf(func(this js.Value, args []js.Value) any {
		e := args[0]
		e.Call("preventDefault")
		dy := e.Get("deltaY").Float()
		if e.Get("deltaMode").Int() == 1 { // lines
			dy *= 40
		}
		x, y := q.offset(e)
		q.push(pointerSample{wheel: true, deltaY: dy, e: webui.PointerEvent{Pos: webui.Vec{X: x, Y: y}}})
		return nil
	})
	q.funcs = append(q.funcs, wheel)
	canvas.Call("addEventListener", "wheel", wheel, map[string]any{"passive": false})
	// No context menu on the canvas: right-click and the pen's barrel
	// button belong to the tools.
	ctx := js.FuncOf(func(this js.Value, args []js.Value) any {
		args[0].Call("preventDefault")
		return nil
	})
	q.funcs = append(q.funcs, ctx)
	canvas.Call("addEventListener", "contextmenu", ctx)
}

// offset returns the event position relative to the canvas, in CSS px.
func (q *eventQueue) offset(e js.Value) (float64, float64) {
	r := q.canvas.Call("getBoundingClientRect")
	return e.Get("clientX").Float() - r.Get("left").Float(), e.Get("clientY").Float() - r.Get("top").Float()
}

// onPointer converts a DOM PointerEvent (and its coalesced samples) into
// queued samples. It runs on a JavaScript callback goroutine.
func (q *eventQueue) onPointer(e js.Value, phase webui.Phase) {
	id := e.Get("pointerId").Int()
	switch phase {
	case webui.Down:
		e.Call("preventDefault")
		// Keep receiving moves when the pointer leaves the canvas mid-stroke.
		if q.canvas.Get("setPointerCapture").Truthy() {
			q.canvas.Call("setPointerCapture", id)
		}
		q.canvas.Call("focus")
	}
	r := q.canvas.Call("getBoundingClientRect")
	left, top := r.Get("left").Float(), r.Get("top").Float()
	base := webui.PointerEvent{
		ID:      id,
		Kind:    webui.ParsePointerKind(e.Get("pointerType").String()),
		Phase:   phase,
		Button:  e.Get("button").Int(),
		Buttons: e.Get("buttons").Int(),
	}
	sample := func(s js.Value) webui.PointerEvent {
		ev := base
		ev.Pos = webui.Vec{X: s.Get("clientX").Float() - left, Y: s.Get("clientY").Float() - top}
		ev.Pressure = s.Get("pressure").Float()
		ev.TiltX = s.Get("tiltX").Float()
		ev.TiltY = s.Get("tiltY").Float()
		return ev
	}
	// Coalesced events carry the full-rate samples the browser merged into
	// this event (pens report at 200+ Hz). Synthetic events have none.
	if phase == webui.Move && e.Get("getCoalescedEvents").Truthy() {
		list := e.Call("getCoalescedEvents")
		n := list.Length()
		if n > 0 {
			for i := 0; i < n; i++ {
				q.push(pointerSample{e: sample(list.Index(i)), coalesced: n})
			}
			return
		}
	}
	q.push(pointerSample{e: sample(e), coalesced: 1})
}

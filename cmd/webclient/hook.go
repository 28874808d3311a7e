//go:build js

package main

import (
	"encoding/base64"
	"syscall/js"
	"time"

	"drawbridge/internal/webui"
)

// workRing is how many recent frames' work times the hook keeps.
const workRing = 600

// hook is window.__drawbridge, the test and diagnostics hook:
//
//	updates       number of completed Update calls
//	frames        number of completed Draw calls
//	ready         true after the first frame was drawn
//	firstFrameMs  performance.now() at the end of the first Draw, i.e.
//	              milliseconds from navigation start to the first frame
//	page          "landing", "name", "canvas", "watch" or "embed"
//	dabs          dabs painted locally so far
//	work()        recent per-frame work in ms (Update calls since the last
//	              Draw plus that Draw), oldest first
//	pixel(x, y)   [r, g, b, a] of the canvas at canvas pixel (x, y), from
//	              the same raster Draw uploads (non-premultiplied)
//	canvasPNG()   base64 PNG of the canvas: the engine's Render (exactly
//	              what `dptool render` draws) when joined, else the local
//	              raster; the same bytes as the PNG download
//	dropConnection() closes the session's WebSocket as a network failure
//	              would; the client reconnects (tests of resume)
//	reconnects    number of reconnects so far
//	toScreen(x,y) canvas → CSS pixels relative to the canvas element
//	toCanvas(x,y) the inverse
//	lastPointer() {type, pressure, tiltX, tiltY, coalesced} of the last
//	              pressed pointer sample Update processed (pointerup
//	              always reports pressure 0, so it is not recorded)
//	canvasSize    [width, height] of the local canvas (the session's
//	              canvas replaces it after joining)
//	session       "offline", "catching-up" or "connected"
//	layer, userID the drawing layer and own context id once connected
//
// Scalars are written by the game goroutine after each Update and Draw;
// the functions run on JavaScript callback goroutines and read the raster
// under rasterMu and the view from a copy made after each Update.
type hook struct {
	obj   js.Value
	g     *Game
	work  [workRing]float64 // ring; owned by the game goroutine
	next  int
	count int
	first bool
	funcs []js.Func

	// Copies for the callbacks, written after each Update. Wasm is single
	// threaded: callbacks run only while the game goroutine is parked
	// between frames, so they see a consistent copy.
	view     webui.View
	size     [2]int
	lastPtr  webui.PointerEvent
	lastCoal int
}

func newHook(g *Game) *hook {
	h := &hook{obj: js.Global().Get("Object").New(), g: g, view: g.ctl.View}
	h.obj.Set("updates", 0)
	h.obj.Set("frames", 0)
	h.obj.Set("ready", false)
	h.obj.Set("dabs", 0)
	h.obj.Set("canvasSize", []any{g.cfg.CanvasWidth, g.cfg.CanvasHeight})
	h.fn("work", func(args []js.Value) any {
		out := make([]any, 0, h.count)
		for i := 0; i < h.count; i++ {
			out = append(out, h.work[(h.next-h.count+i+workRing)%workRing])
		}
		return out
	})
	h.fn("pixel", func(args []js.Value) any {
		if len(args) < 2 {
			return nil
		}
		g.rasterMu.Lock()
		c := g.raster.At(args[0].Int(), args[1].Int())
		g.rasterMu.Unlock()
		return []any{int(c.R), int(c.G), int(c.B), int(c.A)}
	})
	h.fn("canvasPNG", func(args []js.Value) any {
		b, err := g.canvasPNG()
		if err != nil {
			return nil
		}
		return base64.StdEncoding.EncodeToString(b)
	})
	h.fn("dropConnection", func(args []js.Value) any {
		if g.on != nil && g.on.j.c != nil {
			if w, ok := g.on.j.c.Transport().(*wsConn); ok {
				w.drop()
				return true
			}
		}
		return false
	})
	h.fn("toScreen", func(args []js.Value) any {
		if len(args) < 2 {
			return nil
		}
		p := h.view.ToScreen(webui.Vec{X: args[0].Float(), Y: args[1].Float()})
		return []any{p.X, p.Y}
	})
	h.fn("toCanvas", func(args []js.Value) any {
		if len(args) < 2 {
			return nil
		}
		p := h.view.ToCanvas(webui.Vec{X: args[0].Float(), Y: args[1].Float()})
		return []any{p.X, p.Y}
	})
	h.fn("lastPointer", func(args []js.Value) any {
		o := js.Global().Get("Object").New()
		o.Set("type", h.lastPtr.Kind.String())
		o.Set("pressure", h.lastPtr.Pressure)
		o.Set("tiltX", h.lastPtr.TiltX)
		o.Set("tiltY", h.lastPtr.TiltY)
		o.Set("coalesced", h.lastCoal)
		return o
	})
	js.Global().Set("__drawbridge", h.obj)
	return h
}

func (h *hook) fn(name string, f func(args []js.Value) any) {
	jf := js.FuncOf(func(this js.Value, args []js.Value) any { return f(args) })
	h.funcs = append(h.funcs, jf)
	h.obj.Set(name, jf)
}

func (h *hook) afterUpdate() {
	h.view = h.g.ctl.View
	h.lastPtr, h.lastCoal = h.g.lastPtr, h.g.lastCoal
	h.obj.Set("updates", h.g.updates)
	h.obj.Set("dabs", h.g.dabCount)
	h.obj.Set("page", h.g.ui.page)
	if sz := [2]int{h.g.cfg.CanvasWidth, h.g.cfg.CanvasHeight}; sz != h.size {
		h.size = sz
		h.obj.Set("canvasSize", []any{sz[0], sz[1]})
	}
	h.obj.Set("reconnects", h.g.reconnects)
	switch on := h.g.on; {
	case on == nil:
		h.obj.Set("session", "offline")
	case on.caughtUp:
		h.obj.Set("session", "connected")
		h.obj.Set("layer", on.layer)
		h.obj.Set("userID", int(on.j.userID))
	default:
		h.obj.Set("session", "catching-up")
	}
}

func (h *hook) afterDraw(work time.Duration) {
	h.work[h.next] = float64(work.Microseconds()) / 1000
	h.next = (h.next + 1) % workRing
	h.count = min(h.count+1, workRing)
	h.obj.Set("frames", h.g.frames)
	if !h.first {
		h.first = true
		h.obj.Set("firstFrameMs", js.Global().Get("performance").Call("now"))
		h.obj.Set("ready", true)
	}
}

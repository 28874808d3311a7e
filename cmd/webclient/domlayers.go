//go:build js

package main

import (
	"strconv"
	"strings"
	"syscall/js"

	"drawbridge/internal/webui"
)

// layerItem is one entry of the layers panel.
type layerItem struct {
	title   string
	depth   int // nesting level in groups
	group   bool
	hidden  bool   // hidden locally
	locked  bool   // content locked (LayerACL)
	noDraw  string // why we may not draw on it, "" when we may
	canLock bool   // we may lock or unlock it
}

// layerControls is the state of the panel's controls for the drawing
// layer. A non-empty string disables its control and is the reason shown
// as its title.
type layerControls struct {
	noLayer                   bool // no drawing layer: everything but add is off
	title                     string
	opacity                   int // percent
	blend                     uint8
	add, props, del, up, down string
	lock                      string
	locked                    bool // the drawing layer's content is locked
	canvasLocked              bool
	canLockCanvas             bool
}

// toastTime is how long a toast stays, in milliseconds.
const toastTime = 3500

// bindLayers wires the layers panel.
func (d *dom) bindLayers() {
	click := func(id string, f func(g *Game)) {
		d.on(d.el(id), "click", func(js.Value) { d.q.do(f) })
	}
	click("layer-add", func(g *Game) { g.addLayer() })
	click("layer-del", func(g *Game) { g.deleteLayer() })
	click("layer-hide", func(g *Game) { g.toggleHidden() })
	click("layer-up", func(g *Game) { g.moveLayer(true) })
	click("layer-down", func(g *Game) { g.moveLayer(false) })
	click("canvas-lock", func(g *Game) { g.toggleCanvasLock() })
	// Opacity is sent when the slider is released ("change"), not on every
	// step, so one drag is one undoable command.
	d.on(d.el("layer-opacity"), "change", func(ev js.Value) {
		if v, err := strconv.ParseFloat(ev.Get("target").Get("value").String(), 64); err == nil {
			d.q.do(func(g *Game) { g.setLayerOpacity(v) })
		}
	})
	if sel := d.el("layer-blend"); sel.Truthy() {
		for _, m := range webui.LayerBlendModes {
			opt := d.doc.Call("createElement", "option")
			opt.Set("value", strconv.Itoa(int(m.ID)))
			opt.Set("textContent", m.Name)
			sel.Call("appendChild", opt)
		}
		d.on(sel, "change", func(ev js.Value) {
			if v, err := strconv.Atoi(ev.Get("target").Get("value").String()); err == nil && v >= 0 && v <= 255 {
				d.q.do(func(g *Game) { g.setLayerBlend(uint8(v)) })
			}
		})
	}
	d.on(d.el("layer-rename"), "submit", func(ev js.Value) {
		ev.Call("preventDefault")
		title := strings.TrimSpace(d.el("layer-title").Get("value").String())
		d.q.do(func(g *Game) { g.renameLayer(title) })
	})
	index := func(e js.Value) (int, bool) {
		li := e.Call("closest", "li")
		if !li.Truthy() {
			return 0, false
		}
		i, err := strconv.Atoi(li.Get("dataset").Get("index").String())
		return i, err == nil
	}
	ul := d.el("layers")
	d.on(ul, "click", func(ev js.Value) {
		t := ev.Get("target")
		i, ok := index(t)
		if !ok {
			return
		}
		if b := t.Call("closest", "button"); b.Truthy() && b.Get("dataset").Get("act").String() == "lock" {
			d.q.do(func(g *Game) { g.toggleLayerLock(i) })
			return
		}
		d.q.do(func(g *Game) { g.selectLayer(i) })
	})
	// Drag and drop in the list: dropping on the upper half of an entry
	// puts the dragged layer above it, on the lower half below it.
	// The dragged entry's index is kept here (the drag data is not
	// readable during dragover, and not at all in some browsers).
	dragFrom := -1
	d.on(ul, "dragstart", func(ev js.Value) {
		i, ok := index(ev.Get("target"))
		if !ok {
			return
		}
		dragFrom = i
		if dt := ev.Get("dataTransfer"); dt.Truthy() {
			dt.Call("setData", "text/plain", strconv.Itoa(i)) // Firefox starts no drag without data
			dt.Set("effectAllowed", "move")
		}
	})
	d.on(ul, "dragend", func(js.Value) { dragFrom = -1 })
	d.on(ul, "dragover", func(ev js.Value) {
		if dragFrom >= 0 {
			ev.Call("preventDefault") // allows the drop
		}
	})
	d.on(ul, "drop", func(ev js.Value) {
		ev.Call("preventDefault")
		to, ok := index(ev.Get("target"))
		from := dragFrom
		dragFrom = -1
		if !ok || from < 0 {
			return
		}
		r := ev.Get("target").Call("closest", "li").Call("getBoundingClientRect")
		above := ev.Get("clientY").Float() < r.Get("top").Float()+r.Get("height").Float()/2
		d.q.do(func(g *Game) { g.dropLayer(from, to, above) })
	})
}

// setLayers shows the layer entries (top first); active is the drawing
// layer's index.
func (d *dom) setLayers(items []layerItem, active int) {
	ul := d.el("layers")
	if !ul.Truthy() {
		return
	}
	ul.Set("textContent", "")
	for i, it := range items {
		li := d.doc.Call("createElement", "li")
		li.Get("dataset").Set("index", strconv.Itoa(i))
		li.Set("draggable", true)
		cl := li.Get("classList")
		cl.Call("toggle", "active", i == active)
		cl.Call("toggle", "hidden", it.hidden)
		cl.Call("toggle", "group", it.group)
		cl.Call("toggle", "locked", it.locked)
		cl.Call("toggle", "nodraw", it.noDraw != "")
		name := d.doc.Call("createElement", "span")
		name.Set("className", "name")
		name.Set("textContent", strings.Repeat("  ", it.depth)+it.title) // never HTML from users
		li.Call("appendChild", name)
		if it.noDraw != "" {
			li.Set("title", it.noDraw)
		}
		if it.canLock || it.locked {
			b := d.doc.Call("createElement", "button")
			b.Set("type", "button")
			b.Set("className", "layer-lock")
			b.Get("dataset").Set("act", "lock")
			// The padlock is drawn by app.css (closed and red when locked).
			what := map[bool]string{true: "Unlock", false: "Lock"}[it.locked] + " the layer for everyone"
			if !it.canLock {
				b.Set("disabled", true)
				what = "Locked"
			}
			b.Set("title", what)
			b.Call("setAttribute", "aria-label", what)
			li.Call("appendChild", b)
		}
		ul.Call("appendChild", li)
	}
}

// setLayerControls enables the layer controls as c allows and shows the
// drawing layer's title, opacity and blend mode.
func (d *dom) setLayerControls(c layerControls) {
	set := func(id, reason string, off bool) {
		e := d.el(id)
		if !e.Truthy() {
			return
		}
		e.Set("disabled", off || reason != "")
		e.Set("title", reason)
		if reason == "" {
			e.Call("removeAttribute", "title")
			if t := e.Get("dataset").Get("title"); t.Truthy() {
				e.Set("title", t.String())
			}
		}
	}
	set("layer-add", c.add, false)
	set("layer-del", c.del, c.noLayer)
	set("layer-hide", "", c.noLayer)
	set("layer-opacity", c.props, c.noLayer)
	set("layer-blend", c.props, c.noLayer)
	set("layer-title", c.props, c.noLayer)
	set("layer-up", c.up, c.noLayer)
	set("layer-down", c.down, c.noLayer)
	if e := d.el("layer-title"); e.Truthy() && !d.doc.Get("activeElement").Equal(e) {
		e.Set("value", c.title)
	}
	if e := d.el("layer-opacity"); e.Truthy() {
		e.Set("value", c.opacity)
	}
	if sel := d.el("layer-blend"); sel.Truthy() {
		v := strconv.Itoa(int(c.blend))
		if !sel.Call("querySelector", "option[value=\""+v+"\"]").Truthy() {
			// A mode another client set that the menu does not list.
			opt := d.doc.Call("createElement", "option")
			opt.Set("value", v)
			opt.Set("textContent", webui.BlendName(c.blend))
			sel.Call("appendChild", opt)
		}
		sel.Set("value", v)
	}
	if e := d.el("canvas-lock"); e.Truthy() {
		e.Set("hidden", !c.canLockCanvas)
		e.Set("textContent", map[bool]string{true: "Unlock canvas", false: "Lock canvas"}[c.canvasLocked])
	}
	if e := d.el("canvas-locked"); e.Truthy() {
		e.Set("hidden", !c.canvasLocked)
	}
}

// toast shows a short message (why an action was refused) for a few
// seconds.
func (d *dom) toast(msg string) {
	e := d.el("toast")
	if !e.Truthy() {
		return
	}
	e.Set("textContent", msg)
	e.Set("hidden", false)
	n := 1
	if v, err := strconv.Atoi(e.Get("dataset").Get("n").String()); err == nil {
		n = v + 1
	}
	e.Get("dataset").Set("n", strconv.Itoa(n))
	var f js.Func
	f = js.FuncOf(func(js.Value, []js.Value) any {
		if e.Get("dataset").Get("n").String() == strconv.Itoa(n) {
			e.Set("hidden", true)
		}
		f.Release()
		return nil
	})
	js.Global().Call("setTimeout", f, toastTime)
}

//go:build js

package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall/js"
	"time"

	"drawbridge/internal/client"
	"drawbridge/internal/webui"
)

// nameKey is the localStorage key of the remembered user name.
const nameKey = "drawbridge.name"

// dom is the thin HTML layer: it binds the elements of index.html by id,
// forwards user actions to the game as queued commands, and is updated by
// the game goroutine. It holds no state of its own beyond element handles.
type dom struct {
	doc      js.Value
	q        *eventQueue
	funcs    []js.Func // kept alive for the page's lifetime
	page     string    // "landing", "name", "canvas", "watch" or "embed"
	room     string    // room code from /r/CODE
	proxyQ   string    // query of /join?host=…&session=… (proxied upstream)
	password string    // from the URL fragment (#password)
	pwBound  bool
	pwDone   func(string)

	// Landing page session list: the last list fetched and the polling
	// goroutine's cancel (called when the page leaves the landing screen).
	listMu   sync.Mutex            // guards sessions (never held across JavaScript calls)
	sessions []webui.ListedSession // guarded by listMu
	stopList context.CancelFunc
}

func newDOM(q *eventQueue, viewer *webui.ViewerOptions) *dom {
	d := &dom{doc: js.Global().Get("document"), q: q}
	d.hide("loading")
	path := js.Global().Get("location").Get("pathname").String()
	href := js.Global().Get("location").Get("href").String()
	if viewer != nil {
		d.enterViewer(*viewer)
	} else if q := js.Global().Get("location").Get("search").String(); path == "/join" && len(q) > 1 {
		d.proxyQ = q[1:]
		if h := js.Global().Get("location").Get("hash").String(); len(h) > 1 {
			d.password = webui.FragmentPassword(h[1:])
		}
		d.showNamePrompt()
	} else if code, pw := webui.ParseRoomLink(href); strings.HasPrefix(path, "/r/") && code != "" {
		d.room, d.password = code, pw
		d.showNamePrompt()
	} else {
		d.showLanding()
	}
	d.bindToolbar()
	d.bindLayers() // domlayers.go
	d.bindChat()
	d.bindHost()
	return d
}

func (d *dom) el(id string) js.Value { return d.doc.Call("getElementById", id) }

func (d *dom) hide(id string) {
	if e := d.el(id); e.Truthy() {
		e.Set("hidden", true)
	}
}

func (d *dom) show(id string) {
	if e := d.el(id); e.Truthy() {
		e.Set("hidden", false)
	}
}

// on adds an event listener that runs f on a callback goroutine.
func (d *dom) on(e js.Value, typ string, f func(ev js.Value)) {
	if !e.Truthy() {
		return
	}
	fn := js.FuncOf(func(this js.Value, args []js.Value) any {
		f(args[0])
		return nil
	})
	d.funcs = append(d.funcs, fn)
	e.Call("addEventListener", typ, fn)
}

func (d *dom) showLanding() {
	d.page = "landing"
	d.show("landing")
	d.on(d.el("landing"), "submit", func(ev js.Value) {
		ev.Call("preventDefault")
		code := webui.RoomCode(d.el("room-input").Get("value").String())
		if code == "" {
			d.showError("Enter a room code (like K7QX2M) or paste an invite link.")
			return
		}
		js.Global().Get("location").Set("href", "/r/"+code)
	})
	d.on(d.el("show-nsfm"), "change", func(js.Value) { d.renderSessions() })
	d.on(d.el("sessions"), "click", func(ev js.Value) {
		b := ev.Get("target").Call("closest", "button")
		if !b.Truthy() {
			return
		}
		if code := webui.RoomCode(b.Get("dataset").Get("code").String()); code != "" {
			js.Global().Get("location").Set("href", "/r/"+code)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	d.stopList = cancel
	go d.pollSessions(ctx)
}

// sessionPoll is how often the landing page refreshes the session list.
const sessionPoll = 5 * time.Second

// pollSessions fetches the bridge's public session list now and every
// sessionPoll until ctx ends. It runs on its own goroutine, started by
// showLanding and ended by d.stopList.
func (d *dom) pollSessions(ctx context.Context) {
	for {
		if list, err := fetchSessions(ctx); err == nil {
			d.listMu.Lock()
			d.sessions = list
			d.listMu.Unlock()
			d.renderSessions()
		}
		if !sleepCtx(ctx, sessionPoll) {
			return
		}
	}
}

// fetchSessions reads GET /api/sessions.
func fetchSessions(ctx context.Context) ([]webui.ListedSession, error) {
	resp, err := await(ctx, js.Global().Call("fetch", "/api/sessions", map[string]any{"cache": "no-store"}))
	if err != nil {
		return nil, err
	}
	if st := resp.Get("status").Int(); st != 200 {
		return nil, fmt.Errorf("session list: HTTP %d", st)
	}
	text, err := await(ctx, resp.Call("text"))
	if err != nil {
		return nil, err
	}
	return webui.ParseSessionList([]byte(text.String()))
}

// renderSessions shows the session list, NSFM sessions only when the
// "Show NSFM" box is ticked.
func (d *dom) renderSessions() {
	ul := d.el("sessions")
	if !ul.Truthy() {
		return
	}
	showNSFM := d.el("show-nsfm").Truthy() && d.el("show-nsfm").Get("checked").Bool()
	d.listMu.Lock()
	all := d.sessions
	d.listMu.Unlock()
	vis := webui.VisibleSessions(all, showNSFM)
	ul.Set("textContent", "")
	for _, s := range vis {
		li := d.doc.Call("createElement", "li")
		b := d.doc.Call("createElement", "button")
		b.Set("type", "button")
		b.Get("dataset").Set("code", s.Code)
		if !s.HasPassword && s.ID != "" {
			// Live thumbnail (issue #8): the bridge answers the browser's
			// image Accept header with lossless WebP (PNG elsewhere) and
			// re-renders it at most every few seconds.
			img := d.doc.Call("createElement", "img")
			img.Set("className", "thumb")
			img.Set("alt", "")
			img.Set("loading", "lazy")
			img.Set("src", "/api/sessions/"+js.Global().Call("encodeURIComponent", s.ID).String()+"/thumbnail")
			b.Call("appendChild", img)
		}
		span := func(class, text string) {
			sp := d.doc.Call("createElement", "span")
			sp.Set("className", class)
			sp.Set("textContent", text) // never HTML from the server
			b.Call("appendChild", sp)
		}
		span("title", s.DisplayTitle())
		if s.HasPassword {
			span("tag lock", "password")
			b.Set("title", "Password protected")
		}
		if s.Nsfm {
			span("tag nsfm", "NSFM")
		}
		if !s.AllowWeb {
			span("tag", "desktop only")
			b.Set("disabled", true)
		}
		span("users", s.UserCount())
		li.Call("appendChild", b)
		ul.Call("appendChild", li)
	}
	empty := d.el("sessions-empty")
	if empty.Truthy() {
		msg := ""
		if len(vis) == 0 {
			msg = "No public sessions right now."
			if n := webui.HiddenNSFM(all); n > 0 && !showNSFM {
				msg = strconv.Itoa(n) + " NSFM session(s) hidden."
			}
		}
		empty.Set("textContent", msg)
		empty.Set("hidden", msg == "")
	}
}

// bindHost wires the landing page's host dialog.
func (d *dom) bindHost() {
	d.on(d.el("host-open"), "click", func(js.Value) {
		d.hide("landing")
		d.show("host-dialog")
		in := d.el("host-name")
		if ls := js.Global().Get("localStorage"); ls.Truthy() {
			if v := ls.Call("getItem", nameKey); v.Truthy() {
				in.Set("value", v.String())
			}
		}
		in.Call("focus")
	})
	d.on(d.el("host-dialog"), "submit", func(ev js.Value) {
		ev.Call("preventDefault")
		val := func(id string) string { return d.el(id).Get("value").String() }
		name := strings.TrimSpace(val("host-name"))
		if name == "" {
			return
		}
		w, _ := strconv.Atoi(val("host-width"))
		h, _ := strconv.Atoi(val("host-height"))
		bg, err := webui.ParseHex(val("host-bg"))
		if err != nil {
			bg = webui.Color{R: 255, G: 255, B: 255, A: 255}
		}
		checked := func(id string) bool { return d.el(id).Get("checked").Bool() }
		alias := strings.TrimSpace(val("host-alias"))
		if alias != "" && webui.RoomCode(alias) == "" {
			d.showError("The alias may contain only letters, digits, '-' and '_'.")
			return
		}
		ho := hostOptions{
			Title: strings.TrimSpace(val("host-title")), Password: val("host-password"), Alias: alias,
			NSFM: checked("host-nsfm"), Unlisted: checked("host-unlisted"),
			Persistent: checked("host-persistent"), AllowWeb: checked("host-allowweb"),
			Width: w, Height: h, Background: bg,
		}
		if ls := js.Global().Get("localStorage"); ls.Truthy() {
			ls.Call("setItem", nameKey, name)
		}
		d.hide("host-dialog")
		if d.stopList != nil {
			d.stopList()
		}
		d.q.do(func(g *Game) {
			g.ui.enterCanvas(name)
			g.startHost(name, ho)
		})
	})
	// A refused clipboard write (no permission, page not focused) says so
	// instead of claiming success.
	copyFailed := js.FuncOf(func(js.Value, []js.Value) any {
		d.el("invite-copied").Set("textContent", "Copying is not allowed here; use the room code instead.")
		return nil
	})
	d.funcs = append(d.funcs, copyFailed)
	copyText := func(what, text string) {
		// Only what was copied is named, never the link itself.
		d.el("invite-copied").Set("textContent", what+" copied")
		if cb := js.Global().Get("navigator").Get("clipboard"); cb.Truthy() {
			cb.Call("writeText", text).Call("catch", copyFailed)
		} else {
			copyFailed.Invoke()
		}
	}
	d.on(d.el("copy-code"), "click", func(js.Value) { copyText("Room code", d.el("invite-code").Get("textContent").String()) })
	d.on(d.el("copy-link"), "click", func(js.Value) {
		// The link is copied, never shown large (streamers share screens).
		copyText("Invite link", js.Global().Get("location").Get("origin").String()+"/r/"+d.el("invite-code").Get("textContent").String())
	})
	d.bindSettings()
	d.on(d.el("invite-close"), "click", func(js.Value) { d.hide("invite") })
}

// showInvite shows the room code of a hosted session with copy buttons.
func (d *dom) showInvite(code string) {
	if code == "" {
		return
	}
	d.el("invite-code").Set("textContent", code)
	d.show("invite")
	d.room = code
	// The address bar becomes the room link, so a reload rejoins.
	js.Global().Get("history").Call("replaceState", nil, "", "/r/"+code)
}

func (d *dom) showNamePrompt() {
	d.page = "name"
	d.show("name-dialog")
	in := d.el("name-input")
	if ls := js.Global().Get("localStorage"); ls.Truthy() {
		if v := ls.Call("getItem", nameKey); v.Truthy() {
			in.Set("value", v.String())
		}
	}
	in.Call("focus")
	d.on(d.el("name-dialog"), "submit", func(ev js.Value) {
		ev.Call("preventDefault")
		name := strings.TrimSpace(in.Get("value").String())
		if name == "" {
			return
		}
		if ls := js.Global().Get("localStorage"); ls.Truthy() {
			ls.Call("setItem", nameKey, name)
		}
		d.hide("name-dialog")
		d.q.do(func(g *Game) {
			g.ui.enterCanvas(name)
			if d.proxyQ != "" {
				g.startProxy(name, d.proxyQ, d.password)
			} else {
				g.startSession(name, d.room, d.password)
			}
		})
	})
}

// enterViewer sets up the spectator (/watch) or embed (/embed) page: no
// name prompt, no drawing controls, and starts watching.
func (d *dom) enterViewer(vo webui.ViewerOptions) {
	cl := d.doc.Get("documentElement").Get("classList")
	cl.Call("add", "viewer")
	if vo.Mode == webui.ModeEmbed {
		d.page = "embed"
		cl.Call("add", "embed")
		if vo.Chat {
			cl.Call("add", "with-chat")
		}
	} else {
		d.page = "watch"
		d.show("status")
	}
	if !vo.Chat {
		cl.Call("add", "no-chat")
	}
	if vo.Transparent {
		cl.Call("add", "transparent")
	}
	d.show("side")
	if !vo.Cursors {
		d.hide("cursors")
	}
	d.setStatus("Watching")
	d.q.do(func(g *Game) { g.startWatch(vo) })
}

func (d *dom) enterCanvas(name string) {
	d.page = "canvas"
	d.show("toolbar")
	d.show("side")
	d.show("status")
	d.setLayers([]layerItem{{title: "Layer 1"}}, 0)
	d.setStatus("Room " + d.room + " · " + name)
}

func (d *dom) bindToolbar() {
	buttons := d.doc.Call("querySelectorAll", "#toolbar button[data-tool]")
	for i := 0; i < buttons.Length(); i++ {
		b := buttons.Index(i)
		tool := b.Get("dataset").Get("tool").String()
		d.on(b, "click", func(js.Value) { d.q.do(func(g *Game) { g.setTool(tool) }) })
	}
	d.on(d.el("color"), "input", func(ev js.Value) {
		if c, err := webui.ParseHex(ev.Get("target").Get("value").String()); err == nil {
			d.q.do(func(g *Game) { g.setColor(c) })
		}
	})
	slider := func(id string, set func(g *Game, v float64)) {
		d.on(d.el(id), "input", func(ev js.Value) {
			v, err := strconv.ParseFloat(ev.Get("target").Get("value").String(), 64)
			if err == nil {
				d.q.do(func(g *Game) { set(g, v) })
			}
		})
	}
	slider("size", func(g *Game, v float64) { g.brush.Size = v })
	slider("opacity", func(g *Game, v float64) { g.brush.Opacity = v / 100 })
	slider("hardness", func(g *Game, v float64) { g.brush.Hardness = v / 100 })
	d.on(d.el("fit"), "click", func(js.Value) { d.q.do(func(g *Game) { g.fit() }) })
	d.on(d.el("undo"), "click", func(js.Value) { d.q.do(func(g *Game) { g.undo(false) }) })
	d.on(d.el("redo"), "click", func(js.Value) { d.q.do(func(g *Game) { g.undo(true) }) })
	d.on(d.el("panel-toggle"), "click", func(js.Value) { d.el("side").Get("classList").Call("toggle", "toggled") })
	d.on(d.el("download"), "click", func(js.Value) { d.q.do(func(g *Game) { g.downloadPNG() }) })
	d.on(d.el("users"), "click", func(ev js.Value) {
		b := ev.Get("target").Call("closest", "button")
		if !b.Truthy() {
			return
		}
		act := b.Get("dataset").Get("act").String()
		id, err := strconv.Atoi(b.Get("dataset").Get("user").String())
		if err != nil || id < 0 || id > 255 {
			return
		}
		d.q.do(func(g *Game) { g.userAction(act, uint8(id)) })
	})
	d.on(d.el("mirror"), "click", func(js.Value) { d.q.do(func(g *Game) { g.toggleMirror() }) })
}

func (d *dom) bindChat() {
	in := d.el("chat-input")
	d.on(d.el("chat-form"), "submit", func(ev js.Value) {
		ev.Call("preventDefault")
		text := strings.TrimSpace(in.Get("value").String())
		if text == "" {
			return
		}
		in.Set("value", "")
		name := ""
		if ls := js.Global().Get("localStorage"); ls.Truthy() {
			if v := ls.Call("getItem", nameKey); v.Truthy() {
				name = v.String()
			}
		}
		d.q.do(func(g *Game) { g.sendChat(name, text) })
	})
}

// Methods below are called by the game goroutine.

func (d *dom) setActiveTool(name string) {
	buttons := d.doc.Call("querySelectorAll", "#toolbar button[data-tool]")
	for i := 0; i < buttons.Length(); i++ {
		b := buttons.Index(i)
		b.Get("classList").Call("toggle", "active", b.Get("dataset").Get("tool").String() == name)
	}
}

func (d *dom) setColor(c webui.Color, recent []webui.Color) {
	if in := d.el("color"); in.Truthy() {
		in.Set("value", webui.Color{R: c.R, G: c.G, B: c.B, A: 255}.Hex())
	}
	box := d.el("recent")
	if !box.Truthy() {
		return
	}
	box.Set("textContent", "")
	for _, rc := range recent {
		b := d.doc.Call("createElement", "button")
		b.Set("title", rc.Hex())
		b.Get("style").Set("background", rc.Hex())
		b.Call("setAttribute", "aria-label", "colour "+rc.Hex())
		rc := rc
		d.on(b, "click", func(js.Value) { d.q.do(func(g *Game) { g.setColor(rc) }) })
		box.Call("appendChild", b)
	}
}

func (d *dom) setStatus(s string) {
	if e := d.el("status"); e.Truthy() {
		e.Set("textContent", s)
	}
}

func (d *dom) showError(s string) {
	if e := d.el("error"); e.Truthy() {
		e.Set("textContent", s)
		e.Set("hidden", false)
	}
}

func (d *dom) addChat(from, text string) {
	log := d.el("chat-log")
	if !log.Truthy() {
		return
	}
	p := d.doc.Call("createElement", "div")
	b := d.doc.Call("createElement", "b")
	b.Set("textContent", from+": ") // textContent: never HTML from users
	p.Call("appendChild", b)
	p.Call("appendChild", d.doc.Call("createTextNode", text))
	log.Call("appendChild", p)
	log.Set("scrollTop", log.Get("scrollHeight"))
}

func (d *dom) setUndoEnabled(on bool) {
	for _, id := range []string{"undo", "redo"} {
		if e := d.el(id); e.Truthy() {
			e.Set("disabled", !on)
		}
	}
}

// download offers data as a file through a temporary object URL.
func (d *dom) download(name, mime string, data []byte) {
	arr := js.Global().Get("Uint8Array").New(len(data))
	js.CopyBytesToJS(arr, data)
	blob := js.Global().Get("Blob").New([]any{arr}, map[string]any{"type": mime})
	url := js.Global().Get("URL").Call("createObjectURL", blob)
	a := d.doc.Call("createElement", "a")
	a.Set("href", url)
	a.Set("download", name)
	d.doc.Get("body").Call("appendChild", a)
	a.Call("click")
	a.Call("remove")
	js.Global().Get("URL").Call("revokeObjectURL", url)
}

// askPassword shows the password dialog; submit calls done with the text
// (on a callback goroutine; done must not block).
func (d *dom) askPassword(done func(string)) {
	d.show("password-dialog")
	in := d.el("password-input")
	in.Call("focus")
	if d.pwBound {
		d.pwDone = done
		return
	}
	d.pwBound, d.pwDone = true, done
	d.on(d.el("password-dialog"), "submit", func(ev js.Value) {
		ev.Call("preventDefault")
		pw := in.Get("value").String()
		if pw == "" {
			return
		}
		d.hide("password-dialog")
		d.pwDone(pw)
	})
}

// setUsers shows the user list with roles; self is marked. Operators get
// buttons for the other users (op, trust, kick, ban).
func (d *dom) setUsers(users []webui.User, self uint8, amOp bool) {
	ul := d.el("users")
	if !ul.Truthy() {
		return
	}
	ul.Set("textContent", "")
	for _, u := range users {
		li := d.doc.Call("createElement", "li")
		name := u.Name
		if u.ID == self {
			name += " (you)"
		}
		li.Set("textContent", name)
		role := u.Role()
		if u.Locked {
			role = strings.TrimSpace(role + " locked")
		}
		if u.Muted {
			role = strings.TrimSpace(role + " muted")
		}
		if role != "" {
			sp := d.doc.Call("createElement", "span")
			sp.Set("className", "role")
			sp.Set("textContent", role)
			li.Call("appendChild", sp)
		}
		if amOp && u.ID != self {
			acts := [][2]string{{"op", "Op"}, {"trust", "Trust"}, {"mute", "Mute"}, {"kick", "Kick"}, {"ban", "Ban"}}
			if u.Op {
				acts[0] = [2]string{"deop", "Deop"}
			}
			if u.Trusted {
				acts[1] = [2]string{"untrust", "Untrust"}
			}
			if u.Muted {
				acts[2] = [2]string{"unmute", "Unmute"}
			}
			box := d.doc.Call("createElement", "span")
			box.Set("className", "user-actions")
			for _, a := range acts {
				b := d.doc.Call("createElement", "button")
				b.Set("textContent", a[1])
				b.Get("dataset").Set("act", a[0])
				b.Get("dataset").Set("user", int(u.ID))
				b.Set("title", a[1]+" "+u.Name)
				box.Call("appendChild", b)
			}
			li.Call("appendChild", box)
		}
		ul.Call("appendChild", li)
	}
}

// cursorLabel is another user's name at a screen position.
type cursorLabel struct {
	name string
	x, y float64
}

// setCursorLabels positions one label per cursor, reusing elements.
func (d *dom) setCursorLabels(labels []cursorLabel) {
	box := d.el("cursors")
	if !box.Truthy() {
		return
	}
	kids := box.Get("children")
	for kids.Length() < len(labels) {
		box.Call("appendChild", d.doc.Call("createElement", "span"))
	}
	for i := kids.Length() - 1; i >= len(labels); i-- {
		kids.Index(i).Call("remove")
	}
	for i, l := range labels {
		sp := kids.Index(i)
		if sp.Get("textContent").String() != l.name {
			sp.Set("textContent", l.name)
		}
		sp.Get("style").Set("transform", "translate("+strconv.FormatFloat(l.x, 'f', 0, 64)+"px,"+strconv.FormatFloat(l.y, 'f', 0, 64)+"px)")
	}
}

// setProgress shows the catch-up progress bar at pct percent; a negative
// pct hides it.
func (d *dom) setProgress(pct int) {
	e := d.el("catchup")
	if !e.Truthy() {
		return
	}
	if pct < 0 {
		e.Set("hidden", true)
		return
	}
	e.Set("value", pct)
	e.Set("hidden", false)
}

// bindSettings wires the operators' session settings dialog.
func (d *dom) bindSettings() {
	d.on(d.el("settings-open"), "click", func(js.Value) { d.q.do(func(g *Game) { g.openSettings() }) })
	d.on(d.el("settings-cancel"), "click", func(js.Value) { d.hide("settings-dialog") })
	d.on(d.el("settings-dialog"), "submit", func(ev js.Value) {
		ev.Call("preventDefault")
		val := func(id string) string { return d.el(id).Get("value").String() }
		checked := func(id string) bool { return d.el(id).Get("checked").Bool() }
		title := strings.TrimSpace(val("set-title"))
		sc := client.SessionConf{
			Title:        &title,
			NSFM:         client.Ptr(checked("set-nsfm")),
			Persistent:   client.Ptr(checked("set-persistent")),
			PreserveChat: client.Ptr(checked("set-preservechat")),
		}
		if n, err := strconv.Atoi(val("set-maxusers")); err == nil && n >= 2 && n <= 254 {
			sc.MaxUserCount = &n
		}
		if checked("set-nopassword") {
			sc.Password = client.Ptr("")
		} else if pw := val("set-password"); pw != "" {
			sc.Password = &pw
		}
		d.hide("settings-dialog")
		d.q.do(func(g *Game) { g.applySettings(sc) })
	})
}

// showSettings opens the settings dialog filled with s.
func (d *dom) showSettings(s webui.SessionSettings) {
	set := func(id, prop string, v any) {
		if e := d.el(id); e.Truthy() {
			e.Set(prop, v)
		}
	}
	set("set-title", "value", s.Title)
	set("set-password", "value", "")
	set("set-nopassword", "checked", false)
	set("set-nopassword", "disabled", !s.HasPassword)
	set("set-maxusers", "value", s.MaxUsers)
	set("set-nsfm", "checked", s.NSFM)
	set("set-persistent", "checked", s.Persistent)
	set("set-preservechat", "checked", s.PreserveChat)
	d.show("settings-dialog")
}

// setOperator shows the operator-only controls when op is set.
func (d *dom) setOperator(op bool) {
	if e := d.el("settings-open"); e.Truthy() {
		e.Set("hidden", !op)
	}
	d.setSpectatorOp(op) // watch.go
}

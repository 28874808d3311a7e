//go:build js

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"syscall/js"
	"time"

	"drawbridge/internal/client"
	"drawbridge/internal/webui"
	"drawbridge/protocol"
)

// watchHello is the first message of the bridge's spectator stream
// (internal/bridge/watch.go).
type watchHello struct {
	Type     string  `json:"type"`
	ID       string  `json:"id"`
	Title    string  `json:"title"`
	Protocol string  `json:"protocol"`
	Delay    float64 `json:"delay"`
}

// startWatch starts the network goroutine of a spectator or embed page.
func (g *Game) startWatch(vo webui.ViewerOptions) {
	if g.netCancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.netCancel = cancel
	go runWatch(ctx, g.logger, vo, g.netc)
}

// runWatch is the network goroutine of a spectator page: it opens the
// bridge's spectator WebSocket (no login, nothing is ever sent), reads the
// hello, then hands every message to Update like pump does, following the
// catch-up for the progress bar. It ends when ctx ends or the stream does
// (the session ended, or the bridge dropped a slow viewer).
func runWatch(ctx context.Context, logger *slog.Logger, vo webui.ViewerOptions, out chan<- netEvent) {
	start := time.Now()
	send := func(ev netEvent) bool {
		select {
		case out <- ev:
			return true
		case <-ctx.Done():
			return false
		}
	}
	fail := func(err error) { send(netEvent{err: err}) }
	send(netEvent{status: "Connecting…"})
	dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	conn, err := dialWS(dctx, wsOrigin()+vo.WSPath())
	cancel()
	if err != nil {
		fail(fmt.Errorf("cannot watch this session (it may have ended): %w", err))
		return
	}
	defer conn.Close()
	f, err := conn.ReadFrame(ctx)
	if err != nil {
		fail(fmt.Errorf("cannot watch this session: %w", err))
		return
	}
	var hello watchHello
	if f.Type() != protocol.TypeServerCommand || json.Unmarshal(f.Payload(), &hello) != nil || hello.Type != "watch" {
		fail(errors.New("the server did not start a spectator stream"))
		return
	}
	layout, ok := protocol.LayoutFor(hello.Protocol)
	if !ok {
		fail(fmt.Errorf("the session uses protocol %s, which this client does not speak", hello.Protocol))
		return
	}
	logger.Info("watching", "session", hello.ID, "delay", hello.Delay, "elapsed", time.Since(start))
	if !send(netEvent{joined: &joined{layout: layout, title: hello.Title, readOnly: true}}) {
		return
	}
	var cu webui.Catchup
	for {
		f, err := conn.ReadFrame(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, io.EOF) {
				err = errors.New("the session ended")
			}
			fail(err)
			return
		}
		in := &inFrame{f: f}
		switch t := f.Type(); {
		case t == protocol.TypeServerCommand:
			r, err := client.ParseReply(f.Payload())
			if err != nil {
				continue
			}
			cu.Notice(r.Type, r.Count)
			switch {
			case r.Type == "sessionconf":
				in.conf = r.Config
			case r.Type == "reset" && r.State == "reset":
				in.reset = true
			}
		case t == protocol.TypeDisconnect:
			fail(errors.New("the session ended"))
			return
		case t < 32:
			continue // keepalives and pings: nothing to answer
		default:
			cu.Message()
		}
		if cu.CaughtUp && !in.caughtUp {
			in.caughtUp = true
		}
		in.got, in.of = cu.Got, cu.Of
		if !send(netEvent{frame: in}) {
			return
		}
	}
}

// Spectator link dialog (operators). The bridge answers the operator
// command spectator-link with {"type":"spectatorlink","secret",…} to the
// asker only (docs/architecture.md). The links are never shown in large
// text: they are masked until "Show links" and are meant to be copied
// (streamers share their screen).

// spectatorButtonHTML goes right after the "Session settings" button.
const spectatorButtonHTML = `<button id="spectator-open" type="button" hidden>Spectator link</button>`

// spectatorDialogHTML is appended to the page body once.
const spectatorDialogHTML = `<form id="spectator-dialog" class="panel center" style="z-index:30;max-width:32em" hidden>
  <h2>Spectator link</h2>
  <p class="hint">Anyone with these links can watch this session without joining. They are hidden here; copy them.</p>
  <div class="row"><span>Watch page</span> <code id="spec-watch" style="font-size:0.75em">••••••</code>
    <button id="spec-copy-watch" type="button">Copy watch link</button></div>
  <fieldset style="display:grid;gap:0.3em;justify-items:start"><legend>Embed for OBS and other stream overlays</legend>
    <label><input id="spec-bg" type="checkbox" checked> Transparent background</label>
    <label><input id="spec-cursors" type="checkbox" checked> Cursors</label>
    <label><input id="spec-laser" type="checkbox" checked> Laser pointers</label>
    <label><input id="spec-chat" type="checkbox"> Chat</label>
    <label>Delay (seconds) <input id="spec-delay" type="number" min="0" max="120" value="0"></label>
    <div class="row"><code id="spec-embed" style="font-size:0.75em">••••••</code>
      <button id="spec-copy-embed" type="button">Copy embed link</button></div>
  </fieldset>
  <div class="row">
    <button id="spec-reveal" type="button">Show links</button>
    <button id="spec-rotate" type="button" title="Old links stop working and their spectators are disconnected">New link…</button>
    <button id="spec-close" type="button">Close</button>
  </div>
  <div id="spec-status" class="hint" role="status"></div>
</form>`

// setSpectatorOp adds the operator-only "Spectator link" button (once)
// and shows it when op is set.
func (d *dom) setSpectatorOp(op bool) {
	b := d.el("spectator-open")
	if !b.Truthy() {
		anchor := d.el("settings-open")
		if !anchor.Truthy() {
			return
		}
		anchor.Call("insertAdjacentHTML", "afterend", spectatorButtonHTML)
		d.doc.Get("body").Call("insertAdjacentHTML", "beforeend", spectatorDialogHTML)
		d.bindSpectatorDialog()
		b = d.el("spectator-open")
	}
	b.Set("hidden", !op)
	if !op {
		d.hide("spectator-dialog")
	}
}

func (d *dom) bindSpectatorDialog() {
	d.on(d.el("spectator-open"), "click", func(js.Value) {
		d.el("spec-status").Set("textContent", "Asking the server…")
		d.show("spectator-dialog")
		d.q.do(func(g *Game) { g.requestSpectatorLink(false) })
	})
	d.on(d.el("spectator-dialog"), "submit", func(ev js.Value) { ev.Call("preventDefault") })
	d.on(d.el("spec-close"), "click", func(js.Value) { d.hide("spectator-dialog") })
	for _, id := range []string{"spec-bg", "spec-cursors", "spec-laser", "spec-chat", "spec-delay"} {
		d.on(d.el(id), "input", func(js.Value) { d.renderSpectatorLinks() })
		d.on(d.el(id), "change", func(js.Value) { d.renderSpectatorLinks() })
	}
	d.on(d.el("spec-reveal"), "click", func(js.Value) {
		dlg := d.el("spectator-dialog")
		shown := dlg.Get("dataset").Get("reveal").String() == "1"
		dlg.Get("dataset").Set("reveal", map[bool]string{false: "1", true: "0"}[shown])
		d.el("spec-reveal").Set("textContent", map[bool]string{false: "Hide links", true: "Show links"}[shown])
		d.renderSpectatorLinks()
	})
	d.on(d.el("spec-rotate"), "click", func(js.Value) {
		if !js.Global().Call("confirm", "Make a new spectator link? The old links stop working and people watching with them are disconnected.").Bool() {
			return
		}
		d.el("spec-status").Set("textContent", "Asking the server…")
		d.q.do(func(g *Game) { g.requestSpectatorLink(true) })
	})
	copyFailed := js.FuncOf(func(js.Value, []js.Value) any {
		d.el("spec-status").Set("textContent", "Copying is not allowed here.")
		return nil
	})
	d.funcs = append(d.funcs, copyFailed)
	copyLink := func(what string, embed bool) {
		w, e := d.spectatorLinks()
		text := w
		if embed {
			text = e
		}
		if text == "" {
			return
		}
		d.el("spec-status").Set("textContent", what+" copied") // never the link itself
		if cb := js.Global().Get("navigator").Get("clipboard"); cb.Truthy() {
			cb.Call("writeText", text).Call("catch", copyFailed)
		} else {
			copyFailed.Invoke()
		}
	}
	d.on(d.el("spec-copy-watch"), "click", func(js.Value) { copyLink("Watch link", false) })
	d.on(d.el("spec-copy-embed"), "click", func(js.Value) { copyLink("Embed link", true) })
}

// spectatorLinks returns the full watch and embed links of the secret
// shown in the dialog, with the embed options ticked there ("" without a
// secret yet).
func (d *dom) spectatorLinks() (watch, embed string) {
	secret := d.el("spectator-dialog").Get("dataset").Get("secret")
	if secret.Type() != js.TypeString || secret.String() == "" {
		return "", ""
	}
	origin := js.Global().Get("location").Get("origin").String()
	checked := func(id string) bool { return d.el(id).Get("checked").Bool() }
	o := webui.ViewerOptions{Fit: "contain", Transparent: checked("spec-bg"), Cursors: checked("spec-cursors"),
		Laser: checked("spec-laser"), Chat: checked("spec-chat")}
	if n, err := strconv.Atoi(d.el("spec-delay").Get("value").String()); err == nil && n > 0 {
		o.Delay = time.Duration(n) * time.Second
	}
	return origin + "/watch/" + secret.String(), webui.EmbedURL(origin, secret.String(), o)
}

// renderSpectatorLinks shows the links, or a mask unless revealed.
func (d *dom) renderSpectatorLinks() {
	w, e := d.spectatorLinks()
	reveal := d.el("spectator-dialog").Get("dataset").Get("reveal").String() == "1"
	if !reveal || w == "" {
		w, e = "••••••", "••••••"
	}
	d.el("spec-watch").Set("textContent", w)
	d.el("spec-embed").Set("textContent", e)
}

// showSpectatorLink fills the dialog with the server's answer.
func (d *dom) showSpectatorLink(l webui.SpectatorLink) {
	dlg := d.el("spectator-dialog")
	if !dlg.Truthy() {
		return
	}
	dlg.Get("dataset").Set("secret", l.Secret)
	status := "Copy a link and share it with your viewers."
	if l.Rotated {
		status = "New link made: the old links no longer work."
	}
	d.el("spec-status").Set("textContent", status)
	d.renderSpectatorLinks()
	d.show("spectator-dialog")
}

// requestSpectatorLink sends spectator-link (rotate: a new secret).
func (g *Game) requestSpectatorLink(rotate bool) {
	if g.on == nil || g.on.j.readOnly || g.on.j.c == nil {
		return
	}
	cmd := client.Command{Cmd: "spectator-link"}
	if rotate {
		cmd.Kwargs = map[string]any{"rotate": true}
	}
	if err := g.on.j.c.SendCommand(context.Background(), cmd); err != nil {
		g.ui.showError("spectator link not requested: " + err.Error())
	}
}

// onSpectatorLink handles a spectatorlink reply; it reports whether the
// ServerCommand payload was one.
func (g *Game) onSpectatorLink(payload []byte) bool {
	l, ok := webui.ParseSpectatorLink(payload)
	if ok {
		g.ui.showSpectatorLink(l)
	}
	return ok
}

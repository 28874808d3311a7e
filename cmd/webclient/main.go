//go:build js

// Command webclient is the Drawbridge browser client, compiled to
// WebAssembly and served by the bridge from web/static.
//
// Structure (house style principle 10, game loop discipline):
//
//   - game.go: the Ebitengine Game. Update drains the input and UI queues
//     and the network channel (with a per-tick budget), runs the tools
//     (internal/webui) and paints into the local raster; Draw only uploads
//     the dirty rectangle and composes the view; Layout tracks the window.
//   - pointer.go: Pointer Events read through syscall/js (pressure, tilt,
//     pointerType, the eraser button, coalesced events), because Ebitengine
//     has none of these.
//   - dom.go: the thin HTML layer (landing page, name prompt, toolbar, chat,
//     layers, status) bound by element id from web/static/index.html.
//   - hook.go: window.__drawbridge, the test hook (update and frame
//     counters, per-frame work times, pixel readback, view transforms).
//   - net.go, wsjs.go: the network goroutine (room lookup through
//     /api/rooms, WebSocket to /ws through the browser's WebSocket API,
//     login with internal/client, host, reconnect with hidx) handing
//     messages to Update over a channel.
//   - watch.go: the spectator and embed pages (/watch/SECRET,
//     /embed/SECRET?bg=transparent&fit=contain&cursors=off…): the bridge's
//     spectator WebSocket, read-only, no login.
//   - proxy.go: /join?host=H&port=P&session=S: the bridge resolves an
//     allowlisted upstream Drawpile server and relays the WebSocket.
//   - session.go: the joined session in the game loop: the canvas engine
//     (package canvas) fed in server order, own strokes applied at once and
//     sent (their echo skipped: Drawpile's local fork), remote strokes
//     smoothed, dirty tiles flattened into the framebuffer with a per-tick
//     budget, users, cursors, layers, undo, chat, PNG export.
//
// Goroutines: Ebitengine's game goroutine owns the Game. The network
// goroutine (runSession, runHost, runProxy or runWatch) owns its
// client.Client's reading side (runWatch: its spectator WebSocket)
// and talks to the game only through Game.netc (and reads a password from
// Game.pwc); the game writes through the client's send methods, which are
// safe for that. JavaScript event callbacks run on other goroutines; they only append to queues guarded by
// a mutex (never calling into JavaScript while holding it, because a call
// into JavaScript can run other callbacks synchronously on the same
// goroutine). The test hook's pixel readback takes the raster mutex. The
// landing page's session-list poller (dom.pollSessions) runs from
// showLanding until the host dialog starts a session (or the page
// navigates away); its list is guarded by dom.listMu.
//
// All logic that can be tested without a browser lives in internal/webui.
package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall/js"

	"github.com/hajimehoshi/ebiten/v2"

	"drawbridge/internal/webui"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "webclient:", err)
		js.Global().Get("console").Call("error", "webclient: "+err.Error())
		os.Exit(1)
	}
}

func run() error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg := Config{CanvasWidth: 1600, CanvasHeight: 1000}
	loc := js.Global().Get("location")
	if vo, ok := webui.ParseViewerURL(loc.Get("pathname").String(), strings.TrimPrefix(loc.Get("search").String(), "?")); ok {
		cfg.Viewer = &vo
	}
	g, err := newGame(cfg, logger)
	if err != nil {
		return err
	}
	opts := &ebiten.RunGameOptions{}
	if cfg.Viewer != nil && cfg.Viewer.Transparent {
		opts.ScreenTransparent = true
	}
	ebiten.SetWindowTitle("Drawbridge")
	ebiten.SetRunnableOnUnfocused(true)
	ebiten.SetScreenClearedEveryFrame(true)
	if err := ebiten.RunGameWithOptions(g, opts); err != nil {
		return fmt.Errorf("run game: %w", err)
	}
	return nil
}

//go:build js

package main

import (
	"context"
	"image"
	"image/color"
	"log/slog"
	"sync"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"

	"drawbridge/internal/webui"
	"drawbridge/protocol"
)

// Config sets up the client. Zero sizes mean 1600×1000.
type Config struct {
	CanvasWidth, CanvasHeight int
	// Background is the canvas colour; the zero value means white
	// (transparent on spectator pages).
	Background webui.Color
	// Viewer is set on the spectator and embed pages (/watch, /embed):
	// read-only, no login.
	Viewer *webui.ViewerOptions
}

// Per-tick budgets: Update stops draining a queue when one is exhausted
// and continues next tick, so a burst (catch-up, a flood of coalesced
// events) cannot stall a frame.
// While catching up, nothing is drawn yet and the progress bar is all
// there is to see, so Update spends more of each frame on the history.
const (
	netBudgetMessages = 512
	netBudgetTime     = 4 * time.Millisecond
	catchupBudgetTime = 12 * time.Millisecond
	inputBudgetEvents = 2048
	// During catch-up only the time budget counts.
	catchupBudgetMessages = 1 << 16
)

// netQueue is the capacity of Game.netc. In wasm the network goroutine
// runs only while the game loop is parked between frames, so the channel
// holds all that one Update can take from it: with 64 a history of small
// stroke messages was read at 64 messages per Update, ~3,000 per second.
const netQueue = 4096

// netEvent is what the network goroutine hands to Update, exactly one
// field set. err ends the session (the page shows it and keeps the local
// canvas); it does not end the game, because the page is still useful.
type netEvent struct {
	status       string
	needPassword bool // the session has a password: ask the user
	joined       *joined
	frame        *inFrame
	err          error
}

// Game is the Ebitengine game. Every field is owned by the game goroutine
// unless marked otherwise.
type Game struct {
	cfg    Config
	logger *slog.Logger

	ctl     *webui.Controller
	brush   webui.Brush
	stroker webui.Stroker
	recent  webui.RecentColors
	dabs    []webui.Dab
	actions []webui.Action

	rasterMu sync.Mutex    // guards raster pixels (read by the test hook)
	raster   *webui.Raster // guarded by rasterMu
	img      *ebiten.Image // GPU copy of raster, updated in Draw
	upload   []byte        // reused upload buffer

	input      *eventQueue // filled by JavaScript callbacks
	netc       chan netEvent
	netCancel  context.CancelFunc // ends the network goroutine
	pwc        chan string        // password from the dialog to the network goroutine
	on         *online            // the joined session, nil when offline
	reconnects int

	ui   *dom
	hook *hook

	screenW, screenH int     // CSS pixels
	scale            float64 // device pixels per CSS pixel (Layout)
	fitPending       bool
	laser            webui.Vec
	laserUntil       int // update count until which the laser dot shows

	// Per-frame work measurement: time spent in Update calls since the
	// last Draw plus the Draw itself.
	updateWork   time.Duration
	updates      int
	frames       int
	dabCount     int
	strokeOnline bool               // the current stroke goes to the session
	strokeDenied bool               // the current stroke was refused (locked layer…): not drawn
	pixelEnc     webui.PixelEncoder // pixel-brush dabs of the current stroke
	pixelRuns    []webui.PixelRun   // reused by sendPixelDabs
	lastPtr      webui.PointerEvent // last sample with a button down
	lastCoal     int

	// Catch-up drawing: while a history replays, Draw repaints only every
	// catchupDrawEvery (the screen is kept between frames meanwhile).
	lastCatchupDraw time.Time
	keepScreen      bool // SetScreenClearedEveryFrame(false) is in effect
}

func newGame(cfg Config, logger *slog.Logger) (*Game, error) {
	if cfg.CanvasWidth == 0 {
		cfg.CanvasWidth = 1600
	}
	if cfg.CanvasHeight == 0 {
		cfg.CanvasHeight = 1000
	}
	if cfg.Background == (webui.Color{}) && cfg.Viewer == nil {
		cfg.Background = webui.Color{R: 255, G: 255, B: 255, A: 255}
	}
	r, err := webui.NewRaster(cfg.CanvasWidth, cfg.CanvasHeight, cfg.Background)
	if err != nil {
		return nil, err
	}
	g := &Game{
		cfg:        cfg,
		logger:     logger,
		ctl:        webui.NewController(),
		brush:      webui.DefaultBrush(),
		raster:     r,
		input:      &eventQueue{},
		netc:       make(chan netEvent, netQueue),
		pwc:        make(chan string, 1),
		fitPending: true,
		scale:      1,
	}
	g.recent.Push(g.brush.Color)
	g.ui = newDOM(g.input, cfg.Viewer)
	if cfg.Viewer != nil {
		g.setTool("pan")
	}
	g.hook = newHook(g)
	return g, nil
}

// Layout reports the screen size in CSS pixels.
//
// The screen is rendered at device pixels (CSS size × devicePixelRatio)
// so lines stay sharp on phones and high-DPI screens; everything else
// (view, pointer positions, hook coordinates) stays in CSS pixels and Draw
// scales by g.scale.
func (g *Game) Layout(outsideWidth, outsideHeight int) (int, int) {
	if g.cfg.Viewer != nil && g.cfg.Viewer.Mode == webui.ModeEmbed && (outsideWidth != g.screenW || outsideHeight != g.screenH) {
		g.fitPending = true // an embed follows its frame's size
	}
	g.screenW, g.screenH = outsideWidth, outsideHeight
	g.scale = 1
	if m := ebiten.Monitor(); m != nil {
		if s := m.DeviceScaleFactor(); s >= 1 && s <= 4 {
			g.scale = s
		}
	}
	return int(float64(outsideWidth) * g.scale), int(float64(outsideHeight) * g.scale)
}

// Update handles input, UI commands and network events.
func (g *Game) Update() error {
	start := time.Now()
	defer func() {
		g.updates++
		g.updateWork += time.Since(start)
		g.hook.afterUpdate()
	}()
	if g.fitPending && g.screenW > 0 {
		g.fitPending = false
		g.fit()
	}
	g.input.attach() // binds pointer listeners once the canvas exists
	g.keyboard()

	events, cmds := g.input.take(inputBudgetEvents)
	for _, cmd := range cmds {
		cmd(g)
	}
	for _, ev := range events {
		g.handlePointer(ev)
	}

	budget, maxMsgs := netBudgetTime, netBudgetMessages
	if g.on != nil && !g.on.caughtUp {
		budget, maxMsgs = catchupBudgetTime, catchupBudgetMessages
	}
	deadline := start.Add(budget)
drain:
	for n := 0; n < maxMsgs && time.Now().Before(deadline); n++ {
		select {
		case ev := <-g.netc:
			g.handleNet(ev)
		default:
			break drain
		}
	}
	g.drainSmooth()
	g.rasterMu.Lock()
	g.syncEngine()
	g.rasterMu.Unlock()
	g.afterNet()
	return nil
}

func (g *Game) keyboard() {
	g.ctl.SpaceHeld = ebiten.IsKeyPressed(ebiten.KeySpace)
	if ebiten.IsKeyPressed(ebiten.KeyControl) || ebiten.IsKeyPressed(ebiten.KeyMeta) {
		if inpututil.IsKeyJustPressed(ebiten.KeyZ) {
			g.undo(ebiten.IsKeyPressed(ebiten.KeyShift))
		}
		if inpututil.IsKeyJustPressed(ebiten.KeyY) {
			g.undo(true)
		}
		return
	}
	if g.cfg.Viewer != nil {
		if inpututil.IsKeyJustPressed(ebiten.KeyF) {
			g.fit()
		}
		return
	}
	for key, tool := range map[ebiten.Key]string{
		ebiten.KeyB: "brush", ebiten.KeyP: "pixel", ebiten.KeyE: "eraser",
		ebiten.KeyI: "picker", ebiten.KeyL: "laser", ebiten.KeyH: "pan",
	} {
		if inpututil.IsKeyJustPressed(key) {
			g.setTool(tool)
		}
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyF) {
		g.fit()
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyM) {
		g.toggleMirror()
	}

}

// handlePointer runs one pointer sample through the controller and paints
// the resulting dabs: into the session (engine + network) when joined,
// else into the local raster.
func (g *Game) handlePointer(ev pointerSample) {
	if ev.wheel {
		g.actions = g.ctl.Wheel(ev.e.Pos, ev.deltaY, g.actions[:0])
		return
	}
	if g.on != nil && ev.e.Phase == webui.Move {
		g.on.hover = g.ctl.View.ToCanvas(ev.e.Pos)
	}
	if ev.e.Phase == webui.Down || ev.e.Phase == webui.Move && ev.e.Buttons != 0 {
		g.lastPtr, g.lastCoal = ev.e, ev.coalesced
	}
	g.actions = g.ctl.Handle(ev.e, g.actions[:0])
	if g.cfg.Viewer != nil {
		return // spectators only pan and zoom (the controller did that)
	}
	for _, a := range g.actions {
		switch a.Kind {
		case webui.StrokeBegin:
			b := g.brush
			b.Eraser = b.Eraser || a.Eraser
			g.strokeOnline = g.canDraw()
			// A stroke the other clients would drop is not drawn at all
			// (the page says why; layers.go).
			g.strokeDenied = g.strokeOnline && g.strokeRefused(b)
			g.strokeOnline = g.strokeOnline && !g.strokeDenied
			g.pixelEnc.Reset()
			if g.strokeOnline {
				g.sendLocal(protocol.UndoPoint{})
			}
			g.dabs = g.stroker.Begin(b, webui.Sample{Pos: a.Pos, Pressure: a.Pressure}, g.dabs[:0])
			g.paint(b)
		case webui.StrokeMove:
			b := g.brush
			b.Eraser = b.Eraser || a.Eraser
			g.dabs = g.stroker.Move(webui.Sample{Pos: a.Pos, Pressure: a.Pressure}, g.dabs[:0])
			g.paint(b)
		case webui.StrokeEnd:
			g.stroker.End()
			if g.strokeOnline && g.on != nil {
				g.sendLocal(protocol.PenUp{Layer: g.on.layer})
			}
			g.strokeOnline, g.strokeDenied = false, false
		case webui.Pick:
			g.rasterMu.Lock()
			c := g.raster.At(int(a.Pos.X), int(a.Pos.Y))
			g.rasterMu.Unlock()
			if c.A > 0 {
				c.A = 255
				g.setColor(c)
			}
		case webui.Laser:
			g.laserAt(a.Pos)
		}
	}
}

func (g *Game) paint(b webui.Brush) {
	if g.strokeDenied {
		return
	}
	g.dabCount += len(g.dabs)
	if g.strokeOnline {
		if g.on != nil {
			g.sendDabs(b, g.dabs)
		}
		return
	}
	g.rasterMu.Lock()
	for _, d := range g.dabs {
		g.raster.DrawDab(d, b.Color, b.Kind, b.Eraser)
	}
	g.rasterMu.Unlock()
}

func (g *Game) fit() {
	if g.screenW == 0 {
		g.fitPending = true
		return
	}
	if vo := g.cfg.Viewer; vo != nil && vo.Mode == webui.ModeEmbed {
		g.ctl.View.FitFrame(float64(g.cfg.CanvasWidth), float64(g.cfg.CanvasHeight), float64(g.screenW), float64(g.screenH), vo.Fit == "cover")
		return
	}
	g.ctl.View.Fit(float64(g.cfg.CanvasWidth), float64(g.cfg.CanvasHeight), float64(g.screenW), float64(g.screenH), 24)
}

func (g *Game) toggleMirror() {
	g.ctl.View.SetMirror(webui.Vec{X: float64(g.screenW) / 2, Y: float64(g.screenH) / 2}, !g.ctl.View.Mirror)
}

func (g *Game) setTool(name string) {
	g.brush.Eraser = false
	switch name {
	case "brush":
		g.ctl.Tool, g.brush.Kind = webui.ToolBrush, webui.SoftRound
	case "pixel":
		g.ctl.Tool, g.brush.Kind = webui.ToolPixelBrush, webui.Pixel
	case "pixel-square":
		g.ctl.Tool, g.brush.Kind = webui.ToolPixelBrush, webui.PixelSquare
	case "eraser":
		g.ctl.Tool, g.brush.Eraser = webui.ToolEraser, true
	case "picker":
		g.ctl.Tool = webui.ToolPicker
	case "laser":
		g.ctl.Tool = webui.ToolLaser
	case "pan":
		g.ctl.Tool = webui.ToolPan
	default:
		return
	}
	g.ui.setActiveTool(name)
}

func (g *Game) setColor(c webui.Color) {
	g.brush.Color = c
	g.recent.Push(c)
	g.ui.setColor(c, g.recent.List())
}

var (
	workspaceColor = color.RGBA{0x2b, 0x2b, 0x2b, 0xff}
	laserColor     = color.RGBA{0xff, 0x20, 0x60, 0xff}
	cursorColor    = color.RGBA{0x20, 0x80, 0xff, 0xff}
)

// dot fills a square of radius r around p (cursors, laser points).
func dot(dst *ebiten.Image, p webui.Vec, r int, c color.Color) {
	x, y := int(p.X), int(p.Y)
	rect := image.Rect(x-r, y-r, x+r+1, y+r+1).Intersect(dst.Bounds())
	if !rect.Empty() {
		dst.SubImage(rect).(*ebiten.Image).Fill(c)
	}
}

// Draw uploads the changed part of the raster and composes the view.
func (g *Game) Draw(screen *ebiten.Image) {
	start := time.Now()
	if g.skipCatchupDraw() {
		g.frames++
		g.hook.afterDraw(g.updateWork + time.Since(start))
		g.updateWork = 0
		return
	}
	g.rasterMu.Lock()
	if g.img == nil || g.img.Bounds() != g.raster.Bounds() {
		if g.img != nil {
			g.img.Deallocate()
		}
		g.img = ebiten.NewImage(g.raster.Bounds().Dx(), g.raster.Bounds().Dy())
		g.raster.MarkDirty(g.raster.Bounds())
	}
	dirty := g.raster.TakeDirty()
	if !dirty.Empty() {
		g.upload = g.raster.CopyRect(dirty, g.upload)
	}
	g.rasterMu.Unlock()
	if !dirty.Empty() {
		g.img.SubImage(dirty).(*ebiten.Image).WritePixels(g.upload)
	}

	if vo := g.cfg.Viewer; vo == nil || !vo.Transparent {
		screen.Fill(workspaceColor)
	} else if g.keepScreen {
		screen.Clear()
	}
	var op ebiten.DrawImageOptions
	a, b, c, d, tx, ty := g.ctl.View.Matrix()
	op.GeoM.SetElement(0, 0, a)
	op.GeoM.SetElement(1, 0, b)
	op.GeoM.SetElement(0, 1, c)
	op.GeoM.SetElement(1, 1, d)
	op.GeoM.SetElement(0, 2, tx)
	op.GeoM.SetElement(1, 2, ty)
	op.GeoM.Scale(g.scale, g.scale)
	if g.ctl.View.Zoom*g.scale >= 1 {
		op.Filter = ebiten.FilterNearest
	} else {
		op.Filter = ebiten.FilterLinear
	}
	screen.DrawImage(g.img, &op)
	if g.updates < g.laserUntil {
		dot(screen, g.ctl.View.ToScreen(g.laser).Scale(g.scale), 3, laserColor)
	}
	if o := g.on; o != nil {
		showCursors, showLaser := true, true
		if vo := g.cfg.Viewer; vo != nil {
			showCursors, showLaser = vo.Cursors, vo.Laser
		}
		for _, u := range o.users.Cursors(o.j.userID, g.updates, cursorAge) {
			p := g.ctl.View.ToScreen(u.Cursor).Scale(g.scale)
			if u.Laser && !showLaser || !u.Laser && !showCursors {
				continue
			}
			if u.Laser {
				c := u.LaserColor
				dot(screen, p, 4, color.RGBA{c.R, c.G, c.B, 255})
			} else {
				dot(screen, p, 2, cursorColor)
			}
		}
	}

	g.frames++
	g.hook.afterDraw(g.updateWork + time.Since(start))
	g.updateWork = 0
}

// catchupDrawEvery is how often the screen is repainted while a history
// replays: nothing can be drawn then and the progress bar is what moves,
// so the raster upload and composition in between are skipped and their
// time goes to the history.
const catchupDrawEvery = 500 * time.Millisecond

// skipCatchupDraw reports whether this frame keeps the previous screen
// (catching up, repainted recently). It switches Ebitengine's per-frame
// clearing off for the catch-up and back on after it.
func (g *Game) skipCatchupDraw() bool {
	// (Not after a resumed reconnect: then strokes can be drawn meanwhile.)
	catching := g.on != nil && !g.on.caughtUp && !g.on.resend
	if catching != g.keepScreen {
		g.keepScreen = catching
		ebiten.SetScreenClearedEveryFrame(!catching)
	}
	if !catching || g.img == nil || time.Since(g.lastCatchupDraw) >= catchupDrawEvery {
		g.lastCatchupDraw = time.Now()
		return false
	}
	return true
}

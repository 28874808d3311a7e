//go:build js

package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"math"
	"strconv"
	"time"

	"drawbridge/canvas"
	"drawbridge/internal/client"
	"drawbridge/internal/webui"
	"drawbridge/protocol"
)

// online is the state of a joined session; owned by the game goroutine.
type online struct {
	j        *joined
	ctx      context.Context
	cancel   context.CancelFunc
	engine   *canvas.Canvas // the shown canvas, fork.Canvas()
	fork     *canvas.Fork   // local fork: own messages shown before their echo
	acl      *canvas.ACL    // the ACL filter every server message passes (layers.go)
	layer    uint32         // drawing layer, 0 when there is none
	resend   bool           // send the fork's pending again when caught up (resumed)
	shownPct int            // catch-up percentage on screen
	smooth   webui.Smoother[remoteMsg]
	arrivals webui.Arrivals // per-user burstiness, sets smooth.Frames
	caughtUp bool
	tile     []byte // RenderTileRGBA buffer
	users    webui.Users
	usersVer int             // users.Version last shown
	hidden   map[uint32]bool // layers hidden locally
	settings webui.SessionSettings

	// Own pointer broadcast (MovePointer), throttled.
	hover       webui.Vec
	hoverSent   webui.Vec
	lastPtrTick int
	laserTick   int // tick of the last laser action

	// Tiles waiting to be flattened into the raster (see syncEngine).
	dirty      []bool
	ndirty     int
	nextDirty  int
	allDirty   bool
	lastRender time.Time
	urgent     []int // tiles own commands changed: rendered first, whatever the budget
}

// newOnline returns the state of a session just joined: an empty canvas
// behind a local fork.
func newOnline(j *joined) *online {
	e := canvas.New()
	return &online{j: j, engine: e, fork: canvas.NewFork(e), acl: canvas.NewACL(), tile: make([]byte, canvas.TilePixels*4), hidden: map[uint32]bool{}}
}

// startSession starts the network goroutine for the room.
func (g *Game) startSession(name, room, password string) {
	if g.netCancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.netCancel = cancel
	go runSession(ctx, g.logger, name, room, password, g.pwc, g.netc)
}

// startHost starts the network goroutine that hosts a new session.
func (g *Game) startHost(name string, ho hostOptions) {
	if g.netCancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.netCancel = cancel
	go runHost(ctx, g.logger, name, ho, g.netc)
}

// handleNet applies one network event (the local canvas stays usable
// after a session ends).
func (g *Game) handleNet(ev netEvent) {
	switch {
	case ev.err != nil:
		g.ui.setProgress(-1)
		g.ui.showError(ev.err.Error())
		g.ui.setStatus("Not connected: " + ev.err.Error())
		if g.netCancel != nil {
			g.netCancel()
		}
		g.on = nil
	case ev.needPassword:
		g.ui.askPassword(func(pw string) {
			select {
			case g.pwc <- pw:
			default:
			}
		})
	case ev.joined != nil && ev.joined.reconnect && g.on != nil:
		g.rejoined(ev.joined)
	case ev.joined != nil:
		g.on = newOnline(ev.joined)
		if ev.joined.host {
			g.on.caughtUp = true // nothing to catch up with: we made it
			for _, m := range ev.joined.snapshot {
				if err := g.on.engine.Apply(ev.joined.userID, m); err != nil {
					g.logger.Error("apply own initial canvas", "type", m.MessageType(), "err", err)
				}
			}
			g.refreshLayers()
			g.ui.setStatus("Hosting " + ev.joined.title)
			g.ui.showInvite(ev.joined.code)
		} else if ev.joined.readOnly {
			g.ui.setStatus("Watching " + ev.joined.title + " · catching up…")
		} else {
			g.ui.setStatus("Joined " + ev.joined.title + " · catching up…")
		}
	case ev.frame != nil && g.on != nil && ev.frame.reset:
		g.resetSession()
	case ev.frame != nil && g.on != nil:
		g.applyRemote(ev.frame)
	case ev.status != "":
		g.ui.setStatus(ev.status)
	}
}

func (g *Game) applyRemote(in *inFrame) {
	o := g.on
	f := in.f
	if f.Type() == protocol.TypeServerCommand && g.onSpectatorLink(f.Payload()) { // watch.go
		return
	}
	m, err := protocol.Decode(f, o.j.layout)
	if err != nil {
		g.logger.Debug("undecodable message", "type", f.Type(), "err", err)
		return
	}
	if !o.acl.Allow(f.Ctx(), m) {
		// Dropped as every Drawpile client's ACL filter drops it (a locked
		// user's strokes, edits of others' layers, …), in the server's
		// order; see aclDropped.
		m = aclDropped{}
	}
	if o.caughtUp && isDabs(m) && (f.Ctx() != o.j.userID || o.smooth.Len() > 0) {
		// Remote stroke segments are smoothed over a few frames (own
		// echoes queue behind them only to keep the server's order).
		if f.Ctx() != o.j.userID {
			o.arrivals.Observe(f.Ctx(), g.updates)
		}
		o.smooth.Push(remoteMsg{ctx: f.Ctx(), f: f, m: m})
		return
	}
	// Anything else keeps its place in the total order.
	for _, r := range o.smooth.Flush() {
		g.applyEngine(r.ctx, r.f, r.m)
	}
	us := &o.users
	if in.conf != nil {
		if err := o.settings.Apply(in.conf); err != nil {
			g.logger.Debug("sessionconf", "err", err)
		}
		if o.settings.MutedChanged {
			us.SetMuted(o.settings.Muted)
		}
	}
	switch m := m.(type) {
	case protocol.Chat:
		from := in.from
		if from == "" {
			from = us.Name(f.Ctx())
		}
		g.ui.addChat(from, m.Message)
	case protocol.Join:
		us.Join(f.Ctx(), m.Name)
	case protocol.Leave:
		us.Leave(f.Ctx())
		o.arrivals.Forget(f.Ctx())
	case protocol.SessionOwner:
		us.SetOps(m.Users)
	case protocol.TrustedUsers:
		us.SetTrusted(m.Users)
	case protocol.UserACL:
		us.SetLocked(m.Users)
	case protocol.MovePointer:
		us.Move(f.Ctx(), m.X, m.Y, g.updates)
	case protocol.LaserTrail:
		c := webui.Color{R: uint8(m.Color >> 16), G: uint8(m.Color >> 8), B: uint8(m.Color), A: 255}
		us.SetLaser(f.Ctx(), m.Persistence != 0, c)
	default:
		g.applyEngine(f.Ctx(), f, m)
	}
	if !o.caughtUp {
		if in.caughtUp {
			o.caughtUp = true
			g.ui.setProgress(-1)
			if o.resend {
				o.resend = false
				g.logger.Info("resending unconfirmed messages", "count", len(o.fork.PendingKeys()))
				for _, pf := range o.fork.PendingKeys() {
					if err := o.j.c.SendFrame(context.Background(), pf); err != nil {
						break
					}
				}
			}
			g.ui.setStatus("Connected · " + o.j.title)
			g.refreshLayers()
		} else if in.of > 0 {
			pct := min(100, in.got*100/in.of)
			if pct != o.shownPct {
				o.shownPct = pct
				g.ui.setStatus("Catching up… " + strconv.Itoa(pct) + " %")
				g.ui.setProgress(pct)
			}
		}
	} else if t := f.Type(); t == protocol.TypeLayerTreeCreate || t == protocol.TypeLayerTreeDelete || t == protocol.TypeLayerRetitle ||
		t == protocol.TypeLayerTreeMove || t == protocol.TypeLayerAttributes || t == protocol.TypeUndo ||
		t == protocol.TypeLayerACL || t == protocol.TypeUserACL || t == protocol.TypeFeatureAccessLevels ||
		t == protocol.TypeFeatureLimits || t == protocol.TypeSessionOwner || t == protocol.TypeTrustedUsers {
		g.refreshLayers()
	}
}

// refreshLayers lists the engine's layers (top first) in the panel and
// keeps the drawing layer valid: the first pixel layer when none is chosen.
func (g *Game) refreshLayers() {
	g.on.fork.Sync()
	g.showLayers() // layers.go
}

// Tile rendering budget per Update: flattening is the costly part of
// showing the engine, so dirty tiles wait in a set and at most this much
// time per tick goes to them (always at least one tile, so it progresses).
// During catch-up the canvas is refreshed at most every catchupRefresh
// (as often as Draw shows it then, see catchupDrawEvery).
const (
	renderBudget   = 4 * time.Millisecond
	catchupRefresh = catchupDrawEvery
)

// syncEngine moves the engine's dirty tiles into the pending set and
// renders some of them into the raster (the CPU framebuffer that Draw
// uploads). The caller holds rasterMu.
func (g *Game) syncEngine() {
	o := g.on
	if o == nil {
		return
	}
	o.fork.Sync() // own pending strokes on top of what others drew meanwhile
	w, h := o.engine.Width(), o.engine.Height()
	if w == 0 || h == 0 {
		return
	}
	if b := g.raster.Bounds(); b.Dx() != w || b.Dy() != h {
		r, err := webui.NewRaster(w, h, webui.Color{})
		if err != nil {
			g.ui.showError("canvas too large for this client: " + err.Error())
			g.netCancel()
			g.on = nil
			return
		}
		g.raster = r
		g.cfg.CanvasWidth, g.cfg.CanvasHeight = w, h
		g.fitPending = true
	}
	xt := (w + canvas.TileSize - 1) / canvas.TileSize
	yt := (h + canvas.TileSize - 1) / canvas.TileSize
	if len(o.dirty) != xt*yt {
		o.dirty = make([]bool, xt*yt)
		o.allDirty = true
	}
	if !o.caughtUp && !o.resend && time.Since(o.lastRender) < catchupRefresh {
		return
	}
	o.lastRender = time.Now()
	tiles, all := o.engine.TakeDirtyTiles()
	if all || o.allDirty {
		o.allDirty = false
		for i := range o.dirty {
			o.dirty[i] = true
		}
		o.ndirty = len(o.dirty)
	}
	for _, ti := range tiles {
		if ti >= 0 && ti < len(o.dirty) && !o.dirty[ti] {
			o.dirty[ti] = true
			o.ndirty++
		}
	}
	// Own strokes show in the frame of their input.
	for _, ti := range o.urgent {
		if ti < len(o.dirty) && o.dirty[ti] {
			o.dirty[ti] = false
			o.ndirty--
			g.renderTile(ti, xt)
		}
	}
	o.urgent = o.urgent[:0]
	if o.ndirty == 0 {
		return
	}
	start := time.Now()
	for i := o.nextDirty; o.ndirty > 0; i = (i + 1) % len(o.dirty) {
		if !o.dirty[i] {
			continue
		}
		o.dirty[i] = false
		o.ndirty--
		g.renderTile(i, xt)
		o.nextDirty = (i + 1) % len(o.dirty)
		if time.Since(start) > renderBudget {
			break
		}
	}
}

// takeUrgent queues the tiles the own command just applied changed for
// rendering ahead of the others (see syncEngine).
func (o *online) takeUrgent() {
	if len(o.dirty) == 0 {
		return // not sized yet: the first syncEngine renders everything
	}
	tiles, all := o.engine.TakeDirtyTiles()
	if all {
		o.allDirty = true
		return
	}
	for _, ti := range tiles {
		if ti >= 0 && ti < len(o.dirty) {
			if !o.dirty[ti] {
				o.dirty[ti] = true
				o.ndirty++
			}
			if len(o.urgent) < len(o.dirty) { // bounded; the rest waits its turn
				o.urgent = append(o.urgent, ti)
			}
		}
	}
}

// renderTile flattens tile ti into the raster.
func (g *Game) renderTile(ti, xt int) {
	o := g.on
	img := g.raster.Img
	o.engine.RenderTileRGBA(o.tile, ti)
	x0, y0 := (ti%xt)*canvas.TileSize, (ti/xt)*canvas.TileSize
	r := image.Rect(x0, y0, x0+canvas.TileSize, y0+canvas.TileSize).Intersect(img.Rect)
	rowBytes := r.Dx() * 4
	for y := r.Min.Y; y < r.Max.Y; y++ {
		src := o.tile[(y-y0)*canvas.TileSize*4:]
		copy(img.Pix[img.PixOffset(r.Min.X, y):][:rowBytes], src[:rowBytes])
	}
	g.raster.MarkDirty(r)
}

// sendLocal applies a message of our own to the engine at once (local
// prediction) and sends it; the echo is skipped in applyRemote.
func (g *Game) sendLocal(m protocol.Message) {
	o := g.on
	if o.j.readOnly {
		return
	}
	f, err := protocol.EncodeFrame(o.j.userID, m, o.j.layout)
	if err != nil {
		g.logger.Error("encode own message", "type", m.MessageType(), "err", err)
		return
	}
	if err := o.fork.Local(o.j.userID, f, m); err != nil {
		g.logger.Debug("own message not applied", "type", m.MessageType(), "err", err)
	}
	o.takeUrgent()
	if !o.caughtUp {
		// Catching up after a resumed reconnect: the frame is sent with
		// the other unsent ones once the history has caught up.
		return
	}
	if err := o.j.c.SendFrame(context.Background(), f); err != nil {
		// The connection is down: the frame stays pending and is sent again
		// after a resumed reconnect.
		g.logger.Debug("send failed; kept for resend", "type", m.MessageType(), "err", err)
	}
}

// rejoined continues after a reconnect. When the server resumed after our
// history index, the canvas is kept and our messages it never echoed are
// sent again once caught up (so strokes drawn while the connection was
// down are not lost). Otherwise the server replays the whole history into
// a fresh canvas, and unsent strokes are dropped.
func (g *Game) rejoined(j *joined) {
	g.reconnects++
	o := g.on
	if j.resumed && j.userID == o.j.userID {
		o.j = j
		o.caughtUp = false
		o.resend = true
		g.ui.setStatus("Reconnected · catching up…")
		return
	}
	g.on = newOnline(j)
	g.ui.setStatus("Reconnected · reloading the canvas…")
}

// canDraw reports whether strokes go to the session: when caught up, and
// also while catching up after a resumed reconnect (the canvas is current
// up to the resume point; strokes wait in pending until caught up), so a
// stroke drawn around a dropped connection is never lost.
func (g *Game) canDraw() bool {
	return g.on != nil && !g.on.j.readOnly && (g.on.caughtUp || g.on.resend) && g.on.layer != 0
}

// resetSession starts over after the server replaced the session's
// history ({"type":"reset","state":"reset"}): a fresh canvas, and the
// users and catch-up of the new history that follows. Own strokes not yet
// echoed are dropped with the old history, as in Drawpile.
func (g *Game) resetSession() {
	old := g.on
	g.on = newOnline(old.j)
	g.on.layer, g.on.settings, g.on.usersVer = old.layer, old.settings, -1
	old.acl.Reset() // locks go with the old history; operators and trust stay
	g.on.acl = old.acl
	g.ui.setStatus("The session was reset · reloading the canvas…")
}

// sendDabs encodes dabs as DrawDabsClassic messages (positions in quarter
// pixels, deltas limited to ±127 quarters per dab, sizes in 1/256 px), or
// pixel-brush dabs as DrawDabsPixel/DrawDabsPixelSquare.
func (g *Game) sendDabs(b webui.Brush, dabs []webui.Dab) {
	if len(dabs) == 0 {
		return
	}
	if b.Kind.IsPixel() {
		g.sendPixelDabs(b, dabs) // layers.go
		return
	}
	o := g.on
	mode := protocol.BlendNormal
	if b.Eraser {
		mode = protocol.BlendErase
	}
	color := b.Color.ARGB() | 0xff000000
	var msg protocol.DrawDabsClassic
	var lastX, lastY int32
	flush := func() {
		if len(msg.Dabs) > 0 {
			g.sendLocal(msg)
		}
		msg = protocol.DrawDabsClassic{}
	}
	for _, d := range dabs {
		x, y := int32(math.Round(d.X*4)), int32(math.Round(d.Y*4))
		dx, dy := x-lastX, y-lastY
		if len(msg.Dabs) == 0 || dx < -128 || dx > 127 || dy < -128 || dy > 127 || len(msg.Dabs) >= 255 {
			flush()
			msg = protocol.DrawDabsClassic{Layer: o.layer, X: x, Y: y, Color: color, Mode: mode}
			dx, dy = 0, 0
		}
		size := uint32(math.Round(math.Min(d.Size, webui.MaxBrushSize) * 256))
		msg.Dabs = append(msg.Dabs, protocol.ClassicDab{
			X: int8(dx), Y: int8(dy), Size: size,
			Hardness: uint8(math.Round(clamp01(d.Hardness) * 255)),
			Opacity:  uint8(math.Round(clamp01(d.Opacity) * 255)),
		})
		lastX, lastY = x, y
	}
	flush()
}

func clamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }

// sendChat sends a chat line, or shows it locally when offline.
func (g *Game) sendChat(name, text string) {
	if g.on != nil && g.on.j.readOnly {
		return
	}
	if g.on == nil {
		g.ui.addChat(name, text)
		return
	}
	if err := g.on.j.c.Chat(context.Background(), text); err != nil {
		g.ui.addChat("", "(not sent: "+err.Error()+")")
	}
}

// undo sends Undo (or Redo) for our own last undo point, applying it
// locally at once like strokes.
func (g *Game) undo(redo bool) {
	if g.on == nil || g.on.j.readOnly || !g.on.caughtUp || g.stroker.Active() {
		return
	}
	if !g.on.acl.CanUse(canvas.FeatureUndo, g.on.j.userID) {
		g.ui.toast("Undo is not allowed for you in this session")
		return
	}
	g.sendLocal(protocol.Undo{Redo: redo})
}

// selectLayer makes the layer at panel index i the drawing layer.
func (g *Game) selectLayer(i int) {
	if g.on == nil {
		return
	}
	ids := layerIDs(g.on.engine.Layers())
	if i >= 0 && i < len(ids) {
		g.on.layer = ids[i]
		g.refreshLayers()
	}
}

// layerIDs lists layer ids in panel order (top first, groups expanded).
func layerIDs(ls []*canvas.Layer) []uint32 {
	var ids []uint32
	for i := len(ls) - 1; i >= 0; i-- {
		ids = append(ids, ls[i].ID)
		if ls[i].Group {
			ids = append(ids, layerIDs(ls[i].Children)...)
		}
	}
	return ids
}

// canvasPNG encodes the canvas as PNG: the engine's full render (8-bit,
// non-premultiplied, like drawpile-cmd) when joined, else the local raster.
func (g *Game) canvasPNG() ([]byte, error) {
	var buf bytes.Buffer
	if g.on != nil && g.on.engine.Width() > 0 {
		g.on.fork.Sync()
		if err := png.Encode(&buf, g.on.engine.Render(canvas.RenderOptions{})); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	g.rasterMu.Lock()
	defer g.rasterMu.Unlock()
	if err := png.Encode(&buf, g.raster.Img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// downloadPNG offers the canvas as a file download.
func (g *Game) downloadPNG() {
	b, err := g.canvasPNG()
	if err != nil {
		g.ui.showError("PNG export failed: " + err.Error())
		return
	}
	g.ui.download("drawbridge.png", "image/png", b)
}

// Cursor broadcast: at most one MovePointer every pointerEvery ticks
// (about 10 per second at 60 fps); cursors older than cursorAge ticks are
// hidden.
const (
	pointerEvery = 6
	cursorAge    = 180
)

// sendMeta sends a message that is not part of the canvas (no local
// apply, no echo tracking).
func (g *Game) sendMeta(m protocol.Message) {
	o := g.on
	if o.j.readOnly {
		return
	}
	f, err := protocol.EncodeFrame(o.j.userID, m, o.j.layout)
	if err != nil {
		return
	}
	if err := o.j.c.SendFrame(context.Background(), f); err != nil {
		g.logger.Debug("send failed", "type", m.MessageType(), "err", err)
	}
}

// afterNet updates the user list, cursor labels and own pointer broadcast
// once per Update.
func (g *Game) afterNet() {
	o := g.on
	if o == nil || !o.caughtUp {
		return
	}
	if o.users.Version != o.usersVer {
		o.usersVer = o.users.Version
		op := g.amOp()
		g.ui.setUsers(o.users.List(), o.j.userID, op)
		g.ui.setOperator(op)
	}
	if g.updates%3 == 0 {
		cs := o.users.Cursors(o.j.userID, g.updates, cursorAge)
		labels := make([]cursorLabel, 0, len(cs))
		for _, u := range cs {
			p := g.ctl.View.ToScreen(u.Cursor)
			labels = append(labels, cursorLabel{name: u.Name, x: p.X + 8, y: p.Y + 8})
		}
		g.ui.setCursorLabels(labels)
	}
	if o.hover != o.hoverSent && g.updates-o.lastPtrTick >= pointerEvery && !g.stroker.Active() {
		o.hoverSent, o.lastPtrTick = o.hover, g.updates
		g.sendMeta(protocol.MovePointer{X: int32(math.Round(o.hover.X * 4)), Y: int32(math.Round(o.hover.Y * 4))})
	}
}

// laserAt shows the laser locally and, when joined, broadcasts it: a
// LaserTrail starts a trail when none was sent recently, MovePointer
// carries its points.
func (g *Game) laserAt(p webui.Vec) {
	g.laser, g.laserUntil = p, g.updates+60
	o := g.on
	if o == nil || !o.caughtUp {
		return
	}
	if g.updates-o.laserTick > 30 {
		g.sendMeta(protocol.LaserTrail{Color: 0xffff2060, Persistence: 20})
	}
	o.laserTick = g.updates
	o.hoverSent, o.lastPtrTick = p, g.updates
	g.sendMeta(protocol.MovePointer{X: int32(math.Round(p.X * 4)), Y: int32(math.Round(p.Y * 4))})
}

// amOp reports whether we are a session operator.
func (g *Game) amOp() bool {
	for _, u := range g.on.users.List() {
		if u.ID == g.on.j.userID {
			return u.Op
		}
	}
	return false
}

// userAction runs an operator action from the user list. The server
// checks permissions; the list updates when its SessionOwner or
// TrustedUsers message comes back.
func (g *Game) userAction(act string, id uint8) {
	if g.on == nil || g.on.j.readOnly || !g.on.caughtUp {
		return
	}
	ctx := context.Background()
	c := g.on.j.c
	list := func(pick func(webui.User) bool, add, remove bool) []uint8 {
		var ids []uint8
		for _, u := range g.on.users.List() {
			if (pick(u) || add && u.ID == id) && !(remove && u.ID == id) {
				ids = append(ids, u.ID)
			}
		}
		return ids
	}
	isOp := func(u webui.User) bool { return u.Op }
	isTrusted := func(u webui.User) bool { return u.Trusted }
	var err error
	switch act {
	case "kick", "ban":
		err = c.Kick(ctx, int(id), act == "ban")
	case "op":
		err = c.SetOperators(ctx, list(isOp, true, false))
	case "deop":
		err = c.SetOperators(ctx, list(isOp, false, true))
	case "trust":
		err = c.SetTrusted(ctx, list(isTrusted, true, false))
	case "untrust":
		err = c.SetTrusted(ctx, list(isTrusted, false, true))
	case "mute", "unmute":
		err = c.Mute(ctx, int(id), act == "mute")
	}
	if err != nil {
		g.ui.showError(act + " failed: " + err.Error())
	}
}

// remoteMsg is a decoded message from another user waiting in the
// smoothing queue.
type remoteMsg struct {
	ctx uint8
	f   protocol.Frame
	m   protocol.Message
}

// isDabs reports whether m is a stroke segment (smoothed when remote).
func isDabs(m protocol.Message) bool {
	switch m.(type) {
	case protocol.DrawDabsClassic, protocol.DrawDabsPixel, protocol.DrawDabsPixelSquare, protocol.DrawDabsMyPaint, protocol.DrawDabsMyPaintBlend:
		return true
	}
	return false
}

// applyEngine applies a server message (frame f, decoded m) through the
// local fork: the echo of an own message is dropped, anything else goes
// into the authoritative state. Invalid commands are skipped as
// Drawpile's client does.
func (g *Game) applyEngine(ctx uint8, f protocol.Frame, m protocol.Message) {
	if _, ok := m.(aclDropped); ok {
		// An own message filtered out takes our prediction with it.
		g.on.fork.Dropped(ctx, f.Type())
		return
	}
	if _, err := g.on.fork.Remote(ctx, f, m); err != nil {
		g.logger.Debug("message not applied", "type", m.MessageType(), "err", err)
	}
}

// drainSmooth applies this tick's share of the smoothed remote strokes,
// spread over as many frames as the burstiest active drawer needs.
func (g *Game) drainSmooth() {
	if g.on == nil {
		return
	}
	g.on.smooth.Frames = g.on.arrivals.Delay(g.updates) + 1
	for _, r := range g.on.smooth.Take() {
		g.applyEngine(r.ctx, r.f, r.m)
	}
}

// openSettings shows the session settings dialog filled with the
// session's current settings (operators only; the server checks).
func (g *Game) openSettings() {
	if g.on == nil || g.on.j.readOnly || !g.on.caughtUp {
		return
	}
	g.ui.showSettings(g.on.settings)
}

// applySettings sends the settings dialog's changes as sessionconf.
func (g *Game) applySettings(sc client.SessionConf) {
	if g.on == nil || g.on.j.readOnly || !g.on.caughtUp {
		return
	}
	if err := g.on.j.c.SessionConf(context.Background(), sc); err != nil {
		g.ui.showError("session settings not sent: " + err.Error())
	}
}

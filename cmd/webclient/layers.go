//go:build js

package main

import (
	"math"
	"slices"
	"strconv"

	"drawbridge/canvas"
	"drawbridge/internal/webui"
	"drawbridge/protocol"
)

// The layers panel and the permission checks behind it. Every server
// message passes the canvas's ACL filter (online.acl, in applyRemote) as
// in every Drawpile client; the panel shows what the filter knows (layer
// locks, the canvas lock, own tier and feature rights) and the client
// refuses, with a visible reason, what the other clients' filters would
// drop instead of sending it. The decisions are webui.Access's.

// access returns what the ACL filter knows about the own user.
func (g *Game) access() webui.Access {
	o := g.on
	if o == nil {
		return webui.Access{}
	}
	self := o.j.userID
	return webui.Access{
		Self:          self,
		Tier:          o.acl.Tier(self),
		ReadOnly:      o.j.readOnly,
		Ready:         o.caughtUp,
		SessionLocked: o.acl.SessionLocked(),
		UserLocked:    o.acl.UserLocked(self),
		EditLayers:    o.acl.CanUse(canvas.FeatureEditLayers, self),
		OwnLayers:     o.acl.CanUse(canvas.FeatureOwnLayers, self),
		BrushLimit:    o.acl.BrushSizeLimit(self),
	}
}

// layerLock returns layer id's LayerACL state, nil when it has none.
func (g *Game) layerLock(id uint32) *webui.LayerLock {
	l, ok := g.on.acl.LayerLock(id)
	if !ok {
		return nil
	}
	return &webui.LayerLock{Content: l.Content, Move: l.Move, Props: l.Props, Tier: l.Tier, Exclusive: l.Exclusive}
}

// layerTree converts the engine's layer tree for webui's move logic.
func layerTree(ls []*canvas.Layer) []webui.LayerNode {
	out := make([]webui.LayerNode, len(ls))
	for i, l := range ls {
		out[i] = webui.LayerNode{ID: l.ID, Group: l.Group}
		if l.Group {
			out[i].Children = layerTree(l.Children)
		}
	}
	return out
}

// refuse shows why an action is refused and reports whether it was.
func (g *Game) refuse(err error) bool {
	if err == nil {
		return false
	}
	g.ui.toast(err.Error())
	return true
}

// errText is err's text, "" for nil (a button's title).
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// showLayers fills the layers panel: the entries (top first, groups
// expanded) with their hidden and lock state, and the controls enabled as
// the ACL allows for the drawing layer. It keeps the drawing layer valid:
// the first pixel layer when none is chosen.
func (g *Game) showLayers() {
	o := g.on
	a := g.access()
	var items []layerItem
	var firstPixel uint32
	var walk func(ls []*canvas.Layer, depth int)
	walk = func(ls []*canvas.Layer, depth int) {
		for i := len(ls) - 1; i >= 0; i-- {
			l := ls[i]
			lock := g.layerLock(l.ID)
			it := layerItem{title: l.Title, depth: depth, group: l.Group, hidden: o.hidden[l.ID],
				locked: lock != nil && lock.Content, canLock: a.CanLockLayer(l.ID) == nil}
			if err := a.CanDraw(l.ID, l.Group, lock, 1); !l.Group && err != nil && err != webui.ErrReadOnly && err != webui.ErrNotReady {
				it.noDraw = err.Error()
			}
			items = append(items, it)
			if l.Group {
				walk(l.Children, depth+1)
			} else if firstPixel == 0 {
				firstPixel = l.ID
			}
		}
	}
	walk(o.engine.Layers(), 0)
	ids := layerIDs(o.engine.Layers())
	active := slices.Index(ids, o.layer)
	if active < 0 {
		o.layer = firstPixel
		active = slices.Index(ids, o.layer)
	}
	g.ui.setLayers(items, active)
	g.ui.setUndoEnabled(!o.j.readOnly && o.acl.CanUse(canvas.FeatureUndo, o.j.userID))

	c := layerControls{add: errText(a.CanCreateLayer()), noLayer: true, canvasLocked: a.SessionLocked, canLockCanvas: a.CanLockCanvas() == nil}
	if l := findLayer(o.engine.Layers(), o.layer); l != nil {
		lock := g.layerLock(l.ID)
		tree := layerTree(o.engine.Layers())
		c.noLayer = false
		c.title, c.opacity, c.blend = l.Title, int(l.Opacity)*100/canvas.One, uint8(l.Blend)
		c.props = errText(a.CanEditLayerProps(l.ID, lock))
		c.del = errText(a.CanDeleteLayer(l.ID))
		c.lock = errText(a.CanLockLayer(l.ID))
		c.locked = lock != nil && lock.Content
		move := errText(a.CanMoveLayer(l.ID, lock))
		c.up, c.down = move, move
		if _, ok := webui.MoveLayer(tree, l.ID, true); !ok && move == "" {
			c.up = "Already at the top"
		}
		if _, ok := webui.MoveLayer(tree, l.ID, false); !ok && move == "" {
			c.down = "Already at the bottom"
		}
	}
	g.ui.setLayerControls(c)
}

// strokeRefused checks, at the start of an online stroke, whether the
// other clients would accept it (layer locks, the canvas lock, a user
// lock, the brush size limit) and shows the reason when not.
func (g *Game) strokeRefused(b webui.Brush) bool {
	o := g.on
	l := findLayer(o.engine.Layers(), o.layer)
	group := l != nil && l.Group
	a := g.access()
	// Strokes may start during the catch-up of a resumed reconnect: they
	// wait in the fork and go out once caught up (canDraw, sendLocal).
	a.Ready = a.Ready || o.resend
	return g.refuse(a.CanDraw(o.layer, group, g.layerLock(o.layer), b.Size))
}

// findLayer returns the layer with the id anywhere in the tree.
func findLayer(ls []*canvas.Layer, id uint32) *canvas.Layer {
	for _, l := range ls {
		if l.ID == id {
			return l
		}
		if l.Group {
			if f := findLayer(l.Children, id); f != nil {
				return f
			}
		}
	}
	return nil
}

// layerCmdReady reports whether layer commands can be sent at all (joined,
// caught up, not in the middle of a stroke).
func (g *Game) layerCmdReady() bool {
	return g.on != nil && !g.on.j.readOnly && g.on.caughtUp && !g.stroker.Active()
}

// addLayer creates a transparent layer above the current one, owned by
// us (layer ids carry the owner's context id), and selects it.
func (g *Game) addLayer() {
	if !g.layerCmdReady() || g.refuse(g.access().CanCreateLayer()) {
		return
	}
	o := g.on
	used := map[uint32]bool{}
	for _, id := range layerIDs(o.engine.Layers()) {
		used[id] = true
	}
	for e := uint16(1); e < 0x7fff; e++ {
		id := protocol.LayerID(o.j.userID, e)
		if used[id] {
			continue
		}
		g.sendLocal(protocol.UndoPoint{})
		g.sendLocal(protocol.LayerTreeCreate{ID: id, Target: o.layer, Title: "Layer " + strconv.Itoa(len(used)+1)})
		o.layer = id
		g.refreshLayers()
		return
	}
}

// deleteLayer deletes the current layer.
func (g *Game) deleteLayer() {
	if !g.layerCmdReady() || g.refuse(g.access().CanDeleteLayer(g.on.layer)) {
		return
	}
	g.sendLocal(protocol.UndoPoint{})
	g.sendLocal(protocol.LayerTreeDelete{ID: g.on.layer})
	g.on.layer = 0
	g.refreshLayers()
}

// toggleHidden hides or shows the current layer for this user only, as
// Drawpile does (visibility is a local change).
func (g *Game) toggleHidden() {
	if g.on == nil || g.on.layer == 0 {
		return
	}
	o := g.on
	o.hidden[o.layer] = !o.hidden[o.layer]
	o.engine.SetLayerHidden(o.layer, o.hidden[o.layer])
	g.refreshLayers()
}

// setLayerAttrs sends LayerAttributes for the current layer with the
// given opacity (8-bit) and blend mode, keeping its flags.
func (g *Game) setLayerAttrs(opacity func(l *canvas.Layer) uint8, blend func(l *canvas.Layer) uint8) {
	if !g.layerCmdReady() {
		return
	}
	l := findLayer(g.on.engine.Layers(), g.on.layer)
	if l == nil || g.refuse(g.access().CanEditLayerProps(l.ID, g.layerLock(l.ID))) {
		return
	}
	var flags uint8
	if l.Censored {
		flags |= protocol.LayerAttrCensor
	}
	if l.Isolated {
		flags |= protocol.LayerAttrIsolated
	}
	if l.Clip {
		flags |= protocol.LayerAttrClip
	}
	g.sendLocal(protocol.UndoPoint{})
	g.sendLocal(protocol.LayerAttributes{ID: l.ID, Flags: flags, Opacity: opacity(l), Blend: blend(l)})
	g.refreshLayers()
}

func layerOpacity8(l *canvas.Layer) uint8 {
	return uint8(math.Round(float64(l.Opacity) * 255 / canvas.One))
}

// setLayerOpacity sets the current layer's opacity in percent, keeping
// its blend mode and flags.
func (g *Game) setLayerOpacity(pct float64) {
	g.setLayerAttrs(func(*canvas.Layer) uint8 { return uint8(math.Round(clamp01(pct/100) * 255)) },
		func(l *canvas.Layer) uint8 { return uint8(l.Blend) })
}

// setLayerBlend sets the current layer's blend mode, keeping its opacity
// and flags.
func (g *Game) setLayerBlend(mode uint8) {
	if !canvas.BlendMode(mode).ValidForLayer() {
		return
	}
	g.setLayerAttrs(layerOpacity8, func(*canvas.Layer) uint8 { return mode })
}

// renameLayer retitles the current layer.
func (g *Game) renameLayer(title string) {
	if !g.layerCmdReady() || g.on.layer == 0 || title == "" ||
		g.refuse(g.access().CanEditLayerProps(g.on.layer, g.layerLock(g.on.layer))) {
		return
	}
	g.sendLocal(protocol.UndoPoint{})
	g.sendLocal(protocol.LayerRetitle{ID: g.on.layer, Title: title})
	g.refreshLayers()
}

// sendMove sends a LayerTreeMove after the permission check.
func (g *Game) sendMove(m webui.TreeMove) {
	if g.refuse(g.access().CanMoveLayer(m.Layer, g.layerLock(m.Layer))) {
		return
	}
	g.sendLocal(protocol.UndoPoint{})
	g.sendLocal(protocol.LayerTreeMove{Layer: m.Layer, Parent: m.Parent, Sibling: m.Sibling})
	g.refreshLayers()
}

// moveLayer moves the current layer one place up or down in its group.
func (g *Game) moveLayer(up bool) {
	if !g.layerCmdReady() || g.on.layer == 0 {
		return
	}
	if m, ok := webui.MoveLayer(layerTree(g.on.engine.Layers()), g.on.layer, up); ok {
		g.sendMove(m)
	}
}

// dropLayer moves the layer at panel index from directly above (above)
// or below the one at panel index to (a drag and drop in the list).
func (g *Game) dropLayer(from, to int, above bool) {
	if !g.layerCmdReady() {
		return
	}
	ids := layerIDs(g.on.engine.Layers())
	if from < 0 || from >= len(ids) || to < 0 || to >= len(ids) {
		return
	}
	if m, ok := webui.DropLayer(layerTree(g.on.engine.Layers()), ids[from], ids[to], above); ok {
		g.on.layer = ids[from]
		g.sendMove(m)
	}
}

// toggleLayerLock locks or unlocks the content of the layer at panel
// index i for everyone (LayerACL), keeping its other locks and tier.
func (g *Game) toggleLayerLock(i int) {
	if !g.layerCmdReady() {
		return
	}
	ids := layerIDs(g.on.engine.Layers())
	if i < 0 || i >= len(ids) {
		return
	}
	id := ids[i]
	if g.refuse(g.access().CanLockLayer(id)) {
		return
	}
	lock := g.layerLock(id)
	var excl []uint8
	if lock != nil {
		excl = lock.Exclusive
	}
	// LayerACL is not a canvas command: no local apply; the filter
	// updates when the server echoes it.
	g.sendMeta(protocol.LayerACL{ID: id, Flags: webui.LockFlags(lock, lock == nil || !lock.Content), Exclusive: excl})
}

// toggleCanvasLock locks or unlocks the whole canvas (operators).
func (g *Game) toggleCanvasLock() {
	if !g.layerCmdReady() || g.refuse(g.access().CanLockCanvas()) {
		return
	}
	var flags uint8
	if !g.on.acl.SessionLocked() {
		flags = 0x80
	}
	g.sendMeta(protocol.LayerACL{ID: 0, Flags: flags})
}

// aclDropped stands for a server message the ACL filter dropped: it is
// not applied (applyEngine skips it) but still counts for catch-up.
type aclDropped struct{}

func (aclDropped) MessageType() protocol.Type { return 0 }

// sendPixelDabs sends pixel-brush dabs as DrawDabsPixel (round) or
// DrawDabsPixelSquare messages: whole-pixel positions and sizes, as
// Drawpile's pixel brushes send them. The local prediction is the engine
// applying the same messages, so it equals every other client's render.
func (g *Game) sendPixelDabs(b webui.Brush, dabs []webui.Dab) {
	o := g.on
	mode := protocol.BlendNormal
	if b.Eraser {
		mode = protocol.BlendErase
	}
	color := b.Color.ARGB() | 0xff000000
	g.pixelRuns = g.pixelEnc.Runs(dabs, g.pixelRuns[:0])
	for _, r := range g.pixelRuns {
		pd := make([]protocol.PixelDab, len(r.Steps))
		for i, s := range r.Steps {
			pd[i] = protocol.PixelDab{X: s.DX, Y: s.DY, Size: s.Size, Opacity: s.Opacity}
		}
		if b.Kind == webui.PixelSquare {
			g.sendLocal(protocol.DrawDabsPixelSquare{Layer: o.layer, X: r.X, Y: r.Y, Color: color, Mode: mode, Dabs: pd})
		} else {
			g.sendLocal(protocol.DrawDabsPixel{Layer: o.layer, X: r.X, Y: r.Y, Color: color, Mode: mode, Dabs: pd})
		}
	}
}

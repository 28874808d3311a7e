package canvas

import "drawbridge/protocol"

// ACL is the access-control filter that every Drawpile client runs on the
// message stream (engine.md §3.6, libmsg acl.c): the server relays canvas
// commands unfiltered, and each client silently drops commands their sender
// was not allowed to make (locked users and layers, session lock, feature
// tiers, brush size and layer count limits, ownership of ids). Run every
// message through Allow before Canvas.Apply and drop the ones it rejects.
//
// Not safe for concurrent use; owned by the same goroutine as the Canvas.
type ACL struct {
	ops, trusted, auth, locked [256]bool
	allLocked                  bool
	layers                     map[uint32]*layerACL
	annotations                map[uint16]bool // protected annotations
	tiers                      [featureCount]uint8
	limits                     [2][4]int32 // [brush size, layer count][tier]
}

type layerACL struct {
	contentLocked, moveLocked, propsLocked bool
	tier                                   uint8
	exclusive                              [256]bool
}

// Access tiers, most privileged first.
const (
	TierOperator uint8 = iota
	TierTrusted
	TierAuthenticated
	TierGuest
)

// Features whose tiers FeatureAccessLevels sets (protocol.md §3.2).
const (
	FeaturePutImage = iota
	FeatureRegionMove
	FeatureResize
	FeatureBackground
	FeatureEditLayers
	FeatureOwnLayers
	FeatureCreateAnnotation
	FeatureLaser
	FeatureUndo
	FeatureSlowBrush
	FeatureTimeline
	FeatureMyPaint
	featureCount
)

var defaultTiers = [featureCount]uint8{
	FeaturePutImage: TierGuest, FeatureRegionMove: TierGuest, FeatureResize: TierOperator,
	FeatureBackground: TierOperator, FeatureEditLayers: TierOperator, FeatureOwnLayers: TierGuest,
	FeatureCreateAnnotation: TierGuest, FeatureLaser: TierGuest, FeatureUndo: TierGuest,
	FeatureSlowBrush: TierOperator, FeatureTimeline: TierGuest, FeatureMyPaint: TierGuest,
}

var defaultLimits = [2][4]int32{{-1, 255, 255, 255}, {-1, 1000, 1000, 1000}}

// NewACL returns the initial filter state of a client joining a session.
func NewACL() *ACL {
	a := &ACL{}
	a.Reset()
	return a
}

// NewPlaybackACL returns a filter for replaying recordings: every user is
// an operator and every feature is open, as drawpile-cmd --acl starts.
func NewPlaybackACL() *ACL {
	a := NewACL()
	for i := range a.tiers {
		a.tiers[i] = TierGuest
	}
	for i := range a.ops {
		a.ops[i] = true
	}
	return a
}

// Reset clears layer and annotation locks, the session lock, locked users
// and feature settings (what a session reset does).
func (a *ACL) Reset() {
	a.layers = map[uint32]*layerACL{}
	a.annotations = map[uint16]bool{}
	a.allLocked = false
	a.locked = [256]bool{}
	a.tiers = defaultTiers
	a.limits = defaultLimits
}

func (a *ACL) isOp(u uint8) bool { return u == 0 || a.ops[u] }

func (a *ACL) tier(u uint8) uint8 {
	switch {
	case a.isOp(u):
		return TierOperator
	case a.trusted[u]:
		return TierTrusted
	case a.auth[u]:
		return TierAuthenticated
	}
	return TierGuest
}

// CanUse reports whether user u may use feature f.
func (a *ACL) CanUse(f int, u uint8) bool {
	t := a.tiers[f]
	return t == TierGuest || a.tier(u) <= t
}

func (a *ACL) layerLockedFor(u uint8, id uint32) bool {
	if id&0x800000 != 0 {
		return true // selections should have been local matches
	}
	l := a.layers[id]
	return l != nil && (l.contentLocked || !l.exclusive[u] || l.tier < a.tier(u))
}

func (a *ACL) canEditLayer(u uint8, id uint32) bool {
	return a.CanUse(FeatureEditLayers, u) || (a.CanUse(FeatureOwnLayers, u) && uint8(id) == u)
}

func (a *ACL) canEditLayerProps(u uint8, id uint32) bool {
	l := a.layers[id]
	return a.canEditLayer(u, id) && (l == nil || !l.propsLocked)
}

func (a *ACL) canEditAnyOrOwn(u uint8) bool {
	return a.CanUse(FeatureEditLayers, u) || a.CanUse(FeatureOwnLayers, u)
}

func setUsers(dst *[256]bool, users []uint8) {
	*dst = [256]bool{}
	for _, u := range users {
		dst[u] = true
	}
}

// Allow updates the filter state from message m sent by user ctx and
// reports whether m should be applied (false = drop it silently).
func (a *ACL) Allow(ctx uint8, m protocol.Message) bool {
	switch m := m.(type) {
	case protocol.Join:
		if m.Flags&protocol.JoinAuth != 0 {
			a.auth[ctx] = true
		}
		return true
	case protocol.Leave:
		a.ops[ctx], a.trusted[ctx], a.auth[ctx], a.locked[ctx] = false, false, false, false
		return true
	case protocol.SessionOwner:
		setUsers(&a.ops, m.Users)
		return true
	case protocol.TrustedUsers:
		setUsers(&a.trusted, m.Users)
		return true
	case protocol.LaserTrail:
		return a.CanUse(FeatureLaser, ctx)
	case protocol.UserACL:
		if !a.isOp(ctx) {
			return false
		}
		setUsers(&a.locked, m.Users)
		return true
	case protocol.LayerACL:
		return a.layerACL(ctx, m)
	case protocol.FeatureAccessLevels:
		if !a.isOp(ctx) {
			return false
		}
		for i, t := range m.FeatureTiers {
			if i >= featureCount {
				break
			}
			if t != 255 {
				a.tiers[i] = min(t, TierGuest)
			}
		}
		return true
	case protocol.FeatureLimits:
		if !a.isOp(ctx) {
			return false
		}
		for i, v := range m.Limits {
			if i >= 8 {
				break
			}
			a.limits[i/4][i%4] = v
		}
		return true
	case protocol.DefaultLayer, protocol.UndoDepth:
		return a.isOp(ctx)
	case protocol.LocalChange:
		return ctx == 0
	}
	if !m.MessageType().IsCommand() {
		return true
	}
	if a.allLocked || (ctx != 0 && a.locked[ctx]) {
		return false
	}
	return a.command(ctx, m)
}

func (a *ACL) layerACL(u uint8, m protocol.LayerACL) bool {
	if m.ID == 0 { // session lock
		if !a.isOp(u) {
			return false
		}
		a.allLocked = m.Flags&0x80 != 0
		return true
	}
	if m.ID&0x800000 != 0 || !a.canEditLayer(u, m.ID) {
		return false
	}
	if m.Flags == TierGuest && len(m.Exclusive) == 0 {
		delete(a.layers, m.ID)
		return true
	}
	l := a.layers[m.ID]
	if l == nil {
		l = &layerACL{}
		a.layers[m.ID] = l
	}
	l.contentLocked = m.Flags&0x80 != 0
	l.moveLocked = m.Flags&0x40 != 0
	l.propsLocked = m.Flags&0x20 != 0
	l.tier = min(m.Flags&3, TierGuest)
	if len(m.Exclusive) == 0 {
		for i := range l.exclusive {
			l.exclusive[i] = true
		}
	} else {
		setUsers(&l.exclusive, m.Exclusive)
	}
	return true
}

func isPigment(mode uint8) bool {
	m := BlendMode(mode)
	return m == ModePigment || m == ModePigmentAlpha || m == ModePigmentAndEraser
}

func (a *ACL) dabs(u uint8, pigment bool, layer uint32, maxSize int32) bool {
	if pigment && !a.CanUse(FeatureSlowBrush, u) {
		return false
	}
	if a.layerLockedFor(u, layer) {
		return false
	}
	limit := a.limits[0][a.tier(u)]
	return limit != 0 && (limit < 0 || maxSize <= limit)
}

func maxSub(sizes func(yield func(uint32) bool)) int32 {
	var m uint32
	for s := range sizes {
		m = max(m, s)
	}
	return int32(m / 256)
}

func (a *ACL) move(u uint8, src, dst uint32) bool {
	return a.CanUse(FeatureRegionMove, u) && !a.layerLockedFor(u, src) && !a.layerLockedFor(u, dst)
}

func (a *ACL) command(u uint8, m protocol.Message) bool {
	switch m := m.(type) {
	case protocol.CanvasResize:
		return a.CanUse(FeatureResize, u)
	case protocol.LayerAttributes:
		return a.canEditLayerProps(u, m.ID)
	case protocol.LayerRetitle:
		return a.canEditLayerProps(u, m.ID)
	case protocol.PutImage:
		return BlendMode(m.Mode) == ModeCompatLocalMatch || m.Mode == 252 ||
			(a.CanUse(FeaturePutImage, u) && !a.layerLockedFor(u, m.Layer))
	case protocol.PutImageZstd:
		return a.CanUse(FeaturePutImage, u) && !a.layerLockedFor(u, m.Layer)
	case protocol.FillRect:
		return a.CanUse(FeaturePutImage, u) && !a.layerLockedFor(u, m.Layer)
	case protocol.AnnotationCreate:
		return a.CanUse(FeatureCreateAnnotation, u) && (uint8(m.ID) == u || a.isOp(u))
	case protocol.AnnotationReshape:
		return uint8(m.ID) == u || a.isOp(u) || !a.annotations[m.ID]
	case protocol.AnnotationEdit:
		if !(uint8(m.ID) == u || a.isOp(u)) {
			return false
		}
		if m.Flags&0x1 != 0 {
			a.annotations[m.ID] = true
		} else {
			delete(a.annotations, m.ID)
		}
		return true
	case protocol.AnnotationDelete:
		if !(uint8(m.ID) == u || a.isOp(u) || !a.annotations[m.ID]) {
			return false
		}
		delete(a.annotations, m.ID)
		return true
	case protocol.PutTile, protocol.PutTileZstd:
		return a.isOp(u)
	case protocol.CanvasBackground, protocol.CanvasBackgroundZstd:
		return a.CanUse(FeatureBackground, u)
	case protocol.DrawDabsClassic:
		return a.dabs(u, isPigment(m.Mode), m.Layer, maxSub(func(y func(uint32) bool) {
			for _, d := range m.Dabs {
				if !y(d.Size) {
					return
				}
			}
		}))
	case protocol.DrawDabsPixel:
		return a.dabs(u, isPigment(m.Mode), m.Layer, maxPixel(m.Dabs))
	case protocol.DrawDabsPixelSquare:
		return a.dabs(u, isPigment(m.Mode), m.Layer, maxPixel(m.Dabs))
	case protocol.DrawDabsMyPaint:
		return a.CanUse(FeatureMyPaint, u) && a.dabs(u, m.Flags&1 != 0, m.Layer, maxSub(func(y func(uint32) bool) {
			for _, d := range m.Dabs {
				if !y(d.Size) {
					return
				}
			}
		}))
	case protocol.DrawDabsMyPaintBlend:
		return a.CanUse(FeatureMyPaint, u) && a.dabs(u, isPigment(m.Mode), m.Layer, maxSub(func(y func(uint32) bool) {
			for _, d := range m.Dabs {
				if !y(d.Size) {
					return
				}
			}
		}))
	case protocol.MoveRect:
		return a.move(u, m.Source, m.Layer)
	case protocol.MoveRectZstd:
		return a.move(u, m.Source, m.Layer)
	case protocol.TransformRegion:
		return a.move(u, m.Source, m.Layer)
	case protocol.TransformRegionZstd:
		return a.move(u, m.Source, m.Layer)
	case protocol.SetMetadataInt:
		switch m.Field {
		case protocol.MetadataFramerate, protocol.MetadataFrameCount, protocol.MetadataFramerateFraction,
			protocol.MetadataFrameRangeFirst, protocol.MetadataFrameRangeLast:
			return a.CanUse(FeatureTimeline, u)
		case protocol.MetadataOffsetX, protocol.MetadataOffsetY:
			return a.isOp(u)
		}
		return a.CanUse(FeatureResize, u)
	case protocol.LayerTreeCreate:
		op := a.tier(u) == TierOperator
		if !op {
			limit := a.limits[1][a.tier(u)]
			if limit == 0 || (limit > 0 && int32((m.ID>>8)&0x7fff) >= limit) {
				return false
			}
		}
		return (op || uint8(m.ID) == u) && a.canEditAnyOrOwn(u)
	case protocol.LayerTreeMove:
		l := a.layers[m.Layer]
		movable := l == nil || !l.moveLocked
		if !a.canEditLayer(u, m.Layer) || !movable {
			return false
		}
		if m.Parent == 0 {
			return a.canEditAnyOrOwn(u)
		}
		return a.canEditLayer(u, m.Layer)
	case protocol.LayerTreeDelete:
		if !a.canEditLayer(u, m.ID) || (m.MergeTo != 0 && a.layerLockedFor(u, m.MergeTo)) {
			return false
		}
		delete(a.layers, m.ID)
		return true
	case protocol.TrackCreate:
		return (uint8(m.ID) == u || a.isOp(u)) && a.CanUse(FeatureTimeline, u)
	case protocol.TrackRetitle, protocol.TrackDelete, protocol.TrackOrder, protocol.KeyFrameSet,
		protocol.KeyFrameRetitle, protocol.KeyFrameLayerAttributes, protocol.KeyFrameDelete:
		return a.CanUse(FeatureTimeline, u)
	case protocol.SelectionPut, protocol.SelectionClear:
		return false // should have been local matches
	case protocol.SyncSelectionTile:
		return m.User == u || a.isOp(u)
	case protocol.Undo:
		return a.CanUse(FeatureUndo, u)
	}
	return true
}

func maxPixel(dabs []PixelDab) int32 {
	var m uint16
	for _, d := range dabs {
		m = max(m, d.Size)
	}
	return int32(m)
}

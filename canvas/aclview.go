package canvas

// Read-only views of the ACL filter's state, for clients that show it
// (lock icons, disabled controls) and refuse locally what every other
// client's filter would drop. They do not change the state.

// LayerLock is the LayerACL state of one layer (protocol.md §3.2,
// LayerACL.flags): content, move and property locks, the least
// privileged tier that may draw on it, and the users it is reserved for.
type LayerLock struct {
	Content, Move, Props bool
	Tier                 uint8   // TierOperator … TierGuest
	Exclusive            []uint8 // nil: every user (no exclusive list)
}

// LayerLock returns the lock state of layer id; ok is false when the layer
// has no LayerACL entry (unlocked, open to everyone).
func (a *ACL) LayerLock(id uint32) (l LayerLock, ok bool) {
	e := a.layers[id]
	if e == nil {
		return LayerLock{Tier: TierGuest}, false
	}
	l = LayerLock{Content: e.contentLocked, Move: e.moveLocked, Props: e.propsLocked, Tier: e.tier}
	all := true
	for _, in := range e.exclusive {
		all = all && in
	}
	if !all {
		l.Exclusive = []uint8{}
		for u, in := range e.exclusive {
			if in {
				l.Exclusive = append(l.Exclusive, uint8(u))
			}
		}
	}
	return l, true
}

// SessionLocked reports whether the whole canvas is locked (LayerACL for
// layer 0 with the content bit): every command is dropped, operators'
// too.
func (a *ACL) SessionLocked() bool { return a.allLocked }

// UserLocked reports whether user u is locked (UserACL).
func (a *ACL) UserLocked(u uint8) bool { return a.locked[u] }

// Tier returns user u's access tier (TierOperator for operators and the
// server, then trusted, authenticated, guest).
func (a *ACL) Tier(u uint8) uint8 { return a.tier(u) }

// LayerLockedFor reports whether user u may not draw on layer id (content
// locked, reserved for other users, or restricted to a better tier), as
// the filter decides for draw commands.
func (a *ACL) LayerLockedFor(u uint8, id uint32) bool { return a.layerLockedFor(u, id) }

// BrushSizeLimit returns the largest brush diameter in pixels user u may
// use: negative for no limit, 0 for none at all (FeatureLimits).
func (a *ACL) BrushSizeLimit(u uint8) int32 { return a.limits[0][a.tier(u)] }

package webui

// Access tiers, most privileged first (LayerACL and FeatureAccessLevels,
// protocol.md §3.2): the numbers are the wire values.
const (
	TierOperator uint8 = iota
	TierTrusted
	TierAuthenticated
	TierGuest
)

// Refusal is why a layer control or a stroke is refused. Its text is what
// the page shows (a toast, a button's title), so it reads as a sentence
// for users rather than a Go error string; compare with ==/errors.Is.
type Refusal string

func (r Refusal) Error() string { return string(r) }

// The refusals. Each names the rule of the ACL filter (protocol.md,
// "ACL filter") that other clients would apply.
const (
	ErrReadOnly      Refusal = "You are watching: drawing is off"
	ErrNotReady      Refusal = "The canvas is still loading"
	ErrCanvasLocked  Refusal = "The canvas is locked"
	ErrUserLocked    Refusal = "An operator has locked you"
	ErrNoLayer       Refusal = "Select a layer first"
	ErrGroupLayer    Refusal = "That is a layer group: pick a layer inside it"
	ErrLayerLocked   Refusal = "Layer is locked"
	ErrLayerReserved Refusal = "Layer is reserved for other users"
	ErrLayerTier     Refusal = "Layer is restricted to users with more rights"
	ErrBrushTooLarge Refusal = "Your brush is larger than this session allows"
	ErrNoLayerRights Refusal = "Only operators may edit layers in this session"
	ErrNotYourLayer  Refusal = "You may only edit your own layers"
	ErrPropsLocked   Refusal = "Layer properties are locked"
	ErrMoveLocked    Refusal = "Layer position is locked"
	ErrNotOperator   Refusal = "Only operators may do that"
)

// LayerLock is one layer's LayerACL state as the client's ACL filter
// reports it.
type LayerLock struct {
	Content, Move, Props bool
	Tier                 uint8   // least privileged tier allowed to draw (TierGuest: everyone)
	Exclusive            []uint8 // users the layer is reserved for; nil: everyone
}

// Access is what the client's ACL filter knows about the own user, the
// input of the permission decisions below. The zero value is a guest who
// may do nothing (not caught up).
type Access struct {
	Self          uint8 // own context id
	Tier          uint8 // own tier (TierOperator … TierGuest)
	ReadOnly      bool  // spectator: never sends commands
	Ready         bool  // caught up (commands may be sent)
	SessionLocked bool  // the whole canvas is locked (layer 0 LayerACL)
	UserLocked    bool  // locked by an operator (UserACL)
	EditLayers    bool  // may use the edit_layers feature (any layer)
	OwnLayers     bool  // may use the own_layers feature (layers it owns)
	BrushLimit    int32 // largest brush diameter; negative: no limit
}

// Op reports whether the user is an operator.
func (a Access) Op() bool { return a.Tier == TierOperator }

// commands reports why no canvas command may be sent at all, or nil.
func (a Access) commands() error {
	switch {
	case a.ReadOnly:
		return ErrReadOnly
	case !a.Ready:
		return ErrNotReady
	case a.SessionLocked:
		return ErrCanvasLocked
	case a.UserLocked:
		return ErrUserLocked
	}
	return nil
}

// layerOwner is the context id in a layer id's low byte.
func layerOwner(id uint32) uint8 { return uint8(id) }

// editLayer reports whether the user may edit layer id at all (the
// filter's rule: edit_layers, or own_layers for own layers).
func (a Access) editLayer(id uint32) error {
	if a.EditLayers || a.OwnLayers && layerOwner(id) == a.Self {
		return nil
	}
	if a.OwnLayers {
		return ErrNotYourLayer
	}
	return ErrNoLayerRights
}

// CanDraw reports why a stroke of the given diameter on layer id (group
// tells whether it is a group, lock its LayerACL state, nil when none)
// would be dropped by the other clients, or nil when it may be drawn.
func (a Access) CanDraw(id uint32, group bool, lock *LayerLock, size float64) error {
	if err := a.commands(); err != nil {
		return err
	}
	if id == 0 {
		return ErrNoLayer
	}
	if group {
		return ErrGroupLayer
	}
	if lock != nil {
		switch {
		case lock.Content:
			return ErrLayerLocked
		case lock.Exclusive != nil && !contains(lock.Exclusive, a.Self):
			return ErrLayerReserved
		case lock.Tier < a.Tier:
			return ErrLayerTier
		}
	}
	if a.BrushLimit == 0 || a.BrushLimit > 0 && size > float64(a.BrushLimit) {
		return ErrBrushTooLarge
	}
	return nil
}

// CanCreateLayer reports whether the user may add a layer of its own.
func (a Access) CanCreateLayer() error {
	if err := a.commands(); err != nil {
		return err
	}
	if !a.EditLayers && !a.OwnLayers {
		return ErrNoLayerRights
	}
	return nil
}

// CanEditLayerProps reports whether the user may change layer id's title,
// opacity or blend mode.
func (a Access) CanEditLayerProps(id uint32, lock *LayerLock) error {
	if err := a.layerCommand(id); err != nil {
		return err
	}
	if lock != nil && lock.Props {
		return ErrPropsLocked
	}
	return nil
}

// CanMoveLayer reports whether the user may move layer id in the tree.
func (a Access) CanMoveLayer(id uint32, lock *LayerLock) error {
	if err := a.layerCommand(id); err != nil {
		return err
	}
	if lock != nil && lock.Move {
		return ErrMoveLocked
	}
	return nil
}

// CanDeleteLayer reports whether the user may delete layer id.
func (a Access) CanDeleteLayer(id uint32) error { return a.layerCommand(id) }

// CanLockLayer reports whether the user may change layer id's LayerACL
// (lock or unlock it). LayerACL is not a canvas command, so the canvas and
// user locks do not stop it.
func (a Access) CanLockLayer(id uint32) error {
	switch {
	case a.ReadOnly:
		return ErrReadOnly
	case !a.Ready:
		return ErrNotReady
	case id == 0:
		return ErrNoLayer
	}
	return a.editLayer(id)
}

// CanLockCanvas reports whether the user may lock or unlock the whole
// canvas (operators only).
func (a Access) CanLockCanvas() error {
	switch {
	case a.ReadOnly:
		return ErrReadOnly
	case !a.Ready:
		return ErrNotReady
	case !a.Op():
		return ErrNotOperator
	}
	return nil
}

func (a Access) layerCommand(id uint32) error {
	if err := a.commands(); err != nil {
		return err
	}
	if id == 0 {
		return ErrNoLayer
	}
	return a.editLayer(id)
}

// LockFlags returns the LayerACL flags byte that sets or clears the
// content lock of a layer whose state is lock (nil: none), keeping its
// other locks and tier (protocol.md §3.2: bits 0–1 tier, 0x20 props,
// 0x40 move, 0x80 content).
func LockFlags(lock *LayerLock, locked bool) uint8 {
	f := TierGuest
	if lock != nil {
		f = min(lock.Tier, TierGuest)
		if lock.Props {
			f |= 0x20
		}
		if lock.Move {
			f |= 0x40
		}
	}
	if locked {
		f |= 0x80
	}
	return f
}

func contains(list []uint8, v uint8) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

package webui

import (
	"errors"
	"testing"
)

func TestAccessCanDraw(t *testing.T) {
	t.Parallel()
	guest := Access{Self: 3, Tier: TierGuest, Ready: true, OwnLayers: true, BrushLimit: -1}
	op := Access{Self: 1, Tier: TierOperator, Ready: true, EditLayers: true, OwnLayers: true, BrushLimit: -1}
	with := func(a Access, f func(*Access)) Access { f(&a); return a }
	const layer = 0x000201 // element 2, owned by user 1
	tests := []struct {
		name  string
		a     Access
		id    uint32
		group bool
		lock  *LayerLock
		size  float64
		want  error
	}{
		{"guest on open layer", guest, layer, false, nil, 10, nil},
		{"op on open layer", op, layer, false, nil, 10, nil},
		{"spectator", with(guest, func(a *Access) { a.ReadOnly = true }), layer, false, nil, 10, ErrReadOnly},
		{"not caught up", with(guest, func(a *Access) { a.Ready = false }), layer, false, nil, 10, ErrNotReady},
		{"canvas locked", with(op, func(a *Access) { a.SessionLocked = true }), layer, false, nil, 10, ErrCanvasLocked},
		{"user locked", with(guest, func(a *Access) { a.UserLocked = true }), layer, false, nil, 10, ErrUserLocked},
		{"no layer", guest, 0, false, nil, 10, ErrNoLayer},
		{"group", guest, layer, true, nil, 10, ErrGroupLayer},
		{"content locked", guest, layer, false, &LayerLock{Content: true, Tier: TierGuest}, 10, ErrLayerLocked},
		{"content locked for ops too", op, layer, false, &LayerLock{Content: true, Tier: TierGuest}, 10, ErrLayerLocked},
		{"move lock does not stop drawing", guest, layer, false, &LayerLock{Move: true, Props: true, Tier: TierGuest}, 10, nil},
		{"reserved for others", guest, layer, false, &LayerLock{Tier: TierGuest, Exclusive: []uint8{1, 2}}, 10, ErrLayerReserved},
		{"reserved for me", guest, layer, false, &LayerLock{Tier: TierGuest, Exclusive: []uint8{3}}, 10, nil},
		{"trusted tier, guest", guest, layer, false, &LayerLock{Tier: TierTrusted}, 10, ErrLayerTier},
		{"trusted tier, trusted", with(guest, func(a *Access) { a.Tier = TierTrusted }), layer, false, &LayerLock{Tier: TierTrusted}, 10, nil},
		{"op tier, op", op, layer, false, &LayerLock{Tier: TierOperator}, 10, nil},
		{"brush over limit", with(guest, func(a *Access) { a.BrushLimit = 8 }), layer, false, nil, 10, ErrBrushTooLarge},
		{"brush at limit", with(guest, func(a *Access) { a.BrushLimit = 10 }), layer, false, nil, 10, nil},
		{"no brush allowed", with(guest, func(a *Access) { a.BrushLimit = 0 }), layer, false, nil, 1, ErrBrushTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.a.CanDraw(tc.id, tc.group, tc.lock, tc.size); !errors.Is(got, tc.want) {
				t.Errorf("CanDraw = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAccessLayerEditing(t *testing.T) {
	t.Parallel()
	// Drawpile's defaults: edit_layers for operators, own_layers for all.
	guest := Access{Self: 3, Tier: TierGuest, Ready: true, OwnLayers: true}
	op := Access{Self: 1, Tier: TierOperator, Ready: true, EditLayers: true, OwnLayers: true}
	noLayers := Access{Self: 3, Tier: TierGuest, Ready: true}
	locked := Access{Self: 1, Tier: TierOperator, Ready: true, EditLayers: true, OwnLayers: true, SessionLocked: true}
	const own, others = 0x000103, 0x000201
	props := &LayerLock{Props: true, Tier: TierGuest}
	move := &LayerLock{Move: true, Tier: TierGuest}
	tests := []struct {
		name string
		do   func() error
		want error
	}{
		{"guest creates", guest.CanCreateLayer, nil},
		{"no rights creates", noLayers.CanCreateLayer, ErrNoLayerRights},
		{"locked canvas creates", locked.CanCreateLayer, ErrCanvasLocked},
		{"guest renames own", func() error { return guest.CanEditLayerProps(own, nil) }, nil},
		{"guest renames other's", func() error { return guest.CanEditLayerProps(others, nil) }, ErrNotYourLayer},
		{"no rights renames own", func() error { return noLayers.CanEditLayerProps(own, nil) }, ErrNoLayerRights},
		{"op renames other's", func() error { return op.CanEditLayerProps(others, nil) }, nil},
		{"props locked", func() error { return op.CanEditLayerProps(others, props) }, ErrPropsLocked},
		{"props lock does not stop moving", func() error { return op.CanMoveLayer(others, props) }, nil},
		{"move locked", func() error { return op.CanMoveLayer(others, move) }, ErrMoveLocked},
		{"guest moves other's", func() error { return guest.CanMoveLayer(others, nil) }, ErrNotYourLayer},
		{"guest moves own", func() error { return guest.CanMoveLayer(own, nil) }, nil},
		{"guest deletes other's", func() error { return guest.CanDeleteLayer(others) }, ErrNotYourLayer},
		{"op deletes other's", func() error { return op.CanDeleteLayer(others) }, nil},
		{"delete nothing", func() error { return op.CanDeleteLayer(0) }, ErrNoLayer},
		{"locked canvas deletes", func() error { return locked.CanDeleteLayer(others) }, ErrCanvasLocked},
		{"op locks other's", func() error { return op.CanLockLayer(others) }, nil},
		{"op locks while canvas locked", func() error { return locked.CanLockLayer(others) }, nil},
		{"guest locks own", func() error { return guest.CanLockLayer(own) }, nil},
		{"guest locks other's", func() error { return guest.CanLockLayer(others) }, ErrNotYourLayer},
		{"op locks canvas", op.CanLockCanvas, nil},
		{"guest locks canvas", guest.CanLockCanvas, ErrNotOperator},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.do(); !errors.Is(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLockFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		lock   *LayerLock
		locked bool
		want   uint8
	}{
		{"lock unlocked layer", nil, true, 0x83},
		{"unlock to no entry", &LayerLock{Content: true, Tier: TierGuest}, false, 0x03},
		{"keep tier and other locks", &LayerLock{Move: true, Props: true, Tier: TierTrusted}, true, 0xe1},
		{"unlock keeps tier", &LayerLock{Content: true, Tier: TierOperator}, false, 0x00},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := LockFlags(tc.lock, tc.locked); got != tc.want {
				t.Errorf("LockFlags = %#x, want %#x", got, tc.want)
			}
		})
	}
}

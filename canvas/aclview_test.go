package canvas

import (
	"slices"
	"testing"

	"drawbridge/protocol"
)

func TestACLViews(t *testing.T) {
	t.Parallel()
	a := NewACL()
	const layer = 0x000103 // element 1, owned by user 3
	steps := []struct {
		name  string
		ctx   uint8
		m     protocol.Message
		check func(t *testing.T)
	}{
		{"defaults", 1, protocol.SessionOwner{Users: []uint8{1}}, func(t *testing.T) {
			if _, ok := a.LayerLock(layer); ok {
				t.Error("unlocked layer has an entry")
			}
			if a.Tier(1) != TierOperator || a.Tier(3) != TierGuest || a.SessionLocked() || a.UserLocked(3) {
				t.Error("wrong initial state")
			}
			if a.BrushSizeLimit(3) != 255 || a.BrushSizeLimit(1) != -1 {
				t.Errorf("brush limits %d %d", a.BrushSizeLimit(3), a.BrushSizeLimit(1))
			}
		}},
		{"lock with exclusive list", 3, protocol.LayerACL{ID: layer, Flags: 0xe1, Exclusive: []uint8{3}}, func(t *testing.T) {
			l, ok := a.LayerLock(layer)
			if !ok || !l.Content || !l.Move || !l.Props || l.Tier != TierTrusted || !slices.Equal(l.Exclusive, []uint8{3}) {
				t.Errorf("LayerLock = %+v %v", l, ok)
			}
			if !a.LayerLockedFor(3, layer) {
				t.Error("content-locked layer not locked for its owner")
			}
		}},
		{"reserved, content unlocked", 3, protocol.LayerACL{ID: layer, Flags: 0x03, Exclusive: []uint8{3}}, func(t *testing.T) {
			if a.LayerLockedFor(3, layer) || !a.LayerLockedFor(4, layer) {
				t.Error("exclusive list not applied")
			}
		}},
		{"no exclusive list", 3, protocol.LayerACL{ID: layer, Flags: 0x80}, func(t *testing.T) {
			l, _ := a.LayerLock(layer)
			if l.Exclusive != nil || l.Tier != TierOperator {
				t.Errorf("LayerLock = %+v", l)
			}
		}},
		{"session lock", 1, protocol.LayerACL{ID: 0, Flags: 0x80}, func(t *testing.T) {
			if !a.SessionLocked() {
				t.Error("not locked")
			}
		}},
		{"user lock", 1, protocol.UserACL{Users: []uint8{3}}, func(t *testing.T) {
			if !a.UserLocked(3) || a.UserLocked(1) {
				t.Error("UserLocked wrong")
			}
		}},
	}
	for _, s := range steps {
		if !a.Allow(s.ctx, s.m) {
			t.Fatalf("%s: message not allowed", s.name)
		}
		t.Run(s.name, s.check)
	}
}

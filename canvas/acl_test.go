package canvas

import (
	"testing"

	"drawbridge/protocol"
)

func TestACL(t *testing.T) {
	t.Parallel()
	dab := func(layer uint32, size uint32) protocol.Message {
		return protocol.DrawDabsClassic{Layer: layer, Mode: 1, Dabs: []protocol.ClassicDab{{Size: size, Opacity: 255}}}
	}
	type step struct {
		ctx  uint8
		m    protocol.Message
		want bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"guests cannot resize, operators can", []step{
			{1, protocol.CanvasResize{Right: 10, Bottom: 10}, false},
			{0, protocol.SessionOwner{Users: []uint8{1}}, true},
			{1, protocol.CanvasResize{Right: 10, Bottom: 10}, true},
		}},
		{"own layers only", []step{
			{2, protocol.LayerTreeCreate{ID: 0x102}, true},
			{2, protocol.LayerTreeCreate{ID: 0x103}, false}, // owned by user 3
			{3, protocol.LayerAttributes{ID: 0x102}, false},
		}},
		{"locked user", []step{
			{0, protocol.SessionOwner{Users: []uint8{1}}, true},
			{2, protocol.UserACL{Users: []uint8{2}}, false}, // not an operator
			{1, protocol.UserACL{Users: []uint8{2}}, true},
			{2, dab(0x102, 256), false},
			{3, dab(0x103, 256), true},
		}},
		{"layer content lock and exclusive users", []step{
			{2, protocol.LayerACL{ID: 0x102, Flags: 3, Exclusive: []uint8{2}}, true},
			{2, dab(0x102, 256), true},
			{3, dab(0x102, 256), false},
			{2, protocol.LayerACL{ID: 0x102, Flags: 0x80 | 3}, true},
			{2, dab(0x102, 256), false},
		}},
		{"session lock", []step{
			{0, protocol.LayerACL{ID: 0, Flags: 0x80}, true},
			{2, dab(0x102, 256), false},
			{0, protocol.LayerACL{ID: 0, Flags: 0}, true},
			{2, dab(0x102, 256), true},
		}},
		{"brush size limit", []step{
			{2, dab(0x102, 255*256), true},
			{2, dab(0x102, 256*256), false},
			{0, protocol.FeatureLimits{Limits: []int32{-1, -1, -1, -1, -1, -1, -1, -1}}, true},
			{2, dab(0x102, 256*256), true},
		}},
		{"feature tiers", []step{
			{2, protocol.Undo{}, true},
			{0, protocol.FeatureAccessLevels{FeatureTiers: []uint8{255, 255, 255, 255, 255, 255, 255, 255, 0}}, true},
			{2, protocol.Undo{}, false},
			{2, protocol.PutImage{Layer: 0x102, Mode: 1}, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewACL()
			for i, s := range tt.steps {
				if got := a.Allow(s.ctx, s.m); got != s.want {
					t.Errorf("step %d (%T from %d): allowed %v, want %v", i, s.m, s.ctx, got, s.want)
				}
			}
		})
	}
}

// Playback filtering lets every render case through unchanged.
func TestPlaybackACLAllowsRenderCases(t *testing.T) {
	t.Parallel()
	a := NewPlaybackACL()
	for _, m := range []protocol.Message{
		protocol.CanvasResize{}, protocol.PutTile{}, protocol.LayerTreeCreate{ID: 0x105},
		protocol.UndoDepth{}, protocol.DrawDabsClassic{Layer: 0x101, Mode: 1, Dabs: []protocol.ClassicDab{{Size: 200 * 256}}},
	} {
		if !a.Allow(1, m) {
			t.Errorf("%T filtered in playback", m)
		}
	}
}

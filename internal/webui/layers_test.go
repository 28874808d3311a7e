package webui

import (
	"slices"
	"testing"
)

// applyMove is the canvas engine's LayerTreeMove (engine.md §3.1) on a
// LayerNode tree: remove the layer, insert it into parent at the
// sibling's index (directly below it), or on top when sibling is 0.
func applyMove(t *testing.T, tree []LayerNode, m TreeMove) []LayerNode {
	t.Helper()
	var moved LayerNode
	var remove func(list []LayerNode) []LayerNode
	remove = func(list []LayerNode) []LayerNode {
		var out []LayerNode
		for _, n := range list {
			if n.ID == m.Layer {
				moved = n
				continue
			}
			n.Children = remove(n.Children)
			out = append(out, n)
		}
		return out
	}
	tree = remove(tree)
	insert := func(list []LayerNode) []LayerNode {
		idx := len(list)
		if m.Sibling != 0 {
			idx = slices.IndexFunc(list, func(n LayerNode) bool { return n.ID == m.Sibling })
			if idx < 0 {
				t.Fatalf("sibling %#x not in parent %#x", m.Sibling, m.Parent)
			}
		}
		return slices.Insert(slices.Clone(list), idx, moved)
	}
	if m.Parent == 0 {
		return insert(tree)
	}
	var into func(list []LayerNode) bool
	into = func(list []LayerNode) bool {
		for i := range list {
			if list[i].ID == m.Parent {
				list[i].Children = insert(list[i].Children)
				return true
			}
			if into(list[i].Children) {
				return true
			}
		}
		return false
	}
	if !into(tree) {
		t.Fatalf("parent %#x not found", m.Parent)
	}
	return tree
}

// order lists the tree's ids top first, groups expanded (panel order).
func order(tree []LayerNode) []uint32 {
	var ids []uint32
	for i := len(tree) - 1; i >= 0; i-- {
		ids = append(ids, tree[i].ID)
		ids = append(ids, order(tree[i].Children)...)
	}
	return ids
}

// testTree, bottom first: 1 (background), group 10 {11, 12}, 2, 3.
// Panel order: 3, 2, 10, 12, 11, 1.
func testTree() []LayerNode {
	return []LayerNode{
		{ID: 1},
		{ID: 10, Group: true, Children: []LayerNode{{ID: 11}, {ID: 12}}},
		{ID: 2},
		{ID: 3},
	}
}

func TestMoveLayer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		id   uint32
		up   bool
		want []uint32 // panel order after the move; nil: no move
	}{
		{"up to the top", 2, true, []uint32{2, 3, 10, 12, 11, 1}},
		{"top cannot go up", 3, true, nil},
		{"down", 3, false, []uint32{2, 3, 10, 12, 11, 1}},
		{"down past a group", 2, false, []uint32{3, 10, 12, 11, 2, 1}},
		{"bottom cannot go down", 1, false, nil},
		{"up inside a group", 11, true, []uint32{3, 2, 10, 11, 12, 1}},
		{"top of a group stays inside", 12, true, nil},
		{"group moves with children", 10, true, []uint32{3, 10, 12, 11, 2, 1}},
		{"unknown layer", 99, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, ok := MoveLayer(testTree(), tc.id, tc.up)
			if ok != (tc.want != nil) {
				t.Fatalf("MoveLayer ok = %v (%+v), want %v", ok, m, tc.want != nil)
			}
			if !ok {
				return
			}
			if got := order(applyMove(t, testTree(), m)); !slices.Equal(got, tc.want) {
				t.Errorf("after %+v: %v, want %v", m, got, tc.want)
			}
		})
	}
}

func TestDropLayer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		id, target uint32
		above      bool
		want       []uint32
	}{
		{"bottom to the top", 1, 3, true, []uint32{1, 3, 2, 10, 12, 11}},
		{"top to the bottom", 3, 1, false, []uint32{2, 10, 12, 11, 1, 3}},
		{"below its neighbour", 3, 2, false, []uint32{2, 3, 10, 12, 11, 1}},
		{"into a group, above a child", 2, 11, true, []uint32{3, 10, 12, 2, 11, 1}},
		{"out of a group", 12, 3, true, []uint32{12, 3, 2, 10, 11, 1}},
		{"already there (above the one below)", 3, 2, true, nil},
		{"already there (below the one above)", 2, 3, false, nil},
		{"onto itself", 2, 2, true, nil},
		{"group into its own child", 10, 11, true, nil},
		{"unknown target", 2, 99, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, ok := DropLayer(testTree(), tc.id, tc.target, tc.above)
			if ok != (tc.want != nil) {
				t.Fatalf("DropLayer ok = %v (%+v), want %v", ok, m, tc.want != nil)
			}
			if !ok {
				return
			}
			if got := order(applyMove(t, testTree(), m)); !slices.Equal(got, tc.want) {
				t.Errorf("after %+v: %v, want %v", m, got, tc.want)
			}
		})
	}
}

func TestBlendModes(t *testing.T) {
	t.Parallel()
	seen := map[uint8]bool{}
	for _, m := range LayerBlendModes {
		if seen[m.ID] {
			t.Errorf("mode %d listed twice", m.ID)
		}
		seen[m.ID] = true
		if BlendName(m.ID) != m.Name {
			t.Errorf("BlendName(%d) = %q, want %q", m.ID, BlendName(m.ID), m.Name)
		}
		// Brush-only modes (engine.md §2.1 without L) are not layer modes.
		switch m.ID {
		case 11, 12, 14, 25, 26, 82, 84, 85, 90, 255:
			t.Errorf("mode %d is not valid for layers", m.ID)
		}
	}
	if LayerBlendModes[0].ID != 1 {
		t.Errorf("first mode %d, want Normal", LayerBlendModes[0].ID)
	}
	if got := BlendName(46); got != "Mode 46" {
		t.Errorf("BlendName(46) = %q", got)
	}
}

func TestPixelEncoder(t *testing.T) {
	t.Parallel()
	dab := func(x, y, size, op float64) Dab { return Dab{X: x, Y: y, Size: size, Opacity: op} }
	tests := []struct {
		name string
		dabs [][]Dab // successive calls of one stroke
		want [][]PixelRun
	}{
		{"one dab", [][]Dab{{dab(10.7, 20.2, 4.4, 1)}},
			[][]PixelRun{{{X: 10, Y: 20, Steps: []PixelStep{{0, 0, 4, 255}}}}}},
		{"steps and rounding", [][]Dab{{dab(10, 20, 1, 0.5), dab(12.9, 19.5, 0.2, 0.5), dab(-3, 19, 1000.6, 1)}},
			[][]PixelRun{{{X: 10, Y: 20, Steps: []PixelStep{{0, 0, 1, 128}, {2, -1, 1, 128}, {-15, 0, 1000, 255}}}}}},
		{"same pixel dropped, also across calls", [][]Dab{{dab(5, 5, 3, 1), dab(5.9, 5.1, 3.2, 1)}, {dab(5.5, 5.5, 3, 1), dab(6, 5, 3, 1)}},
			[][]PixelRun{{{X: 5, Y: 5, Steps: []PixelStep{{0, 0, 3, 255}}}}, {{X: 6, Y: 5, Steps: []PixelStep{{0, 0, 3, 255}}}}}},
		{"same pixel, other size kept", [][]Dab{{dab(5, 5, 3, 1), dab(5, 5, 4, 1)}},
			[][]PixelRun{{{X: 5, Y: 5, Steps: []PixelStep{{0, 0, 3, 255}, {0, 0, 4, 255}}}}}},
		{"step too long starts a run", [][]Dab{{dab(0, 0, 2, 1), dab(127, -128, 2, 1), dab(255, -128, 2, 1)}},
			[][]PixelRun{{{X: 0, Y: 0, Steps: []PixelStep{{0, 0, 2, 255}, {127, -128, 2, 255}}}, {X: 255, Y: -128, Steps: []PixelStep{{0, 0, 2, 255}}}}}},
		{"NaN skipped", [][]Dab{{dab(nan(), 1, 2, 1), dab(1, 1, 2, 1)}},
			[][]PixelRun{{{X: 1, Y: 1, Steps: []PixelStep{{0, 0, 2, 255}}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var e PixelEncoder
			for i, dabs := range tc.dabs {
				got := e.Runs(dabs, nil)
				if len(got) != len(tc.want[i]) {
					t.Fatalf("call %d: %d runs %+v, want %+v", i, len(got), got, tc.want[i])
				}
				for j := range got {
					if got[j].X != tc.want[i][j].X || got[j].Y != tc.want[i][j].Y || !slices.Equal(got[j].Steps, tc.want[i][j].Steps) {
						t.Errorf("call %d run %d = %+v, want %+v", i, j, got[j], tc.want[i][j])
					}
				}
			}
		})
	}
	t.Run("full run", func(t *testing.T) {
		t.Parallel()
		var e PixelEncoder
		dabs := make([]Dab, 300)
		for i := range dabs {
			dabs[i] = dab(float64(i), 0, 1, 1)
		}
		runs := e.Runs(dabs, nil)
		if len(runs) != 2 || len(runs[0].Steps) != 255 || len(runs[1].Steps) != 45 || runs[1].X != 255 {
			t.Errorf("runs: %d, first %d dabs", len(runs), len(runs[0].Steps))
		}
	})
}

func nan() float64 { var z float64; return z / z }

func TestPixelBrushShapes(t *testing.T) {
	t.Parallel()
	// A 5 px dab centred on pixel (10,10): the square covers 8..12 on
	// both axes; the round one leaves out the four corners.
	tests := []struct {
		kind   BrushKind
		corner bool
	}{{PixelSquare, true}, {Pixel, false}}
	for _, tc := range tests {
		r, err := NewRaster(32, 32, Color{})
		if err != nil {
			t.Fatal(err)
		}
		r.DrawDab(Dab{X: 10.5, Y: 10.5, Size: 5, Opacity: 1}, Color{A: 255}, tc.kind, false)
		covered := 0
		for y := range 32 {
			for x := range 32 {
				if r.At(x, y).A != 0 {
					covered++
					if x < 8 || x > 12 || y < 8 || y > 12 {
						t.Errorf("kind %d: pixel %d,%d outside the dab", tc.kind, x, y)
					}
				}
			}
		}
		if got := r.At(8, 8).A != 0; got != tc.corner {
			t.Errorf("kind %d: corner covered %v, want %v", tc.kind, got, tc.corner)
		}
		if want := map[bool]int{true: 25, false: 21}[tc.corner]; covered != want {
			t.Errorf("kind %d: %d pixels, want %d", tc.kind, covered, want)
		}
	}
}

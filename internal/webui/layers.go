package webui

import "strconv"

// LayerNode is one entry of the layer tree as the layers panel sees it.
// Children are bottom first, like the canvas engine's lists.
type LayerNode struct {
	ID       uint32
	Group    bool
	Children []LayerNode
}

// TreeMove holds the fields of a LayerTreeMove message: move Layer into
// Parent (0 = root), directly below Sibling, or to the top of Parent when
// Sibling is 0 (engine.md §3.1; the protocol text says "bottom", the
// engine puts it on top).
type TreeMove struct {
	Layer, Parent, Sibling uint32
}

// locate finds id in the tree: the list holding it, its index there and
// the id of the group owning the list (0 for the root).
func locate(list []LayerNode, id, parent uint32) ([]LayerNode, int, uint32, bool) {
	for i, n := range list {
		if n.ID == id {
			return list, i, parent, true
		}
		if n.Group {
			if l, j, p, ok := locate(n.Children, id, n.ID); ok {
				return l, j, p, true
			}
		}
	}
	return nil, 0, 0, false
}

// placeAt returns the move that puts id at index i of list (bottom
// first, as the list will be once id is no longer in it): below the entry
// now at i, or on top when i is past the end.
func placeAt(list []LayerNode, id, parent uint32, i int) TreeMove {
	var rest []LayerNode
	for _, n := range list {
		if n.ID != id {
			rest = append(rest, n)
		}
	}
	if i >= len(rest) {
		return TreeMove{Layer: id, Parent: parent}
	}
	return TreeMove{Layer: id, Parent: parent, Sibling: rest[max(i, 0)].ID}
}

// MoveLayer returns the move that swaps layer id with its neighbour above
// (up) or below within its parent; ok is false when it is already at that
// end or is not in the tree.
func MoveLayer(tree []LayerNode, id uint32, up bool) (TreeMove, bool) {
	list, i, parent, ok := locate(tree, id, 0)
	if !ok || id == 0 {
		return TreeMove{}, false
	}
	if up {
		if i == len(list)-1 {
			return TreeMove{}, false
		}
		return placeAt(list, id, parent, i+1), true
	}
	if i == 0 {
		return TreeMove{}, false
	}
	return placeAt(list, id, parent, i-1), true
}

// DropLayer returns the move that puts layer id directly above (above) or
// below layer target, in target's parent: what dropping an entry on
// another one in the panel does. ok is false for a drop on itself, into
// its own subtree, on unknown layers, or when nothing would change.
func DropLayer(tree []LayerNode, id, target uint32, above bool) (TreeMove, bool) {
	if id == 0 || id == target {
		return TreeMove{}, false
	}
	src, si, sp, ok := locate(tree, id, 0)
	if !ok {
		return TreeMove{}, false
	}
	if src[si].Group {
		if _, _, _, inside := locate(src[si].Children, target, id); inside {
			return TreeMove{}, false
		}
	}
	list, ti, parent, ok := locate(tree, target, 0)
	if !ok {
		return TreeMove{}, false
	}
	// Index of target once id is taken out of the list.
	if parent == sp && si < ti {
		ti--
	}
	want := ti
	if above {
		want = ti + 1
	}
	if parent == sp && want == si {
		return TreeMove{}, false // already there
	}
	return placeAt(list, id, parent, want), true
}

// BlendModeName is a layer blend mode offered in the layers panel.
type BlendModeName struct {
	ID   uint8 // Drawpile blend mode id (engine.md §2.1)
	Name string
}

// LayerBlendModes are the blend modes the layers panel offers, in
// Drawpile's menu order: the modes valid for layers (flag L) that the
// canvas engine composites.
var LayerBlendModes = []BlendModeName{
	{1, "Normal"}, {2, "Multiply"}, {3, "Divide"}, {4, "Burn"}, {5, "Dodge"},
	{6, "Darken"}, {7, "Lighten"}, {8, "Subtract"}, {9, "Add"}, {10, "Recolor"},
	{13, "Screen"}, {16, "Overlay"}, {17, "Hard Light"}, {18, "Soft Light"},
	{19, "Linear Burn"}, {20, "Linear Light"}, {27, "Vivid Light"}, {28, "Pin Light"},
	{29, "Difference"}, {30, "Darker Color"}, {31, "Lighter Color"},
	{21, "Hue"}, {22, "Saturation"}, {23, "Luminosity"}, {24, "Color"},
	{15, "Luminosity/Shine (SAI)"}, {32, "Shade (SAI)"}, {33, "Shade/Shine (SAI)"},
	{34, "Burn (SAI)"}, {35, "Dodge (SAI)"}, {36, "Burn/Dodge (SAI)"},
	{37, "Hard Mix (SAI)"}, {38, "Difference (SAI)"}, {39, "Marker"},
	{41, "Greater Density"}, {43, "Pigment"}, {88, "OKLAB Normal"},
	{0, "Erase"}, {44, "Lightness to Alpha"}, {45, "Darkness to Alpha"},
}

// BlendName returns the panel name of blend mode id, or "Mode N" for a
// mode the panel does not list (another client may set any id).
func BlendName(id uint8) string {
	for _, m := range LayerBlendModes {
		if m.ID == id {
			return m.Name
		}
	}
	return "Mode " + strconv.Itoa(int(id))
}

package canvas

// Dirty-tile diffing after an undo/redo rebuild (like canvas_diff.c): when
// the layer structure and properties are unchanged, only tiles whose content
// differs are marked; otherwise everything is.

func (c *Canvas) diffDirty(old, cur *state) {
	if old.w != cur.w || old.h != cur.h || old.bg != cur.bg || !sameStructure(old.root, cur.root) {
		c.markAllDirty()
		return
	}
	if len(c.dirty) != cur.xtiles()*cur.ytiles() {
		c.markAllDirty()
		return
	}
	var walk func(a, b []*Layer)
	walk = func(a, b []*Layer) {
		for i := range a {
			la, lb := a[i], b[i]
			if la.Group {
				walk(la.Children, lb.Children)
				continue
			}
			c.diffTiles(la.tiles, lb.tiles)
			for j := range la.subs {
				c.diffTiles(la.subs[j].tiles, lb.subs[j].tiles)
			}
		}
	}
	walk(old.root, cur.root)
}

func (c *Canvas) diffTiles(a, b []*Tile) {
	for i := range a {
		if !tilesEqual(a[i], b[i]) {
			c.markDirty(i)
		}
	}
}

// sameStructure reports whether two layer trees have the same layers in
// the same order with the same rendering properties and sublayers.
func sameStructure(a, b []*Layer) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		la, lb := a[i], b[i]
		if la.ID != lb.ID || la.Group != lb.Group || la.Opacity != lb.Opacity || la.Blend != lb.Blend ||
			la.Censored != lb.Censored || la.Isolated != lb.Isolated || la.Clip != lb.Clip ||
			len(la.subs) != len(lb.subs) {
			return false
		}
		for j := range la.subs {
			sa, sb := la.subs[j], lb.subs[j]
			if sa.id != sb.id || sa.opacity != sb.opacity || sa.blend != sb.blend || len(sa.mask) != len(sb.mask) ||
				(len(sa.mask) > 0 && &sa.mask[0] != &sb.mask[0]) {
				return false
			}
		}
		if la.Group && !sameStructure(la.Children, lb.Children) {
			return false
		}
	}
	return true
}

package canvas

import (
	"fmt"
)

// Size limits (engine.md §1.5).
const (
	MaxDimension = 1_000_000
	MaxArea      = 32767 * 32767
)

// CommandError reports a canvas command that failed validation. The canvas
// is left unchanged (engine.md §3: nothing is partially applied).
type CommandError struct {
	Op     string // command name, e.g. "CanvasResize"
	Reason string
}

func (e *CommandError) Error() string { return "canvas: " + e.Op + ": " + e.Reason }

func cmdErr(op, format string, args ...any) error {
	return &CommandError{Op: op, Reason: fmt.Sprintf(format, args...)}
}

// state is the undoable document state (engine.md §1.3). The live state is
// owned by its Canvas; saved states in the history are immutable.
type state struct {
	w, h             int
	offX, offY       int
	bg               *Tile // nil = transparent; never mutated in place
	bgOpaque         bool
	root             []*Layer
	annotations      []Annotation
	meta             Metadata
	timeline         Timeline
	selections       map[uint16][]*Tile // (ctx<<8 | selection id) → mask tiles
	nextAnnotationID int
	resizeEpoch      uint64 // counts resizes; tiles keep their positions within an epoch
}

func (s *state) xtiles() int { return (s.w + TileSize - 1) / TileSize }
func (s *state) ytiles() int { return (s.h + TileSize - 1) / TileSize }

func (s *state) clone() *state { return s.cloneWith(nil) }

// cloneWith is clone taking tile-pointer slices from c's pool (c may be
// nil).
func (s *state) cloneWith(c *Canvas) *state {
	n := *s
	n.root = cloneLayersWith(s.root, c)
	n.annotations = append([]Annotation(nil), s.annotations...)
	n.timeline = s.timeline.clone()
	if s.selections != nil {
		n.selections = make(map[uint16][]*Tile, len(s.selections))
		for k, v := range s.selections {
			n.selections[k] = append([]*Tile(nil), v...)
		}
	}
	return &n
}

// Canvas is a Drawpile canvas with its undo history. Create it with New;
// apply messages with Apply (protocol messages) or the typed methods.
//
// Not safe for concurrent use: one goroutine (the owner) calls everything.
type Canvas struct {
	st  *state
	gen uint64 // tiles with this generation are writable in place

	hist history

	// local view state (not undoable, not part of the document)
	hidden map[uint32]bool

	// dirty tracking for incremental viewers, in canvas tile indices
	dirty    []bool
	allDirty bool

	// scratch state of the command being applied
	blankCheck []tileRef
	maskBuf    []uint16
	offBuf     []uint16
	rrBuf      []float32
	selBuf     []uint16

	// pool recycles tiles known to be unreferenced (pool.go); noPool
	// disables it (tests compare both).
	pool   []*Tile
	slices [][]*Tile // spare tile-pointer slices of the current canvas size
	noPool bool
}

// New returns an empty 0×0 canvas with the default undo depth.
func New() *Canvas {
	c := &Canvas{st: &state{meta: defaultMetadata()}, gen: 1, hidden: map[uint32]bool{}}
	c.hist.init(c)
	return c
}

// Width returns the canvas width in pixels.
func (c *Canvas) Width() int { return c.st.w }

// Height returns the canvas height in pixels.
func (c *Canvas) Height() int { return c.st.h }

// Layers returns the root layer list, bottom first. The returned layers
// must not be modified.
func (c *Canvas) Layers() []*Layer { return c.st.root }

// freeze makes every tile of the live state immutable (they become shared
// with a saved state).
func (c *Canvas) freeze() { c.gen++ }

// mutTile returns a writable tile at index i of tiles, cloning a frozen tile
// or creating a blank one (when create is set). It returns nil if the tile
// is absent and create is false.
func (c *Canvas) mutTile(tiles []*Tile, i int, create bool) *Tile {
	t := tiles[i]
	if t == nil {
		if !create {
			return nil
		}
		t = c.newTile()
		clear(t.Px[:])
		tiles[i] = t
		return t
	}
	if t.gen != c.gen {
		n := c.newTile()
		n.Px = t.Px
		tiles[i] = n
		return n
	}
	return t
}

func (c *Canvas) markDirty(i int) {
	if i >= 0 && i < len(c.dirty) {
		c.dirty[i] = true
	}
}

func (c *Canvas) markAllDirty() { c.allDirty = true }

// TakeDirtyTiles returns the canvas tile indices (row*xtiles + col) whose
// flattened pixels may have changed since the previous call, and clears the
// set. all is true when everything must be redrawn (size, layer properties or
// structure changed, undo); then tiles is nil.
func (c *Canvas) TakeDirtyTiles() (tiles []int, all bool) {
	n := c.st.xtiles() * c.st.ytiles()
	if c.allDirty || len(c.dirty) != n {
		c.allDirty = false
		c.dirty = make([]bool, n)
		return nil, true
	}
	for i, d := range c.dirty {
		if d {
			tiles = append(tiles, i)
			c.dirty[i] = false
		}
	}
	return tiles, false
}

// setState replaces the live state (undo rebuild).
func (c *Canvas) setState(s *state) {
	c.st = s
	c.freeze()
	c.markAllDirty()
}

// solidTile returns a new tile filled with p.
func (c *Canvas) solidTile(p Pixel15) *Tile {
	t := &Tile{gen: c.gen, shared: true}
	for i := range t.Px {
		t.Px[i] = p
	}
	return t
}

// --- CanvasResize (engine.md §3.1) ---

// Resize extends (positive) or crops (negative) each side of the canvas.
func (c *Canvas) Resize(top, right, bottom, left int32) error {
	s := c.st
	t, r, b, l := int64(top), int64(right), int64(bottom), int64(left)
	w := int64(s.w) + l + r
	h := int64(s.h) + t + b
	if -t >= int64(s.h)+b || -l >= int64(s.w)+r {
		return cmdErr("CanvasResize", "borders reversed")
	}
	if w < 1 || h < 1 || w > MaxDimension || h > MaxDimension || w*h > MaxArea {
		return cmdErr("CanvasResize", "size %dx%d out of bounds", w, h)
	}
	oldW, oldH := s.w, s.h
	s.w, s.h = int(w), int(h)
	s.resizeEpoch++
	for _, layer := range s.root {
		c.resizeLayer(layer, oldW, oldH, int(top), int(left))
	}
	for k, sel := range s.selections {
		s.selections[k] = c.resizeTiles(sel, oldW, oldH, int(top), int(left))
	}
	s.offX -= int(left)
	s.offY -= int(top)
	if left > 0 || top > 0 {
		for i := range s.annotations {
			s.annotations[i].X += left
			s.annotations[i].Y += top
		}
	}
	c.markAllDirty()
	return nil
}

func (c *Canvas) resizeLayer(l *Layer, oldW, oldH, top, left int) {
	if l.Group {
		for _, ch := range l.Children {
			c.resizeLayer(ch, oldW, oldH, top, left)
		}
		return
	}
	l.tiles = c.resizeTiles(l.tiles, oldW, oldH, top, left)
	for _, sub := range l.subs {
		sub.tiles = c.resizeTiles(sub.tiles, oldW, oldH, top, left)
		if sub.mask != nil {
			sub.mask = c.resizeTiles(sub.mask, oldW, oldH, top, left)
		}
	}
}

func tileCountRound(i int) int {
	if i < 0 {
		return (i - TileSize + 1) / TileSize
	}
	return (i + TileSize - 1) / TileSize
}

// resizeTiles re-creates a tile list for the new canvas size (c.st.w/h).
func (c *Canvas) resizeTiles(old []*Tile, oldW, oldH, top, left int) []*Tile {
	nxt, nyt := c.st.xtiles(), c.st.ytiles()
	out := make([]*Tile, nxt*nyt)
	hasContent := false
	for _, t := range old {
		if t != nil {
			hasContent = true
			break
		}
	}
	if !hasContent {
		return out
	}
	oxt, oyt := tileCountRound(oldW), tileCountRound(oldH)
	if left%TileSize == 0 && top%TileSize == 0 {
		offX, offY := tileCountRound(-left), tileCountRound(-top)
		for y := range nyt {
			for x := range nxt {
				ox, oy := offX+x, offY+y
				if ox >= 0 && ox < oxt && oy >= 0 && oy < oyt {
					out[y*nxt+x] = old[oy*oxt+ox]
				}
			}
		}
		return out
	}
	// copy path: every non-transparent pixel inside the old canvas bounds
	for ty := range oyt {
		for tx := range oxt {
			t := old[ty*oxt+tx]
			if t == nil {
				continue
			}
			for py := range TileSize {
				sy := ty*TileSize + py
				if sy >= oldH {
					break
				}
				dy := sy + top
				if dy < 0 || dy >= c.st.h {
					continue
				}
				for px := range TileSize {
					sx := tx*TileSize + px
					if sx >= oldW {
						break
					}
					dx := sx + left
					if dx < 0 || dx >= c.st.w {
						continue
					}
					p := t.Px[py*TileSize+px]
					if p.A == 0 {
						continue
					}
					nt := c.mutTile(out, (dy/TileSize)*nxt+dx/TileSize, true)
					nt.Px[(dy%TileSize)*TileSize+dx%TileSize] = p
				}
			}
		}
	}
	return out
}

// --- CanvasBackground ---

// SetBackground sets the background tile (nil = transparent). The tile is
// taken over by the canvas.
func (c *Canvas) SetBackground(t *Tile) {
	if t != nil {
		t.gen = 0 // backgrounds are never written in place
	}
	c.st.bg = t
	c.st.bgOpaque = t != nil
	if t != nil {
		for _, p := range t.Px {
			if p.A != One {
				c.st.bgOpaque = false
				break
			}
		}
	}
	c.markAllDirty()
}

// --- layer tree (engine.md §3.1) ---

// LayerTreeCreate creates a layer or group. fill is an unpremultiplied
// 0xAARRGGBB colour for new layers.
func (c *Canvas) LayerTreeCreate(id, source, target uint32, fill uint32, group, into bool, title string) error {
	const op = "LayerTreeCreate"
	s := c.st
	if id == 0 || id&0x800000 != 0 {
		return cmdErr(op, "invalid id %#x", id)
	}
	if l, _, _ := findLayer(s.root, id); l != nil {
		return cmdErr(op, "id %#x already exists", id)
	}
	var src *Layer
	if source != 0 {
		if src, _, _ = findLayer(s.root, source); src == nil {
			return cmdErr(op, "source %#x not found", source)
		}
	}
	var tgt *Layer
	var tgtParent *Layer
	tgtIdx := -1
	if target != 0 {
		tgt, tgtParent, tgtIdx = findLayer(s.root, target)
		if tgt == nil {
			return cmdErr(op, "target %#x not found", target)
		}
		if into && !tgt.Group {
			return cmdErr(op, "target %#x is not a group", target)
		}
	}
	var nl *Layer
	switch {
	case src != nil:
		nl = cloneLayer(src)
		markShared(nl) // the copy shares every tile with its source
		nl.ID = id
		nl.Title = title
		if nl.Group {
			c.renumberChildren(nl, id)
		}
	case group:
		nl = &Layer{ID: id, Title: title, Opacity: One, Blend: ModeNormal, Group: true, Isolated: true}
	default:
		nl = &Layer{ID: id, Title: title, Opacity: One, Blend: ModeNormal}
		nl.tiles = make([]*Tile, s.xtiles()*s.ytiles())
		if fill != 0 {
			p := pixelFromARGB(fill)
			t := c.solidTile(p)
			for i := range nl.tiles {
				nl.tiles[i] = t
			}
			c.freeze() // the shared solid tile must not be written in place
		}
	}
	switch {
	case target == 0:
		s.root = append(s.root, nl)
	case into:
		tgt.Children = append(tgt.Children, nl)
	default:
		list := s.root
		if tgtParent != nil {
			list = tgtParent.Children
		}
		list = insertAt(list, tgtIdx+1, nl)
		if tgtParent != nil {
			tgtParent.Children = list
		} else {
			s.root = list
		}
	}
	c.markAllDirty()
	return nil
}

func insertAt(list []*Layer, i int, l *Layer) []*Layer {
	list = append(list, nil)
	copy(list[i+1:], list[i:])
	list[i] = l
	return list
}

// renumberChildren gives the children of a copied group fresh ids of the
// new group's context (engine.md §3.1 LayerTreeCreate, ops.c
// clone_layer_props_list): the element id generator restarts after the new
// group's element id, skips element ids of that context already used
// anywhere in the canvas, and numbers children from the top down, depth
// first. Element ids wrap modulo 65535 as in DP_draw_context_id_generator.
func (c *Canvas) renumberChildren(g *Layer, id uint32) {
	const idCount = 65535
	ctx := id & 0xff
	used := make([]bool, idCount)
	walkLayers(c.st.root, func(l *Layer) {
		if l.ID&0xff == ctx {
			used[(l.ID>>8)%idCount] = true
		}
	})
	last := int(id>>8) % idCount
	used[last] = true
	var visit func(list []*Layer)
	visit = func(list []*Layer) {
		for i := len(list) - 1; i >= 0; i-- {
			for step := 1; step < idCount; step++ {
				cand := (last + step) % idCount
				if !used[cand] {
					used[cand] = true
					last = cand
					break
				}
			}
			list[i].ID = uint32(last)<<8 | ctx
			if list[i].Group {
				visit(list[i].Children)
			}
		}
	}
	visit(g.Children)
}

// LayerAttributes sets opacity (8-bit), blend mode and flags of a layer, or
// of (creating) sublayer sub of a pixel layer.
func (c *Canvas) LayerAttributes(id uint32, sub uint8, censored, isolated, clip bool, opacity uint8, blend BlendMode) error {
	const op = "LayerAttributes"
	l, _, _ := findLayer(c.st.root, id)
	if l == nil {
		return cmdErr(op, "layer %#x not found", id)
	}
	if sub != 0 {
		if l.Group {
			return cmdErr(op, "sublayer of group %#x", id)
		}
		sl := l.sublayer(int(sub))
		if sl == nil {
			sl = &sublayer{id: int(sub), tiles: make([]*Tile, len(l.tiles))}
			l.subs = append(l.subs, sl)
		}
		sl.opacity = Conv8To15(opacity)
		sl.blend = blend
	} else {
		l.Opacity = Conv8To15(opacity)
		l.Blend = blend
		l.Censored = censored
		l.Isolated = isolated
		l.Clip = clip
	}
	c.markAllDirty()
	return nil
}

// LayerRetitle changes a layer's title.
func (c *Canvas) LayerRetitle(id uint32, title string) error {
	l, _, _ := findLayer(c.st.root, id)
	if l == nil {
		return cmdErr("LayerRetitle", "layer %#x not found", id)
	}
	l.Title = title
	return nil
}

func contains(l *Layer, id uint32) bool {
	if !l.Group {
		return false
	}
	x, _, _ := findLayer(l.Children, id)
	return x != nil
}

// LayerTreeMove moves a layer into parent (0 = root) directly below sibling,
// or to the top if sibling is 0.
func (c *Canvas) LayerTreeMove(id, parent, sibling uint32) error {
	const op = "LayerTreeMove"
	s := c.st
	if id == parent || id == sibling || (parent == sibling && parent != 0) {
		return cmdErr(op, "invalid ids")
	}
	l, lp, li := findLayer(s.root, id)
	if l == nil {
		return cmdErr(op, "layer %#x not found", id)
	}
	var p *Layer
	if parent != 0 {
		p, _, _ = findLayer(s.root, parent)
		if p == nil || !p.Group || contains(l, parent) {
			return cmdErr(op, "bad parent %#x", parent)
		}
	}
	list := s.root
	if p != nil {
		list = p.Children
	}
	if sibling != 0 {
		found := false
		for _, e := range list {
			if e.ID == sibling {
				found = true
			}
		}
		if !found {
			return cmdErr(op, "sibling %#x not in parent", sibling)
		}
	}
	// remove
	if lp == nil {
		s.root = append(s.root[:li:li], s.root[li+1:]...)
	} else {
		lp.Children = append(lp.Children[:li:li], lp.Children[li+1:]...)
	}
	list = s.root
	if p != nil {
		list = p.Children
	}
	idx := len(list)
	if sibling != 0 {
		for i, e := range list {
			if e.ID == sibling {
				idx = i
			}
		}
	}
	list = insertAt(list, idx, l)
	if p != nil {
		p.Children = list
	} else {
		s.root = list
	}
	c.markAllDirty()
	return nil
}

// LayerTreeDelete deletes a layer, merging it into mergeTo if non-zero
// (mergeTo == id collapses a group into a layer).
func (c *Canvas) LayerTreeDelete(id, mergeTo uint32) error {
	const op = "LayerTreeDelete"
	s := c.st
	l, lp, li := findLayer(s.root, id)
	if l == nil {
		return cmdErr(op, "layer %#x not found", id)
	}
	if mergeTo == id {
		if !l.Group {
			return cmdErr(op, "cannot merge layer %#x into itself", id)
		}
		n := &Layer{ID: l.ID, Title: l.Title, Opacity: l.Opacity, Blend: l.Blend, Censored: l.Censored, Clip: l.Clip}
		n.tiles = make([]*Tile, s.xtiles()*s.ytiles())
		for i := range n.tiles {
			var tmp Tile
			if c.flattenList(&tmp.Px, l.Children, i, One, false, false, flattenOpts{sublayers: true, revealCensored: true}) {
				if !isAllZero(&tmp) {
					tmp.gen = c.gen
					t := tmp
					n.tiles[i] = &t
				}
			}
		}
		if lp == nil {
			s.root[li] = n
		} else {
			lp.Children[li] = n
		}
		c.markAllDirty()
		return nil
	}
	if mergeTo != 0 {
		dst, _, _ := findLayer(s.root, mergeTo)
		if dst == nil || dst.Group {
			return cmdErr(op, "merge target %#x not a layer", mergeTo)
		}
		mode := l.Blend
		if l.Clip && !dst.Clip {
			mode = clipMode(mode)
		} else if !l.Clip && dst.Clip {
			// the alpha-affecting member when the target is clipped
			mode = unclipMode(mode)
		}
		for i := range dst.tiles {
			if l.Group {
				// DP_layer_group_merge_to_flat_image at full parent opacity,
				// sublayers included
				var tmp Tile
				if dst.tiles[i] != nil {
					tmp.Px = dst.tiles[i].Px
				}
				if c.flattenEntryHave(&tmp.Px, dst.tiles[i] != nil, l, i, One, false, false, flattenOpts{sublayers: true}) {
					t := c.mutTile(dst.tiles, i, true)
					t.Px = tmp.Px
					c.maybeBlank(dst.tiles, i)
				}
				continue
			}
			src := l.tiles[i]
			if src == nil {
				continue
			}
			t := c.mutTile(dst.tiles, i, mode.BlendsOntoBlank() && l.Opacity != 0)
			if t == nil {
				continue
			}
			blendTile(&t.Px, &src.Px, uint32(l.Opacity), mode)
			if mode.DecreasesOpacity() {
				c.maybeBlank(dst.tiles, i)
			}
		}
	}
	if lp == nil {
		s.root = append(s.root[:li:li], s.root[li+1:]...)
	} else {
		lp.Children = append(lp.Children[:li:li], lp.Children[li+1:]...)
	}
	c.markAllDirty()
	return nil
}

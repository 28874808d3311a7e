package canvas

// Tile is one 64×64 block of a layer, row-major Pixel15 (index y*64+x).
// A nil *Tile means fully transparent.
//
// Tiles are shared copy-on-write between the live canvas and the saved
// states of the undo history: a tile may only be written in place when its
// gen equals the owning Canvas's current generation (see Canvas.mutTile);
// otherwise it is frozen and must be cloned first.
type Tile struct {
	gen uint64
	// shared marks tiles that may sit at several positions (solid fills,
	// copied layers); they are never recycled (see pool.go).
	shared bool
	pooled bool // in the Canvas's free list
	Px     [TilePixels]Pixel15
}

// Layer is one entry of the layer tree: a pixel layer or (Group) a group of
// child layers. The zero value is not useful; layers are created by
// LayerTreeCreate.
type Layer struct {
	ID       uint32
	Title    string
	Opacity  uint16 // 0..One
	Blend    BlendMode
	Censored bool // censored_remote from LayerAttributes
	Isolated bool // groups only
	Clip     bool // clip to the layer below
	Group    bool
	Children []*Layer // groups: bottom (index 0) to top

	// pixel layers only
	tiles []*Tile // len = xtiles*ytiles of the canvas
	subs  []*sublayer
}

// sublayer is a user's in-progress indirect stroke on a layer.
type sublayer struct {
	id           int // sender context id
	opacity      uint16
	blend        BlendMode
	color        uint32 // RGB of the stroke (low 24 bits)
	colorChanged bool
	tiles        []*Tile
	mask         []*Tile // selection the stroke is drawn through (nil = none); immutable
}

// cloneLayer deep-copies the layer tree structure, sharing the tiles.
func cloneLayer(l *Layer) *Layer { return cloneLayerWith(l, nil) }

// cloneLayerWith is cloneLayer taking tile-pointer slices from c's pool
// when c is non-nil.
func cloneLayerWith(l *Layer, c *Canvas) *Layer {
	n := *l
	if l.Group {
		n.Children = cloneLayersWith(l.Children, c)
		return &n
	}
	n.tiles = c.copyTiles(l.tiles)
	if len(l.subs) > 0 {
		n.subs = make([]*sublayer, len(l.subs))
		for i, s := range l.subs {
			ns := *s
			ns.tiles = c.copyTiles(s.tiles)
			n.subs[i] = &ns
		}
	}
	return &n
}

func cloneLayers(ls []*Layer) []*Layer { return cloneLayersWith(ls, nil) }

func cloneLayersWith(ls []*Layer, c *Canvas) []*Layer {
	if ls == nil {
		return nil
	}
	out := make([]*Layer, len(ls))
	for i, l := range ls {
		out[i] = cloneLayerWith(l, c)
	}
	return out
}

// findLayer returns the layer with the given id, the list holding it and its
// index, searching the whole tree.
func findLayer(list []*Layer, id uint32) (l *Layer, parent *Layer, idx int) {
	for i, e := range list {
		if e.ID == id {
			return e, nil, i
		}
		if e.Group {
			if l, p, j := findLayer(e.Children, id); l != nil {
				if p == nil {
					p = e
				}
				return l, p, j
			}
		}
	}
	return nil, nil, -1
}

// walkLayers calls fn for every layer (groups included) in the tree.
func walkLayers(list []*Layer, fn func(*Layer)) {
	for _, l := range list {
		fn(l)
		if l.Group {
			walkLayers(l.Children, fn)
		}
	}
}

func (l *Layer) sublayer(id int) *sublayer {
	for _, s := range l.subs {
		if s.id == id {
			return s
		}
	}
	return nil
}

func (l *Layer) removeSublayer(id int) {
	for i, s := range l.subs {
		if s.id == id {
			l.subs = append(l.subs[:i:i], l.subs[i+1:]...)
			return
		}
	}
}

func isAllZero(t *Tile) bool {
	for _, p := range t.Px {
		if p != (Pixel15{}) {
			return false
		}
	}
	return true
}

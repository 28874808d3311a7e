package canvas

// Tile recycling. Copy-on-write copies a tile the first time a command
// touches it after an undo point froze the state, so a long session
// allocates a 32 KiB tile per touched tile per stroke; Drawpile recycles
// them through a refcounted pool. Go has no refcounts, so this pool only
// takes tiles that are provably unreferenced:
//
//   - a tile dropped as blank by the command that created it (never frozen,
//     so no saved state holds it), and
//   - tiles of saved states discarded when the history is truncated, that
//     are not at the same position (layer id, sublayer id, tile index) in
//     the oldest kept state. Every later state and the live state descend
//     from that kept state by replaying commands, which only replace tiles
//     position by position, so a tile that is gone from its position there
//     is gone everywhere.
//
// Tiles that can sit at several positions (solid fills, decoded PutTile
// tiles shared by repeats and kept by history entries, copies made by
// LayerTreeCreate) are marked shared and never recycled, and nothing is
// recycled across a resize (which moves tiles between positions).

const maxPool = 2048 // 64 MiB of spare tiles at most

// newTile returns a tile writable in the current generation; its pixels are
// garbage and must be overwritten by the caller.
func (c *Canvas) newTile() *Tile {
	if n := len(c.pool); n > 0 {
		t := c.pool[n-1]
		c.pool = c.pool[:n-1]
		t.pooled = false
		t.gen = c.gen
		return t
	}
	return &Tile{gen: c.gen}
}

func (c *Canvas) recycle(t *Tile) {
	if c.noPool || t.shared || t.pooled || t.gen == 0 || len(c.pool) >= maxPool {
		return
	}
	t.pooled = true
	c.pool = append(c.pool, t)
}

func markShared(l *Layer) {
	walkLayers([]*Layer{l}, func(l *Layer) {
		for _, t := range l.tiles {
			if t != nil {
				t.shared = true
			}
		}
		for _, s := range l.subs {
			for _, t := range s.tiles {
				if t != nil {
					t.shared = true
				}
			}
		}
	})
}

// recycleDropped recycles the tiles of the saved states in dropped that are
// not at the same position in keep.
func (c *Canvas) recycleDropped(dropped []histEntry, keep *state) {
	if c.noPool || keep == nil {
		return
	}
	kept := map[uint32]*Layer{}
	walkLayers(keep.root, func(l *Layer) {
		if !l.Group {
			kept[l.ID] = l
		}
	})
	for _, e := range dropped {
		s := e.saved
		if s == nil || s == keep {
			continue
		}
		if s.resizeEpoch != keep.resizeEpoch {
			continue
		}
		defer c.recycleStateSlices(s) // after its tiles were examined
		walkLayers(s.root, func(l *Layer) {
			if l.Group {
				return
			}
			k := kept[l.ID]
			var ktiles []*Tile
			if k != nil {
				ktiles = k.tiles
			}
			c.recycleTiles(l.tiles, ktiles)
			for _, sub := range l.subs {
				var ks []*Tile
				if k != nil {
					if ksub := k.sublayer(sub.id); ksub != nil {
						ks = ksub.tiles
					}
				}
				c.recycleTiles(sub.tiles, ks)
			}
		})
	}
}

const maxSlicePool = 256

// copyTiles returns a copy of tiles, reusing a pooled slice of the same
// length when there is one (c may be nil).
func (c *Canvas) copyTiles(tiles []*Tile) []*Tile {
	if c != nil {
		if n := len(c.slices); n > 0 && len(c.slices[n-1]) == len(tiles) {
			s := c.slices[n-1]
			c.slices = c.slices[:n-1]
			copy(s, tiles)
			return s
		}
	}
	return append([]*Tile(nil), tiles...)
}

// recycleSlice keeps a tile-pointer slice of a discarded state for reuse.
func (c *Canvas) recycleSlice(s []*Tile) {
	if c.noPool || len(c.slices) >= maxSlicePool || len(s) != c.st.xtiles()*c.st.ytiles() {
		return
	}
	clear(s) // do not keep tiles reachable from the pool
	c.slices = append(c.slices, s)
}

func (c *Canvas) recycleTiles(tiles, kept []*Tile) {
	for i, t := range tiles {
		if t == nil || (i < len(kept) && kept[i] == t) {
			continue
		}
		c.recycle(t)
	}
}

// recycleStateSlices pools the tile-pointer slices of a discarded saved
// state: every saved state owns its slices (states are cloned, never
// shared), so nothing else refers to them.
func (c *Canvas) recycleStateSlices(s *state) {
	walkLayers(s.root, func(l *Layer) {
		if l.Group {
			return
		}
		c.recycleSlice(l.tiles)
		l.tiles = nil
		for _, sub := range l.subs {
			c.recycleSlice(sub.tiles)
			sub.tiles = nil
		}
	})
}

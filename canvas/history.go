package canvas

// Undo history with Drawpile's rules (engine.md §5.1, canvas_history.c).
//
// Every command is appended as an entry; UndoPoint entries carry a saved
// state (shared tiles, see Tile) from which undo/redo replay the later DONE
// entries.

// saveInterval is how many undo points pass between saved states (see
// history.sinceSave).
const saveInterval = 1

// Undo depth limits.
const (
	DefaultUndoDepth = 30
	MinUndoDepth     = 3
	MaxUndoDepth     = 255
)

// Command is one canvas command, replayable: it must not retain or mutate
// caller memory that may change, because undo replays it.
type Command func(c *Canvas) error

type undoState uint8

const (
	undoDone undoState = iota
	undoUndone
	undoGone
)

type histEntry struct {
	ctx       uint8
	undoPoint bool
	syncSel   bool // SyncSelectionTile: never undone
	st        undoState
	cmd       Command
	saved     *state // only on undo points (and entry 0)
}

type history struct {
	entries []histEntry
	limit   int
	// sinceSave counts undo points since the last saved state (states are
	// saved on every saveInterval-th undo point; measured on
	// perf_session.dprec, saving less often cut allocations by only 20% but
	// made undo replays cost more than they saved, so every undo point is
	// saved, as in Drawpile). Pixels are identical either way.
	sinceSave int
	// appendUndone: an Undo with acting user 0 makes the next command be
	// appended as UNDONE (recordings, reset images).
	appendUndone bool
}

func (h *history) init(c *Canvas) {
	h.limit = DefaultUndoDepth
	h.reset(c)
}

// reset truncates the history to the current state.
func (h *history) reset(c *Canvas) {
	c.freeze()
	h.entries = append(h.entries[:0], histEntry{undoPoint: true, saved: c.st.clone()})
	h.entries[0].saved = c.st
	c.st = c.st.clone()
}

// saveCurrent stores the live state on entry i.
func (h *history) saveCurrent(c *Canvas, i int) {
	c.freeze()
	h.entries[i].saved = c.st
	c.st = c.st.cloneWith(c)
}

// Do applies a command from user ctx and appends it to the history. A
// command that fails still counts for undo grouping; its error is returned.
func (c *Canvas) Do(ctx uint8, cmd Command) error {
	st := undoDone
	if c.hist.appendUndone {
		c.hist.appendUndone = false
		st = undoUndone
	}
	c.hist.entries = append(c.hist.entries, histEntry{ctx: ctx, st: st, cmd: cmd})
	if st != undoDone {
		return nil
	}
	return c.run(cmd)
}

func (c *Canvas) run(cmd Command) error {
	err := cmd(c)
	c.endCommand()
	return err
}

// UndoPoint marks the start of an undoable unit for user ctx.
func (c *Canvas) UndoPoint(ctx uint8) {
	h := &c.hist
	if h.appendUndone { // recorded as undone, without a save point
		h.appendUndone = false
		h.entries = append(h.entries, histEntry{ctx: ctx, undoPoint: true, st: undoUndone})
		return
	}
	h.entries = append(h.entries, histEntry{ctx: ctx, undoPoint: true})
	idx := len(h.entries) - 1
	if h.sinceSave++; h.sinceSave >= saveInterval {
		h.sinceSave = 0
		h.saveCurrent(c, idx)
	}
	// mark the user's undone actions gone, counting undo points of all users
	i, depth := idx-1, 1
	for ; i >= 0 && depth < h.limit; i-- {
		e := &h.entries[i]
		if e.undoPoint {
			depth++
		}
		if e.ctx == ctx && e.st == undoUndone {
			e.st = undoGone
			e.saved = nil
		}
	}
	// truncate what is out of reach
	for ; i >= 0 && depth < h.limit; i-- {
		if h.entries[i].undoPoint {
			depth++
		}
	}
	for i > 0 && h.entries[i].saved == nil {
		i--
	}
	if i > 0 {
		c.recycleDropped(h.entries[:i], h.entries[i].saved)
		n := copy(h.entries, h.entries[i:])
		clear(h.entries[n:])
		h.entries = h.entries[:n]
	}
}

// Undo undoes (or, with redo, redoes) the last undoable unit of user
// override, or of ctx when override is 0. With both 0 it marks the next
// command as undone (used by recordings).
func (c *Canvas) Undo(ctx, override uint8, redo bool) error {
	user := override
	if user == 0 {
		user = ctx
	}
	if user == 0 {
		c.hist.appendUndone = true
		return nil
	}
	h := &c.hist
	depth := 0
	if !redo {
		i := len(h.entries) - 1
		for ; i >= 0 && depth <= h.limit; i-- {
			e := &h.entries[i]
			if e.undoPoint {
				depth++
				if e.st == undoDone && e.ctx == user {
					break
				}
			}
		}
		if depth > h.limit {
			return cmdErr("Undo", "undo by user %d beyond history limit %d", user, h.limit)
		}
		if i < 0 {
			return cmdErr("Undo", "nothing to undo for user %d", user)
		}
		for j := i; j < len(h.entries); j++ {
			e := &h.entries[j]
			if e.st == undoDone && e.ctx == user && !e.syncSel {
				e.st = undoUndone
			}
			if !e.undoPoint {
				e.saved = nil
			}
		}
		c.replayFrom(i)
		return nil
	}
	start := -1
	for i := len(h.entries) - 1; i >= 0 && depth <= h.limit; i-- {
		e := &h.entries[i]
		if e.undoPoint {
			depth++
			if e.ctx == user {
				if e.st == undoUndone {
					start = i
				} else if e.st == undoDone {
					break
				}
			}
		}
	}
	if depth > h.limit {
		return cmdErr("Undo", "redo by user %d beyond history limit %d", user, h.limit)
	}
	if start < 0 {
		return cmdErr("Undo", "nothing to redo for user %d", user)
	}
	h.entries[start].st = undoDone
	for j := start + 1; j < len(h.entries); j++ {
		e := &h.entries[j]
		if e.ctx == user {
			if e.undoPoint && e.st != undoGone {
				break
			}
			if e.st == undoUndone {
				e.st = undoDone
			}
		}
	}
	c.replayFrom(start)
	return nil
}

// replayFrom rebuilds the live state from the nearest saved state at or
// before target.
func (c *Canvas) replayFrom(target int) {
	h := &c.hist
	start := target
	for start >= 0 && h.entries[start].saved == nil {
		start--
	}
	if start < 0 {
		return // cannot happen: entry 0 always has a state
	}
	old, prevAll := c.st, c.allDirty
	c.setState(h.entries[start].saved.clone())
	for i := start + 1; i < len(h.entries); i++ {
		e := &h.entries[i]
		if e.st == undoGone {
			continue
		}
		if e.undoPoint {
			c.freeze()
			e.saved = c.st
			c.st = c.st.cloneWith(c)
			continue
		}
		if e.st == undoDone {
			_ = c.run(e.cmd)
		}
	}
	c.allDirty = prevAll
	c.diffDirty(old, c.st)
}

// SetUndoDepth sets the undo depth limit (clamped to 3..255) and truncates
// the history (message UndoDepth).
func (c *Canvas) SetUndoDepth(depth int) {
	c.hist.limit = min(max(depth, MinUndoDepth), MaxUndoDepth)
	c.hist.reset(c)
}

// SoftReset truncates the history at the current state (message SoftReset).
func (c *Canvas) SoftReset() { c.hist.reset(c) }

package canvas

import (
	"bytes"

	"drawbridge/protocol"
)

// Local fork: client-side prediction of own commands (engine.md §5.2).
//
// An interactive client applies its own commands at once and sends them;
// the server echoes them back in the session's total order, possibly after
// commands of other users. Fork keeps the shown canvas equal to "the
// authoritative state (every server message so far, in server order) plus
// our commands still waiting for their echo, re-applied on top", which is
// Drawpile's model:
//
//   - Local applies an own command to the shown canvas and queues it. The
//     first one saves the state at the fork start (a copy-on-write clone).
//   - Remote handles a server message. The echo of the fork's head is
//     dropped from the fork and not applied again. A message of another
//     user is applied to the authoritative state and marks the shown canvas
//     stale: Sync (once per frame) rebuilds it as authoritative + pending.
//     An own message that does not match the head discards the fork.
//   - When the last pending command is echoed the fork ends and the shown
//     canvas is the authoritative one again.
//
// Echoes that arrive in order, with nothing interleaved, are never applied
// twice. Unlike Drawpile, Undo and UndoPoint are applied locally too (the
// rebuild keeps the result exact, and undo shows at once).
//
// Fork is not safe for concurrent use; like Canvas it belongs to one
// goroutine.
type Fork struct {
	view *Canvas // shown canvas; the same object for the Fork's lifetime
	// base is the authoritative state before the messages in confirmed;
	// nil when there is no fork.
	base      *Canvas
	confirmed []forkMsg // server messages not yet applied to base
	pending   []forkMsg // own commands applied to view, awaiting their echo
	stale     bool      // view is not base+confirmed+pending
	pool      bool      // view's tile recycling before the fork
	dirty     []bool    // scratch copy of the view's dirty set

	// Statistics for tests and diagnostics.
	Rebuilds   int // times the shown canvas was rebuilt
	Mismatches int // own echoes that did not match (fork discarded)
}

type forkMsg struct {
	ctx uint8
	key []byte // the encoded frame, compared with the echo
	m   protocol.Message
}

// MaxForkPending bounds the own commands waiting for an echo. Past it the
// fork is discarded (the canvas shows the authoritative state) rather than
// growing without limit when a server never echoes.
const MaxForkPending = 1 << 16

// NewFork returns a fork showing c. c must not be used directly for
// applying messages afterwards (rendering and SetLayerHidden are fine).
func NewFork(c *Canvas) *Fork { return &Fork{view: c} }

// Canvas returns the shown canvas (always the same object). Call Sync
// before reading it when remote messages were handled.
func (f *Fork) Canvas() *Canvas { return f.view }

// Pending returns the number of own commands waiting for their echo.
func (f *Fork) Pending() int { return len(f.pending) }

// Active reports whether own commands are pending (the shown canvas is
// a prediction).
func (f *Fork) Active() bool { return len(f.pending) > 0 }

// maxIdleConfirmed bounds the echoes an idle fork keeps (see Remote).
const maxIdleConfirmed = 256

// Local applies an own command (frame key, decoded m, from user ctx) to
// the shown canvas at once and remembers it until its echo. The error is
// the canvas's (the command is queued anyway: the server will echo it).
func (f *Fork) Local(ctx uint8, key []byte, m protocol.Message) error {
	f.Sync()
	if len(f.pending) >= MaxForkPending {
		f.Discard()
	}
	if f.base == nil {
		f.start()
	}
	f.pending = append(f.pending, forkMsg{ctx: ctx, key: bytes.Clone(key), m: m})
	return f.view.Apply(ctx, m)
}

// start saves the fork start state. Tile recycling is off in both
// canvases while they share saved states.
func (f *Fork) start() {
	f.pool = !f.view.noPool
	f.base = f.view.clone(f.view)
	f.view.noPool = true
}

// Remote handles the next server message (user ctx, frame key, decoded
// m). echo reports that it was the echo of our fork's head (already
// shown). err is the canvas's error for an applied message.
func (f *Fork) Remote(ctx uint8, key []byte, m protocol.Message) (echo bool, err error) {
	if f.base != nil && len(f.pending) == 0 && m.MessageType().IsCommand() {
		// An idle fork (everything echoed) ends with the first command
		// that is not ours: from here the shown canvas is the
		// authoritative one.
		f.settle()
		if f.base != nil {
			f.end()
		}
	}
	if f.base == nil {
		return false, f.view.Apply(ctx, m)
	}
	if !m.MessageType().IsCommand() {
		// Never predicted (own meta messages are sent without Local), so
		// never an echo or a mismatch.
		switch m.(type) {
		case protocol.SoftReset, protocol.UndoDepth, protocol.LocalChange:
			f.fold()
			err = f.base.Apply(ctx, m)
			f.stale = true
			return false, err
		}
		return false, nil // no effect on the canvas
	}
	head := &f.pending[0]
	if head.ctx == ctx && bytes.Equal(head.key, key) {
		f.pending[0] = forkMsg{}
		f.pending = f.pending[1:]
		if f.stale {
			err = f.base.Apply(ctx, m)
		} else {
			f.confirmed = append(f.confirmed, forkMsg{ctx: ctx, m: m})
		}
		if len(f.pending) == 0 {
			// Idle: when we draw on before anyone else does (drawing
			// alone, or an echo back between two segments of a stroke)
			// the next Local needs no new copy of the document.
			f.settle()
		}
		return true, err
	}
	if ctx == head.ctx {
		// Our own context, but not what we predicted: the server's order
		// is not ours (Drawpile: clear the fork and roll back).
		f.Mismatches++
		f.fold()
		err = f.base.Apply(ctx, m)
		f.pending = nil
		f.stale = true
		f.settle()
		return false, err
	}
	f.fold()
	err = f.base.Apply(ctx, m)
	f.stale = true
	return false, err
}

// fold applies the confirmed messages to base.
func (f *Fork) fold() {
	for i, c := range f.confirmed {
		_ = f.base.Apply(c.ctx, c.m) // errors were reported when shown
		f.confirmed[i] = forkMsg{}
	}
	f.confirmed = f.confirmed[:0]
}

// Sync rebuilds the shown canvas when messages of other users arrived
// during the fork: authoritative state plus the pending commands.
func (f *Fork) Sync() {
	if !f.stale || f.base == nil {
		return
	}
	f.fold()
	v := f.view
	old, all := v.st, v.allDirty
	f.dirty = append(f.dirty[:0], v.dirty...)
	v.adopt(f.base)
	for _, p := range f.pending {
		_ = v.Apply(p.ctx, p.m)
	}
	// Only what differs from the previous picture is redrawn (the pending
	// commands were shown already).
	if len(f.dirty) == len(v.dirty) {
		copy(v.dirty, f.dirty)
		v.allDirty = all
	}
	v.diffDirty(old, v.st)
	v.reuseSlices(old)
	f.stale = false
	f.Rebuilds++
}

// Discard drops the pending commands: the shown canvas becomes the
// authoritative state (the server will still echo what was sent; those
// echoes are then applied as ordinary messages).
func (f *Fork) Discard() {
	if f.base == nil {
		return
	}
	if len(f.pending) > 0 {
		f.pending = nil
		f.stale = true
	}
	f.settle()
}

// settle runs when nothing is pending any more: the shown canvas becomes
// base+confirmed, the authoritative state. The fork stays, idle, so that
// drawing on needs no new copy of the document (see Remote); it ends when
// its echo list grows long.
func (f *Fork) settle() {
	if f.stale {
		f.fold()
		old := f.view.st
		f.view.adopt(f.base)
		f.view.diffDirty(old, f.view.st)
		f.view.reuseSlices(old)
		f.stale = false
		f.Rebuilds++
	}
	if len(f.confirmed) >= maxIdleConfirmed {
		f.end()
	}
}

// end drops an idle fork (the shown canvas is already authoritative).
func (f *Fork) end() {
	f.view.reuseSlices(f.base.st) // base's live state is private to it
	f.base = nil
	clear(f.confirmed)
	f.confirmed = f.confirmed[:0]
	f.view.noPool = !f.pool
}

// clone returns an independent copy of c's document state and undo
// history, sharing tiles copy-on-write, taking tile-pointer slices from
// the pool of slices (may be nil). It freezes c. The copy does not
// recycle tiles (its saved states are shared with c).
func (c *Canvas) clone(slices *Canvas) *Canvas {
	c.freeze()
	n := &Canvas{st: c.st.cloneWith(slices), gen: c.gen, hidden: map[uint32]bool{}, noPool: true}
	n.hist = c.hist
	n.hist.entries = append([]histEntry(nil), c.hist.entries...)
	for k, v := range c.hidden {
		n.hidden[k] = v
	}
	return n
}

// adopt replaces c's document state and history with a copy of src's,
// keeping c's local view state (hidden layers), tile pool and dirty set.
// Callers mark what changed (diffDirty).
func (c *Canvas) adopt(src *Canvas) {
	src.freeze()
	c.st = src.st.cloneWith(c)
	c.gen = max(c.gen, src.gen) + 1
	c.hist = src.hist
	c.hist.entries = append(c.hist.entries[:0:0], src.hist.entries...)
}

// PendingKeys returns the frames of the own commands waiting for their
// echo, oldest first (to send them again after a resumed reconnect).
func (f *Fork) PendingKeys() [][]byte {
	keys := make([][]byte, len(f.pending))
	for i, p := range f.pending {
		keys[i] = p.key
	}
	return keys
}

// Dropped handles a server message of type t that is not applied
// (filtered by the ACL, say) in its place in the order. When it is an own
// command while a fork exists, what we predicted will never be in the
// authoritative state: the fork is discarded (Drawpile's rollback on a
// mismatch).
func (f *Fork) Dropped(ctx uint8, t protocol.Type) {
	if len(f.pending) == 0 || ctx != f.pending[0].ctx || !t.IsCommand() {
		return
	}
	f.Mismatches++
	f.Discard()
}

// reuseSlices gives the tile-pointer slices of c's discarded live state
// old to c's slice pool, for the next rebuild. A live state's slices are
// never shared (saved states get their own), so unlike tiles they can be
// reused while a fork shares tiles with another canvas.
func (c *Canvas) reuseSlices(old *state) {
	n := c.st.xtiles() * c.st.ytiles()
	put := func(s []*Tile) {
		if len(s) == n && len(c.slices) < maxSlicePool {
			clear(s)
			c.slices = append(c.slices, s)
		}
	}
	walkLayers(old.root, func(l *Layer) {
		if l.Group {
			return
		}
		put(l.tiles)
		l.tiles = nil
		for _, sub := range l.subs {
			put(sub.tiles)
			sub.tiles = nil
		}
	})
}

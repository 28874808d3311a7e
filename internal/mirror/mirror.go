package mirror

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"drawbridge/canvas"
	"drawbridge/internal/session"
	"drawbridge/protocol"
)

// Source is a lossless, ordered history stream (session.Tap implements
// it). Next blocks until frames are available and returns them with the
// history index of the first one; reset reports that the history was
// replaced and the frames start a new generation. Frames are immutable.
type Source interface {
	Next(ctx context.Context, buf []protocol.Frame) (frames []protocol.Frame, first int64, reset bool, err error)
}

// ResetSink receives server-side reset images (session.Session
// implements it).
type ResetSink interface {
	CompleteServerReset(at int64, image []protocol.Frame) error
	AbortServerReset(at int64, why string)
}

// Errors returned by Watch and Viewer.Next.
var (
	// ErrClosed: the mirror stopped (session ended, idle, or cancelled).
	ErrClosed = errors.New("mirror: closed")
	// ErrLagging: a viewer fell more than Options.MaxLag bytes behind.
	ErrLagging = errors.New("mirror: viewer lagging too far behind")
)

// Options configure a Mirror. The zero value of each field selects the
// documented default.
type Options struct {
	// Compat: the session speaks dp:4.24 (Drawpile 2.2) layouts.
	Compat bool
	// Logger; nil = slog.Default().
	Logger *slog.Logger
	// MaxDelay caps viewer delays (default 60 s); the log is kept that
	// long.
	MaxDelay time.Duration
	// SnapshotTail: a delay-0 viewer gets the newest snapshot if at most
	// this many bytes of history follow it, else a fresh one is made
	// (default 1 MiB). The mirror also snapshots on its own when 8× this
	// much history accumulated, so the log stays bounded.
	SnapshotTail int64
	// MaxLag: a viewer more than this many bytes behind is dropped
	// (default 32 MiB).
	MaxLag int64
	// ThumbnailInterval bounds how often the thumbnail is re-rendered
	// (default 5 s); ThumbnailSize is the box it fits in (default 320).
	ThumbnailInterval time.Duration
	ThumbnailSize     int
	// IdleTimeout: Run returns nil after this long with no viewer, no
	// thumbnail request and no ResetSink (default 2 min; < 0 = never).
	IdleTimeout time.Duration
	// ResetSink, when set, receives the reset image at each SoftReset the
	// mirror was asked for through RequestResetImage.
	ResetSink ResetSink
	// OnViewers is called from Run (at most once a second) when the number
	// of viewers changed; the bridge reports it to the session.
	OnViewers func(n int)
	// BatchBytes bounds one Viewer.Next batch (default 256 KiB).
	BatchBytes int
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = time.Minute
	}
	if o.SnapshotTail <= 0 {
		o.SnapshotTail = 1 << 20
	}
	if o.MaxLag <= 0 {
		o.MaxLag = 32 << 20
	}
	if o.ThumbnailInterval <= 0 {
		o.ThumbnailInterval = 5 * time.Second
	}
	if o.ThumbnailSize <= 0 {
		o.ThumbnailSize = 320
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 2 * time.Minute
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = 256 << 10
	}
}

// logEntry is one message of the viewer stream.
type logEntry struct {
	f   protocol.Frame
	at  time.Time // when the mirror received it (delays count from here)
	end int64     // cumulative bytes after this entry
}

// snap is a reset image for viewers: the catch-up header, the image and
// the caughtup marker, valid at log position pos.
type snap struct {
	pos    int64
	at     time.Time
	frames []protocol.Frame
	bytes  int64
}

// viewerKey is the catch-up key of the viewer stream (session keys start
// at 1000000, so a viewer never confuses its marker with a session one).
const viewerKey = 1

// Mirror is the live canvas of one session. Create it with New, run it
// with Run.
type Mirror struct {
	src  Source  // immutable
	opts Options // immutable after New
	lay  protocol.Layout
	done chan struct{} // closed when Run returns

	// Owned by Run.
	cv       *canvas.Canvas
	acl      *canvas.ACL
	state    aclState
	histPos  int64 // history index after the last applied message
	softSnap *resetImage
	pendingR []int64 // requested server-reset indexes not served yet
	lastSeen int     // viewer count last reported to OnViewers
	idleFrom time.Time

	mu        sync.Mutex // guards everything below
	log       []logEntry
	logFirst  int64 // log position of log[0]
	cum       int64 // cumulative bytes appended to the log
	grew      chan struct{}
	snaps     []*snap // oldest first
	snapReq   bool    // a viewer wants a fresh snapshot
	snapMade  chan struct{}
	viewers   map[*Viewer]struct{}
	thumb     thumbCache   // the rendered thumbnail and its encodings (thumbnail.go)
	fetched   atomic.Int64 // history position after the newest batch read (set by the reader)
	thumbAt   time.Time
	thumbWant time.Time // last Thumbnail call
	thumbMade chan struct{}
	dirty     bool // canvas changed since the last thumbnail
	resetReqs []int64
	wake      chan struct{} // cap 1: a request for Run
	closed    bool
}

// resetImage is the server-reset image taken at a SoftReset marker.
type resetImage struct {
	at     int64
	frames []protocol.Frame
	err    error
}

// New returns a mirror reading src. Call Run to start it.
func New(src Source, opts Options) *Mirror {
	opts.defaults()
	m := &Mirror{
		src:       src,
		opts:      opts,
		lay:       protocol.Layout425,
		done:      make(chan struct{}),
		cv:        canvas.New(),
		acl:       canvas.NewACL(),
		grew:      make(chan struct{}),
		snapMade:  make(chan struct{}),
		thumbMade: make(chan struct{}),
		viewers:   map[*Viewer]struct{}{},
		wake:      make(chan struct{}, 1),
	}
	if opts.Compat {
		m.lay = protocol.Layout424
	}
	m.state.reset()
	return m
}

// Done is closed when Run has returned.
func (m *Mirror) Done() <-chan struct{} { return m.done }

type batch struct {
	frames []protocol.Frame
	first  int64
	reset  bool
	err    error
}

// Run consumes the source until ctx is cancelled, the source ends or the
// mirror is idle for Options.IdleTimeout. It returns nil on a clean end
// (cancellation, the source reporting its end, idleness) and the source's
// error otherwise. Viewers get the rest of the log and then ErrClosed.
func (m *Mirror) Run(ctx context.Context) (err error) {
	defer close(m.done)
	defer m.shutdown()
	rctx, cancel := context.WithCancel(ctx)
	batches := make(chan batch, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the reader: owns the Source
		defer wg.Done()
		for {
			frames, first, reset, err := m.src.Next(rctx, nil)
			if err == nil {
				m.fetched.Store(first + int64(len(frames)))
			}
			select {
			case batches <- batch{frames, first, reset, err}:
			case <-rctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer wg.Wait()
	defer cancel()

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	m.idleFrom = time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case b := <-batches:
			if b.err != nil {
				if ctx.Err() != nil || isEnd(b.err) {
					return nil
				}
				return fmt.Errorf("mirror: read history: %w", b.err)
			}
			m.apply(b)
		case <-m.wake:
			m.serve(false)
		case <-tick.C:
			m.serve(true)
			if m.idle() {
				m.opts.Logger.Debug("mirror idle, stopping")
				return nil
			}
		}
	}
}

// isEnd reports whether err means the source ended normally (the session
// ended or the tap was closed).
func isEnd(err error) bool { return errors.Is(err, session.ErrTapClosed) }

func (m *Mirror) shutdown() {
	m.mu.Lock()
	m.closed = true
	close(m.grew)
	m.grew = make(chan struct{})
	close(m.snapMade)
	m.snapMade = make(chan struct{})
	close(m.thumbMade)
	m.thumbMade = make(chan struct{})
	reqs := m.resetReqs
	m.resetReqs = nil
	m.mu.Unlock()
	if m.opts.ResetSink != nil {
		for _, at := range append(m.pendingR, reqs...) {
			m.opts.ResetSink.AbortServerReset(at, "mirror stopped")
		}
	}
	if m.opts.OnViewers != nil && m.lastSeen != 0 {
		m.opts.OnViewers(0)
	}
}

// idle reports whether Run may stop.
func (m *Mirror) idle() bool {
	if m.opts.IdleTimeout < 0 || m.opts.ResetSink != nil {
		return false
	}
	m.mu.Lock()
	busy := len(m.viewers) > 0 || time.Since(m.thumbWant) < m.opts.IdleTimeout
	m.mu.Unlock()
	if busy {
		m.idleFrom = time.Now()
		return false
	}
	return time.Since(m.idleFrom) >= m.opts.IdleTimeout
}

// notice frames.
func jsonFrame(v any) protocol.Frame {
	f, err := protocol.JSONFrame(v)
	if err != nil {
		panic("mirror: encode notice: " + err.Error()) // static values only
	}
	return f
}

// apply runs one batch through the ACL and the canvas and appends it to
// the viewer log.
func (m *Mirror) apply(b batch) {
	now := time.Now()
	var add []protocol.Frame
	if b.reset {
		m.cv = canvas.New()
		m.acl = canvas.NewACL()
		m.state.reset()
		m.softSnap = nil
		add = append(add, jsonFrame(protocol.ResetNotice{Type: protocol.ReplyReset, State: "reset", Message: "Session reset!"}))
	}
	for i, f := range b.frames {
		m.applyFrame(f)
		if f.Type() == protocol.TypeSoftReset && m.opts.ResetSink != nil {
			m.softSnap = &resetImage{at: b.first + int64(i) + 1}
			m.softSnap.frames, m.softSnap.err = m.image(false)
		}
	}
	add = append(add, b.frames...)
	m.histPos = b.first + int64(len(b.frames))
	m.mu.Lock()
	for _, f := range add {
		m.cum += int64(len(f))
		m.log = append(m.log, logEntry{f: f, at: now, end: m.cum})
	}
	m.dirty = true
	close(m.grew)
	m.grew = make(chan struct{})
	snapReq := m.snapReq
	thumbPending := m.thumb.img == nil && !m.thumbWant.IsZero()
	m.mu.Unlock()
	if snapReq || thumbPending {
		m.poke() // serve: a first thumbnail may be waiting for the catch-up
	}
	m.serveResets()
}

// caughtUp reports whether every batch read has been applied and the
// source has nothing more right now (on Run). On a tick the source's
// backlog is not asked, so a session that is drawn on without pause
// still gets its first thumbnail within a second or so.
func (m *Mirror) caughtUp(tick bool) bool {
	return m.histPos >= m.fetched.Load() && (tick || m.backlog() == 0)
}

// backlog is how far the source is ahead of the mirror, if it can tell
// (session.Tap can).
func (m *Mirror) backlog() int64 {
	if b, ok := m.src.(interface{ Backlog() int64 }); ok {
		return b.Backlog()
	}
	return 0
}

// applyFrame feeds one history message to the ACL filter and the canvas.
func (m *Mirror) applyFrame(f protocol.Frame) {
	t := f.Type()
	if t < protocol.TypeJoin { // server commands and control messages
		return
	}
	msg, err := protocol.Decode(f, m.lay)
	if err != nil {
		m.opts.Logger.Debug("mirror: undecodable message", "type", t, "err", err)
		return
	}
	ctx := f.Ctx()
	if !m.acl.Allow(ctx, msg) {
		return
	}
	m.state.track(ctx, f, msg)
	if err := m.cv.Apply(ctx, msg); err != nil {
		m.opts.Logger.Debug("mirror: command failed", "type", t, "ctx", ctx, "err", err)
	}
}

// image builds a reset image of the current canvas: presence (Join,
// SessionOwner, TrustedUsers) if withPresence, then the canvas snapshot
// and the ACL state, all canvas and ACL messages with context id 0.
func (m *Mirror) image(withPresence bool) ([]protocol.Frame, error) {
	msgs, err := m.cv.Snapshot(m.opts.Compat)
	if err != nil {
		return nil, fmt.Errorf("mirror: snapshot: %w", err)
	}
	var out []protocol.Frame
	if withPresence {
		out = append(out, m.state.presence()...)
	}
	for _, msg := range msgs {
		f, err := protocol.EncodeFrame(0, msg, m.lay)
		if err != nil {
			return nil, fmt.Errorf("mirror: encode snapshot: %w", err)
		}
		out = append(out, f)
	}
	for _, msg := range m.state.aclMessages() {
		f, err := protocol.EncodeFrame(0, msg, m.lay)
		if err != nil {
			return nil, fmt.Errorf("mirror: encode acl: %w", err)
		}
		out = append(out, f)
	}
	return out, nil
}

// serve answers pending requests; periodic housekeeping when tick.
func (m *Mirror) serve(tick bool) {
	m.mu.Lock()
	wantSnap := m.snapReq
	m.snapReq = false
	var newest *snap
	if n := len(m.snaps); n > 0 {
		newest = m.snaps[n-1]
	}
	tail := m.cum
	if newest != nil {
		tail -= m.offsetLocked(newest.pos)
	} else {
		tail -= m.offsetLocked(m.logFirst)
	}
	wantThumb := m.dirty && time.Since(m.thumbWant) < m.opts.IdleTimeout.Abs()+time.Minute &&
		(m.thumb.img == nil || time.Since(m.thumbAt) >= m.opts.ThumbnailInterval)
	firstThumb := m.thumb.img == nil
	nViewers := len(m.viewers)
	m.mu.Unlock()
	if wantThumb && firstThumb && !m.caughtUp(tick) {
		// The first thumbnail shows the whole history, not an empty or
		// half-replayed canvas; apply pokes until the mirror caught up.
		wantThumb = false
	}

	if tick && tail > 8*m.opts.SnapshotTail && (newest == nil || time.Since(newest.at) >= 2*time.Second) {
		wantSnap = true
	}
	if wantSnap && m.backlog() > m.opts.SnapshotTail {
		// Still replaying a long history: a snapshot now would make the
		// viewer stream the rest; take it once caught up (apply pokes).
		m.mu.Lock()
		m.snapReq = true
		m.mu.Unlock()
		wantSnap = false
	}
	if wantSnap {
		m.takeSnapshot()
	}
	if wantThumb {
		m.makeThumbnail()
	}
	if tick {
		m.trim()
		if nViewers != m.lastSeen && m.opts.OnViewers != nil {
			m.opts.OnViewers(nViewers)
		}
		m.lastSeen = nViewers
	}
	m.serveResets()
}

// takeSnapshot adds a viewer snapshot at the current log position.
func (m *Mirror) takeSnapshot() {
	img, err := m.image(true)
	if err != nil {
		m.opts.Logger.Error("mirror: cannot build a viewer snapshot", "err", err)
		return
	}
	frames := make([]protocol.Frame, 0, len(img)+2)
	frames = append(frames, jsonFrame(protocol.CatchUp{Type: protocol.ReplyCatchUp, Count: len(img) + 1, Key: viewerKey}))
	frames = append(frames, img...)
	frames = append(frames, jsonFrame(protocol.CaughtUp{Type: protocol.ReplyCaughtUp, Key: viewerKey}))
	var n int64
	for _, f := range frames {
		n += int64(len(f))
	}
	m.mu.Lock()
	m.snaps = append(m.snaps, &snap{pos: m.logFirst + int64(len(m.log)), at: time.Now(), frames: frames, bytes: n})
	close(m.snapMade)
	m.snapMade = make(chan struct{})
	m.mu.Unlock()
}

// trim forgets snapshots older than needed and log entries no viewer and
// no kept snapshot needs.
func (m *Mirror) trim() {
	m.mu.Lock()
	defer m.mu.Unlock()
	cut := time.Now().Add(-m.opts.MaxDelay)
	// Keep the newest snapshot older than cut and everything after it.
	keep := 0
	for i, s := range m.snaps {
		if !s.at.After(cut) {
			keep = i
		}
	}
	if keep > 0 {
		clear(m.snaps[:keep])
		m.snaps = m.snaps[keep:]
	}
	minPos := m.logFirst + int64(len(m.log))
	if len(m.snaps) > 0 {
		minPos = min(minPos, m.snaps[0].pos)
	}
	for v := range m.viewers {
		if v.snap != nil {
			minPos = min(minPos, v.snap.pos)
		} else {
			minPos = min(minPos, v.cursor)
		}
	}
	if n := minPos - m.logFirst; n > 0 {
		clear(m.log[:n])
		m.log = m.log[n:]
		m.logFirst = minPos
		if len(m.log) == 0 {
			m.log = nil
		}
	}
}

// offsetLocked is the cumulative byte offset before log position pos.
func (m *Mirror) offsetLocked(pos int64) int64 {
	i := pos - m.logFirst
	switch {
	case len(m.log) == 0 || i >= int64(len(m.log)):
		return m.cum
	case i <= 0:
		return m.log[0].end - int64(len(m.log[0].f))
	}
	return m.log[i-1].end
}

// RequestResetImage implements session.ResetImager: the reset image for
// history index at (right after a SoftReset marker) is delivered to
// Options.ResetSink. It never blocks.
func (m *Mirror) RequestResetImage(at int64) {
	m.mu.Lock()
	m.resetReqs = append(m.resetReqs, at)
	m.mu.Unlock()
	m.poke()
}

func (m *Mirror) poke() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// serveResets answers the server-reset requests whose marker was applied.
func (m *Mirror) serveResets() {
	m.mu.Lock()
	m.pendingR = append(m.pendingR, m.resetReqs...)
	m.resetReqs = nil
	m.mu.Unlock()
	sink := m.opts.ResetSink
	if sink == nil {
		m.pendingR = nil
		return
	}
	kept := m.pendingR[:0]
	for _, at := range m.pendingR {
		switch {
		case m.softSnap != nil && m.softSnap.at == at:
			if m.softSnap.err != nil {
				sink.AbortServerReset(at, m.softSnap.err.Error())
			} else if err := sink.CompleteServerReset(at, m.softSnap.frames); err != nil {
				m.opts.Logger.Info("server-side reset not installed", "err", err)
			}
		case at <= m.histPos:
			sink.AbortServerReset(at, "marker not seen by the mirror")
		default:
			kept = append(kept, at)
		}
	}
	m.pendingR = kept
}

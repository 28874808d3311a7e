package session

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
	"weak"

	"drawbridge/protocol"
)

// This file holds the read-only side of a session for spectators and the
// server-side canvas mirror (internal/mirror): history taps, the viewer
// count, the spectator ("watch") secret and the server-side reset hooks.
//
// A Tap is a cursor into the session history with the same semantics as a
// client's writer: lossless, in order, never skipping; a tap that falls
// more than Settings.MaxLag bytes behind is closed (TapLagError) instead of
// slowing the session down. A tap takes no user slot, gets no Join/Leave,
// is not in the user list and receives no direct messages.
//
// The per-session state of this file lives in a side table (tapState)
// keyed by a weak pointer to the Session, so that the Session struct does
// not need new fields; its fields are guarded by the session's mu. Lock
// order: Session.mu before tapRegistry.mu (the registry lock is only held
// to look up or create an entry, never while calling out).

// ErrTapClosed is returned by Tap.Next once the tap is closed or its
// session has ended.
var ErrTapClosed = errors.New("session: tap closed")

// ErrNoResetImager is returned by StartServerReset when no ResetImager is
// registered for the session.
var ErrNoResetImager = errors.New("session: no reset imager registered")

// TapLagError reports that a tap fell too far behind and was closed.
type TapLagError struct {
	// Lag is how many bytes of history the tap was behind.
	Lag int64
}

func (e *TapLagError) Error() string {
	return fmt.Sprintf("session: tap lagging %d bytes behind", e.Lag)
}

// Tap is a read-only subscription to a session's history. Its methods
// may be called from one goroutine at a time (the consumer); Close and
// SetViewers may be called from any goroutine.
type Tap struct {
	s *Session // immutable

	// Guarded by s.mu.
	cursor    int64 // next history index to deliver
	genBase   int64 // history generation the cursor belongs to
	startID   int64
	last      *byte // first byte of the last delivered frame (identity, for the continuity check)
	joinBytes int64 // s.cumBytes when the tap was created (lag base)
	viewers   int
	closed    bool
}

// tapState is the per-session state of this file, guarded by the
// session's mu.
type tapState struct {
	taps        map[*Tap]struct{}
	watchSecret string
	// watchGone is closed (and replaced) when watchSecret is rotated; nil
	// until someone waits on it.
	watchGone chan struct{}
	imager    ResetImager
	pending   *serverReset
}

// serverReset is a server-side reset waiting for its image.
type serverReset struct {
	at     int64            // history index right after the SoftReset marker
	prefix []protocol.Frame // server state (Join, SessionOwner, TrustedUsers) at the marker
}

var tapRegistry struct {
	mu sync.Mutex
	m  map[weak.Pointer[Session]]*tapState
}

// tapStateLocked returns s's tap state, creating it if needed. The entry
// is removed when the Session is garbage collected.
func (s *Session) tapStateLocked() *tapState {
	key := weak.Make(s)
	tapRegistry.mu.Lock()
	defer tapRegistry.mu.Unlock()
	if tapRegistry.m == nil {
		tapRegistry.m = map[weak.Pointer[Session]]*tapState{}
	}
	ts := tapRegistry.m[key]
	if ts == nil {
		ts = &tapState{taps: map[*Tap]struct{}{}}
		tapRegistry.m[key] = ts
		runtimeAddCleanup(s, key)
	}
	return ts
}

// Tap subscribes to the session's history from the start of the current
// generation (everything since the last reset). The caller must Close it.
func (s *Session) Tap() (*Tap, error) {
	s.lock()
	defer s.mu.Unlock()
	if s.state == StateShutdown {
		return nil, ErrTapClosed
	}
	t := &Tap{s: s, cursor: s.first, genBase: s.genBase, startID: s.startID, joinBytes: s.cumBytes}
	s.tapStateLocked().taps[t] = struct{}{}
	return t, nil
}

// Session returns the tapped session.
func (t *Tap) Session() *Session { return t.s }

// Close ends the subscription; a blocked Next returns ErrTapClosed.
// Idempotent.
func (t *Tap) Close() {
	s := t.s
	s.lock()
	defer s.mu.Unlock()
	if t.closed {
		return
	}
	t.closed = true
	delete(s.tapStateLocked().taps, t)
	// Wake a Next blocked on this session.
	close(s.grew)
	s.grew = make(chan struct{})
}

// SetViewers sets how many spectators this tap feeds (reported by
// Session.Viewers).
func (t *Tap) SetViewers(n int) {
	s := t.s
	s.lock()
	defer s.mu.Unlock()
	t.viewers = max(n, 0)
}

// Viewers returns the number of spectators of the session: the sum over
// its taps.
func (s *Session) Viewers() int {
	s.lock()
	defer s.mu.Unlock()
	return s.viewersLocked()
}

// viewersLocked is Viewers with s.mu held (for descLocked).
func (s *Session) viewersLocked() int {
	n := 0
	for t := range s.tapStateLocked().taps {
		n += t.viewers
	}
	return n
}

// Next blocks until history is available and returns the next batch
// (appended to buf[:0]), the history index of its first frame, and
// whether the history was replaced since the previous batch (reset): then
// the consumer must discard what it built so far, the batch starts the new
// generation from its first message. Frames are shared and immutable: do
// not modify them. Next returns ErrTapClosed when the tap is closed or the
// session ends, *TapLagError when the tap lagged too far behind (it is then
// closed), or ctx's error.
func (t *Tap) Next(ctx context.Context, buf []protocol.Frame) (frames []protocol.Frame, first int64, reset bool, err error) {
	s := t.s
	frames = buf[:0]
	for {
		s.lock()
		if t.closed || s.state == StateShutdown {
			s.mu.Unlock()
			return frames, 0, false, ErrTapClosed
		}
		grew := s.grew
		if s.state != StateInit { // held during initialization like a joiner
			if s.genBase != t.genBase || s.startID != t.startID {
				reset = !t.continuousLocked() || reset
				t.genBase, t.startID = s.genBase, s.startID
			}
			if t.cursor < s.first {
				t.cursor = s.first
			}
			if t.cursor < s.memFirst && s.cachedBlockLocked(t.cursor) == nil {
				// History kept only in the file (a restored or trimmed
				// file-backed session): read its block like a joiner's
				// writer does, without s.mu during the read, then start
				// over since the state may have changed.
				err := s.loadBlockUnlocked(t.cursor)
				if err != nil {
					t.closed = true
					delete(s.tapStateLocked().taps, t)
					s.mu.Unlock()
					return frames, 0, false, fmt.Errorf("session: history unavailable: %w", err)
				}
				s.mu.Unlock()
				continue
			}
			end := s.endLocked()
			if lag := s.cumBytes - max(s.offsetLocked(t.cursor), t.joinBytes); lag > s.srv.settings().MaxLag && t.cursor < end {
				t.closed = true
				delete(s.tapStateLocked().taps, t)
				s.mu.Unlock()
				return frames, 0, false, &TapLagError{Lag: lag}
			}
			first = t.cursor
			bytes, maxBytes := 0, max(s.srv.settings().BatchBytes, 64*1024)
			for t.cursor < end && bytes < maxBytes {
				var f protocol.Frame
				if t.cursor < s.memFirst {
					b := s.cachedBlockLocked(t.cursor)
					if b == nil {
						break // the next block: read on the next round
					}
					f = b.frames[t.cursor-b.first]
				} else {
					f = s.hist[t.cursor-s.memFirst].f
				}
				frames = append(frames, f)
				bytes += len(f)
				t.cursor++
			}
			if len(frames) > 0 {
				t.last = &frames[len(frames)-1][0]
				if s.stream != nil && s.stream.ready {
					s.trySwapLocked()
				}
				s.mu.Unlock()
				return frames, first, reset, nil
			}
			if t.cursor < s.memFirst {
				s.mu.Unlock()
				continue // its block was evicted meanwhile: read it again
			}
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return frames, 0, false, ctx.Err()
		case <-grew:
		}
	}
}

// continuousLocked reports whether the history replacement that just
// happened kept the tap's position: the last frame it delivered is still
// in the history just before its cursor (a streamed or server-side reset
// whose marker the tap had already passed). Otherwise the tap restarts
// from the new generation's first message.
func (t *Tap) continuousLocked() bool {
	s := t.s
	i := t.cursor - 1 - s.memFirst // frames only in the file count as discontinuous
	if t.last == nil || i < 0 || i >= int64(len(s.hist)) {
		t.cursor = s.first
		return false
	}
	if &s.hist[i].f[0] != t.last {
		t.cursor = s.first
		return false
	}
	return true
}

// WatchSecret returns the session's spectator secret: 12 random
// characters, created on first use, unrelated to the session id, alias,
// room code and invites, and accepted only by Server.LookupWatch (never by
// lookup or join). A file-backed session journals it (record WATCHSECRET),
// so it survives a restart; otherwise it lives as long as the Session.
func (s *Session) WatchSecret() string {
	s.lock()
	defer s.mu.Unlock()
	return s.watchSecretLocked()
}

// watchSecretLocked is WatchSecret with s.mu held.
func (s *Session) watchSecretLocked() string {
	ts := s.tapStateLocked()
	if s.loadWatchSecretLocked(ts) == "" {
		s.setWatchSecretLocked(ts, newWatchSecret())
	}
	return ts.watchSecret
}

// loadWatchSecretLocked returns the secret, reading a journaled one of a
// restored session into ts first ("" = none yet).
func (s *Session) loadWatchSecretLocked(ts *tapState) string {
	if ts.watchSecret == "" && s.file != nil {
		ts.watchSecret = s.file.WatchSecret()
	}
	return ts.watchSecret
}

// setWatchSecretLocked replaces the secret and journals it. A journal
// failure is logged: the secret then works until the next restart.
func (s *Session) setWatchSecretLocked(ts *tapState, secret string) {
	ts.watchSecret = secret
	if s.file != nil && s.state != StateShutdown {
		if err := s.file.SetWatchSecret(secret); err != nil {
			s.logger.Error("session journal: cannot record the spectator secret", "err", err)
		}
	}
}

// RotateWatchSecret replaces the spectator secret with a new random one
// and returns it. Links with the old secret stop working at once, and
// spectators connected with it are disconnected (WatchRevoked).
func (s *Session) RotateWatchSecret() string {
	s.lock()
	defer s.mu.Unlock()
	return s.rotateWatchSecretLocked(nil)
}

// rotateWatchSecretLocked is RotateWatchSecret with s.mu held; by is the
// operator who asked (nil: the admin API).
func (s *Session) rotateWatchSecretLocked(by *Client) string {
	ts := s.tapStateLocked()
	old := s.loadWatchSecretLocked(ts)
	secret := newWatchSecret()
	for secret == old {
		secret = newWatchSecret()
	}
	s.setWatchSecretLocked(ts, secret)
	if ts.watchGone != nil {
		close(ts.watchGone)
		ts.watchGone = nil
	}
	s.logLocked("Status", "Spectator link changed", by)
	return secret
}

// WatchRevoked returns a channel that is closed once secret is no longer
// the session's spectator secret (already closed if it is not now).
func (s *Session) WatchRevoked(secret string) <-chan struct{} {
	s.lock()
	defer s.mu.Unlock()
	ts := s.tapStateLocked()
	if cur := s.loadWatchSecretLocked(ts); cur == "" || subtle.ConstantTimeCompare([]byte(cur), []byte(secret)) != 1 {
		c := make(chan struct{})
		close(c)
		return c
	}
	if ts.watchGone == nil {
		ts.watchGone = make(chan struct{})
	}
	return ts.watchGone
}

// SpectatorLink is the reply to the spectator-link command (a Drawbridge
// extension: Drawpile clients never send the command and ignore unknown
// reply types). Paths are relative to the bridge's HTTP origin.
type SpectatorLink struct {
	Type    string `json:"type"` // "spectatorlink"
	Secret  string `json:"secret"`
	Watch   string `json:"watch"`   // /watch/SECRET
	Embed   string `json:"embed"`   // /embed/SECRET (options go in the query)
	Rotated bool   `json:"rotated"` // the secret was just replaced
}

// spectatorLinkLocked answers spectator-link [rotate=true] to the asking
// operator only.
func (s *Session) spectatorLinkLocked(c *Client, cmd protocol.Command) {
	rotate, _ := cmd.KwBool("rotate")
	var secret string
	if rotate {
		secret = s.rotateWatchSecretLocked(c)
	} else {
		secret = s.watchSecretLocked()
	}
	c.sendNow(jsonFrame(SpectatorLink{Type: "spectatorlink", Secret: secret,
		Watch: "/watch/" + secret, Embed: "/embed/" + secret, Rotated: rotate}))
}

// watchAlphabet avoids look-alike characters; 12 characters of 32
// symbols are 60 bits.
const watchAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"

func newWatchSecret() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	for i := range b {
		b[i] = watchAlphabet[int(b[i])%len(watchAlphabet)]
	}
	return string(b[:])
}

// LookupWatch returns the live session whose spectator secret is secret,
// or nil.
func (srv *Server) LookupWatch(secret string) *Session {
	if len(secret) != 12 {
		return nil
	}
	for _, s := range srv.Sessions() {
		s.lock()
		ws := s.loadWatchSecretLocked(s.tapStateLocked())
		shut := s.state == StateShutdown
		s.mu.Unlock()
		if ws != "" && !shut && subtle.ConstantTimeCompare([]byte(ws), []byte(secret)) == 1 {
			return s
		}
	}
	return nil
}

// Server-side reset.
//
// With a ResetImager registered (internal/mirror keeps a live canvas of
// the session), the session can compact its history without asking a
// client: StartServerReset appends SoftReset (ctx 0) at index P, records
// the server state (Join/SessionOwner/TrustedUsers) at that point and asks
// the imager for the canvas state after P. The imager answers with
// CompleteServerReset(P+1, image) from its own goroutine. The new history
// is then installed exactly like a finished streamed reset (§5.5): prefix +
// image + caughtup(key 0), followed by everything appended after the
// marker, once every member has been sent history beyond it. Clients are
// never interrupted; the SoftReset tells them to forget their undo history
// at the marker, which keeps old and new members in sync.

// ResetImager builds reset images for server-side resets.
type ResetImager interface {
	// RequestResetImage asks for the reset image of the canvas after
	// applying history up to (not including) index at; at-1 is the
	// SoftReset marker. It is called with the session locked: it must not
	// block nor call into the session. The answer comes later through
	// Session.CompleteServerReset or Session.AbortServerReset.
	RequestResetImage(at int64)
}

// SetResetImager registers (or, with nil, removes) the session's
// ResetImager.
func (s *Session) SetResetImager(r ResetImager) {
	s.lock()
	defer s.mu.Unlock()
	ts := s.tapStateLocked()
	ts.imager = r
	if r == nil {
		ts.pending = nil
	}
}

// StartServerReset starts a server-side reset now (the autoreset hook
// calls autoresetByServerLocked instead). It returns the index the image must
// be built at.
func (s *Session) StartServerReset() (int64, error) {
	s.lock()
	defer s.mu.Unlock()
	at, ok := s.serverResetLocked()
	if !ok {
		if s.tapStateLocked().imager == nil {
			return 0, ErrNoResetImager
		}
		return 0, errors.New("session: a reset is already in progress or the session is not running")
	}
	return at, nil
}

// autoresetByServerLocked is the hook for checkAutoresetLocked (called
// once the threshold is crossed): with a ResetImager registered it starts
// a server-side reset, or lets the pending one finish, and reports true,
// and the caller then asks no client. Without one it reports false.
func (s *Session) autoresetByServerLocked() bool {
	ts := s.tapStateLocked()
	if ts.imager == nil {
		return false
	}
	if ts.pending == nil {
		s.serverResetLocked()
	}
	return true
}

// serverResetLocked starts a server-side reset if one can start now.
func (s *Session) serverResetLocked() (int64, bool) {
	ts := s.tapStateLocked()
	if ts.imager == nil || ts.pending != nil || s.state != StateRunning || s.stream != nil || s.auto != nil {
		return 0, false
	}
	prefix := s.serverStateLocked()
	idx := s.appendLocked(mustFrame(typeSoftReset, 0, nil), nil)
	ts.pending = &serverReset{at: idx + 1, prefix: prefix}
	s.logLocked("Status", "Server-side reset started", nil)
	ts.imager.RequestResetImage(idx + 1)
	return idx + 1, true
}

// CompleteServerReset installs the reset image built for index at (see
// ResetImager). The image may hold only messages of types ≥ 64 and Chat;
// they are stored with context id 0.
func (s *Session) CompleteServerReset(at int64, image []protocol.Frame) error {
	s.lock()
	defer s.mu.Unlock()
	ts := s.tapStateLocked()
	p := ts.pending
	if p == nil || p.at != at {
		return errors.New("session: no server-side reset pending at this index")
	}
	ts.pending = nil
	if s.state != StateRunning || s.stream != nil || at-1 < s.first {
		s.nextAutoReset = time.Now().Add(autoresetRetry)
		return errors.New("session: server-side reset overtaken by another reset")
	}
	var size int64
	frames := make([]protocol.Frame, 0, len(p.prefix)+len(image)+1)
	frames = append(frames, p.prefix...)
	for _, f := range image {
		if !f.Type().IsOpaque() && f.Type() != typeChat {
			s.nextAutoReset = time.Now().Add(autoresetRetry)
			return fmt.Errorf("session: reset image contains message type %d", f.Type())
		}
		f = f.Clone()
		f.SetCtx(0)
		size += int64(len(f))
		frames = append(frames, f)
	}
	if lim := s.sizeLimitLocked(); lim > 0 && size > lim {
		s.nextAutoReset = time.Now().Add(autoresetRetry)
		return errors.New("session: reset image too large")
	}
	frames = append(frames, jsonFrame(protocol.CaughtUp{Type: protocol.ReplyCaughtUp, Key: 0}))
	s.stream = &streamReset{started: true, startIdx: at - 1, image: frames, ready: true}
	s.trySwapLocked()
	return nil
}

// AbortServerReset gives up the pending server-side reset (the imager
// failed); autoreset is retried after the usual back-off.
func (s *Session) AbortServerReset(at int64, why string) {
	s.lock()
	defer s.mu.Unlock()
	ts := s.tapStateLocked()
	if ts.pending == nil || ts.pending.at != at {
		return
	}
	ts.pending = nil
	s.nextAutoReset = time.Now().Add(autoresetRetry)
	s.logger.Info("server-side reset aborted", "reason", why)
}

// runtimeAddCleanup removes s's tap state once s is unreachable.
func runtimeAddCleanup(s *Session, key weak.Pointer[Session]) {
	runtime.AddCleanup(s, func(k weak.Pointer[Session]) {
		tapRegistry.mu.Lock()
		delete(tapRegistry.m, k)
		tapRegistry.mu.Unlock()
	}, key)
}

// Backlog returns how many bytes of history the tap has not delivered
// yet (0 when it is caught up).
func (t *Tap) Backlog() int64 {
	s := t.s
	s.lock()
	defer s.mu.Unlock()
	if t.cursor < s.first {
		return s.histBytes
	}
	if t.cursor < s.memFirst {
		// Offsets of history kept only in the file are not known
		// exactly: count it all (never 0, there is more to read).
		return max(s.cumBytes-s.offsetLocked(t.cursor), s.histBytes, 1)
	}
	return s.cumBytes - s.offsetLocked(t.cursor)
}

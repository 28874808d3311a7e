package session

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"drawbridge/protocol"
)

// resetBuffer collects a classic reset upload (§5.4).
type resetBuffer struct {
	frames []protocol.Frame
	bytes  int64
}

func (r *resetBuffer) add(f protocol.Frame) {
	r.frames = append(r.frames, f)
	r.bytes += int64(len(f))
}

// initCompleteLocked ends the initialization: the session runs and the
// messages of held users are appended.
func (s *Session) initCompleteLocked() {
	if s.state != StateInit {
		return
	}
	s.state = StateRunning
	s.initUser = nil
	held := s.held
	s.held = nil
	for _, f := range held {
		if lim := s.sizeLimitLocked(); lim > 0 && s.histBytes+int64(len(f)) > lim {
			s.outOfSpaceLocked()
			break
		}
		s.appendLocked(f, nil)
	}
	s.resetBase = 0
	// --record starts when the session runs.
	s.restartRecordingLocked()
	close(s.grew) // held writers re-check the state
	s.grew = make(chan struct{})
	s.logLocked("Status", "Session initialized with size "+humanSize(s.histBytes), nil)
	s.sendStatusLocked()
}

// humanSize formats bytes like Qt's formattedDataSize ("1.06 KiB").
func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.2f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// resetSessionLocked starts a classic reset (§5.4).
func (s *Session) resetSessionLocked(c *Client, cmd protocol.Command) {
	if c.old {
		c.cmdError("reset-session", "Minor-incompatible clients cannot reset")
		return
	}
	if s.state != StateRunning {
		c.cmdError("reset-session", "Session is not running")
		return
	}
	if s.stream != nil {
		s.abortStreamLocked("classic reset requested")
	}
	s.state = StateReset
	s.initUser = c
	s.reset = &resetBuffer{}
	s.sendAllLocked(jsonFrame(protocol.Notice{Type: protocol.ReplyAlert, Reset: "prepare", T: "resetprepare",
		Message: "Preparing for session reset! Please wait, the session should be available again shortly...",
		P:       map[string]any{"name": c.name}}))
	s.sendLocked(c, jsonFrame(protocol.ResetNotice{Type: protocol.ReplyReset, State: "init", Message: "Prepared to receive session data"}))
	s.logLocked("Status", "Reset initiated by "+c.name, c)
}

// cancelResetLocked aborts a classic reset.
func (s *Session) cancelResetLocked(t, msg string) {
	if s.state != StateReset {
		return
	}
	s.state = StateRunning
	s.initUser = nil
	s.reset = nil
	s.noticeLocked(protocol.ReplyAlert, t, msg, nil)
}

// serverStateLocked returns Join of each present user, SessionOwner and
// TrustedUsers: what a new history starts with.
func (s *Session) serverStateLocked() []protocol.Frame {
	ids := slices.Sorted(func(yield func(uint8) bool) {
		for id := range s.users {
			if !yield(id) {
				return
			}
		}
	})
	var out []protocol.Frame
	for _, id := range ids {
		u := s.users[id]
		if u.isGhost() {
			continue // ghosts have no Join message (§4.9)
		}
		out = append(out, joinFrame(id, u.joinFlags(), u.name, u.avatar))
	}
	out = append(out, userListFrame(typeSessionOwner, 0, s.opListLocked()))
	if t := s.trustedListLocked(); len(t) > 0 {
		out = append(out, userListFrame(typeTrustedUsers, 0, t))
	}
	return out
}

// replaceHistoryLocked installs a new history generation starting at
// index first.
func (s *Session) replaceHistoryLocked(first int64, frames []protocol.Frame, tail []entry) {
	var imageBytes int64
	for _, f := range frames {
		imageBytes += int64(len(f))
	}
	var tailStart int64 = s.cumBytes
	if len(tail) > 0 {
		tailStart = tail[0].end - int64(len(tail[0].f))
	}
	hist := make([]entry, 0, len(frames)+len(tail))
	off := tailStart - imageBytes
	for _, f := range frames {
		off += int64(len(f))
		hist = append(hist, entry{f: f, end: off})
	}
	hist = append(hist, tail...)
	s.hist = hist
	s.first = first
	s.memFirst = first
	s.genBase = first
	s.startID = time.Now().UnixMilli()
	s.histBytes = 0
	for _, e := range hist {
		s.histBytes += int64(len(e.f))
	}
	s.resetBase = imageBytes
	s.resetFileLocked()
	close(s.grew)
	s.grew = make(chan struct{})
}

// resetCompleteLocked installs the classic reset image.
func (s *Session) resetCompleteLocked() {
	frames := append(s.serverStateLocked(), s.reset.frames...)
	var size int64
	for _, f := range frames {
		size += int64(len(f))
	}
	if lim := s.sizeLimitLocked(); lim > 0 && size > lim {
		s.cancelResetLocked("resetfailed", "Session reset failed: the reset image is too large")
		return
	}
	oldEnd := s.endLocked()
	// Everyone gets the reset notice and the catch-up before the new
	// history (their cursors are all before oldEnd = the new first index).
	const key = 0 // resets use key 0 (§5.4)
	s.sendAllLocked(jsonFrame(protocol.ResetNotice{Type: protocol.ReplyReset, State: "reset", Message: "Session reset!"}))
	s.sendAllLocked(jsonFrame(protocol.CatchUp{Type: protocol.ReplyCatchUp, Count: len(frames), Key: key}))
	s.replaceHistoryLocked(oldEnd, frames, nil)
	s.state = StateRunning
	s.initUser = nil
	s.reset = nil
	s.sendStatusLocked()
	s.appendJSONLocked(protocol.CaughtUp{Type: protocol.ReplyCaughtUp, Key: key, HIdx: s.hidxLocked(s.endLocked())})
	s.appendConfigLocked()
	s.logLocked("Status", "Session reset with size "+humanSize(s.histBytes), nil)
}

// Autoreset (§5.5).

// autoresetRequest is a pending autoreset query.
type autoresetRequest struct {
	payload string
	asked   map[*Client]bool
	answers []autoresetAnswer
	timer   *time.Timer
}

type autoresetAnswer struct {
	c      *Client
	stream bool
	os     int // 2 desktop, 1 unknown, 0 mobile/browser
	net    float64
	ping   float64
	order  int
}

// streamReset is a streamed reset in progress.
type streamReset struct {
	user       *Client
	correlator string
	started    bool
	startIdx   int64 // history index of the sstart marker
	prefix     []protocol.Frame
	data       bytes.Buffer // the zlib stream received so far
	image      []protocol.Frame
	ready      bool // image complete, waiting for every client to pass startIdx
}

const (
	autoresetAnswerWindow = 3 * time.Second
	autoresetRetry        = 30 * time.Second
)

// thresholdLocked is the autoreset threshold (0 = disabled).
func (s *Session) thresholdLocked() int64 {
	if s.resetThreshold <= 0 {
		return 0
	}
	t := max(s.resetThreshold, s.srv.settings().MinimumAutoResetThreshold) + s.resetBase
	if lim := s.sizeLimitLocked(); lim > 0 {
		t = min(t, lim*9/10)
	}
	return t
}

// checkAutoresetLocked sends the autoreset query once the history passes
// the threshold.
func (s *Session) checkAutoresetLocked() {
	t := s.thresholdLocked()
	if t == 0 || s.histBytes <= t || s.state != StateRunning || s.auto != nil || s.stream != nil || time.Now().Before(s.nextAutoReset) {
		return
	}
	if s.autoresetByServerLocked() {
		return
	}
	maxSize := s.sizeLimitLocked()
	s.sendAllLocked(jsonFrame(protocol.SizeLimit{Type: protocol.ReplySizeLimit, Size: s.histBytes, MaxSize: t}))
	req := &autoresetRequest{
		payload: fmt.Sprintf("1:%d:%d", s.catchKey, time.Now().UnixMilli()),
		asked:   map[*Client]bool{},
	}
	q := jsonFrame(protocol.AutoReset{Type: protocol.ReplyAutoReset, MaxSize: maxSize, Query: true, Payload: req.payload})
	for _, u := range s.users {
		if u.op && !u.old && !u.isGhost() {
			req.asked[u] = true
			s.sendLocked(u, q)
		}
	}
	if len(req.asked) == 0 {
		s.nextAutoReset = time.Now().Add(autoresetRetry)
		return
	}
	s.auto = req
	req.timer = time.AfterFunc(autoresetAnswerWindow, func() {
		s.lock()
		defer s.mu.Unlock()
		if s.auto == req {
			s.chooseAutoresetLocked()
		}
	})
}

func (s *Session) readyToAutoresetLocked(c *Client, cmd protocol.Command) {
	req := s.auto
	if req == nil || !req.asked[c] {
		return
	}
	if p, ok := cmd.KwString("payload"); ok && p != req.payload {
		return
	}
	a := autoresetAnswer{c: c, os: 1, order: len(req.answers)}
	if raw, ok := cmd.Kwargs["capabilities"]; ok {
		a.stream = bytes.Contains(raw, []byte(`"gzip1"`))
	}
	if osName, ok := cmd.KwString("os"); ok {
		switch strings.ToLower(osName) {
		case "windows", "linux", "macos", "osx", "freebsd", "unix":
			a.os = 2
		case "android", "ios", "emscripten", "wasm", "browser":
			a.os = 0
		}
	}
	a.net, _ = cmd.KwFloat("net")
	var pings []float64
	if raw, ok := cmd.Kwargs["pings"]; ok {
		_ = json.Unmarshal(raw, &pings)
	}
	for _, p := range pings {
		a.ping += p
	}
	if len(pings) > 0 {
		a.ping /= float64(len(pings))
	}
	req.answers = append(req.answers, a)
	delete(req.asked, c)
	if len(req.asked) == 0 {
		s.chooseAutoresetLocked()
	}
}

// chooseAutoresetLocked ranks the answers and asks the winner to reset.
func (s *Session) chooseAutoresetLocked() {
	req := s.auto
	s.auto = nil
	if req.timer != nil {
		req.timer.Stop()
	}
	var cands []autoresetAnswer
	for _, a := range req.answers {
		if s.users[a.c.id] == a.c && a.c.op {
			cands = append(cands, a)
		}
	}
	if len(cands) == 0 || s.state != StateRunning {
		s.nextAutoReset = time.Now().Add(autoresetRetry)
		return
	}
	slices.SortStableFunc(cands, func(a, b autoresetAnswer) int {
		switch {
		case a.stream != b.stream:
			return ternaryInt(a.stream, -1, 1)
		case a.os != b.os:
			return b.os - a.os
		case a.net != b.net:
			return ternaryInt(a.net > b.net, -1, 1)
		case a.ping != b.ping:
			return ternaryInt(a.ping < b.ping, -1, 1)
		}
		return a.order - b.order
	})
	w := cands[0]
	maxSize := s.sizeLimitLocked()
	if w.stream {
		s.stream = &streamReset{user: w.c, correlator: req.payload}
		s.sendLocked(w.c, jsonFrame(protocol.AutoReset{Type: protocol.ReplyAutoReset, MaxSize: maxSize, Correlator: req.payload, Stream: "gzip1"}))
	} else {
		s.nextAutoReset = time.Now().Add(autoresetRetry)
		s.sendLocked(w.c, jsonFrame(protocol.AutoReset{Type: protocol.ReplyAutoReset, MaxSize: maxSize}))
	}
}

func ternaryInt(b bool, yes, no int) int {
	if b {
		return yes
	}
	return no
}

func (s *Session) streamStartLocked(c *Client, cmd protocol.Command) {
	corr, _ := cmd.StringArg(0)
	st := s.stream
	if st == nil || st.user != c || st.started || corr != st.correlator || s.state != StateRunning {
		c.cmdError("stream-reset-start", "No streamed reset pending")
		return
	}
	st.started = true
	st.prefix = s.serverStateLocked()
	s.appendLocked(mustFrame(typeSoftReset, 0, nil), nil)
	f := jsonFrame(protocol.SStart{Type: protocol.ReplySStart, Correlator: corr})
	f.SetCtx(c.id)
	st.startIdx = s.appendLocked(f, nil)
	s.logLocked("Status", "Streamed reset started", c)
}

// receiveResetStream handles a ResetStream chunk.
func (s *Session) receiveResetStream(c *Client, f protocol.Frame) {
	s.lock()
	defer s.mu.Unlock()
	st := s.stream
	if st == nil || st.user != c || !st.started || st.ready {
		return
	}
	st.data.Write(f.Payload())
	cancel := false
	if lim := s.sizeLimitLocked(); lim > 0 && int64(st.data.Len()) > lim {
		cancel = true
		s.abortStreamLocked("reset stream too large")
	}
	s.sendLocked(c, jsonFrame(protocol.SProgress{Type: protocol.ReplySProgress, Cancel: cancel}))
}

var errStreamCount = errors.New("message count mismatch")

func (s *Session) streamFinishLocked(c *Client, cmd protocol.Command) {
	st := s.stream
	if st == nil || st.user != c || !st.started || st.ready {
		c.cmdError("stream-reset-finish", "No streamed reset in progress")
		return
	}
	count, _ := cmd.IntArg(0)
	frames, err := s.decodeResetStreamLocked(st, c.id, count)
	if err != nil {
		s.abortStreamLocked(err.Error())
		c.cmdError("stream-reset-finish", err.Error())
		return
	}
	st.image = append(st.prefix, frames...)
	st.image = append(st.image, jsonFrame(protocol.CaughtUp{Type: protocol.ReplyCaughtUp, Key: 0}))
	st.ready = true
	st.data = bytes.Buffer{}
	s.trySwapLocked()
}

// decodeResetStreamLocked inflates the zlib stream of 4-byte-framed
// messages; only types ≥ 64 and Chat are allowed; ctx becomes the
// resetter's.
func (s *Session) decodeResetStreamLocked(st *streamReset, ctx uint8, count int64) ([]protocol.Frame, error) {
	zr, err := zlib.NewReader(bytes.NewReader(st.data.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("bad reset stream: %w", err)
	}
	limit := s.sizeLimitLocked()
	if limit <= 0 {
		limit = 1 << 40
	}
	r := protocol.NewReader(io.LimitReader(zr, limit+1))
	var frames []protocol.Frame
	var total int64
	for {
		f, err := r.ReadFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("bad reset stream: %w", err)
		}
		if !f.Type().IsOpaque() && f.Type() != typeChat {
			return nil, fmt.Errorf("reset stream contains message type %d", f.Type())
		}
		f = f.Clone()
		f.SetCtx(ctx)
		total += int64(len(f))
		if total > limit {
			return nil, errors.New("reset image too large")
		}
		frames = append(frames, f)
	}
	if int64(len(frames)) != count {
		return nil, fmt.Errorf("%w: got %d, expected %d", errStreamCount, len(frames), count)
	}
	return frames, nil
}

// trySwapLocked installs a finished streamed reset once every member has
// been sent history beyond the sstart marker.
func (s *Session) trySwapLocked() {
	st := s.stream
	if st == nil || !st.ready {
		return
	}
	for _, u := range s.users {
		if u.cursor <= st.startIdx+1 {
			return
		}
	}
	tail := slices.Clone(s.hist[st.startIdx+1-s.memFirst:]) // no trimming during a streamed reset
	first := st.startIdx + 1 - int64(len(st.image))
	s.replaceHistoryLocked(first, st.image, tail)
	s.stream = nil
	s.logLocked("Status", "Streamed reset completed with size "+humanSize(s.histBytes), nil)
}

func (s *Session) abortStreamLocked(why string) {
	if s.stream == nil {
		return
	}
	s.logger.Info("streamed reset aborted", "reason", why)
	s.stream = nil
	s.nextAutoReset = time.Now().Add(autoresetRetry)
}

package session

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"drawbridge/internal/auth"
	"drawbridge/internal/store/sessionfile"
	"drawbridge/protocol"
)

// State is a session's lifecycle state (§5.3).
type State int

const (
	// StateInit: the host uploads the initial canvas; others are held.
	StateInit State = iota
	// StateRunning: normal operation.
	StateRunning
	// StateReset: a classic reset is being uploaded.
	StateReset
	// StateShutdown: the session has ended.
	StateShutdown
)

func (s State) String() string {
	return [...]string{"init", "running", "reset", "shutdown"}[s]
}

// entry is one history message. Frames are immutable once appended.
type entry struct {
	f    protocol.Frame
	skip *Client // this client does not get the entry (its own init upload)
	end  int64   // cumulative byte offset after this entry (for lag)
}

// Session is one drawing session.
type Session struct {
	srv *Server
	// Immutable after creation.
	id, alias, code string
	founder         string
	protocol        string
	startTime       time.Time
	logger          *slog.Logger

	mu sync.Mutex // guards everything below; take it with lock()

	// secBarrier is the history barrier shared by the direct messages
	// queued in the current critical section (-1: none yet), see
	// barrierLocked.
	secBarrier int64

	state State
	// History: hist[i] has index first+i. Indexes grow monotonically across
	// resets; genBase is the index hidx positions count from and startID
	// the generation's id (reset time in ms).
	hist       []entry
	first      int64
	genBase    int64
	startID    int64
	histBytes  int64         // bytes of the current history (size limit)
	cumBytes   int64         // bytes ever appended (lag accounting)
	lagCheckAt int64         // cumBytes at which checkLagLocked runs next
	resetBase  int64         // history size right after the last reset
	grew       chan struct{} // closed and replaced on every append

	// file is the session's on-disk history and journal (nil for an
	// in-memory session). Set before the session is registered, then
	// immutable; its methods are safe for concurrent use. See persist.go
	// for the ordering guarantee.
	file *sessionfile.File
	rec  *sessionRecorder // --record recording, or nil
	// A file-backed session keeps in memory only the history from index
	// memFirst on (hist[0] has index memFirst; first <= memFirst); older
	// messages are read back from the file on demand (persist.go). For
	// in-memory sessions memFirst == first always.
	memFirst   int64
	trimAt     int64         // cumBytes at which trimLocked runs next
	fileGen    int64         // bumped when the recording is replaced
	noTrim     bool          // file and memory diverged: keep everything in memory
	blockCache []cachedBlock // recently read history blocks

	users    map[uint8]*Client
	initUser *Client          // host during StateInit, resetter during StateReset
	held     []protocol.Frame // messages of held users during StateInit
	nameIDs  map[string]uint8 // lower-case name → last id (id reuse)
	// authOps and authTrusted remember, by auth id, registered users who
	// were operators or trusted, so they get that status back when they
	// rejoin (as drawpile-srv; journaled as OP/TRUST records).
	authOps, authTrusted map[string]bool
	// authNames is the last display name of every registered user seen in
	// the session (by auth id; journaled as AUTHNAME) and authOrder its ids
	// in first-seen order: the operators' auth list (authListFrameLocked).
	authNames map[string]string
	authOrder []string
	freedIDs  []uint8           // recently freed ids, reused last
	reset     *resetBuffer      // classic reset upload (StateReset)
	stream    *streamReset      // streamed reset in progress
	auto      *autoresetRequest // pending autoreset query

	title          string
	autotitle      bool
	maxUsers       int
	passwordHash   []byte
	password       string // plain, for passwordchange notices to ops
	opwordHash     []byte
	authOnly       bool
	persistent     bool
	preserveChat   bool
	nsfm           bool
	deputies       bool
	allowWeb       bool
	idleOverride   bool
	invitesOn      bool
	unlisted       bool
	resetThreshold int64
	overrideSize   int64

	bans          []sessionBan
	nextBanID     int
	invites       map[string]*invite
	catchKey      int
	logRing       []logEntry // session log entries, replayed to joiners (filtered by role)
	joinSeq       uint64     // members entered so far (Client.joinSeq, ensureOperatorLocked)
	lastOOS       time.Time  // last outofspace notice
	lastEvent     time.Time  // last history append
	lastStatus    time.Time
	nextAutoReset time.Time // no autoreset query before this
	lastActive    map[uint8]time.Time
}

type sessionBan struct {
	ID     int
	Name   string
	AuthID string
	SID    string
	Addr   string
	By     string
}

type invite struct {
	Secret    string
	Creator   string
	MaxUses   int
	Uses      []string
	Trust, Op bool
	At        time.Time
}

// ID returns the session's ULID.
func (s *Session) ID() string { return s.id }

// Alias returns the session's alias ("" if none).
func (s *Session) Alias() string { return s.alias }

// Code returns the session's room code.
func (s *Session) Code() string { return s.code }

// idOrAlias is what the join result's "id" says.
func (s *Session) idOrAlias() string {
	if s.alias != "" {
		return s.alias
	}
	return s.id
}

// hidxLocked formats the history index of position idx.
func (s *Session) hidxLocked(idx int64) string {
	return fmt.Sprintf("%d:%d:%s", s.startID, idx-s.genBase, s.id)
}

func (s *Session) endLocked() int64 { return s.memFirst + int64(len(s.hist)) }

func (s *Session) sizeLimitLocked() int64 {
	if s.overrideSize > 0 {
		return s.overrideSize
	}
	return s.srv.settings().SessionSizeLimit
}

// appendLocked adds f to the history and wakes every writer.
//
// With a session file, f is written to it first (persistLocked): a message
// that cannot be written is dropped and never reaches any client.
func (s *Session) appendLocked(f protocol.Frame, skip *Client) int64 {
	idx := s.endLocked()
	if !s.persistLocked(f) {
		return idx
	}
	s.cumBytes += int64(len(f))
	s.histBytes += int64(len(f))
	s.hist = append(s.hist, entry{f: f, skip: skip, end: s.cumBytes})
	close(s.grew)
	s.grew = make(chan struct{})
	s.lastEvent = time.Now()
	if s.cumBytes >= s.lagCheckAt {
		s.checkLagLocked()
	}
	if s.file != nil && s.cumBytes >= s.trimAt {
		s.trimLocked()
	}
	return idx
}

// checkLagLocked disconnects members that are more than MaxLag bytes
// behind, without waiting for their (possibly blocked) writers. It runs
// every MaxLag/8 appended bytes, so its cost per message is O(1) amortized.
// The kick itself runs on its own goroutine because Client.fail takes
// s.mu and calls into the Conn.
func (s *Session) checkLagLocked() {
	maxLag := s.srv.settings().MaxLag
	s.lagCheckAt = s.cumBytes + max(maxLag/8, 4096)
	for _, c := range s.users {
		if c.lagKicked || (c == s.initUser && (s.state == StateInit || s.state == StateReset)) {
			continue
		}
		if lag := s.cumBytes - max(s.offsetLocked(c.cursor), c.joinBytes); lag > maxLag {
			c.lagKicked = true
			go c.fail(CloseSlow, fmt.Sprintf("lagging %d bytes behind", lag))
		}
	}
}

// appendServerMeta appends Join/Leave/SessionOwner/TrustedUsers, which may
// use the 1 MiB emergency space beyond the size limit.
func (s *Session) appendServerMetaLocked(f protocol.Frame) bool {
	if lim := s.sizeLimitLocked(); lim > 0 && s.histBytes+int64(len(f)) > lim+emergencySpace {
		if f.Type() != typeJoin || f.PayloadLen() <= 2+int(f.Payload()[1]) {
			s.outOfSpaceLocked()
			return false
		}
		p := f.Payload()
		f = joinFrame(f.Ctx(), p[0], string(p[2:2+int(p[1])]), nil) // drop the avatar
		if s.histBytes+int64(len(f)) > lim+emergencySpace {
			s.outOfSpaceLocked()
			return false
		}
	}
	s.syncJournalLocked() // membership changes touch the journal (USER, OP, …)
	s.appendLocked(f, nil)
	return true
}

// emergencySpace is the extra room for server meta messages (§5.2).
const emergencySpace = 1 << 20

// appendJSONLocked appends a server JSON message to the history.
func (s *Session) appendJSONLocked(v any) int64 {
	return s.appendLocked(jsonFrame(v), nil)
}

// fetch copies the next batch of history for c's writer, up to index
// limit. jump reports that c is catching up (or held), so that all its
// direct messages may go ahead of history. kick is non-empty when c lags
// too far behind.
//
// c.cursor is written only here (under s.mu, on c's writer goroutine) and at
// join time before c.sess is set; cur returns its new value so the writer
// never reads it without the lock.
func (s *Session) fetch(c *Client, batch []protocol.Frame, limit int64) (_ []protocol.Frame, grew <-chan struct{}, jump bool, cur int64, kick string) {
	s.lock()
	defer s.mu.Unlock()
	grew = s.grew
	if s.state == StateShutdown {
		return batch, grew, true, c.cursor, ""
	}
	if s.state == StateInit && c != s.initUser {
		return batch, grew, true, c.cursor, "" // held until the session runs
	}
	if c.cursor < s.first {
		c.cursor = s.first
	}
	catchingUp := c.cursor <= c.catchupMark
	if catchingUp && limit != 1<<63-1 {
		return batch, grew, true, c.cursor, "" // direct messages first
	}
	if c.cursor < s.memFirst && s.cachedBlockLocked(c.cursor) == nil {
		// Older history is read from the file, without holding s.mu
		// during the read (persist.go); the state may change meanwhile.
		if err := s.loadBlockUnlocked(c.cursor); err != nil {
			return batch, grew, false, c.cursor, "history unavailable: " + err.Error()
		}
		grew = s.grew
		if s.state == StateShutdown {
			return batch, grew, true, c.cursor, ""
		}
		if c.cursor < s.first {
			c.cursor = s.first
		}
		catchingUp = c.cursor <= c.catchupMark
	}
	end := s.endLocked()
	for c.cursor < end && c.cursor >= s.memFirst && s.hist[c.cursor-s.memFirst].skip == c {
		c.cursor++ // its own upload: nothing to send, and no lag
	}
	if lag := s.cumBytes - max(s.offsetLocked(c.cursor), c.joinBytes); lag > s.srv.settings().MaxLag && c.cursor < end {
		return batch, grew, false, c.cursor, fmt.Sprintf("lagging %d bytes behind", lag)
	}
	if limit > end {
		limit = end
	}
	bytes, maxBytes := 0, s.srv.settings().BatchBytes
	n0 := len(batch)
	for c.cursor < limit && bytes < maxBytes {
		if c.cursor < s.memFirst {
			b := s.cachedBlockLocked(c.cursor)
			if b == nil {
				break // the next block: read by the next fetch
			}
			f := b.frames[c.cursor-b.first]
			c.cursor++
			batch = append(batch, f)
			bytes += len(f)
			continue
		}
		e := s.hist[c.cursor-s.memFirst]
		c.cursor++
		if e.skip == c {
			continue
		}
		batch = append(batch, e.f)
		bytes += len(e.f)
	}
	if len(batch) == n0 && c.cursor < limit && c.cursor < s.memFirst {
		c.wakeUp() // a block was evicted meanwhile: try again
	}
	if catchingUp && c.cursor > c.catchupMark {
		s.srv.observer.CaughtUp(time.Since(c.catchupStart))
	}
	if s.stream != nil && s.stream.ready {
		s.trySwapLocked()
	}
	return batch, grew, catchingUp, c.cursor, ""
}

// offsetLocked returns the cumulative byte offset before index idx.
//
// Before memFirst (history kept only in the file) it returns the offset at
// memFirst, an underestimate that only matters for clients that joined
// before the history was dropped, and they are past it.
func (s *Session) offsetLocked(idx int64) int64 {
	if len(s.hist) == 0 {
		return s.cumBytes
	}
	if idx <= s.memFirst {
		return s.hist[0].end - int64(len(s.hist[0].f))
	}
	if idx >= s.endLocked() {
		return s.cumBytes
	}
	return s.hist[idx-s.memFirst-1].end
}

// lock takes s.mu and starts a new critical section for barrierLocked.
func (s *Session) lock() {
	s.mu.Lock()
	s.secBarrier = -1
}

// barrierLocked returns the history barrier for a direct message to c.
// Direct messages queued in one critical section share one barrier, the
// end of the history when the first of them was queued: history appended
// later in the same section reaches clients after these messages, like
// Drawpile's send queue (history is only pulled into a client's queue when
// the queue is empty). The uploading host during initialization gets
// strict causal order, as drawpile-srv forwards it everything directly.
func (s *Session) barrierLocked(c *Client) int64 {
	if s.state == StateInit && c == s.initUser {
		return s.endLocked()
	}
	if s.secBarrier < 0 {
		s.secBarrier = s.endLocked()
	}
	return s.secBarrier
}

// sendLocked queues a direct message to c behind the section's barrier.
func (s *Session) sendLocked(c *Client, f protocol.Frame) {
	c.sendAfter(f, s.barrierLocked(c))
}

// sendAllLocked queues a direct message to every member.
func (s *Session) sendAllLocked(f protocol.Frame) {
	for _, c := range s.users {
		s.sendLocked(c, f)
	}
}

// sendOpsLocked queues a direct message to every operator.
func (s *Session) sendOpsLocked(f protocol.Frame) {
	for _, c := range s.users {
		if c.op {
			s.sendLocked(c, f)
		}
	}
}

// logEntry is one session log entry kept for replay to joiners: its topic
// (which decides who may see it) and its encoded `log` message.
type logEntry struct {
	topic string
	frame protocol.Frame
}

// Session log topics whose visibility is restricted (server.md §4.11).
const (
	topicClientInfo = "ClientInfo"
	topicReport     = "Report"
)

// sensitiveLogTopic reports whether entries of topic go to moderators only:
// client info (addresses, system ids) and abuse reports, as drawpile-srv's
// Log::isSensitive.
func sensitiveLogTopic(topic string) bool {
	return topic == topicClientInfo || topic == topicReport
}

// kickOrBanLogTopic reports whether topic is a kick or (un)ban, which
// drawpile-srv leaves out of the log replayed to joiners who are neither
// moderator nor operator (Log::isKickOrBan).
func kickOrBanLogTopic(topic string) bool {
	return topic == "Kick" || topic == "Ban" || topic == "Unban"
}

// replayLogVisible reports whether an entry of topic is replayed to a
// joining member (drawpile-srv: omitSensitive unless moderator,
// omitKicksAndBans unless moderator or operator).
func replayLogVisible(topic string, mod, op bool) bool {
	if sensitiveLogTopic(topic) {
		return mod
	}
	if kickOrBanLogTopic(topic) {
		return mod || op
	}
	return true
}

// replayLogLocked sends the session log entries c may see (oldest first)
// through send: the replay to a joiner, which is an operator if op.
func (s *Session) replayLogLocked(c *Client, op bool, send func(protocol.Frame)) {
	mod := c.flags["MOD"]
	for _, e := range s.logRing {
		if replayLogVisible(e.topic, mod, op) {
			send(e.frame)
		}
	}
}

// logLocked records a session log entry and pushes it to the members:
// sensitive topics (ClientInfo, Report) to moderators only, the rest to
// everyone; the pushed entry never carries an address ("id;name" user).
// Kicks and bans are pushed live to everyone (as drawpile-srv) but left
// out of the replay to joiners who are not operators (replayLogVisible).
func (s *Session) logLocked(topic, msg string, user *Client) {
	e := protocol.LogEntry{Type: protocol.ReplyLog, Level: "Info", Message: msg, Topic: topic,
		Timestamp: time.Now().UTC().Format(time.RFC3339)}
	if user != nil {
		e.User = fmt.Sprintf("%d;%s", user.id, user.name)
	}
	f := jsonFrame(e) // encoded once: pushed now and replayed to every later joiner
	s.logRing = append(s.logRing, logEntry{topic: topic, frame: f})
	if len(s.logRing) > maxLogEntries {
		s.logRing = slices.Delete(s.logRing, 0, len(s.logRing)-maxLogEntries)
	}
	s.logger.Info(msg, "topic", topic, "user", e.User)
	rec := LogRecord{Session: s.id, Topic: topic, Message: msg}
	if user != nil {
		rec.UserID, rec.UserName, rec.UserAddr = user.id, user.name, user.info.Addr
	}
	s.srv.observer.SessionLog(rec)
	if !sensitiveLogTopic(topic) {
		s.sendAllLocked(f)
		return
	}
	for _, u := range s.users {
		if u.flags["MOD"] {
			s.sendLocked(u, f)
		}
	}
}

const maxLogEntries = 1000

// noticeLocked sends a translatable notice to every member.
func (s *Session) noticeLocked(kind, t, msg string, p map[string]any) {
	s.sendAllLocked(jsonFrame(protocol.Notice{Type: kind, T: t, Message: msg, P: p}))
}

// configLocked returns the full sessionconf property set.
func (s *Session) configLocked() *protocol.SessionConfig {
	st := s.srv.settings()
	maxSize := s.sizeLimitLocked()
	return &protocol.SessionConfig{
		AllowIdleOverride:  st.AllowIdleOverride,
		AllowWeb:           s.allowWeb,
		AuthOnly:           s.authOnly,
		Autotitle:          s.autotitle,
		Deputies:           s.deputies,
		ForceNsfm:          st.ForceNsfm,
		HasOpword:          len(s.opwordHash) > 0,
		HasPassword:        len(s.passwordHash) > 0,
		IdleOverride:       s.idleOverride,
		IdleTimeLimit:      int64(st.IdleTimeLimit / time.Second),
		Invites:            s.invitesOn,
		MaxSize:            maxSize,
		MaxUserCount:       s.maxUsers,
		Nsfm:               s.nsfm || st.ForceNsfm,
		Persistent:         s.persistent,
		PreferWebSockets:   st.PreferWebSockets,
		PreserveChat:       s.preserveChat,
		ResetThreshold:     s.resetThreshold,
		ResetThresholdBase: s.resetBase,
		ResetThresholdMin:  st.MinimumAutoResetThreshold,
		Title:              s.title,
	}
}

// appendConfigLocked appends a full sessionconf snapshot to the history
// (with hidx while running).
func (s *Session) appendConfigLocked() {
	sc := protocol.SessionConf{Type: protocol.ReplySessionConf, Config: s.configLocked()}
	if s.state != StateInit {
		sc.HIdx = s.hidxLocked(s.endLocked())
	}
	s.syncJournalLocked()
	s.appendJSONLocked(sc)
}

// descLocked returns the session's description for lists and lookups.
func (s *Session) descLocked() protocol.SessionDesc {
	active := 0
	for _, c := range s.users {
		if time.Since(c.lastActive) < activeDrawingWindow && !c.lastActive.IsZero() {
			active++
		}
	}
	return protocol.SessionDesc{
		ActiveDrawingUserCount: active,
		Alias:                  s.alias,
		AllowWeb:               s.allowWeb,
		AuthOnly:               s.authOnly,
		Autotitle:              s.autotitle,
		Closed:                 s.closedLocked(),
		Founder:                s.founder,
		HasPassword:            len(s.passwordHash) > 0,
		ID:                     s.id,
		IdleOverride:           s.idleOverride,
		Invites:                s.invitesOn,
		MaxUserCount:           s.maxUsers,
		Nsfm:                   s.nsfm || s.srv.settings().ForceNsfm,
		Persistent:             s.persistent,
		PreferWebSockets:       s.srv.settings().PreferWebSockets,
		Protocol:               s.protocol,
		Size:                   s.histBytes,
		StartTime:              s.startTime.UTC().Format(time.RFC3339),
		Title:                  s.title,
		Unlisted:               s.unlisted,
		UserCount:              s.presentCountLocked(), // ghosts are not counted (§4.9)
		Viewers:                s.viewersLocked(),
	}
}

// activeDrawingWindow: a user who sent a drawing command this recently
// counts as actively drawing.
const activeDrawingWindow = 10 * time.Minute

// Desc returns the session's description (session list format).
func (s *Session) Desc() protocol.SessionDesc {
	s.lock()
	defer s.mu.Unlock()
	return s.descLocked()
}

func (s *Session) closedLocked() bool {
	return len(s.users) >= s.maxUsers || (s.state != StateInit && s.state != StateRunning)
}

// findUserLocked finds a member by id or case-insensitive name.
func (s *Session) findUserLocked(id int64, name string) *Client {
	if name != "" {
		for _, c := range s.users {
			if strings.EqualFold(c.name, name) {
				return c
			}
		}
		return nil
	}
	if id < 1 || id > 254 {
		return nil
	}
	return s.users[uint8(id)]
}

// allocIDLocked picks a context id for name: its previous id if free,
// else the least recently used free id.
func (s *Session) allocIDLocked(name string) (uint8, bool) {
	if id, ok := s.nameIDs[strings.ToLower(name)]; ok {
		if _, used := s.users[id]; !used {
			return id, true
		}
	}
	remembered := map[uint8]bool{}
	for _, id := range s.nameIDs {
		remembered[id] = true
	}
	freed := map[uint8]bool{}
	for _, id := range s.freedIDs {
		freed[id] = true
	}
	// Never-used ids first, in order; then freed ids, oldest first.
	for id := 1; id <= 254; id++ {
		if _, used := s.users[uint8(id)]; !used && !remembered[uint8(id)] && !freed[uint8(id)] {
			return uint8(id), true
		}
	}
	for _, id := range s.freedIDs {
		if _, used := s.users[id]; !used {
			return id, true
		}
	}
	for id := 1; id <= 254; id++ {
		if _, used := s.users[uint8(id)]; !used {
			return uint8(id), true
		}
	}
	return 0, false
}

func (s *Session) opListLocked() []uint8 {
	var ids []uint8
	for id, c := range s.users {
		if c.op {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func (s *Session) trustedListLocked() []uint8 {
	var ids []uint8
	for id, c := range s.users {
		if c.trusted {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func (s *Session) mutedListLocked() []any {
	ids := []any{}
	var raw []int
	for id, c := range s.users {
		if c.muted {
			raw = append(raw, int(id))
		}
	}
	slices.Sort(raw)
	for _, id := range raw {
		ids = append(ids, id)
	}
	return ids
}

func (s *Session) banListLocked() []any {
	l := []any{}
	for _, b := range s.bans {
		l = append(l, map[string]any{"id": b.ID, "username": b.Name, "bannedBy": b.By})
	}
	return l
}

func (s *Session) inviteListLocked() []any {
	l := []any{}
	for _, inv := range s.invites {
		l = append(l, map[string]any{"secret": inv.Secret, "creator": inv.Creator, "maxUses": inv.MaxUses,
			"uses": len(inv.Uses), "trust": inv.Trust, "op": inv.Op, "at": inv.At.UTC().Format(time.RFC3339)})
	}
	return l
}

// authEntry is one user in the operators' auth list (server.md §4.2).
type authEntry struct {
	AuthID   string `json:"authId"`
	Username string `json:"username"`
	Op       bool   `json:"op,omitempty"`
	Trusted  bool   `json:"trusted,omitempty"`
	Mod      bool   `json:"mod,omitempty"`
}

// maxBareOfflineAuth caps the offline users without op or trust in the
// auth list, as drawpile-srv does, before any size trimming.
const maxBareOfflineAuth = 32

// authListFrameLocked builds the sessionconf {"auth":[…]} message for
// operators: every registered user seen in the session (authNames, in
// first-seen order), online or not, marked op, trusted (remembered status,
// or the current one while online; moderators are not marked op unless
// remembered) and mod (online moderators). As
// drawpile-srv, at most maxBareOfflineAuth offline users without a role
// are listed; if the message still does not fit, offline users below
// trusted, then below op, then all offline non-moderators are left out.
// It returns nil if even that does not fit (online users are always
// listed).
func (s *Session) authListFrameLocked() protocol.Frame {
	type online struct{ mod, op, trusted bool }
	on := map[string]online{}
	for _, c := range s.users {
		if c.authID == "" {
			continue
		}
		o := on[c.authID]
		o.mod = o.mod || c.flags["MOD"]
		o.op = o.op || c.op
		o.trusted = o.trusted || c.trusted
		on[c.authID] = o
	}
	entries := make([]authEntry, 0, len(s.authOrder))
	for required := 0; required < 4; required++ {
		entries = entries[:0]
		bare, effective := 0, required
		for _, id := range s.authOrder {
			o, isOnline := on[id]
			e := authEntry{AuthID: id, Username: s.authNames[id], Op: s.authOps[id], Trusted: s.authTrusted[id]}
			if isOnline {
				// A moderator's op status is not remembered (they are
				// always operators): the entry says mod instead.
				e.Trusted, e.Mod = o.trusted, o.mod
				if !o.mod {
					e.Op = o.op
				}
			}
			level := 0
			switch {
			case e.Mod:
				level = 3
			case e.Op:
				level = 2
			case e.Trusted:
				level = 1
			}
			if !isOnline && level < effective {
				continue
			}
			entries = append(entries, e)
			if level == 0 && !isOnline {
				if bare++; bare >= maxBareOfflineAuth {
					effective = max(1, required)
				}
			}
		}
		f, err := protocol.JSONFrame(protocol.SessionConf{Type: protocol.ReplySessionConf, Config: map[string]any{"auth": entries}})
		if err == nil {
			if required > 0 {
				s.logger.Warn("auth list too large", "level", required)
			}
			return f
		}
	}
	s.logger.Warn("auth list too large", "level", 4)
	return nil
}

// sendAuthListLocked sends the current auth list to every operator.
func (s *Session) sendAuthListLocked() {
	if f := s.authListFrameLocked(); f != nil {
		s.sendOpsLocked(f)
	}
}

// noteAuthNameLocked remembers c's display name under its auth id for
// the auth list (not for ghosts, as drawpile-srv).
func (s *Session) noteAuthNameLocked(c *Client) {
	if c.authID == "" || c.name == "" || c.isGhost() {
		return
	}
	s.setAuthNameLocked(c.authID, c.name)
}

func (s *Session) setAuthNameLocked(id, name string) {
	if s.authNames == nil {
		s.authNames = map[string]string{}
	}
	if _, ok := s.authNames[id]; !ok {
		s.authOrder = append(s.authOrder, id)
	}
	s.authNames[id] = name
}

// sendListsLocked sends the partial sessionconf lists (§4.12 step 6) to
// every member, or only to only. Each list is encoded at most once per
// call and the frame shared by all its recipients: every join sends the
// lists to everyone, and encoding them per recipient made a join cost
// O(members²).
func (s *Session) sendListsLocked(only *Client) {
	var ann, muted, bans, authl, invites protocol.Frame
	conf := func(key string, v any) protocol.Frame {
		return jsonFrame(protocol.SessionConf{Type: protocol.ReplySessionConf, Config: map[string]any{key: v}})
	}
	authDone := false
	for _, c := range s.users {
		if only != nil && c != only {
			continue
		}
		if ann == nil {
			ann = conf("announcements", s.announcementListLocked())
			muted = conf("muted", s.mutedListLocked())
		}
		s.sendLocked(c, ann)
		if c.op {
			if bans == nil {
				bans = conf("banlist", s.banListLocked())
				invites = conf("invitelist", s.inviteListLocked())
			}
			s.sendLocked(c, bans)
		}
		s.sendLocked(c, muted)
		if c.op {
			if !authDone {
				authl, authDone = s.authListFrameLocked(), true
			}
			if authl != nil {
				s.sendLocked(c, authl)
			}
			s.sendLocked(c, invites)
		}
	}
}

func (s *Session) sendPartialLocked(key string, v any, opsOnly bool) {
	f := jsonFrame(protocol.SessionConf{Type: protocol.ReplySessionConf, Config: map[string]any{key: v}})
	if opsOnly {
		s.sendOpsLocked(f)
	} else {
		s.sendAllLocked(f)
	}
}

// setOpLocked changes c's operator status and announces it; by is who
// did it ("" for the server).
func (s *Session) setOpLocked(c *Client, op bool, by string) {
	s.changeOpLocked(c, op, by, nil, true)
}

// changeOpLocked is setOpLocked; inv is the invite that made c operator
// (or nil). With lists false no sessionconf lists are sent (the caller
// sends them: a join, the auth-list command), like drawpile-srv's
// changeOpStatus without sendUpdate. The log entry, the notice key (opgive,
// opgiveinvite, optake), its text and parameters are drawpile-srv's.
func (s *Session) changeOpLocked(c *Client, op bool, by string, inv *invite, lists bool) {
	if c.op == op {
		return
	}
	c.op = op
	p := map[string]any{"target": c.name}
	topic, key, msg := "Op", "opgive", ""
	switch {
	case op && inv != nil:
		key, msg = "opgiveinvite", "Made operator via invite created by "+orDefault(inv.Creator, "a server administrator")
		if inv.Creator != "" {
			p["creator"] = inv.Creator
		}
	case op:
		msg = "Made operator by " + orDefault(by, "the server")
	default:
		topic, key, msg = "Deop", "optake", "Operator status revoked by "+orDefault(by, "the server")
	}
	if inv == nil && by != "" {
		p["by"] = by
	}
	s.logLocked(topic, msg, c)
	if !c.isGhost() {
		s.noticeLocked(protocol.ReplyMsg, key, c.name+" "+strings.ToLower(msg[:1])+msg[1:], p)
	}
	if lists {
		s.sendOpChangeListsLocked()
	}
}

// sendOpChangeListsLocked refreshes the operator-only lists after operator
// status changed, as drawpile-srv's updateOwnership: the auth list, the ban
// list and the invite list to every operator, and an empty ban list to
// everyone else (so a former operator's client drops the list it had).
func (s *Session) sendOpChangeListsLocked() {
	s.sendAuthListLocked()
	var bans, blank, invites protocol.Frame
	for _, u := range s.users {
		if u.op {
			if bans == nil {
				bans = jsonFrame(protocol.SessionConf{Type: protocol.ReplySessionConf, Config: map[string]any{"banlist": s.banListLocked()}})
			}
			s.sendLocked(u, bans)
		} else {
			if blank == nil {
				blank = jsonFrame(protocol.SessionConf{Type: protocol.ReplySessionConf, Config: map[string]any{"banlist": []any{}}})
			}
			s.sendLocked(u, blank)
		}
	}
	for _, u := range s.users {
		if u.op {
			if invites == nil {
				invites = jsonFrame(protocol.SessionConf{Type: protocol.ReplySessionConf, Config: map[string]any{"invitelist": s.inviteListLocked()}})
			}
			s.sendLocked(u, invites)
		}
	}
}

// ensureOperatorLocked makes the earliest-joined member (not a ghost, not
// being disconnected) an operator when no member is one and there is no
// other way to become one (no opword, no registered operator who could come
// back), as drawpile-srv's ensureOperatorExists when a user leaves; joins
// apply the same rule (loginJoin).
func (s *Session) ensureOperatorLocked() {
	if len(s.opwordHash) > 0 || s.offlineAuthOpLocked() {
		return
	}
	var first *Client
	for _, u := range s.users {
		if u.isGhost() {
			continue
		}
		if u.op {
			return
		}
		if (first == nil || u.joinSeq < first.joinSeq) && !u.isClosing() {
			first = u // not one that is being disconnected (kickWebUsersLocked)
		}
	}
	if first != nil {
		s.setOpLocked(first, true, "")
		s.appendServerMetaLocked(userListFrame(typeSessionOwner, 0, s.opListLocked()))
	}
}

// checkPassword compares a password with a session password hash in one
// of drawpile-srv's formats (plain;, s+sha1;, pbkdf2;, sodium;), from this
// server, journals or templates.
func checkPassword(hash []byte, pw string) bool {
	if len(hash) == 0 {
		return false
	}
	return auth.CheckPassword(pw, string(hash))
}

// hashPassword hashes a session password or opword ("" → nil) in
// drawpile-srv's "pbkdf2;" format, so session files stay readable by
// drawpile-srv. PBKDF2 rather than argon2id (used for accounts): every join
// attempt checks the session password, and argon2id's 64 MiB per check
// would let a flood of join attempts exhaust memory.
func hashPassword(pw string) []byte {
	if pw == "" {
		return nil
	}
	h, err := auth.HashPasswordPBKDF2(pw)
	if err != nil {
		return nil
	}
	return []byte(h)
}

// rememberLocked records a registered user's current operator and trusted
// status for when they rejoin.
func (s *Session) rememberLocked(c *Client) {
	if c.authID == "" {
		return
	}
	if s.authOps == nil {
		s.authOps, s.authTrusted = map[string]bool{}, map[string]bool{}
	}
	if !c.flags["MOD"] { // moderators are operators anyway; not remembered, as drawpile-srv
		s.authOps[c.authID] = c.op
	}
	s.authTrusted[c.authID] = c.trusted
}

// rememberedList returns the auth ids whose value in m is true, sorted.
func rememberedList(m map[string]bool) []string {
	var out []string
	for id, in := range m {
		if in {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

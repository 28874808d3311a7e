package session

// File-backed sessions (server.md §2.6–2.10): with Server.EnableFiles every
// session keeps its history and metadata in drawpile-srv's on-disk format
// through internal/store/sessionfile.
//
// Ordering guarantee (the reason this is safe against kill -9): a history
// message is written to the session's recording with one write(2)
// (sessionfile.File.AppendHistory) inside appendLocked, under Session.mu and
// before it is added to the in-memory history that the writers copy from.
// No client can therefore receive a message that is not yet in the kernel's
// page cache; the fsync policy (batch by default) only decides how soon it
// also reaches stable storage. With FsyncBatch the hot path costs one write
// syscall and no allocation; FsyncAlways would fsync under Session.mu and
// stall fan-out for the duration of each fsync, which is why it is not the
// default.
//
// Journal records are derived from the session's own fields: after any
// metadata change the session builds a sessionfile.State and hands it to
// File.SetJournal, which appends only the records that differ.
//
// Locks: sessionfile.File has its own mutex, taken under Session.mu (never
// the reverse: the file never calls back). Lock order: Server.mu, then
// Session.mu, then File.mu. fileStore.scanMu is taken with or without
// Server.mu held, and nothing is locked while it is held.

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"drawbridge/internal/store/sessionfile"
	"drawbridge/protocol"
)

// FileConfig makes sessions file-backed (Server.EnableFiles).
type FileConfig struct {
	// Dir is the session directory (--sessions). Required.
	Dir string
	// Options are passed to sessionfile (fsync policy, archive setting).
	// Options.Logger is replaced by the server's logger.
	Options sessionfile.Options
	// Templates is the template directory (--templates), "" for none.
	Templates string
	// Record is the --record path pattern (%d %t %i %a placeholders, a
	// directory, or "" for none).
	Record string
}

// fileStore is a Server's persistence configuration. Immutable after
// EnableFiles.
type fileStore struct {
	cfg FileConfig // immutable

	// tplIDs are the pre-assigned session ids of templates (lower-case
	// alias → ULID), so that a listed template joined by id, or looked up
	// and then joined, becomes one session. Guarded by Server.mu.
	tplIDs map[string]string

	scanMu    sync.Mutex // guards the template scan cache below
	tpls      []*sessionfile.Template
	tplsMod   time.Time // directory mtime at the scan
	tplsAt    time.Time // when it was scanned
	tplsValid bool
}

// templateRescan bounds how often the template directory is read when it
// has not visibly changed (lookups of unknown names must stay cheap).
const templateRescan = time.Second

// templates returns the templates of the directory, rescanned when the
// directory changed or the last scan is older than templateRescan.
func (fs *fileStore) templates(logger *slog.Logger) ([]*sessionfile.Template, error) {
	fs.scanMu.Lock()
	defer fs.scanMu.Unlock()
	st, err := os.Stat(fs.cfg.Templates)
	if err != nil {
		return nil, err
	}
	if fs.tplsValid && st.ModTime().Equal(fs.tplsMod) && time.Since(fs.tplsAt) < templateRescan {
		return fs.tpls, nil
	}
	tpls, err := sessionfile.ScanTemplates(fs.cfg.Templates, logger)
	if err != nil {
		return nil, err
	}
	fs.tpls, fs.tplsMod, fs.tplsAt, fs.tplsValid = tpls, st.ModTime(), time.Now(), true
	return tpls, nil
}

// ErrFilesEnabled is returned by EnableFiles when called twice or after
// sessions exist.
var ErrFilesEnabled = errors.New("session: file-backed sessions already enabled or sessions exist")

// EnableFiles makes every new session file-backed in cfg.Dir (if set) and restores
// the sessions found there (each with zero users; non-persistent ones are
// ended after the empty-session linger time unless someone joins). Files
// that cannot be loaded are logged with their name and left untouched. It
// must be called before the server accepts connections. It returns the
// number of sessions restored.
func (srv *Server) EnableFiles(cfg FileConfig) (int, error) {
	if cfg.Dir != "" {
		if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
			return 0, fmt.Errorf("session: create session directory: %w", err)
		}
	}
	cfg.Options.Logger = srv.logger
	srv.mu.Lock()
	if srv.files.Load() != nil || len(srv.sessions) > 0 {
		srv.mu.Unlock()
		return 0, ErrFilesEnabled
	}
	srv.files.Store(&fileStore{cfg: cfg, tplIDs: map[string]string{}})
	srv.mu.Unlock()
	if cfg.Dir == "" {
		return 0, nil
	}

	loaded, err := sessionfile.LoadDir(cfg.Dir, srv.logger, cfg.Options)
	if err != nil {
		return 0, fmt.Errorf("session: %w", err)
	}
	n := 0
	for _, l := range loaded {
		if err := srv.restoreSession(l.File); err != nil {
			srv.logger.Warn("skipping session: cannot restore", "file", filepath.Join(cfg.Dir, sessionfile.JournalName(l.ID)), "err", err)
			l.File.Close()
			continue
		}
		n++
	}
	srv.logger.Info("file-backed sessions enabled", "dir", cfg.Dir, "restored", n, "fsync", cfg.Options.Fsync.String())
	return n, nil
}

// createFileLocked creates the files of a new session s. Called by
// createSession with srv.mu held, before s is registered.
func (srv *Server) createFileLocked(s *Session) error {
	fs := srv.files.Load()
	if fs == nil || fs.cfg.Dir == "" {
		return nil
	}
	meta := sessionfile.Meta{Version: s.protocol, Alias: s.alias, Founder: s.founder}
	f, err := sessionfile.Create(fs.cfg.Dir, s.id, meta, fs.cfg.Options)
	if err != nil && !errors.Is(err, sessionfile.ErrExists) && !errors.Is(err, sessionfile.ErrBadID) {
		meta.Version = "" // an unusual protocol string: record the default version
		f, err = sessionfile.Create(fs.cfg.Dir, s.id, meta, fs.cfg.Options)
	}
	if err != nil {
		srv.logger.Error("cannot create session files", "dir", fs.cfg.Dir, "session", s.id, "err", err)
		return err
	}
	s.file = f
	return nil
}

// restoreSession registers a session loaded from its files (zero users,
// running).
//
// The history stays in the file: nothing is in memory until clients join
// and read it (fetch → loadBlockUnlocked).
func (srv *Server) restoreSession(f *sessionfile.File) error {
	s := srv.newRunningSession(f.ID(), f.Version(), f.State(), nil, f)
	n := f.Len()
	s.memFirst = n
	s.cumBytes = f.Size()
	s.histBytes = s.cumBytes
	if err := srv.register(s); err != nil {
		return err
	}
	s.logger.Info("session restored", "messages", n, "bytes", s.histBytes, "persistent", s.persistent)
	s.announceJournaled(nil)
	s.startRecording()
	if !s.persistent {
		s.scheduleEmptyCheck()
	}
	return nil
}

// newRunningSession builds an unregistered running session with no users
// from journal state and history frames (a restored session or an
// instantiated template).
func (srv *Server) newRunningSession(id, proto string, st sessionfile.State, frames []protocol.Frame, f *sessionfile.File) *Session {
	now := time.Now()
	s := &Session{
		srv:            srv,
		id:             id,
		alias:          st.Alias,
		founder:        st.Founder,
		protocol:       proto,
		startTime:      now,
		state:          StateRunning,
		startID:        now.UnixMilli(),
		grew:           make(chan struct{}),
		users:          map[uint8]*Client{},
		nameIDs:        map[string]uint8{},
		maxUsers:       min(max(st.MaxUsers, 1), 254),
		resetThreshold: srv.settings().AutoResetThreshold,
		invites:        map[string]*invite{},
		catchKey:       st.Catchup,
		lastEvent:      now,
		nextBanID:      1,
		file:           f,
		secBarrier:     -1,
	}
	s.applyJournalState(st)
	var off int64
	s.hist = make([]entry, 0, len(frames))
	for _, fr := range frames {
		off += int64(len(fr))
		s.hist = append(s.hist, entry{f: fr, end: off})
	}
	s.cumBytes, s.histBytes = off, off
	return s
}

// register adds a built session to the registry with a fresh room code.
func (srv *Server) register(s *Session) error {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.registerLocked(s)
}

func (srv *Server) registerLocked(s *Session) error {
	if srv.closed {
		return ErrServerClosed
	}
	if srv.sessions[s.id] != nil || (s.alias != "" && srv.lookupLocked(s.alias) != nil) {
		return fmt.Errorf("session id or alias %q already in use", s.idOrAlias())
	}
	s.code = newRoomCode()
	for srv.byCode[s.code] != nil {
		s.code = newRoomCode()
	}
	s.logger = srv.logger.With("session", s.id, "alias", s.alias, "code", s.code)
	srv.sessions[s.id] = s
	if s.alias != "" {
		srv.byAlias[strings.ToLower(s.alias)] = s
	}
	srv.byCode[s.code] = s
	return nil
}

// lookupTemplate instantiates the template whose alias is key, if there
// is one (server.md §2.10): a live session with a fresh id, the template's
// settings and its messages as history. The template directory is read
// on every call, so added, changed and removed templates take effect
// without a restart. It returns nil when there is no such template.
func (srv *Server) lookupTemplate(key string) *Session {
	fs := srv.files.Load()
	if fs == nil || fs.cfg.Templates == "" || key == "" {
		return nil
	}
	tpls, err := fs.templates(srv.logger)
	if err != nil {
		srv.logger.Warn("cannot read the template directory", "dir", fs.cfg.Templates, "err", err)
		return nil
	}
	var t *sessionfile.Template
	srv.mu.Lock()
	for _, x := range tpls {
		if strings.EqualFold(x.Alias, key) || strings.EqualFold(fs.tplIDs[strings.ToLower(x.Alias)], key) {
			t = x
			break
		}
	}
	srv.mu.Unlock()
	if t == nil {
		return nil
	}
	frames, err := t.Frames()
	if err != nil {
		srv.logger.Warn("skipping template", "file", t.Path, "err", err)
		return nil
	}
	if len(frames) == 0 {
		srv.logger.Warn("skipping template: no messages", "file", t.Path)
		return nil
	}
	st := t.JournalState()
	st.Alias = t.Alias
	if t.Password != "" && st.Password == "" {
		srv.logger.Warn("template password is not a hash; hashing it", "file", t.Path)
		st.Password = string(hashPassword(t.Password))
	}
	if t.Opword != "" && st.Opword == "" {
		st.Opword = string(hashPassword(t.Opword))
	}
	proto := t.Version
	if proto == "" {
		proto = sessionfile.DefaultVersion
	}

	srv.mu.Lock()
	defer srv.mu.Unlock()
	if s := srv.byAlias[strings.ToLower(t.Alias)]; s != nil {
		return s // instantiated meanwhile
	}
	if srv.closed || (srv.settings().SessionCountLimit > 0 && len(srv.sessions) >= srv.settings().SessionCountLimit) {
		return nil
	}
	id := fs.templateIDLocked(srv, t.Alias)
	delete(fs.tplIDs, strings.ToLower(t.Alias)) // the next instance gets a new one
	var f *sessionfile.File
	if fs.cfg.Dir != "" {
		f, err = sessionfile.Create(fs.cfg.Dir, id, sessionfile.Meta{Version: proto, Alias: t.Alias, Founder: st.Founder}, fs.cfg.Options)
		if err != nil {
			f, err = sessionfile.Create(fs.cfg.Dir, id, sessionfile.Meta{Alias: t.Alias, Founder: st.Founder}, fs.cfg.Options)
		}
		if err == nil {
			err = f.AppendHistory(frames...)
			if err == nil {
				err = f.SetJournal(st)
			}
			if err != nil {
				f.Terminate()
			}
		}
		if err != nil {
			srv.logger.Error("cannot create session files for template", "file", t.Path, "err", err)
			return nil
		}
	}
	s := srv.newRunningSession(id, proto, st, frames, f)
	if err := srv.registerLocked(s); err != nil {
		if f != nil {
			f.Terminate()
		}
		return nil
	}
	s.logger.Info("session instantiated from template", "file", t.Path, "messages", len(frames))
	go func() { // not under srv.mu: recording takes s.mu only, the timer later
		s.announceJournaled(st.Announce)
		s.startRecording()
		if !s.persistent {
			s.scheduleEmptyCheck()
		}
	}()
	return s
}

// scheduleEmptyCheck ends s if it is still empty and not persistent after
// the linger time (at least one cleanup interval, as drawpile-srv's timer).
func (s *Session) scheduleEmptyCheck() {
	wait := max(s.srv.settings().EmptySessionLingerTime, cleanupInterval)
	time.AfterFunc(wait, func() {
		s.lock()
		still := s.effectivelyEmptyLocked() && !s.persistent && s.state != StateShutdown
		s.mu.Unlock()
		if still {
			s.terminate("", disconnectShutdown)
		}
	})
}

// applyJournalState sets the session's metadata from a journal state.
// Called before the session is shared.
func (s *Session) applyJournalState(st sessionfile.State) {
	s.title = st.Title
	if st.Password != "" {
		s.passwordHash = []byte(st.Password)
	}
	if st.Opword != "" {
		s.opwordHash = []byte(st.Opword)
	}
	if st.AutoReset > 0 {
		s.resetThreshold = int64(min(st.AutoReset, 1<<62))
	}
	s.overrideSize = int64(min(st.SizeLimit, 1<<62))
	fl := st.Flags
	s.persistent = fl&sessionfile.Persistent != 0
	s.preserveChat = fl&sessionfile.PreserveChat != 0
	s.nsfm = fl&sessionfile.Nsfm != 0
	s.deputies = fl&sessionfile.Deputies != 0
	s.authOnly = fl&sessionfile.AuthOnly != 0
	s.idleOverride = fl&sessionfile.IdleOverride != 0
	s.allowWeb = fl&sessionfile.AllowWeb != 0
	s.autotitle = fl&sessionfile.AutoTitle != 0
	s.invitesOn = fl&sessionfile.Invites != 0
	s.unlisted = fl&sessionfile.Unlisted != 0
	for _, b := range st.Bans {
		s.bans = append(s.bans, sessionBan{ID: b.ID, Name: b.Name, AuthID: b.AuthID, SID: b.SID, Addr: b.IP, By: b.BannedBy})
		s.nextBanID = max(s.nextBanID, b.ID+1)
	}
	for _, u := range st.Users {
		s.nameIDs[strings.ToLower(u.Name)] = u.ID
	}
	s.authOps, s.authTrusted = map[string]bool{}, map[string]bool{}
	for _, id := range st.Ops {
		s.authOps[id] = true
	}
	for _, id := range st.Trusted {
		s.authTrusted[id] = true
	}
	for _, id := range st.AuthOrder {
		if name := st.AuthNames[id]; name != "" {
			s.setAuthNameLocked(id, name)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(st.AuthNames)) { // any not in AuthOrder
		if _, ok := s.authNames[id]; !ok && st.AuthNames[id] != "" {
			s.setAuthNameLocked(id, st.AuthNames[id])
		}
	}
	for _, inv := range st.Invites {
		at, err := time.Parse(time.RFC3339, inv.CreatedAt)
		if err != nil {
			at = time.Now()
		}
		var uses []string
		for _, u := range inv.Uses {
			uses = append(uses, u.Name)
		}
		s.invites[inv.Secret] = &invite{Secret: inv.Secret, Creator: inv.Creator, MaxUses: inv.MaxUses, Uses: uses, Trust: inv.Trust, Op: inv.Op, At: at}
	}
	if s.catchKey < sessionfile.MinCatchupKey || s.catchKey > sessionfile.MaxCatchupKey {
		s.catchKey = sessionfile.InitialCatchupKey
	}
}

// journalStateLocked returns the journal state that describes s, starting
// from the file's current state (recording name, announcements and other
// records the session does not track are kept).
func (s *Session) journalStateLocked() sessionfile.State {
	st := s.file.State()
	st.Founder = s.founder
	st.Title = s.title
	st.Password = string(s.passwordHash)
	st.Opword = string(s.opwordHash)
	st.MaxUsers = s.maxUsers
	if s.resetThreshold > 0 {
		st.AutoReset = uint64(s.resetThreshold)
	} else {
		st.AutoReset = 0
	}
	st.SizeLimit = uint64(max(s.overrideSize, 0))
	var fl sessionfile.Flags
	set := func(on bool, f sessionfile.Flags) {
		if on {
			fl |= f
		}
	}
	set(s.persistent, sessionfile.Persistent)
	set(s.preserveChat, sessionfile.PreserveChat)
	set(s.nsfm, sessionfile.Nsfm)
	set(s.deputies, sessionfile.Deputies)
	set(s.authOnly, sessionfile.AuthOnly)
	set(s.idleOverride, sessionfile.IdleOverride)
	set(s.allowWeb, sessionfile.AllowWeb)
	set(s.autotitle, sessionfile.AutoTitle)
	set(s.invitesOn, sessionfile.Invites)
	set(s.unlisted, sessionfile.Unlisted)
	st.Flags = fl
	st.Bans = st.Bans[:0]
	for _, b := range s.bans {
		st.Bans = append(st.Bans, sessionfile.Ban{ID: b.ID, Name: b.Name, IP: b.Addr, AuthID: b.AuthID, BannedBy: b.By, SID: b.SID})
	}
	names := make([]string, 0, len(s.nameIDs))
	for n := range s.nameIDs {
		names = append(names, n)
	}
	slices.Sort(names)
	st.Users = st.Users[:0]
	for _, n := range names {
		st.Users = append(st.Users, sessionfile.UserID{ID: s.nameIDs[n], Name: n})
	}
	for _, c := range s.users {
		s.rememberLocked(c)
	}
	st.Ops, st.Trusted = rememberedList(s.authOps), rememberedList(s.authTrusted)
	if len(s.authNames) > 0 {
		if st.AuthNames == nil {
			st.AuthNames = map[string]string{}
		}
		for id, name := range s.authNames {
			st.AuthNames[id] = name
		}
		st.AuthOrder = slices.Clone(s.authOrder)
	}
	st.Catchup = s.catchKey
	secrets := make([]string, 0, len(s.invites))
	for k := range s.invites {
		secrets = append(secrets, k)
	}
	slices.Sort(secrets)
	st.Invites = st.Invites[:0]
	for _, k := range secrets {
		inv := s.invites[k]
		ji := sessionfile.Invite{Secret: inv.Secret, CreatedAt: inv.At.UTC().Format(time.RFC3339), MaxUses: inv.MaxUses,
			Trust: inv.Trust, Op: inv.Op, Creator: inv.Creator}
		for _, u := range inv.Uses {
			ji.Uses = append(ji.Uses, sessionfile.InviteUse{ClientKey: "-", Name: u})
		}
		st.Invites = append(st.Invites, ji)
	}
	return st
}

// syncJournalLocked writes the journal records for whatever metadata
// changed since the last call. A failure is logged (the session goes on in
// memory; the journal catches up on the next successful write).
func (s *Session) syncJournalLocked() {
	if s.file == nil || s.state == StateShutdown {
		return
	}
	if err := s.file.SetJournal(s.journalStateLocked()); err != nil {
		s.logger.Error("session journal: write failed", "err", err)
	}
}

// persistLocked appends f to the session's recording before it joins the
// in-memory history (see the ordering guarantee at the top of this file).
// It reports false, after logging and telling the users, when the message
// could not be written: it must then not be shown to anyone.
func (s *Session) persistLocked(f protocol.Frame) bool {
	if s.rec != nil {
		s.rec.write(f)
	}
	if s.file == nil {
		return true
	}
	if err := s.file.AppendHistory(f); err != nil {
		if s.state != StateShutdown {
			s.logger.Error("session recording: append failed, message dropped", "err", err)
			s.outOfSpaceLocked()
		}
		return false
	}
	return true
}

// resetFileLocked replaces the recording after a reset (classic or
// streamed) with the new history.
func (s *Session) resetFileLocked() {
	if s.file == nil {
		s.restartRecordingLocked()
		return
	}
	frames := make([]protocol.Frame, len(s.hist))
	for i, e := range s.hist {
		frames[i] = e.f
	}
	s.fileGen++
	s.blockCache = nil
	if err := s.file.Reset(frames...); err != nil {
		s.logger.Error("session recording: reset failed; the files keep the previous history", "err", err)
		s.noTrim = true // the file no longer matches: never read history back from it
	}
	s.restartRecordingLocked()
}

// closeFile closes (shutdown: files kept) or terminates (files deleted or
// archived) the session's files. Called once, after the session entered
// StateShutdown.
func (s *Session) closeFile(keep bool) {
	s.mu.Lock()
	rec := s.rec
	s.rec = nil
	s.mu.Unlock()
	if rec != nil {
		rec.close()
	}
	if s.file == nil {
		return
	}
	var err error
	if keep {
		err = s.file.Close()
	} else {
		err = s.file.Terminate()
	}
	if err != nil {
		s.logger.Error("closing session files", "keep", keep, "err", err)
	}
}

// shuttingDown reports whether Shutdown has begun. Must be called without
// Session.mu held (lock order).
func (srv *Server) shuttingDown() bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.closed
}

// sessionRecorder writes a server-side recording of a session (--record).
// Owned by the session: guarded by Session.mu.
type sessionRecorder struct {
	path string
	f    *os.File
	w    *bufWriter
	log  *slog.Logger
	err  error
}

// bufWriter is a small buffered writer flushed when full and on close.
type bufWriter struct {
	w   io.Writer
	buf []byte
	err error
}

func (b *bufWriter) write(p []byte) {
	if b.err != nil {
		return
	}
	if len(b.buf)+len(p) > cap(b.buf) {
		b.flush()
	}
	if len(p) > cap(b.buf) {
		_, b.err = b.w.Write(p)
		return
	}
	b.buf = append(b.buf, p...)
}

func (b *bufWriter) flush() {
	if b.err == nil && len(b.buf) > 0 {
		_, b.err = b.w.Write(b.buf)
	}
	b.buf = b.buf[:0]
}

func (r *sessionRecorder) write(f protocol.Frame) {
	r.w.write(f)
	if r.w.err != nil && r.err == nil {
		r.err = r.w.err
		r.log.Error("session recording (--record): write failed; recording stopped", "file", r.path, "err", r.err)
	}
}

func (r *sessionRecorder) close() {
	r.w.flush()
	if err := r.f.Close(); err != nil && r.err == nil {
		r.log.Error("session recording (--record): close failed", "file", r.path, "err", err)
	}
}

// startRecording starts the --record recording of s with its current
// history (when the session becomes running or after a reset).
func (s *Session) startRecording() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.restartRecordingLocked()
}

func (s *Session) restartRecordingLocked() {
	fs := s.srv.files.Load()
	if fs == nil || fs.cfg.Record == "" || s.state == StateShutdown {
		return
	}
	if s.rec != nil {
		s.rec.close()
		s.rec = nil
	}
	home, _ := os.UserHomeDir()
	path, err := sessionfile.RecordPath(fs.cfg.Record, home, time.Now(), s.id, s.alias)
	if err != nil {
		s.logger.Error("session recording (--record): bad path", "pattern", fs.cfg.Record, "err", err)
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		s.logger.Error("session recording (--record): cannot create", "file", path, "err", err)
		return
	}
	hdr := sessionfile.ServerRecordingHeader(s.recordingVersion())
	prefix, err := protocol.AppendRecordingPrefix(nil, hdr)
	if err != nil {
		f.Close()
		os.Remove(path)
		s.logger.Error("session recording (--record): bad header", "err", err)
		return
	}
	r := &sessionRecorder{path: path, f: f, w: &bufWriter{w: f, buf: make([]byte, 0, 64<<10)}, log: s.logger}
	r.w.write(prefix)
	if s.memFirst > s.first { // the older history is only in the file
		n := s.memFirst - s.first
		for fr, err := range s.file.History() {
			if err != nil || n == 0 {
				if err != nil {
					s.logger.Error("session recording (--record): cannot read the history", "err", err)
				}
				break
			}
			r.write(fr)
			n--
		}
	}
	for _, e := range s.hist {
		r.write(e.f)
	}
	s.rec = r
	s.logger.Info("recording session", "file", path)
}

// recordingVersion is the version for recording headers.
func (s *Session) recordingVersion() string {
	if s.file != nil {
		return s.file.Version()
	}
	if strings.HasPrefix(s.protocol, "dp:") {
		return s.protocol
	}
	return sessionfile.DefaultVersion
}

// History kept on disk only (memory, server.md §2.9): a file-backed
// session drops from memory the messages every connected client has been
// sent, in chunks of at least trimBytes, and reads them back block by
// block (about 640 KiB each, sessionfile's index) when a client that
// joins later catches up. A few recently read blocks are cached per
// session so joiners catching up together share the reads. Memory per
// session is thus bounded by what the slowest connected client still
// needs plus the cache, not by the total history size.

// trimBytes is the least amount of history dropped at once (amortizes the
// copy of the remaining entries).
const trimBytes = 1 << 20

// maxCachedBlocks bounds the block cache of a session.
const maxCachedBlocks = 4

// cachedBlock is a history block read from the file: frames[i] has history
// index first+i.
type cachedBlock struct {
	gen    int64
	first  int64
	frames []protocol.Frame
}

// cachedBlockLocked returns the cached block holding history index idx.
func (s *Session) cachedBlockLocked(idx int64) *cachedBlock {
	for i := range s.blockCache {
		b := &s.blockCache[i]
		if b.gen == s.fileGen && idx >= b.first && idx < b.first+int64(len(b.frames)) {
			return b
		}
	}
	return nil
}

// loadBlockUnlocked reads the block of the file holding history index idx
// into the cache. Called with s.mu held; it releases s.mu during the read
// and takes it again (the caller must re-check the session state).
func (s *Session) loadBlockUnlocked(idx int64) error {
	f, gen, fileIdx := s.file, s.fileGen, idx-s.first
	s.mu.Unlock()
	frames, first, err := readFileBlock(f, fileIdx)
	s.lock()
	if err != nil {
		if s.fileGen != gen || s.state == StateShutdown {
			return nil // replaced or closed meanwhile: the caller re-checks
		}
		s.logger.Error("session recording: cannot read history back", "index", fileIdx, "err", err)
		return err
	}
	if s.fileGen != gen {
		return nil
	}
	if len(s.blockCache) >= maxCachedBlocks {
		s.blockCache = slices.Delete(s.blockCache, 0, 1)
	}
	s.blockCache = append(s.blockCache, cachedBlock{gen: gen, first: s.first + first, frames: frames})
	return nil
}

// readFileBlock reads the block holding message i of f's recording,
// returning its frames and the index of its first message.
func readFileBlock(f *sessionfile.File, i int64) ([]protocol.Frame, int64, error) {
	blocks := f.Blocks()
	k, _ := slices.BinarySearchFunc(blocks, i, func(b sessionfile.Block, i int64) int {
		switch {
		case b.First+int64(b.Count) <= i:
			return -1
		case b.First > i:
			return 1
		}
		return 0
	})
	if k >= len(blocks) || blocks[k].First > i || i >= blocks[k].First+int64(blocks[k].Count) {
		return nil, 0, fmt.Errorf("message %d is not in the recording", i)
	}
	frames, err := f.ReadBlock(k)
	if err != nil {
		return nil, 0, err
	}
	if len(frames) != blocks[k].Count { // the last block grew meanwhile: keep what was indexed
		frames = frames[:min(len(frames), blocks[k].Count)]
	}
	return frames, blocks[k].First, nil
}

// trimLocked drops from memory the history every member has been sent.
func (s *Session) trimLocked() {
	s.trimAt = s.cumBytes + trimBytes
	if s.noTrim || s.stream != nil || s.state != StateRunning {
		return
	}
	low := s.endLocked()
	for _, c := range s.users {
		low = min(low, c.cursor)
	}
	if low <= s.memFirst || s.offsetLocked(low)-s.offsetLocked(s.memFirst) < trimBytes {
		return
	}
	k := low - s.memFirst
	s.hist = slices.Clone(s.hist[k:]) // a fresh array: the dropped frames can be collected
	s.memFirst = low
}

// wakeUp makes the writer goroutine run another round.
func (c *Client) wakeUp() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// templateIDLocked returns the pre-assigned session id of a template.
// Called with srv.mu held.
func (fs *fileStore) templateIDLocked(srv *Server, alias string) string {
	key := strings.ToLower(alias)
	if id := fs.tplIDs[key]; id != "" && srv.sessions[id] == nil {
		return id
	}
	id := newULID(time.Now())
	for srv.sessions[id] != nil {
		id = newULID(time.Now())
	}
	fs.tplIDs[key] = id
	return id
}

// templateDescsLocked returns the session list entries of the templates
// that have no live session (server.md §2.10), unlisted ones only for
// moderators. Called with srv.mu held, from the session list.
func (srv *Server) templateDescsLocked(mod bool) []protocol.SessionDesc {
	fs := srv.files.Load()
	if fs == nil || fs.cfg.Templates == "" {
		return nil
	}
	tpls, err := fs.templates(srv.logger)
	if err != nil {
		srv.logger.Warn("cannot read the template directory", "dir", fs.cfg.Templates, "err", err)
		return nil
	}
	var out []protocol.SessionDesc
	for _, t := range tpls {
		if srv.byAlias[strings.ToLower(t.Alias)] != nil || (t.Flags&sessionfile.Unlisted != 0 && !mod) {
			continue
		}
		st := t.JournalState()
		out = append(out, protocol.SessionDesc{
			Alias:        t.Alias,
			ID:           fs.templateIDLocked(srv, t.Alias),
			Title:        st.Title,
			Founder:      st.Founder,
			HasPassword:  t.Password != "",
			MaxUserCount: st.MaxUsers,
			Nsfm:         st.Flags&sessionfile.Nsfm != 0 || srv.settings().ForceNsfm,
			Persistent:   st.Flags&sessionfile.Persistent != 0,
			AllowWeb:     st.Flags&sessionfile.AllowWeb != 0,
			AuthOnly:     st.Flags&sessionfile.AuthOnly != 0,
			IdleOverride: st.Flags&sessionfile.IdleOverride != 0,
			Invites:      st.Flags&sessionfile.Invites != 0,
			Unlisted:     st.Flags&sessionfile.Unlisted != 0,
			Protocol:     cmpOr(t.Version, sessionfile.DefaultVersion),
			StartTime:    t.ModTime.UTC().Format(time.RFC3339),
		})
	}
	return out
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"time"

	"drawbridge/internal/auth"
)

// Mode says where the server configuration lives.
type Mode int

const (
	// ModeMemory: built-in defaults held in memory (neither --config nor
	// --database); admin changes are lost at exit; no accounts or bans
	// except the external ban list; in-memory log.
	ModeMemory Mode = iota
	// ModeConfigFile: --config FILE, read-only, reloaded when it changes;
	// in-memory log.
	ModeConfigFile
	// ModeDatabase: --database FILE, drawpile-srv's SQLite schema.
	ModeDatabase
)

func (m Mode) String() string {
	switch m {
	case ModeMemory:
		return "memory"
	case ModeConfigFile:
		return "config file"
	case ModeDatabase:
		return "database"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

var (
	// ErrReadOnly: a write in config-file mode (the file is never written;
	// upstream silently ignores such writes, the admin API may answer 403
	// or ignore it).
	ErrReadOnly = errors.New("store: configuration file is read-only")
	// ErrUnsupported: the operation needs the database (accounts and ban
	// administration, locks); upstream answers 404.
	ErrUnsupported = errors.New("store: not supported without --database")
	// ErrUnknownSetting: no such setting key.
	ErrUnknownSetting = errors.New("store: unknown setting")
	// ErrNotFound: no row with that id.
	ErrNotFound = errors.New("store: not found")
	// ErrLocked: the database is locked by another process (wrapped in a
	// *DatabaseError naming the file).
	ErrLocked = errors.New("database is locked by another process")
	// ErrInvalid: a value failed validation (bad username, address, …).
	ErrInvalid = errors.New("store: invalid value")
)

// DatabaseError is an error opening or using the SQLite database; it names
// the file. errors.Is(err, ErrLocked) tells a lock held by another process.
type DatabaseError struct {
	Path string
	Op   string
	Err  error
}

func (e *DatabaseError) Error() string {
	return fmt.Sprintf("store: database %s: %s: %v", e.Path, e.Op, e.Err)
}

func (e *DatabaseError) Unwrap() error { return e.Err }

// Options configure Open. At most one of ConfigFile and Database may be
// set; with neither the store is in-memory.
type Options struct {
	// ConfigFile is the --config path (INI-style, read-only).
	ConfigFile string
	// Database is the --database path (SQLite; created if missing).
	Database string
	// Logger receives store diagnostics (malformed config lines with file
	// and line, database errors) and a copy of every server log entry.
	// Default: slog.Default().
	Logger *slog.Logger
	// Now is the clock (ban expiry, log timestamps, config recheck
	// throttle). Default time.Now.
	Now func() time.Time
	// BusyTimeout is how long a database operation waits for a lock held
	// by another process before failing (default 5 s).
	BusyTimeout time.Duration
	// HashPassword hashes new account and admin-lock passwords. Default
	// auth.HashPassword (argon2id, libsodium interactive limits); tests may
	// inject cheaper parameters.
	HashPassword func(string) (string, error)
	// ConfigRecheck is the minimum interval between lazy modification-time
	// checks of the config file on lookups (default 1 s; Watch polls too),
	// and in database mode between checks for settings committed by
	// another process (our own writes are visible at once).
	ConfigRecheck time.Duration
}

// Store is the server configuration: runtime settings, accounts, bans, the
// announcement whitelist and the server log, backed by memory, a config
// file or a database. It is safe for concurrent use.
//
// Lock order: Store.mu, then the backend's own lock; backends never call
// back into Store. No goroutine is started by Open: Watch is the only
// long-running method and runs on the caller's goroutine until its context
// ends.
type Store struct {
	// immutable after Open
	mode    Mode
	path    string
	log     *slog.Logger
	now     func() time.Time
	hash    func(string) (string, error)
	recheck time.Duration
	be      backend
	db      *dbBackend   // non-nil in ModeDatabase
	file    *fileBackend // non-nil in ModeConfigFile

	mu          sync.Mutex
	cacheVer    uint64         // guarded by mu: backend version of cached
	haveCache   bool           // guarded by mu
	checkedAt   time.Time      // guarded by mu: last database version check
	cached      Settings       // guarded by mu
	extBans     []ExtBan       // guarded by mu
	disabledExt map[int64]bool // guarded by mu; replaced, never mutated
	nameRe      nameRegexps
	closeOnce   sync.Once
	closeResult error
}

type nameRegexps struct {
	forbiddenSrc, filterSrc string
	forbidden, filter       *regexp.Regexp
	compiled                bool
}

// Open opens the configuration store described by opts. Errors name the
// file: a config file that cannot be read, or a database that cannot be
// opened, is not a database, or is locked by another process
// (errors.Is(err, ErrLocked)).
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.ConfigFile != "" && opts.Database != "" {
		return nil, errors.New("store: --config and --database are mutually exclusive")
	}
	s := &Store{log: opts.Logger, now: opts.Now, hash: opts.HashPassword}
	if s.hash == nil {
		s.hash = auth.HashPassword
	}
	s.recheck = opts.ConfigRecheck
	if s.recheck <= 0 {
		s.recheck = time.Second
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	switch {
	case opts.Database != "":
		bt := opts.BusyTimeout
		if bt <= 0 {
			bt = 5 * time.Second
		}
		db, err := openDatabase(ctx, opts.Database, bt, s.log)
		if err != nil {
			return nil, err
		}
		s.mode, s.path, s.be, s.db = ModeDatabase, opts.Database, db, db
	case opts.ConfigFile != "":
		f, err := openConfigFile(opts.ConfigFile, s.log, s.now, s.recheck)
		if err != nil {
			return nil, err
		}
		s.mode, s.path, s.be, s.file = ModeConfigFile, opts.ConfigFile, f, f
	default:
		s.mode, s.be = ModeMemory, newMemoryBackend()
	}
	s.loadExtBansFromCache()
	return s, nil
}

// Close releases the database; further calls are no-ops.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeResult = s.be.close() })
	return s.closeResult
}

// Mode reports where the configuration lives.
func (s *Store) Mode() Mode { return s.mode }

// Path is the config file or database path ("" in memory mode).
func (s *Store) Path() string { return s.path }

// Settings returns a typed snapshot of every runtime setting. It is cheap
// (cached until a setting changes: an admin write, a config file reload, or
// a commit to the database by another process) and always current, so
// callers that apply settings live should call it where they need a value.
func (s *Store) Settings() Settings {
	if s.db != nil {
		// Checking for commits by other processes costs a query; do it at
		// most every recheck interval.
		now := s.now()
		s.mu.Lock()
		if s.haveCache && now.Sub(s.checkedAt) < s.recheck && !now.Before(s.checkedAt) {
			st := s.cached
			s.mu.Unlock()
			return st
		}
		s.checkedAt = now
		s.mu.Unlock()
	}
	ver, err := s.be.version()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && s.haveCache && ver == s.cacheVer {
		return s.cached
	}
	vals, err2 := s.be.allSettings()
	if err2 != nil {
		s.log.Error("store: read settings", "path", s.path, "err", err2)
		if s.haveCache {
			return s.cached
		}
		return DefaultSettings()
	}
	s.cached = settingsFrom(func(name string) (string, bool) { v, ok := vals[name]; return v, ok })
	s.cacheVer, s.haveCache = ver, err == nil
	return s.cached
}

// Setting returns a setting's stored value, or its default when unset.
func (s *Store) Setting(name string) (string, error) {
	k, ok := LookupKey(name)
	if !ok {
		return "", fmt.Errorf("%w %q", ErrUnknownSetting, name)
	}
	v, found, err := s.be.getSetting(k.Name)
	if err != nil {
		return "", err
	}
	if !found {
		return k.Default, nil
	}
	return v, nil
}

// SetSetting validates value by the key's type (TIME, SIZE and INT must
// parse; *SettingError otherwise) and stores it. In config-file mode it
// returns ErrReadOnly (nothing is written).
func (s *Store) SetSetting(name, value string) error {
	k, ok := LookupKey(name)
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownSetting, name)
	}
	if err := k.Validate(value); err != nil {
		return err
	}
	if err := s.be.setSetting(k.Name, value); err != nil {
		return err
	}
	s.mu.Lock()
	s.haveCache = false
	s.mu.Unlock()
	return nil
}

// APISettings returns the settings shown by GET /api/server, typed for
// JSON (TIME → seconds, SIZE → bytes, INT → number, BOOL → bool), without
// the keys hidden for inactive features. The caller adds "_locked".
func (s *Store) APISettings(c APIContext) map[string]any {
	vals, err := s.be.allSettings()
	if err != nil {
		s.log.Error("store: read settings", "path", s.path, "err", err)
	}
	out := map[string]any{}
	for _, k := range Keys {
		if !c.shows(k) {
			continue
		}
		raw, ok := vals[k.Name]
		if !ok {
			raw = k.Default
		}
		out[k.Name] = apiValue(k, raw)
	}
	return out
}

// UpdateAPISettings applies a PUT /api/server body: every known,
// API-visible key present is stringified (JSONValueToSetting) and set;
// unknown keys are ignored, as upstream. All values are validated before
// any is written; the first invalid one is returned as a *SettingError.
func (s *Store) UpdateAPISettings(req map[string]any) error {
	type kv struct{ k, v string }
	var todo []kv
	for _, k := range Keys {
		if k.API == APINever {
			continue
		}
		v, ok := req[k.Name]
		if !ok {
			continue
		}
		str := JSONValueToSetting(v)
		if err := k.Validate(str); err != nil {
			return err
		}
		todo = append(todo, kv{k.Name, str})
	}
	for _, x := range todo {
		if err := s.SetSetting(x.k, x.v); err != nil {
			return err
		}
	}
	return nil
}

// AccountStatus is the outcome of an account lookup.
type AccountStatus int

const (
	// AccountNotFound: no such account; continue with guest or ext-auth.
	AccountNotFound AccountStatus = iota
	// AccountBadPassword: wrong password (an empty password means the
	// client should be asked for one: "needPassword").
	AccountBadPassword
	// AccountBanned: locked account or banned name ("bannedName").
	AccountBanned
	// AccountOK: credentials valid.
	AccountOK
)

func (a AccountStatus) String() string {
	switch a {
	case AccountNotFound:
		return "not found"
	case AccountBadPassword:
		return "bad password"
	case AccountBanned:
		return "banned"
	case AccountOK:
		return "ok"
	}
	return "AccountStatus(" + strconv.Itoa(int(a)) + ")"
}

// AccountResult is the outcome of Store.Account.
type AccountResult struct {
	Status   AccountStatus
	Username string
	// Flags are the account's flags as stored (OK only); apply
	// auth.FilterFlags(…, auth.AllowAll(settings.EnableGhosts)) and
	// auth.AddImplicitFlags for the effective set.
	Flags auth.FlagSet
	// ID is the account id: the users rowid in database mode, the
	// username in config-file mode. AuthID is "internal:<ID>".
	ID     string
	AuthID string
	// BanExempt: MOD or BANEXEMPT (internal accounts are exempt from IP
	// bans with either).
	BanExempt bool
}

// Account looks up a server account and checks the password, as
// drawpile-srv does: a locked account (DB) or a '*' hash (config file) is
// AccountBanned regardless of the password. Names are case-sensitive.
func (s *Store) Account(username, password string) AccountResult {
	row, found, err := s.be.account(username)
	if err != nil {
		s.log.Error("store: account lookup", "path", s.path, "err", err)
	}
	res := AccountResult{Username: username}
	switch {
	case err != nil || !found:
		res.Status = AccountNotFound
	case row.locked:
		res.Status = AccountBanned
	case !auth.CheckPassword(password, row.hash):
		res.Status = AccountBadPassword
	default:
		res.Status = AccountOK
		res.Flags = auth.ParseFlagList(row.flags)
		res.ID = row.id
		res.AuthID = "internal:" + row.id
		res.BanExempt = res.Flags.Has(auth.FlagMod) || res.Flags.Has(auth.FlagBanExempt)
	}
	return res
}

// HasAccounts reports whether any server account exists.
func (s *Store) HasAccounts() bool {
	ok, err := s.be.hasAccounts()
	if err != nil {
		s.log.Error("store: account lookup", "path", s.path, "err", err)
	}
	return ok
}

// CheckIP checks a client address against IP bans (database or config
// file, then the external list). IPv4-mapped IPv6 clients match IPv4 bans.
// Errors are logged and read as "not banned", as upstream.
func (s *Store) CheckIP(addr netip.Addr) BanResult {
	now := s.now()
	r, err := s.be.checkIP(addr, now)
	if err != nil {
		s.log.Error("store: ip ban check", "path", s.path, "err", err)
	}
	if !r.Banned() {
		s.mu.Lock()
		r = checkExtIP(s.extBans, s.disabledExtLocked(), now, addr)
		s.mu.Unlock()
	}
	return normalizeReaction(r)
}

// CheckSystemID checks a client system ID (check both halves of the
// client's "s" value). SID bans are not exemptable.
func (s *Store) CheckSystemID(sid string) BanResult {
	if sid == "" {
		return BanResult{}
	}
	now := s.now()
	r, err := s.be.checkSID(sid, now)
	if err != nil {
		s.log.Error("store: system ban check", "path", s.path, "err", err)
	}
	if !r.Banned() {
		s.mu.Lock()
		r = checkExtSID(s.extBans, s.disabledExtLocked(), now, sid)
		s.mu.Unlock()
	}
	return normalizeReaction(r)
}

// CheckUserID checks an ext-auth numeric user ID against user bans.
func (s *Store) CheckUserID(uid int64) BanResult {
	now := s.now()
	r, err := s.be.checkUser(uid, now)
	if err != nil {
		s.log.Error("store: user ban check", "path", s.path, "err", err)
	}
	if !r.Banned() {
		s.mu.Lock()
		r = checkExtUser(s.extBans, s.disabledExtLocked(), now, uid)
		s.mu.Unlock()
	}
	return normalizeReaction(r)
}

func normalizeReaction(r BanResult) BanResult {
	if r.Reaction == ReactionUnknown {
		r.Reaction = ReactionNormal
	}
	return r
}

// AllowedAnnouncementURL reports whether sessions may be announced to the
// list server at rawURL. Without announceWhitelist every valid URL is
// allowed; with it, config-file mode needs an exact match of a
// [announceWhitelist] line and database mode a match of one of the
// listingservers regular expressions (unanchored). Memory mode has no
// whitelist and allows everything.
func (s *Store) AllowedAnnouncementURL(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" {
		return false
	}
	if !s.Settings().AnnounceWhitelist {
		return true
	}
	ok, err := s.be.announceAllowed(u.String())
	if err != nil {
		s.log.Error("store: listing whitelist", "path", s.path, "err", err)
	}
	return ok
}

// ListServerWhitelist returns the whitelist entries (URLs in config-file
// mode, regular expressions in database mode).
func (s *Store) ListServerWhitelist() ([]string, error) { return s.be.whitelist() }

// SetListServerWhitelist replaces the database whitelist
// (/api/listserverwhitelist). Config-file mode: ErrReadOnly; memory mode:
// ErrUnsupported.
func (s *Store) SetListServerWhitelist(entries []string) error {
	return s.be.setWhitelist(entries)
}

// Log stores a server log entry (database table or in-memory ring of
// MemoryLogLimit) and writes it to the slog logger at the matching level.
// A zero Time is set from the clock.
func (s *Store) Log(e LogEntry) {
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	e.Time = e.Time.UTC().Truncate(time.Second)
	lvl := slog.LevelInfo
	switch e.Level {
	case LevelError:
		lvl = slog.LevelError
	case LevelWarn:
		lvl = slog.LevelWarn
	case LevelDebug:
		lvl = slog.LevelDebug
	}
	s.log.Log(context.Background(), lvl, e.Message, "topic", string(e.Topic), "session", e.Session, "user", e.User)
	if err := s.be.writeLog(e); err != nil {
		s.log.Error("store: write server log", "path", s.path, "err", err)
	}
}

// QueryLog returns log entries matching f, newest first.
func (s *Store) QueryLog(f LogFilter) ([]LogEntry, error) { return s.be.queryLog(f) }

// PurgeLog deletes log entries older than logpurgedays days (0 = keep
// everything) and returns how many were removed. Call it at start and
// daily, as upstream.
func (s *Store) PurgeLog() (int, error) {
	days := s.Settings().LogPurgeDays
	if days <= 0 {
		return 0, nil
	}
	now := s.now().UTC()
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	return s.be.purgeLog(midnight.AddDate(0, 0, -days))
}

// RunLogPurge calls PurgeLog now and then every 24 hours until ctx ends,
// as drawpile-srv does at start and daily. It runs on the caller's
// goroutine (`go st.RunLogPurge(ctx)`) and returns nil when ctx is done.
func (s *Store) RunLogPurge(ctx context.Context) error {
	t := time.NewTicker(24 * time.Hour)
	defer t.Stop()
	for {
		if n, err := s.PurgeLog(); err != nil {
			s.log.Error("store: purge server log", "path", s.path, "err", err)
		} else if n > 0 {
			s.log.Info("store: purged old log entries", "count", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// IsNameBanned reports whether a username or session title is forbidden by
// forbiddenNameRegex (case-insensitive, dot matches newline) after removing
// the parts matched by filterNameRegex. An invalid regex is logged once
// and ignored. Go's RE2 syntax is used (no backreferences or lookaround).
func (s *Store) IsNameBanned(name string) bool {
	st := s.Settings()
	s.mu.Lock()
	if !s.nameRe.compiled || s.nameRe.forbiddenSrc != st.ForbiddenNameRegex || s.nameRe.filterSrc != st.FilterNameRegex {
		s.nameRe = nameRegexps{forbiddenSrc: st.ForbiddenNameRegex, filterSrc: st.FilterNameRegex, compiled: true}
		s.nameRe.forbidden = s.compileNameRegex(KeyForbiddenNameRegex.Name, st.ForbiddenNameRegex)
		s.nameRe.filter = s.compileNameRegex(KeyFilterNameRegex.Name, st.FilterNameRegex)
	}
	forbidden, filter := s.nameRe.forbidden, s.nameRe.filter
	s.mu.Unlock()
	if forbidden == nil {
		return false
	}
	if filter != nil {
		name = filter.ReplaceAllString(name, "")
	}
	return forbidden.MatchString(name)
}

func (s *Store) compileNameRegex(key, src string) *regexp.Regexp {
	if src == "" {
		return nil
	}
	re, err := regexp.Compile("(?is)" + src)
	if err != nil {
		s.log.Error("store: invalid name regex", "key", key, "err", err)
		return nil
	}
	return re
}

// backend is one storage mode. Implementations are safe for concurrent
// use and never call back into Store.
type backend interface {
	version() (uint64, error)
	allSettings() (map[string]string, error)
	getSetting(name string) (string, bool, error)
	setSetting(name, value string) error
	account(username string) (accountRow, bool, error)
	hasAccounts() (bool, error)
	checkIP(addr netip.Addr, now time.Time) (BanResult, error)
	checkSID(sid string, now time.Time) (BanResult, error)
	checkUser(uid int64, now time.Time) (BanResult, error)
	announceAllowed(u string) (bool, error)
	whitelist() ([]string, error)
	setWhitelist([]string) error
	writeLog(LogEntry) error
	queryLog(LogFilter) ([]LogEntry, error)
	purgeLog(cutoff time.Time) (int, error)
	disabledExtBans() (map[int64]bool, error)
	setExtBanEnabled(id int64, enabled bool) error
	close() error
}

type accountRow struct {
	id     string
	hash   string
	locked bool
	flags  string
}

// ClientCheck is what CheckClient matches against.
type ClientCheck struct {
	Addr netip.Addr
	// SIDs are the client's system ids (both halves of cinfo's "s").
	SIDs []string
	// UserID is the ext-auth numeric uid (HasUserID false for guests and
	// internal accounts).
	UserID    int64
	HasUserID bool
	// BanExempt: MOD or BANEXEMPT honoured for this identity; waives
	// IP-derived (Exemptable) bans only.
	BanExempt bool
}

// CheckClient runs every server-wide ban check for one client: IP (unless
// exempt), then each SID, then the user id; the first match wins. An
// IP ban waived by an exemption is logged (topic Ban) and skipped.
func (s *Store) CheckClient(c ClientCheck) BanResult {
	if c.Addr.IsValid() {
		if r := s.CheckIP(c.Addr); r.Banned() {
			if !(c.BanExempt && r.Exemptable) {
				return r
			}
			s.Log(LogEntry{Level: LevelInfo, Topic: TopicBan,
				Message: fmt.Sprintf("Ban exemption applied to %s (%s ban #%d)", r.Cause, r.Source, r.SourceID)})
		}
	}
	for _, sid := range c.SIDs {
		if r := s.CheckSystemID(sid); r.Banned() {
			return r
		}
	}
	if c.HasUserID {
		if r := s.CheckUserID(c.UserID); r.Banned() {
			return r
		}
	}
	return BanResult{}
}

package store

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"drawbridge/internal/auth"
)

// The configuration file (--config), server.md §1.3. Line-oriented UTF-8;
// blank lines and lines starting with '#' are ignored; lines are trimmed;
// section headers are case-insensitive; lines before any header belong to
// [config].
//
//	[config]            key = value          (first '=' separates)
//	[ipbans]            addr  |  addr/prefix (prefix 0 or missing: one host)
//	[systembans]        sid   |  sid:reaction
//	[userbans]          uid   |  uid:reaction
//	[announceWhitelist] URL                  (exact match)
//	[users]             name:hash:flags      (exactly three ':'-separated fields)
//	[proxyRooms]        CODE=host[:port]/session (Drawbridge; see proxyrooms.go)
//
// A malformed line is reported (ConfigWarning, logged at Warn with file
// and line) and skipped; the rest loads. Unlike upstream, lines under an
// unknown section header are ignored instead of being added to the
// previous section.

// maxConfigFileSize bounds the file read on each reload.
const maxConfigFileSize = 16 << 20

// ConfigWarning is a malformed line of the configuration file.
type ConfigWarning struct {
	File   string
	Line   int // 1-based
	Text   string
	Reason string
}

func (w ConfigWarning) String() string {
	return fmt.Sprintf("%s:%d: %s: %q", w.File, w.Line, w.Reason, w.Text)
}

// configData is one parsed version of the file. Immutable once built.
type configData struct {
	settings  map[string]string
	ipBans    []configIPBan
	sysBans   map[string]BanResult
	userBans  map[int64]BanResult
	whitelist []string
	users     map[string]configUser
	warnings  []ConfigWarning
}

type configIPBan struct {
	ip     netip.Addr
	prefix int
}

type configUser struct {
	hash  string
	flags string
}

// parseConfigFile parses the configuration file format. name is used in
// warnings. It never fails: malformed lines become warnings.
func parseConfigFile(name string, data []byte) (*configData, []ConfigWarning) {
	c := &configData{
		settings: map[string]string{},
		sysBans:  map[string]BanResult{},
		userBans: map[int64]BanResult{},
		users:    map[string]configUser{},
	}
	const (
		secConfig = iota
		secIPBans
		secSystemBans
		secUserBans
		secWhitelist
		secUsers
		secUnknown
	)
	section := secConfig
	warn := func(line int, text, reason string) {
		c.warnings = append(c.warnings, ConfigWarning{File: name, Line: line, Text: text, Reason: reason})
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // UTF-8 BOM
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxConfigFileSize)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			switch strings.ToLower(line) {
			case "[config]":
				section = secConfig
			case "[ipbans]":
				section = secIPBans
			case "[systembans]":
				section = secSystemBans
			case "[userbans]":
				section = secUserBans
			case "[announcewhitelist]":
				section = secWhitelist
			case "[users]":
				section = secUsers
			case "[proxyrooms]": // Drawbridge's proxy room codes, read by proxyrooms.go
				section = secUnknown
			default:
				section = secUnknown
				warn(lineNo, line, "unknown section (its lines are ignored)")
			}
			continue
		}
		switch section {
		case secConfig:
			sep := strings.IndexByte(line, '=')
			if sep < 1 {
				warn(lineNo, line, "invalid setting line (want key = value)")
				continue
			}
			key, value := strings.TrimSpace(line[:sep]), strings.TrimSpace(line[sep+1:])
			k, ok := LookupKey(key)
			if !ok {
				warn(lineNo, line, "unknown setting "+strconv.Quote(key))
			} else if err := k.Validate(value); err != nil {
				warn(lineNo, line, fmt.Sprintf("invalid %s value (default %q used)", k.Type, k.Default))
			}
			c.settings[key] = value
		case secIPBans:
			ipStr, prefixStr, hasPrefix := strings.Cut(line, "/")
			ip := ParseBanAddress(ipStr)
			if !ip.IsValid() {
				warn(lineNo, line, "invalid IP address")
				continue
			}
			prefix := 0
			if hasPrefix {
				n, err := strconv.Atoi(strings.TrimSpace(prefixStr))
				if err != nil {
					warn(lineNo, line, "invalid prefix length (single address banned)")
				} else {
					prefix = n
				}
			}
			c.ipBans = append(c.ipBans, configIPBan{ip: ip, prefix: prefix})
		case secSystemBans:
			sid, reaction, _ := strings.Cut(line, ":")
			if _, dup := c.sysBans[sid]; dup {
				warn(lineNo, line, "duplicate system ban")
			}
			c.sysBans[sid] = BanResult{Reaction: ParseReaction(reaction), Cause: sid, Source: SourceConfigFile,
				SourceType: SourceTypeSID, SourceID: int64(len(c.sysBans) + 1)}
		case secUserBans:
			uidStr, reaction, _ := strings.Cut(line, ":")
			uid, err := strconv.ParseInt(strings.TrimSpace(uidStr), 10, 64)
			if err != nil {
				warn(lineNo, line, "invalid user id")
				continue
			}
			if _, dup := c.userBans[uid]; dup {
				warn(lineNo, line, "duplicate user ban")
			}
			c.userBans[uid] = BanResult{Reaction: ParseReaction(reaction), Cause: strconv.FormatInt(uid, 10),
				Source: SourceConfigFile, SourceType: SourceTypeUser, SourceID: int64(len(c.userBans) + 1)}
		case secWhitelist:
			u, err := url.Parse(line)
			if err != nil || u.Scheme == "" {
				warn(lineNo, line, "invalid URL")
				continue
			}
			c.whitelist = append(c.whitelist, u.String())
		case secUsers:
			parts := strings.Split(line, ":")
			if len(parts) != 3 {
				warn(lineNo, line, "line should have three parts: username:password:flags")
				continue
			}
			if !auth.IsValidHash(parts[1]) {
				warn(lineNo, line, "invalid password hash")
				continue
			}
			c.users[parts[0]] = configUser{hash: parts[1], flags: parts[2]}
		}
	}
	if err := sc.Err(); err != nil {
		warn(lineNo+1, "", "read error: "+err.Error())
	}
	return c, c.warnings
}

// fileBackend serves settings, bans, accounts and the whitelist from the
// configuration file, re-reading it when its modification time or size
// changes (checked lazily on lookups at most every recheck interval, by
// Store.Watch, or by Store.ReloadConfig). It never writes the file;
// internal ext-ban cache values go to an in-memory overlay.
type fileBackend struct {
	// immutable after construction
	path    string
	log     *slog.Logger
	now     func() time.Time
	recheck time.Duration
	mlog    *memoryLog

	mu        sync.Mutex
	data      *configData       // guarded by mu; replaced on reload
	modTime   time.Time         // guarded by mu
	size      int64             // guarded by mu
	lastCheck time.Time         // guarded by mu
	ver       uint64            // guarded by mu; bumped on reload and overlay writes
	overlay   map[string]string // guarded by mu
	disabled  map[int64]bool    // guarded by mu
}

func openConfigFile(path string, log *slog.Logger, now func() time.Time, recheck time.Duration) (*fileBackend, error) {
	f := &fileBackend{path: path, log: log, now: now, recheck: recheck, mlog: newMemoryLog(MemoryLogLimit),
		overlay: map[string]string{}, disabled: map[int64]bool{}}
	if _, err := f.reload(true); err != nil {
		return nil, err
	}
	return f, nil
}

// reload re-reads the file if it changed (or unconditionally with force).
// Errors leave the previous configuration in place.
func (f *fileBackend) reload(force bool) (bool, error) {
	st, err := os.Stat(f.path)
	if err != nil {
		return false, fmt.Errorf("store: config file %s: %w", f.path, err)
	}
	f.mu.Lock()
	same := f.data != nil && st.ModTime().Equal(f.modTime) && st.Size() == f.size
	f.mu.Unlock()
	if same && !force {
		return false, nil
	}
	if st.Size() > maxConfigFileSize {
		return false, fmt.Errorf("store: config file %s: %d bytes is too large", f.path, st.Size())
	}
	b, err := os.ReadFile(f.path)
	if err != nil {
		return false, fmt.Errorf("store: config file %s: %w", f.path, err)
	}
	data, warns := parseConfigFile(f.path, b)
	for _, w := range warns {
		f.log.Warn("store: config file: "+w.Reason, "file", w.File, "line", w.Line, "text", w.Text)
	}
	f.mu.Lock()
	f.data, f.modTime, f.size = data, st.ModTime(), st.Size()
	f.ver++
	f.mu.Unlock()
	f.log.Info("store: loaded config file", "file", f.path, "settings", len(data.settings),
		"users", len(data.users), "ipbans", len(data.ipBans), "warnings", len(warns))
	return true, nil
}

// current returns the parsed configuration, reloading lazily if the
// recheck interval passed.
func (f *fileBackend) current() *configData {
	now := f.now()
	f.mu.Lock()
	due := now.Sub(f.lastCheck) >= f.recheck || now.Before(f.lastCheck)
	if due {
		f.lastCheck = now
	}
	f.mu.Unlock()
	if due {
		if _, err := f.reload(false); err != nil {
			f.log.Error("store: reload config file", "file", f.path, "err", err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.data
}

func (f *fileBackend) setOverlay(name, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.overlay[name] = value
	f.ver++
}

func (f *fileBackend) version() (uint64, error) {
	f.current()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ver, nil
}

func (f *fileBackend) allSettings() (map[string]string, error) {
	d := f.current()
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]string, len(d.settings)+len(f.overlay))
	for k, v := range d.settings {
		out[k] = v
	}
	for k, v := range f.overlay {
		out[k] = v
	}
	return out, nil
}

func (f *fileBackend) getSetting(name string) (string, bool, error) {
	d := f.current()
	f.mu.Lock()
	defer f.mu.Unlock()
	if v, ok := f.overlay[name]; ok {
		return v, true, nil
	}
	v, ok := d.settings[name]
	return v, ok, nil
}

func (f *fileBackend) setSetting(string, string) error { return ErrReadOnly }

func (f *fileBackend) account(username string) (accountRow, bool, error) {
	u, ok := f.current().users[username]
	if !ok {
		return accountRow{}, false, nil
	}
	return accountRow{id: username, hash: u.hash, locked: auth.IsDisabledHash(u.hash), flags: u.flags}, true, nil
}

func (f *fileBackend) hasAccounts() (bool, error) { return len(f.current().users) > 0, nil }

func (f *fileBackend) checkIP(addr netip.Addr, _ time.Time) (BanResult, error) {
	for i, b := range f.current().ipBans {
		if MatchesBannedAddress(addr, b.ip, b.prefix) {
			return BanResult{Reaction: ReactionNormal, Cause: addr.String(), Source: SourceConfigFile,
				SourceType: SourceTypeIP, SourceID: int64(i + 1), Exemptable: true}, nil
		}
	}
	return BanResult{}, nil
}

func (f *fileBackend) checkSID(sid string, _ time.Time) (BanResult, error) {
	return f.current().sysBans[sid], nil
}

func (f *fileBackend) checkUser(uid int64, _ time.Time) (BanResult, error) {
	return f.current().userBans[uid], nil
}

func (f *fileBackend) announceAllowed(u string) (bool, error) {
	for _, w := range f.current().whitelist {
		if w == u {
			return true, nil
		}
	}
	return false, nil
}

func (f *fileBackend) whitelist() ([]string, error) {
	return append([]string(nil), f.current().whitelist...), nil
}

func (f *fileBackend) setWhitelist([]string) error              { return ErrReadOnly }
func (f *fileBackend) writeLog(e LogEntry) error                { f.mlog.add(e); return nil }
func (f *fileBackend) queryLog(q LogFilter) ([]LogEntry, error) { return f.mlog.query(q), nil }
func (f *fileBackend) purgeLog(cutoff time.Time) (int, error)   { return f.mlog.purge(cutoff), nil }
func (f *fileBackend) close() error                             { return nil }
func (f *fileBackend) disabledExtBans() (map[int64]bool, error) { return map[int64]bool{}, nil }
func (f *fileBackend) setExtBanEnabled(id int64, en bool) error { return nil }

// ConfigWarnings returns the malformed lines of the currently loaded
// config file (nil in other modes).
func (s *Store) ConfigWarnings() []ConfigWarning {
	if s.file == nil {
		return nil
	}
	d := s.file.current()
	return append([]ConfigWarning(nil), d.warnings...)
}

// ReloadConfig re-reads the config file now if its modification time or
// size changed; it reports whether it did. No-op in other modes. A read
// error keeps the previous configuration and is returned.
func (s *Store) ReloadConfig() (bool, error) {
	if s.file == nil {
		return false, nil
	}
	changed, err := s.file.reload(false)
	if changed {
		s.mu.Lock()
		s.haveCache = false
		s.mu.Unlock()
	}
	return changed, err
}

// Watch polls the config file every interval (default 2 s if ≤ 0) and
// reloads it when it changes, until ctx ends; errors are logged. It runs
// on the caller's goroutine (`go st.Watch(ctx, 0)`) and returns nil when
// ctx is done; in other modes it just waits for ctx. Lookups also reload
// lazily, so Watch only makes reloads (and their log lines) prompt.
func (s *Store) Watch(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	if s.file == nil {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := s.ReloadConfig(); err != nil {
				s.log.Error("store: reload config file", "file", s.path, "err", err)
			}
		}
	}
}

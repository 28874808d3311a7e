package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"drawbridge/internal/auth"
)

// The configuration database (--database), server.md §1.4. The schema is
// drawpile-srv's, created if missing (no migrations table), WAL mode,
// foreign keys off, so a database written by drawpile-srv works unchanged
// and vice versa. Dates are "yyyy-MM-dd HH:mm:ss" text (written in UTC
// here; drawpile-srv writes local time), log timestamps ISO 8601 UTC.
//
// Schema is the exact DDL drawpile-srv runs.
var Schema = []string{
	"create table if not exists settings (key primary key, value)",
	"create table if not exists listingservers (url)",
	"create table if not exists ipbans (ip, subnet, expires, comment, added)",
	"create table if not exists systembans (id integer primary key not null,sid text not null,reaction text not null default 'normal',expires text not null,comment text,reason text,added text not null)",
	"create table if not exists userbans (id integer primary key not null,userid integer not null,reaction text not null default 'normal',expires text not null,comment text,reason text,added text not null)",
	"create table if not exists users (username unique, password, locked, flags)",
	"create table if not exists disabledextbans (id integer primary key not null)",
	"create table if not exists serverlog (timestamp, level, topic, user, session, message)",
}

// dbBackend is ModeDatabase. All access goes through one connection
// (SetMaxOpenConns(1)), so "PRAGMA data_version" tells commits by other
// processes (e.g. drawpile-srv's bantool.py) apart from ours.
type dbBackend struct {
	// immutable after construction
	path string
	db   *sql.DB
	log  *slog.Logger

	mu     sync.Mutex
	ownVer uint64 // guarded by mu; bumped by our own settings writes
}

func openDatabase(ctx context.Context, path string, busy time.Duration, log *slog.Logger) (*dbBackend, error) {
	if strings.ContainsRune(path, '?') {
		return nil, &DatabaseError{Path: path, Op: "open", Err: errors.New("path must not contain '?'")}
	}
	// synchronous=NORMAL is corruption-safe in WAL mode and avoids an fsync
	// per server log entry; a power cut may lose the last few entries.
	dsn := fmt.Sprintf("%s?_pragma=busy_timeout(%d)&_pragma=foreign_keys(0)&_pragma=synchronous(1)", path, busy.Milliseconds())
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, dbError(path, "open", err)
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	d := &dbBackend{path: path, db: db, log: log}
	if err := d.init(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

func (d *dbBackend) init(ctx context.Context) error {
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return dbError(d.path, "open", err)
	}
	defer conn.Close()
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode); err != nil {
		return dbError(d.path, "enable WAL", err)
	}
	if !strings.EqualFold(mode, "wal") {
		d.log.Warn("store: database not in WAL mode", "path", d.path, "journal_mode", mode)
	}
	// BEGIN IMMEDIATE takes the write lock now, so a database held by
	// another process is reported at start rather than on first write.
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return dbError(d.path, "lock", err)
	}
	for _, stmt := range Schema {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
			return dbError(d.path, "create tables", err)
		}
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		return dbError(d.path, "create tables", err)
	}
	return nil
}

// dbError wraps err naming the file; SQLITE_BUSY/SQLITE_LOCKED become
// ErrLocked.
func dbError(path, op string, err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			err = fmt.Errorf("%w (%v)", ErrLocked, err)
		case sqlite3.SQLITE_NOTADB:
			err = fmt.Errorf("file is not an SQLite database (%v)", err)
		}
	}
	return &DatabaseError{Path: path, Op: op, Err: err}
}

func (d *dbBackend) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return dbError(d.path, op, err)
}

func (d *dbBackend) close() error { return d.wrap("close", d.db.Close()) }

func (d *dbBackend) version() (uint64, error) {
	var dv int64
	if err := d.db.QueryRow("PRAGMA data_version").Scan(&dv); err != nil {
		return 0, d.wrap("data_version", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ownVer<<32 ^ uint64(dv), nil
}

// asString reads a loosely typed SQLite value as text (Qt's
// columnText16).
func asString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		if x {
			return "1"
		}
		return "0"
	case time.Time:
		return x.UTC().Format(DateTimeLayout)
	}
	return fmt.Sprint(v)
}

// asInt reads a loosely typed SQLite value as an integer (Qt's
// columnInt: text is converted, garbage is 0).
func asInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	case bool:
		if x {
			return 1
		}
		return 0
	}
	s := strings.TrimSpace(asString(v))
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return int64(f)
	}
	return 0
}

func (d *dbBackend) allSettings() (map[string]string, error) {
	rows, err := d.db.Query("select key, value from settings")
	if err != nil {
		return nil, d.wrap("read settings", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v any
		if err := rows.Scan(&k, &v); err != nil {
			return nil, d.wrap("read settings", err)
		}
		out[asString(k)] = asString(v)
	}
	return out, d.wrap("read settings", rows.Err())
}

func (d *dbBackend) getSetting(name string) (string, bool, error) {
	var v any
	err := d.db.QueryRow("select value from settings where key = ?", name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, d.wrap("read setting", err)
	}
	return asString(v), true, nil
}

func (d *dbBackend) setSetting(name, value string) error {
	if _, err := d.db.Exec("insert or replace into settings values (?, ?)", name, value); err != nil {
		return d.wrap("write setting", err)
	}
	d.mu.Lock()
	d.ownVer++
	d.mu.Unlock()
	return nil
}

func (d *dbBackend) account(username string) (accountRow, bool, error) {
	var id int64
	var pw, locked, flags any
	err := d.db.QueryRow("select rowid, password, locked, flags from users where username = ?", username).Scan(&id, &pw, &locked, &flags)
	if errors.Is(err, sql.ErrNoRows) {
		return accountRow{}, false, nil
	}
	if err != nil {
		return accountRow{}, false, d.wrap("read account", err)
	}
	return accountRow{id: strconv.FormatInt(id, 10), hash: asString(pw), locked: asInt(locked) != 0, flags: asString(flags)}, true, nil
}

func (d *dbBackend) hasAccounts() (bool, error) {
	var one int
	err := d.db.QueryRow("select 1 from users limit 1").Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, d.wrap("read accounts", err)
}

func (d *dbBackend) checkIP(addr netip.Addr, now time.Time) (BanResult, error) {
	rows, err := d.db.Query("select rowid, ip, subnet, expires from ipbans where expires > ?", FormatDateTime(now))
	if err != nil {
		return BanResult{}, d.wrap("check ip bans", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var ip, subnet, expires any
		if err := rows.Scan(&id, &ip, &subnet, &expires); err != nil {
			return BanResult{}, d.wrap("check ip bans", err)
		}
		if MatchesBannedAddress(addr, ParseBanAddress(asString(ip)), int(asInt(subnet))) {
			exp, _ := ParseDateTime(asString(expires))
			return BanResult{Reaction: ReactionNormal, Expires: exp, Cause: addr.String(), Source: SourceDatabase,
				SourceType: SourceTypeIP, SourceID: id, Exemptable: true}, nil
		}
	}
	return BanResult{}, d.wrap("check ip bans", rows.Err())
}

func (d *dbBackend) checkIDBan(query, cause, sourceType string, arg any, now time.Time) (BanResult, error) {
	var id int64
	var reaction, expires, reason any
	err := d.db.QueryRow(query, arg, FormatDateTime(now)).Scan(&id, &reaction, &expires, &reason)
	if errors.Is(err, sql.ErrNoRows) {
		return BanResult{}, nil
	}
	if err != nil {
		return BanResult{}, d.wrap("check bans", err)
	}
	exp, _ := ParseDateTime(asString(expires))
	return BanResult{Reaction: ParseReaction(asString(reaction)), Reason: asString(reason), Expires: exp, Cause: cause,
		Source: SourceDatabase, SourceType: sourceType, SourceID: id}, nil
}

func (d *dbBackend) checkSID(sid string, now time.Time) (BanResult, error) {
	return d.checkIDBan("select id, reaction, expires, reason from systembans where sid = ? and expires > ? limit 1",
		sid, SourceTypeSID, sid, now)
}

func (d *dbBackend) checkUser(uid int64, now time.Time) (BanResult, error) {
	return d.checkIDBan("select id, reaction, expires, reason from userbans where userid = ? and expires > ? limit 1",
		strconv.FormatInt(uid, 10), SourceTypeUser, uid, now)
}

func (d *dbBackend) whitelist() ([]string, error) {
	rows, err := d.db.Query("select url from listingservers")
	if err != nil {
		return nil, d.wrap("read listingservers", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u any
		if err := rows.Scan(&u); err != nil {
			return nil, d.wrap("read listingservers", err)
		}
		out = append(out, asString(u))
	}
	return out, d.wrap("read listingservers", rows.Err())
}

func (d *dbBackend) announceAllowed(u string) (bool, error) {
	list, err := d.whitelist()
	if err != nil {
		return false, err
	}
	for _, pat := range list {
		re, err := regexp.Compile(pat)
		if err != nil {
			d.log.Warn("store: invalid listingservers whitelist regexp", "path", d.path, "regexp", pat, "err", err)
			continue
		}
		if re.MatchString(u) {
			return true, nil
		}
	}
	return false, nil
}

func (d *dbBackend) setWhitelist(list []string) error {
	tx, err := d.db.Begin()
	if err != nil {
		return d.wrap("write listingservers", err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("delete from listingservers"); err != nil {
		return d.wrap("write listingservers", err)
	}
	for _, u := range list {
		if _, err := tx.Exec("insert into listingservers values (?)", u); err != nil {
			return d.wrap("write listingservers", err)
		}
	}
	return d.wrap("write listingservers", tx.Commit())
}

func (d *dbBackend) writeLog(e LogEntry) error {
	_, err := d.db.Exec("insert into serverlog (timestamp, level, topic, user, session, message) values (?, ?, ?, ?, ?, ?)",
		formatLogTime(e.Time), int(e.Level), string(e.Topic), e.User, e.Session, e.Message)
	return d.wrap("write serverlog", err)
}

func (d *dbBackend) queryLog(f LogFilter) ([]LogEntry, error) {
	q := "select timestamp, session, user, level, topic, message from serverlog where 1 = 1"
	var args []any
	if f.Session != "" {
		q += " and lower(session) = lower(?)"
		args = append(args, f.Session)
	}
	if f.User != "" {
		q += " and instr(lower(user), lower(?))"
		args = append(args, f.User)
	}
	if f.Message != "" {
		q += " and instr(lower(message), lower(?))"
		args = append(args, f.Message)
	}
	if !f.After.IsZero() {
		q += " and timestamp >= ?"
		args = append(args, formatLogTime(f.After.Add(time.Second)))
	}
	if f.MaxLevel < LevelDebug {
		q += " and level <= ?"
		args = append(args, int(f.MaxLevel))
	}
	if f.OmitSensitive {
		q += " and topic not in ('ClientInfo', 'Report')"
	}
	if f.OmitKicksAndBans {
		q += " and topic not in ('Kick', 'Ban', 'Unban')"
	}
	q += " order by timestamp desc, rowid desc"
	if f.Limit > 0 || f.Offset > 0 {
		limit := f.Limit
		if limit <= 0 {
			limit = -1
		}
		q += " limit ? offset ?"
		args = append(args, limit, max(f.Offset, 0))
	}
	rows, err := d.db.Query(q, args...)
	if err != nil {
		return nil, d.wrap("query serverlog", err)
	}
	defer rows.Close()
	var out []LogEntry
	for rows.Next() {
		var ts, session, user, level, topic, msg any
		if err := rows.Scan(&ts, &session, &user, &level, &topic, &msg); err != nil {
			return nil, d.wrap("query serverlog", err)
		}
		out = append(out, LogEntry{Time: parseLogTime(asString(ts)), Session: asString(session), User: asString(user),
			Level: LogLevel(asInt(level)), Topic: LogTopic(asString(topic)), Message: asString(msg)})
	}
	return out, d.wrap("query serverlog", rows.Err())
}

func (d *dbBackend) purgeLog(cutoff time.Time) (int, error) {
	res, err := d.db.Exec("delete from serverlog where timestamp < ?", cutoff.UTC().Format("2006-01-02"))
	if err != nil {
		return 0, d.wrap("purge serverlog", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func (d *dbBackend) disabledExtBans() (map[int64]bool, error) {
	rows, err := d.db.Query("select id from disabledextbans")
	if err != nil {
		return nil, d.wrap("read disabledextbans", err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, d.wrap("read disabledextbans", err)
		}
		out[id] = true
	}
	return out, d.wrap("read disabledextbans", rows.Err())
}

func (d *dbBackend) setExtBanEnabled(id int64, enabled bool) error {
	var err error
	if enabled {
		_, err = d.db.Exec("delete from disabledextbans where id = ?", id)
	} else {
		_, err = d.db.Exec("insert or replace into disabledextbans (id) values (?)", id)
	}
	return d.wrap("write disabledextbans", err)
}

// ValidUsername reports whether name is acceptable as an account or user
// name: non-empty, at most 22 UTF-16 code units, no '"'.
func ValidUsername(name string) bool {
	if name == "" || strings.ContainsRune(name, '"') {
		return false
	}
	n := 0
	for _, r := range name {
		n += utf16.RuneLen(r)
		if n > 22 {
			return false
		}
	}
	return true
}

// AccountEntry is an account as listed by the admin API (/api/accounts).
type AccountEntry struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Locked   bool   `json:"locked"`
	Flags    string `json:"flags"`
}

// Accounts lists server accounts (database mode only).
func (s *Store) Accounts() ([]AccountEntry, error) {
	if s.db == nil {
		return nil, ErrUnsupported
	}
	rows, err := s.db.db.Query("select rowid, username, locked, flags from users")
	if err != nil {
		return nil, s.db.wrap("list accounts", err)
	}
	defer rows.Close()
	var out []AccountEntry
	for rows.Next() {
		e, err := scanAccount(rows)
		if err != nil {
			return nil, s.db.wrap("list accounts", err)
		}
		out = append(out, e)
	}
	return out, s.db.wrap("list accounts", rows.Err())
}

type scanner interface{ Scan(...any) error }

func scanAccount(r scanner) (AccountEntry, error) {
	var e AccountEntry
	var name, locked, flags any
	if err := r.Scan(&e.ID, &name, &locked, &flags); err != nil {
		return e, err
	}
	e.Username, e.Locked, e.Flags = asString(name), asInt(locked) != 0, asString(flags)
	return e, nil
}

func (s *Store) account(id int64) (AccountEntry, error) {
	e, err := scanAccount(s.db.db.QueryRow("select rowid, username, locked, flags from users where rowid = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, ErrNotFound
	}
	return e, s.db.wrap("read account", err)
}

// AddAccount creates an account; the password is hashed with argon2id
// ("" stores no password). Database mode only.
func (s *Store) AddAccount(username, password string, locked bool, flags auth.FlagSet) (AccountEntry, error) {
	if s.db == nil {
		return AccountEntry{}, ErrUnsupported
	}
	if !ValidUsername(username) {
		return AccountEntry{}, fmt.Errorf("%w: username %q", ErrInvalid, username)
	}
	hash := ""
	if password != "" {
		var err error
		if hash, err = s.hash(password); err != nil {
			return AccountEntry{}, err
		}
	}
	res, err := s.db.db.Exec("insert into users (username, password, locked, flags) values (?, ?, ?, ?)",
		username, []byte(hash), boolInt(locked), flags.String())
	if err != nil {
		return AccountEntry{}, s.db.wrap("add account", err)
	}
	id, _ := res.LastInsertId()
	return s.account(id)
}

// AccountUpdate lists the fields to change; nil fields are kept.
type AccountUpdate struct {
	Username *string
	Password *string // "" is ignored, as upstream
	Locked   *bool
	Flags    *string // comma-separated
}

// UpdateAccount changes an account (database mode only).
func (s *Store) UpdateAccount(id int64, u AccountUpdate) (AccountEntry, error) {
	if s.db == nil {
		return AccountEntry{}, ErrUnsupported
	}
	var sets []string
	var args []any
	if u.Username != nil {
		if !ValidUsername(*u.Username) {
			return AccountEntry{}, fmt.Errorf("%w: username %q", ErrInvalid, *u.Username)
		}
		sets, args = append(sets, "username = ?"), append(args, *u.Username)
	}
	if u.Password != nil && *u.Password != "" {
		h, err := s.hash(*u.Password)
		if err != nil {
			return AccountEntry{}, err
		}
		sets, args = append(sets, "password = ?"), append(args, []byte(h))
	}
	if u.Locked != nil {
		sets, args = append(sets, "locked = ?"), append(args, boolInt(*u.Locked))
	}
	if u.Flags != nil {
		sets, args = append(sets, "flags = ?"), append(args, *u.Flags)
	}
	if len(sets) > 0 {
		res, err := s.db.db.Exec("update users set "+strings.Join(sets, ",")+" where rowid = ?", append(args, id)...)
		if err != nil {
			return AccountEntry{}, s.db.wrap("update account", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return AccountEntry{}, ErrNotFound
		}
	}
	return s.account(id)
}

// DeleteAccount removes an account (database mode only).
func (s *Store) DeleteAccount(id int64) error {
	if s.db == nil {
		return ErrUnsupported
	}
	return s.deleteRow("delete from users where rowid = ?", id)
}

func (s *Store) deleteRow(q string, id int64) error {
	res, err := s.db.db.Exec(q, id)
	if err != nil {
		return s.db.wrap("delete", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// IPBanEntry is a row of ipbans as listed by the admin API (/api/banlist).
type IPBanEntry struct {
	ID      int64  `json:"id"`
	IP      string `json:"ip"`
	Subnet  int    `json:"subnet"`
	Expires string `json:"expires"`
	Comment string `json:"comment"`
	Added   string `json:"added"`
}

// IPBans lists IP bans, expired ones included (database mode only).
func (s *Store) IPBans() ([]IPBanEntry, error) {
	if s.db == nil {
		return nil, ErrUnsupported
	}
	rows, err := s.db.db.Query("select rowid, ip, subnet, expires, comment, added from ipbans")
	if err != nil {
		return nil, s.db.wrap("list ip bans", err)
	}
	defer rows.Close()
	var out []IPBanEntry
	for rows.Next() {
		e, err := scanIPBan(rows)
		if err != nil {
			return nil, s.db.wrap("list ip bans", err)
		}
		out = append(out, e)
	}
	return out, s.db.wrap("list ip bans", rows.Err())
}

func scanIPBan(r scanner) (IPBanEntry, error) {
	var e IPBanEntry
	var ip, subnet, expires, comment, added any
	if err := r.Scan(&e.ID, &ip, &subnet, &expires, &comment, &added); err != nil {
		return e, err
	}
	e.IP, e.Subnet, e.Expires, e.Comment, e.Added = asString(ip), int(asInt(subnet)), asString(expires), asString(comment), asString(added)
	return e, nil
}

// AddIPBan bans ip/subnet (0 = single address) until expires; an identical
// ip+subnet row is returned unchanged instead of adding a duplicate.
func (s *Store) AddIPBan(ip netip.Addr, subnet int, expires time.Time, comment string) (IPBanEntry, error) {
	if s.db == nil {
		return IPBanEntry{}, ErrUnsupported
	}
	if !ip.IsValid() || subnet < 0 || subnet > ip.BitLen() {
		return IPBanEntry{}, fmt.Errorf("%w: ip ban %v/%d", ErrInvalid, ip, subnet)
	}
	ipStr := ip.String()
	e, err := scanIPBan(s.db.db.QueryRow("select rowid, ip, subnet, expires, comment, added from ipbans where ip = ? and subnet = ?", ipStr, subnet))
	if err == nil {
		return e, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return e, s.db.wrap("add ip ban", err)
	}
	added := FormatDateTime(s.now())
	res, err := s.db.db.Exec("insert into ipbans (ip, subnet, expires, comment, added) values (?, ?, ?, ?, ?)",
		ipStr, subnet, FormatDateTime(expires), comment, added)
	if err != nil {
		return IPBanEntry{}, s.db.wrap("add ip ban", err)
	}
	id, _ := res.LastInsertId()
	return IPBanEntry{ID: id, IP: ipStr, Subnet: subnet, Expires: FormatDateTime(expires), Comment: comment, Added: added}, nil
}

// DeleteIPBan removes an IP ban by id.
func (s *Store) DeleteIPBan(id int64) error {
	if s.db == nil {
		return ErrUnsupported
	}
	return s.deleteRow("delete from ipbans where rowid = ?", id)
}

// IDBanEntry is a row of systembans (SID set) or userbans (UserID set).
type IDBanEntry struct {
	ID       int64  `json:"id"`
	SID      string `json:"sid,omitempty"`
	UserID   int64  `json:"userId,omitempty"`
	Expires  string `json:"expires"`
	Reaction string `json:"reaction"`
	Reason   string `json:"reason"`
	Comment  string `json:"comment"`
	Added    string `json:"added"`
}

// SystemBans lists system-id bans (database mode only).
func (s *Store) SystemBans() ([]IDBanEntry, error) {
	return s.listIDBans("select id, sid, expires, reaction, reason, comment, added from systembans order by id asc", true)
}

// UserBans lists ext-auth user-id bans (database mode only).
func (s *Store) UserBans() ([]IDBanEntry, error) {
	return s.listIDBans("select id, userid, expires, reaction, reason, comment, added from userbans order by id asc", false)
}

func (s *Store) listIDBans(q string, sid bool) ([]IDBanEntry, error) {
	if s.db == nil {
		return nil, ErrUnsupported
	}
	rows, err := s.db.db.Query(q)
	if err != nil {
		return nil, s.db.wrap("list bans", err)
	}
	defer rows.Close()
	var out []IDBanEntry
	for rows.Next() {
		var e IDBanEntry
		var who, expires, reaction, reason, comment, added any
		if err := rows.Scan(&e.ID, &who, &expires, &reaction, &reason, &comment, &added); err != nil {
			return nil, s.db.wrap("list bans", err)
		}
		if sid {
			e.SID = asString(who)
		} else {
			e.UserID = asInt(who)
		}
		e.Expires, e.Reaction, e.Reason, e.Comment, e.Added = asString(expires), asString(reaction), asString(reason), asString(comment), asString(added)
		out = append(out, e)
	}
	return out, s.db.wrap("list bans", rows.Err())
}

// AddSystemBan bans a system id (database mode only).
func (s *Store) AddSystemBan(sid string, expires time.Time, r Reaction, reason, comment string) (IDBanEntry, error) {
	if sid == "" {
		return IDBanEntry{}, fmt.Errorf("%w: empty sid", ErrInvalid)
	}
	return s.addIDBan("insert into systembans (sid, expires, reaction, reason, comment, added) values (?, ?, ?, ?, ?, ?)",
		IDBanEntry{SID: sid}, sid, expires, r, reason, comment)
}

// AddUserBan bans an ext-auth user id (database mode only).
func (s *Store) AddUserBan(uid int64, expires time.Time, r Reaction, reason, comment string) (IDBanEntry, error) {
	return s.addIDBan("insert into userbans (userid, expires, reaction, reason, comment, added) values (?, ?, ?, ?, ?, ?)",
		IDBanEntry{UserID: uid}, uid, expires, r, reason, comment)
}

func (s *Store) addIDBan(q string, e IDBanEntry, who any, expires time.Time, r Reaction, reason, comment string) (IDBanEntry, error) {
	if s.db == nil {
		return IDBanEntry{}, ErrUnsupported
	}
	if r == NotBanned || r == ReactionUnknown {
		r = ReactionNormal
	}
	e.Expires, e.Reaction, e.Reason, e.Comment, e.Added = FormatDateTime(expires), r.String(), reason, comment, FormatDateTime(s.now())
	res, err := s.db.db.Exec(q, who, e.Expires, e.Reaction, reason, comment, e.Added)
	if err != nil {
		return IDBanEntry{}, s.db.wrap("add ban", err)
	}
	e.ID, _ = res.LastInsertId()
	return e, nil
}

// DeleteSystemBan removes a system-id ban by id.
func (s *Store) DeleteSystemBan(id int64) error {
	if s.db == nil {
		return ErrUnsupported
	}
	return s.deleteRow("delete from systembans where id = ?", id)
}

// DeleteUserBan removes a user-id ban by id.
func (s *Store) DeleteUserBan(id int64) error {
	if s.db == nil {
		return ErrUnsupported
	}
	return s.deleteRow("delete from userbans where id = ?", id)
}

// Admin section locks (drawpile-srv's /api/locks), database mode only:
// settings rows "_lock_admin_section_<section>" (value 1) and
// "_lock_admin_hash" (password hash).
const (
	lockSectionPrefix = "_lock_admin_section_"
	lockHashKey       = "_lock_admin_hash"
)

// SupportsAdminLocks reports whether admin section locks are available
// (database mode).
func (s *Store) SupportsAdminLocks() bool { return s.db != nil }

// AdminSectionLocked reports whether an admin API section is locked.
func (s *Store) AdminSectionLocked(section string) bool {
	if s.db == nil {
		return false
	}
	_, found, err := s.db.getSetting(lockSectionPrefix + section)
	if err != nil {
		s.log.Error("store: read admin lock", "path", s.path, "err", err)
	}
	return found
}

// CheckAdminLockPassword reports whether password unlocks the admin
// locks: true when no valid lock password is set, else the password must
// be non-empty and match.
func (s *Store) CheckAdminLockPassword(password string) bool {
	if s.db == nil {
		return true
	}
	hash, _, err := s.db.getSetting(lockHashKey)
	if err != nil {
		s.log.Error("store: read admin lock", "path", s.path, "err", err)
		return false
	}
	return !auth.IsValidHash(hash) || (password != "" && auth.CheckPassword(password, hash))
}

// SetAdminSectionsLocked replaces the locked sections and the lock
// password ("" = none) in one transaction.
func (s *Store) SetAdminSectionsLocked(sections []string, password string) error {
	if s.db == nil {
		return ErrUnsupported
	}
	hash := ""
	if password != "" {
		var err error
		if hash, err = s.hash(password); err != nil {
			return err
		}
	}
	tx, err := s.db.db.Begin()
	if err != nil {
		return s.db.wrap("write admin locks", err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("delete from settings where instr(key, '_lock_admin_') = 1"); err != nil {
		return s.db.wrap("write admin locks", err)
	}
	for _, sec := range sections {
		if _, err := tx.Exec("insert or replace into settings (key, value) values (?, 1)", lockSectionPrefix+sec); err != nil {
			return s.db.wrap("write admin locks", err)
		}
	}
	if hash != "" {
		if _, err := tx.Exec("insert into settings (key, value) values (?, ?)", lockHashKey, hash); err != nil {
			return s.db.wrap("write admin locks", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.db.wrap("write admin locks", err)
	}
	s.db.mu.Lock()
	s.db.ownVer++
	s.db.mu.Unlock()
	return nil
}

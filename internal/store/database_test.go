package store

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"drawbridge/internal/auth"
)

// TestMain doubles as the "other process" of the locked-database test: with
// STORE_TEST_LOCK_DB set, the test binary opens that database, takes the
// write lock, prints "locked" and holds it until its stdin closes.
func TestMain(m *testing.M) {
	if path := os.Getenv("STORE_TEST_LOCK_DB"); path != "" {
		os.Exit(holdLock(path))
	}
	os.Exit(m.Run())
}

func holdLock(path string) int {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN EXCLUSIVE"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := conn.ExecContext(context.Background(), "insert into settings values ('x', 'y')"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("locked")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// drawpileSrvDDL is the schema as drawpile-srv creates it (thinsrv/
// database.cpp and dblog.cpp), written out here independently of Schema so
// the test checks compatibility rather than self-consistency.
var drawpileSrvDDL = []string{
	`create table if not exists settings (key primary key, value)`,
	`create table if not exists listingservers (url)`,
	`create table if not exists ipbans (ip, subnet, expires, comment, added)`,
	`create table if not exists systembans (id integer primary key not null,sid text not null,reaction text not null default 'normal',expires text not null,comment text,reason text,added text not null)`,
	`create table if not exists userbans (id integer primary key not null,userid integer not null,reaction text not null default 'normal',expires text not null,comment text,reason text,added text not null)`,
	`create table if not exists users (username unique, password, locked, flags)`,
	`create table if not exists disabledextbans (id integer primary key not null)`,
	`create table if not exists serverlog (timestamp, level, topic, user, session, message)`,
}

// makeFixtureDB builds a database the way drawpile-srv fills it: password
// hashes as BLOBs, locked as 0/1, dates as "yyyy-MM-dd HH:mm:ss" text,
// log levels as integers and topics by name.
func makeFixtureDB(t *testing.T, wal bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "drawpile-srv.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stmts := append([]string(nil), drawpileSrvDDL...)
	if wal {
		stmts = append([]string{"PRAGMA journal_mode=WAL"}, stmts...)
	}
	stmts = append(stmts,
		`insert into settings values ('serverTitle', 'Fixture server')`,
		`insert into settings values ('sessionSizeLimit', '20mb')`,
		`insert into settings values ('allowGuests', 'false')`,
		`insert into settings values ('sessionCountLimit', 'lots')`,
		`insert into settings values ('_lock_admin_section_server', 1)`,
		`insert into settings values ('logpurgedays', '30')`,
		`insert into listingservers values ('^https://pub\.drawpile\.net/')`,
		`insert into listingservers values ('([')`,
		`insert into ipbans (ip, subnet, expires, comment, added) values ('192.0.2.10', 0, '2099-01-01 00:00:00', 'single', '2024-01-01 12:00:00')`,
		`insert into ipbans (ip, subnet, expires, comment, added) values ('198.51.100.0', 24, '2099-01-01 00:00:00', 'range', '2024-01-01 12:00:00')`,
		`insert into ipbans (ip, subnet, expires, comment, added) values ('2001:db8::', 48, '2099-01-01 00:00:00', 'v6', '2024-01-01 12:00:00')`,
		`insert into ipbans (ip, subnet, expires, comment, added) values ('203.0.113.5', 0, '2020-01-01 00:00:00', 'expired', '2019-01-01 12:00:00')`,
		`insert into ipbans (ip, subnet, expires, comment, added) values ('::ffff:192.0.2.77', 128, '2099-01-01 00:00:00', 'mapped', '2024-01-01 12:00:00')`,
		`insert into systembans (sid, reaction, expires, comment, reason, added) values ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'neterror', '2099-01-01 00:00:00', 'c', 'spam', '2024-01-01 12:00:00')`,
		`insert into systembans (sid, expires, comment, reason, added) values ('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', '2020-01-01 00:00:00', 'c', 'old', '2019-01-01 12:00:00')`,
		`insert into systembans (sid, reaction, expires, comment, reason, added) values ('cccccccccccccccccccccccccccccccc', 'weird', '2099-01-01 00:00:00', '', '', '2024-01-01 12:00:00')`,
		`insert into userbans (userid, reaction, expires, comment, reason, added) values (1001, 'timer', '2027-06-01 00:00:00', 'c', 'abuse', '2024-01-01 12:00:00')`,
		`insert into userbans (userid, expires, comment, reason, added) values (1002, '2020-01-01 00:00:00', 'c', 'old', '2019-01-01 12:00:00')`,
		`insert into users (username, password, locked, flags) values ('admin', CAST('`+hashSodiumHunter2+`' AS BLOB), 0, 'MOD,HOST')`,
		`insert into users (username, password, locked, flags) values ('olduser', CAST('`+hashSHA1Sha1pass+`' AS BLOB), 0, '')`,
		`insert into users (username, password, locked, flags) values ('pbuser', CAST('`+hashPBKDF2Pbk+`' AS BLOB), 0, 'TRUSTED,')`,
		`insert into users (username, password, locked, flags) values ('plainuser', 'plain;pw', 0, 'BANEXEMPT')`,
		`insert into users (username, password, locked, flags) values ('locked', 'plain;pw', 1, 'MOD')`,
		`insert into users (username, password, locked, flags) values ('nopass', NULL, 0, NULL)`,
		`insert into disabledextbans (id) values (7)`,
		`insert into serverlog values ('2026-11-01T10:00:00Z', 2, 'Join', '1;192.0.2.1;alice', 'sess-a', 'Joined session')`,
		`insert into serverlog values ('2026-11-01T10:00:05Z', 1, 'Kick', '2;192.0.2.2;bob', 'sess-a', 'Kicked by alice')`,
		`insert into serverlog values ('2026-11-01T10:00:09Z', 2, 'ClientInfo', '2;192.0.2.2;bob', 'sess-B', 'cinfo')`,
		`insert into serverlog values ('2026-09-01T00:00:00Z', 3, 'Status', '', '', 'ancient debug')`,
	)
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return path
}

var fixtureNow = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func openFixture(t *testing.T, path string) (*Store, *clock) {
	t.Helper()
	clk := newClock(fixtureNow)
	s, err := Open(context.Background(), Options{Database: path, Logger: testLogger(t), Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, clk
}

func TestDatabaseFixture(t *testing.T) {
	t.Parallel()
	path := makeFixtureDB(t, false)
	s, clk := openFixture(t, path)
	if s.Mode() != ModeDatabase {
		t.Fatal(s.Mode())
	}

	t.Run("wal", func(t *testing.T) {
		var mode string
		if err := s.db.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("journal_mode = %q, %v", mode, err)
		}
		var sync, fk int
		if err := s.db.db.QueryRow("PRAGMA synchronous").Scan(&sync); err != nil || sync != 1 {
			t.Errorf("synchronous = %d, %v", sync, err)
		}
		if err := s.db.db.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 0 {
			t.Errorf("foreign_keys = %d, %v", fk, err)
		}
	})

	t.Run("settings", func(t *testing.T) {
		st := s.Settings()
		if st.ServerTitle != "Fixture server" || st.SessionSizeLimit != 20<<20 || st.AllowGuests || st.SessionCountLimit != 25 || st.LogPurgeDays != 30 {
			t.Errorf("settings = %q %d %v %d %d", st.ServerTitle, st.SessionSizeLimit, st.AllowGuests, st.SessionCountLimit, st.LogPurgeDays)
		}
		if err := s.SetSetting("welcomeMessage", "hi"); err != nil {
			t.Fatal(err)
		}
		var v string
		if err := s.db.db.QueryRow("select value from settings where key = 'welcomeMessage'").Scan(&v); err != nil || v != "hi" {
			t.Errorf("stored %q, %v", v, err)
		}
		if s.Settings().WelcomeMessage != "hi" {
			t.Error("own write not visible")
		}
	})

	t.Run("accounts", func(t *testing.T) {
		tests := []struct {
			user, pass string
			want       AccountStatus
			flags      string
		}{
			{"admin", "hunter2", AccountOK, "HOST,MOD"},
			{"admin", "hunter", AccountBadPassword, ""},
			{"olduser", "sha1pass", AccountOK, ""},
			{"pbuser", "pbk", AccountOK, "TRUSTED"},
			{"plainuser", "pw", AccountOK, "BANEXEMPT"},
			{"locked", "pw", AccountBanned, ""},
			{"nopass", "", AccountOK, ""},
			{"nopass", "x", AccountBadPassword, ""},
			{"ADMIN", "hunter2", AccountNotFound, ""},
		}
		for _, tc := range tests {
			r := s.Account(tc.user, tc.pass)
			if r.Status != tc.want || (tc.want == AccountOK && r.Flags.String() != tc.flags) {
				t.Errorf("Account(%s,%s) = %v %q, want %v %q", tc.user, tc.pass, r.Status, r.Flags, tc.want, tc.flags)
			}
		}
		if r := s.Account("admin", "hunter2"); r.AuthID != "internal:1" || !r.BanExempt {
			t.Errorf("admin = %+v", r)
		}
		if r := s.Account("plainuser", "pw"); r.AuthID != "internal:4" || !r.BanExempt {
			t.Errorf("plainuser = %+v", r)
		}
		list, err := s.Accounts()
		if err != nil || len(list) != 6 || list[4].Username != "locked" || !list[4].Locked {
			t.Errorf("Accounts = %+v, %v", list, err)
		}
	})

	t.Run("ip bans", func(t *testing.T) {
		tests := []struct {
			addr string
			id   int64
		}{
			{"192.0.2.10", 1},
			{"::ffff:192.0.2.10", 1},
			{"192.0.2.11", 0},
			{"198.51.100.99", 2},
			{"::ffff:198.51.100.99", 2},
			{"2001:db8:0:ffff::1", 3},
			{"2001:db8:1::1", 0},
			{"203.0.113.5", 0}, // expired
			{"192.0.2.77", 5},  // IPv6-mapped ban matches the IPv4 client
			{"::1", 0},
		}
		for _, tc := range tests {
			r := s.CheckIP(netip.MustParseAddr(tc.addr))
			if r.SourceID != tc.id || r.Banned() != (tc.id != 0) {
				t.Errorf("CheckIP(%s) = %+v, want id %d", tc.addr, r, tc.id)
				continue
			}
			if tc.id != 0 && (r.Source != SourceDatabase || !r.Exemptable || r.Expires.Year() != 2099) {
				t.Errorf("CheckIP(%s) = %+v", tc.addr, r)
			}
		}
	})

	t.Run("sid and user bans with expiry", func(t *testing.T) {
		if r := s.CheckSystemID("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"); r.Reaction != ReactionNetError || r.Reason != "spam" || r.Exemptable || r.SourceID != 1 {
			t.Errorf("sid = %+v", r)
		}
		if r := s.CheckSystemID("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"); r.Banned() {
			t.Errorf("expired sid ban matched: %+v", r)
		}
		if r := s.CheckSystemID("cccccccccccccccccccccccccccccccc"); r.Reaction != ReactionNormal {
			t.Errorf("unknown reaction = %+v, want normal", r)
		}
		if r := s.CheckUserID(1001); r.Reaction != ReactionTimer || r.Reason != "abuse" {
			t.Errorf("user = %+v", r)
		}
		if r := s.CheckUserID(1002); r.Banned() {
			t.Errorf("expired user ban matched")
		}
		clk.advance(365 * 24 * time.Hour) // past 2027-06-01
		if r := s.CheckUserID(1001); r.Banned() {
			t.Errorf("user ban did not expire: %+v", r)
		}
		clk.advance(-365 * 24 * time.Hour)
	})

	t.Run("whitelist regex", func(t *testing.T) {
		if !s.AllowedAnnouncementURL("https://anything.example/") {
			t.Error("whitelist applied while disabled")
		}
		if err := s.SetSetting("announceWhitelist", "true"); err != nil {
			t.Fatal(err)
		}
		if !s.AllowedAnnouncementURL("https://pub.drawpile.net/listing/") {
			t.Error("regex whitelist did not match")
		}
		if s.AllowedAnnouncementURL("https://evil.example/?https://pub.drawpile.net/x") {
			t.Error("anchored regex matched elsewhere in the URL")
		}
		if s.AllowedAnnouncementURL("https://evil.example/") {
			t.Error("non-whitelisted URL allowed")
		}
		if err := s.SetListServerWhitelist([]string{`evil\.example`}); err != nil {
			t.Fatal(err)
		}
		if !s.AllowedAnnouncementURL("https://evil.example/") || s.AllowedAnnouncementURL("https://pub.drawpile.net/") {
			t.Error("whitelist update not applied")
		}
		if err := s.SetSetting("announceWhitelist", "false"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("log", func(t *testing.T) {
		all, err := s.QueryLog(LogFilter{MaxLevel: LevelDebug})
		if err != nil || len(all) != 4 || all[0].Message != "cinfo" || all[3].Message != "ancient debug" {
			t.Fatalf("all = %+v, %v", all, err)
		}
		if all[1].Topic != TopicKick || all[1].Level != LevelWarn || all[1].Time != time.Date(2026, 11, 1, 10, 0, 5, 0, time.UTC) {
			t.Errorf("entry = %+v", all[1])
		}
		tests := []struct {
			name string
			f    LogFilter
			want []string
		}{
			{"info", LogFilter{MaxLevel: LevelInfo}, []string{"cinfo", "Kicked by alice", "Joined session"}},
			{"session ci", LogFilter{MaxLevel: LevelDebug, Session: "SESS-b"}, []string{"cinfo"}},
			{"user", LogFilter{MaxLevel: LevelDebug, User: "ALICE"}, []string{"Joined session"}},
			{"message", LogFilter{MaxLevel: LevelDebug, Message: "kicked"}, []string{"Kicked by alice"}},
			{"sensitive", LogFilter{MaxLevel: LevelDebug, OmitSensitive: true, OmitKicksAndBans: true}, []string{"Joined session", "ancient debug"}},
			{"after", LogFilter{MaxLevel: LevelDebug, After: time.Date(2026, 11, 1, 10, 0, 4, 0, time.UTC)}, []string{"cinfo", "Kicked by alice"}},
			{"paging", LogFilter{MaxLevel: LevelDebug, Offset: 1, Limit: 2}, []string{"Kicked by alice", "Joined session"}},
			{"offset only", LogFilter{MaxLevel: LevelDebug, Offset: 3}, []string{"ancient debug"}},
		}
		for _, tc := range tests {
			got, err := s.QueryLog(tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var msgs []string
			for _, e := range got {
				msgs = append(msgs, e.Message)
			}
			if strings.Join(msgs, "|") != strings.Join(tc.want, "|") {
				t.Errorf("%s: %q, want %q", tc.name, msgs, tc.want)
			}
		}
		s.Log(LogEntry{Level: LevelInfo, Topic: TopicBan, User: LogUser(3, "192.0.2.3", "carol"), Session: "sess-a", Message: "Banned"})
		got, _ := s.QueryLog(LogFilter{MaxLevel: LevelDebug, Limit: 1})
		if len(got) != 1 || got[0].Message != "Banned" || !got[0].Time.Equal(fixtureNow) || got[0].WithoutIP() != "3;carol" {
			t.Errorf("new entry = %+v", got)
		}
		var ts string
		_ = s.db.db.QueryRow("select timestamp from serverlog where message = 'Banned'").Scan(&ts)
		if ts != "2026-11-21T12:00:00Z" {
			t.Errorf("stored timestamp %q", ts)
		}
		// logpurgedays = 30: the September entry goes.
		n, err := s.PurgeLog()
		if err != nil || n != 1 {
			t.Errorf("PurgeLog = %d, %v", n, err)
		}
	})

	t.Run("external ban disabled ids", func(t *testing.T) {
		s.SetExternalBans([]ExtBan{
			{ID: 7, Users: []UserBan{{IDs: []int64{5}, Reaction: ReactionNormal}}, Expires: fixtureNow.Add(time.Hour)},
			{ID: 8, Users: []UserBan{{IDs: []int64{6}, Reaction: ReactionNormal}}, Expires: fixtureNow.Add(time.Hour)},
		})
		if s.CheckUserID(5).Banned() || !s.CheckUserID(6).Banned() {
			t.Error("disabledextbans not applied")
		}
		if err := s.SetExternalBanEnabled(7, true); err != nil {
			t.Fatal(err)
		}
		if err := s.SetExternalBanEnabled(8, false); err != nil {
			t.Fatal(err)
		}
		if !s.CheckUserID(5).Banned() || s.CheckUserID(6).Banned() {
			t.Error("SetExternalBanEnabled not applied")
		}
		var ids []int64
		rows, _ := s.db.db.Query("select id from disabledextbans")
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		if len(ids) != 1 || ids[0] != 8 {
			t.Errorf("disabledextbans = %v", ids)
		}
	})
}

func TestDatabaseExternalChange(t *testing.T) {
	t.Parallel()
	path := makeFixtureDB(t, true)
	s, clk := openFixture(t, path)
	if s.Settings().ServerTitle != "Fixture server" {
		t.Fatal("fixture")
	}
	// Another process (drawpile-srv's tools) edits the database.
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Exec("update settings set value = 'Edited elsewhere' where key = 'serverTitle'"); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec("insert into ipbans values ('10.9.9.9', 0, '2099-01-01 00:00:00', '', '')"); err != nil {
		t.Fatal(err)
	}
	if got := s.Settings().ServerTitle; got != "Fixture server" {
		t.Errorf("title = %q: rechecked before the interval", got)
	}
	clk.advance(time.Second)
	if got := s.Settings().ServerTitle; got != "Edited elsewhere" {
		t.Errorf("title = %q: external commit not seen", got)
	}
	if !s.CheckIP(netip.MustParseAddr("10.9.9.9")).Banned() {
		t.Error("external ban not seen")
	}
}

func TestDatabaseAdmin(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "new.db")
	clk := newClock(fixtureNow)
	s, err := Open(context.Background(), Options{Database: path, Logger: testLogger(t), Now: clk.now, HashPassword: cheapHash})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	// The created schema is drawpile-srv's.
	for _, table := range []string{"settings", "listingservers", "ipbans", "systembans", "userbans", "users", "disabledextbans", "serverlog"} {
		var sqlText string
		if err := s.db.db.QueryRow("select sql from sqlite_master where type = 'table' and name = ?", table).Scan(&sqlText); err != nil {
			t.Errorf("table %s: %v", table, err)
		}
	}

	acct, err := s.AddAccount("newmod", "s3cret", false, auth.NewFlagSet(auth.FlagMod, auth.FlagTrusted))
	if err != nil {
		t.Fatal(err)
	}
	if acct.Username != "newmod" || acct.Flags != "MOD,TRUSTED" || acct.Locked {
		t.Errorf("account = %+v", acct)
	}
	var stored []byte
	_ = s.db.db.QueryRow("select password from users where rowid = ?", acct.ID).Scan(&stored)
	if !strings.HasPrefix(string(stored), "sodium;$argon2id$v=19$") {
		t.Errorf("stored hash %q is not libsodium argon2id", stored)
	}
	if r := s.Account("newmod", "s3cret"); r.Status != AccountOK || !r.Flags.Has(auth.FlagMod) {
		t.Errorf("login = %+v", r)
	}
	if _, err := s.AddAccount("newmod", "x", false, nil); err == nil {
		t.Error("duplicate username accepted")
	}
	for _, bad := range []string{"", `quo"te`, strings.Repeat("x", 23)} {
		if _, err := s.AddAccount(bad, "x", false, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("AddAccount(%q) err = %v", bad, err)
		}
	}
	locked := true
	flags := "HOST"
	if _, err := s.UpdateAccount(acct.ID, AccountUpdate{Locked: &locked, Flags: &flags}); err != nil {
		t.Fatal(err)
	}
	if r := s.Account("newmod", "s3cret"); r.Status != AccountBanned {
		t.Errorf("locked login = %v", r.Status)
	}
	if _, err := s.UpdateAccount(999, AccountUpdate{Flags: &flags}); !errors.Is(err, ErrNotFound) {
		t.Errorf("update missing = %v", err)
	}
	if err := s.DeleteAccount(acct.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAccount(acct.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete = %v", err)
	}

	ban, err := s.AddIPBan(netip.MustParseAddr("192.0.2.0"), 24, fixtureNow.Add(time.Hour), "test")
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := s.AddIPBan(netip.MustParseAddr("192.0.2.0"), 24, fixtureNow.Add(2*time.Hour), "dup"); again.ID != ban.ID {
		t.Errorf("duplicate ip ban added: %+v", again)
	}
	if !s.CheckIP(netip.MustParseAddr("192.0.2.200")).Banned() {
		t.Error("new ip ban not applied")
	}
	clk.advance(2 * time.Hour)
	if s.CheckIP(netip.MustParseAddr("192.0.2.200")).Banned() {
		t.Error("ip ban did not expire")
	}
	if _, err := s.AddIPBan(netip.MustParseAddr("192.0.2.0"), 33, fixtureNow, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad subnet: %v", err)
	}
	if err := s.DeleteIPBan(ban.ID); err != nil {
		t.Fatal(err)
	}

	sb, err := s.AddSystemBan("dddddddddddddddddddddddddddddddd", clk.now().Add(time.Hour), ReactionGarbage, "r", "c")
	if err != nil || sb.Reaction != "garbage" {
		t.Fatalf("AddSystemBan = %+v, %v", sb, err)
	}
	if r := s.CheckSystemID("dddddddddddddddddddddddddddddddd"); r.Reaction != ReactionGarbage {
		t.Errorf("sid ban = %+v", r)
	}
	ub, err := s.AddUserBan(77, clk.now().Add(time.Hour), ReactionNormal, "r", "c")
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := s.UserBans(); len(list) != 1 || list[0].UserID != 77 || list[0].Reaction != "normal" {
		t.Errorf("UserBans = %+v", list)
	}
	if list, _ := s.SystemBans(); len(list) != 1 || list[0].SID != sb.SID {
		t.Errorf("SystemBans = %+v", list)
	}
	if err := s.DeleteUserBan(ub.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSystemBan(sb.ID); err != nil {
		t.Fatal(err)
	}
	if s.CheckUserID(77).Banned() {
		t.Error("deleted user ban still applies")
	}
	// The added date is written in the documented format.
	if _, err := ParseDateTime(sb.Added); err != nil {
		t.Errorf("added %q: %v", sb.Added, err)
	}
}

func TestDefaultAccountHash(t *testing.T) {
	t.Parallel()
	s, err := Open(context.Background(), Options{Database: filepath.Join(t.TempDir(), "h.db"), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	acct, err := s.AddAccount("u", "pw", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	var stored []byte
	if err := s.db.db.QueryRow("select password from users where rowid = ?", acct.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	// New hashes are what drawpile-srv with libsodium writes.
	if !strings.HasPrefix(string(stored), "sodium;$argon2id$v=19$m=65536,t=2,p=1$") {
		t.Errorf("stored hash %q is not libsodium interactive argon2id", stored)
	}
}

func TestUnsupportedWithoutDatabase(t *testing.T) {
	t.Parallel()
	s, err := Open(context.Background(), Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Accounts(); !errors.Is(err, ErrUnsupported) {
		t.Error(err)
	}
	if _, err := s.AddIPBan(netip.MustParseAddr("1.2.3.4"), 0, time.Now(), ""); !errors.Is(err, ErrUnsupported) {
		t.Error(err)
	}
	if _, err := s.SystemBans(); !errors.Is(err, ErrUnsupported) {
		t.Error(err)
	}
	if s.Account("x", "y").Status != AccountNotFound || s.HasAccounts() {
		t.Error("memory mode has accounts")
	}
	if !s.AllowedAnnouncementURL("https://x.example/") || s.AllowedAnnouncementURL("not a url") {
		t.Error("memory whitelist")
	}
}

func TestDatabaseLockedByAnotherProcess(t *testing.T) {
	t.Parallel()
	for _, wal := range []bool{false, true} {
		t.Run(fmt.Sprintf("wal=%v", wal), func(t *testing.T) {
			t.Parallel()
			path := makeFixtureDB(t, wal)
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "STORE_TEST_LOCK_DB="+path)
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = t.Output()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				stdin.Close()
				if err := cmd.Wait(); err != nil {
					t.Errorf("lock helper: %v", err)
				}
			}()
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil || line != "locked\n" {
				t.Fatalf("helper said %q, %v", line, err)
			}
			_, err = Open(context.Background(), Options{Database: path, Logger: testLogger(t), BusyTimeout: 50 * time.Millisecond})
			if !errors.Is(err, ErrLocked) {
				t.Fatalf("err = %v, want ErrLocked", err)
			}
			t.Logf("locked database error: %v", err)
			var de *DatabaseError
			if !errors.As(err, &de) || de.Path != path || !strings.Contains(err.Error(), path) {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
}

func TestDatabaseNotADatabase(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "garbage.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("this is not sqlite ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), Options{Database: path, Logger: testLogger(t)})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "not an SQLite database") {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(path); !strings.HasPrefix(string(b), "this is not sqlite") {
		t.Error("unreadable database was modified")
	}
}

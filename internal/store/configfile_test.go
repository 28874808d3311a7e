package store

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"drawbridge/internal/auth"
)

// Password hashes produced outside Go (see internal/auth/password_test.go):
// libsodium crypto_pwhash_str for "hunter2", Python hashlib for the others.
const (
	hashSodiumHunter2 = "sodium;$argon2id$v=19$m=8192,t=1,p=1$u4U5l85Xms1yKvgWmV2edg$gs2jY/PCzkjFIl5qaxEeLkelfbXGmU4h7jplV4Rzjmc"
	hashSHA1Sha1pass  = "s+sha1;00112233445566778899aabbccddeeff;e969ec06fe4e7f9a506d5af6c0a9d2d4ff142fba"
	hashPBKDF2Pbk     = "pbkdf2;1;AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=;5ZnkCADEe07LGLo1Bbk75pgGl1hxOgd3lBrPdyOLTk9F0gQWBMBZoiV+s9oeb8rNPtTaD0omtoYDfDW1oSybzw=="
)

const sampleConfig = `# drawpile-srv configuration
serverTitle = Before any header
[Config]
sessionCountLimit = 5
clientTimeout=2m
welcomeMessage = a = b
this line has no equals sign
= novalue
idleTimeLimit = soon

[ipbans]
192.0.2.1
198.51.100.0/24
2001:db8::/32
not-an-address
203.0.113.7/abc

[systembans]
0123456789abcdef0123456789abcdef
fedcba9876543210fedcba9876543210:hang

[userbans]
42
43:garbage
notanumber

[announceWhitelist]
https://pub.drawpile.net/listing/
::not a url

[users]
alice:plain;secret:MOD,HOST
bob:` + hashSodiumHunter2 + `:
carol:` + hashSHA1Sha1pass + `:TRUSTED
dave:` + hashPBKDF2Pbk + `:WEB
mallory:*:
broken:plain;x
eve:nohash:MOD

[mystery]
clientTimeout = 1
`

func writeConfig(t *testing.T, dir, body string, mtime time.Time) string {
	t.Helper()
	p := filepath.Join(dir, "drawpile-srv.cfg")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := writeConfig(t, dir, sampleConfig, time.Unix(1_700_000_000, 0))
	logger, logs := captureLogger(t)
	s, err := Open(context.Background(), Options{ConfigFile: path, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	t.Run("settings", func(t *testing.T) {
		st := s.Settings()
		if st.ServerTitle != "Before any header" || st.SessionCountLimit != 5 || st.ClientTimeout != 2*time.Minute || st.WelcomeMessage != "a = b" {
			t.Errorf("settings = %q %d %v %q", st.ServerTitle, st.SessionCountLimit, st.ClientTimeout, st.WelcomeMessage)
		}
		if st.IdleTimeLimit != 0 {
			t.Errorf("invalid idleTimeLimit should read as default, got %v", st.IdleTimeLimit)
		}
		if err := s.SetSetting("serverTitle", "x"); err != ErrReadOnly {
			t.Errorf("SetSetting in config mode: %v, want ErrReadOnly", err)
		}
	})

	t.Run("warnings name file and line", func(t *testing.T) {
		want := map[int]string{
			7:  "invalid setting line",
			8:  "invalid setting line",
			9:  "invalid TIME value",
			15: "invalid IP address",
			16: "invalid prefix length",
			25: "invalid user id",
			29: "invalid URL",
			37: "line should have three parts",
			38: "invalid password hash",
			40: "unknown section",
		}
		got := map[int]string{}
		for _, w := range s.ConfigWarnings() {
			if w.File != path {
				t.Errorf("warning file = %q", w.File)
			}
			got[w.Line] = w.Reason
		}
		for line, reason := range want {
			if !strings.Contains(got[line], reason) {
				t.Errorf("line %d: warning %q, want %q", line, got[line], reason)
			}
		}
		if len(got) != len(want) {
			t.Errorf("warnings = %v", got)
		}
		out := logs.String()
		if !strings.Contains(out, "file="+path) || !strings.Contains(out, "line=37") {
			t.Errorf("log does not name file and line:\n%s", out)
		}
	})

	t.Run("accounts", func(t *testing.T) {
		tests := []struct {
			user, pass string
			want       AccountStatus
			flags      string
		}{
			{"alice", "secret", AccountOK, "HOST,MOD"},
			{"alice", "wrong", AccountBadPassword, ""},
			{"alice", "", AccountBadPassword, ""},
			{"Alice", "secret", AccountNotFound, ""},
			{"bob", "hunter2", AccountOK, ""},
			{"bob", "hunter3", AccountBadPassword, ""},
			{"carol", "sha1pass", AccountOK, "TRUSTED"},
			{"dave", "pbk", AccountOK, "WEB"},
			{"dave", "pbkx", AccountBadPassword, ""},
			{"mallory", "", AccountBanned, ""},
			{"mallory", "anything", AccountBanned, ""},
			{"broken", "x", AccountNotFound, ""},
			{"eve", "nohash", AccountNotFound, ""},
			{"nobody", "x", AccountNotFound, ""},
		}
		for _, tc := range tests {
			r := s.Account(tc.user, tc.pass)
			if r.Status != tc.want {
				t.Errorf("Account(%s, %s) = %v, want %v", tc.user, tc.pass, r.Status, tc.want)
				continue
			}
			if tc.want == AccountOK {
				if r.Flags.String() != tc.flags || r.AuthID != "internal:"+tc.user {
					t.Errorf("Account(%s) flags %q auth %q", tc.user, r.Flags, r.AuthID)
				}
			}
		}
		if !s.Account("alice", "secret").BanExempt || s.Account("carol", "sha1pass").BanExempt {
			t.Error("BanExempt wrong")
		}
		if !s.HasAccounts() {
			t.Error("HasAccounts = false")
		}
	})

	t.Run("bans", func(t *testing.T) {
		ipTests := []struct {
			addr   string
			banned bool
			id     int64
		}{
			{"192.0.2.1", true, 1},
			{"::ffff:192.0.2.1", true, 1}, // IPv4-mapped client matches IPv4 ban
			{"192.0.2.2", false, 0},       // prefix missing = single host
			{"198.51.100.200", true, 2},
			{"198.51.101.1", false, 0},
			{"2001:db8:1234::1", true, 3},
			{"2001:db9::1", false, 0},
			{"203.0.113.7", true, 4}, // bad prefix: single host
		}
		for _, tc := range ipTests {
			r := s.CheckIP(netip.MustParseAddr(tc.addr))
			if r.Banned() != tc.banned || r.SourceID != tc.id {
				t.Errorf("CheckIP(%s) = %+v", tc.addr, r)
				continue
			}
			if tc.banned && (r.Source != SourceConfigFile || r.SourceType != SourceTypeIP || !r.Exemptable || !r.Permanent(time.Now()) || r.Reaction != ReactionNormal) {
				t.Errorf("CheckIP(%s) = %+v", tc.addr, r)
			}
		}
		if r := s.CheckSystemID("0123456789abcdef0123456789abcdef"); r.Reaction != ReactionNormal || r.Exemptable || r.SourceType != SourceTypeSID {
			t.Errorf("sid ban = %+v", r)
		}
		if r := s.CheckSystemID("fedcba9876543210fedcba9876543210"); r.Reaction != ReactionHang || r.SourceID != 2 {
			t.Errorf("sid hang ban = %+v", r)
		}
		if r := s.CheckSystemID("00000000000000000000000000000000"); r.Banned() {
			t.Errorf("unbanned sid = %+v", r)
		}
		if r := s.CheckUserID(42); r.Reaction != ReactionNormal || r.SourceType != SourceTypeUser {
			t.Errorf("user ban = %+v", r)
		}
		if r := s.CheckUserID(43); r.Reaction != ReactionGarbage {
			t.Errorf("user ban 43 = %+v", r)
		}
		if r := s.CheckUserID(44); r.Banned() {
			t.Errorf("user 44 = %+v", r)
		}
	})

	t.Run("whitelist", func(t *testing.T) {
		// announceWhitelist is off: everything allowed.
		if !s.AllowedAnnouncementURL("https://other.example/") {
			t.Error("whitelist applied while disabled")
		}
	})
}

func TestConfigFileReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	t0 := time.Unix(1_700_000_000, 0)
	path := writeConfig(t, dir, "serverTitle = one\nannounceWhitelist = true\n[announceWhitelist]\nhttps://a.example/\n[users]\nu:plain;p:\n", t0)
	clk := newClock(t0)
	s, err := Open(context.Background(), Options{ConfigFile: path, Logger: testLogger(t), Now: clk.now, ConfigRecheck: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Settings().ServerTitle; got != "one" {
		t.Fatalf("title = %q", got)
	}
	if !s.AllowedAnnouncementURL("https://a.example/") || s.AllowedAnnouncementURL("https://b.example/") {
		t.Error("whitelist (exact match) wrong")
	}

	// Rewrite with a new mtime: the lazy check picks it up once the recheck
	// interval has passed on the store's clock.
	writeConfig(t, dir, "serverTitle = two\n[users]\nu:plain;q:\n[ipbans]\n10.0.0.0/8\n", t0.Add(5*time.Second))
	clk.advance(500 * time.Millisecond)
	if got := s.Settings().ServerTitle; got != "one" {
		t.Fatalf("reloaded before the recheck interval: %q", got)
	}
	clk.advance(time.Second)
	if got := s.Settings().ServerTitle; got != "two" {
		t.Fatalf("after change: title = %q", got)
	}
	if s.Account("u", "p").Status != AccountBadPassword || s.Account("u", "q").Status != AccountOK {
		t.Error("accounts not reloaded")
	}
	if !s.CheckIP(netip.MustParseAddr("10.1.2.3")).Banned() {
		t.Error("ip bans not reloaded")
	}
	if !s.AllowedAnnouncementURL("https://b.example/") {
		t.Error("whitelist flag not reloaded")
	}

	// Explicit reload, same mtime and size: nothing to do.
	if changed, err := s.ReloadConfig(); changed || err != nil {
		t.Errorf("ReloadConfig unchanged = %v, %v", changed, err)
	}
	writeConfig(t, dir, "serverTitle = three\n", t0.Add(10*time.Second))
	if changed, err := s.ReloadConfig(); !changed || err != nil {
		t.Errorf("ReloadConfig changed = %v, %v", changed, err)
	}
	if got := s.Settings().ServerTitle; got != "three" {
		t.Errorf("title = %q", got)
	}

	// A deleted file keeps the last good configuration.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReloadConfig(); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("ReloadConfig on missing file: %v", err)
	}
	clk.advance(time.Hour)
	if got := s.Settings().ServerTitle; got != "three" {
		t.Errorf("title after delete = %q", got)
	}
}

func TestConfigFileWatch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	t0 := time.Unix(1_700_000_000, 0)
	path := writeConfig(t, dir, "serverTitle = one\n", t0)
	clk := newClock(t0) // frozen: lazy rechecks never fire, only Watch reloads
	s, err := Open(context.Background(), Options{ConfigFile: path, Logger: testLogger(t), Now: clk.now, ConfigRecheck: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Watch(ctx, time.Millisecond) }()
	writeConfig(t, dir, "serverTitle = two\n", t0.Add(time.Second))
	for s.Settings().ServerTitle != "two" {
		time.Sleep(time.Millisecond) // polling a condition, not timing: bounded by the test timeout
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Watch returned %v", err)
	}
}

func TestConfigFileMissing(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "nope.cfg")
	_, err := Open(context.Background(), Options{ConfigFile: p, Logger: testLogger(t)})
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v, want error naming %s", err, p)
	}
	if _, err := Open(context.Background(), Options{ConfigFile: p, Database: p}); err == nil {
		t.Fatal("config and database together accepted")
	}
}

func TestConfigFlagsIntoAuth(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, t.TempDir(), "allowGuestHosts = false\nenableGhosts = false\n[users]\nm:plain;p:MOD,GHOST,TRUSTED\n", time.Unix(1, 0))
	s, err := Open(context.Background(), Options{ConfigFile: path, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st := s.Settings()
	acct := s.Account("m", "p")
	flags, isMod, wantGhost := auth.FilterFlags(acct.Flags.Sorted(), auth.AllowAll(st.EnableGhosts))
	auth.AddImplicitFlags(flags, st.ImplicitFlags())
	if !isMod || !wantGhost || flags.Has(auth.FlagGhost) || flags.Has(auth.FlagHost) || !flags.Has(auth.FlagPersist) || !flags.Has(auth.FlagWeb) {
		t.Errorf("effective flags = %v (mod %v ghost %v)", flags, isMod, wantGhost)
	}
}

func FuzzParseConfigFile(f *testing.F) {
	f.Add([]byte(sampleConfig))
	f.Add([]byte("[users]\n:::\n[ipbans]\n/\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _ := parseConfigFile("fuzz.cfg", data)
		for _, b := range c.ipBans {
			MatchesBannedAddress(netip.MustParseAddr("::1"), b.ip, b.prefix)
		}
	})
}

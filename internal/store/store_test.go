package store

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestAdminLocks(t *testing.T) {
	t.Parallel()
	s, err := Open(context.Background(), Options{Database: makeFixtureDB(t, true), Logger: testLogger(t), HashPassword: cheapHash})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.SupportsAdminLocks() || !s.AdminSectionLocked("server") || s.AdminSectionLocked("sessions") {
		t.Fatal("fixture lock rows not read")
	}
	if !s.CheckAdminLockPassword("") {
		t.Error("no lock password set: any password should pass")
	}
	if err := s.SetAdminSectionsLocked([]string{"sessions", "log"}, "pw"); err != nil {
		t.Fatal(err)
	}
	if s.AdminSectionLocked("server") || !s.AdminSectionLocked("sessions") {
		t.Error("sections not replaced")
	}
	if s.CheckAdminLockPassword("") || s.CheckAdminLockPassword("wrong") || !s.CheckAdminLockPassword("pw") {
		t.Error("lock password check wrong")
	}
	if s.Settings().ServerTitle != "Fixture server" {
		t.Error("locks clobbered settings")
	}
	m, err := Open(context.Background(), Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.SupportsAdminLocks() || !errors.Is(m.SetAdminSectionsLocked(nil, ""), ErrUnsupported) {
		t.Error("memory mode claims lock support")
	}
}

func TestCheckClient(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, t.TempDir(), "[ipbans]\n192.0.2.0/24\n[systembans]\nsid-b:timer\n[userbans]\n77\n", time.Unix(1, 0))
	logger, logs := captureLogger(t)
	s, err := Open(context.Background(), Options{ConfigFile: path, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ip := netip.MustParseAddr
	tests := []struct {
		name string
		c    ClientCheck
		want string // SourceType or ""
	}{
		{"clean", ClientCheck{Addr: ip("10.0.0.1"), SIDs: []string{"sid-a"}}, ""},
		{"ip", ClientCheck{Addr: ip("192.0.2.9")}, SourceTypeIP},
		{"ip exempt", ClientCheck{Addr: ip("192.0.2.9"), BanExempt: true}, ""},
		{"sid not exemptable", ClientCheck{Addr: ip("192.0.2.9"), SIDs: []string{"sid-a", "sid-b"}, BanExempt: true}, SourceTypeSID},
		{"user", ClientCheck{Addr: ip("10.0.0.1"), UserID: 77, HasUserID: true, BanExempt: true}, SourceTypeUser},
		{"uid ignored without HasUserID", ClientCheck{Addr: ip("10.0.0.1"), UserID: 77}, ""},
	}
	for _, tc := range tests {
		r := s.CheckClient(tc.c)
		if r.SourceType != tc.want || r.Banned() != (tc.want != "") {
			t.Errorf("%s: %+v", tc.name, r)
		}
	}
	if got := s.CheckClient(ClientCheck{SIDs: []string{"sid-b"}}); got.Reaction != ReactionTimer {
		t.Errorf("reaction = %v", got.Reaction)
	}
	if entries, _ := s.QueryLog(LogFilter{MaxLevel: LevelDebug, Message: "exemption"}); len(entries) != 2 {
		t.Errorf("exemptions logged %d times, want 2", len(entries))
	}
	_ = logs
}

func TestIsNameBanned(t *testing.T) {
	t.Parallel()
	s, err := Open(context.Background(), Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.IsNameBanned("anything") {
		t.Error("no regex: banned")
	}
	must := func(k, v string) {
		if err := s.SetSetting(k, v); err != nil {
			t.Fatal(err)
		}
	}
	must("forbiddenNameRegex", "admin|moder.tor")
	tests := map[string]bool{"Admin": true, "xADMINx": true, "moder\ntor": true, "alice": false}
	for name, want := range tests {
		if got := s.IsNameBanned(name); got != want {
			t.Errorf("IsNameBanned(%q) = %v", name, got)
		}
	}
	must("filterNameRegex", "badminton")
	if s.IsNameBanned("badminton fan") || !s.IsNameBanned("badminton admin") {
		t.Error("filter regex not applied")
	}
	must("forbiddenNameRegex", "(unclosed")
	if s.IsNameBanned("(unclosed") {
		t.Error("invalid regex should be ignored")
	}
}

// TestConcurrentUse hammers every mode from many goroutines; run with -race.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "[ipbans]\n192.0.2.0/24\n[users]\nu:plain;p:MOD\n", time.Unix(1, 0))
	for _, opts := range []Options{{}, {ConfigFile: cfg, ConfigRecheck: time.Nanosecond}, {Database: filepath.Join(dir, "c.db")}} {
		opts.Logger = testLogger(t)
		s, err := Open(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(s.Mode().String(), func(t *testing.T) {
			defer s.Close()
			var wg sync.WaitGroup
			for g := range 6 {
				wg.Go(func() {
					for i := range 10 {
						_ = s.Settings()
						s.CheckIP(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}))
						s.CheckSystemID("x")
						s.Account("u", "p")
						s.IsNameBanned("n")
						s.Log(LogEntry{Level: LevelInfo, Topic: TopicStatus, Message: fmt.Sprint(g, i)})
						if s.Mode() != ModeConfigFile {
							if err := s.SetSetting("serverTitle", fmt.Sprint(g)); err != nil {
								t.Error(err)
							}
						}
						if i%10 == 0 {
							_, _ = s.QueryLog(LogFilter{MaxLevel: LevelDebug, Limit: 5})
							s.SetExternalBans(nil)
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

func FuzzParseExtBans(f *testing.F) {
	f.Add([]byte(extBanDoc))
	f.Add([]byte(`{"bans":[{"id":1e300,"ips":[{"from":"::","to":"::"}],"expires":"2099-01-01 00:00:00"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		bans, _, err := ParseExtBans(data)
		if err != nil {
			return
		}
		now := time.Unix(0, 0)
		checkExtIP(bans, nil, now, netip.MustParseAddr("::ffff:1.2.3.4"))
		checkExtSID(bans, nil, now, "s")
		checkExtUser(bans, nil, now, 1)
		for _, b := range bans {
			if b.ID <= 0 {
				t.Fatalf("accepted id %d", b.ID)
			}
		}
	})
}

package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"60", 60, true},
		{"0", 0, true},
		{"15s", 15, true},
		{"15S", 15, true},
		{"2m", 120, true},
		{"2 h", 7200, true},
		{"1d", 86400, true},
		{"1.5d", 129600, true}, // server.md §11 seed
		{"0.5m", 30, true},
		{"1.25", 1, true}, // truncated
		{"1d 2h", 0, false},
		{"abc", 0, false},
		{"", 0, false},
		{"-5", 0, false},
		{" 5", 0, false},
		{"5w", 0, false},
		{"1.", 0, false},
		{".5", 0, false},
		{"99999999d", 0, false}, // does not fit upstream's int
	}
	for _, tc := range tests {
		got, err := ParseTime(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseTime(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"99mb", 103809024, true}, // default sessionSizeLimit (§11)
		{"15 mb", 15728640, true}, // §11 seed
		{"15MB", 15728640, true},
		{"1kb", 1024, true},
		{"1.5kb", 1536, true},
		{"512", 512, true},
		{"512b", 512, true},
		{"1gb", 1 << 30, true},
		{"1.9gb", 2040109440, true}, // float32(1.9) * 2^30, truncated
		{"2gb", 0, false},           // does not fit upstream's int
		{"1.5k", 0, false},          // only b/kb/mb/gb suffixes
		{"10 M", 0, false},
		{"abc", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		got, err := ParseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseIntBool(t *testing.T) {
	t.Parallel()
	ints := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"25", 25, true}, {" 25 ", 25, true}, {"-3", -3, true}, {"+7", 7, true},
		{"2147483647", 2147483647, true}, {"2147483648", 0, false}, {"1.5", 0, false}, {"x", 0, false}, {"", 0, false},
	}
	for _, tc := range ints {
		got, err := ParseInt(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseInt(%q) = %d, %v", tc.in, got, err)
		}
	}
	bools := map[string]bool{"true": true, "TRUE": true, "1": true, "True": true, "false": false, "yes": false, "0": false, "": false, " true": false}
	for in, want := range bools {
		if ParseBool(in) != want {
			t.Errorf("ParseBool(%q) != %v", in, want)
		}
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	d := DefaultSettings()
	checks := []struct {
		name string
		ok   bool
	}{
		{"clientTimeout 60s", d.ClientTimeout == 60*time.Second},
		{"sessionSizeLimit 99MiB", d.SessionSizeLimit == 103809024},
		{"autoResetThreshold 15MiB", d.AutoResetThreshold == 15<<20},
		{"sessionCountLimit 25", d.SessionCountLimit == 25},
		{"sessionUserLimit 254", d.SessionUserLimit == 254},
		{"allowGuests", d.AllowGuests},
		{"allowGuestHosts", d.AllowGuestHosts},
		{"extBansCheckInterval 900s", d.ExtBansCheckInterval == 900*time.Second},
		{"extauthfallback", d.ExtAuthFallback},
		{"extauthmod", d.ExtAuthMod},
		{"!persistence", !d.Persistence},
		{"invites", d.Invites},
		{"customAvatars", d.CustomAvatars},
		{"!enableGhosts", !d.EnableGhosts},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("default %s failed", c.name)
		}
	}
	if len(Keys) != 55 {
		t.Errorf("%d keys, want 55 (indexes 0–55 without 9)", len(Keys))
	}
	seen := map[int]bool{}
	for _, k := range Keys {
		if seen[k.Index] || k.Index == 9 {
			t.Errorf("key %s has duplicate or reserved index %d", k.Name, k.Index)
		}
		seen[k.Index] = true
		if err := k.Validate(k.Default); err != nil {
			t.Errorf("default of %s invalid: %v", k.Name, err)
		}
	}
}

func TestMemoryStoreSettings(t *testing.T) {
	t.Parallel()
	s, err := Open(context.Background(), Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Mode() != ModeMemory {
		t.Fatalf("mode = %v", s.Mode())
	}
	if got := s.Settings().ClientTimeout; got != time.Minute {
		t.Fatalf("default clientTimeout = %v", got)
	}
	tests := []struct {
		key, value string
		wantErr    error
	}{
		{"clientTimeout", "2m", nil},
		{"sessionSizeLimit", "10mb", nil},
		{"sessionCountLimit", "3", nil},
		{"forceNsfm", "TRUE", nil},
		{"serverTitle", "Hello", nil},
		{"idleTimeLimit", "abc", &SettingError{}},
		{"sessionSizeLimit", "10 M", &SettingError{}},
		{"sessionCountLimit", "many", &SettingError{}},
		{"noSuchKey", "1", ErrUnknownSetting},
		{"ClientTimeout", "1", ErrUnknownSetting}, // names are case-sensitive
	}
	for _, tc := range tests {
		err := s.SetSetting(tc.key, tc.value)
		switch want := tc.wantErr.(type) {
		case nil:
			if err != nil {
				t.Errorf("SetSetting(%s, %q): %v", tc.key, tc.value, err)
			}
		case *SettingError:
			var se *SettingError
			if !errors.As(err, &se) || se.Key != tc.key {
				t.Errorf("SetSetting(%s, %q) err = %v, want *SettingError", tc.key, tc.value, err)
			}
		default:
			if !errors.Is(err, want) {
				t.Errorf("SetSetting(%s, %q) err = %v, want %v", tc.key, tc.value, err, want)
			}
		}
	}
	st := s.Settings()
	if st.ClientTimeout != 2*time.Minute || st.SessionSizeLimit != 10<<20 || st.SessionCountLimit != 3 || !st.ForceNsfm || st.ServerTitle != "Hello" {
		t.Errorf("settings after writes = %+v", st)
	}
	if st.IdleTimeLimit != 0 {
		t.Errorf("rejected write applied: idleTimeLimit = %v", st.IdleTimeLimit)
	}
	if v, _ := s.Setting("clientTimeout"); v != "2m" {
		t.Errorf("Setting(clientTimeout) = %q", v)
	}
	if v, _ := s.Setting("welcomeMessage"); v != "" {
		t.Errorf("Setting(welcomeMessage) = %q", v)
	}
}

func TestAPISettings(t *testing.T) {
	t.Parallel()
	s, err := Open(context.Background(), Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := s.APISettings(APIContext{})
	if m["clientTimeout"] != int64(60) || m["sessionSizeLimit"] != int64(103809024) || m["allowGuests"] != true || m["serverTitle"] != "" {
		t.Errorf("typed values wrong: %v %v %v %v", m["clientTimeout"], m["sessionSizeLimit"], m["allowGuests"], m["serverTitle"])
	}
	for _, hidden := range []string{"extauth", "abusereport", "allowGuestWeb", "preferWebSockets", "requireMatchingHost", "announceWhitelist", "extBansCacheResponse"} {
		if _, ok := m[hidden]; ok {
			t.Errorf("%s shown without its feature", hidden)
		}
	}
	m = s.APISettings(APIContext{ExtAuthURL: true, ReportURL: true, WebSocket: true, LocalHost: true})
	for _, shown := range []string{"extauth", "abusereport", "allowGuestWeb", "preferWebSockets", "requireMatchingHost"} {
		if _, ok := m[shown]; !ok {
			t.Errorf("%s hidden with its feature on", shown)
		}
	}
	if _, ok := m["extBansCacheKey"]; ok {
		t.Error("internal key shown")
	}
	// PUT: JSON values stringified; invalid values rejected before any write.
	err = s.UpdateAPISettings(map[string]any{"sessionCountLimit": 7.0, "persistence": true, "idleTimeLimit": "abc"})
	var se *SettingError
	if !errors.As(err, &se) || se.Key != "idleTimeLimit" {
		t.Fatalf("err = %v", err)
	}
	if s.Settings().SessionCountLimit != 25 {
		t.Error("partial update applied")
	}
	if err := s.UpdateAPISettings(map[string]any{"sessionCountLimit": 7.0, "persistence": true, "serverTitle": "T", "extBansCacheResponse": "x", "bogus": 1}); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Setting("sessionCountLimit"); v != "7" {
		t.Errorf("stored %q, want \"7\"", v)
	}
	if v, _ := s.Setting("persistence"); v != "true" {
		t.Errorf("stored %q, want \"true\"", v)
	}
	if v, _ := s.Setting("extBansCacheResponse"); v != "" {
		t.Errorf("internal key writable through API: %q", v)
	}
}

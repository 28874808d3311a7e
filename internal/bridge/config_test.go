package bridge

import (
	"bytes"
	"encoding/base64"
	"io"
	"testing"
	"time"

	"drawbridge/internal/session"
	"drawbridge/internal/store"
)

func TestCryptKeyFlag(t *testing.T) {
	good := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	for _, tt := range []struct {
		key string
		ok  bool
	}{
		{good, true},
		{" " + good + "\n", true},
		{base64.StdEncoding.EncodeToString(make([]byte, 31)), false},
		{base64.StdEncoding.EncodeToString(make([]byte, 33)), false},
		{"%%%", false},
	} {
		c, err := ParseFlags([]string{"--crypt-key", tt.key}, io.Discard)
		if (err == nil) != tt.ok {
			t.Errorf("--crypt-key %q: err %v, want ok=%v", tt.key, err, tt.ok)
		}
		if tt.ok && !bytes.Equal(c.CryptKey, bytes.Repeat([]byte{7}, 32)) {
			t.Errorf("--crypt-key %q: key %x", tt.key, c.CryptKey)
		}
	}
	c, err := ParseFlags(nil, io.Discard)
	if err != nil || c.CryptKey != nil || c.GenerateCryptKey {
		t.Errorf("defaults: %v %x %v", err, c.CryptKey, c.GenerateCryptKey)
	}
	k1, err1 := GenerateCryptKey()
	k2, err2 := GenerateCryptKey()
	if err1 != nil || err2 != nil || k1 == k2 {
		t.Fatalf("generated keys %q %q (%v %v)", k1, k2, err1, err2)
	}
	if _, err := ParseCryptKey(k1); err != nil {
		t.Errorf("generated key refused: %v", err)
	}
}

func TestLocalHostFlag(t *testing.T) {
	c, err := ParseFlags([]string{"--local-host", "draw.example.com"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.LocalHost != "draw.example.com" || c.Admin.ExtHost != "draw.example.com" {
		t.Errorf("local host %q, admin ext_host %q", c.LocalHost, c.Admin.ExtHost)
	}
}

func TestSessionSettingsPolicies(t *testing.T) {
	st := store.DefaultSettings()
	got := sessionSettings(st, session.DefaultSettings())
	if got.EnableGhosts || got.PasswordDependentWebSession || got.RequireMatchingHost ||
		got.SessionLessClientLingerTime != 0 || got.UnlistedHostPolicy != "" {
		t.Errorf("defaults not off: %+v", got)
	}
	st.EnableGhosts = true
	st.PasswordDependentWebSession = true
	st.RequireMatchingHost = true
	st.SessionLessClientLingerTime = 90 * time.Second
	st.UnlistedHostPolicy = "WEB"
	got = sessionSettings(st, session.DefaultSettings())
	if !got.EnableGhosts || !got.PasswordDependentWebSession || !got.RequireMatchingHost ||
		got.SessionLessClientLingerTime != 90*time.Second || got.UnlistedHostPolicy != "WEB" {
		t.Errorf("policies not mapped: %+v", got)
	}
}

package auth

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// The token and key from drawpile's own test (src/libshared/tests/
// authtoken.cpp): a version 1 token for "bob" with nonce 0x0102030405060708,
// signed by an ext-auth server; the signature's base64 has no padding.
const (
	upstreamToken = "1.eyJ1c2VybmFtZSI6ICJib2IiLCAiZmxhZ3MiOiBbIm1vZCIsICJob3N0Il0sICJub25jZSI6ICIwMTAyMDMwNDA1MDYwNzA4In0=.700X+2Jy0Cor6M08Qd+ZGXcWdfjo1ZHzhldlhGbtJOwv7ZSHy7ykmtr2BiOOt+j4XFGRTT9ebA7F5/+h4osrCg"
	upstreamKey   = "PUi/Xp04e2C7bk0BNFyAp0IPAiHG8nEkMKEcXo44qnY="
)

func TestUpstreamTokenVector(t *testing.T) {
	t.Parallel()
	tok, err := ParseToken(upstreamToken)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(upstreamKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.CheckSignature(pub); err != nil {
		t.Fatalf("signature: %v", err)
	}
	p, err := tok.DecodePayload()
	if err != nil {
		t.Fatal(err)
	}
	if p.Username != "bob" || !slices.Equal(p.Flags, []string{"mod", "host"}) {
		t.Errorf("payload = %+v", p)
	}
	if err := p.Validate("", 0x0102030405060708); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if err := p.Validate("", 0); err == nil {
		t.Error("Validate with nonce 0 succeeded")
	}
	id, err := VerifyExtAuthToken(upstreamToken, 0x0102030405060708, ExtAuthPolicy{Key: upstreamKey, AuthHost: "example.com", Allow: AllowAll(false)})
	if err != nil {
		t.Fatal(err)
	}
	// Lower-case flags are not the MOD/HOST flags: kept as unknown flags.
	if id.AuthID != "example.com:bob" || id.IsMod || !id.Flags.Has("mod") {
		t.Errorf("identity = %+v", id)
	}
}

type testKey struct {
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
	b64  string
}

func newTestKey(t *testing.T) testKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{pub, priv, base64.StdEncoding.EncodeToString(pub)}
}

func sign(t *testing.T, k testKey, payload map[string]any, avatar []byte) string {
	t.Helper()
	s, err := SignExtAuthToken(k.priv, payload, avatar)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerifyExtAuthToken(t *testing.T) {
	t.Parallel()
	key := newTestKey(t)
	other := newTestKey(t)
	const nonce = 0xdeadbeef01
	base := func() map[string]any {
		return map[string]any{"username": "alice", "uid": 42, "nonce": FormatNonce(nonce), "flags": []string{"MOD", "HOST", "WEB", "TRUSTED"}}
	}
	with := func(k string, v any) map[string]any {
		m := base()
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	policy := ExtAuthPolicy{Key: key.b64, AuthHost: "auth.example", Allow: FlagAllow{Mod: true, Host: true}, Avatars: true}
	avatar := []byte("\x89PNG fake image")
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	aged := policy
	aged.MaxAge = 5 * time.Minute
	aged.Now = func() time.Time { return now }

	tests := []struct {
		name     string
		token    string
		nonce    uint64
		policy   *ExtAuthPolicy
		wantKind TokenErrorKind
		check    func(t *testing.T, id *ExtAuthIdentity)
	}{
		{name: "valid v1", token: sign(t, key, base(), nil), nonce: nonce, check: func(t *testing.T, id *ExtAuthIdentity) {
			if id.Username != "alice" || id.AuthID != "auth.example:42" || !id.HasUserID || id.UserID != 42 {
				t.Errorf("identity = %+v", id)
			}
			if got := id.Flags.Sorted(); !slices.Equal(got, []string{"HOST", "MOD", "TRUSTED"}) {
				t.Errorf("flags = %v (WEB must be dropped: extauthweb off)", got)
			}
			if !id.IsMod || !id.BanExempt || id.Avatar != nil {
				t.Errorf("mod/banexempt/avatar = %v %v %v", id.IsMod, id.BanExempt, id.Avatar)
			}
		}},
		{name: "v2 with avatar", token: sign(t, key, base(), avatar), nonce: nonce, check: func(t *testing.T, id *ExtAuthIdentity) {
			if !bytes.Equal(id.Avatar, avatar) {
				t.Errorf("avatar = %q", id.Avatar)
			}
		}},
		{name: "v2 avatar disabled", token: sign(t, key, base(), avatar), nonce: nonce,
			policy: &ExtAuthPolicy{Key: key.b64, AuthHost: "auth.example"},
			check: func(t *testing.T, id *ExtAuthIdentity) {
				if id.Avatar != nil || id.IsMod || id.BanExempt || id.Flags.Has(FlagMod) || id.Flags.Has(FlagHost) {
					t.Errorf("identity = %+v", id)
				}
			}},
		{name: "v2 avatar tampered", nonce: nonce, wantKind: TokenBadSignature, token: func() string {
			s := sign(t, key, base(), avatar)
			parts := strings.Split(s, ".")
			parts[2] = base64.StdEncoding.EncodeToString([]byte("other image"))
			return strings.Join(parts, ".")
		}()},
		{name: "bad signature", token: sign(t, other, base(), nil), nonce: nonce, wantKind: TokenBadSignature},
		{name: "payload tampered", nonce: nonce, wantKind: TokenBadSignature, token: func() string {
			good := sign(t, key, base(), nil)
			forged := sign(t, key, with("username", "mallory"), nil)
			gp, fp := strings.Split(good, "."), strings.Split(forged, ".")
			return "1." + fp[1] + "." + gp[2]
		}()},
		{name: "wrong nonce", token: sign(t, key, base(), nil), nonce: nonce + 1, wantKind: TokenBadPayload},
		{name: "not requested", token: sign(t, key, base(), nil), nonce: 0, wantKind: TokenNotRequested},
		{name: "no username", token: sign(t, key, with("username", nil), nil), nonce: nonce, wantKind: TokenBadPayload},
		{name: "flags not array", token: sign(t, key, with("flags", "MOD"), nil), nonce: nonce, wantKind: TokenBadPayload},
		{name: "group unexpected", token: sign(t, key, with("group", "g1"), nil), nonce: nonce, wantKind: TokenBadPayload},
		{name: "group null ok", token: sign(t, key, map[string]any{"username": "a", "nonce": FormatNonce(nonce), "group": nil}, nil), nonce: nonce},
		{name: "group match", token: sign(t, key, with("group", "g1"), nil), nonce: nonce,
			policy: &ExtAuthPolicy{Key: key.b64, Group: "g1", AuthHost: "h"}},
		{name: "group missing", token: sign(t, key, base(), nil), nonce: nonce, wantKind: TokenBadPayload,
			policy: &ExtAuthPolicy{Key: key.b64, Group: "g1", AuthHost: "h"}},
		{name: "string uid", token: sign(t, key, with("uid", "u-7"), nil), nonce: nonce, check: func(t *testing.T, id *ExtAuthIdentity) {
			if id.AuthID != "auth.example:u-7" || id.HasUserID {
				t.Errorf("identity = %+v", id)
			}
		}},
		{name: "no uid", token: sign(t, key, with("uid", nil), nil), nonce: nonce, check: func(t *testing.T, id *ExtAuthIdentity) {
			if id.AuthID != "auth.example:alice" {
				t.Errorf("AuthID = %q", id.AuthID)
			}
		}},
		{name: "ghost requested not allowed", token: sign(t, key, with("flags", []string{"MOD", "GHOST"}), nil), nonce: nonce, check: func(t *testing.T, id *ExtAuthIdentity) {
			if !id.WantGhost || id.Flags.Has(FlagGhost) {
				t.Errorf("identity = %+v", id)
			}
		}},
		{name: "garbage", token: "hello", nonce: nonce, wantKind: TokenMalformed},
		{name: "v1 with four parts", token: "1.a.b.c", nonce: nonce, wantKind: TokenMalformed},
		{name: "version 3", token: "3.a.b", nonce: nonce, wantKind: TokenMalformed},
		{name: "short signature", token: "1.eyJ9.AAAA", nonce: nonce, wantKind: TokenMalformed},
		{name: "expired", token: sign(t, key, with("iat", now.Add(-10*time.Minute).Unix()), nil), nonce: nonce, wantKind: TokenExpired, policy: &aged},
		{name: "fresh", token: sign(t, key, with("iat", now.Add(-time.Minute).Unix()), nil), nonce: nonce, policy: &aged},
		{name: "fresh millis", token: sign(t, key, with("iat", now.Add(-time.Minute).UnixMilli()), nil), nonce: nonce, policy: &aged},
		{name: "future", token: sign(t, key, with("iat", now.Add(time.Hour).Unix()), nil), nonce: nonce, wantKind: TokenExpired, policy: &aged},
		{name: "no iat with max age", token: sign(t, key, base(), nil), nonce: nonce, wantKind: TokenExpired, policy: &aged},
		{name: "old iat ignored without max age", token: sign(t, key, with("iat", 1), nil), nonce: nonce},
		{name: "bad key", token: sign(t, key, base(), nil), nonce: nonce, wantKind: TokenBadKey,
			policy: &ExtAuthPolicy{Key: "AAAA"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := policy
			if tc.policy != nil {
				p = *tc.policy
			}
			id, err := VerifyExtAuthToken(tc.token, tc.nonce, p)
			if tc.wantKind != 0 {
				var te *TokenError
				if !errors.As(err, &te) || te.Kind != tc.wantKind {
					t.Fatalf("err = %v, want kind %d", err, tc.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, id)
			}
		})
	}
}

func TestNonce(t *testing.T) {
	t.Parallel()
	seen := map[uint64]bool{}
	for range 100 {
		n := NewNonce()
		if n == 0 || seen[n] {
			t.Fatalf("nonce %d zero or repeated", n)
		}
		seen[n] = true
		got, err := parseHexNonce(FormatNonce(n))
		if err != nil || got != n {
			t.Fatalf("round trip %x: %x %v", n, got, err)
		}
	}
}

func TestGuestCheck(t *testing.T) {
	t.Parallel()
	if got := string(GuestCheckRequest("bob", "")); got != `{"username":"bob"}` {
		t.Errorf("request = %s", got)
	}
	if got := string(GuestCheckRequest("bob", "g")); got != `{"group":"g","username":"bob"}` {
		t.Errorf("request = %s", got)
	}
	tests := []struct {
		body string
		want GuestCheckStatus
		err  error
	}{
		{`{"status":"auth"}`, GuestCheckAuth, nil},
		{`{"status":"guest"}`, GuestCheckGuest, nil},
		{`{"status":"outgroup"}`, GuestCheckOutgroup, nil},
		{`{"status":"banned"}`, GuestCheckBanned, nil},
		{`{"status":7}`, "", nil},
		{`[]`, "", nil},
		{`<html>`, "", ErrExtAuthUnavailable},
		{``, "", ErrExtAuthUnavailable},
	}
	for _, tc := range tests {
		got, err := ParseGuestCheckResponse([]byte(tc.body))
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("%q: %q %v, want %q %v", tc.body, got, err, tc.want, tc.err)
		}
	}
}

func TestFlags(t *testing.T) {
	t.Parallel()
	set, isMod, wantGhost := FilterFlags([]string{"MOD", "GHOST", "PERSIST", "MOD", "", "CUSTOM"}, AllowAll(true))
	if !isMod || !wantGhost || set.String() != "CUSTOM,GHOST,MOD,PERSIST" {
		t.Errorf("AllowAll: %v %v %v", set, isMod, wantGhost)
	}
	set, isMod, _ = FilterFlags([]string{"MOD", "BANEXEMPT", "WEB", "WEBHOST", "WEBSESSION", "PERSIST", "HOST", "TRUSTED"}, FlagAllow{})
	if isMod || set.String() != "TRUSTED" {
		t.Errorf("AllowNone: %v %v", set, isMod)
	}
	s := NewFlagSet(FlagMod)
	AddImplicitFlags(s, ImplicitFlags{Host: true, Web: true})
	if s.String() != "HOST,MOD,PERSIST,WEB" {
		t.Errorf("implicit = %v", s)
	}
	if got := ParseFlagList(" MOD,,HOST ,").String(); got != "HOST,MOD" {
		t.Errorf("ParseFlagList = %q", got)
	}
}

func FuzzParseToken(f *testing.F) {
	f.Add(upstreamToken)
	f.Add("2.a.b.c")
	f.Add("1..")
	pub, _ := ParsePublicKey(upstreamKey)
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseToken(s)
		if err != nil {
			return
		}
		_ = tok.CheckSignature(pub)
		if p, err := tok.DecodePayload(); err == nil {
			_ = p.Validate("g", 1)
			p.AuthIDSuffix()
		}
		tok.AvatarBytes()
	})
}

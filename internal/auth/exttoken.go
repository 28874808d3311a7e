package auth

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Ext-auth tokens (server.md §5). Wire form, dot-separated:
//
//	1.<payload>.<signature>
//	2.<payload>.<avatar>.<signature>
//
// payload is base64 of a JSON object {username, uid?, flags?, group?,
// nonce (hex), …}; avatar is base64 of an image; signature is base64 of a
// 64-byte Ed25519 detached signature over the ASCII text "1.<payload>" or
// "2.<payload>.<avatar>", i.e. over the encoded parts exactly as received.

// MaxTokenLen bounds an ext-auth token before it is split or decoded. A
// token travels inside one protocol message (≤ 65535 bytes).
const MaxTokenLen = 1 << 16

// TokenErrorKind says which check a token failed. The login handler maps
// every kind to the client error "extAuthError".
type TokenErrorKind int

const (
	// TokenMalformed: not "1.p.s" / "2.p.a.s", empty payload, or a
	// signature that is not 64 bytes of base64.
	TokenMalformed TokenErrorKind = iota + 1
	// TokenBadKey: the configured extauthkey is not base64 of 32 bytes.
	TokenBadKey
	// TokenBadSignature: the Ed25519 signature does not verify.
	TokenBadSignature
	// TokenBadPayload: payload is not a JSON object, the nonce does not
	// match, the username is empty, flags is not an array, or the group
	// differs from the configured one.
	TokenBadPayload
	// TokenNotRequested: a token arrived on a connection that was never sent
	// a nonce.
	TokenNotRequested
	// TokenExpired: ExtAuthPolicy.MaxAge is set and the token's iat is
	// missing or out of range.
	TokenExpired
)

// TokenError reports why an ext-auth token was rejected.
type TokenError struct {
	Kind   TokenErrorKind
	Reason string
}

func (e *TokenError) Error() string { return "auth: ext-auth token: " + e.Reason }

// Token is a parsed (not yet verified) ext-auth token.
type Token struct {
	Version   int    // 1 or 2
	Payload   string // base64 text as received
	Avatar    string // base64 text as received (version 2 only)
	Signature []byte // 64 bytes
}

// ParseToken splits a token into its parts and checks its shape; it does not
// verify the signature.
func ParseToken(s string) (*Token, error) {
	if len(s) > MaxTokenLen {
		return nil, &TokenError{Kind: TokenMalformed, Reason: "token too long"}
	}
	parts := strings.Split(s, ".")
	v, err := strconv.Atoi(strings.TrimSpace(parts[0]))
	if err != nil {
		return nil, &TokenError{Kind: TokenMalformed, Reason: "bad version"}
	}
	t := &Token{Version: v}
	var sig string
	switch {
	case v == 1 && len(parts) == 3:
		t.Payload, sig = parts[1], parts[2]
	case v == 2 && len(parts) == 4:
		t.Payload, t.Avatar, sig = parts[1], parts[2], parts[3]
	default:
		return nil, &TokenError{Kind: TokenMalformed, Reason: fmt.Sprintf("version %d with %d parts", v, len(parts))}
	}
	if t.Payload == "" {
		return nil, &TokenError{Kind: TokenMalformed, Reason: "empty payload"}
	}
	t.Signature, err = DecodeBase64Lenient(sig)
	if err != nil || len(t.Signature) != ed25519.SignatureSize {
		return nil, &TokenError{Kind: TokenMalformed, Reason: "signature is not 64 bytes of base64"}
	}
	return t, nil
}

// SignedText is the text the signature covers.
func (t *Token) SignedText() string {
	s := strconv.Itoa(t.Version) + "." + t.Payload
	if t.Version == 2 {
		s += "." + t.Avatar
	}
	return s
}

// CheckSignature verifies the signature with an Ed25519 public key.
func (t *Token) CheckSignature(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return &TokenError{Kind: TokenBadKey, Reason: "public key is not 32 bytes"}
	}
	if !ed25519.Verify(pub, []byte(t.SignedText()), t.Signature) {
		return &TokenError{Kind: TokenBadSignature, Reason: "signature mismatch"}
	}
	return nil
}

// AvatarBytes decodes the avatar part (nil for version 1 or on bad base64).
func (t *Token) AvatarBytes() []byte {
	if t.Avatar == "" {
		return nil
	}
	b, err := DecodeBase64Lenient(t.Avatar)
	if err != nil {
		return nil
	}
	return b
}

// TokenPayload is the decoded JSON payload. Fields are kept raw where
// drawpile-srv distinguishes types (uid number vs string, group null vs
// absent).
type TokenPayload struct {
	Username string
	Nonce    string
	Flags    []string
	// UID is the raw "uid" member (nil if absent).
	UID json.RawMessage
	// Group is the raw "group" member (nil if absent).
	Group json.RawMessage
	// IAT is the raw "iat" member (issued-at), nil if absent.
	IAT json.RawMessage
	// HasFlags is true if "flags" was present; FlagsIsArray if it was an
	// array (anything else invalidates the token).
	HasFlags, FlagsIsArray bool
}

// DecodePayload decodes the base64 JSON payload.
func (t *Token) DecodePayload() (*TokenPayload, error) {
	raw, err := DecodeBase64Lenient(t.Payload)
	if err != nil {
		return nil, &TokenError{Kind: TokenBadPayload, Reason: "payload is not base64"}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, &TokenError{Kind: TokenBadPayload, Reason: "payload is not a JSON object"}
	}
	p := &TokenPayload{UID: obj["uid"], Group: obj["group"], IAT: obj["iat"]}
	_ = json.Unmarshal(obj["username"], &p.Username) // non-string: empty, rejected below
	_ = json.Unmarshal(obj["nonce"], &p.Nonce)
	if f, ok := obj["flags"]; ok {
		p.HasFlags = true
		var arr []json.RawMessage
		if json.Unmarshal(f, &arr) == nil && bytes.HasPrefix(bytes.TrimSpace(f), []byte("[")) {
			p.FlagsIsArray = true
			for _, e := range arr {
				var s string
				if json.Unmarshal(e, &s) == nil {
					p.Flags = append(p.Flags, s)
				} else {
					p.Flags = append(p.Flags, "")
				}
			}
		}
	}
	return p, nil
}

// Validate applies drawpile-srv's payload checks: the nonce (hex) equals
// the one issued to this connection, the username is non-empty, flags is
// absent or an array, and the group equals the configured group (absent or
// null when none is configured). Issued-at/expiry are not checked, as
// upstream (the per-connection nonce is what binds a token).
func (p *TokenPayload) Validate(group string, nonce uint64) error {
	n, err := parseHexNonce(p.Nonce)
	if err != nil || n != nonce {
		return &TokenError{Kind: TokenBadPayload, Reason: "nonce mismatch"}
	}
	if p.Username == "" {
		return &TokenError{Kind: TokenBadPayload, Reason: "empty username"}
	}
	if p.HasFlags && !p.FlagsIsArray {
		return &TokenError{Kind: TokenBadPayload, Reason: "flags is not an array"}
	}
	g := bytes.TrimSpace(p.Group)
	if group == "" {
		if len(g) != 0 && !bytes.Equal(g, []byte("null")) {
			return &TokenError{Kind: TokenBadPayload, Reason: "unexpected group"}
		}
	} else {
		var s string
		if json.Unmarshal(g, &s) != nil || s != group {
			return &TokenError{Kind: TokenBadPayload, Reason: "group mismatch"}
		}
	}
	return nil
}

// IssuedAt returns the "iat" member as a time (seconds since the epoch, or
// milliseconds when larger than 1e11).
func (p *TokenPayload) IssuedAt() (time.Time, bool) {
	var f float64
	if len(p.IAT) == 0 || json.Unmarshal(p.IAT, &f) != nil || math.IsNaN(f) || f <= 0 || f > 1e15 {
		return time.Time{}, false
	}
	if f > 1e11 {
		return time.UnixMilli(int64(f)), true
	}
	return time.Unix(int64(f), 0), true
}

// CheckAge rejects a token without iat, issued more than maxAge before
// now, or more than maxAge after now.
func (p *TokenPayload) CheckAge(now time.Time, maxAge time.Duration) error {
	iat, ok := p.IssuedAt()
	if !ok {
		return &TokenError{Kind: TokenExpired, Reason: "missing issued-at time"}
	}
	if d := now.Sub(iat); d > maxAge || d < -maxAge {
		return &TokenError{Kind: TokenExpired, Reason: "token expired or from the future"}
	}
	return nil
}

// UserID returns the numeric uid when "uid" is a JSON number (truncated to
// an integer, as upstream), for checking against user bans.
func (p *TokenPayload) UserID() (int64, bool) {
	var f float64
	if len(p.UID) == 0 || json.Unmarshal(p.UID, &f) != nil {
		return 0, false
	}
	if math.IsNaN(f) || f > math.MaxInt64 || f < math.MinInt64 {
		return 0, false
	}
	return int64(f), true
}

// AuthIDSuffix is the identifier part of the auth ID: the numeric uid, else
// the uid string, else the username.
func (p *TokenPayload) AuthIDSuffix() string {
	if id, ok := p.UserID(); ok {
		return strconv.FormatInt(id, 10)
	}
	var s string
	if json.Unmarshal(p.UID, &s) == nil && s != "" {
		return s
	}
	return p.Username
}

func parseHexNonce(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	return strconv.ParseUint(s, 16, 64)
}

// NewNonce returns a random non-zero 64-bit nonce (zero means "not
// requested").
func NewNonce() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand.Read never fails on supported platforms (Go 1.24+).
		return 1
	}
	if n := binary.LittleEndian.Uint64(b[:]); n != 0 {
		return n
	}
	return 1
}

// FormatNonce is the nonce as sent in the needExtAuth result: lowercase hex
// without padding.
func FormatNonce(n uint64) string { return strconv.FormatUint(n, 16) }

// ParsePublicKey decodes the extauthkey setting: base64 of a raw 32-byte
// Ed25519 public key.
func ParsePublicKey(b64 string) (ed25519.PublicKey, error) {
	k, err := DecodeBase64Lenient(b64)
	if err != nil || len(k) != ed25519.PublicKeySize {
		return nil, &TokenError{Kind: TokenBadKey, Reason: "extauthkey is not base64 of a 32-byte Ed25519 key"}
	}
	return ed25519.PublicKey(k), nil
}

// ExtAuthPolicy is the part of the runtime settings that governs ext-auth
// logins. internal/store fills it from its settings (Settings.ExtAuthPolicy).
type ExtAuthPolicy struct {
	// Key is the extauthkey setting (base64 Ed25519 public key).
	Key string
	// Group is extauthgroup ("" = default group).
	Group string
	// AuthHost is the host part of the --extauth URL; auth IDs are
	// "<AuthHost>:<uid>".
	AuthHost string
	// Which token flags are honoured (extauthmod, extauthhost, enableGhosts
	// && extauthghosts, extauthbanexempt, extauthweb, extauthwebhost,
	// extauthwebsession, extauthpersist).
	Allow FlagAllow
	// Avatars is extAuthAvatars: use the token's avatar.
	Avatars bool
	// MaxAge, when > 0, rejects tokens whose "iat" (issued-at; seconds, or
	// milliseconds if larger than 1e11, as some ext-auth servers send) is
	// missing, older than MaxAge or more than MaxAge in the future (clock
	// skew). Zero disables the check, as upstream, which never looks at
	// iat. Now is the clock for it (default time.Now).
	MaxAge time.Duration
	Now    func() time.Time
}

// ExtAuthIdentity is the result of a verified ext-auth token.
type ExtAuthIdentity struct {
	// Username from the token (it replaces the name the client typed).
	Username string
	// AuthID is "<AuthHost>:<uid or username>".
	AuthID string
	// UserID is the numeric uid if the token had one; the caller checks it
	// against user bans (Store.CheckUserID).
	UserID    int64
	HasUserID bool
	// RawFlags are the token's flags as sent; Flags the honoured subset
	// (implicit flags from the allowGuest* settings are NOT added here:
	// see AddImplicitFlags).
	RawFlags []string
	Flags    FlagSet
	// IsMod: MOD honoured. WantGhost: the token asked for GHOST (the login
	// handler rejects it with ghostsNotAllowed/ghostWithoutMod when
	// !Flags.Has(FlagGhost) or !IsMod).
	IsMod, WantGhost bool
	// BanExempt: (extauthmod && MOD) || (extauthbanexempt && BANEXEMPT);
	// exempts from IP-derived bans only.
	BanExempt bool
	// Avatar image bytes from a v2 token when policy.Avatars (else nil).
	Avatar []byte
}

// VerifyExtAuthToken does everything drawpile-srv does with an `ident`
// command's extauth token: nonce must have been issued (non-zero), the
// signature must verify with policy.Key, the payload must validate against
// policy.Group and nonce; then the identity is derived and flags filtered.
// Every error is a *TokenError; the client gets "extAuthError".
func VerifyExtAuthToken(token string, nonce uint64, policy ExtAuthPolicy) (*ExtAuthIdentity, error) {
	if nonce == 0 {
		return nil, &TokenError{Kind: TokenNotRequested, Reason: "ext-auth not requested"}
	}
	pub, err := ParsePublicKey(policy.Key)
	if err != nil {
		return nil, err
	}
	t, err := ParseToken(token)
	if err != nil {
		return nil, err
	}
	if err := t.CheckSignature(pub); err != nil {
		return nil, err
	}
	p, err := t.DecodePayload()
	if err != nil {
		return nil, err
	}
	if err := p.Validate(policy.Group, nonce); err != nil {
		return nil, err
	}
	if policy.MaxAge > 0 {
		now := time.Now
		if policy.Now != nil {
			now = policy.Now
		}
		if err := p.CheckAge(now(), policy.MaxAge); err != nil {
			return nil, err
		}
	}
	id := &ExtAuthIdentity{
		Username: p.Username,
		AuthID:   policy.AuthHost + ":" + p.AuthIDSuffix(),
		RawFlags: p.Flags,
	}
	id.UserID, id.HasUserID = p.UserID()
	id.BanExempt = (policy.Allow.Mod && containsString(p.Flags, string(FlagMod))) ||
		(policy.Allow.BanExempt && containsString(p.Flags, string(FlagBanExempt)))
	id.Flags, id.IsMod, id.WantGhost = FilterFlags(p.Flags, policy.Allow)
	if policy.Avatars {
		id.Avatar = t.AvatarBytes()
	}
	return id, nil
}

// SignExtAuthToken builds a token the way an ext-auth server does (used by
// tests and development tools): payload is marshalled to JSON and base64'd;
// a non-nil avatar makes it a version 2 token.
func SignExtAuthToken(priv ed25519.PrivateKey, payload any, avatar []byte) (string, error) {
	j, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("auth: marshal token payload: %w", err)
	}
	t := &Token{Version: 1, Payload: stdB64(j)}
	if avatar != nil {
		t.Version = 2
		t.Avatar = stdB64(avatar)
	}
	sig := ed25519.Sign(priv, []byte(t.SignedText()))
	return t.SignedText() + "." + stdB64(sig), nil
}

// ErrExtAuthUnavailable is returned by ext-auth server clients when the
// server cannot be reached or answers garbage; with extauthfallback the
// login continues as a guest.
var ErrExtAuthUnavailable = errors.New("auth: ext-auth server unavailable")

// GuestCheckStatus is the ext-auth server's answer to the server's
// {"username", "group"?} query (server.md §5 step 2).
type GuestCheckStatus string

const (
	GuestCheckAuth     GuestCheckStatus = "auth"     // request ext-auth (needExtAuth)
	GuestCheckGuest    GuestCheckStatus = "guest"    // guest login
	GuestCheckOutgroup GuestCheckStatus = "outgroup" // error extauthOutgroup
	GuestCheckBanned   GuestCheckStatus = "banned"   // error extauthLocked
)

// GuestCheckRequest builds the JSON body the server POSTs to the ext-auth
// URL for a username (group omitted when empty).
func GuestCheckRequest(username, group string) []byte {
	m := map[string]string{"username": username}
	if group != "" {
		m["group"] = group
	}
	b, _ := json.Marshal(m) // map[string]string always marshals
	return b
}

// ParseGuestCheckResponse decodes the ext-auth server's reply. A body that is
// not valid JSON yields ErrExtAuthUnavailable (the caller falls back to guest
// login if extauthfallback, else answers noExtAuth). Valid JSON without a
// string "status" gives the empty status; like any unknown status the login
// handler answers error "extauth" for it.
func ParseGuestCheckResponse(body []byte) (GuestCheckStatus, error) {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return "", ErrExtAuthUnavailable
	}
	obj, _ := v.(map[string]any)
	s, _ := obj["status"].(string)
	return GuestCheckStatus(s), nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func stdB64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

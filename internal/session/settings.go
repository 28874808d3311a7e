package session

import (
	"context"
	"errors"
	"net/netip"
	"regexp"
	"time"
)

// Settings are the server-wide settings the session core uses (a subset of
// drawpile-srv's runtime settings, server.md §1.2). Start from
// DefaultSettings; the zero value is not meaningful.
type Settings struct {
	// ServerTitle is shown in the login dialog ("title" of the session list).
	ServerTitle string
	// WelcomeMessage is sent as a "msg" notice to each joining user.
	WelcomeMessage string
	// ServerName is the greeting's "message" (e.g. "Drawbridge 0.1").
	ServerName string
	// ClientTimeout: a connection that receives nothing for this long is
	// dropped (enforced by the transport with read deadlines). 0 = never.
	ClientTimeout time.Duration
	// SessionSizeLimit caps a session's history in bytes (0 = unlimited).
	SessionSizeLimit int64
	// SessionCountLimit caps live sessions; > 1 advertises MULTI.
	SessionCountLimit int
	// SessionUserLimit is the default and maximum user count (2..254).
	SessionUserLimit int
	// Persistence lets anyone make sessions persistent (PERSIST flag).
	Persistence bool
	// AllowGuests allows guest logins (else NOGUEST).
	AllowGuests bool
	// AllowGuestHosts grants HOST to everyone.
	AllowGuestHosts bool
	// AllowGuestWeb, AllowGuestWebSession, AllowGuestWebHosts grant the
	// WEB, WEBSESSION and WEBHOST flags to everyone.
	AllowGuestWeb, AllowGuestWebSession, AllowGuestWebHosts bool
	// Reports advertises abuse reporting (REPORT flag): the abusereport
	// setting is on and a report URL is configured.
	Reports bool
	// CustomAvatars accepts avatars sent with ident (AVATAR flag).
	CustomAvatars bool
	// AutoResetThreshold is the default autoreset threshold of new
	// sessions (0 = never); MinimumAutoResetThreshold raises user values.
	AutoResetThreshold, MinimumAutoResetThreshold int64
	// IdleTimeLimit ends sessions without new history for this long
	// (0 = never). EmptySessionLingerTime keeps empty non-persistent
	// sessions alive this long.
	IdleTimeLimit, EmptySessionLingerTime time.Duration
	// AllowIdleOverride lets moderators exempt sessions from IdleTimeLimit.
	AllowIdleOverride bool
	// ForceNsfm tags every session NSFM.
	ForceNsfm bool
	// Invites gives new sessions the "invites" flag.
	Invites bool
	// WebSockets reports that a WebSocket listener exists (sessions then
	// carry allowWeb); PreferWebSockets advertises it.
	WebSockets, PreferWebSockets bool
	// MandatoryLookup hides the session list and requires a lookup.
	MandatoryLookup bool
	// ForbiddenNames rejects matching user names and titles (nil = none).
	ForbiddenNames *regexp.Regexp
	// MinimumProtocolVersion (e.g. "dp:4.24.0") refuses hosting sessions
	// with an older protocol (moderators exempt); "" = no minimum.
	MinimumProtocolVersion string
	// RuleText must be accepted by users before they log in (greeting
	// "rules"); LoginInfoURL is shown in the login dialog ("info").
	RuleText, LoginInfoURL string
	// EnableGhosts lets moderators with the GHOST flag join invisibly
	// (enableGhosts, server.md §4.9).
	EnableGhosts bool
	// PasswordDependentWebSession: browsers may join a session iff it has
	// a password; removing the password kicks browser users
	// (passwordDependentWebSession).
	PasswordDependentWebSession bool
	// SessionLessClientLingerTime kicks connections that have been
	// without a session this long, before joining or after their session
	// ended (sessionLessClientLingerTime; ≤ 0 = never).
	SessionLessClientLingerTime time.Duration
	// UnlistedHostPolicy: "WEB" makes browser-hosted sessions unlisted,
	// "ALL" every new session (unlistedHostPolicy; upstream tests whether
	// the value contains these words).
	UnlistedHostPolicy string
	// RequireMatchingHost: clients must send cinfo first, with a host name
	// equal to Options.LocalHost (requireMatchingHost).
	RequireMatchingHost bool

	// WriteTimeout is the deadline for one batch write to a client; a
	// client that misses it is disconnected.
	WriteTimeout time.Duration
	// MaxLag is how far (bytes of history appended since it joined) a
	// client may fall behind before it is disconnected.
	MaxLag int64
	// KeepAliveInterval: clients that announced KEEPALIVE get a KeepAlive
	// after this much send silence.
	KeepAliveInterval time.Duration
	// BatchBytes bounds one history batch copied out for a writer.
	BatchBytes int
	// QueueBytes bounds a client's direct-message queue; overflowing it
	// disconnects the client like a missed deadline.
	QueueBytes int
}

// DefaultSettings returns drawpile-srv's defaults (server.md §1.2) plus the
// fan-out policy defaults.
func DefaultSettings() Settings {
	return Settings{
		ServerName:           "Drawbridge (Drawpile 2.3 compatible server)",
		ClientTimeout:        60 * time.Second,
		SessionSizeLimit:     99 * 1024 * 1024,
		SessionCountLimit:    25,
		SessionUserLimit:     254,
		AllowGuests:          true,
		AllowGuestHosts:      true,
		AllowGuestWeb:        true,
		AllowGuestWebSession: true,
		AllowGuestWebHosts:   true,
		CustomAvatars:        true,
		AutoResetThreshold:   15 * 1024 * 1024,
		AllowIdleOverride:    true,
		Invites:              true,
		WebSockets:           true,
		WriteTimeout:         10 * time.Second,
		MaxLag:               32 * 1024 * 1024,
		KeepAliveInterval:    30 * time.Second,
		BatchBytes:           256 * 1024,
		QueueBytes:           8 * 1024 * 1024,
	}
}

// Account is a registered user as the Authenticator reports it.
type Account struct {
	// Name is the canonical user name.
	Name string
	// AuthID identifies the account (Join "auth" flag, authId).
	AuthID string
	// Flags are user flags such as MOD, HOST, WEB, WEBHOST, PERSIST.
	Flags []string
}

// Errors an Authenticator returns.
var (
	// ErrNoAccount: no account has this name; the user may log in as a guest.
	ErrNoAccount = errors.New("session: no such account")
	// ErrNeedPassword: the account exists and no password was given.
	ErrNeedPassword = errors.New("session: password needed")
	// ErrBadPassword: the password is wrong.
	ErrBadPassword = errors.New("session: wrong password")
	// ErrAccountBanned: the account is banned or locked.
	ErrAccountBanned = errors.New("session: account banned")
)

// Authenticator checks account logins (ident with a password). The store
// package provides the real implementation; GuestsOnly is the default.
type Authenticator interface {
	// HasAccounts reports whether any account exists (the greeting then
	// offers the "auth" method).
	HasAccounts(ctx context.Context) bool
	// Authenticate checks username and password (password may be empty).
	Authenticate(ctx context.Context, username, password string) (Account, error)
}

// GuestsOnly is an Authenticator without accounts.
type GuestsOnly struct{}

// HasAccounts implements Authenticator.
func (GuestsOnly) HasAccounts(context.Context) bool { return false }

// Authenticate implements Authenticator: every name is a guest.
func (GuestsOnly) Authenticate(context.Context, string, string) (Account, error) {
	return Account{}, ErrNoAccount
}

// Ban describes a server-wide ban that matched.
type Ban struct {
	Reason  string
	Expires time.Time // zero = permanent
}

// BanChecker checks server-wide bans (IP, system id, account).
type BanChecker interface {
	// CheckBan returns the ban matching any of the given attributes.
	CheckBan(ctx context.Context, addr netip.Addr, sids []string, authID string) (Ban, bool)
}

// NoBans is a BanChecker that bans nobody.
type NoBans struct{}

// CheckBan implements BanChecker.
func (NoBans) CheckBan(context.Context, netip.Addr, []string, string) (Ban, bool) {
	return Ban{}, false
}

// ExtAuth is external authentication (server.md §5): an ext-auth server
// vouches for user names with Ed25519-signed tokens. The bridge implements
// it with the store's settings and an HTTP client; nil = off.
type ExtAuth interface {
	// URL is the ext-auth server's URL, "" while ext-auth is off.
	URL() string
	// Group is the ext-auth user group ("" = default), Fallback the
	// extauthfallback setting, AskAvatar whether to ask the client to send
	// its avatar to the ext-auth server (extAuthAvatars).
	Group() string
	Fallback() bool
	AskAvatar() bool
	// GuestCheck asks the ext-auth server about a name a guest wants:
	// "auth", "guest", "outgroup" or "banned"; an error if the server
	// cannot be reached or answers nonsense. It may block on the network.
	GuestCheck(ctx context.Context, name string) (string, error)
	// Verify checks a token against the nonce issued to the connection.
	Verify(token string, nonce uint64) (ExtIdentity, error)
}

// ExtIdentity is a user vouched for by a verified ext-auth token.
type ExtIdentity struct {
	Name   string   // from the token; replaces the name the client typed
	AuthID string   // "<ext-auth host>:<uid>"
	Flags  []string // honoured flags (the extauth* settings applied)
	// WantGhost: the token asked for GHOST, honoured or not (the login
	// then fails with ghostsNotAllowed unless Flags has GHOST).
	WantGhost bool
	Avatar    []byte // from a version 2 token, when allowed
}

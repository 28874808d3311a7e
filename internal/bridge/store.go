package bridge

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strings"

	"drawbridge/internal/auth"
	"drawbridge/internal/auth/httpfetch"
	"drawbridge/internal/session"
	"drawbridge/internal/store"
)

// This file adapts internal/store (settings, accounts, bans) to the
// interfaces of the transport-free session core.

// sessionSettings maps drawpile-srv's runtime settings onto the session
// core's settings. Fields the store does not own (server name, fan-out
// policy, WebSockets) come from base.
func sessionSettings(st store.Settings, base session.Settings) session.Settings {
	s := base
	s.ServerTitle = st.ServerTitle
	s.WelcomeMessage = st.WelcomeMessage
	s.ClientTimeout = st.ClientTimeout
	s.SessionSizeLimit = st.SessionSizeLimit
	s.SessionCountLimit = st.SessionCountLimit
	s.SessionUserLimit = st.SessionUserLimit
	s.Persistence = st.Persistence
	s.AllowGuests = st.AllowGuests
	s.AllowGuestHosts = st.AllowGuestHosts
	s.AllowGuestWeb = st.AllowGuestWeb
	s.AllowGuestWebSession = st.AllowGuestWebSession
	s.AllowGuestWebHosts = st.AllowGuestWebHosts
	s.CustomAvatars = st.CustomAvatars
	s.AutoResetThreshold = st.AutoResetThreshold
	s.MinimumAutoResetThreshold = st.MinimumAutoResetThreshold
	s.IdleTimeLimit = st.IdleTimeLimit
	s.EmptySessionLingerTime = st.EmptySessionLingerTime
	s.AllowIdleOverride = st.AllowIdleOverride
	s.ForceNsfm = st.ForceNsfm
	s.Invites = st.Invites
	s.PreferWebSockets = st.PreferWebSockets
	s.MandatoryLookup = st.MandatoryLookup
	s.MinimumProtocolVersion = st.MinimumProtocolVersion
	s.RuleText = st.RuleText
	s.LoginInfoURL = st.LoginInfoURL
	s.EnableGhosts = st.EnableGhosts
	s.PasswordDependentWebSession = st.PasswordDependentWebSession
	s.SessionLessClientLingerTime = st.SessionLessClientLingerTime
	s.UnlistedHostPolicy = st.UnlistedHostPolicy
	s.RequireMatchingHost = st.RequireMatchingHost
	s.ForbiddenNames = nil
	if st.ForbiddenNameRegex != "" {
		// Upstream matches case-insensitively with '.' matching newlines.
		// The store validated the pattern when it was set.
		if re, err := regexp.Compile("(?is)" + st.ForbiddenNameRegex); err == nil {
			s.ForbiddenNames = re
		}
	}
	return s
}

// storeAuth authenticates accounts against the store.
type storeAuth struct{ st *store.Store }

func (a storeAuth) HasAccounts(context.Context) bool { return a.st.HasAccounts() }

func (a storeAuth) Authenticate(_ context.Context, username, password string) (session.Account, error) {
	res := a.st.Account(username, password)
	switch res.Status {
	case store.AccountOK:
		// GHOST is passed on: the session core refuses it with
		// ghostsNotAllowed while enableGhosts is off, as drawpile-srv.
		flags, _, _ := auth.FilterFlags(res.Flags.Sorted(), auth.AllowAll(true))
		return session.Account{Name: res.Username, AuthID: res.AuthID, Flags: flags.Sorted()}, nil
	case store.AccountBadPassword:
		if password == "" {
			return session.Account{}, session.ErrNeedPassword
		}
		return session.Account{}, session.ErrBadPassword
	case store.AccountBanned:
		return session.Account{}, session.ErrAccountBanned
	default:
		return session.Account{}, session.ErrNoAccount
	}
}

// storeBans checks server-wide IP, system-id and external bans. The
// BANEXEMPT/MOD exemption is applied by the session core before it asks.
type storeBans struct{ st *store.Store }

func (b storeBans) CheckBan(_ context.Context, addr netip.Addr, sids []string, _ string) (session.Ban, bool) {
	r := b.st.CheckClient(store.ClientCheck{Addr: addr.Unmap(), SIDs: sids})
	if !r.Banned() {
		return session.Ban{}, false
	}
	return session.Ban{Reason: r.Reason, Expires: r.Expires}, true
}

// storeExtAuth is ext-auth (server.md §5) with the store's settings and
// the --extauth URL.
type storeExtAuth struct {
	st   *store.Store
	url  string // --extauth; immutable
	host string // the URL's host: auth IDs are "<host>:<uid>"
}

func newStoreExtAuth(st *store.Store, rawURL string) (*storeExtAuth, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--extauth must be an http or https URL")
	}
	// Upstream refuses drawpile.net URLs other than its real ext-auth
	// endpoint (server.md §1.1).
	if h := strings.ToLower(u.Hostname()); h == "drawpile.net" || strings.HasSuffix(h, ".drawpile.net") {
		if u.Scheme != "https" || h != "drawpile.net" || (u.Port() != "" && u.Port() != "443") || u.Path != "/api/ext-auth/" {
			return nil, fmt.Errorf("--extauth: the only drawpile.net URL allowed is https://drawpile.net/api/ext-auth/")
		}
	}
	return &storeExtAuth{st: st, url: rawURL, host: u.Hostname()}, nil
}

func (e *storeExtAuth) URL() string {
	if !e.st.Settings().ExtAuth {
		return ""
	}
	return e.url
}

func (e *storeExtAuth) Group() string   { return e.st.Settings().ExtAuthGroup }
func (e *storeExtAuth) Fallback() bool  { return e.st.Settings().ExtAuthFallback }
func (e *storeExtAuth) AskAvatar() bool { return e.st.Settings().ExtAuthAvatars }

func (e *storeExtAuth) GuestCheck(ctx context.Context, name string) (string, error) {
	status, err := httpfetch.GuestCheck(ctx, nil, e.url, name, e.Group())
	return string(status), err
}

func (e *storeExtAuth) Verify(token string, nonce uint64) (session.ExtIdentity, error) {
	st := e.st.Settings()
	id, err := auth.VerifyExtAuthToken(token, nonce, st.ExtAuthPolicy(e.host))
	if err != nil {
		return session.ExtIdentity{}, err
	}
	if id.HasUserID {
		if r := e.st.CheckUserID(id.UserID); r.Banned() {
			return session.ExtIdentity{}, fmt.Errorf("ext-auth user %d is banned: %s", id.UserID, r.Reason)
		}
	}
	flags := id.Flags
	if id.BanExempt {
		flags.Add(auth.FlagBanExempt)
	}
	return session.ExtIdentity{Name: id.Username, AuthID: id.AuthID, Flags: flags.Sorted(), Avatar: id.Avatar, WantGhost: id.WantGhost}, nil
}

package bridge

import (
	"context"
	"net/netip"
	"regexp"

	"drawbridge/internal/auth"
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
		flags, _, _ := auth.FilterFlags(res.Flags.Sorted(), auth.AllowAll(a.st.Settings().EnableGhosts))
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

package auth

import (
	"slices"
	"strings"
)

// Flag is an account flag (server.md §1.3), as written in the [users]
// section, the users.flags column (comma-separated) and ext-auth tokens.
// Flags are case-sensitive upper-case words; unknown flags are kept.
type Flag string

const (
	FlagMod        Flag = "MOD"        // moderator: op everywhere, bypasses session restrictions, implies PERSIST, IP-ban exempt
	FlagHost       Flag = "HOST"       // may host when allowGuestHosts is off
	FlagGhost      Flag = "GHOST"      // join invisibly (mods only, needs enableGhosts)
	FlagBanExempt  Flag = "BANEXEMPT"  // exempt from IP/range bans (not SID/user bans)
	FlagWeb        Flag = "WEB"        // may connect from a browser
	FlagWebHost    Flag = "WEBHOST"    // may host from a browser
	FlagWebSession Flag = "WEBSESSION" // may toggle a session's "allow web"
	FlagPersist    Flag = "PERSIST"    // may toggle session persistence
	FlagTrusted    Flag = "TRUSTED"    // automatically trusted in every session
)

// AllFlags lists the known flags in documentation order.
var AllFlags = []Flag{FlagMod, FlagHost, FlagGhost, FlagBanExempt, FlagWeb, FlagWebHost, FlagWebSession, FlagPersist, FlagTrusted}

// FlagSet is a set of flags. The zero value is empty and usable; a nil
// FlagSet reads as empty but Add needs a non-nil one (use NewFlagSet).
type FlagSet map[Flag]struct{}

// NewFlagSet returns a set holding flags (empty strings skipped).
func NewFlagSet(flags ...Flag) FlagSet {
	s := make(FlagSet, len(flags))
	for _, f := range flags {
		if f != "" {
			s[f] = struct{}{}
		}
	}
	return s
}

// ParseFlagList splits a comma-separated flag list ("MOD,HOST"), skipping
// empty items and surrounding spaces.
func ParseFlagList(s string) FlagSet {
	set := FlagSet{}
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			set[Flag(f)] = struct{}{}
		}
	}
	return set
}

// Has reports whether f is in the set.
func (s FlagSet) Has(f Flag) bool { _, ok := s[f]; return ok }

// Add inserts f.
func (s FlagSet) Add(f Flag) { s[f] = struct{}{} }

// Sorted returns the flags sorted (a stable order for JSON and storage).
func (s FlagSet) Sorted() []string {
	out := make([]string, 0, len(s))
	for f := range s {
		out = append(out, string(f))
	}
	slices.Sort(out)
	return out
}

// String is the comma-separated sorted list, as stored in users.flags.
func (s FlagSet) String() string { return strings.Join(s.Sorted(), ",") }

// FlagAllow says which privileged flags are honoured for an identity.
// Internal accounts honour all (Ghost = enableGhosts); ext-auth identities
// honour those enabled by the extauth* settings.
type FlagAllow struct {
	Mod, Host, Ghost, BanExempt, Web, WebHost, WebSession, Persist bool
}

// AllowAll honours every flag except GHOST, which additionally needs
// enableGhosts: internal accounts use AllowAll(enableGhosts).
func AllowAll(enableGhosts bool) FlagAllow {
	return FlagAllow{Mod: true, Host: true, Ghost: enableGhosts, BanExempt: true, Web: true, WebHost: true, WebSession: true, Persist: true}
}

// FilterFlags keeps the flags allow honours (unknown flags such as TRUSTED
// are always kept), as drawpile-srv's authLoginOk. isMod reports MOD was
// honoured; wantGhost that GHOST was requested at all (honoured or not).
func FilterFlags(flags []string, allow FlagAllow) (set FlagSet, isMod, wantGhost bool) {
	set = FlagSet{}
	for _, raw := range flags {
		f := Flag(raw)
		if f == "" || set.Has(f) {
			continue
		}
		keep := true
		switch f {
		case FlagMod:
			keep, isMod = allow.Mod, allow.Mod
		case FlagGhost:
			keep, wantGhost = allow.Ghost, true
		case FlagHost:
			keep = allow.Host
		case FlagBanExempt:
			keep = allow.BanExempt
		case FlagWeb:
			keep = allow.Web
		case FlagWebHost:
			keep = allow.WebHost
		case FlagWebSession:
			keep = allow.WebSession
		case FlagPersist:
			keep = allow.Persist
		}
		if keep {
			set.Add(f)
		}
	}
	return set, isMod, wantGhost
}

// ImplicitFlags are the allowGuest* settings that grant flags to everyone.
type ImplicitFlags struct {
	Host       bool // allowGuestHosts → HOST
	Web        bool // allowGuestWeb → WEB
	WebSession bool // allowGuestWebSession → WEBSESSION
	WebHost    bool // allowGuestWebHosts → WEBHOST
}

// AddImplicitFlags adds the flags granted to everyone by the settings, and
// PERSIST to moderators, as drawpile-srv does for guests, accounts and
// ext-auth users alike.
func AddImplicitFlags(set FlagSet, imp ImplicitFlags) {
	if imp.Host {
		set.Add(FlagHost)
	}
	if imp.Web {
		set.Add(FlagWeb)
	}
	if imp.WebSession {
		set.Add(FlagWebSession)
	}
	if imp.WebHost {
		set.Add(FlagWebHost)
	}
	if set.Has(FlagMod) {
		set.Add(FlagPersist)
	}
}

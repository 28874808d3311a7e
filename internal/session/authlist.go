package session

import (
	"encoding/json"
	"unicode"
	"unicode/utf8"

	"drawbridge/protocol"
)

// Limits for the auth-list command (server.md §4.2): entries per command
// as drawpile-srv, and bounds of our own so that an operator cannot grow
// the remembered accounts without limit.
const (
	maxAuthListEntries = 100
	maxAuthIDLen       = 128
	maxAuthNames       = 2000
)

// authListItem is one element of the auth-list command's list:
// {"a": authId, "o": op, "t": trusted, "u": username}, all optional.
type authListItem struct {
	A any `json:"a"`
	O any `json:"o"`
	T any `json:"t"`
	U any `json:"u"`
}

// validAuthID accepts the auth ids this server and drawpile-srv hand out
// ("internal:<n>", "ext:<n>", …): short, printable, no spaces.
func validAuthID(id string) bool {
	if id == "" || len(id) > maxAuthIDLen || !utf8.ValidString(id) {
		return false
	}
	for _, r := range id {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// authListCmdLocked runs the auth-list command of operator c: it sets the
// operator and trusted status of registered users, online (as if changed
// through the user list, with notices) or offline (remembered for their
// next join), and the remembered names of offline ones. Operators get the
// updated auth list once at the end if anything changed.
func (s *Session) authListCmdLocked(c *Client, args []json.RawMessage) {
	const name = "auth-list"
	if len(args) != 1 {
		c.cmdError(name, "Expected one argument: list")
		return
	}
	var list []json.RawMessage
	if err := json.Unmarshal(args[0], &list); err != nil {
		list = nil // not an array: nothing to do, as drawpile-srv
	}
	if len(list) > maxAuthListEntries {
		c.cmdError(name, "Insane argument")
		return
	}
	changed, opsChanged, trustChanged := false, false, false
	for _, raw := range list {
		var it authListItem
		if json.Unmarshal(raw, &it) != nil {
			continue
		}
		id, _ := it.A.(string)
		if !validAuthID(id) {
			continue
		}
		_, known := s.authNames[id]
		if !known && len(s.authNames) >= maxAuthNames {
			continue
		}
		var target *Client
		for _, u := range s.users {
			if u.authID == id {
				target = u
				break
			}
		}
		if op, ok := it.O.(bool); ok && target != c {
			switch {
			case target == nil:
				s.rememberStatusLocked(s.authOpsMap(), id, op)
				changed = true
			case target.op != op && (op || !target.flags["MOD"]):
				s.changeOpLocked(target, op, c.name, nil, false)
				changed, opsChanged = true, true
			}
		}
		if trusted, ok := it.T.(bool); ok {
			switch {
			case target == nil:
				s.rememberStatusLocked(s.authTrustedMap(), id, trusted)
				changed = true
			case target.trusted != trusted:
				s.setTrustedLocked(target, trusted, c.name)
				changed, trustChanged = true, true
			}
		}
		if u, ok := it.U.(string); ok && target == nil && validUsername(u) {
			s.setAuthNameLocked(id, u)
			changed = true
		}
	}
	if opsChanged {
		s.appendServerMetaLocked(userListFrame(typeSessionOwner, 0, s.opListLocked()))
	}
	if trustChanged {
		s.appendServerMetaLocked(userListFrame(typeTrustedUsers, 0, s.trustedListLocked()))
	}
	if changed {
		s.sendAuthListLocked()
	}
}

func (s *Session) authOpsMap() map[string]bool {
	if s.authOps == nil {
		s.authOps, s.authTrusted = map[string]bool{}, map[string]bool{}
	}
	return s.authOps
}

func (s *Session) authTrustedMap() map[string]bool {
	if s.authTrusted == nil {
		s.authOps, s.authTrusted = map[string]bool{}, map[string]bool{}
	}
	return s.authTrusted
}

func (s *Session) rememberStatusLocked(m map[string]bool, id string, on bool) {
	if on {
		m[id] = true
	} else {
		delete(m, id)
	}
}

// setTrustedLocked changes c's trusted status with the log entry and the
// keyed chat notice (trustgive/trusttake); the caller appends the
// TrustedUsers message and sends list updates.
func (s *Session) setTrustedLocked(c *Client, trusted bool, by string) {
	if c.trusted == trusted {
		return
	}
	c.trusted = trusted
	p := map[string]any{"target": c.name, "by": by}
	if trusted {
		s.logLocked("Trust", "Trusted by "+by, c)
		if !c.isGhost() {
			s.noticeLocked(protocol.ReplyMsg, "trustgive", c.name+" trusted by "+by, p)
		}
	} else {
		s.logLocked("Untrust", "Untrusted by "+by, c)
		if !c.isGhost() {
			s.noticeLocked(protocol.ReplyMsg, "trusttake", c.name+" untrusted by "+by, p)
		}
	}
}

// offlineAuthOpLocked reports whether a registered user who is not in the
// session is remembered as operator: they can come back and take over, so
// a joiner is not made operator automatically (drawpile-srv's
// ensureOperatorExists and server.md §4.2). Members are judged by their
// current status.
func (s *Session) offlineAuthOpLocked() bool {
	for id, op := range s.authOps {
		if !op {
			continue
		}
		online := false
		for _, u := range s.users {
			if u.authID == id {
				online = true
				break
			}
		}
		if !online {
			return true
		}
	}
	return false
}

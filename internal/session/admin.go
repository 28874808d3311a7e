package session

// Administration entry points used by the admin REST API (internal/admin,
// server.md §3). They are ordinary methods on Server, Session and Client
// that follow the package's lock order (Server.mu before Session.mu before
// Client.mu) and never hold a lock while calling into a Conn. Everything
// the admin does counts as a moderator action "by the server
// administrator".

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"drawbridge/protocol"
)

// AdminName is how admin actions are attributed in notices and logs.
const AdminName = "the server administrator"

// Errors returned by the admin methods.
var (
	// ErrNoSuchUser: no member with that id in the session.
	ErrNoSuchUser = errors.New("session: no such user")
	// ErrSessionEnded: the session has already ended.
	ErrSessionEnded = errors.New("session: session has ended")
	// ErrMessageTooLong: a message does not fit in one protocol message.
	ErrMessageTooLong = errors.New("session: message too long")
	// ErrTooManyInvites: the session already has the maximum of invites.
	ErrTooManyInvites = errors.New("session: too many invites")
	// ErrNoSuchInvite: no invite with that secret.
	ErrNoSuchInvite = errors.New("session: no such invite")
)

// UserInfo describes one connection for the admin API (server.md §3.3
// "User"). Fields that only make sense inside a session are zero
// otherwise.
type UserInfo struct {
	// UID is the opaque connection handle (hex) used by /api/users/:uid.
	UID string
	// ID is the context id in the session (0 when not in a session).
	ID      uint8
	Name    string
	IP      string
	SID     string
	AuthID  string
	Op      bool
	Trusted bool
	Muted   bool
	Mod     bool
	TLS     bool
	Browser bool
	// State is login, session, graceful_disconnect or quiet_disconnect.
	State string
	// Session is the joined session's id ("" if none).
	Session string
	// LastActiveDrawing is when the user last drew (zero if never).
	LastActiveDrawing time.Time
	KeepAlive         bool
	Old               bool
	Transport         string
}

// MaxAdminMessage is the longest admin chat/alert text accepted, in bytes
// (it must fit one ServerCommand message together with its JSON framing).
const MaxAdminMessage = protocol.MaxPayload - 256

// UID returns the client's opaque connection handle.
func (c *Client) UID() string { return strconv.FormatUint(c.serial, 16) }

// Clients returns every live connection (logged in or not).
func (srv *Server) Clients() []*Client {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	out := make([]*Client, 0, len(srv.clients))
	for c := range srv.clients {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *Client) int { return int(a.serial) - int(b.serial) })
	return out
}

// ClientCount returns the number of live connections (including clients
// that have not joined a session yet), /api/status "users".
func (srv *Server) ClientCount() int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return len(srv.clients)
}

// ClientByUID finds a live connection by its handle.
func (srv *Server) ClientByUID(uid string) *Client {
	n, err := strconv.ParseUint(uid, 16, 64)
	if err != nil {
		return nil
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for c := range srv.clients {
		if c.serial == n {
			return c
		}
	}
	return nil
}

// stateLocked returns the client's admin state name; c.mu must be held.
func (c *Client) stateLocked(inSession bool) string {
	switch {
	case c.closing:
		return "graceful_disconnect"
	case c.closed:
		return "quiet_disconnect"
	case inSession:
		return "session"
	}
	return "login"
}

// Info describes the client. For a client in a session the session's lock
// is taken to read its membership fields.
func (c *Client) Info() UserInfo {
	if s := c.sess.Load(); s != nil {
		s.lock()
		if s.users[c.id] == c {
			u := s.userInfoLocked(c)
			s.mu.Unlock()
			return u
		}
		s.mu.Unlock()
	}
	u := UserInfo{UID: c.UID(), TLS: c.info.Secure, Browser: c.info.Browser, Mod: c.mod.Load(), Transport: c.info.Transport}
	if c.info.Addr.IsValid() {
		u.IP = c.info.Addr.String()
	}
	c.mu.Lock()
	u.State = c.stateLocked(false)
	c.mu.Unlock()
	return u
}

// fillLocked copies the session-guarded fields; the session's mu is held.
func (c *Client) fillLocked(u *UserInfo) {
	u.ID, u.Name, u.SID, u.AuthID = c.id, c.name, c.sid, c.authID
	u.Op, u.Trusted, u.Muted = c.op, c.trusted, c.muted
	u.LastActiveDrawing = c.lastActive
	u.KeepAlive, u.Old = c.keepalive, c.old
}

// userInfoLocked describes member c; s.mu is held.
func (s *Session) userInfoLocked(c *Client) UserInfo {
	u := UserInfo{UID: c.UID(), TLS: c.info.Secure, Browser: c.info.Browser, Mod: c.mod.Load(), Session: s.id, Transport: c.info.Transport}
	if c.info.Addr.IsValid() {
		u.IP = c.info.Addr.String()
	}
	c.fillLocked(&u)
	c.mu.Lock()
	u.State = c.stateLocked(true)
	c.mu.Unlock()
	return u
}

// Users describes the session's members, ordered by id.
func (s *Session) Users() []UserInfo {
	s.lock()
	defer s.mu.Unlock()
	out := make([]UserInfo, 0, len(s.users))
	for _, c := range s.users {
		out = append(out, s.userInfoLocked(c))
	}
	slices.SortFunc(out, func(a, b UserInfo) int { return int(a.ID) - int(b.ID) })
	return out
}

// User describes one member.
func (s *Session) User(id uint8) (UserInfo, bool) {
	s.lock()
	defer s.mu.Unlock()
	c := s.users[id]
	if c == nil {
		return UserInfo{}, false
	}
	return s.userInfoLocked(c), true
}

// AdminDetails are the admin-only parts of a session description
// (server.md §3.3 "Session, full").
type AdminDetails struct {
	State                    string
	MaxSize                  int64
	BaseSize                 int64
	OverrideSize             int64
	ResetThreshold           int64
	EffectiveResetThreshold  int64
	MinResetThreshold        int64
	Deputies                 bool
	HasOpword                bool
	PreserveChat             bool
	HistoryFirst, HistoryEnd int64
	AutoresetStatus          string
	StreamState              string
}

// Details returns the admin-only description fields.
func (s *Session) Details() AdminDetails {
	s.lock()
	defer s.mu.Unlock()
	d := AdminDetails{
		State:             s.state.String(),
		MaxSize:           s.sizeLimitLocked(),
		BaseSize:          s.resetBase,
		OverrideSize:      s.overrideSize,
		ResetThreshold:    s.resetThreshold,
		MinResetThreshold: s.srv.settings().MinimumAutoResetThreshold,
		Deputies:          s.deputies,
		HasOpword:         len(s.opwordHash) > 0,
		PreserveChat:      s.preserveChat,
		HistoryFirst:      s.first,
		HistoryEnd:        s.endLocked(),
		AutoresetStatus:   "not sent",
	}
	d.EffectiveResetThreshold = s.thresholdLocked()
	if s.auto != nil {
		d.AutoresetStatus = "queried"
	}
	if s.stream != nil {
		d.StreamState = "streaming"
	}
	return d
}

// noticeFrame builds a {"type":"msg"|"alert","message":…} message.
func noticeFrame(message string, alert bool) (protocol.Frame, error) {
	t := protocol.ReplyMsg
	if alert {
		t = protocol.ReplyAlert
	}
	if len(message) > MaxAdminMessage {
		return nil, ErrMessageTooLong
	}
	f, err := protocol.JSONFrame(protocol.Notice{Type: t, Message: message})
	if err != nil {
		return nil, ErrMessageTooLong
	}
	return f, nil
}

// Broadcast sends a server message (or alert) to every member.
func (s *Session) Broadcast(message string, alert bool) error {
	f, err := noticeFrame(message, alert)
	if err != nil {
		return err
	}
	s.lock()
	defer s.mu.Unlock()
	if s.state == StateShutdown {
		return ErrSessionEnded
	}
	s.sendAllLocked(f)
	return nil
}

// Broadcast sends a server message (or alert) to every session.
func (srv *Server) Broadcast(message string, alert bool) error {
	if _, err := noticeFrame(message, alert); err != nil {
		return err
	}
	for _, s := range srv.Sessions() {
		_ = s.Broadcast(message, alert)
	}
	return nil
}

// MessageUser sends a private server message (or alert) to one member.
func (s *Session) MessageUser(id uint8, message string, alert bool) error {
	f, err := noticeFrame(message, alert)
	if err != nil {
		return err
	}
	s.lock()
	defer s.mu.Unlock()
	c := s.users[id]
	if c == nil {
		return ErrNoSuchUser
	}
	s.sendLocked(c, f)
	return nil
}

// Terminate ends the session as the admin API's DELETE does: with quiet
// the users only get a Disconnect; otherwise they are told why (reason, or
// a default text).
func (s *Session) Terminate(reason string, quiet bool) {
	msg := ""
	if !quiet {
		msg = orDefault(reason, "Session terminated by "+AdminName)
	}
	s.lock()
	if s.state != StateShutdown {
		s.logLocked("Status", orDefault(reason, "Terminated by "+AdminName), nil)
	}
	s.mu.Unlock()
	s.terminate(msg, disconnectShutdown)
}

// Ended reports whether the session has ended.
func (s *Session) Ended() bool {
	s.lock()
	defer s.mu.Unlock()
	return s.state == StateShutdown
}

// KickUser disconnects member id with an optional message (Disconnect
// reason Kick). force reports that the user was already disconnecting and
// its connection was aborted instead.
func (s *Session) KickUser(id uint8, message string) (force bool, err error) {
	s.lock()
	c := s.users[id]
	if c == nil {
		s.mu.Unlock()
		return false, ErrNoSuchUser
	}
	if c.isClosing() {
		s.mu.Unlock()
		c.fail(CloseNormal, "kicked again by "+AdminName)
		return true, nil
	}
	s.logLocked("Kick", "Kicked by "+AdminName, c)
	c.disconnect(disconnectKick, orDefault(message, AdminName))
	s.detachLocked(c, func() {
		s.noticeLocked(protocol.ReplyMsg, "kick", c.name+" kicked by "+AdminName, map[string]any{"target": c.name, "by": AdminName})
	})
	empty := s.effectivelyEmptyLocked() && !s.persistent && s.state != StateShutdown
	s.mu.Unlock()
	s.afterRemoval(empty)
	return false, nil
}

// Kick disconnects a connection from the server (/api/users/:uid DELETE),
// whether or not it is in a session. force reports an abort of a client
// that was already disconnecting.
func (c *Client) Kick(message string) (force bool) {
	if s := c.sess.Load(); s != nil {
		s.lock()
		if s.users[c.id] == c {
			s.mu.Unlock()
			f, err := s.KickUser(c.id, message)
			if err == nil {
				return f
			}
		} else {
			s.mu.Unlock()
		}
	}
	if c.isClosing() {
		c.fail(CloseNormal, "kicked again by "+AdminName)
		return true
	}
	c.disconnect(disconnectKick, orDefault(message, AdminName))
	return false
}

// SetOp gives or takes member id's operator status as the administrator.
func (s *Session) SetOp(id uint8, op bool) error {
	s.lock()
	c := s.users[id]
	if c == nil {
		s.mu.Unlock()
		return ErrNoSuchUser
	}
	if c.op != op {
		s.setOpLocked(c, op, AdminName)
		s.appendServerMetaLocked(userListFrame(typeSessionOwner, 0, s.opListLocked()))
	}
	s.mu.Unlock()
	return nil
}

// SetTrusted trusts or untrusts member id as the administrator.
func (s *Session) SetTrusted(id uint8, trusted bool) error {
	s.lock()
	c := s.users[id]
	if c == nil {
		s.mu.Unlock()
		return ErrNoSuchUser
	}
	if c.trusted != trusted {
		s.setTrustedLocked(c, trusted, AdminName)
		s.appendServerMetaLocked(userListFrame(typeTrustedUsers, 0, s.trustedListLocked()))
		if c.authID != "" {
			s.sendAuthListLocked()
		}
	}
	s.mu.Unlock()
	return nil
}

// adminActor is the pseudo client that applies admin configuration
// changes: a moderator allowed to change every property, whose own replies
// go nowhere (it is closed, so enqueue drops them).
func (s *Session) adminActor() *Client {
	return &Client{srv: s.srv, name: AdminName, closed: true,
		flags: map[string]bool{"MOD": true, "WEBSESSION": true, "PERSIST": true}}
}

// Configure applies session settings as the administrator (the keys of a
// sessionconf command: title, maxUserCount, password, opword, persistent,
// nsfm, …, see server.md §2.5). Unknown keys are ignored. It reports
// whether anything changed.
func (s *Session) Configure(props map[string]json.RawMessage) (bool, error) {
	cmd := protocol.Command{Cmd: "sessionconf", Kwargs: props}
	s.lock()
	if s.state == StateShutdown {
		s.mu.Unlock()
		return false, ErrSessionEnded
	}
	changed := s.sessionConfLocked(s.adminActor(), cmd)
	s.mu.Unlock()
	if changed {
		s.srv.sessionChanged(s)
	}
	return changed, nil
}

// CheckPassword reports whether pw is the session password (false when
// the session has none).
func (s *Session) CheckPassword(pw string) bool {
	s.lock()
	h := s.passwordHash
	s.mu.Unlock()
	return checkPassword(h, pw)
}

// CheckOpword reports whether pw is the operator password.
func (s *Session) CheckOpword(pw string) bool {
	s.lock()
	h := s.opwordHash
	s.mu.Unlock()
	return checkPassword(h, pw)
}

// InviteInfo describes an invite (server.md §3.2 invite JSON).
type InviteInfo struct {
	Secret  string
	Creator string
	At      time.Time
	MaxUses int
	Uses    []string
	Trust   bool
	Op      bool
}

func inviteInfo(inv *invite) InviteInfo {
	return InviteInfo{Secret: inv.Secret, Creator: inv.Creator, At: inv.At, MaxUses: inv.MaxUses,
		Uses: slices.Clone(inv.Uses), Trust: inv.Trust, Op: inv.Op}
}

// Invites lists the session's invites, oldest first.
func (s *Session) Invites() []InviteInfo {
	s.lock()
	defer s.mu.Unlock()
	out := make([]InviteInfo, 0, len(s.invites))
	for _, inv := range s.invites {
		out = append(out, inviteInfo(inv))
	}
	slices.SortFunc(out, func(a, b InviteInfo) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.Secret, b.Secret)
	})
	return out
}

// Invite returns one invite.
func (s *Session) Invite(secret string) (InviteInfo, bool) {
	s.lock()
	defer s.mu.Unlock()
	inv := s.invites[secret]
	if inv == nil {
		return InviteInfo{}, false
	}
	return inviteInfo(inv), true
}

// CreateInvite creates an invite as the administrator (maxUses clamped to
// 1..50; allowed even when the session's invites flag is off, as for
// moderators).
func (s *Session) CreateInvite(maxUses int, trust, op bool) (InviteInfo, error) {
	s.lock()
	defer s.mu.Unlock()
	if s.state == StateShutdown {
		return InviteInfo{}, ErrSessionEnded
	}
	if len(s.invites) >= maxInvites {
		return InviteInfo{}, ErrTooManyInvites
	}
	maxUses = max(1, min(maxUses, maxInviteUses))
	secret := newInviteSecret()
	for s.invites[secret] != nil {
		secret = newInviteSecret()
	}
	inv := &invite{Secret: secret, Creator: AdminName, MaxUses: maxUses, Trust: trust, Op: op, At: time.Now()}
	s.invites[secret] = inv
	s.logLocked("Invite", fmt.Sprintf("Created invite (%d uses) by %s", maxUses, AdminName), nil)
	s.sendPartialLocked("invitelist", s.inviteListLocked(), true)
	s.syncJournalLocked()
	return inviteInfo(inv), nil
}

// RemoveInvite deletes an invite.
func (s *Session) RemoveInvite(secret string) error {
	s.lock()
	defer s.mu.Unlock()
	if s.invites[secret] == nil {
		return ErrNoSuchInvite
	}
	delete(s.invites, secret)
	s.logLocked("Invite", "Removed invite "+secret+" by "+AdminName, nil)
	s.sendPartialLocked("invitelist", s.inviteListLocked(), true)
	s.syncJournalLocked()
	return nil
}

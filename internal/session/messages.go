package session

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"drawbridge/protocol"
)

// handleSession handles a message from a logged-in client (§5.1). f is
// not retained: whatever is stored is copied.
func (c *Client) handleSession(f protocol.Frame) error {
	s := c.sess.Load()
	if s == nil {
		return nil // kicked or replaced; input is ignored until the socket closes
	}
	t := f.Type()
	switch t {
	case typeServerCommand:
		cmd, err := protocol.ParseCommand(f.Payload())
		if err != nil {
			c.sendNow(jsonFrame(protocol.ErrorReply{Type: protocol.ReplyError, Message: "Invalid command: " + err.Error()}))
			return nil
		}
		c.handleCommand(s, cmd)
		return nil
	case typeThumbnail:
		return nil
	case typeJoin, typeLeave, typeSoftReset:
		s.lock()
		if s.users[c.id] == c {
			s.logLocked("RuleBreak", fmt.Sprintf("Sent a server-only message (type %d)", t), c)
		}
		s.mu.Unlock()
		return nil
	case typeResetStream:
		s.receiveResetStream(c, f)
		return nil
	}
	s.lock()
	if s.users[c.id] != c {
		s.mu.Unlock()
		return nil
	}
	changed := false
	switch t {
	case typeSessionOwner:
		changed = s.handleUserListLocked(c, f, true)
	case typeTrustedUsers:
		changed = s.handleUserListLocked(c, f, false)
	case typeChat:
		s.handleChatLocked(c, f)
	case typePrivateChat:
		s.handlePrivateChatLocked(c, f)
	default:
		s.addUserMessageLocked(c, f)
	}
	s.mu.Unlock()
	if changed {
		s.srv.sessionChanged(s)
	}
	return nil
}

// addUserMessageLocked stores a client message: ctx stamped with the
// sender's id (except for the init/reset uploader), held during
// initialization, collected during a reset upload, dropped when the
// session is out of space.
func (s *Session) addUserMessageLocked(c *Client, f protocol.Frame) {
	f = f.Clone()
	uploading := c == s.initUser && (s.state == StateInit || s.state == StateReset)
	if !uploading {
		f.SetCtx(c.id)
	}
	if s.state == StateReset && uploading {
		s.reset.add(f)
		if lim := s.sizeLimitLocked(); lim > 0 && s.reset.bytes > lim {
			s.logLocked("Status", "Reset image too large", c)
			s.cancelResetLocked("resetfailed", "Session reset failed: the reset image is too large")
			c.disconnect(disconnectError, "Reset image too large")
		}
		return
	}
	if s.state == StateInit && !uploading {
		s.held = append(s.held, f)
		return
	}
	if lim := s.sizeLimitLocked(); lim > 0 && s.histBytes+int64(len(f)) > lim {
		s.outOfSpaceLocked()
		return
	}
	var skip *Client
	if uploading && f.Type().IsCommand() {
		skip = c // the host already has its own canvas
	}
	s.appendLocked(f, skip)
	if f.Type().IsCommand() {
		c.lastActive = time.Now()
	}
	s.afterAppendLocked()
}

// afterAppendLocked sends the periodic status and checks the autoreset
// threshold.
func (s *Session) afterAppendLocked() {
	if time.Since(s.lastStatus) >= statusInterval {
		s.sendStatusLocked()
	}
	s.checkAutoresetLocked()
}

const statusInterval = 10 * time.Second

func (s *Session) sendStatusLocked() {
	s.lastStatus = time.Now()
	st := protocol.Status{Type: protocol.ReplyStatus, Size: s.histBytes}
	if s.endLocked() > s.first {
		st.HidStar = s.hidxLocked(s.endLocked() - 1)
	}
	s.sendAllLocked(jsonFrame(st))
}

// outOfSpaceLocked tells everyone the history is full (at most every 10 s).
func (s *Session) outOfSpaceLocked() {
	if time.Since(s.lastOOS) < statusInterval {
		return
	}
	s.lastOOS = time.Now()
	s.sendAllLocked(jsonFrame(protocol.OutOfSpace{Type: protocol.ReplyOutOfSpace}))
	s.noticeLocked(protocol.ReplyAlert, "outofspace", "Session out of space! An operator must reset it.", nil)
}

func (s *Session) handleChatLocked(c *Client, f protocol.Frame) {
	if c.muted {
		return
	}
	if p := f.Payload(); len(p) >= 2 { // validated by Decode before dispatch
		s.srv.observer.Chatted(s.id, c.id, c.name, string(p[2:]))
	}
	if c.isGhost() && f.Payload()[0]&chatBypass != 0 {
		// A ghost's (unstored) chat reaches everyone as a server alert;
		// stored chat is kept as it is, as drawpile-srv does (§4.9).
		s.sendAllLocked(jsonFrame(protocol.Notice{Type: protocol.ReplyAlert, Message: string(f.Payload()[2:])}))
		return
	}
	if f.Payload()[0]&chatBypass != 0 {
		f = f.Clone()
		f.SetCtx(c.id)
		s.sendAllLocked(f)
		return
	}
	s.addUserMessageLocked(c, f)
}

func (s *Session) handlePrivateChatLocked(c *Client, f protocol.Frame) {
	if c.isGhost() {
		if r, err := protocol.NewFrame(typePrivateChat, c.id, append([]byte{f.Payload()[0], 0}, "Can't send private messages in ghost mode."...)); err == nil {
			s.sendLocked(c, r)
		}
		return
	}
	target := s.users[f.Payload()[0]]
	if target == nil {
		return
	}
	f = f.Clone()
	f.SetCtx(c.id)
	s.sendLocked(c, f)
	if target != c {
		s.sendLocked(target, f)
	}
}

// handleUserListLocked applies a SessionOwner or TrustedUsers message from
// an operator: the list is sanitized (existing users; for ops the sender and
// moderators always included) and stored with the sender's ctx.
func (s *Session) handleUserListLocked(c *Client, f protocol.Frame, ops bool) bool {
	if !c.op {
		return false
	}
	want := map[uint8]bool{}
	for _, id := range f.Payload() {
		if s.users[id] != nil {
			want[id] = true
		}
	}
	if ops {
		want[c.id] = true
		for id, u := range s.users {
			if u.flags["MOD"] {
				want[id] = true
			}
		}
	}
	ids := slices.Sorted(func(yield func(uint8) bool) {
		for id := range want {
			if !yield(id) {
				return
			}
		}
	})
	authChanged, opChanged := false, false
	for id, u := range s.users {
		if ops {
			if u.op != want[id] {
				s.changeOpLocked(u, want[id], c.name, nil, false)
				opChanged = true
			}
		} else if u.trusted != want[id] {
			s.setTrustedLocked(u, want[id], c.name)
			authChanged = authChanged || u.authID != ""
		}
	}
	if authChanged {
		s.sendAuthListLocked()
	}
	if opChanged { // the lists once for all changes, as drawpile-srv
		s.sendOpChangeListsLocked()
	}
	t := typeTrustedUsers
	if ops {
		t = typeSessionOwner
	}
	s.appendServerMetaLocked(userListFrame(t, c.id, ids))
	return false
}

// removeClient takes c out of s (Leave in the history); the last user
// leaving ends a non-persistent session.
func (s *Session) removeClient(c *Client) {
	s.lock()
	if s.users[c.id] != c {
		s.mu.Unlock()
		return
	}
	s.detachLocked(c, nil)
	empty := s.effectivelyEmptyLocked() && !s.persistent && s.state != StateShutdown
	s.mu.Unlock()
	s.afterRemoval(empty)
}

// afterRemoval runs after a user left (s.mu not held): an emptied
// non-persistent session ends, after the linger time if one is set;
// otherwise the session list watchers are told.
func (s *Session) afterRemoval(empty bool) {
	if !empty {
		s.srv.sessionChanged(s)
		return
	}
	if linger := s.srv.settings().EmptySessionLingerTime; linger > 0 {
		s.srv.sessionChanged(s)
		time.AfterFunc(linger, func() {
			s.lock()
			still := s.effectivelyEmptyLocked() && !s.persistent
			s.mu.Unlock()
			if still {
				s.terminate("", disconnectShutdown)
			}
		})
		return
	}
	s.terminate("", disconnectShutdown)
}

// detachLocked removes c from the member set and appends its Leave.
func (s *Session) detachLocked(c *Client, beforeLeave func()) {
	s.rememberLocked(c)
	delete(s.users, c.id)
	c.setSess(nil)
	s.freedIDs = slices.DeleteFunc(s.freedIDs, func(id uint8) bool { return id == c.id })
	s.freedIDs = append(s.freedIDs, c.id)
	c.op = false
	if s.state != StateShutdown {
		ghost := c.isGhost()
		s.logLocked("Leave", ternary(ghost, "Moderator in ghost mode left session", "Left session"), c)
		if beforeLeave != nil {
			beforeLeave()
		}
		if !ghost { // ghosts leave without a Leave message (§4.9)
			s.appendServerMetaLocked(leaveFrame(c.id))
		}
	}
	if c == s.initUser {
		switch s.state {
		case StateInit:
			s.initCompleteLocked()
		case StateReset:
			s.cancelResetLocked("resetcancel", "Session reset cancelled: the resetting user left")
		}
		s.initUser = nil
	}
	if s.stream != nil && s.stream.user == c {
		s.abortStreamLocked("the resetting user left")
	}
	if s.auto != nil {
		delete(s.auto.asked, c)
	}
	if s.state != StateShutdown {
		s.ensureOperatorLocked() // the last operator may have left
	}
}

// terminate ends the session: every user gets msg (if any) and a
// Disconnect, and the session is unregistered.
//
// A file-backed session's files are closed and kept when the server is
// shutting down, else terminated (deleted or archived, server.md §2.7).
func (s *Session) terminate(msg string, reason uint8) {
	keep := s.srv.shuttingDown()
	s.lock()
	if s.state == StateShutdown {
		s.mu.Unlock()
		return
	}
	s.state = StateShutdown
	for id, u := range s.users {
		if msg != "" {
			u.sendNow(jsonFrame(protocol.Notice{Type: protocol.ReplyAlert, T: "terminatesession", Message: msg}))
		}
		u.setSess(nil)
		u.disconnect(reason, orDefault(msg, "Session terminated"))
		delete(s.users, id)
	}
	close(s.grew)
	s.grew = make(chan struct{})
	s.logger.Info("session ended", "reason", orDefault(msg, "empty"))
	s.mu.Unlock()
	s.srv.removeSession(s)
	s.endListings()
	s.closeFile(keep)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// matchBanLocked returns the session ban matching any attribute.
func (s *Session) matchBanLocked(name, authID string, sids []string, addr string) *sessionBan {
	for i := range s.bans {
		b := &s.bans[i]
		if (b.Name != "" && strings.EqualFold(b.Name, name)) ||
			(b.AuthID != "" && b.AuthID == authID) ||
			(b.SID != "" && slices.Contains(sids, b.SID)) ||
			(b.Addr != "" && b.Addr == addr && addr != "invalid IP" && !strings.HasPrefix(addr, "127.")) {
			return b
		}
	}
	return nil
}

package session

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/nacl/secretbox"

	"drawbridge/protocol"
)

// cmdError replies {"type":"error","message":"<cmd>: <reason>"} (§5.8).
func (c *Client) cmdError(cmd, reason string) {
	c.sendNow(jsonFrame(protocol.ErrorReply{Type: protocol.ReplyError, Message: cmd + ": " + reason}))
}

const (
	errNotOwner       = "Not a session owner"
	errNotOwnerDeputy = "Not a session owner or a deputy"
	errNotMod         = "Not a moderator"
)

// handleCommand runs an in-session command (§5.8).
func (c *Client) handleCommand(s *Session, cmd protocol.Command) {
	name := cmd.Cmd
	changed := false
	s.lock()
	if s.users[c.id] != c {
		s.mu.Unlock()
		return
	}
	mod := c.flags["MOD"]
	needOp := func() bool {
		if !c.op && !mod {
			c.cmdError(name, errNotOwner)
			return false
		}
		return true
	}
	switch name {
	case "sessionconf":
		if needOp() {
			changed = s.sessionConfLocked(c, cmd)
		}
	case "kick-user":
		changed = s.kickLocked(c, cmd)
	case "remove-ban":
		if needOp() {
			s.removeBanLocked(c, cmd)
		}
	case "mute":
		if needOp() {
			s.muteLocked(c, cmd)
		}
	case "gain-op":
		pw, _ := cmd.StringArg(0)
		if g := s.srv.guard; g != nil && len(s.opwordHash) > 0 {
			if ok, _ := g.Attempt(c.info.Addr); !ok {
				c.cmdError(name, "Too many password attempts; try again later")
				break
			}
		}
		if len(s.opwordHash) == 0 || !checkPassword(s.opwordHash, pw) {
			c.cmdError(name, "Incorrect password")
		} else if !c.op {
			s.setOpLocked(c, true, "password") // drawpile-srv's wording
			s.appendServerMetaLocked(userListFrame(typeSessionOwner, 0, s.opListLocked()))
		}
	case "reset-session":
		if needOp() {
			s.resetSessionLocked(c, cmd)
		}
	case "init-begin", "init-complete", "init-cancel":
		if c != s.initUser {
			c.cmdError(name, "Not the initializing user")
			break
		}
		switch {
		case name == "init-begin" && s.state == StateReset:
			s.reset = &resetBuffer{}
		case name == "init-complete" && s.state == StateInit:
			s.initCompleteLocked()
			changed = true
		case name == "init-complete" && s.state == StateReset:
			s.resetCompleteLocked()
			changed = true
		case name == "init-cancel" && s.state == StateReset:
			s.cancelResetLocked("resetcancel", "Session reset cancelled")
		}
	case "ready-to-autoreset":
		if needOp() {
			s.readyToAutoresetLocked(c, cmd)
		}
	case "stream-reset-start":
		if needOp() {
			s.streamStartLocked(c, cmd)
		}
	case "stream-reset-abort":
		if s.stream != nil && s.stream.user == c {
			s.abortStreamLocked("aborted by the client")
		}
	case "stream-reset-finish":
		if needOp() {
			s.streamFinishLocked(c, cmd)
		}
	case "invite-create":
		if needOp() {
			s.inviteCreateLocked(c, cmd)
		}
	case "invite-remove":
		if needOp() {
			secret, _ := cmd.StringArg(0)
			if s.invites[secret] == nil {
				c.cmdError(name, "Invite not found")
			} else {
				delete(s.invites, secret)
				s.logLocked("Invite", "Removed invite "+secret, c)
				s.sendPartialLocked("invitelist", s.inviteListLocked(), true)
			}
		}
	case "spectator-link": // Drawbridge extension (docs/architecture.md)
		if needOp() {
			s.spectatorLinkLocked(c, cmd)
		}
	case "auth-list":
		if needOp() {
			s.authListCmdLocked(c, cmd.Args)
		}
	case "report":
		reason, _ := cmd.KwString("reason")
		s.logger.Warn("abuse report", "by", c.name, "reason", reason)
		r := s.abuseReportLocked(c, cmd, reason)
		// The details go to moderators only (topic Report); everyone
		// sees that the session was reported (drawpile-srv).
		s.logLocked(topicReport, fmt.Sprintf("Abuse report about user %d received: %s", r.Target, reason), c)
		s.logLocked("Status", "Session was reported.", nil)
		s.srv.observer.Reported(r)
	case "export-bans":
		if needOp() {
			s.exportBansLocked(c, cmd)
		}
	case "import-bans":
		if needOp() {
			s.importBansLocked(c, cmd)
		}
	case "kill-session":
		if !mod {
			c.cmdError(name, errNotMod)
			break
		}
		reason, _ := cmd.KwString("reason")
		s.mu.Unlock()
		s.terminate(orDefault(reason, "Session terminated by moderator "+c.name), disconnectShutdown)
		return
	case "announce-session", "unlist-session":
		if needOp() {
			s.listingCommandLocked(c, cmd)
		}
	case "thumbnail-error":
	default:
		c.cmdError(name, "Unknown command")
	}
	s.syncJournalLocked() // bans, invites and settings changed by the command
	s.mu.Unlock()
	if changed {
		s.srv.sessionChanged(s)
	}
}

var sizeRE = regexp.MustCompile(`(?i)^\s*([0-9]+(?:\.[0-9]+)?)\s*(gb|mb|kb|b)?\s*$`)

// parseSize parses a SIZE setting ("15mb", "1.5 GB", "1024").
func parseSize(s string) (int64, bool) {
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	switch strings.ToLower(m[2]) {
	case "gb":
		f *= 1 << 30
	case "mb":
		f *= 1 << 20
	case "kb":
		f *= 1 << 10
	}
	return int64(f), true
}

// sessionConfLocked applies a sessionconf command; it reports whether the
// session description changed.
func (s *Session) sessionConfLocked(c *Client, cmd protocol.Command) bool {
	st := s.srv.settings()
	mod := c.flags["MOD"]
	var changes []string
	passwordChanged := false
	if v, ok := cmd.KwString("title"); ok {
		if r := []rune(v); len(r) > 100 {
			v = string(r[:100])
		}
		if re := st.ForbiddenNames; re != nil && !mod && re.MatchString(v) {
			v = s.founder + " Drawpile"
		}
		if v != s.title {
			s.title = v
			changes = append(changes, "Changed title to '"+v+"'")
		}
	}
	if v, ok := cmd.KwBool("autotitle"); ok && v != s.autotitle {
		s.autotitle = v
		changes = append(changes, ternary(v, "enabled", "disabled")+" autotitle")
	}
	if v, ok := cmd.KwInt("maxUserCount"); ok {
		n := int(max(2, min(v, 254)))
		if !mod {
			n = min(n, max(s.maxUsers, st.SessionUserLimit))
		}
		if n != s.maxUsers {
			s.maxUsers = n
			changes = append(changes, "Changed max. user count")
		}
	}
	kickWeb := false
	if v, ok := cmd.KwString("password"); ok {
		// passwordDependentWebSession (server.md §1.2 #43): a password
		// opens the session to browsers; removing it closes the session to
		// them and kicks them, unless the changer may manage browser access
		// itself (WEBSESSION) or says what it wants with allowWeb.
		change := (v == "" && len(s.passwordHash) > 0) || (v != "" && v != s.password)
		canManageWeb := c.flags["WEBSESSION"]
		_, setsWeb := cmd.KwBool("allowWeb")
		if change && st.PasswordDependentWebSession && !(setsWeb && canManageWeb) {
			switch {
			case v != "" && !s.allowWeb:
				s.allowWeb = true
				changes = append(changes, "enabled browser connections because password is set")
			case v == "" && s.allowWeb && !canManageWeb && c.info.Browser:
				v = s.password // browser users must not lock themselves out
			case v == "" && s.allowWeb && !canManageWeb:
				s.allowWeb = false
				kickWeb = true
				changes = append(changes, "disabled browser connections because no password is set")
			}
		}
		if v == "" && len(s.passwordHash) > 0 {
			s.passwordHash, s.password = nil, ""
			changes = append(changes, "removed password")
			passwordChanged = true
		} else if v != "" && v != s.password {
			s.passwordHash, s.password = hashPassword(v), v
			changes = append(changes, "changed password")
			passwordChanged = true
		}
	}
	if v, ok := cmd.KwString("opword"); ok {
		if v == "" && len(s.opwordHash) > 0 {
			s.opwordHash = nil
			changes = append(changes, "removed opword")
		} else if v != "" {
			s.opwordHash = hashPassword(v)
			changes = append(changes, "changed opword")
		}
	}
	if v, ok := cmd.KwBool("authOnly"); ok && v != s.authOnly && (!v || c.authID != "" || mod) {
		s.authOnly = v
		changes = append(changes, ternary(v, "blocked guest logins", "permitted guest logins"))
	}
	if v, ok := cmd.KwBool("persistent"); ok && v != s.persistent && (st.Persistence || mod || c.flags["PERSIST"]) {
		s.persistent = v
		changes = append(changes, ternary(v, "made persistent", "made nonpersistent"))
	}
	if v, ok := cmd.KwBool("preserveChat"); ok && v != s.preserveChat {
		s.preserveChat = v
		changes = append(changes, ternary(v, "preserve chat", "don't preserve chat"))
	}
	if v, ok := cmd.KwBool("nsfm"); ok && v != s.nsfm && !st.ForceNsfm {
		s.nsfm = v
		changes = append(changes, ternary(v, "tagged NSFM", "removed NSFM tag"))
	}
	if v, ok := cmd.KwBool("deputies"); ok && v != s.deputies {
		s.deputies = v
		changes = append(changes, ternary(v, "enabled deputies", "disabled deputies"))
	}
	if cmd.Has("resetThreshold") {
		var n int64
		ok := false
		if i, isInt := cmd.KwInt("resetThreshold"); isInt {
			n, ok = i, i >= 0
		} else if str, isStr := cmd.KwString("resetThreshold"); isStr {
			n, ok = parseSize(str)
		}
		if ok {
			if n > 0 && n < st.MinimumAutoResetThreshold {
				n = st.MinimumAutoResetThreshold
			}
			if n != s.resetThreshold {
				s.resetThreshold = n
				changes = append(changes, "changed autoreset threshold")
			}
		}
	}
	if v, ok := cmd.KwBool("allowWeb"); ok && v != s.allowWeb && (c.flags["WEBSESSION"] || mod) && (v || !c.info.Browser) {
		s.allowWeb = v
		changes = append(changes, ternary(v, "Enabled browser connections", "Disabled browser connections"))
	}
	// Any operator may unlist a session (a Drawbridge extension: it only
	// makes the session more private); listing it again is for moderators,
	// as upstream.
	if v, ok := cmd.KwBool("unlisted"); ok && v != s.unlisted && (v || mod) {
		s.unlisted = v
		changes = append(changes, ternary(v, "unlisted", "listed"))
		if v {
			s.unlistLocked("", c, false) // unlisting also delists (listing.go)
		}
	}
	if mod {
		if v, ok := cmd.KwBool("idleOverride"); ok && v != s.idleOverride && st.AllowIdleOverride {
			s.idleOverride = v
			changes = append(changes, ternary(v, "enabled idle override", "disabled idle override"))
		}
		if v, ok := cmd.KwBool("invites"); ok && v != s.invitesOn {
			s.invitesOn = v
			changes = append(changes, ternary(v, "enabled invites", "disabled invites"))
		}
		if v, ok := cmd.KwInt("overrideSize"); ok && v >= 0 && v != s.overrideSize {
			s.overrideSize = v
			changes = append(changes, "changed size limit")
		}
	}
	if closed, ok := cmd.KwBool("closed"); ok && closed {
		c.sendNow(jsonFrame(protocol.Notice{Type: protocol.ReplyAlert, T: "closeunsupported",
			Message: "Closing sessions is no longer supported, set a password or lower the user limit instead."}))
	}
	if len(changes) == 0 {
		return false
	}
	s.appendConfigLocked()
	if s.state != StateInit {
		s.afterAppendLocked()
	}
	s.logLocked("Status", joinChanges(changes), c)
	if passwordChanged {
		pc := jsonFrame(protocol.PasswordChange{Type: protocol.ReplyPasswordChange, Password: s.password})
		s.sendOpsLocked(pc)
	}
	if kickWeb {
		s.kickWebUsersLocked(c)
	}
	return true
}

// joinChanges joins change descriptions like drawpile-srv: the first is
// capitalized, the rest follow after commas.
func joinChanges(ch []string) string {
	out := strings.Join(ch, ", ")
	if out != "" {
		out = strings.ToUpper(out[:1]) + out[1:]
	}
	return out
}

func ternary(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// targetArg resolves a user argument given as id or name.
func (s *Session) targetArgLocked(cmd protocol.Command, i int) *Client {
	if id, ok := cmd.IntArg(i); ok {
		return s.findUserLocked(id, "")
	}
	if name, ok := cmd.StringArg(i); ok && name != "" {
		if id, err := strconv.Atoi(name); err == nil {
			return s.findUserLocked(int64(id), "")
		}
		return s.findUserLocked(0, name)
	}
	return nil
}

func (s *Session) kickLocked(c *Client, cmd protocol.Command) bool {
	const name = "kick-user"
	mod := c.flags["MOD"]
	deputy := s.deputies && c.trusted
	if !c.op && !mod && !deputy {
		c.cmdError(name, errNotOwnerDeputy)
		return false
	}
	t := s.targetArgLocked(cmd, 0)
	if t == nil {
		c.cmdError(name, "No such user")
		return false
	}
	if t == c {
		c.cmdError(name, "Cannot kick self")
		return false
	}
	if t.flags["MOD"] {
		c.cmdError(name, "Cannot kick moderators")
		return false
	}
	if !c.op && !mod && (t.op || t.trusted) {
		c.cmdError(name, "Deputies cannot kick operators or trusted users")
		return false
	}
	ban, _ := cmd.KwBool("ban")
	topic, key, verb := "Kick", "kick", "kicked"
	if ban {
		topic, key, verb = "Ban", "ban", "banned"
		if len(s.bans) < 1000 {
			b := sessionBan{ID: s.nextBanID, Name: t.name, AuthID: t.authID, SID: t.sid, Addr: t.info.Addr.String(), By: c.name}
			if t.info.Addr.IsLoopback() || !t.info.Addr.IsValid() {
				b.Addr = ""
			}
			s.nextBanID++
			s.bans = append(s.bans, b)
		}
	}
	// Order as drawpile-srv: kick log, Disconnect to the target, leave log,
	// kick notice, then Leave in the history.
	s.logLocked(topic, strings.ToUpper(verb[:1])+verb[1:]+" by "+c.name, t)
	t.disconnect(disconnectKick, c.name)
	s.detachLocked(t, func() {
		s.noticeLocked(protocol.ReplyMsg, key, t.name+" "+verb+" by "+c.name, map[string]any{"target": t.name, "by": c.name})
	})
	if ban {
		s.sendPartialLocked("banlist", s.banListLocked(), true)
	}
	return true
}

func (s *Session) removeBanLocked(c *Client, cmd protocol.Command) {
	id, ok := cmd.IntArg(0)
	if !ok {
		if str, isStr := cmd.StringArg(0); isStr {
			n, err := strconv.Atoi(str)
			id, ok = int64(n), err == nil
		}
	}
	for i, b := range s.bans {
		if ok && int64(b.ID) == id {
			s.bans = append(s.bans[:i], s.bans[i+1:]...)
			s.logLocked("Unban", "Unbanned "+b.Name, c)
			s.sendPartialLocked("banlist", s.banListLocked(), true)
			return
		}
	}
	c.cmdError("remove-ban", "No such ban")
}

func (s *Session) muteLocked(c *Client, cmd protocol.Command) {
	t := s.targetArgLocked(cmd, 0)
	mute, ok := cmd.BoolArg(1)
	if t == nil || !ok {
		c.cmdError("mute", "Invalid arguments")
		return
	}
	if t.flags["MOD"] {
		c.cmdError("mute", "Cannot mute moderators")
		return
	}
	if t.muted == mute {
		return
	}
	t.muted = mute
	if mute {
		s.logLocked("Mute", "Muted by "+c.name, t)
	} else {
		s.logLocked("Unmute", "Unmuted by "+c.name, t)
	}
	s.sendPartialLocked("muted", s.mutedListLocked(), false)
}

const (
	maxInvites       = 50
	maxInviteUses    = 50
	defaultInviteUse = 1
)

func (s *Session) inviteCreateLocked(c *Client, cmd protocol.Command) {
	mod := c.flags["MOD"]
	if !s.invitesOn && !mod {
		c.cmdError("invite-create", "Invites are disabled")
		return
	}
	if len(s.invites) >= maxInvites {
		c.cmdError("invite-create", "Too many invites")
		return
	}
	uses := int64(defaultInviteUse)
	if n, ok := cmd.KwInt("maxUses"); ok {
		uses = max(1, min(n, maxInviteUses))
	}
	trust, _ := cmd.KwBool("trust")
	op, _ := cmd.KwBool("op")
	secret := newInviteSecret()
	for s.invites[secret] != nil {
		secret = newInviteSecret()
	}
	s.invites[secret] = &invite{Secret: secret, Creator: c.name, MaxUses: int(uses), Trust: trust, Op: op, At: time.Now()}
	s.logLocked("Invite", "Created invite", c)
	c.sendNow(jsonFrame(protocol.InviteCreated{Type: protocol.ReplyInviteCreated, Secret: secret}))
	s.sendPartialLocked("invitelist", s.inviteListLocked(), true)
}

// Ban export format (server.md §4.5): JSON {v:1, l:[{u,i,a,s,b}]},
// qCompress'ed (u32 BE length + zlib), "p" + base64 for plain exports.
type banExport struct {
	V int             `json:"v"`
	L []banExportItem `json:"l"`
}

type banExportItem struct {
	U string `json:"u,omitempty"`
	I string `json:"i,omitempty"`
	A string `json:"a,omitempty"`
	S string `json:"s,omitempty"`
	B string `json:"b,omitempty"`
}

// exportBansLocked answers export-bans: encrypted with the server's crypt
// key by default, plain ("p…") for moderators with {plain:true} (§4.5).
func (s *Session) exportBansLocked(c *Client, cmd protocol.Command) {
	plain, _ := cmd.KwBool("plain")
	if plain && !c.flags["MOD"] {
		c.sendNow(banImpExError("Only moderators can export plain bans.", "banexportmodonly"))
		return
	}
	key := s.srv.cryptKey
	if !plain && key == nil {
		c.sendNow(banImpExError("Exporting encrypted bans not configured on this server.", "banexportunconfigured"))
		return
	}
	compressed := qCompress(s.banExportJSONLocked())
	out := "p" + base64.StdEncoding.EncodeToString(compressed)
	if !plain {
		var err error
		if out, err = encryptBans(key, compressed); err != nil {
			s.logger.Error("encrypting ban export", "err", err)
			c.sendNow(banImpExError("Server error.", "banexportservererror"))
			return
		}
	}
	s.logLocked("BanImpEx", "Exported "+ternary(plain, "plain", "encrypted")+" bans from session "+s.id, c)
	c.sendNow(jsonFrame(protocol.BanImpEx{Type: protocol.ReplyBanImpEx, Export: out}))
}

// importBansLocked answers import-bans with plain or encrypted data (§4.5).
func (s *Session) importBansLocked(c *Client, cmd protocol.Command) {
	if cmd.NArgs() != 1 {
		c.cmdError("import-bans", "Expected one argument: bans")
		return
	}
	data, _ := cmd.StringArg(0)
	nonce, payload, ok := decodeBanImport(data)
	if !ok {
		c.sendNow(banImpExError("Malformed import data.", "banimportmalformed"))
		return
	}
	if nonce != nil {
		key := s.srv.cryptKey
		if key == nil {
			c.sendNow(banImpExError("Importing encrypted bans not configured on this server.", "banimportunconfigured"))
			return
		}
		opened, ok := secretbox.Open(nil, payload, nonce, key)
		if !ok {
			c.sendNow(banImpExError("The server couldn't read the import data. This is likely because it was exported from a different server. "+
				"You can only import bans into the same server they were exported from.", "banimportcrypterror"))
			return
		}
		payload = opened
	}
	js, err := qUncompress(payload)
	var ex struct {
		V int               `json:"v"`
		L []json.RawMessage `json:"l"`
	}
	if err != nil || json.Unmarshal(js, &ex) != nil || ex.V != 1 || ex.L == nil {
		c.sendNow(banImpExError("Invalid import data.", "banimportinvalid"))
		return
	}
	total, imported := 0, 0
	for _, raw := range ex.L {
		var it banExportItem
		if json.Unmarshal(raw, &it) != nil || (it.U == "" && it.A == "" && it.S == "" && it.I == "") {
			continue // not an object, or an empty entry (not counted, as upstream)
		}
		total++
		if s.addBanLocked(sessionBan{Name: it.U, Addr: it.I, AuthID: it.A, SID: it.S, By: it.B}) {
			imported++
		}
	}
	s.logLocked("BanImpEx", fmt.Sprintf("Imported %d/%d bans into session %s", imported, total, s.id), c)
	c.sendNow(jsonFrame(protocol.BanImpEx{Type: protocol.ReplyBanImpEx, Imported: &imported, Total: &total}))
	if imported > 0 {
		s.sendPartialLocked("banlist", s.banListLocked(), true)
	}
}

// addBanLocked adds b with a fresh id unless the list is full (1000) or
// an existing entry subsumes it (server.md §4.5).
func (s *Session) addBanLocked(b sessionBan) bool {
	if len(s.bans) >= 1000 || (b.Name == "" && b.Addr == "" && b.AuthID == "" && b.SID == "") {
		return false
	}
	for _, o := range s.bans {
		if (b.Name == "" || strings.EqualFold(b.Name, o.Name)) && (b.Addr == "" || b.Addr == o.Addr) &&
			(b.AuthID == "" || b.AuthID == o.AuthID) && (b.SID == "" || b.SID == o.SID) {
			return false
		}
	}
	b.ID = s.nextBanID
	s.nextBanID++
	s.bans = append(s.bans, b)
	return true
}

// abuseReportLocked describes the session for an abuse report by c.
func (s *Session) abuseReportLocked(c *Client, cmd protocol.Command, reason string) AbuseReport {
	member := func(u *Client) ReportUser {
		return ReportUser{ID: u.id, Name: u.name, Auth: u.authID != "", Op: u.op, Addr: u.info.Addr}
	}
	r := AbuseReport{Session: s.id, Title: s.title, Reporter: member(c), Message: reason, HistoryBytes: s.cumBytes}
	target, ok := cmd.KwInt("user")
	if !ok { // some clients send the id as a string
		str, _ := cmd.KwString("user")
		n, err := strconv.Atoi(str)
		target, ok = int64(n), err == nil
	}
	if ok && target > 0 && target < 256 {
		r.Target = uint8(target)
	}
	for _, u := range s.users {
		r.Users = append(r.Users, member(u))
	}
	slices.SortFunc(r.Users, func(a, b ReportUser) int { return int(a.ID) - int(b.ID) })
	return r
}

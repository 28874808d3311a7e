package session

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"drawbridge/internal/auth"
	"drawbridge/protocol"
)

// Login phases (§4.2). cinfo and lookup are optional steps of phaseIdent.
const (
	phaseIdent   = iota // before a successful ident
	phaseChoose         // identified: host, join or report
	phaseSession        // in a session
)

// maxLoginPasswordTries: the 10th wrong password ends the connection.
const maxLoginPasswordTries = 10

// loginState is owned by the reader goroutine.
type loginState struct {
	phase  int
	secure bool

	cinfoDone bool
	cinfo     map[string]string // app_version, protocol_version, qt_version, os, s, m

	lookupDone    bool
	lookupKind    string // "host", "join" or "" (empty join lookup)
	lookupSession *Session
	lookupInvite  string

	name     string
	authID   string
	guest    bool
	flags    map[string]bool
	flagList []string
	avatar   []byte

	badPasswords int
	// extNonce is the nonce of the last needExtAuth request (0 = none).
	extNonce uint64
}

func (l *loginState) isMod() bool { return l.flags["MOD"] }

// BadDataError reports input that ends the connection (undecodable
// message, protocol violation).
type BadDataError struct {
	Type   protocol.Type
	Reason string
}

func (e *BadDataError) Error() string {
	return fmt.Sprintf("session: bad data (type %d): %s", e.Type, e.Reason)
}

// Receive handles one frame received from the client, synchronously, on
// the transport's reader goroutine (never concurrently for one client).
// A non-nil error means the connection has been closed for bad data; the
// transport stops reading and calls Close.
func (c *Client) Receive(f protocol.Frame) error {
	if c.isClosing() {
		return nil // after a Disconnect, input is ignored
	}
	t := f.Type()
	if !knownType(t) {
		return c.badData(t, "unknown message type")
	}
	if reason := invalidPayload(f); reason != "" {
		return c.badData(t, reason)
	}
	switch t {
	case typePing:
		if f.Payload()[0] != 0 {
			return nil
		}
		// The pong follows the history that existed when the ping
		// arrived, so clients can use a ping as a barrier.
		if s := c.sess.Load(); s != nil {
			s.lock()
			s.sendLocked(c, pingFrame(true))
			s.mu.Unlock()
		} else {
			c.sendNow(pingFrame(true))
		}
		return nil
	case typeKeepAlive, typeDisconnect:
		return nil
	}
	if c.login.phase != phaseSession {
		if t != typeServerCommand {
			return nil // ignored before login
		}
		c.handleLogin(f.Payload())
		return nil
	}
	return c.handleSession(f)
}

// knownType reports whether t decodes on a thin server: every defined
// control and server-meta type, and anything ≥ 64 (opaque).
func knownType(t protocol.Type) bool {
	return t <= typeThumbnail || (t >= typeJoin && t <= typeResetStream) || t.IsOpaque()
}

// invalidPayload decodes the transparent messages (types < 64) the way the
// thin server does (protocol.md §1.4); it returns why f does not decode,
// or "". Opaque types (≥ 64) are never decoded.
func invalidPayload(f protocol.Frame) string {
	if f.Type().IsOpaque() {
		return ""
	}
	if _, err := protocol.Decode(f, protocol.Layout425); err != nil {
		return err.Error()
	}
	return ""
}

func (c *Client) badData(t protocol.Type, reason string) error {
	err := &BadDataError{Type: t, Reason: reason}
	if s := c.sess.Load(); s != nil {
		s.lock()
		if s.users[c.id] == c {
			s.logLocked("BadData", "Received invalid data: "+reason, c)
		}
		s.mu.Unlock()
	}
	c.fail(CloseBadData, reason)
	return err
}

// loginError sends an error reply; fatal ones are followed by a
// Disconnect and the end of the connection.
func (c *Client) loginError(code, msg string, fatal bool) {
	c.srv.observer.LoginFailed(code)
	c.sendNow(jsonFrame(protocol.ErrorReply{Type: protocol.ReplyError, Code: code, Message: msg}))
	if fatal {
		c.Logger().Info("login failed", "code", code)
		c.disconnect(disconnectError, "Login error")
	}
}

// passwordAttemptAllowed asks the login guard whether this client's
// address may try a password now; if not, the login ends with a message
// saying when to try again.
func (c *Client) passwordAttemptAllowed() bool {
	if c.srv.guard == nil {
		return true
	}
	ok, retry := c.srv.guard.Attempt(c.info.Addr)
	if !ok {
		c.Logger().Warn("password attempts rate-limited", "retry_after", retry)
		c.loginError("badPassword", fmt.Sprintf("Too many password attempts from your address; try again in %d seconds", int(retry.Seconds())+1), true)
	}
	return ok
}

// invalidMessage ends the login for an unexpected command.
func (c *Client) invalidMessage(what string) {
	c.Logger().Info("invalid login message", "detail", what)
	c.disconnect(disconnectError, "invalid message")
}

func (c *Client) result(r protocol.Result) {
	r.Type = protocol.ReplyResult
	c.sendNow(jsonFrame(r))
}

func (c *Client) handleLogin(payload []byte) {
	cmd, err := protocol.ParseCommand(payload)
	if err != nil {
		c.invalidMessage(err.Error())
		return
	}
	l := &c.login
	if c.info.TLS && !l.secure && cmd.Cmd != "startTls" {
		c.loginError("tlsRequired", "TLS required", true)
		return
	}
	if l.phase == phaseIdent && !l.cinfoDone && cmd.Cmd != "cinfo" && cmd.Cmd != "startTls" && c.srv.settings().RequireMatchingHost {
		c.loginError("clientInfoUnsupported", "Your version of Drawpile is too old. To update, go to drawpile.net and download a newer version.", true)
		return
	}
	switch cmd.Cmd {
	case "startTls":
		if l.secure {
			c.loginError("alreadySecure", "Already secure", true)
		} else {
			c.loginError("noTls", "TLS not supported", true)
		}
	case "cinfo":
		c.loginCInfo(cmd)
	case "lookup":
		c.loginLookup(cmd)
	case "ident":
		if l.phase != phaseIdent {
			c.invalidMessage("ident after login")
			return
		}
		c.loginIdent(cmd)
	case "host":
		if l.phase != phaseChoose {
			c.invalidMessage("host before ident")
			return
		}
		c.loginHost(cmd)
	case "join":
		if l.phase != phaseChoose {
			c.invalidMessage("join before ident")
			return
		}
		c.loginJoin(cmd)
	case "report":
		if l.phase != phaseChoose {
			c.invalidMessage("report before ident")
			return
		}
		reason, _ := cmd.KwString("reason")
		sess, _ := cmd.KwString("session")
		c.Logger().Warn("abuse report at login", "session", sess, "reason", reason)
	default:
		c.invalidMessage("unknown command " + strconv.Quote(cmd.Cmd))
	}
}

var (
	appVersionRE = regexp.MustCompile(`^[0-9]+\..\.[0-9]+`)
	sidRE        = regexp.MustCompile(`^[0-9a-fA-F]{32}(/[0-9a-fA-F]{32})?$`)
)

// clientInfoKeys are the cinfo keys that host/join must repeat unchanged.
var clientInfoKeys = []string{"app_version", "protocol_version", "qt_version", "os", "s", "m"}

func truncInfo(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 65 {
		s = s[:65]
	}
	return s
}

func (c *Client) loginCInfo(cmd protocol.Command) {
	l := &c.login
	if l.cinfoDone {
		c.loginError("cinfoAlreadyDone", "Client info already sent", true)
		return
	}
	if _, ok := cmd.StringArg(0); !ok || cmd.NArgs() != 2 {
		c.loginError("syntax", "Invalid client info", true)
		return
	}
	var info map[string]json.RawMessage
	if err := json.Unmarshal(cmd.Args[1], &info); err != nil || info == nil {
		c.loginError("syntax", "Invalid client info", true)
		return
	}
	vals := map[string]string{}
	for _, k := range clientInfoKeys {
		if s, ok := rawStr(info[k]); ok {
			vals[k] = truncInfo(s)
		}
	}
	if !appVersionRE.MatchString(vals["app_version"]) {
		c.loginError("badversion", "Invalid client version", true)
		return
	}
	if !sidRE.MatchString(vals["s"]) {
		c.invalidMessage("missing or malformed system id")
		return
	}
	if want := c.srv.localHost; want != "" {
		host, _ := cmd.StringArg(0)
		if normalizeHost(host) != want {
			c.Logger().Warn("client host name is not ours", "host", host, "ours", want)
			if c.srv.settings().RequireMatchingHost {
				c.loginError("mismatchedHostName", "Invalid host name.", true)
				return
			}
		}
	}
	l.cinfoDone = true
	l.cinfo = vals
	c.Logger().Info("client info", "app_version", vals["app_version"], "protocol", vals["protocol_version"], "os", vals["os"])
	c.result(protocol.Result{Message: "Client info OK!", CInfo: &protocol.CInfoResult{Browser: c.info.Browser}})
}

func rawStr(r json.RawMessage) (string, bool) {
	if len(r) == 0 || r[0] != '"' {
		return "", false
	}
	var s string
	return s, json.Unmarshal(r, &s) == nil
}

func (c *Client) loginLookup(cmd protocol.Command) {
	l := &c.login
	if l.lookupDone {
		c.loginError("lookupAlreadyDone", "Lookup already done", true)
		return
	}
	if cmd.NArgs() > 1 {
		c.loginError("syntax", "Invalid lookup", true)
		return
	}
	if cmd.NArgs() == 0 {
		l.lookupDone, l.lookupKind = true, "host"
		c.result(protocol.Result{Message: "Host lookup OK!", Lookup: "host"})
		return
	}
	target, ok := cmd.StringArg(0)
	if !ok {
		c.loginError("syntax", "Invalid lookup", true)
		return
	}
	if target == "" {
		if c.srv.settings().MandatoryLookup {
			c.loginError("lookupRequired", "Lookup required", true)
			return
		}
		l.lookupDone, l.lookupKind = true, ""
		c.result(protocol.Result{Message: "Empty join lookup OK!", Lookup: "join"})
		return
	}
	name, secret, _ := strings.Cut(target, ":")
	s := c.srv.Lookup(name)
	if s == nil {
		c.loginError("lookupFailed", "Session not found, it may have ended or its invite link has changed", true)
		return
	}
	if secret != "" {
		s.lock()
		inv := s.invites[secret]
		full := inv != nil && inv.MaxUses > 0 && len(inv.Uses) >= inv.MaxUses
		s.mu.Unlock()
		if inv == nil {
			c.loginError("inviteNotFound", "Invite not found", true)
			return
		}
		if full {
			c.loginError("inviteLimitReached", "Invite limit reached", true)
			return
		}
	}
	l.lookupDone, l.lookupKind, l.lookupSession, l.lookupInvite = true, "join", s, secret
	d := s.Desc()
	c.result(protocol.Result{Message: "Join lookup OK!", Lookup: "join", Session: &d})
}

// extAuthForGuest decides, for a name without an internal account while
// ext-auth is on, whether to ask the client for an ext-auth token
// (server.md §5 step 2). It returns done=false when the client continues
// as a guest, true when a reply or error has been sent.
func (c *Client) extAuthForGuest(name, intent string) (done bool) {
	ea := c.srv.extAuth
	if !c.srv.settings().AllowGuests || intent == "extauth" {
		c.requestExtAuth(ea)
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), extAuthTimeout)
	status, err := ea.GuestCheck(ctx, name)
	cancel()
	switch {
	case err != nil:
		c.Logger().Warn("ext-auth server unreachable", "err", err, "fallback", ea.Fallback())
		if !ea.Fallback() {
			c.loginError("noExtAuth", "Authentication server is unavailable", true)
			return true
		}
		return false
	case status == "auth":
		if intent == "guest" {
			c.result(protocol.Result{Message: "Intent mismatch", State: "intentMismatch", Intent: "guest", Method: "extauth", ExtAuthFallback: ea.Fallback()})
			return true
		}
		c.requestExtAuth(ea)
		return true
	case status == "outgroup":
		c.loginError("extauthOutgroup", "This username cannot log in to this server", true)
		return true
	case status == "banned":
		c.loginError("extauthLocked", "This username is locked", true)
		return true
	default: // "guest"
		return false
	}
}

// extAuthTimeout bounds the guest check against the ext-auth server.
const extAuthTimeout = 10 * time.Second

// requestExtAuth answers needExtAuth with a fresh nonce (§5 step 3).
func (c *Client) requestExtAuth(ea ExtAuth) {
	l := &c.login
	l.extNonce = auth.NewNonce()
	ask := ea.AskAvatar() && len(l.avatar) == 0
	c.result(protocol.Result{Message: "External authentication needed", State: "needExtAuth",
		ExtAuthURL: ea.URL(), Nonce: auth.FormatNonce(l.extNonce), Group: ea.Group(), AskAvatar: &ask})
}

// loginExtAuthToken completes an ident that carries an ext-auth token
// (§5 step 5). Internal accounts take precedence: a token for a name that
// has a local account is refused.
func (c *Client) loginExtAuthToken(cmd protocol.Command, token string) {
	l := &c.login
	ea := c.srv.extAuth
	if ea == nil || ea.URL() == "" {
		c.loginError("extAuthError", "External authentication is not enabled", true)
		return
	}
	id, err := ea.Verify(token, l.extNonce)
	l.extNonce = 0 // a nonce is good for one token
	if err != nil {
		c.Logger().Info("ext-auth token rejected", "err", err)
		c.loginError("extAuthError", "External authentication failed", true)
		return
	}
	if _, err := c.srv.auth.Authenticate(context.Background(), id.Name, ""); err != ErrNoAccount {
		c.loginError("extAuthError", "This name belongs to an account on this server", true)
		return
	}
	if !validUsername(id.Name) {
		c.loginError("badUsername", "Invalid username", true)
		return
	}
	flags := map[string]bool{}
	for _, f := range id.Flags {
		flags[f] = true
	}
	l.authID = id.AuthID
	avatar := c.identAvatar(cmd)
	if avatar == nil && len(id.Avatar) > 0 && len(id.Avatar) <= protocol.MaxPayload-300 {
		avatar = id.Avatar
	}
	c.finishIdent(id.Name, false, flags, avatar, id.WantGhost || flags["GHOST"])
}

// validUsername: non-empty, ≤ 22 UTF-16 code units, no '"' (§4.7).
func validUsername(name string) bool {
	if strings.TrimSpace(name) == "" || strings.ContainsRune(name, '"') {
		return false
	}
	return len(utf16.Encode([]rune(name))) <= 22
}

// implicit user flags granted to everybody by the settings, in the order
// drawpile-srv happened to list them in the transcripts.
func (c *Client) implicitFlags(flags map[string]bool) {
	st := c.srv.settings()
	if st.AllowGuestWeb {
		flags["WEB"] = true
	}
	if st.AllowGuestHosts {
		flags["HOST"] = true
	}
	if st.AllowGuestWebHosts {
		flags["WEBHOST"] = true
	}
	if st.AllowGuestWebSession {
		flags["WEBSESSION"] = true
	}
	if flags["MOD"] {
		flags["PERSIST"] = true
	}
}

var flagOrder = []string{"MOD", "WEB", "HOST", "WEBHOST", "WEBSESSION", "PERSIST", "GHOST", "BANEXEMPT", "TRUSTED"}

func (c *Client) loginIdent(cmd protocol.Command) {
	l := &c.login
	name, ok := cmd.StringArg(0)
	if !ok || cmd.NArgs() > 2 || !validUsername(name) {
		c.loginError("badUsername", "Invalid username", true)
		return
	}
	if re := c.srv.settings().ForbiddenNames; re != nil && re.MatchString(name) {
		c.loginError("forbiddenUsername", "Forbidden username", true)
		return
	}
	intent, hasIntent := cmd.KwString("intent")
	if cmd.Has("intent") && (!hasIntent || (intent != "guest" && intent != "auth" && intent != "extauth")) {
		c.loginError("identError", "Invalid intent", true)
		return
	}
	if tok, ok := cmd.KwString("extauth"); ok && tok != "" {
		c.loginExtAuthToken(cmd, tok)
		return
	}
	password, _ := cmd.StringArg(1)
	if password != "" && !c.passwordAttemptAllowed() {
		return
	}
	acc, err := c.srv.auth.Authenticate(context.Background(), name, password)
	flags := map[string]bool{}
	guest := false
	switch err {
	case nil:
		for _, f := range acc.Flags {
			flags[f] = true
		}
		name = acc.Name
		l.authID = acc.AuthID
	case ErrNoAccount:
		if c.srv.extAuthURL() != "" {
			if done := c.extAuthForGuest(name, intent); done {
				return
			}
			guest = true
			break
		}
		if intent == "auth" {
			c.result(protocol.Result{Message: "Intent mismatch", State: "intentMismatch", Intent: "auth", Method: "guest"})
			return
		}
		if !c.srv.settings().AllowGuests {
			c.loginError("noGuest", "Guest logins are not allowed", true)
			return
		}
		guest = true
	case ErrNeedPassword:
		if intent == "guest" {
			c.result(protocol.Result{Message: "Intent mismatch", State: "intentMismatch", Intent: "guest", Method: "auth"})
			return
		}
		c.result(protocol.Result{Message: "Password needed", State: "needPassword"})
		return
	case ErrBadPassword:
		l.badPasswords++
		c.loginError("badPassword", "Incorrect password", l.badPasswords >= maxLoginPasswordTries)
		return
	case ErrAccountBanned:
		c.loginError("bannedName", "This username is banned", true)
		return
	default:
		c.Logger().Error("authentication failed", "err", err)
		c.loginError("identError", "Authentication error", true)
		return
	}
	c.finishIdent(name, guest, flags, c.identAvatar(cmd), flags["GHOST"])
}

// identAvatar is the avatar sent with ident, if the server accepts custom
// avatars and it decodes and fits in a Join message.
func (c *Client) identAvatar(cmd protocol.Command) []byte {
	av, ok := cmd.KwString("avatar")
	if !ok || !c.srv.settings().CustomAvatars || len(av) > 4*protocol.MaxPayload/3 {
		return nil
	}
	if b, err := base64.StdEncoding.DecodeString(av); err == nil && len(b) <= protocol.MaxPayload-300 {
		return b
	}
	return nil
}

// finishIdent completes a successful ident: implicit flags, the browser
// rule, the ghost rules (wantGhost: the account or token asked for GHOST),
// then identOk and the session list.
func (c *Client) finishIdent(name string, guest bool, flags map[string]bool, avatar []byte, wantGhost bool) {
	l := &c.login
	c.implicitFlags(flags)
	if c.info.Browser && !flags["WEB"] {
		c.loginError("webNotAllowed", "Browser logins are not allowed", true)
		return
	}
	if wantGhost {
		if !flags["GHOST"] || !c.srv.settings().EnableGhosts {
			c.loginError("ghostsNotAllowed", "Ghost mode not allowed", true)
			return
		}
		if !flags["MOD"] {
			c.loginError("ghostWithoutMod", "Ghost mode is only available for moderators", true)
			return
		}
	}
	if avatar != nil {
		l.avatar = avatar
	}
	l.name, l.guest, l.flags = name, guest, flags
	l.flagList = nil
	for _, f := range flagOrder {
		if flags[f] {
			l.flagList = append(l.flagList, f)
		}
	}
	l.phase = phaseChoose
	c.mod.Store(flags["MOD"])
	c.mu.Lock()
	c.logger = c.logger.With("user", name)
	c.mu.Unlock()
	msg := "Authenticated login OK!"
	if guest {
		msg = "Guest login OK!"
	}
	g := guest
	c.result(protocol.Result{Message: msg, State: "identOk", Flags: append([]string{}, l.flagList...), Ident: name, Guest: &g})
	c.srv.watch(c, l.lookupKind == "join" && l.lookupDone)
}

var protoRE = regexp.MustCompile(`^([a-z]+):([0-9]+)\.([0-9]+)\.([0-9]+)$`)

// parseProtocol splits "dp:4.25.1".
func parseProtocol(p string) (ns string, server, major, minor int, ok bool) {
	m := protoRE.FindStringSubmatch(p)
	if m == nil {
		return "", 0, 0, 0, false
	}
	server, err1 := strconv.Atoi(m[2])
	major, err2 := strconv.Atoi(m[3])
	minor, err3 := strconv.Atoi(m[4])
	return m[1], server, major, minor, err1 == nil && err2 == nil && err3 == nil
}

// checkClientInfo verifies the system id and that the cinfo keys are
// repeated unchanged; false means the connection was ended.
func (c *Client) checkClientInfo(cmd protocol.Command, needSID bool) bool {
	l := &c.login
	sid, _ := cmd.KwString("s")
	if needSID && !sidRE.MatchString(strings.TrimSpace(sid)) {
		c.invalidMessage("missing system id")
		return false
	}
	if l.cinfoDone {
		for _, k := range clientInfoKeys {
			v, _ := cmd.KwString(k)
			if truncInfo(v) != l.cinfo[k] {
				c.invalidMessage("client info changed: " + k)
				return false
			}
		}
	}
	return true
}

func (c *Client) sids(cmd protocol.Command) []string {
	sid, _ := cmd.KwString("s")
	a, b, _ := strings.Cut(strings.TrimSpace(sid), "/")
	var out []string
	for _, s := range []string{a, b} {
		if s != "" {
			out = append(out, strings.ToLower(s))
		}
	}
	return out
}

// checkServerBan ends the connection if a server-wide ban matches.
func (c *Client) checkServerBan(cmd protocol.Command) bool {
	if c.login.flags["BANEXEMPT"] {
		return true
	}
	ban, banned := c.srv.bans.CheckBan(context.Background(), c.info.Addr, c.sids(cmd), c.login.authID)
	if !banned {
		return true
	}
	msg := "You are banned from this server"
	if !ban.Expires.IsZero() {
		msg += " until " + ban.Expires.UTC().Format("2006-01-02 15:04:05") + " UTC"
	}
	if ban.Reason != "" {
		msg += " (" + ban.Reason + ")"
	}
	c.Logger().Info("server ban matched")
	c.disconnect(disconnectKick, msg)
	return false
}

func (c *Client) capabilities(cmd protocol.Command) map[string]bool {
	caps := map[string]bool{}
	s, _ := cmd.KwString("capabilities")
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			caps[p] = true
		}
	}
	return caps
}

func (c *Client) loginHost(cmd protocol.Command) {
	l := &c.login
	if l.lookupDone && l.lookupKind == "join" {
		c.loginError("lookupHostMismatch", "Lookup was for joining, not hosting", true)
		return
	}
	if !l.flags["HOST"] || (c.info.Browser && !l.flags["WEBHOST"]) {
		c.loginError("unauthorizedHost", "Hosting not authorized", true)
		return
	}
	if pw, _ := cmd.KwString("password"); pw == "" && c.info.Browser && !l.flags["WEBSESSION"] && c.srv.settings().PasswordDependentWebSession {
		c.loginError("passwordedHost", "You're not allowed to host sessions without a session password", true)
		return
	}
	if l.flags["GHOST"] {
		c.loginError("ghostHost", "Hosting not available in ghost mode", true)
		return
	}
	userID, ok := cmd.KwInt("user_id")
	if !ok || userID < 1 || userID > 254 {
		c.loginError("syntax", "Invalid user id", true)
		return
	}
	proto, _ := cmd.KwString("protocol")
	_, server, major, _, ok := parseProtocol(proto)
	if !ok {
		c.loginError("syntax", "Unparseable protocol version", true)
		return
	}
	if server != protocol.ServerVersion {
		c.loginError("badProtocol", "This server does not support this protocol version.", true)
		return
	}
	if minV := c.srv.settings().MinimumProtocolVersion; minV != "" && !l.flags["MOD"] {
		mns, mserver, mmajor, mminor, ok := parseProtocol(minV)
		ns, _, _, minor, _ := parseProtocol(proto)
		switch {
		case !ok:
		case ns != mns:
			c.loginError("protoverns", "This server does not support this protocol.", true)
			return
		case server < mserver || (server == mserver && (major < mmajor || (major == mmajor && minor < mminor))):
			c.loginError("protoverold", "This server requires a newer Drawpile version.", true)
			return
		}
	}
	if !c.checkClientInfo(cmd, major >= 24) {
		return
	}
	alias, _ := cmd.KwString("alias")
	if alias != "" && !validAlias(alias) {
		c.loginError("badAlias", "Invalid session alias", true)
		return
	}
	if !c.checkServerBan(cmd) {
		return
	}
	s, err := c.srv.createSession(l.name, alias, proto)
	switch err {
	case nil:
	case errSessionLimit:
		c.loginError("closed", "This server is full.", true)
		return
	default:
		c.loginError("idInUse", "An internal server error occurred.", true)
		return
	}
	password, _ := cmd.KwString("password")
	web, hasWeb := cmd.KwBool("web")
	caps := c.capabilities(cmd)

	s.lock()
	s.appendConfigLocked() // the first snapshot, before the host's settings
	what := "Session " + s.title
	if s.alias != "" {
		what += " (AKA " + s.alias + ")"
	}
	s.logLocked("Status", what+" created by "+l.name, nil) // nobody to push it to yet
	s.mu.Unlock()
	c.srv.sessionChanged(s) // "New session" to everyone still choosing, c included
	c.srv.unwatch(c)
	s.logger.Info("session created", "founder", l.name, "protocol", proto)

	s.lock()
	if password != "" {
		s.passwordHash, s.password = hashPassword(password), password
	}
	switch {
	case c.info.Browser:
		s.allowWeb = true
	case hasWeb && l.flags["WEBSESSION"]:
		s.allowWeb = web
	case c.srv.settings().PasswordDependentWebSession:
		s.allowWeb = password != ""
	default:
		s.allowWeb = l.flags["WEBSESSION"]
	}
	s.invitesOn = c.srv.settings().Invites
	if p := c.srv.settings().UnlistedHostPolicy; strings.Contains(p, "ALL") || (c.info.Browser && strings.Contains(p, "WEB")) {
		s.unlisted = true
	}
	c.id = uint8(userID)
	c.enterLocked(s, caps, sidOf(c.sids(cmd)), false)
	s.initUser = c
	c.catchupMark = -1
	c.cursor = s.endLocked()
	c.joinBytes = s.cumBytes
	l.phase = phaseSession
	c.result(protocol.Result{Message: "Starting new session!", State: "host", Join: &protocol.JoinInfo{
		ID: s.idOrAlias(), UniqueID: s.id, User: int(c.id), Flags: []string{"SKIP"}, AuthID: l.authID}})
	c.setSess(s)
	// Order as drawpile-srv: Join, operator notices, SessionOwner, the
	// session log, the lists, "Joined session".
	s.noteAuthNameLocked(c) // before the Join, whose append syncs the journal
	s.appendServerMetaLocked(joinFrame(c.id, c.joinFlags(), c.name, c.avatar))
	s.setOpLocked(c, true, "")
	s.appendServerMetaLocked(userListFrame(typeSessionOwner, 0, s.opListLocked()))
	s.replayLogLocked(c, c.op, func(f protocol.Frame) { s.sendLocked(c, f) })
	s.sendListsLocked(c)
	s.logLocked("Join", "Joined session", c)
	s.logClientInfoLocked(c, cmd)
	s.mu.Unlock()
	c.srv.sessionChanged(s)
}

// logClientInfoLocked records the client info of c's host or join command
// in the session log, as drawpile-srv does when a client enters a session:
// the cinfo keys, the peer address and the auth id as a compact JSON
// object, topic ClientInfo, which only moderators see (sensitiveLogTopic).
func (s *Session) logClientInfoLocked(c *Client, cmd protocol.Command) {
	info := map[string]string{}
	for _, k := range clientInfoKeys {
		if v, _ := cmd.KwString(k); truncInfo(v) != "" {
			info[k] = truncInfo(v)
		}
	}
	if c.info.Addr.IsValid() {
		info["address"] = c.info.Addr.String()
	}
	if c.authID != "" {
		info["auth_id"] = c.authID
	}
	b, err := json.Marshal(info) // sorted keys, like Qt's QJsonObject
	if err != nil {
		return
	}
	s.logLocked(topicClientInfo, string(b), c)
}

func sidOf(sids []string) string {
	if len(sids) == 0 {
		return ""
	}
	return sids[0]
}

// enterLocked makes c a member of s with id c.id.
func (c *Client) enterLocked(s *Session, caps map[string]bool, sid string, old bool) {
	l := &c.login
	c.name, c.authID, c.flags, c.avatar = l.name, l.authID, l.flags, l.avatar
	c.keepalive = caps["KEEPALIVE"]
	c.sid = sid
	c.old = old
	s.joinSeq++
	c.joinSeq = s.joinSeq
	s.users[c.id] = c
	s.nameIDs[strings.ToLower(c.name)] = c.id
	c.mu.Lock()
	c.logger = s.logger.With("conn", c.serial, "transport", c.info.Transport, "user", c.name, "ctx", c.id)
	c.mu.Unlock()
}

func (c *Client) joinFlags() uint8 {
	var f uint8
	if c.authID != "" {
		f |= joinAuth
	}
	if c.flags["MOD"] {
		f |= joinMod
	}
	if c.old {
		f |= joinOld
	}
	return f
}

func (c *Client) loginJoin(cmd protocol.Command) {
	l := &c.login
	target, ok := cmd.StringArg(0)
	if !ok || cmd.NArgs() != 1 {
		c.loginError("syntax", "Invalid join", true)
		return
	}
	if c.srv.settings().MandatoryLookup && (!l.lookupDone || l.lookupKind == "host") {
		c.loginError("lookupJoinMismatch", "Lookup was not for joining", true)
		return
	}
	name, secret, _ := strings.Cut(target, ":")
	s := c.srv.Lookup(name)
	if s == nil {
		c.loginError("notFound", "Session not found!", true)
		return
	}
	if l.lookupDone && l.lookupKind == "join" && l.lookupSession != nil && l.lookupSession != s {
		c.loginError("lookupMismatch", "Session does not match lookup", true)
		return
	}
	_, server, major, _, _ := parseProtocol(s.protocol)
	if !c.checkClientInfo(cmd, server == 4 && major >= 24) {
		return
	}
	if secret == "" {
		secret = l.lookupInvite
	}
	password, _ := cmd.KwString("password")
	if !c.checkServerBan(cmd) {
		return
	}
	caps := c.capabilities(cmd)
	oldv, _ := cmd.KwBool("oldv")
	hidx, _ := cmd.KwString("hidx")
	sids := c.sids(cmd)
	mod := l.flags["MOD"]

	s.lock()
	var inv *invite
	for _, sec := range []string{secret, password} {
		if i := s.invites[sec]; sec != "" && i != nil {
			inv = i
			break
		}
	}
	if inv != nil && inv.MaxUses > 0 && len(inv.Uses) >= inv.MaxUses && !containsFold(inv.Uses, l.name) {
		s.mu.Unlock()
		c.loginError("inviteLimitReached", "Invite limit reached", true)
		return
	}
	if secret != "" && inv == nil {
		s.mu.Unlock()
		c.loginError("inviteNotFound", "Invite not found", true)
		return
	}
	if c.info.Browser && !s.allowWeb && inv == nil && !mod {
		s.mu.Unlock()
		c.loginError("noWebJoin", "This session does not allow joining from the web", true)
		return
	}
	if !mod {
		if b := s.matchBanLocked(l.name, l.authID, sids, c.info.Addr.String()); b != nil {
			s.mu.Unlock()
			c.loginError("banned", fmt.Sprintf("You have been banned from this session (ban %d)", b.ID), true)
			return
		}
		if inv == nil && s.closedLocked() {
			s.mu.Unlock()
			c.loginError("closed", "This session is closed", true)
			return
		}
		if inv == nil && s.authOnly && l.guest {
			s.mu.Unlock()
			c.loginError("authOnly", "This session does not allow guest logins", true)
			return
		}
		if inv == nil && len(s.passwordHash) > 0 && !c.passwordAttemptAllowed() {
			s.mu.Unlock()
			return
		}
		if inv == nil && (len(s.passwordHash) > 0 || password != "") && !checkPassword(s.passwordHash, password) {
			s.mu.Unlock()
			l.badPasswords++
			c.loginError("badPassword", "Incorrect password", l.badPasswords >= maxLoginPasswordTries)
			return
		}
	}
	if len(s.users) >= 254 {
		s.mu.Unlock()
		c.loginError("closed", "This session is full", true)
		return
	}
	var replaced *Client
	for _, u := range s.users {
		if strings.EqualFold(u.name, l.name) {
			if (l.authID != "" && u.authID == l.authID) || (len(sids) > 0 && u.sid == sids[0]) {
				replaced = u
				break
			}
			s.mu.Unlock()
			c.loginError("nameInuse", "This username is already in use", true)
			return
		}
	}
	if replaced != nil {
		// The same user reconnecting: the old connection goes, its id is reused.
		s.rememberLocked(replaced)
		delete(s.users, replaced.id)
		replaced.setSess(nil)
		if !replaced.isGhost() {
			s.appendServerMetaLocked(leaveFrame(replaced.id))
		}
		replaced.disconnect(disconnectKick, "Replaced by rejoining")
	}
	id, ok := s.allocIDLocked(l.name)
	if replaced != nil {
		id, ok = replaced.id, true
	}
	if !ok {
		s.mu.Unlock()
		c.loginError("closed", "This session is full", true)
		return
	}
	if inv != nil && !containsFold(inv.Uses, l.name) {
		inv.Uses = append(inv.Uses, l.name)
	}
	c.id = id
	c.enterLocked(s, caps, sidOf(sids), oldv)
	c.viaInvite = inv != nil
	ghost := c.isGhost()
	l.phase = phaseSession

	// Resume after hidx if it is from this history generation.
	c.cursor = s.first
	skip := false
	if start, pos, sid, ok := parseHidx(hidx); ok && sid == s.id && start == s.startID {
		if at := s.genBase + pos + 1; at >= s.first && at <= s.endLocked() {
			c.cursor, skip = at, true
		}
	}
	key := s.catchKey
	s.catchKey++
	if s.catchKey > 999999999 {
		s.catchKey = 1
	}
	mark := s.endLocked()
	s.appendJSONLocked(protocol.CaughtUp{Type: protocol.ReplyCaughtUp, Key: key, HIdx: s.hidxLocked(mark)})
	c.catchupMark = mark
	c.catchupStart = time.Now()
	c.joinBytes = s.cumBytes
	sk := skip
	c.result(protocol.Result{Message: "Joining a session!", State: "join", Join: &protocol.JoinInfo{
		ID: s.idOrAlias(), UniqueID: s.id, User: int(c.id), Flags: []string{"SKIP"}, AuthID: l.authID, Skip: &sk}})
	c.sendNow(jsonFrame(protocol.CatchUp{Type: protocol.ReplyCatchUp, Count: int(mark - c.cursor), Key: key}))
	c.sendNow(jsonFrame(protocol.Status{Type: protocol.ReplyStatus, Size: s.histBytes}))
	// The joiner's operator status is settled below (after its Join), but
	// the log replay, which depends on it, goes out first.
	rememberedOp := c.authID != "" && s.authOps[c.authID]
	makeOp := mod || rememberedOp || (inv != nil && inv.Op) ||
		(!ghost && !s.nonGhostOpLocked() && len(s.opwordHash) == 0 && !s.offlineAuthOpLocked())
	s.replayLogLocked(c, makeOp, c.sendNow)
	if ghost {
		c.sendNow(jsonFrame(protocol.Notice{Type: protocol.ReplyAlert, Message: ghostModeMessage}))
	}
	if wm := c.srv.settings().WelcomeMessage; wm != "" {
		c.sendNow(jsonFrame(protocol.Notice{Type: protocol.ReplyMsg, Message: wm}))
	}
	// Members get the notices below before the Join (drawpile-srv queues
	// them ahead of the history appended meanwhile).
	s.secBarrier = s.endLocked()
	c.setSess(s)
	if !ghost { // ghosts join without a Join message (§4.9)
		s.noteAuthNameLocked(c) // before the Join, whose append syncs the journal
		s.appendServerMetaLocked(joinFrame(c.id, c.joinFlags(), c.name, c.avatar))
	}
	if makeOp {
		var via *invite // the invite is named only if nothing else made c operator
		if !mod && !rememberedOp && inv != nil && inv.Op {
			via = inv
		}
		s.changeOpLocked(c, true, "", via, false) // the lists follow below
		s.appendServerMetaLocked(userListFrame(typeSessionOwner, 0, s.opListLocked()))
	}
	if ((inv != nil && inv.Trust) || (c.authID != "" && s.authTrusted[c.authID])) && !c.trusted {
		c.trusted = true
		s.appendServerMetaLocked(userListFrame(typeTrustedUsers, 0, s.trustedListLocked()))
	}
	s.sendListsLocked(nil)
	s.logLocked("Join", ternary(ghost, "Moderator in ghost mode joined session", "Joined session"), c)
	s.logClientInfoLocked(c, cmd)
	if lim := s.sizeLimitLocked(); lim > 0 && s.histBytes > lim {
		c.sendNow(jsonFrame(protocol.OutOfSpace{Type: protocol.ReplyOutOfSpace}))
	}
	s.mu.Unlock()
	c.srv.unwatch(c)
	c.srv.sessionChanged(s)
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// parseHidx splits "<startId>:<pos>:<sessionId>".
func parseHidx(h string) (start, pos int64, id string, ok bool) {
	a, rest, ok1 := strings.Cut(h, ":")
	b, id, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 {
		return 0, 0, "", false
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	pos, err2 := strconv.ParseInt(b, 10, 64)
	return start, pos, id, err1 == nil && err2 == nil && pos >= 0
}

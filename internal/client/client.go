package client

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"drawbridge/protocol"
)

// Protocol versions (protocol.md §1.5).
const (
	ProtocolVersion       = "dp:4.25.1"
	CompatProtocolVersion = "dp:4.24.0"
	ServerVersion         = 4 // the greeting's "version"
)

// ClientInfo is what the client tells the server about itself in cinfo and
// repeats in host/join (protocol.md §4.5). The six identity keys must be
// identical in both places, which the Client guarantees.
type ClientInfo struct {
	AppVersion      string // must look like "2.3.1"
	ProtocolVersion string // e.g. "dp:4.25.1"
	QtVersion       string
	OS              string
	SystemID        string // "s": 32 hex digits
	MachineID       string // "m": base64
	Capabilities    string // e.g. "KEEPALIVE,THUMBNAIL"
}

// DefaultClientInfo returns the identity of a Drawpile 2.3.1 desktop client
// with the given system id (32 hex digits).
func DefaultClientInfo(systemID string) ClientInfo {
	return ClientInfo{
		AppVersion:      "2.3.1",
		ProtocolVersion: ProtocolVersion,
		QtVersion:       "5",
		OS:              "linux",
		SystemID:        systemID,
		MachineID:       base64.StdEncoding.EncodeToString([]byte("drawbridge-" + systemID)),
		Capabilities:    "KEEPALIVE,THUMBNAIL",
	}
}

func (ci ClientInfo) kwargs(dst map[string]any) map[string]any {
	if dst == nil {
		dst = make(map[string]any, 12)
	}
	set := func(k, v string) {
		if v != "" {
			dst[k] = v
		}
	}
	set("app_version", ci.AppVersion)
	set("protocol_version", ci.ProtocolVersion)
	set("qt_version", ci.QtVersion)
	set("os", ci.OS)
	set("s", ci.SystemID)
	set("m", ci.MachineID)
	set("capabilities", ci.Capabilities)
	return dst
}

// Options configure a Client.
type Options struct {
	Info   ClientInfo
	Logger *slog.Logger // nil: discard
}

type loginState uint8

const (
	stateGreeting   loginState = iota // waiting for the greeting
	stateLogin                        // greeting received, before ident
	stateIdentified                   // ident accepted, before host/join
	stateSession                      // hosted or joined
)

// Client is one connection to a Drawpile server. See the package comment for
// which goroutine may call what.
type Client struct {
	t    Transport
	log  *slog.Logger
	info ClientInfo // immutable after construction

	wmu  sync.Mutex // guards wbuf and serialises writes
	wbuf []byte

	userID atomic.Uint32 // own context id once in a session (read by senders)

	// Owned by the reading goroutine.
	state     loginState
	greeting  *Reply
	browser   bool
	ident     string
	userFlags []string
	sessions  []SessionInfo
	lookedUp  *SessionInfo
	join      *JoinInfo
	hosted    bool
	users     map[uint8]string // present users from Join/Leave in the history
	catch     catchup
	hist      histPos
}

// New returns a Client speaking over t. The client owns t: Close closes it.
func New(t Transport, opts Options) *Client {
	lg := opts.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	return &Client{t: t, log: lg, info: opts.Info, users: make(map[uint8]string)}
}

// Close closes the transport.
func (c *Client) Close() error { return c.t.Close() }

// Transport returns the client's transport.
func (c *Client) Transport() Transport { return c.t }

// Info returns the client info given at construction.
func (c *Client) Info() ClientInfo { return c.info }

// UserID returns the client's own context id, 0 before host/join succeeded.
// Safe from any goroutine.
func (c *Client) UserID() uint8 { return uint8(c.userID.Load()) }

// Greeting returns the server greeting (nil before ReadGreeting).
func (c *Client) Greeting() *Reply { return c.greeting }

// Browser reports whether the server treats this connection as a browser
// (from the cinfo reply).
func (c *Client) Browser() bool { return c.browser }

// Name returns the accepted username ("" before identOk).
func (c *Client) Name() string { return c.ident }

// UserFlags returns the user flags from the identOk reply.
func (c *Client) UserFlags() []string { return c.userFlags }

// JoinInfo returns the host/join result ("join" object), nil before.
func (c *Client) JoinInfo() *JoinInfo { return c.join }

// Sessions returns the current session list as received during login
// (initial list plus live updates).
func (c *Client) Sessions() []SessionInfo { return c.sessions }

// Session returns the listed session with the given id or alias.
func (c *Client) Session(idOrAlias string) (SessionInfo, bool) {
	for _, s := range c.sessions {
		if s.ID == idOrAlias || s.Alias != "" && s.Alias == idOrAlias {
			return s, true
		}
	}
	return SessionInfo{}, false
}

// Users returns a copy of the users present in the session, by context id,
// as announced by Join/Leave messages in the history.
func (c *Client) Users() map[uint8]string {
	m := make(map[uint8]string, len(c.users))
	for k, v := range c.users {
		m[k] = v
	}
	return m
}

// ReadGreeting reads the server's greeting (the first message) and checks
// that the server speaks protocol server version 4.
func (c *Client) ReadGreeting(ctx context.Context) (*Reply, error) {
	if c.state != stateGreeting {
		return nil, ErrState
	}
	r, err := c.awaitLogin(ctx, "greeting", false)
	if err != nil {
		return nil, err
	}
	if r.Type != "login" {
		return nil, &ProtocolError{Reason: fmt.Sprintf("greeting has type %q, want login", r.Type)}
	}
	if r.Version != ServerVersion {
		return nil, &ProtocolError{Reason: fmt.Sprintf("server protocol version %d, want %d", r.Version, ServerVersion)}
	}
	c.greeting = r
	c.state = stateLogin
	return r, nil
}

// HasFlag reports whether the greeting advertised the server flag f (e.g.
// "TLS", "MULTI", "AVATAR").
func (c *Client) HasFlag(f string) bool {
	return c.greeting != nil && hasString(c.greeting.Flags, f)
}

// StartTLS asks the server to switch to TLS and upgrades the transport
// (which must implement TLSUpgrader).
func (c *Client) StartTLS(ctx context.Context, cfg *tls.Config) error {
	up, ok := c.t.(TLSUpgrader)
	if !ok {
		return fmt.Errorf("client: transport %T cannot start TLS", c.t)
	}
	r, err := c.request(ctx, Command{Cmd: "startTls"})
	if err != nil {
		return err
	}
	if !r.StartTLS {
		return &ProtocolError{Reason: "startTls reply without startTls:true"}
	}
	return up.StartTLS(ctx, cfg)
}

// ClientInfo sends cinfo with the given host name (case-folded as the real
// client does) and returns whether the server treats the connection as a
// browser.
func (c *Client) ClientInfo(ctx context.Context, host string) (browser bool, err error) {
	if c.state != stateLogin {
		return false, ErrState
	}
	r, err := c.request(ctx, Command{Cmd: "cinfo", Args: []any{strings.ToLower(host), c.info.kwargs(nil)}})
	if err != nil {
		return false, err
	}
	if r.Cinfo == nil {
		return false, &ProtocolError{Reason: "cinfo reply without cinfo object"}
	}
	c.browser = r.Cinfo.Browser
	return c.browser, nil
}

// HostLookup holds the informational kwargs of a host lookup.
type HostLookup struct {
	Alias    string
	NSFM     bool
	Password bool // whether the session will have a password
}

// LookupHost announces the intent to host.
func (c *Client) LookupHost(ctx context.Context, hl HostLookup) error {
	if c.state != stateLogin {
		return ErrState
	}
	kw := map[string]any{"nsfm": hl.NSFM, "password": hl.Password}
	if hl.Alias != "" {
		kw["alias"] = hl.Alias
	}
	r, err := c.request(ctx, Command{Cmd: "lookup", Kwargs: kw})
	if err != nil {
		return err
	}
	if r.Lookup != "host" {
		return &ProtocolError{Reason: fmt.Sprintf("host lookup answered with lookup %q", r.Lookup)}
	}
	return nil
}

// LookupJoin announces the intent to join target ("<id or alias>" or
// "<id or alias>:<invite secret>", or "" for no particular session) and
// returns the looked-up session (nil for an empty target).
func (c *Client) LookupJoin(ctx context.Context, target string) (*SessionInfo, error) {
	if c.state != stateLogin {
		return nil, ErrState
	}
	r, err := c.request(ctx, Command{Cmd: "lookup", Args: []any{target}})
	if err != nil {
		return nil, err
	}
	if r.Lookup != "join" {
		return nil, &ProtocolError{Reason: fmt.Sprintf("join lookup answered with lookup %q", r.Lookup)}
	}
	c.lookedUp = r.Session
	return r.Session, nil
}

// IdentOptions are the arguments of ident (protocol.md §4.7).
type IdentOptions struct {
	Name     string
	Password string // account password; "" for guests
	Intent   string // "", "guest", "auth" or "extauth"
	Avatar   []byte // PNG; sent only when non-empty
	ExtAuth  string // extauth token
}

// Ident states (Reply.State of the ident result).
const (
	IdentOK             = "identOk"
	IdentNeedPassword   = "needPassword"
	IdentNeedExtAuth    = "needExtAuth"
	IdentIntentMismatch = "intentMismatch"
)

// Ident identifies the user. On identOk it also waits for the session list
// that follows. needPassword, needExtAuth and intentMismatch are returned
// as a reply with that State and no error; errors (badUsername,
// badPassword, …) are *ServerError.
func (c *Client) Ident(ctx context.Context, o IdentOptions) (*Reply, error) {
	if c.state != stateLogin {
		return nil, ErrState
	}
	args := []any{o.Name}
	if o.Password != "" {
		args = append(args, o.Password)
	}
	var kw map[string]any
	if o.Intent != "" || len(o.Avatar) > 0 || o.ExtAuth != "" {
		kw = map[string]any{}
		if o.Intent != "" {
			kw["intent"] = o.Intent
		}
		if len(o.Avatar) > 0 {
			kw["avatar"] = base64.StdEncoding.EncodeToString(o.Avatar)
		}
		if o.ExtAuth != "" {
			kw["extauth"] = o.ExtAuth
		}
	}
	r, err := c.request(ctx, Command{Cmd: "ident", Args: args, Kwargs: kw})
	if err != nil {
		return nil, err
	}
	if r.State != IdentOK {
		return r, nil
	}
	c.ident = r.Ident
	c.userFlags = r.Flags
	c.state = stateIdentified
	if _, err := c.WaitSessionUpdate(ctx); err != nil {
		return nil, fmt.Errorf("wait for session list: %w", err)
	}
	return r, nil
}

// WaitSessionUpdate reads the next session-list message (the initial list
// or a live update) during login and applies it to Sessions.
func (c *Client) WaitSessionUpdate(ctx context.Context) (*Reply, error) {
	if c.state != stateIdentified {
		return nil, ErrState
	}
	r, err := c.awaitLogin(ctx, "session list", true)
	if err != nil {
		return nil, err
	}
	if r.Type != "login" {
		return nil, &ProtocolError{Reason: fmt.Sprintf("unexpected %q while waiting for the session list", r.Type)}
	}
	return r, nil
}

// HostOptions are the arguments of host (protocol.md §4.9) plus the
// initial session configuration the real client sends right after a
// successful host.
type HostOptions struct {
	Protocol string // session protocol; default ProtocolVersion
	UserID   int    // own context id 1..254; default 1
	Alias    string
	Password string
	Web      *bool // "web" kwarg: allow browsers (honoured for WEBSESSION users)
	// Config, if not nil, is sent as sessionconf right after the host
	// result (title, NSFM, opword, …).
	Config *SessionConf
}

// Host creates a session. On success the session is initialising: send the
// initial canvas and then InitComplete.
func (c *Client) Host(ctx context.Context, o HostOptions) (*JoinInfo, error) {
	if c.state != stateIdentified {
		return nil, ErrState
	}
	kw := c.info.kwargs(nil)
	kw["protocol"] = cmp(o.Protocol, ProtocolVersion)
	uid := o.UserID
	if uid == 0 {
		uid = 1
	}
	kw["user_id"] = uid
	if o.Alias != "" {
		kw["alias"] = o.Alias
	}
	if o.Password != "" {
		kw["password"] = o.Password
	}
	if o.Web != nil {
		kw["web"] = *o.Web
	}
	r, err := c.request(ctx, Command{Cmd: "host", Kwargs: kw})
	if err != nil {
		return nil, err
	}
	if err := c.enterSession(r, "host"); err != nil {
		return nil, err
	}
	if o.Config != nil {
		if err := c.SessionConf(ctx, *o.Config); err != nil {
			return c.join, err
		}
	}
	return c.join, nil
}

// JoinOptions are the arguments of join (protocol.md §4.10).
type JoinOptions struct {
	Session  string // id or alias
	Password string // session password or invite secret
	Hidx     string // history index for a fast reconnect (see ResumeHidx)
	OldV     bool   // minor-incompatible client
}

// Join joins a session. A badPassword error is not fatal: Join may be
// called again with another password.
func (c *Client) Join(ctx context.Context, o JoinOptions) (*JoinInfo, error) {
	if c.state != stateIdentified {
		return nil, ErrState
	}
	kw := c.info.kwargs(nil)
	if o.Password != "" {
		kw["password"] = o.Password
	}
	if o.Hidx != "" {
		kw["hidx"] = o.Hidx
	}
	if o.OldV {
		kw["oldv"] = true
	}
	r, err := c.request(ctx, Command{Cmd: "join", Args: []any{o.Session}, Kwargs: kw})
	if err != nil {
		return nil, err
	}
	if err := c.enterSession(r, "join"); err != nil {
		return nil, err
	}
	return c.join, nil
}

func (c *Client) enterSession(r *Reply, want string) error {
	if r.State != want || r.Join == nil {
		return &ProtocolError{Reason: fmt.Sprintf("%s answered with state %q", want, r.State)}
	}
	if r.Join.User < 1 || r.Join.User > 254 {
		return &ProtocolError{Reason: fmt.Sprintf("server assigned user id %d outside 1..254", r.Join.User)}
	}
	c.join = r.Join
	c.hosted = want == "host"
	c.userID.Store(uint32(r.Join.User))
	c.state = stateSession
	c.sessions = nil // no longer updated
	return nil
}

// LoginOptions drive Login, the whole handshake in one call.
type LoginOptions struct {
	// HostName is the cinfo host name (default "127.0.0.1").
	HostName string
	// TLS is used when the server requires TLS (TCP transports only).
	TLS *tls.Config
	// NoCinfo and NoLookup skip the optional steps (a 2.2 client).
	NoCinfo, NoLookup bool
	Ident             IdentOptions
	// Exactly one of Host and Join must be set.
	Host *HostOptions
	Join *JoinOptions
}

// Login performs greeting, optional startTls, cinfo, lookup, ident and
// host or join.
func (c *Client) Login(ctx context.Context, o LoginOptions) (*JoinInfo, error) {
	if (o.Host == nil) == (o.Join == nil) {
		return nil, fmt.Errorf("client: login needs exactly one of Host and Join")
	}
	if _, err := c.ReadGreeting(ctx); err != nil {
		return nil, err
	}
	if c.HasFlag("TLS") {
		if o.TLS == nil {
			return nil, fmt.Errorf("client: server requires TLS and no TLS config was given")
		}
		if err := c.StartTLS(ctx, o.TLS); err != nil {
			return nil, err
		}
	}
	if !o.NoCinfo && c.HasFlag("CINFO") {
		if _, err := c.ClientInfo(ctx, cmp(o.HostName, "127.0.0.1")); err != nil {
			return nil, err
		}
	}
	if !o.NoLookup && c.HasFlag("LOOKUP") {
		var err error
		if o.Host != nil {
			err = c.LookupHost(ctx, HostLookup{Alias: o.Host.Alias, Password: o.Host.Password != ""})
		} else {
			_, err = c.LookupJoin(ctx, o.Join.Session)
		}
		if err != nil {
			return nil, err
		}
	}
	r, err := c.Ident(ctx, o.Ident)
	if err != nil {
		return nil, err
	}
	if r.State != IdentOK {
		return nil, &ProtocolError{Reason: fmt.Sprintf("ident ended in state %q", r.State)}
	}
	if o.Host != nil {
		return c.Host(ctx, *o.Host)
	}
	return c.Join(ctx, *o.Join)
}

// request sends a login command and waits for its result.
func (c *Client) request(ctx context.Context, cmd Command) (*Reply, error) {
	if err := c.SendCommand(ctx, cmd); err != nil {
		return nil, err
	}
	r, err := c.awaitLogin(ctx, cmd.Cmd, false)
	if err != nil {
		return nil, err
	}
	if r.Type != "result" {
		return nil, &ProtocolError{Reason: fmt.Sprintf("%s answered with %q, want result", cmd.Cmd, r.Type)}
	}
	return r, nil
}

// awaitLogin reads login-phase messages until a result or error, or (when
// wantList, or before the greeting) a login message. Session-list updates
// are applied on the way; pings are answered. As in Drawpile's client,
// other ServerCommand types during login are a protocol error.
func (c *Client) awaitLogin(ctx context.Context, what string, wantList bool) (*Reply, error) {
	for {
		f, err := c.t.ReadFrame(ctx)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", what, err)
		}
		switch f.Type() {
		case 0:
			r, err := ParseReply(f.Payload())
			if err != nil {
				return nil, err
			}
			c.log.Debug("login <--", "what", what, "json", string(r.Raw))
			switch r.Type {
			case "result":
				return r, nil
			case "error":
				return nil, &ServerError{Cmd: what, Code: r.Code, Message: r.Message}
			case "login":
				if c.state == stateGreeting {
					return r, nil
				}
				c.applySessionList(r)
				if wantList {
					return r, nil
				}
			default:
				return nil, &ProtocolError{Reason: fmt.Sprintf("unexpected %q message during login", r.Type)}
			}
		case 1:
			return nil, parseDisconnect(f)
		case 2:
			if err := c.answerPing(ctx, f); err != nil {
				return nil, err
			}
		default:
			// Anything else before login is meaningless; Drawpile ignores it.
		}
	}
}

func (c *Client) applySessionList(r *Reply) {
	for _, s := range r.Sessions {
		replaced := false
		for i := range c.sessions {
			if c.sessions[i].ID == s.ID {
				c.sessions[i] = s
				replaced = true
				break
			}
		}
		if !replaced {
			c.sessions = append(c.sessions, s)
		}
	}
	for _, id := range r.Remove {
		for i := range c.sessions {
			if c.sessions[i].ID == id || c.sessions[i].Alias == id {
				c.sessions = append(c.sessions[:i], c.sessions[i+1:]...)
				break
			}
		}
	}
}

func parseDisconnect(f protocol.Frame) error {
	p := f.Payload()
	if len(p) < 1 {
		return &ProtocolError{Reason: "empty Disconnect message"}
	}
	return &DisconnectError{Reason: p[0], Message: string(p[1:])}
}

func (c *Client) answerPing(ctx context.Context, f protocol.Frame) error {
	p := f.Payload()
	if len(p) != 1 {
		return &ProtocolError{Reason: fmt.Sprintf("Ping with %d payload bytes", len(p))}
	}
	if p[0] != 0 {
		return nil // a pong
	}
	return c.Send(ctx, protocol.Type(2), []byte{1})
}

// SendCommand sends a ServerCommand (type 0, ctx 0).
func (c *Client) SendCommand(ctx context.Context, cmd Command) error {
	pc, err := protocol.NewCommand(cmd.Cmd, cmd.Args, cmd.Kwargs)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	b, err := pc.Marshal()
	if err != nil {
		return fmt.Errorf("client: encode %s: %w", cmd.Cmd, err)
	}
	c.log.Debug("cmd -->", "json", string(b))
	return c.writeMessage(ctx, 0, 0, b)
}

func (c *Client) writeMessage(ctx context.Context, t protocol.Type, uctx uint8, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	b, err := protocol.AppendFrame(c.wbuf[:0], t, uctx, payload)
	if err != nil {
		return err
	}
	if cap(b) <= 8192 {
		c.wbuf = b // keep small buffers only: many idle bots
	}
	return c.t.WriteFrame(ctx, protocol.Frame(b))
}

func cmp(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

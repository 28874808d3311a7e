package session

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"drawbridge/protocol"
)

// Options configure a Server.
type Options struct {
	// Settings; start from DefaultSettings().
	Settings Settings
	// Auth checks account logins; nil = GuestsOnly.
	Auth Authenticator
	// Bans checks server-wide bans; nil = NoBans.
	Bans BanChecker
	// Logger receives lifecycle logs; nil = slog.Default().
	Logger *slog.Logger
	// Observer receives events for metrics; nil = none.
	Observer Observer
	// ExtAuth enables external authentication; nil = off.
	ExtAuth ExtAuth
	// LoginGuard rate-limits password attempts (account passwords, session
	// passwords, opwords) per client address; nil = unlimited, as upstream.
	LoginGuard LoginGuard
	// LocalHost is the server's public host name (--local-host): cinfo
	// host names are compared with it (requireMatchingHost). "" = none.
	LocalHost string
	// CryptKey is the 32-byte secretbox key for encrypted session ban
	// export and import (--crypt-key); nil = not configured. Any other
	// length is treated as not configured (the bridge refuses it at start).
	CryptKey []byte
}

// LoginGuard decides whether a client address may try a password now. It
// is called with session locks held: it must be cheap and must not block.
type LoginGuard interface {
	Attempt(addr netip.Addr) (ok bool, retryAfter time.Duration)
}

// Observer is told about server events worth counting. Its methods are
// called with session locks held: they must be cheap and must not block
// or call back into the server.
type Observer interface {
	// LoginFailed: a login ended with an error reply of this code.
	LoginFailed(code string)
	// CaughtUp: a joining client received the history up to its caughtup
	// marker, d after it joined.
	CaughtUp(d time.Duration)
	// SessionLog: an entry of a session's log (joins, kicks, bans, …) for
	// the server log (server.md §4.11).
	SessionLog(r LogRecord)
	// Chatted: a user said something in a session's public chat (for the
	// admin API's two-way chat).
	Chatted(sessionID string, userID uint8, name, text string)
	// Reported: a user sent an abuse report (the "report" command); the
	// observer forwards it if the server is configured to (§4.10).
	Reported(r AbuseReport)
}

// LogRecord is one session log entry.
type LogRecord struct {
	Session, Topic, Message string
	// User is the acting or affected user; zero ID and empty name = none.
	UserID   uint8
	UserName string
	UserAddr netip.Addr
}

// AbuseReport is what the "report" command carries, with the session's
// state at that moment.
type AbuseReport struct {
	Session, Title string
	Reporter       ReportUser
	Target         uint8 // reported user id, 0 = the session as a whole
	Message        string
	HistoryBytes   int64
	Users          []ReportUser
}

// ReportUser is one session member in an AbuseReport.
type ReportUser struct {
	ID       uint8
	Name     string
	Auth, Op bool
	Addr     netip.Addr
}

type noObserver struct{}

func (noObserver) LoginFailed(string)                    {}
func (noObserver) CaughtUp(time.Duration)                {}
func (noObserver) SessionLog(LogRecord)                  {}
func (noObserver) Reported(AbuseReport)                  {}
func (noObserver) Chatted(string, uint8, string, string) {}

// Server is the session registry: it accepts connections, runs their
// login and owns the live sessions.
type Server struct {
	// st holds the current settings. SetSettings replaces the whole value
	// (normalized); a stored Settings is never mutated, so readers may keep
	// the pointer for the duration of one operation.
	st atomic.Pointer[Settings]

	// Immutable after NewServer.
	observer Observer
	guard    LoginGuard // nil = unlimited
	extAuth  ExtAuth    // nil = off
	auth     Authenticator
	bans     BanChecker
	logger   *slog.Logger
	// localHost (normalized, see normalizeHost) and cryptKey (nil or 32
	// bytes) come from Options.
	localHost string
	cryptKey  *[32]byte

	serial    atomic.Uint64
	slowKicks atomic.Int64

	// stopCleanup ends the cleanup goroutine (started by NewServer only
	// when IdleTimeLimit > 0; it exits when Shutdown closes this channel).
	stopCleanup chan struct{}

	mu       sync.Mutex          // guards everything below; taken before Session.mu
	sessions map[string]*Session // by id
	byAlias  map[string]*Session // lower-case alias
	byCode   map[string]*Session // room code
	clients  map[*Client]struct{}
	watchers map[*Client]struct{} // identified, not yet in a session: get list updates
	closed   bool

	files   atomic.Pointer[fileStore] // file-backed sessions (persist.go); nil = in memory
	listing listingHub                // list server announcements (listing.go)
}

// NewServer returns a Server with no sessions.
func NewServer(opts Options) *Server {
	s := &Server{
		auth:     opts.Auth,
		observer: opts.Observer,
		guard:    opts.LoginGuard,
		extAuth:  opts.ExtAuth,
		bans:     opts.Bans,
		logger:   opts.Logger,
		sessions: map[string]*Session{},
		byAlias:  map[string]*Session{},
		byCode:   map[string]*Session{},
		clients:  map[*Client]struct{}{},
		watchers: map[*Client]struct{}{},
	}
	s.localHost = normalizeHost(opts.LocalHost)
	if len(opts.CryptKey) == len(s.cryptKey) {
		s.cryptKey = new([32]byte)
		copy(s.cryptKey[:], opts.CryptKey)
	}
	if s.auth == nil {
		s.auth = GuestsOnly{}
	}
	if s.bans == nil {
		s.bans = NoBans{}
	}
	if s.observer == nil {
		s.observer = noObserver{}
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	s.SetSettings(opts.Settings)
	s.stopCleanup = make(chan struct{})
	go s.cleanupLoop() // checks IdleTimeLimit on every round, so it follows live changes
	return s
}

// cleanupInterval is how often idle sessions are looked for (server.md §2.6).
const cleanupInterval = 15 * time.Second

// cleanupLoop ends sessions without new history for IdleTimeLimit.
func (srv *Server) cleanupLoop() {
	t := time.NewTicker(cleanupInterval)
	defer t.Stop()
	for {
		select {
		case <-srv.stopCleanup:
			return
		case <-t.C:
		}
		srv.kickSessionLess(time.Now())
		for _, s := range srv.Sessions() {
			st := srv.settings()
			s.lock()
			idle := st.IdleTimeLimit > 0 && time.Since(s.lastEvent) > st.IdleTimeLimit &&
				!(s.idleOverride && st.AllowIdleOverride) && s.state != StateShutdown
			s.mu.Unlock()
			if idle {
				s.terminate("Session terminated due to being idle too long", disconnectShutdown)
			}
		}
	}
}

// extAuthURL is the ext-auth URL while ext-auth is on, else "".
func (srv *Server) extAuthURL() string {
	if srv.extAuth == nil {
		return ""
	}
	return srv.extAuth.URL()
}

// Settings returns the server's current settings.
func (srv *Server) Settings() Settings { return *srv.settings() }

// settings returns the current settings; callers must not modify them.
func (srv *Server) settings() *Settings { return srv.st.Load() }

// SetSettings replaces the server's settings, e.g. after the admin API or
// a configuration reload changed them. Sessions read the new values at
// their next use, as drawpile-srv applies its settings live.
func (srv *Server) SetSettings(st Settings) {
	if st.SessionUserLimit < 2 || st.SessionUserLimit > 254 {
		st.SessionUserLimit = 254
	}
	if st.WriteTimeout <= 0 {
		st.WriteTimeout = 10 * time.Second
	}
	if st.BatchBytes <= 0 {
		st.BatchBytes = 256 * 1024
	}
	if st.QueueBytes <= 0 {
		st.QueueBytes = 8 * 1024 * 1024
	}
	if st.MaxLag <= 0 {
		st.MaxLag = 32 * 1024 * 1024
	}
	srv.st.Store(&st)
}

// SlowKicks returns how many clients were disconnected as slow consumers.
func (srv *Server) SlowKicks() int64 { return srv.slowKicks.Load() }

// ErrServerClosed is returned by Accept after Shutdown.
var ErrServerClosed = errors.New("session: server closed")

// Accept registers a new connection, starts its writer goroutine and
// sends the greeting (unless info.GreetingSent). The caller then feeds
// every received frame to Client.Receive and calls Client.Close when its
// read loop ends.
func (srv *Server) Accept(conn Conn, info ConnInfo) (*Client, error) {
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		srv:    srv,
		conn:   conn,
		info:   info,
		serial: srv.serial.Add(1),
		ctx:    ctx,
		cancel: cancel,
		done:   make(chan struct{}),
		wake:   make(chan struct{}, 1),
	}
	c.sessionless.Store(time.Now().UnixNano())
	c.logger = srv.logger.With("conn", c.serial, "transport", info.Transport, "addr", info.Addr.String())
	c.login.secure = info.Secure
	srv.mu.Lock()
	if srv.closed {
		srv.mu.Unlock()
		cancel()
		return nil, ErrServerClosed
	}
	srv.clients[c] = struct{}{}
	srv.mu.Unlock()
	c.logger.Debug("connection accepted")
	go c.writeLoop()
	if !info.GreetingSent {
		c.sendNow(jsonFrame(srv.Greeting(info)))
	}
	return c, nil
}

// Greeting returns the login greeting for a connection (§4.3).
func (srv *Server) Greeting(info ConnInfo) protocol.Greeting {
	st := srv.settings()
	var flags []string
	if st.SessionCountLimit > 1 {
		flags = append(flags, protocol.FlagMulti)
	}
	if st.Persistence {
		flags = append(flags, protocol.FlagPersist)
	}
	if info.TLS {
		flags = append(flags, protocol.FlagTLS, protocol.FlagSecure)
	}
	if !st.AllowGuests {
		flags = append(flags, protocol.FlagNoGuest)
	}
	if st.Reports {
		flags = append(flags, protocol.FlagReport)
	}
	if st.CustomAvatars {
		flags = append(flags, protocol.FlagAvatar)
	}
	if srv.cryptKey != nil {
		flags = append(flags, protocol.FlagCBanImpEx)
	}
	flags = append(flags, protocol.FlagMBanImpEx, protocol.FlagLookup, protocol.FlagCInfo)
	methods := map[string]protocol.LoginMethod{}
	if st.AllowGuests {
		actions := []string{"join"}
		if st.AllowGuestHosts {
			actions = append(actions, "host")
		}
		methods["guest"] = protocol.LoginMethod{Actions: actions}
	}
	if srv.auth.HasAccounts(context.Background()) {
		methods["auth"] = protocol.LoginMethod{Actions: []string{"join", "host"}}
	}
	if url := srv.extAuthURL(); url != "" {
		methods["extauth"] = protocol.LoginMethod{Actions: []string{"join", "host"}, URL: url}
	}
	return protocol.Greeting{
		Type:             protocol.ReplyLogin,
		Message:          st.ServerName,
		Version:          protocol.ServerVersion,
		Flags:            flags,
		Methods:          methods,
		PreferWebSockets: st.PreferWebSockets && st.WebSockets,
		Rules:            st.RuleText,
		Info:             st.LoginInfoURL,
	}
}

// Lookup finds a live session by id, alias or room code.
func (srv *Server) Lookup(idOrAlias string) *Session {
	srv.mu.Lock()
	s := srv.lookupLocked(idOrAlias)
	srv.mu.Unlock()
	if s == nil {
		s = srv.lookupTemplate(idOrAlias) // persist.go
	}
	return s
}

func (srv *Server) lookupLocked(key string) *Session {
	if key == "" {
		return nil
	}
	if s := srv.sessions[strings.ToLower(key)]; s != nil {
		return s
	}
	if s := srv.byAlias[strings.ToLower(key)]; s != nil {
		return s
	}
	if code, ok := normalizeRoomCode(key); ok {
		return srv.byCode[code]
	}
	return nil
}

// Sessions returns the live sessions.
func (srv *Server) Sessions() []*Session {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	out := make([]*Session, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		out = append(out, s)
	}
	return out
}

// watch adds an identified client to the session-list watchers and sends
// it the "Welcome" list.
func (srv *Server) watch(c *Client, emptyList bool) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	list := protocol.SessionList{Type: protocol.ReplyLogin, Message: "Welcome", Title: srv.settings().ServerTitle, Sessions: []protocol.SessionDesc{}}
	if !emptyList && !srv.settings().MandatoryLookup {
		for _, s := range srv.sessions {
			d := s.Desc()
			if d.Unlisted && !c.mod.Load() {
				continue
			}
			list.Sessions = append(list.Sessions, d)
		}
		list.Sessions = append(list.Sessions, srv.templateDescsLocked(c.mod.Load())...) // persist.go
	}
	if f, err := protocol.JSONFrame(list); err == nil {
		c.sendNow(f)
	} else {
		// Too big for one message: title first, then one per session.
		sessions := list.Sessions
		list.Sessions = []protocol.SessionDesc{}
		c.sendNow(jsonFrame(list))
		for _, d := range sessions {
			c.sendNow(jsonFrame(protocol.SessionList{Type: protocol.ReplyLogin, Message: "Welcome", Sessions: []protocol.SessionDesc{d}}))
		}
	}
	if !emptyList && !srv.settings().MandatoryLookup {
		srv.watchers[c] = struct{}{}
	}
}

func (srv *Server) unwatch(c *Client) {
	srv.mu.Lock()
	delete(srv.watchers, c)
	srv.mu.Unlock()
}

func (srv *Server) forgetClient(c *Client) {
	srv.mu.Lock()
	delete(srv.watchers, c)
	delete(srv.clients, c)
	srv.mu.Unlock()
}

// sessionChanged pushes a "New session" update for s to the watchers.
// Must be called without s.mu held.
func (srv *Server) sessionChanged(s *Session) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.sessions[s.id] != s || len(srv.watchers) == 0 {
		return
	}
	d := s.Desc()
	f := jsonFrame(protocol.SessionList{Type: protocol.ReplyLogin, Message: "New session", Sessions: []protocol.SessionDesc{d}})
	for c := range srv.watchers {
		if d.Unlisted && !c.mod.Load() {
			continue
		}
		c.sendNow(f)
	}
}

// removeSession unregisters s and tells the watchers.
func (srv *Server) removeSession(s *Session) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.sessions[s.id] != s {
		return
	}
	delete(srv.sessions, s.id)
	if s.alias != "" {
		delete(srv.byAlias, strings.ToLower(s.alias))
	}
	delete(srv.byCode, s.code)
	f := jsonFrame(protocol.SessionsRemoved{Type: protocol.ReplyLogin, Message: "Session ended", Remove: []string{s.id}})
	for c := range srv.watchers {
		c.sendNow(f)
	}
}

// errSessionLimit and errAliasInUse are createSession failures.
var (
	errSessionLimit = errors.New("session limit reached")
	errAliasInUse   = errors.New("alias in use")
)

// createSession registers a new session in StateInit.
func (srv *Server) createSession(founder, alias, proto string) (*Session, error) {
	now := time.Now()
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closed || (srv.settings().SessionCountLimit > 0 && len(srv.sessions) >= srv.settings().SessionCountLimit) {
		return nil, errSessionLimit
	}
	if alias != "" && srv.lookupLocked(alias) != nil {
		return nil, errAliasInUse
	}
	id := newULID(now)
	for srv.sessions[id] != nil {
		id = newULID(now)
	}
	code := newRoomCode()
	for srv.byCode[code] != nil {
		code = newRoomCode()
	}
	st := srv.settings()
	s := &Session{
		srv:            srv,
		id:             id,
		alias:          alias,
		code:           code,
		founder:        founder,
		protocol:       proto,
		startTime:      now,
		state:          StateInit,
		startID:        now.UnixMilli(),
		grew:           make(chan struct{}),
		users:          map[uint8]*Client{},
		nameIDs:        map[string]uint8{},
		maxUsers:       st.SessionUserLimit,
		resetThreshold: st.AutoResetThreshold,
		nsfm:           st.ForceNsfm,
		invites:        map[string]*invite{},
		catchKey:       1000000,
		lastEvent:      now,
		nextBanID:      1,
	}
	s.logger = srv.logger.With("session", id, "alias", alias, "code", code)
	if err := srv.createFileLocked(s); err != nil {
		return nil, err
	}
	srv.sessions[id] = s
	if alias != "" {
		srv.byAlias[strings.ToLower(alias)] = s
	}
	srv.byCode[code] = s
	return s, nil
}

// Shutdown ends every session (Disconnect reason Shutdown to every user),
// refuses new connections and closes every connection. It waits for the
// writers until ctx is done.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.mu.Lock()
	if !srv.closed {
		close(srv.stopCleanup)
	}
	srv.closed = true
	sessions := make([]*Session, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		sessions = append(sessions, s)
	}
	clients := make([]*Client, 0, len(srv.clients))
	for c := range srv.clients {
		clients = append(clients, c)
	}
	srv.mu.Unlock()
	for _, s := range sessions {
		s.terminate("The server is shutting down", disconnectShutdown)
	}
	for _, c := range clients {
		c.disconnect(disconnectShutdown, "Server shutting down")
	}
	for _, c := range clients {
		select {
		case <-c.done:
		case <-ctx.Done():
			for _, c := range clients {
				c.fail(CloseShutdown, "server shutdown")
			}
			return ctx.Err()
		}
	}
	return nil
}

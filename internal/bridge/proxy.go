package bridge

// Proxy mode (issue #8): the bridge relays browsers to existing Drawpile
// servers that only speak TCP. The relay itself is internal/wsproxy; this
// file holds its configuration, flags and HTTP routes:
//
//	GET /proxy/ws?host=H[&port=P]     WebSocket relayed to upstream H:P
//	GET /proxy/ws?room=CODE           … to the upstream of an operator room
//	GET /join?host=H[&port=P]&session=S[#password]
//	GET /join?room=CODE               the web client's page (index.html); it
//	                                  reads the query itself (client.md §2.1)
//	GET /api/proxy/resolve?link=URL | ?host=H&port=P&session=S | ?room=CODE
//	                                  → {"host","port","session","invite",
//	                                     "ws","join"} or {"error","code"}
//	GET /api/proxy/upstreams          → {"upstreams":["host:port",…]}
//
// Each client address may hold at most LimitsConfig.MaxProxyPerIP relays
// (429 beyond; a standalone ProxyHandler is unlimited).
//
// Never an open proxy: every upstream must be on the --upstream allowlist
// (default: empty, so nothing is proxied); a refused upstream gets a clear
// error and no connection attempt.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/go-chi/chi/v5"

	"drawbridge/internal/wsproxy"
	"drawbridge/internal/wsproxy/links"
	"drawbridge/web"
)

// ProxyConfig configures proxy mode. The zero value allows no upstream
// (the routes exist but refuse every target).
type ProxyConfig struct {
	// Upstreams is the allowlist of host[:port] (--upstream, repeatable);
	// a host without a port means port 27750 only.
	Upstreams []string
	// PinFile keeps trust-on-first-use TLS pins of upstreams
	// (--proxy-pins); empty keeps them in memory (lost at restart).
	PinFile string
	// Rooms are operator room codes, CODE=host[:port]/session
	// (--proxy-room, repeatable); their upstreams must be allowlisted.
	// More rooms can be added at run time through the admin API
	// (/api/proxyrooms, proxyrooms.go).
	Rooms []string
	// Timeouts (zero: wsproxy's defaults): connect, every write, upstream
	// silence, and the keepalive interval on both sides.
	DialTimeout, WriteTimeout, UpstreamTimeout, PingInterval time.Duration
}

// listFlag is a repeatable string flag.
type listFlag struct {
	dst   *[]string
	check func(string) error
}

func (l listFlag) String() string {
	if l.dst == nil {
		return ""
	}
	return strings.Join(*l.dst, ",")
}

func (l listFlag) Set(v string) error {
	if err := l.check(v); err != nil {
		return err
	}
	*l.dst = append(*l.dst, strings.TrimSpace(v))
	return nil
}

// RegisterProxyFlags adds the proxy flags to fs, filling c.
func RegisterProxyFlags(fs *flag.FlagSet, c *ProxyConfig) {
	fs.Var(listFlag{&c.Upstreams, func(v string) error { _, err := wsproxy.ParseTarget(v); return err }}, "upstream",
		"allow proxying browsers to this Drawpile server, host[:port] (repeatable; default: none)")
	fs.StringVar(&c.PinFile, "proxy-pins", "", "file keeping the TLS certificate pins of upstream servers (default: memory only)")
	fs.Var(listFlag{&c.Rooms, func(v string) error { _, err := links.ParseRoom(v); return err }}, "proxy-room",
		"room code for an upstream session, CODE=host[:port]/session (repeatable)")
	fs.DurationVar(&c.UpstreamTimeout, "proxy-upstream-timeout", 0, "close a proxied connection when the upstream is silent this long (default 60s)")
}

// Validate checks the configuration: parseable upstreams and rooms, and
// every room's upstream on the allowlist.
func (c ProxyConfig) Validate() error {
	_, _, err := c.parse()
	return err
}

func (c ProxyConfig) parse() (wsproxy.Allowlist, map[string]links.Room, error) {
	allow, err := wsproxy.NewAllowlist(c.Upstreams)
	if err != nil {
		return allow, nil, fmt.Errorf("proxy: --upstream: %w", err)
	}
	rooms := make(map[string]links.Room, len(c.Rooms))
	for _, spec := range c.Rooms {
		rm, err := links.ParseRoom(spec)
		if err != nil {
			return allow, nil, fmt.Errorf("proxy: --proxy-room: %w", err)
		}
		t := wsproxy.Target{Host: rm.Link.Host, Port: rm.Link.Port}
		if !allow.Allows(t) {
			return allow, nil, fmt.Errorf("proxy: room %s points at %s, which is not an allowed --upstream", rm.Code, t)
		}
		code := strings.ToLower(rm.Code)
		if _, dup := rooms[code]; dup {
			return allow, nil, fmt.Errorf("proxy: room code %s defined twice", rm.Code)
		}
		rooms[code] = rm
	}
	return allow, rooms, nil
}

// ProxyHandler serves the proxy routes. Bridge mounts them on its own
// router (proxyRoutes); NewProxyHandler makes a standalone one (tests,
// embedding). Safe for concurrent use.
type ProxyHandler struct {
	// Immutable after construction.
	proxy   *wsproxy.Proxy
	cli     map[string]bool // lower-case codes of --proxy-room (not editable)
	ups     []string
	origins []string
	logger  *slog.Logger
	mux     chi.Router
	track   func(closer) bool
	untrack func(closer)
	// acquire reserves a slot of the per-address proxy limit for the
	// request's client (nil: unlimited, as for a standalone handler).
	acquire func(*http.Request) (release func(), ok bool)

	// Room codes: --proxy-room plus those added through the admin API
	// (proxyrooms.go).
	roomsMu sync.RWMutex
	rooms   map[string]roomEntry // guarded by roomsMu; by lower-case code
	persist RoomStore            // immutable once mounted; nil = memory only

	// Standalone registry (used when not mounted on a Bridge).
	mu     sync.Mutex // guards conns and closed
	conns  map[closer]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewProxyHandler returns a standalone handler for the proxy routes.
// origins are extra allowed Origin patterns (see Config.AllowedOrigins).
// Close ends its live relays.
func NewProxyHandler(cfg ProxyConfig, origins []string, logger *slog.Logger) (*ProxyHandler, error) {
	h, err := newProxyHandler(cfg, origins, logger)
	if err != nil {
		return nil, err
	}
	h.conns = map[closer]struct{}{}
	h.track = h.trackLocal
	h.untrack = h.untrackLocal
	h.mux = chi.NewRouter()
	h.mount(h.mux)
	return h, nil
}

func newProxyHandler(cfg ProxyConfig, origins []string, logger *slog.Logger) (*ProxyHandler, error) {
	if logger == nil {
		logger = slog.Default()
	}
	allow, rooms, err := cfg.parse()
	if err != nil {
		return nil, err
	}
	pins, err := wsproxy.OpenPins(cfg.PinFile)
	if err != nil {
		return nil, err
	}
	var ups []string
	for _, u := range cfg.Upstreams {
		t, _ := wsproxy.ParseTarget(u) // validated by parse
		ups = append(ups, t.Addr())
	}
	sort.Strings(ups)
	p := wsproxy.New(wsproxy.Config{
		Allowlist: allow, Pins: pins,
		DialTimeout: cfg.DialTimeout, WriteTimeout: cfg.WriteTimeout,
		UpstreamTimeout: cfg.UpstreamTimeout, PingInterval: cfg.PingInterval,
		Logger: logger.With("component", "proxy"),
	})
	h := &ProxyHandler{proxy: p, cli: map[string]bool{}, rooms: map[string]roomEntry{}, ups: ups, origins: origins, logger: logger}
	for code, rm := range rooms {
		h.cli[code] = true
		h.rooms[code] = roomEntry{Room: rm, source: RoomSourceCLI}
	}
	return h, nil
}

// ServeHTTP serves the standalone handler's routes.
func (h *ProxyHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Pins returns the pin store (an admin page may list or delete pins).
func (h *ProxyHandler) Pins() *wsproxy.PinStore { return h.proxy.Pins() }

// Close ends every relay of a standalone handler (the browsers get
// Disconnect(Shutdown)) and waits for them.
func (h *ProxyHandler) Close() {
	h.mu.Lock()
	h.closed = true
	conns := make([]closer, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.forceClose()
	}
	h.wg.Wait()
}

func (h *ProxyHandler) trackLocal(c closer) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.conns[c] = struct{}{}
	h.wg.Add(1)
	return true
}

func (h *ProxyHandler) untrackLocal(c closer) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	h.wg.Done()
}

// proxyRoutes mounts the proxy endpoints on the bridge's router. The
// WebSocket route must not get timeout or compression middleware. An
// invalid configuration (normally caught by Validate at start) leaves the
// routes answering 503.
func (b *Bridge) proxyRoutes(r chi.Router, cfg ProxyConfig) {
	h, err := newProxyHandler(cfg, b.origins, b.logger)
	if err != nil {
		b.logger.Error("proxy mode disabled: invalid configuration", "err", err)
		off := func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "proxy mode is misconfigured on this bridge", http.StatusServiceUnavailable)
		}
		r.Get("/proxy/ws", off)
		r.Get("/join", off)
		r.Get("/api/proxy/*", off)
		return
	}
	h.track, h.untrack = b.track, b.untrack
	h.loadStoredRooms(b.store)
	b.proxy.Store(h)
	lim := b.cfg.Limits.MaxProxyPerIP
	acq := b.limitedAcquire(newConnLimiter(b.cfg.Limits, lim, b.cfg.TrustedProxies), "proxy", lim)
	h.acquire = func(r *http.Request) (func(), bool) { return acq(b.remoteAddr(r)) }
	h.mount(r)
	if len(h.ups) > 0 {
		b.logger.Info("proxy mode", "upstreams", h.ups, "rooms", len(h.Rooms()))
	}
}

func (h *ProxyHandler) mount(r chi.Router) {
	r.Get("/proxy/ws", h.serveWS)
	r.Get("/join", h.serveJoinPage)
	r.Get("/api/proxy/resolve", h.serveResolve)
	r.Get("/api/proxy/upstreams", h.serveUpstreams)
}

// proxyConn is a live relay, closable at shutdown.
type proxyConn struct{ cancel context.CancelFunc }

// forceClose cancels the relay: it sends the browser Disconnect(Shutdown)
// and closes both sides.
func (c *proxyConn) forceClose() { c.cancel() }

// resolved is a request's target: from a room, a link or host/port/session.
type resolved struct {
	Host    string `json:"host"`
	Port    int    `json:"port"`
	Session string `json:"session,omitempty"`
	Invite  string `json:"invite,omitempty"`
	Room    string `json:"room,omitempty"`
	WS      string `json:"ws"`   // WebSocket path on this bridge
	Join    string `json:"join"` // page path on this bridge
}

// resolveError is an HTTP-level refusal.
type resolveError struct {
	status int
	code   string
	msg    string
}

func (e *resolveError) Error() string { return e.msg }

// resolve reads ?room=, ?link= or ?host=&port=&session= and checks the
// allowlist (without connecting anywhere).
func (h *ProxyHandler) resolve(q url.Values) (resolved, *resolveError) {
	var l links.Link
	room := ""
	switch {
	case q.Get("room") != "":
		rm, ok := h.room(q.Get("room"))
		if !ok {
			return resolved{}, &resolveError{http.StatusNotFound, "roomNotFound", "No such room on this bridge."}
		}
		l, room = rm.Link, rm.Code
	case q.Get("link") != "":
		var err error
		if l, err = links.Parse(q.Get("link")); err != nil {
			return resolved{}, &resolveError{http.StatusBadRequest, "badLink", err.Error()}
		}
	case q.Get("host") != "":
		hp := q.Get("host")
		if p := q.Get("port"); p != "" {
			if strings.Count(hp, ":") > 0 {
				hp = "[" + strings.Trim(hp, "[]") + "]"
			}
			hp += ":" + p
		}
		host, port, err := links.ParseHostPort(hp)
		if err != nil {
			return resolved{}, &resolveError{http.StatusBadRequest, "badHost", "Invalid host: " + err.Error()}
		}
		l = links.Link{Host: host, Port: port}
		if s := q.Get("session"); s != "" {
			if i := strings.LastIndexByte(s, ':'); i >= 0 {
				l.Session, l.Invite = s[:i], s[i+1:]
			} else {
				l.Session = s
			}
		}
	default:
		return resolved{}, &resolveError{http.StatusBadRequest, "badRequest", "Give a room, a link, or a host and session."}
	}
	t := wsproxy.Target{Host: l.Host, Port: l.Port}
	if !h.proxy.Allows(t) {
		return resolved{}, &resolveError{http.StatusForbidden, wsproxy.CodeNotAllowed,
			fmt.Sprintf("This bridge does not connect to %s: the server is not on its list of allowed upstream servers.", t)}
	}
	wsq := url.Values{}
	if room != "" {
		wsq.Set("room", room)
	} else {
		wsq.Set("host", l.Host)
		wsq.Set("port", strconv.Itoa(l.Port))
	}
	join := l.JoinPath()
	if i := strings.IndexByte(join, '#'); i >= 0 {
		join = join[:i] // never echo a password
	}
	if room != "" {
		join = "/join?room=" + url.QueryEscape(room)
	}
	return resolved{Host: l.Host, Port: l.Port, Session: l.Session, Invite: l.Invite, Room: room,
		WS: "/proxy/ws?" + wsq.Encode(), Join: join}, nil
}

func (h *ProxyHandler) serveResolve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	res, rerr := h.resolve(r.URL.Query())
	if rerr != nil {
		w.WriteHeader(rerr.status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": rerr.msg, "code": rerr.code})
		return
	}
	_ = json.NewEncoder(w).Encode(res)
}

func (h *ProxyHandler) serveUpstreams(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	ups := h.ups
	if ups == nil {
		ups = []string{}
	}
	_ = json.NewEncoder(w).Encode(map[string][]string{"upstreams": ups})
}

// serveJoinPage serves the web client's page for a proxied join; the page
// reads host/port/session (or room) from its own URL and the password from
// the fragment, which never reaches the server.
func (h *ProxyHandler) serveJoinPage(w http.ResponseWriter, r *http.Request) {
	if _, rerr := h.resolve(r.URL.Query()); rerr != nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(rerr.status)
		_, _ = fmt.Fprintln(w, rerr.msg)
		return
	}
	page, err := fs.ReadFile(web.FS(), "index.html")
	if err != nil {
		http.Error(w, "web client not built", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(page)
}

// serveWS accepts the browser's WebSocket and relays it. Refusals happen
// after the upgrade, as protocol messages, because browsers hide HTTP
// error statuses of WebSocket handshakes from pages.
func (h *ProxyHandler) serveWS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Server", "drawbridge")
	q := r.URL.Query()
	var t wsproxy.Target
	var terr error
	if code := q.Get("room"); code != "" {
		rm, ok := h.room(code)
		if !ok {
			http.Error(w, "no such room", http.StatusNotFound)
			return
		}
		t = wsproxy.Target{Host: rm.Link.Host, Port: rm.Link.Port}
	} else {
		hp := q.Get("host")
		if p := q.Get("port"); p != "" {
			if strings.Count(hp, ":") > 0 {
				hp = "[" + strings.Trim(hp, "[]") + "]"
			}
			hp += ":" + p
		}
		t, terr = wsproxy.ParseTarget(hp)
	}
	if terr != nil {
		http.Error(w, terr.Error(), http.StatusBadRequest)
		return
	}
	if h.acquire != nil {
		release, ok := h.acquire(r)
		if !ok {
			tooManyConns(w)
			return
		}
		defer release()
	}
	ws, sock, err := acceptWS(w, r, h.origins)
	if err != nil {
		h.logger.Debug("proxy websocket accept failed", "err", err, "origin", r.Header.Get("Origin"))
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pc := &proxyConn{cancel: cancel}
	if !h.track(pc) {
		_ = ws.Close(websocket.StatusGoingAway, "bridge shutting down")
		return
	}
	defer h.untrack(pc)
	// The relay sends each batch of upstream messages with one socket
	// write through sock (wscork.go).
	err = h.proxy.Serve(ctx, ws, t, wsproxy.ServeOptions{Browser: r.Header.Get("Origin") != "", Client: r.RemoteAddr, Writer: sock})
	var pe *wsproxy.Error
	if err != nil && !errors.As(err, &pe) {
		h.logger.Error("proxy relay failed", "upstream", t.Addr(), "err", err)
	}
}

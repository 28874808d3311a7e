package bridge

// The admin listener: drawpile-srv's web admin REST API and the built-in
// admin page (internal/admin), /metrics, /healthz and /readyz, on their own
// listener with a connection access filter (server.md §1.1, §3.1).
//
// Goroutines: StartAdmin starts one serve goroutine, registered with the
// Bridge (track/untrack) so that Bridge.Close also stops it; Close on the
// AdminServer stops it earlier.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"drawbridge/internal/admin"
	"drawbridge/internal/metrics"
	"drawbridge/internal/store"
)

// AdminConfig configures the admin listener. The zero value disables it.
type AdminConfig struct {
	// Port is --web-admin-port (0 = no admin listener, as upstream).
	Port int
	// Listen is --web-admin-listen, the bind address. Default: 127.0.0.1
	// when Access is loopback-only (the default), else all interfaces.
	Listen string
	// Access is --web-admin-access: "" or "loopback" (default: loopback
	// clients only), "all", or comma-separated subnets such as
	// "192.168.1.0/24" that are allowed in addition to loopback.
	Access string
	// Auth is --web-admin-auth "user:password" (HTTP Basic); "" = none.
	// cmd/bridge fills it from DRAWPILESRV_WEB_ADMIN_AUTH when the flag
	// is absent (libraries do not read the environment).
	Auth string
	// AllowedOrigin is --web-admin-allowed-origin: sent as
	// Access-Control-Allow-Origin on every admin response.
	AllowedOrigin string
	// Addr, when set, is the exact listen address (host:port, port 0
	// allowed) and overrides Port and Listen; for tests and embedding.
	Addr string

	// Store holds settings, accounts, bans, log and locks; nil = a fresh
	// in-memory store (changes are lost at exit).
	Store admin.Store
	// Metrics is exposed at /metrics; nil = a registry with the session
	// gauges only.
	Metrics *metrics.Registry
	// FetchExtBans fetches the external ban list for
	// POST /api/extbans/refresh (nil = refresh unavailable).
	FetchExtBans store.FetchFunc
	// SettingsChanged is called after the admin API changed settings.
	SettingsChanged func()
	// ExtHost is the public host name reported by /api/status (--local-host).
	ExtHost string
}

// registerAdminFlags adds the --web-admin-* flags to fs.
func registerAdminFlags(fs *flag.FlagSet, c *AdminConfig) {
	fs.IntVar(&c.Port, "web-admin-port", 0, "port of the HTTP admin API and admin page (0 = off)")
	fs.StringVar(&c.Listen, "web-admin-listen", "", "admin listener bind address (default 127.0.0.1, or all interfaces when --web-admin-access allows more)")
	fs.StringVar(&c.Access, "web-admin-access", "loopback", "who may use the admin API: loopback, all, or comma-separated subnets allowed in addition to loopback")
	fs.StringVar(&c.Auth, "web-admin-auth", "", "user:password for HTTP Basic authentication of the admin API (or DRAWPILESRV_WEB_ADMIN_AUTH)")
	fs.StringVar(&c.AllowedOrigin, "web-admin-allowed-origin", "", "Access-Control-Allow-Origin value for admin API responses")
}

// RegisterAdminFlags is registerAdminFlags for callers outside the
// package (cmd/bridge and tests).
func RegisterAdminFlags(fs *flag.FlagSet, c *AdminConfig) { registerAdminFlags(fs, c) }

// Validate checks the admin flags.
func (c AdminConfig) Validate() error {
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("invalid --web-admin-port %d", c.Port)
	}
	if _, err := parseAccess(c.Access); err != nil {
		return err
	}
	if c.Auth != "" {
		if u, _, ok := strings.Cut(c.Auth, ":"); !ok || u == "" {
			return errors.New("--web-admin-auth must be user:password")
		}
	}
	return nil
}

func (c AdminConfig) enabled() bool { return c.Port > 0 || c.Addr != "" }

// listenAddr is the address the admin listener binds.
func (c AdminConfig) listenAddr() string {
	if c.Addr != "" {
		return c.Addr
	}
	host := c.Listen
	if host == "" {
		if rule, err := parseAccess(c.Access); err == nil && !rule.all && len(rule.nets) == 0 {
			host = "127.0.0.1"
		}
	}
	return net.JoinHostPort(host, strconv.Itoa(c.Port))
}

// accessRule says which client addresses may use the admin listener.
// Loopback is always allowed.
type accessRule struct {
	all  bool
	nets []netip.Prefix
}

func parseAccess(s string) (accessRule, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "", "loopback":
		return accessRule{}, nil
	case "all":
		return accessRule{all: true}, nil
	}
	var r accessRule
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			a, err2 := netip.ParseAddr(part)
			if err2 != nil {
				return r, fmt.Errorf("invalid --web-admin-access %q: want loopback, all or addr/prefix", part)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		r.nets = append(r.nets, p.Masked())
	}
	return r, nil
}

func (r accessRule) allows(remote string) bool {
	if r.all {
		return true
	}
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return false
	}
	a := ap.Addr().Unmap()
	if a.IsLoopback() {
		return true
	}
	for _, p := range r.nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// filter refuses clients outside the access rule with 403.
func (r accessRule) filter(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !r.allows(req.RemoteAddr) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"status":"error","message":"Access denied"}` + "\n"))
			return
		}
		next.ServeHTTP(w, req)
	})
}

// AdminServer is a running admin listener.
type AdminServer struct {
	// Immutable after StartAdmin.
	b       *Bridge
	ln      net.Listener
	httpSrv *http.Server
	api     *admin.API
	ownSt   *store.Store // closed by Close when StartAdmin opened it
	closeMu sync.Once
}

// Addr returns the admin listener's address.
func (a *AdminServer) Addr() string { return a.ln.Addr().String() }

// API returns the admin API handler.
func (a *AdminServer) API() *admin.API { return a.api }

// Close stops the admin listener (idempotent).
func (a *AdminServer) Close() error {
	var err error
	a.closeMu.Do(func() {
		err = a.httpSrv.Close()
		if a.ownSt != nil {
			_ = a.ownSt.Close()
		}
	})
	return err
}

// forceClose lets Bridge.Close stop the admin listener.
func (a *AdminServer) forceClose() { _ = a.Close() }

// startAdmin starts the admin listener if cfg enables it (nil otherwise).
func startAdmin(ctx context.Context, b *Bridge, cfg AdminConfig) (*AdminServer, error) {
	if !cfg.enabled() {
		return nil, nil
	}
	return StartAdmin(ctx, b, cfg)
}

// StartAdmin starts the admin listener for b on cfg's address (even when
// cfg.Port is 0, if cfg.Addr is set). Bridge.Close stops it too.
func StartAdmin(ctx context.Context, b *Bridge, cfg AdminConfig) (*AdminServer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rule, _ := parseAccess(cfg.Access)
	logger := b.logger.With("component", "admin")
	a := &AdminServer{b: b}
	st := cfg.Store
	if st == nil {
		s, err := store.Open(ctx, store.Options{Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("admin: open in-memory store: %w", err)
		}
		a.ownSt, st = s, s
	}
	reg := cfg.Metrics
	if reg == nil {
		reg = b.defaultMetrics()
	}
	extPort := 0
	if ap, err := netip.ParseAddrPort(b.TCPAddr()); err == nil {
		extPort = int(ap.Port())
	}
	api, err := admin.New(admin.Options{
		Server:          b.srv,
		Store:           st,
		Auth:            cfg.Auth,
		AllowedOrigin:   cfg.AllowedOrigin,
		Started:         time.Now(),
		ExtHost:         cfg.ExtHost,
		ExtPort:         extPort,
		Features:        store.APIContext{WebSocket: true, LocalHost: cfg.ExtHost != ""},
		FetchExtBans:    cfg.FetchExtBans,
		SettingsChanged: cfg.SettingsChanged,
		Thumbnail:       b.SessionThumbnail,
		ProxyRooms:      proxyRoomsAPI{b},
		Logger:          logger,
	})
	if err != nil {
		a.closeStore()
		return nil, err
	}
	a.api = api
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", b.serveHealthz)
	mux.HandleFunc("GET /readyz", b.serveReadyz)
	mux.Handle("GET /metrics", metricsHandler(reg))
	mux.Handle("/", api)
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.listenAddr())
	if err != nil {
		a.closeStore()
		return nil, fmt.Errorf("listen admin: %w", err)
	}
	a.ln = ln
	a.httpSrv = &http.Server{
		Handler:           rule.filter(mux),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	if !b.track(a) {
		ln.Close()
		a.closeStore()
		return nil, errors.New("admin: bridge is closed")
	}
	b.admin.CompareAndSwap(nil, a)
	logger.Info("admin API listening", "addr", ln.Addr().String(), "access", cfg.Access, "auth", cfg.Auth != "")
	go func() {
		defer b.untrack(a)
		if err := a.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("admin server stopped", "err", err)
		}
	}()
	return a, nil
}

func (a *AdminServer) closeStore() {
	if a.ownSt != nil {
		_ = a.ownSt.Close()
	}
}

// defaultMetrics returns a registry with gauges read from the session
// server at scrape time.
func (b *Bridge) defaultMetrics() *metrics.Registry {
	reg := &metrics.Registry{}
	reg.NewGaugeFunc("drawbridge_sessions", "Live sessions.", func() float64 { return float64(len(b.srv.Sessions())) })
	reg.NewGaugeFunc("drawbridge_connections", "Open client connections (in a session or not).", func() float64 {
		return float64(b.srv.ClientCount())
	})
	reg.NewGaugeFunc("drawbridge_session_users", "Users in sessions.", func() float64 {
		n := 0
		for _, s := range b.srv.Sessions() {
			n += s.Desc().UserCount
		}
		return float64(n)
	})
	reg.NewGaugeFunc("drawbridge_history_bytes", "Total history size of all sessions in bytes.", func() float64 {
		var n int64
		for _, s := range b.srv.Sessions() {
			n += s.Desc().Size
		}
		return float64(n)
	})
	reg.NewGaugeFunc("drawbridge_slow_client_disconnects", "Clients disconnected as slow consumers since start.", func() float64 {
		return float64(b.srv.SlowKicks())
	})
	return reg
}

func metricsHandler(reg *metrics.Registry) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", metrics.ContentType)
		_, _ = reg.WriteTo(w)
	})
}

// serveHealthz answers 200 while the process serves HTTP (liveness).
func (b *Bridge) serveHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// serveReadyz answers 200 when the bridge accepts clients, 503 once it is
// shutting down (readiness).
func (b *Bridge) serveReadyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("shutting down\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// healthRoutes mounts /healthz and /readyz on a router (for the public
// HTTP listener's routes; the admin listener serves them too).
func (b *Bridge) healthRoutes(r interface {
	Get(pattern string, h http.HandlerFunc)
}) {
	r.Get("/healthz", b.serveHealthz)
	r.Get("/readyz", b.serveReadyz)
}

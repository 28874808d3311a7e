// Package bridge wires the Drawbridge server together: the TCP listener for
// Drawpile clients (4-byte framing, in-band STARTTLS), the HTTP listener
// with WebSocket endpoints (/ws and /drawpile-web/ws), the room-code API,
// static files of the web client, and graceful shutdown. Session logic
// lives in internal/session; this package only adapts transports to its
// Conn interface. It does not render.
//
// Goroutines: one accept loop per listener; per TCP connection one reader
// goroutine (which also runs the session login) plus the session's writer
// goroutine; per WebSocket connection the HTTP handler goroutine is the
// reader. All of them are tracked by Bridge.wg and finished by Close.
package bridge

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"

	"drawbridge/internal/auth"
	"drawbridge/internal/listing"
	"drawbridge/internal/session"
	"drawbridge/internal/store"
	"drawbridge/internal/systemd"
	"drawbridge/internal/webassets"
	"drawbridge/web"
)

// Bridge is a running server.
type Bridge struct {
	// Immutable after Start.
	cfg     Config
	logger  *slog.Logger
	srv     *session.Server
	tcpLn   net.Listener
	httpLn  net.Listener
	httpSrv *http.Server
	tlsConf *tls.Config // nil without certificates
	origins []string
	store   *store.Store
	ownSt   bool                        // Close closes store
	admin   atomic.Pointer[AdminServer] // the first admin listener started; nil without one
	bgStop  func()                      // cancels the background goroutines (config watch, settings sync, watchdog)
	notify  *systemd.Notifier
	syncMu  sync.Mutex // serializes syncSettings so an older snapshot never replaces a newer one
	metrics *bridgeMetrics
	events  *events            // session.Observer: metrics, server log, abuse reports
	assets  *webassets.Handler // the web client's static files

	listing *listing.Announcer // list server announcements (listing.go); set by Start

	watch     *watchHub // spectators and mirrors; created by watchHub()
	watchOnce sync.Once
	proxy     atomic.Pointer[ProxyHandler] // the mounted proxy routes (nil until routes, or when misconfigured)

	connLimit  *auth.ConnLimiter  // nil = unlimited
	loginLimit *auth.LoginLimiter // nil = unlimited
	tcpM       *transportMetrics
	wsM        *transportMetrics

	wg sync.WaitGroup // accept loops, connection and background goroutines

	mu     sync.Mutex // guards conns and closed
	conns  map[closer]struct{}
	closed bool
}

// closer is a live connection the bridge can force closed at shutdown.
type closer interface{ forceClose() }

// Start listens on the configured addresses and serves in the background.
func Start(ctx context.Context, cfg Config, logger *slog.Logger) (*Bridge, error) {
	if logger == nil {
		logger = slog.Default()
	}
	b := &Bridge{cfg: cfg, logger: logger, conns: map[closer]struct{}{}, origins: cfg.AllowedOrigins, notify: cfg.Notifier}
	b.store = cfg.Store
	if b.store == nil {
		st, err := store.Open(ctx, store.Options{ConfigFile: cfg.ConfigFile, Database: cfg.Database, Logger: logger.With("component", "store")})
		if err != nil {
			return nil, fmt.Errorf("open configuration: %w", err)
		}
		b.store, b.ownSt = st, true
	}
	fail := func(err error) (*Bridge, error) {
		if b.ownSt {
			b.store.Close()
		}
		return nil, err
	}
	if cfg.TLSCert != "" || cfg.TLSKey != "" {
		kp, err := newCertLoader(cfg.TLSCert, cfg.TLSKey, logger)
		if err != nil {
			return fail(err)
		}
		b.tlsConf = &tls.Config{GetCertificate: kp.get, MinVersion: tls.VersionTLS12}
	}
	authn, bans := cfg.Auth, cfg.Bans
	if authn == nil {
		authn = storeAuth{b.store}
	}
	if bans == nil {
		bans = storeBans{b.store}
	}
	assets, err := webassets.New(web.FS(), webassets.Options{Logger: logger.With("component", "assets"), AppPrefixes: []string{"/r/", "/watch/", "/embed/"}})
	if err != nil {
		return fail(fmt.Errorf("web client files: %w", err))
	}
	b.assets = assets
	b.metrics = newBridgeMetrics(b.defaultMetrics())
	b.tcpM, b.wsM = b.metrics.transport("tcp"), b.metrics.transport("ws")
	b.connLimit, b.loginLimit = newLimiters(cfg.Limits, cfg.TrustedProxies)
	b.events = newEvents(b, b.metrics)
	opts := session.Options{Settings: b.currentSettings(), Auth: authn, Bans: bans, Logger: logger, Observer: b.events,
		LocalHost: cfg.LocalHost, CryptKey: cfg.CryptKey}
	if b.loginLimit != nil {
		opts.LoginGuard = b.loginLimit
	}
	if cfg.ExtAuthURL != "" {
		ea, err := newStoreExtAuth(b.store, cfg.ExtAuthURL)
		if err != nil {
			return fail(err)
		}
		opts.ExtAuth = ea
	}
	b.srv = session.NewServer(opts)
	if err := enablePersistence(b.srv, cfg.Persist); err != nil {
		b.srv.Shutdown(ctx)
		return fail(err)
	}

	tcpLn, httpLn, err := b.listen(ctx)
	if err != nil {
		return fail(err)
	}
	b.tcpLn, b.httpLn = tcpLn, httpLn
	b.startListing()
	adminCfg := cfg.Admin
	if adminCfg.Store == nil {
		adminCfg.Store = b.store
	}
	if adminCfg.Metrics == nil {
		adminCfg.Metrics = b.metrics.reg
	}
	if adminCfg.SettingsChanged == nil {
		adminCfg.SettingsChanged = b.syncSettings
	}
	if _, err = startAdmin(ctx, b, adminCfg); err != nil {
		tcpLn.Close()
		httpLn.Close()
		return fail(err)
	}
	b.httpSrv = &http.Server{
		Handler:           b.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	logger.Info("listening", "tcp", tcpLn.Addr().String(), "http", httpLn.Addr().String(), "tls", b.tlsConf != nil)
	if cfg.ServerSideReset {
		b.SetServerSideReset(true)
	}
	b.startBackground()
	if err := b.notify.Ready(); err != nil {
		logger.Warn("systemd readiness notification failed", "err", err)
	}

	b.wg.Add(2)
	go func() {
		defer b.wg.Done()
		b.acceptTCP()
	}()
	go func() {
		defer b.wg.Done()
		var err error
		if b.tlsConf != nil {
			err = b.httpSrv.Serve(tls.NewListener(httpLn, b.tlsConf))
		} else {
			err = b.httpSrv.Serve(httpLn)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("http server stopped", "err", err)
		}
	}()
	return b, nil
}

// Run starts the bridge, blocks until ctx is cancelled, then shuts down
// gracefully.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) error {
	b, err := Start(ctx, cfg, logger)
	if err != nil {
		return err
	}
	<-ctx.Done()
	return b.Close()
}

// TCPAddr returns the TCP listener's address (useful with port 0).
func (b *Bridge) TCPAddr() string { return b.tcpLn.Addr().String() }

// HTTPAddr returns the HTTP listener's address.
func (b *Bridge) HTTPAddr() string { return b.httpLn.Addr().String() }

// AdminAddr returns the admin listener's address, or "" when the admin API
// is off.
func (b *Bridge) AdminAddr() string {
	a := b.admin.Load()
	if a == nil {
		return ""
	}
	return a.Addr()
}

// Server returns the session server (for admin tools and tests).
func (b *Bridge) Server() *session.Server { return b.srv }

// Close shuts down gracefully: every client gets a Disconnect (Shutdown),
// hijacked WebSockets and TCP connections are closed, and Close waits for
// every goroutine the bridge started.
func (b *Bridge) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()

	_ = b.notify.Stopping()
	b.bgStop()
	_ = b.tcpLn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = b.srv.Shutdown(ctx) // sends Disconnect to everyone, waits for writers
	b.closeListing(ctx)     // the ended sessions' delistings
	herr := b.httpSrv.Shutdown(ctx)
	b.mu.Lock()
	conns := make([]closer, 0, len(b.conns))
	for c := range b.conns {
		conns = append(conns, c)
	}
	b.mu.Unlock()
	for _, c := range conns {
		c.forceClose()
	}
	b.wg.Wait()
	if b.ownSt {
		if err := b.store.Close(); err != nil {
			b.logger.Error("close configuration store", "err", err)
		}
	}
	if herr != nil && !errors.Is(herr, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown http: %w", herr)
	}
	return nil
}

// track registers a live connection (counted in wg until untrack);
// false means the bridge is closing.
func (b *Bridge) track(c closer) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.conns[c] = struct{}{}
	b.wg.Add(1)
	return true
}

// untrack forgets a connection registered by track.
func (b *Bridge) untrack(c closer) {
	b.mu.Lock()
	delete(b.conns, c)
	b.mu.Unlock()
	b.wg.Done()
}

func (b *Bridge) routes() http.Handler {
	r := chi.NewRouter()
	// WebSocket routes: no timeout or compression middleware.
	r.Group(func(r chi.Router) {
		r.Get("/ws", b.serveWS)
		r.Get("/drawpile-web/ws", b.serveWS)
		b.proxyRoutes(r, b.cfg.Proxy)
		b.watchRoutes(r)
	})
	r.Get("/api/rooms/{code}", b.serveRoom)
	b.healthRoutes(r)
	b.sessionsAPI(r)
	// Static files of the web client: content-hashed names, precompressed
	// variants, index.html for client-side routes such as /r/CODE.
	r.Handle("/*", b.assets)
	return r
}

// roomInfo is the JSON of GET /api/rooms/{code}.
type roomInfo struct {
	ID          string `json:"id"`
	Code        string `json:"code"`
	Alias       string `json:"alias,omitempty"`
	Title       string `json:"title"`
	Protocol    string `json:"protocol"`
	HasPassword bool   `json:"hasPassword"`
	AllowWeb    bool   `json:"allowWeb"`
	UserCount   int    `json:"userCount"`
	Nsfm        bool   `json:"nsfm"`
}

func (b *Bridge) serveRoom(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	s := b.srv.Lookup(chi.URLParam(r, "code"))
	if s == nil {
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "room not found"})
		return
	}
	d := s.Desc()
	_ = json.NewEncoder(w).Encode(roomInfo{ID: d.ID, Code: s.Code(), Alias: d.Alias, Title: d.Title, Protocol: d.Protocol,
		HasPassword: d.HasPassword, AllowWeb: d.AllowWeb, UserCount: d.UserCount, Nsfm: d.Nsfm})
}

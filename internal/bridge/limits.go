package bridge

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"drawbridge/internal/auth"
	"drawbridge/internal/auth/httpfetch"
	"drawbridge/protocol"
)

// LimitsConfig bounds what one client address may do. drawpile-srv has
// neither limit (server.md §7.3).
type LimitsConfig struct {
	// MaxConnsPerIP caps concurrent connections (TCP and WebSocket
	// together) per IPv4 address or IPv6 /64; 0 = unlimited. Loopback and
	// --trusted-proxies addresses are exempt.
	MaxConnsPerIP int
	// LoginBurst password attempts (account passwords, session passwords,
	// opwords) are allowed at once per address, then one per LoginInterval.
	// LoginBurst 0 = unlimited.
	LoginBurst    int
	LoginInterval time.Duration
	// MaxProxyPerIP caps concurrent proxied connections (/proxy/ws, each
	// one an upstream TCP connection) per address; MaxWatchPerIP caps
	// concurrent spectator sockets (/watch/{secret}/ws, also used by
	// /embed). Both are counted apart from MaxConnsPerIP, with the same
	// address grouping and exemptions; 0 = unlimited.
	MaxProxyPerIP int
	MaxWatchPerIP int
	// Exempt lists addresses never limited by MaxConnsPerIP, MaxProxyPerIP
	// and MaxWatchPerIP in addition to --trusted-proxies; nil means
	// loopback.
	Exempt []netip.Prefix
}

// Default limits: generous for classrooms behind one NAT address, tight
// enough to stop a single host from exhausting the server or guessing
// passwords quickly.
const (
	DefaultMaxConnsPerIP = 32
	DefaultLoginBurst    = 20
	DefaultLoginInterval = 3 * time.Second
	DefaultMaxProxyPerIP = 16
	DefaultMaxWatchPerIP = 32
)

// RegisterLimitsFlags adds the --max-connections-per-ip and --login-*
// flags to fs.
func RegisterLimitsFlags(fs *flag.FlagSet, c *LimitsConfig) {
	fs.IntVar(&c.MaxConnsPerIP, "max-connections-per-ip", DefaultMaxConnsPerIP, "concurrent connections per client address (0 = unlimited; loopback and trusted proxies are exempt)")
	fs.IntVar(&c.LoginBurst, "login-attempts", DefaultLoginBurst, "password attempts a client address may make at once (0 = unlimited)")
	fs.IntVar(&c.MaxProxyPerIP, "max-proxy-connections-per-ip", DefaultMaxProxyPerIP, "concurrent proxied connections (/proxy/ws) per client address (0 = unlimited; loopback and trusted proxies are exempt)")
	fs.IntVar(&c.MaxWatchPerIP, "max-spectators-per-ip", DefaultMaxWatchPerIP, "concurrent spectator sockets (/watch, /embed) per client address (0 = unlimited; loopback and trusted proxies are exempt)")
	fs.DurationVar(&c.LoginInterval, "login-attempt-interval", DefaultLoginInterval, "time for a client address to regain one password attempt")
}

// Validate checks the limits.
func (c LimitsConfig) Validate() error {
	if c.MaxConnsPerIP < 0 || c.LoginBurst < 0 || c.LoginInterval < 0 || c.MaxProxyPerIP < 0 || c.MaxWatchPerIP < 0 {
		return fmt.Errorf("limits must not be negative")
	}
	return nil
}

// newLimiters builds the per-address limiters; nil results mean
// unlimited.
func newLimiters(c LimitsConfig, trusted []netip.Prefix) (*auth.ConnLimiter, *auth.LoginLimiter) {
	conns := newConnLimiter(c, c.MaxConnsPerIP, trusted)
	var logins *auth.LoginLimiter
	if c.LoginBurst > 0 {
		logins = auth.NewLoginLimiter(auth.LoginLimiterConfig{Burst: c.LoginBurst, Interval: c.LoginInterval})
	}
	return conns, logins
}

// newConnLimiter returns a per-address limiter of max connections with
// c's exemptions plus the trusted proxies, or nil (unlimited) when max is 0.
func newConnLimiter(c LimitsConfig, max int, trusted []netip.Prefix) *auth.ConnLimiter {
	if max <= 0 {
		return nil
	}
	exempt := c.Exempt
	if exempt == nil {
		exempt = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	exempt = append(append([]netip.Prefix(nil), exempt...), trusted...)
	return auth.NewConnLimiter(max, 64, exempt)
}

// limitedAcquire returns an acquire function for l (nil l: unlimited)
// that logs refusals as what ("proxy", "spectator").
func (b *Bridge) limitedAcquire(l *auth.ConnLimiter, what string, limit int) func(netip.Addr) (func(), bool) {
	return func(addr netip.Addr) (func(), bool) {
		if l == nil {
			return func() {}, true
		}
		release, err := l.Acquire(addr)
		if err != nil {
			b.logger.Warn("connection refused: too many connections from one address", "kind", what, "addr", addr, "limit", limit)
			return nil, false
		}
		return release, true
	}
}

// tooManyConns is the HTTP refusal of a WebSocket handshake over a
// per-address limit (429, like /ws).
func tooManyConns(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "10")
	http.Error(w, "Too many connections from your address", http.StatusTooManyRequests)
}

// acquireConn reserves a connection slot for addr; the returned release
// must be called when the connection ends.
func (b *Bridge) acquireConn(addr netip.Addr) (release func(), ok bool) {
	if b.connLimit == nil {
		return func() {}, true
	}
	release, err := b.connLimit.Acquire(addr)
	if err != nil {
		b.logger.Warn("connection refused: too many connections from one address", "addr", addr, "limit", b.cfg.Limits.MaxConnsPerIP)
		return nil, false
	}
	return release, true
}

// tooManyConnsFrame is sent to a TCP client refused by the connection
// limit, so Drawpile shows a reason instead of a bare disconnect.
var tooManyConnsFrame = func() protocol.Frame {
	f, err := protocol.EncodeFrame(0, protocol.Disconnect{Reason: protocol.DisconnectOther, Message: "Too many connections from your address"}, protocol.Layout425)
	if err != nil {
		panic(err) // constant message; cannot fail
	}
	return f
}()

// runExtBans refreshes the external shared ban list (extBansUrl) until ctx
// ends; pruneLogins forgets refilled login buckets. Both are started by
// startBackground.
func (b *Bridge) runExtBans(ctx context.Context) {
	_ = b.store.RunExtBans(ctx, httpfetch.ExtBans(nil, "drawbridge"))
}

func (b *Bridge) pruneLogins(ctx context.Context) {
	if b.loginLimit == nil {
		return
	}
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.loginLimit.Prune()
		}
	}
}

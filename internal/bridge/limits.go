package bridge

import (
	"context"
	"flag"
	"fmt"
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
	// Exempt lists addresses never limited by MaxConnsPerIP in addition to
	// --trusted-proxies; nil means loopback.
	Exempt []netip.Prefix
}

// Default limits: generous for classrooms behind one NAT address, tight
// enough to stop a single host from exhausting the server or guessing
// passwords quickly.
const (
	DefaultMaxConnsPerIP = 32
	DefaultLoginBurst    = 20
	DefaultLoginInterval = 3 * time.Second
)

// RegisterLimitsFlags adds the --max-connections-per-ip and --login-*
// flags to fs.
func RegisterLimitsFlags(fs *flag.FlagSet, c *LimitsConfig) {
	fs.IntVar(&c.MaxConnsPerIP, "max-connections-per-ip", DefaultMaxConnsPerIP, "concurrent connections per client address (0 = unlimited; loopback and trusted proxies are exempt)")
	fs.IntVar(&c.LoginBurst, "login-attempts", DefaultLoginBurst, "password attempts a client address may make at once (0 = unlimited)")
	fs.DurationVar(&c.LoginInterval, "login-attempt-interval", DefaultLoginInterval, "time for a client address to regain one password attempt")
}

// Validate checks the limits.
func (c LimitsConfig) Validate() error {
	if c.MaxConnsPerIP < 0 || c.LoginBurst < 0 || c.LoginInterval < 0 {
		return fmt.Errorf("limits must not be negative")
	}
	return nil
}

// newLimiters builds the per-address limiters; nil results mean
// unlimited.
func newLimiters(c LimitsConfig, trusted []netip.Prefix) (*auth.ConnLimiter, *auth.LoginLimiter) {
	var conns *auth.ConnLimiter
	if c.MaxConnsPerIP > 0 {
		exempt := c.Exempt
		if exempt == nil {
			exempt = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
		}
		exempt = append(append([]netip.Prefix(nil), exempt...), trusted...)
		conns = auth.NewConnLimiter(c.MaxConnsPerIP, 64, exempt)
	}
	var logins *auth.LoginLimiter
	if c.LoginBurst > 0 {
		logins = auth.NewLoginLimiter(auth.LoginLimiterConfig{Burst: c.LoginBurst, Interval: c.LoginInterval})
	}
	return conns, logins
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

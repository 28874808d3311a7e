package auth

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Upstream drawpile-srv has no per-IP connection limit and no login rate
// limit (server.md §7.3); it only disconnects after 10 wrong passwords on
// one connection. These types add both, as pure logic: no goroutines, no
// timers, the clock is injected.

// ipKey groups addresses for limiting: IPv4 (and IPv4-mapped IPv6) by the
// full address, IPv6 by prefix (a /64 is usually one subscriber).
func ipKey(a netip.Addr, v6Bits int) netip.Addr {
	a = a.Unmap()
	if a.Is6() && v6Bits > 0 && v6Bits < 128 {
		p, err := a.Prefix(v6Bits)
		if err == nil {
			return p.Addr()
		}
	}
	return a.WithZone("")
}

// ConnLimiter caps concurrent connections per client IP. It is safe for
// concurrent use (all fields guarded by mu).
type ConnLimiter struct {
	// immutable after construction
	max      int
	v6Bits   int
	exempted []netip.Prefix

	mu    sync.Mutex
	count map[netip.Addr]int // guarded by mu
}

// NewConnLimiter allows max concurrent connections per IPv4 address or per
// IPv6 /v6Bits prefix (64 if v6Bits <= 0); max <= 0 means unlimited.
// Addresses inside exempt (e.g. loopback, a reverse proxy) are never
// limited.
func NewConnLimiter(max, v6Bits int, exempt []netip.Prefix) *ConnLimiter {
	if v6Bits <= 0 || v6Bits > 128 {
		v6Bits = 64
	}
	return &ConnLimiter{max: max, v6Bits: v6Bits, exempted: exempt, count: map[netip.Addr]int{}}
}

// ErrTooManyConnections is returned by ConnLimiter.Acquire when the
// address already has the maximum number of connections.
var ErrTooManyConnections = errors.New("auth: too many connections from this address")

// Acquire reserves a connection slot for addr. On success the returned
// release function must be called exactly once when the connection ends
// (extra calls are no-ops).
func (l *ConnLimiter) Acquire(addr netip.Addr) (release func(), err error) {
	if l == nil || l.max <= 0 || l.isExempt(addr) {
		return func() {}, nil
	}
	k := ipKey(addr, l.v6Bits)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.count[k] >= l.max {
		return nil, ErrTooManyConnections
	}
	l.count[k]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.count[k]--; l.count[k] <= 0 {
				delete(l.count, k)
			}
		})
	}, nil
}

// Count returns the number of connections currently held for addr's group.
func (l *ConnLimiter) Count(addr netip.Addr) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count[ipKey(addr, l.v6Bits)]
}

func (l *ConnLimiter) isExempt(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range l.exempted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// LoginLimiter is a per-IP token bucket for login attempts (password,
// session password, opword): each attempt takes a token; tokens refill at
// one per Interval up to Burst. It is safe for concurrent use.
type LoginLimiter struct {
	// immutable after construction
	burst    float64
	interval time.Duration
	v6Bits   int
	now      func() time.Time
	maxKeys  int

	mu      sync.Mutex
	buckets map[netip.Addr]*bucket // guarded by mu
}

type bucket struct {
	tokens float64
	last   time.Time
}

// LoginLimiterConfig configures NewLoginLimiter.
type LoginLimiterConfig struct {
	// Burst is how many attempts an address may make at once (default 10).
	Burst int
	// Interval is the time to regain one attempt (default 6 s, i.e. 10 per
	// minute sustained).
	Interval time.Duration
	// V6Bits groups IPv6 addresses by this prefix length (default 64).
	V6Bits int
	// MaxTracked bounds memory: when more addresses are tracked, refilled
	// buckets are dropped first, then arbitrary ones (default 65536).
	MaxTracked int
	// Now is the clock (default time.Now); tests inject a fake.
	Now func() time.Time
}

// NewLoginLimiter returns a limiter with the given configuration (zero
// fields take their defaults).
func NewLoginLimiter(c LoginLimiterConfig) *LoginLimiter {
	if c.Burst <= 0 {
		c.Burst = 10
	}
	if c.Interval <= 0 {
		c.Interval = 6 * time.Second
	}
	if c.V6Bits <= 0 || c.V6Bits > 128 {
		c.V6Bits = 64
	}
	if c.MaxTracked <= 0 {
		c.MaxTracked = 1 << 16
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &LoginLimiter{burst: float64(c.Burst), interval: c.Interval, v6Bits: c.V6Bits,
		now: c.Now, maxKeys: c.MaxTracked, buckets: map[netip.Addr]*bucket{}}
}

// Attempt takes one attempt for addr. If none is left it returns false and
// how long until the next one is available.
func (l *LoginLimiter) Attempt(addr netip.Addr) (ok bool, retryAfter time.Duration) {
	k := ipKey(addr, l.v6Bits)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[k]
	if b == nil {
		if len(l.buckets) >= l.maxKeys {
			l.pruneLocked(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[k] = b
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	need := (1 - b.tokens) * float64(l.interval)
	return false, time.Duration(need)
}

// Reset forgets addr's history (e.g. after a successful login).
func (l *LoginLimiter) Reset(addr netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.buckets, ipKey(addr, l.v6Bits))
}

// Prune drops buckets that have refilled completely; call it now and then
// (e.g. from the server's housekeeping ticker) to bound memory.
func (l *LoginLimiter) Prune() {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pruneLocked(now)
}

// Tracked returns the number of addresses currently tracked.
func (l *LoginLimiter) Tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

func (l *LoginLimiter) refill(b *bucket, now time.Time) {
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(l.burst, b.tokens+float64(el)/float64(l.interval))
		b.last = now
	}
}

func (l *LoginLimiter) pruneLocked(now time.Time) {
	for k, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= l.burst {
			delete(l.buckets, k)
		}
	}
	for k := range l.buckets {
		if len(l.buckets) < l.maxKeys {
			break
		}
		delete(l.buckets, k)
	}
}

// TrustedProxies decides whose X-Real-IP / X-Forwarded-For headers are
// believed. Upstream trusts X-Real-IP from anyone (server.md §7.1); here a
// header is only used when the socket peer is a listed proxy. The zero
// value trusts nobody. Immutable after construction; safe for concurrent
// use.
type TrustedProxies struct {
	prefixes []netip.Prefix
}

// ParseTrustedProxies parses a comma- or space-separated list of addresses
// and CIDR prefixes ("127.0.0.1, 10.0.0.0/8, ::1"). "" trusts nobody.
func ParseTrustedProxies(s string) (*TrustedProxies, error) {
	t := &TrustedProxies{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("auth: trusted proxy %q: %w", f, err)
			}
			t.prefixes = append(t.prefixes, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("auth: trusted proxy %q: %w", f, err)
		}
		a = a.Unmap()
		t.prefixes = append(t.prefixes, netip.PrefixFrom(a, a.BitLen()))
	}
	return t, nil
}

// Trusts reports whether addr is a trusted proxy.
func (t *TrustedProxies) Trusts(addr netip.Addr) bool {
	if t == nil {
		return false
	}
	addr = addr.Unmap().WithZone("")
	for _, p := range t.prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// ClientIP returns the address to treat as the client's. If peer (the
// socket's remote address) is not a trusted proxy, it is the answer and
// the headers are ignored. Otherwise X-Real-IP wins if it parses; else
// X-Forwarded-For (all header lines, comma-separated, in order) is walked
// from the right, skipping trusted proxies, and the first untrusted hop is
// the client (the leftmost one if all are trusted). Unparseable entries
// stop the walk and the last good hop (or peer) is used. The result is
// unmapped (IPv4-mapped IPv6 becomes IPv4).
func (t *TrustedProxies) ClientIP(peer netip.Addr, xRealIP string, xForwardedFor []string) netip.Addr {
	peer = peer.Unmap()
	if !t.Trusts(peer) {
		return peer
	}
	if a, err := netip.ParseAddr(strings.TrimSpace(xRealIP)); err == nil {
		return a.Unmap()
	}
	var hops []string
	for _, line := range xForwardedFor {
		for _, h := range strings.Split(line, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hops = append(hops, h)
			}
		}
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := parseHop(hops[i])
		if err != nil {
			return client
		}
		client = a
		if !t.Trusts(a) {
			return a
		}
	}
	return client
}

// parseHop parses one X-Forwarded-For element: an address, optionally
// bracketed or with a port ("[::1]:80", "1.2.3.4:5").
func parseHop(h string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap(), nil
	}
	ap, err := netip.ParseAddrPort(h)
	if err != nil {
		if a, err2 := netip.ParseAddr(strings.Trim(h, "[]")); err2 == nil {
			return a.Unmap(), nil
		}
		return netip.Addr{}, err
	}
	return ap.Addr().Unmap(), nil
}

package auth

import (
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"
)

func TestConnLimiter(t *testing.T) {
	t.Parallel()
	l := NewConnLimiter(2, 64, []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
	a := netip.MustParseAddr("192.0.2.1")
	aMapped := netip.MustParseAddr("::ffff:192.0.2.1")
	r1, err := l.Acquire(a)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := l.Acquire(aMapped) // same client over IPv4-mapped IPv6
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Acquire(a); !errors.Is(err, ErrTooManyConnections) {
		t.Fatalf("third connection: err = %v", err)
	}
	if _, err := l.Acquire(netip.MustParseAddr("192.0.2.2")); err != nil {
		t.Fatalf("other address limited: %v", err)
	}
	r1()
	r1() // idempotent
	if l.Count(a) != 1 {
		t.Fatalf("count after release = %d", l.Count(a))
	}
	if _, err := l.Acquire(a); err != nil {
		t.Fatalf("after release: %v", err)
	}
	r2()
	// IPv6 grouped by /64.
	v6a, v6b := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::ffff:2")
	if _, err := l.Acquire(v6a); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Acquire(v6b); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Acquire(netip.MustParseAddr("2001:db8::3")); !errors.Is(err, ErrTooManyConnections) {
		t.Fatalf("same /64: err = %v", err)
	}
	if _, err := l.Acquire(netip.MustParseAddr("2001:db8:0:1::3")); err != nil {
		t.Fatalf("other /64: %v", err)
	}
	// Exempt addresses are never limited.
	for range 5 {
		if _, err := l.Acquire(netip.MustParseAddr("127.0.0.1")); err != nil {
			t.Fatal(err)
		}
	}
	// Unlimited limiter.
	if _, err := NewConnLimiter(0, 0, nil).Acquire(a); err != nil {
		t.Fatal(err)
	}
}

func TestConnLimiterConcurrent(t *testing.T) {
	t.Parallel()
	l := NewConnLimiter(5, 0, nil)
	a := netip.MustParseAddr("198.51.100.7")
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 50 {
		wg.Go(func() {
			if _, err := l.Acquire(a); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != 5 {
		t.Fatalf("%d acquired, want 5", ok)
	}
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestLoginLimiter(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := NewLoginLimiter(LoginLimiterConfig{Burst: 3, Interval: 10 * time.Second, Now: clk.now, MaxTracked: 4})
	a := netip.MustParseAddr("203.0.113.9")
	for i := range 3 {
		if ok, _ := l.Attempt(a); !ok {
			t.Fatalf("attempt %d refused", i)
		}
	}
	ok, retry := l.Attempt(a)
	if ok || retry != 10*time.Second {
		t.Fatalf("4th attempt: ok=%v retry=%v, want refused, 10s", ok, retry)
	}
	if ok, _ := l.Attempt(netip.MustParseAddr("203.0.113.10")); !ok {
		t.Fatal("other address refused")
	}
	clk.advance(4 * time.Second)
	if ok, retry := l.Attempt(a); ok || retry != 6*time.Second {
		t.Fatalf("after 4s: ok=%v retry=%v", ok, retry)
	}
	clk.advance(6 * time.Second)
	if ok, _ := l.Attempt(a); !ok {
		t.Fatal("after refill: refused")
	}
	if ok, _ := l.Attempt(a); ok {
		t.Fatal("only one token should have refilled")
	}
	l.Reset(a)
	if ok, _ := l.Attempt(a); !ok {
		t.Fatal("after Reset: refused")
	}
	// Prune drops refilled buckets only.
	clk.advance(time.Hour)
	l.Attempt(netip.MustParseAddr("203.0.113.11"))
	l.Prune()
	if n := l.Tracked(); n != 1 {
		t.Fatalf("tracked after prune = %d, want 1", n)
	}
	// Memory bound.
	for i := range 10 {
		l.Attempt(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}))
	}
	if n := l.Tracked(); n > 4 {
		t.Fatalf("tracked = %d, want <= 4", n)
	}
}

func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	tp, err := ParseTrustedProxies("127.0.0.1, 10.0.0.0/8 ::1")
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr
	tests := []struct {
		name  string
		peer  string
		real  string
		xff   []string
		want  string
		proxy *TrustedProxies
	}{
		{name: "untrusted peer ignores headers", peer: "198.51.100.1", real: "1.2.3.4", xff: []string{"5.6.7.8"}, want: "198.51.100.1"},
		{name: "trusted X-Real-IP", peer: "127.0.0.1", real: "1.2.3.4", want: "1.2.3.4"},
		{name: "mapped peer trusted", peer: "::ffff:127.0.0.1", real: "2001:db8::1", want: "2001:db8::1"},
		{name: "bad X-Real-IP falls to XFF", peer: "::1", real: "garbage", xff: []string{"1.2.3.4"}, want: "1.2.3.4"},
		{name: "XFF rightmost untrusted", peer: "10.1.1.1", xff: []string{"6.6.6.6, 1.2.3.4", "10.2.2.2"}, want: "1.2.3.4"},
		{name: "XFF all trusted", peer: "10.1.1.1", xff: []string{"10.3.3.3, 10.2.2.2"}, want: "10.3.3.3"},
		{name: "XFF with port", peer: "10.1.1.1", xff: []string{"[2001:db8::5]:443"}, want: "2001:db8::5"},
		{name: "XFF garbage stops", peer: "10.1.1.1", xff: []string{"1.2.3.4, nonsense"}, want: "10.1.1.1"},
		{name: "no headers", peer: "10.1.1.1", want: "10.1.1.1"},
		{name: "nil trusts nobody", peer: "127.0.0.1", real: "1.2.3.4", want: "127.0.0.1", proxy: &TrustedProxies{}},
		{name: "mapped result unmapped", peer: "127.0.0.1", real: "::ffff:1.2.3.4", want: "1.2.3.4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := tp
			if tc.proxy != nil {
				p = tc.proxy
			}
			if got := p.ClientIP(ip(tc.peer), tc.real, tc.xff); got != ip(tc.want) {
				t.Errorf("ClientIP = %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := ParseTrustedProxies("10.0.0.0/33"); err == nil {
		t.Error("bad prefix accepted")
	}
	if _, err := ParseTrustedProxies("localhost"); err == nil {
		t.Error("hostname accepted")
	}
	var nilTP *TrustedProxies
	if nilTP.Trusts(ip("127.0.0.1")) {
		t.Error("nil list trusts")
	}
}

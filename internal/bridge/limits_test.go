package bridge

import (
	"flag"
	"io"
	"net/netip"
	"testing"
)

func TestLimitsFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		args         []string
		proxy, watch int
		bad          bool
	}{
		{name: "defaults", proxy: DefaultMaxProxyPerIP, watch: DefaultMaxWatchPerIP},
		{name: "set", args: []string{"--max-proxy-connections-per-ip", "3", "--max-spectators-per-ip", "0"}, proxy: 3, watch: 0},
		{name: "negative", args: []string{"--max-spectators-per-ip", "-1"}, bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c LimitsConfig
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			RegisterLimitsFlags(fs, &c)
			err := fs.Parse(tc.args)
			if err == nil {
				err = c.Validate()
			}
			if tc.bad {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil || c.MaxProxyPerIP != tc.proxy || c.MaxWatchPerIP != tc.watch {
				t.Fatalf("got %+v, %v", c, err)
			}
		})
	}
}

func TestNewConnLimiterExemptions(t *testing.T) {
	t.Parallel()
	lo, other := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("192.0.2.7")
	if newConnLimiter(LimitsConfig{}, 0, nil) != nil {
		t.Fatal("limit 0 is not unlimited")
	}
	// Default: loopback exempt, like /ws.
	l := newConnLimiter(LimitsConfig{}, 1, nil)
	for range 3 {
		if _, err := l.Acquire(lo); err != nil {
			t.Fatal("loopback limited by default")
		}
	}
	if _, err := l.Acquire(other); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Acquire(other); err == nil {
		t.Fatal("second connection of a limited address accepted")
	}
	// Exempt set explicitly (tests), plus trusted proxies.
	l = newConnLimiter(LimitsConfig{Exempt: []netip.Prefix{}}, 1, []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")})
	if _, err := l.Acquire(lo); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Acquire(lo); err == nil {
		t.Fatal("loopback exempt although Exempt is empty")
	}
	for range 3 {
		if _, err := l.Acquire(other); err != nil {
			t.Fatal("trusted proxy limited")
		}
	}
}

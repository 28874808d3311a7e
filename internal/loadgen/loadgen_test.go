package loadgen

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"drawbridge/internal/bridge"
)

// startBridge starts an in-process bridge on 127.0.0.1 ephemeral ports.
func startBridge(t *testing.T) *bridge.Bridge {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	b, err := bridge.Start(context.Background(), bridge.Config{TCPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"}, logger)
	if err != nil {
		t.Fatalf("start bridge: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// checkLatency checks that a latency summary has count samples, no zero
// or negative values and ordered percentiles.
func checkLatency(t *testing.T, name string, s LatencyStats, count uint64) {
	t.Helper()
	if s.Count != count {
		t.Errorf("%s: %d samples, want %d", name, s.Count, count)
	}
	if count == 0 {
		return
	}
	if !(s.MinMs > 0) {
		t.Errorf("%s: min %v ms, want > 0", name, s.MinMs)
	}
	if !(s.MinMs <= s.P50Ms && s.P50Ms <= s.P90Ms && s.P90Ms <= s.P99Ms && s.P99Ms <= s.MaxMs) {
		t.Errorf("%s: percentiles out of order: %+v", name, s)
	}
	if s.MaxMs > 30000 {
		t.Errorf("%s: max %v ms is implausible", name, s.MaxMs)
	}
}

func TestRunAgainstBridge(t *testing.T) {
	br := startBridge(t)
	for _, tc := range []struct {
		name   string
		server string
	}{
		{"tcp", "tcp://" + br.TCPAddr()},
		{"websocket", "ws://" + br.HTTPAddr() + "/drawpile-web/ws"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const drawers, watchers = 2, 3
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			rep, err := Run(ctx, Config{
				Server: tc.server, Session: "test-" + tc.name, HostSession: true,
				Drawers: drawers, Watchers: watchers, Duration: 1500 * time.Millisecond, Rate: 40, Seed: 7,
				ServerPID: os.Getpid(), Logger: testLogger(t),
			})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if rep.Connected != drawers+watchers || rep.Errors != 0 || rep.Disconnects != 0 {
				t.Fatalf("connected %d/%d, errors %d, disconnects %d: %v", rep.Connected, rep.Bots, rep.Errors, rep.Disconnects, rep.ErrorSamples)
			}
			c := rep.Consistency
			sent := rep.DrawerStats.SentMsgs
			// 2 drawers × 40/s × 1.5 s: at most 2 × 61 messages on
			// schedule, at least the first of each drawer; a busy machine
			// sends fewer (no timing assertion beyond that).
			if sent < drawers || sent > 122 {
				t.Errorf("drawers sent %d messages, want 2..122", sent)
			}
			if c.Sent != sent {
				t.Errorf("consistency counts %d sent, drawers %d", c.Sent, sent)
			}
			if c.WatcherRecvMin != sent || c.WatcherRecvMax != sent {
				t.Errorf("watchers received %d..%d tracked messages, want %d each", c.WatcherRecvMin, c.WatcherRecvMax, sent)
			}
			if !c.OK || c.ReceiversComplete != drawers+watchers || c.Mismatched != 0 || c.Unmatched != 0 || c.Foreign != 0 {
				t.Errorf("consistency: %+v", c)
			}
			if rep.WatcherStats.RecvMsgs < sent*watchers {
				t.Errorf("watchers received %d frames in total, want at least %d", rep.WatcherStats.RecvMsgs, sent*watchers)
			}
			if rep.DrawerStats.SentBytes <= sent*4 {
				t.Errorf("sent bytes %d for %d messages", rep.DrawerStats.SentBytes, sent)
			}
			// Every message: one round trip at its sender, a delivery at
			// each of the other 4 bots, and a lag sample at every bot but
			// the first to see it.
			n := uint64(sent)
			checkLatency(t, "rtt", rep.RTT, n)
			checkLatency(t, "delivery", rep.Delivery, n*(drawers+watchers-1))
			checkLatency(t, "lag", rep.Lag, n*(drawers+watchers-1))
			checkLatency(t, "watcher delivery", rep.WatcherStats.Delivery, n*watchers)
			if rep.ServerProc == nil || rep.ServerProc.Error != "" || rep.ServerProc.PeakRSSKB <= 0 || rep.ServerProc.CPUSeconds < 0 {
				t.Errorf("server proc: %+v", rep.ServerProc)
			}
		})
	}
}

func TestCatchup(t *testing.T) {
	br := startBridge(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const fill = 3 << 20
	rep, err := Run(ctx, Config{
		Server: "tcp://" + br.TCPAddr(), Session: "catchup", HostSession: true, FillBytes: fill,
		Catchup: true, Watchers: 3, Logger: testLogger(t),
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	cu := rep.Catchup
	if rep.Errors != 0 || cu.Bots != 2 || cu.CaughtUp != 2 {
		t.Fatalf("catch-up %+v, errors %d: %v", cu, rep.Errors, rep.ErrorSamples)
	}
	if cu.BytesPerBot < fill || cu.BytesPerBot > fill+64<<10 {
		t.Errorf("caught up %d bytes, want the %d filled plus a little", cu.BytesPerBot, fill)
	}
	checkLatency(t, "catch-up time", cu.Time, 2)
	if !(cu.MBPerS > 0) || !(cu.AggregateMBPerS > 0) {
		t.Errorf("catch-up speed %v MB/s per bot, %v total", cu.MBPerS, cu.AggregateMBPerS)
	}
	if rep.DrawerStats.SentMsgs != 0 || rep.RTT.Count != 0 {
		t.Errorf("catch-up run drew: %+v", rep.DrawerStats)
	}
}

func TestJoinMissingSessionFails(t *testing.T) {
	br := startBridge(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := Run(ctx, Config{Server: br.TCPAddr(), Session: "nosuchsession", Drawers: 1, Watchers: 1, Logger: testLogger(t)})
	if err == nil {
		t.Fatal("run against a missing session succeeded")
	}
	if rep == nil || rep.Errors != 2 || rep.Connected != 0 || len(rep.ErrorSamples) != 2 {
		t.Fatalf("report %+v", rep)
	}
}

func TestConfigValidation(t *testing.T) {
	ok := Config{Server: "tcp://127.0.0.1:1", Session: "s", Drawers: 1}
	for _, tc := range []struct {
		name  string
		mod   func(*Config)
		field string
	}{
		{"no server", func(c *Config) { c.Server = "" }, "server"},
		{"bad scheme", func(c *Config) { c.Server = "http://x:1" }, "server"},
		{"no host", func(c *Config) { c.Server = "tcp://:1" }, "server"},
		{"no session", func(c *Config) { c.Session = "" }, "session"},
		{"no bots", func(c *Config) { c.Drawers = 0 }, "drawers/watchers"},
		{"too many bots", func(c *Config) { c.Watchers = 300 }, "drawers/watchers"},
		{"negative", func(c *Config) { c.Watchers = -1 }, "drawers/watchers"},
		{"rate", func(c *Config) { c.Rate = 1e6 }, "rate"},
		{"fill without host", func(c *Config) { c.FillBytes = 10 }, "fill"},
		{"long prefix", func(c *Config) { c.NamePrefix = "abcdefghijklmnop" }, "name-prefix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mod(&c)
			_, err := newRunner(c)
			ce, isCE := err.(*ConfigError)
			if !isCE || ce.Field != tc.field {
				t.Fatalf("error %v, want a ConfigError on %s", err, tc.field)
			}
		})
	}
	if _, err := newRunner(ok); err != nil {
		t.Fatalf("valid config: %v", err)
	}
}

func TestParseServer(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want endpoint
	}{
		{"127.0.0.1:27750", endpoint{addr: "127.0.0.1:27750", host: "127.0.0.1"}},
		{"tcp://example.com", endpoint{addr: "example.com:27750", host: "example.com"}},
		{"tcp://[::1]:1234", endpoint{addr: "[::1]:1234", host: "::1"}},
		{"ws://h:8080/drawpile-web/ws", endpoint{ws: true, url: "ws://h:8080/drawpile-web/ws", host: "h"}},
		{"wss://h/ws", endpoint{ws: true, url: "wss://h/ws", host: "h"}},
	} {
		got, err := parseServer(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseServer(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

// TestNullServer runs bots against the null server: the same consistency
// holds, and a join to a missing session fails cleanly.
func TestNullServer(t *testing.T) {
	ns, err := StartNullServer(context.Background(), "127.0.0.1:0", testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep, err := Run(ctx, Config{
		Server: "tcp://" + ns.Addr(), Session: "null", Sessions: 2, HostSession: true,
		Drawers: 2, Watchers: 2, Duration: time.Second, Rate: 50, Logger: testLogger(t),
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	c := rep.Consistency
	if rep.Errors != 0 || !c.OK || c.ReceiversComplete != 8 || c.Sent < 4 || c.Sent > 2*2*51 || c.WatcherRecvMin+c.WatcherRecvMax != c.Sent {
		t.Fatalf("errors %d %v, consistency %+v", rep.Errors, rep.ErrorSamples, c)
	}
	checkLatency(t, "rtt", rep.RTT, uint64(c.Sent))
	rep, err = Run(ctx, Config{Server: ns.Addr(), Session: "missing", Watchers: 1, Logger: testLogger(t)})
	if err == nil || rep.Errors != 1 || !strings.Contains(rep.ErrorSamples[0], "notFound") {
		t.Fatalf("join of a missing session: %v, %+v", err, rep)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"drawbridge/internal/bridge"
	"drawbridge/internal/loadgen"
)

// TestBotsCommand runs `dptool bots` briefly against an in-process bridge
// over WebSocket, then builds the Markdown table from its report.
func TestBotsCommand(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	br, err := bridge.Start(context.Background(), bridge.Config{TCPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"}, logger)
	if err != nil {
		t.Fatalf("start bridge: %v", err)
	}
	t.Cleanup(func() { br.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	out := filepath.Join(dir, "report.json")
	var stdout, stderr bytes.Buffer
	args := []string{"bots", "--server", "ws://" + br.HTTPAddr() + "/drawpile-web/ws", "--session", "cli", "--host-session",
		"--drawers", "2", "--watchers", "2", "--duration", "1s", "--rate", "30", "--seed", "3",
		"--server-pid", "0", "--out", out, "--label", "cli test", "--strict"}
	if err := run(ctx, args, nil, &stdout, &stderr); err != nil {
		t.Fatalf("bots: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	for _, want := range []string{"4/4 bots", "rtt", "delivery", "→ OK"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout.String())
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep loadgen.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("report JSON: %v", err)
	}
	c := rep.Consistency
	if rep.Label != "cli test" || rep.Transport != "ws" || rep.Seed != 3 || !c.OK || c.Sent == 0 ||
		c.WatcherRecvMin != c.Sent || c.WatcherRecvMax != c.Sent || rep.DrawerStats.SentMsgs != c.Sent {
		t.Fatalf("report: %+v", rep)
	}
	if rep.RTT.Count != uint64(c.Sent) || !(rep.RTT.MinMs > 0) || rep.RTT.P50Ms > rep.RTT.P99Ms {
		t.Fatalf("rtt %+v for %d messages", rep.RTT, c.Sent)
	}

	stdout.Reset()
	if err := run(ctx, []string{"bots", "--table", out}, nil, &stdout, &stderr); err != nil {
		t.Fatalf("table: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[2], "| cli test | ws | 4 |") || !strings.HasSuffix(lines[2], "| OK |") {
		t.Fatalf("table:\n%s", stdout.String())
	}
}

func TestBotsUsage(t *testing.T) {
	for _, args := range [][]string{
		{"bots"},                    // no server
		{"bots", "--server", "x:1"}, // no session
		{"bots", "--server", "ftp://x", "--session", "s"},
		{"bots", "--server", "x:1", "--session", "s", "--fill", "12 parsecs"},
		{"bots", "--server", "x:1", "--session", "s", "extra"},
	} {
		var out bytes.Buffer
		if err := run(context.Background(), args, nil, &out, &out); !errors.Is(err, errUsage) {
			t.Errorf("%q: error %v, want usage", args, err)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"15MB", 15_000_000, true},
		{"99MB", 99_000_000, true},
		{"1.5 GB", 1_500_000_000, true},
		{"2MiB", 2 << 20, true},
		{"512", 512, true},
		{"10kb", 10_000, true},
		{"MB", 0, false},
		{"-1MB", 0, false},
		{"3 furlongs", 0, false},
	} {
		got, err := parseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a log sink shared by the bridge's goroutines and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRunNotifiesSystemd runs the bridge as systemd would start a
// Type=notify service and checks READY=1, a watchdog ping and STOPPING=1
// on a real notification socket.
func TestRunNotifiesSystemd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify.sock")
	sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	env := map[string]string{"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "100000"}
	ctx, cancel := context.WithCancel(context.Background())
	var logs lockedBuffer
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"--listen", "127.0.0.1", "--port", "0", "--http", "127.0.0.1:0"},
			func(k string) string { return env[k] }, &logs)
	}()
	next := func() string {
		t.Helper()
		buf := make([]byte, 512)
		sock.SetReadDeadline(time.Now().Add(20 * time.Second))
		n, err := sock.Read(buf)
		if err != nil {
			t.Fatalf("no notification: %v\nlog:\n%s", err, logs.String())
		}
		return string(buf[:n])
	}
	if got := next(); got != "READY=1" {
		t.Fatalf("first notification %q, want READY=1", got)
	}
	if got := next(); got != "WATCHDOG=1" {
		t.Fatalf("second notification %q, want WATCHDOG=1", got)
	}
	cancel()
	for {
		got := next()
		if got == "STOPPING=1" {
			break
		}
		if got != "WATCHDOG=1" {
			t.Fatalf("unexpected notification %q", got)
		}
	}
	if err := <-errc; err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(logs.String(), "listening") {
		t.Errorf("log does not mention the listeners:\n%s", logs.String())
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	var logs lockedBuffer
	err := run(context.Background(), []string{"--config", "a.ini", "--database", "b.db"}, func(string) string { return "" }, &logs)
	if err == nil {
		t.Fatal("--config with --database accepted")
	}
}

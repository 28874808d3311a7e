package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"drawbridge/internal/bridge"
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

func TestGenerateCryptKey(t *testing.T) {
	var out bytes.Buffer
	old := stdout
	stdout = &out
	t.Cleanup(func() { stdout = old })
	var logs lockedBuffer
	if err := run(context.Background(), []string{"--generate-crypt-key"}, func(string) string { return "" }, &logs); err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(out.String())
	raw, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(raw) != 32 {
		t.Fatalf("generated key %q: %d bytes, %v", key, len(raw), err)
	}
	// The generated key is accepted by --crypt-key.
	if _, err := bridge.ParseFlags([]string{"--crypt-key", key}, &logs); err != nil {
		t.Fatalf("generated key refused: %v", err)
	}
}

func TestBadCryptKeyIsFatal(t *testing.T) {
	for _, key := range []string{"not base64!", base64.StdEncoding.EncodeToString(make([]byte, 16))} {
		var logs lockedBuffer
		if err := run(context.Background(), []string{"--crypt-key", key}, func(string) string { return "" }, &logs); err == nil {
			t.Errorf("--crypt-key %q accepted", key)
		}
	}
}

package systemd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// notifySocket creates a unixgram socket like systemd's and returns its path
// and a function that reads the next datagram.
func notifySocket(t *testing.T) (string, func() string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return path, func() string {
		t.Helper()
		buf := make([]byte, 4096)
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("read notification: %v", err)
		}
		return string(buf[:n])
	}
}

func TestNotify(t *testing.T) {
	path, next := notifySocket(t)
	n := NewNotifier(path)
	if !n.Enabled() {
		t.Fatal("notifier with a socket is not enabled")
	}
	if err := n.Ready(); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != "READY=1" {
		t.Errorf("got %q, want READY=1", got)
	}
	if err := n.Notify("STATUS=2 sessions\nMAINPID=1"); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != "STATUS=2 sessions\nMAINPID=1" {
		t.Errorf("got %q", got)
	}
}

func TestNotifyDisabled(t *testing.T) {
	n := NewNotifier("")
	if n.Enabled() {
		t.Fatal("empty socket must disable notifications")
	}
	if err := n.Ready(); err != nil {
		t.Errorf("no-op notifier returned %v", err)
	}
}

func TestNotifyMissingSocket(t *testing.T) {
	n := NewNotifier(filepath.Join(t.TempDir(), "absent.sock"))
	if err := n.Ready(); err == nil {
		t.Error("notify to a missing socket succeeded")
	}
}

func TestWatchdogInterval(t *testing.T) {
	tests := []struct {
		name, usec, pid string
		want            time.Duration
		wantErr         bool
	}{
		{"unset", "", "", 0, false},
		{"ours", "4000000", "42", 2 * time.Second, false},
		{"any pid", "1000000", "", 500 * time.Millisecond, false},
		{"other process", "1000000", "7", 0, false},
		{"garbage", "soon", "", 0, true},
		{"negative", "-5", "", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := WatchdogInterval(tc.usec, tc.pid, 42)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("WatchdogInterval(%q,%q) = %v, %v; want %v, err=%v", tc.usec, tc.pid, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestRunWatchdogPingsWhileHealthy(t *testing.T) {
	path, next := notifySocket(t)
	n := NewNotifier(path)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.RunWatchdog(ctx, 10*time.Millisecond, func() bool { return true }); close(done) }()
	for range 3 {
		if got := next(); got != "WATCHDOG=1" {
			t.Fatalf("got %q, want WATCHDOG=1", got)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("RunWatchdog did not return after cancel")
	}
}

func TestListenersNotActivated(t *testing.T) {
	for _, tc := range [][3]string{{"", "", ""}, {"1", "", ""}, {"999999", "1", ""}} {
		if _, err := Listeners(tc[0], tc[1], tc[2], 42); !errors.Is(err, ErrNotActivated) {
			t.Errorf("Listeners(%q) = %v, want ErrNotActivated", tc, err)
		}
	}
	if _, err := Listeners("42", "many", "", 42); err == nil || errors.Is(err, ErrNotActivated) {
		t.Errorf("bad LISTEN_FDS accepted: %v", err)
	}
}

// TestSocketActivation hands a real listening socket to a child process at
// fd 3, as systemd does, and checks that the child serves on it.
func TestSocketActivation(t *testing.T) {
	if os.Getenv("SYSTEMD_TEST_CHILD") == "1" {
		activatedChild()
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSocketActivation$")
	cmd.ExtraFiles = []*os.File{f} // becomes fd 3
	cmd.Env = append(os.Environ(), "SYSTEMD_TEST_CHILD=1", "LISTEN_FDS=1", "LISTEN_FDNAMES=drawpile")
	// systemd sets LISTEN_PID between fork and exec, which exec.Cmd cannot;
	// the child therefore uses its own pid as LISTEN_PID.
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, stderr)
	conn, err := net.DialTimeout("tcp", ln.Addr().String(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	buf, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	if want := "hello from fd 3 (drawpile)"; string(buf) != want {
		t.Errorf("child said %q, want %q", buf, want)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("child failed: %v", err)
	}
}

func activatedChild() {
	pid := os.Getpid()
	lns, err := Listeners(strconv.Itoa(pid), os.Getenv("LISTEN_FDS"), os.Getenv("LISTEN_FDNAMES"), pid)
	if err != nil || len(lns) != 1 {
		fmt.Fprintln(os.Stderr, "child:", err, len(lns))
		os.Exit(3)
	}
	conn, err := lns[0].Accept()
	if err != nil {
		os.Exit(4)
	}
	fmt.Fprintf(conn, "hello from fd 3 (%s)", strings.TrimSpace(lns[0].Name))
	conn.Close()
	os.Exit(0)
}

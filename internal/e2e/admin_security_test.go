package e2e

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"drawbridge/internal/bridge"
)

// freePort returns a TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// nonLoopbackIPv4 returns an IPv4 address of this machine that is not
// loopback (the test machines have one on eth0).
func nonLoopbackIPv4(t *testing.T) netip.Addr {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() && !p.Addr().IsLoopback() {
			return p.Addr()
		}
	}
	t.Fatal("this machine has no non-loopback IPv4 address to test from")
	return netip.Addr{}
}

// startAdminFromFlags starts a bridge and an admin listener configured
// from command-line flags, as cmd/bridge does.
func startAdminFromFlags(t *testing.T, args ...string) *bridge.AdminServer {
	t.Helper()
	var cfg bridge.AdminConfig
	fs := flag.NewFlagSet("bridge", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	bridge.RegisterAdminFlags(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := context.Background()
	b, err := bridge.Start(ctx, bridge.Config{TCPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"}, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	adm, err := bridge.StartAdmin(ctx, b, cfg)
	if err != nil {
		t.Fatalf("start admin with %v: %v", args, err)
	}
	t.Cleanup(func() { adm.Close() })
	return adm
}

// getFrom performs GET url with the connection's source address bound to
// src.
func getFrom(t *testing.T, src netip.Addr, url string) (int, error) {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: src.AsSlice()}, Timeout: 5 * time.Second}
	c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}, Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	res, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	return res.StatusCode, nil
}

// TestAdminDefaultLoopbackOnly: with only --web-admin-port the admin API
// is bound to 127.0.0.1, so it cannot be reached on the machine's
// non-loopback address.
func TestAdminDefaultLoopbackOnly(t *testing.T) {
	port := freePort(t)
	adm := startAdminFromFlags(t, "--web-admin-port", strconv.Itoa(port))
	if want := "127.0.0.1:" + strconv.Itoa(port); adm.Addr() != want {
		t.Fatalf("admin listens on %s, want %s", adm.Addr(), want)
	}
	ext := nonLoopbackIPv4(t)
	if code, err := getFrom(t, ext, "http://"+net.JoinHostPort(ext.String(), strconv.Itoa(port))+"/api/status"); err == nil {
		t.Fatalf("admin API reachable on %s (status %d)", ext, code)
	}
	if code, err := getFrom(t, netip.MustParseAddr("127.0.0.1"), "http://"+adm.Addr()+"/api/status"); err != nil || code != 200 {
		t.Fatalf("loopback: %d %v", code, err)
	}
}

// TestAdminAccessFilter: even when bound to all interfaces, the default
// access rule refuses non-loopback clients; a subnet rule or "all" admits
// them.
func TestAdminAccessFilter(t *testing.T) {
	ext := nonLoopbackIPv4(t)
	subnet := netip.PrefixFrom(ext, 24).Masked().String()
	cases := []struct {
		name   string
		access []string
		want   int
	}{
		{"default", nil, http.StatusForbidden},
		{"loopback", []string{"--web-admin-access", "loopback"}, http.StatusForbidden},
		{"other subnet", []string{"--web-admin-access", "203.0.113.0/24"}, http.StatusForbidden},
		{"subnet", []string{"--web-admin-access", subnet}, http.StatusOK},
		{"all", []string{"--web-admin-access", "all"}, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			port := freePort(t)
			args := append([]string{"--web-admin-port", strconv.Itoa(port), "--web-admin-listen", "0.0.0.0"}, tc.access...)
			startAdminFromFlags(t, args...)
			url := "http://" + net.JoinHostPort(ext.String(), strconv.Itoa(port))
			for _, path := range []string{"/api/status", "/metrics", "/"} {
				code, err := getFrom(t, ext, url+path)
				if err != nil || code != tc.want {
					t.Errorf("GET %s from %s: %d %v, want %d", path, ext, code, err, tc.want)
				}
			}
			if code, err := getFrom(t, netip.MustParseAddr("127.0.0.1"), "http://"+net.JoinHostPort("127.0.0.1", strconv.Itoa(port))+"/api/status"); err != nil || code != 200 {
				t.Errorf("loopback: %d %v", code, err)
			}
		})
	}
}

func TestAdminFlagValidation(t *testing.T) {
	for _, args := range [][]string{
		{"--web-admin-port", "70000"},
		{"--web-admin-port", "1", "--web-admin-access", "not-a-net"},
		{"--web-admin-port", "1", "--web-admin-auth", "nocolon"},
	} {
		var cfg bridge.AdminConfig
		fs := flag.NewFlagSet("bridge", flag.ContinueOnError)
		bridge.RegisterAdminFlags(fs, &cfg)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}

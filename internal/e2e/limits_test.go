package e2e

import (
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"drawbridge/internal/bridge"
	"drawbridge/internal/client"
	"drawbridge/protocol"
)

// TestConnectionLimitPerIP: with loopback not exempt, the third connection
// from 127.0.0.1 is refused with a Disconnect that says why, over TCP and
// WebSocket, and a slot frees up when a connection closes.
func TestConnectionLimitPerIP(t *testing.T) {
	e := newEnv(t, func(c *bridge.Config) {
		c.Limits = bridge.LimitsConfig{MaxConnsPerIP: 2, Exempt: []netip.Prefix{}}
	})
	a, err := net.Dial("tcp", e.tcpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b := e.dial(tcp)
	if _, err := b.ReadGreeting(e.ctx); err != nil {
		t.Fatalf("second connection: %v", err)
	}
	readGreetingRaw(t, a) // the first one is served too

	third, err := net.Dial("tcp", e.tcpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	third.SetReadDeadline(time.Now().Add(10 * time.Second))
	f, err := protocol.NewReader(third).ReadFrame()
	if err != nil {
		t.Fatalf("third connection: no message before close: %v", err)
	}
	m, err := protocol.Decode(f, protocol.Layout425)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := m.(protocol.Disconnect)
	if !ok || !strings.Contains(d.Message, "Too many connections") {
		t.Fatalf("third connection got %#v, want a Disconnect about too many connections", m)
	}
	resp, err := http.Get("http://" + e.httpAddr + "/ws")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("websocket over the limit: %s, want 429", resp.Status)
	}

	a.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := e.dial(tcp)
		_, err := c.ReadGreeting(e.ctx)
		c.Close()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot not released after a connection closed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readGreetingRaw(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	hdr := make([]byte, 4)
	if _, err := io.ReadFull(c, hdr); err != nil || hdr[2] != 0 {
		t.Fatalf("first connection: no greeting (%v, % x)", err, hdr)
	}
}

// TestLoginAttemptLimit: password attempts from one address beyond the
// burst end the login with a message, even across new connections.
func TestLoginAttemptLimit(t *testing.T) {
	e := newEnv(t, func(c *bridge.Config) {
		c.Limits = bridge.LimitsConfig{LoginBurst: 3, LoginInterval: time.Hour}
	})
	host := e.host("Host", tcp, client.HostOptions{Alias: "guarded", Password: "right"})
	defer host.Close()
	for i := range 3 {
		c, err := e.joinOpts("Guesser", tcp, client.JoinOptions{Session: "guarded", Password: "wrong"})
		c.Close()
		if client.ErrorCode(err) != client.CodeBadPassword || strings.Contains(err.Error(), "Too many") {
			t.Fatalf("attempt %d: %v, want a plain wrong-password error", i+1, err)
		}
	}
	c, err := e.joinOpts("Guesser", tcp, client.JoinOptions{Session: "guarded", Password: "right"})
	c.Close()
	if err == nil || !strings.Contains(err.Error(), "Too many password attempts") {
		t.Fatalf("4th attempt: %v, want the rate-limit message", err)
	}
}

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"testing"
	"time"

	"github.com/coder/websocket"

	"drawbridge/internal/bridge"
	"drawbridge/internal/client"
)

// spectatorLink sends spectator-link (rotate or not) as c and returns the
// reply's secret.
func (e *env) spectatorLink(c *client.Client, rotate bool) string {
	e.t.Helper()
	cmd := client.Command{Cmd: "spectator-link"}
	if rotate {
		cmd.Kwargs = map[string]any{"rotate": true}
	}
	if err := c.SendCommand(e.ctx, cmd); err != nil {
		e.t.Fatal(err)
	}
	got := e.until(c, "spectatorlink reply", reply("spectatorlink"))
	var r struct {
		Secret, Watch, Embed string
		Rotated              bool
	}
	if err := json.Unmarshal(got[len(got)-1].Reply.Raw, &r); err != nil {
		e.t.Fatal(err)
	}
	if r.Watch != "/watch/"+r.Secret || r.Embed != "/embed/"+r.Secret || r.Rotated != rotate {
		e.t.Fatalf("spectatorlink reply %+v", r)
	}
	return r.Secret
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestSpectatorLinkRotation: an operator gets the spectator link over the
// session protocol; it works on /watch; rotating it makes the old page
// 404 and disconnects the spectators who used it, while the new link works.
func TestSpectatorLinkRotation(t *testing.T) {
	e := newEnv(t)
	alice := e.host("alice", ws, client.HostOptions{Config: &client.SessionConf{Title: client.Ptr("rotate")}})
	old := e.spectatorLink(alice, false)
	base := "http://" + e.httpAddr
	sp, err := dialSpectator(e.ctx, "ws://"+e.httpAddr+"/watch/"+old+"/ws")
	if err != nil {
		t.Fatal(err)
	}
	defer sp.c.CloseNow()

	sec := e.spectatorLink(alice, true)
	if sec == old {
		t.Fatal("rotation kept the secret")
	}
	// The old spectator is disconnected with a reason.
	for {
		_, err := sp.read(e.ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || ce.Reason != "spectator link changed" {
			t.Fatalf("old spectator ended with %v, want a close for the changed link", err)
		}
		break
	}
	for _, p := range []string{"/watch/" + old, "/embed/" + old, "/watch/" + old + "/ws"} {
		if st := httpStatus(t, base+p); st != http.StatusNotFound {
			t.Errorf("%s after rotation: %d, want 404", p, st)
		}
	}
	sp2, err := dialSpectator(e.ctx, "ws://"+e.httpAddr+"/watch/"+sec+"/ws")
	if err != nil {
		t.Fatalf("new link: %v", err)
	}
	sp2.c.CloseNow()
}

// TestSpectatorAndProxyLimitsPerIP: with loopback not exempt, the third
// spectator socket and the third proxied connection from 127.0.0.1 are
// refused with 429, each limit counts only its own kind, and closing a
// connection frees its slot.
func TestSpectatorAndProxyLimitsPerIP(t *testing.T) {
	up := newEnv(t)
	e := newEnv(t, func(c *bridge.Config) {
		c.Limits = bridge.LimitsConfig{MaxWatchPerIP: 2, MaxProxyPerIP: 2, Exempt: []netip.Prefix{}}
		c.Proxy = bridge.ProxyConfig{Upstreams: []string{up.tcpAddr}}
	})
	alice := e.host("alice", tcp, client.HostOptions{})
	secret := e.b.Server().Lookup(alice.JoinInfo().ID).WatchSecret()
	watchURL := "ws://" + e.httpAddr + "/watch/" + secret + "/ws"

	var viewers []*spectator
	for i := range 2 {
		sp, err := dialSpectator(e.ctx, watchURL)
		if err != nil {
			t.Fatalf("spectator %d: %v", i, err)
		}
		defer sp.c.CloseNow()
		viewers = append(viewers, sp)
	}
	if _, err := dialSpectator(e.ctx, watchURL); err == nil {
		t.Fatal("third spectator accepted")
	}
	if st := httpStatus(t, "http://"+e.httpAddr+"/watch/"+secret+"/ws"); st != http.StatusTooManyRequests {
		t.Fatalf("third spectator: HTTP %d, want 429", st)
	}

	host, port, _ := net.SplitHostPort(up.tcpAddr)
	proxyPath := fmt.Sprintf("/proxy/ws?host=%s&port=%s", host, port)
	var relays []*websocket.Conn
	for i := range 2 { // spectators do not count against the proxy limit
		c, _, err := websocket.Dial(e.ctx, "ws://"+e.httpAddr+proxyPath, nil)
		if err != nil {
			t.Fatalf("proxied connection %d: %v", i, err)
		}
		defer c.CloseNow()
		relays = append(relays, c)
	}
	if st := httpStatus(t, "http://"+e.httpAddr+proxyPath); st != http.StatusTooManyRequests {
		t.Fatalf("third proxied connection: HTTP %d, want 429", st)
	}
	// Direct sessions are unaffected by both limits.
	bob, err := e.joinOpts("bob", ws, client.JoinOptions{Session: alice.JoinInfo().ID})
	if err != nil {
		t.Fatalf("direct join with spectators and relays at their limits: %v", err)
	}
	bob.Close()

	// Closing one of each frees a slot.
	viewers[0].c.Close(websocket.StatusNormalClosure, "")
	relays[0].Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(10 * time.Second)
	for {
		sp, err := dialSpectator(e.ctx, watchURL)
		if err == nil {
			sp.c.CloseNow()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("spectator slot not released: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for {
		c, _, err := websocket.Dial(e.ctx, "ws://"+e.httpAddr+proxyPath, nil)
		if err == nil {
			c.CloseNow()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("proxy slot not released: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var httpListenRE = regexp.MustCompile(`msg=listening .*http=(\S+)`)

// TestSpectatorLinkSurvivesRestart: a file-backed session's spectator
// secret (here a rotated one) is journaled, so after the bridge process is
// killed and restarted on the same --sessions directory the same link
// still works and the rotated-away one does not.
func TestSpectatorLinkSurvivesRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bridge binary")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bin := buildBridge(t)
	dir := t.TempDir()

	p := startBridge(t, ctx, bin, "--sessions", dir)
	tr, err := client.DialTCP(ctx, p.tcpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	host := client.New(tr, client.Options{Info: client.DefaultClientInfo(newSystemID())})
	if _, err := host.Login(ctx, client.LoginOptions{Ident: client.IdentOptions{Name: "host"},
		Host: &client.HostOptions{Alias: "watchme"}}); err != nil {
		t.Fatalf("host: %v\n%s", err, p.logs())
	}
	if err := host.Initialize(ctx, snapshot(t, host.UserID())); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx}
	first := e.spectatorLink(host, false)
	sec := e.spectatorLink(host, true)
	if _, err := syncErr(ctx, host); err != nil {
		t.Fatal(err)
	}
	p.kill()

	p2 := startBridge(t, ctx, bin, "--sessions", dir)
	m := httpListenRE.FindStringSubmatch(p2.logs())
	if m == nil {
		t.Fatalf("no HTTP address in the log:\n%s", p2.logs())
	}
	sp, err := dialSpectator(ctx, "ws://"+m[1]+"/watch/"+sec+"/ws")
	if err != nil {
		t.Fatalf("spectator link after restart: %v\n%s", err, p2.logs())
	}
	// The restored history is read back from the file for the spectator.
	pl := newCanvasPlayer()
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := sp.until(wctx, t, pl, func() bool { return pl.caughtUp && pl.cv.Width() == 256 }); err != nil {
		t.Fatalf("spectator of the restored session: canvas %d wide after %d messages: %v\n%s", pl.cv.Width(), pl.msgs, err, p2.logs())
	}
	sp.c.CloseNow()
	resp, err := http.Get("http://" + m[1] + "/watch/" + first + "/ws")
	if err != nil {
		t.Fatalf("%v\n%s", err, p2.logs())
	}
	resp.Body.Close()
	if st := resp.StatusCode; st != http.StatusNotFound {
		t.Errorf("rotated-away link after restart: HTTP %d, want 404\n%s", st, p2.logs())
	}
}

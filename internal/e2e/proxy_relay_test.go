package e2e

// Proxy mode (issue #8): a second bridge instance is the upstream; the
// proxy (bridge.ProxyHandler, the same routes a Bridge mounts) relays
// WebSocket clients to it over plain TCP or STARTTLS.

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sync/errgroup"

	"drawbridge/internal/bridge"
	"drawbridge/internal/client"
	"drawbridge/internal/client/wsconn"
	"drawbridge/internal/wsproxy"
	"drawbridge/protocol"
)

// proxyEnv is a proxy in front of upstream servers.
type proxyEnv struct {
	*env // the upstream bridge (or nil fields when the upstream is fake)
	h    *bridge.ProxyHandler
	srv  *httptest.Server
}

// newProxy starts a standalone proxy handler with cfg on 127.0.0.1.
func newProxy(t *testing.T, up *env, cfg bridge.ProxyConfig) *proxyEnv {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	h, err := bridge.NewProxyHandler(cfg, nil, logger)
	if err != nil {
		t.Fatalf("proxy handler: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		h.Close()
		srv.Close()
	})
	return &proxyEnv{env: up, h: h, srv: srv}
}

// proxyURL is the proxy's WebSocket URL for a relative path.
func (p *proxyEnv) wsURL(path string) string {
	return "ws://" + p.srv.Listener.Addr().String() + path
}

// dialProxy opens a client through the proxy; browser sends an Origin.
func (p *proxyEnv) dialProxy(t *testing.T, path string, browser bool) *client.Client {
	t.Helper()
	o := wsconn.DialOptions{}
	if browser {
		o.Origin = "http://" + p.srv.Listener.Addr().String()
	}
	tr, err := wsconn.Dial(p.ctx, p.wsURL(path), o)
	if err != nil {
		t.Fatalf("dial proxy: %v", err)
	}
	t.Cleanup(func() { tr.Close() })
	return client.New(tr, client.Options{Info: client.DefaultClientInfo(newSystemID())})
}

// upstreamPath is the proxy WebSocket path for host:port.
func upstreamPath(addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	return "/proxy/ws?" + url.Values{"host": {host}, "port": {port}}.Encode()
}

// hostDirect hosts session alias over direct TCP (STARTTLS with conf when
// the upstream requires it) and uploads the snapshot.
func (e *env) hostDirect(name, alias string, conf *tls.Config) *client.Client {
	e.t.Helper()
	c := e.dial(tcp)
	if _, err := c.Login(e.ctx, client.LoginOptions{TLS: conf, Ident: client.IdentOptions{Name: name}, Host: &client.HostOptions{Alias: alias}}); err != nil {
		e.t.Fatalf("%s: host: %v", name, err)
	}
	if err := c.Initialize(e.ctx, snapshot(e.t, c.UserID())); err != nil {
		e.t.Fatalf("%s: initialize: %v", name, err)
	}
	e.sync(c)
	return c
}

// certFilePin returns the SPKI pin of the PEM certificate in file.
func certFilePin(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM block", file)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return wsproxy.SPKIPin(cert)
}

// drawTogether has a and b draw and chat concurrently and checks that both
// see the same history in the same order.
func drawTogether(t *testing.T, e *env, clients ...*client.Client) {
	t.Helper()
	for _, c := range clients {
		e.sync(c)
	}
	const strokes = 4
	got := make([][]rec, len(clients))
	var g errgroup.Group
	for i, c := range clients {
		g.Go(func() error {
			for s := range strokes {
				u, d, p := stroke(c.UserID(), int32(10*i+s))
				for _, m := range []struct {
					t protocol.Type
					p []byte
				}{{128, u}, {148, d}, {140, p}} {
					if err := c.Send(e.ctx, m.t, m.p); err != nil {
						return err
					}
				}
				if err := c.Chat(e.ctx, fmt.Sprintf("%s stroke %d", c.Name(), s)); err != nil {
					return err
				}
			}
			last := map[uint8]bool{}
			for len(last) < len(clients) {
				m, err := c.Recv(e.ctx)
				if err != nil {
					return fmt.Errorf("%s: %w (have %d)", c.Name(), err, len(got[i]))
				}
				r := newRec(m)
				if !r.History {
					continue
				}
				got[i] = append(got[i], r)
				if r.Type == 35 && strings.HasSuffix(r.Payload, fmt.Sprintf("stroke %d", strokes-1)) {
					last[r.Ctx] = true
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if want := len(clients) * strokes * 4; len(got[0]) != want {
		t.Errorf("%s saw %d history messages, want %d", clients[0].Name(), len(got[0]), want)
	}
	for i := 1; i < len(got); i++ {
		if at, ok := sameHistory(got[0], got[i]); !ok {
			t.Errorf("%s's history differs from %s's at %d (lengths %d, %d)", clients[i].Name(), clients[0].Name(), at, len(got[i]), len(got[0]))
		}
	}
}

// TestProxyDrawTogether: a bot joining through the proxy (as a browser)
// and a bot connected directly to the upstream draw together and see the
// same history, over plain TCP and over STARTTLS with a self-signed
// certificate that the proxy pins on first use.
func TestProxyDrawTogether(t *testing.T) {
	t.Parallel()
	for _, useTLS := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "starttls"}[useTLS]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var conf *tls.Config
			var certFile string
			var opts []func(*bridge.Config)
			if useTLS {
				var keyFile string
				certFile, keyFile, conf = selfSigned(t, t.TempDir())
				opts = append(opts, func(c *bridge.Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
			}
			up := newEnv(t, opts...)
			pinFile := filepath.Join(t.TempDir(), "pins.json")
			p := newProxy(t, up, bridge.ProxyConfig{
				Upstreams: []string{up.tcpAddr},
				PinFile:   pinFile,
				Rooms:     []string{"SKETCH=" + up.tcpAddr + "/px"},
			})
			alice := up.hostDirect("Alice", "px", conf)

			// The join link resolves to the room's WebSocket path.
			var res struct{ WS, Session string }
			resolveJSON(t, p, "/api/proxy/resolve?room=sketch", http.StatusOK, &res)
			if res.Session != "px" || !strings.HasPrefix(res.WS, "/proxy/ws?") {
				t.Fatalf("resolve room: %+v", res)
			}
			bob := p.dialProxy(t, res.WS, true)
			if _, err := bob.Login(up.ctx, client.LoginOptions{HostName: "localhost", Ident: client.IdentOptions{Name: "Bob"}, Join: &client.JoinOptions{Session: res.Session}}); err != nil {
				t.Fatalf("join through proxy: %v", err)
			}
			if bob.HasFlag("TLS") || bob.HasFlag("SECURE") {
				t.Errorf("proxied greeting still offers TLS: %v", bob.Greeting().Flags)
			}
			if !bob.Browser() {
				t.Errorf("cinfo through the proxy: browser=false, want true (the relay applies the browser rules)")
			}
			if err := bob.WaitCaughtUp(up.ctx, nil); err != nil {
				t.Fatalf("catch up through proxy: %v", err)
			}
			if u := bob.Users(); u[alice.UserID()] != "Alice" {
				t.Errorf("Bob's user list %v lacks Alice", u)
			}
			drawTogether(t, up, alice, bob)

			pins, err := os.ReadFile(pinFile)
			if useTLS {
				if err != nil {
					t.Fatalf("pin file after a STARTTLS relay: %v", err)
				}
				var m map[string]string
				if err := json.Unmarshal(pins, &m); err != nil {
					t.Fatalf("pin file: %v", err)
				}
				if want := certFilePin(t, certFile); m[up.tcpAddr] != want {
					t.Errorf("pin for %s = %q, want %q", up.tcpAddr, m[up.tcpAddr], want)
				}
				// A restarted proxy reads the pin and accepts the same key.
				p2 := newProxy(t, up, bridge.ProxyConfig{Upstreams: []string{up.tcpAddr}, PinFile: pinFile})
				carol := p2.dialProxy(t, upstreamPath(up.tcpAddr), true)
				if err := loginErr(p2, carol, "Carol", "px"); err != nil {
					t.Errorf("join through a restarted proxy with the saved pin: %v", err)
				}
			} else if err == nil && strings.Contains(string(pins), up.tcpAddr) {
				t.Errorf("plain upstream got pinned: %s", pins)
			}
		})
	}
}

// resolveJSON GETs a proxy API path and decodes the JSON answer.
func resolveJSON(t *testing.T, p *proxyEnv, path string, status int, v any) {
	t.Helper()
	resp, err := http.Get(p.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != status {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: status %d, want %d (%s)", path, resp.StatusCode, status, b)
	}
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
}

// loginErr logs in through the proxy and returns the error.
func loginErr(p *proxyEnv, c *client.Client, name, session string) error {
	_, err := c.Login(p.ctx, client.LoginOptions{Ident: client.IdentOptions{Name: name}, Join: &client.JoinOptions{Session: session}})
	return err
}

// TestProxyPins: a TLS upstream whose key differs from the pin is refused
// with upstreamCertChanged, and a pinned upstream that stops offering TLS
// with upstreamNoTls; nothing is relayed in either case.
func TestProxyPins(t *testing.T) {
	t.Parallel()
	certFile, keyFile, conf := selfSigned(t, t.TempDir())
	upTLS := newEnv(t, func(c *bridge.Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	upTLS.hostDirect("Alice", "pinned", conf)
	upPlain := newEnv(t)
	upPlain.hostDirect("Alice", "plain", nil)

	pinFile := filepath.Join(t.TempDir(), "pins.json")
	bogus := strings.Repeat("ab", 32)
	pins := map[string]string{upTLS.tcpAddr: bogus, upPlain.tcpAddr: bogus}
	b, _ := json.Marshal(pins)
	if err := os.WriteFile(pinFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, upTLS, bridge.ProxyConfig{Upstreams: []string{upTLS.tcpAddr, upPlain.tcpAddr}, PinFile: pinFile})

	for _, tc := range []struct {
		name, addr, session, code string
	}{
		{"changed key", upTLS.tcpAddr, "pinned", wsproxy.CodeCertChanged},
		{"tls dropped", upPlain.tcpAddr, "plain", wsproxy.CodeNoTLS},
	} {
		c := p.dialProxy(t, upstreamPath(tc.addr), true)
		err := loginErr(p, c, "Mallory", tc.session)
		if code := client.ErrorCode(err); code != tc.code {
			t.Errorf("%s: login error %v, want code %s", tc.name, err, tc.code)
		}
	}
	// The pin was not overwritten by the refused certificate.
	if got, _ := p.h.Pins().Get(wsproxy.Target{Host: "127.0.0.1", Port: portOf(t, upTLS.tcpAddr)}); got != bogus {
		t.Errorf("pin after refusal = %q, want the old %q", got, bogus)
	}
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	tgt, err := wsproxy.ParseTarget(addr)
	if err != nil {
		t.Fatal(err)
	}
	return tgt.Port
}

// acceptRecorder is a TCP listener that records every connection it
// accepts (and what each sent first).
type acceptRecorder struct {
	ln net.Listener
	mu sync.Mutex
	c  chan string // first bytes of each accepted connection
}

func newAcceptRecorder(t *testing.T) *acceptRecorder {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &acceptRecorder{ln: ln, c: make(chan string, 16)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 8)
			n, _ := io.ReadFull(conn, buf)
			a.c <- string(buf[:n])
			conn.Close()
		}
	}()
	return a
}

// TestProxyNotAllowlisted: an upstream that is not on the allowlist is
// refused with a clear error on every route, and the proxy never connects
// to it: the first connection the target ever accepts is the test's own
// sentinel, made after the refusals.
func TestProxyNotAllowlisted(t *testing.T) {
	t.Parallel()
	up := newEnv(t)
	target := newAcceptRecorder(t)
	addr := target.ln.Addr().String()
	p := newProxy(t, up, bridge.ProxyConfig{Upstreams: []string{up.tcpAddr}})

	c := p.dialProxy(t, upstreamPath(addr), true)
	err := loginErr(p, c, "Eve", "anything")
	var se *client.ServerError
	if !errors.As(err, &se) || se.Code != wsproxy.CodeNotAllowed || !strings.Contains(se.Message, addr) {
		t.Errorf("login to a non-allowlisted upstream: %v, want error %s naming %s", err, wsproxy.CodeNotAllowed, addr)
	}
	var res struct{ Code string }
	host, port, _ := net.SplitHostPort(addr)
	resolveJSON(t, p, "/api/proxy/resolve?host="+host+"&port="+port+"&session=x", http.StatusForbidden, &res)
	if res.Code != wsproxy.CodeNotAllowed {
		t.Errorf("resolve: code %q, want %s", res.Code, wsproxy.CodeNotAllowed)
	}
	resolveJSON(t, p, "/api/proxy/resolve?link="+url.QueryEscape("drawpile://"+addr+"/x"), http.StatusForbidden, nil)
	resolveJSON(t, p, "/join?host="+host+"&port="+port+"&session=x", http.StatusForbidden, nil)
	// The same host on an allowed port is not enough: ports are exact.
	resolveJSON(t, p, "/api/proxy/resolve?host="+host+"&session=x", http.StatusForbidden, nil)

	sentinel, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	sentinel.Write([]byte("sentinel"))
	sentinel.Close()
	select {
	case first := <-target.c:
		if first != "sentinel" {
			t.Fatalf("the refused upstream accepted a connection from the proxy (sent %q)", first)
		}
	case <-p.ctx.Done():
		t.Fatal("sentinel connection never accepted")
	}
}

// cutter forwards TCP connections to an upstream until cut, which drops
// them without any goodbye (a crashed server or a broken network).
type cutter struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newCutter(t *testing.T, upstream string) *cutter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{ln: ln}
	t.Cleanup(c.cut)
	go func() {
		for {
			a, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", upstream)
			if err != nil {
				a.Close()
				continue
			}
			c.mu.Lock()
			c.conns = append(c.conns, a, b)
			c.mu.Unlock()
			go func() { io.Copy(a, b); a.Close() }()
			go func() { io.Copy(b, a); b.Close() }()
		}
	}()
	return c
}

func (c *cutter) cut() {
	c.ln.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		conn.Close()
	}
}

// TestProxyUpstreamGone: when the upstream connection drops mid-session
// the browser gets a Disconnect saying so; when the upstream shuts down
// with its own Disconnect, that one is passed through.
func TestProxyUpstreamGone(t *testing.T) {
	t.Parallel()
	up := newEnv(t)
	alice := up.hostDirect("Alice", "gone", nil)
	cut := newCutter(t, up.tcpAddr)
	p := newProxy(t, up, bridge.ProxyConfig{Upstreams: []string{cut.ln.Addr().String(), up.tcpAddr}})

	bob := p.dialProxy(t, upstreamPath(cut.ln.Addr().String()), true)
	if err := loginErr(p, bob, "Bob", "gone"); err != nil {
		t.Fatal(err)
	}
	up.sync(bob)
	cut.cut()
	de := up.expectClosed(bob)
	if de == nil || de.Reason != protocol.DisconnectError || !strings.Contains(de.Message, "Lost the connection") {
		t.Errorf("after the upstream vanished: Disconnect %+v, want reason Error and a lost-connection message", de)
	}

	carol := p.dialProxy(t, upstreamPath(up.tcpAddr), true)
	if err := loginErr(p, carol, "Carol", "gone"); err != nil {
		t.Fatal(err)
	}
	up.sync(carol)
	// A kick is the upstream's own Disconnect: passed through as is.
	if err := alice.Kick(up.ctx, int(carol.UserID()), false); err != nil {
		t.Fatal(err)
	}
	de = up.expectClosed(carol)
	if de == nil || de.Reason != protocol.DisconnectKick || de.Message != "Alice" {
		t.Errorf("kicked through the proxy: Disconnect %+v, want reason Kick by Alice", de)
	}
}

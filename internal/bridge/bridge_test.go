package bridge

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"drawbridge/protocol"
)

func startBridge(t *testing.T, mod func(*Config)) *Bridge {
	t.Helper()
	cfg := Config{TCPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"}
	if mod != nil {
		mod(&cfg)
	}
	b, err := Start(context.Background(), cfg, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// rawConn speaks 4-byte frames over a net.Conn.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	rd *protocol.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc, rd: protocol.NewReader(bufio.NewReader(nc))}
}

func (r *rawConn) cmd(name string, args []any, kwargs map[string]any) {
	r.t.Helper()
	c, err := protocol.NewCommand(name, args, kwargs)
	if err != nil {
		r.t.Fatal(err)
	}
	f, _ := c.Frame()
	r.write(f)
}

func (r *rawConn) write(f protocol.Frame) {
	r.t.Helper()
	_ = r.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.nc.Write(f); err != nil {
		r.t.Fatal(err)
	}
}

// next reads the next frame (cloned).
func (r *rawConn) next() protocol.Frame {
	r.t.Helper()
	_ = r.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	f, err := r.rd.ReadFrame()
	if err != nil {
		r.t.Fatalf("read: %v", err)
	}
	return f.Clone()
}

// until reads frames until one is a JSON reply with the given key/value.
func (r *rawConn) until(key, value string) map[string]any {
	r.t.Helper()
	for {
		f := r.next()
		if f.Type() != 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(f.Payload(), &m); err != nil {
			r.t.Fatalf("bad json %s", f.Payload())
		}
		if s, _ := m[key].(string); s == value {
			return m
		}
	}
}

func clientInfo() map[string]any {
	return map[string]any{"app_version": "2.3.1", "protocol_version": "dp:4.25.1", "qt_version": "5", "os": "linux",
		"s": "0123456789abcdef0123456789abcdef", "m": "eA==", "capabilities": "KEEPALIVE"}
}

func hostOn(r *rawConn, name, alias string) {
	r.cmd("ident", []any{name}, nil)
	r.until("message", "Welcome")
	kw := clientInfo()
	kw["protocol"], kw["user_id"], kw["alias"] = "dp:4.25.1", 1, alias
	r.cmd("host", nil, kw)
	r.until("state", "host")
	r.cmd("init-complete", nil, nil)
}

func TestTCPHostAndRoomAPI(t *testing.T) {
	b := startBridge(t, nil)
	host := dialRaw(t, b.TCPAddr())
	g := host.until("type", "login")
	if g["version"].(float64) != 4 {
		t.Fatalf("greeting %v", g)
	}
	hostOn(host, "Alice", "myroom")
	s := b.Server().Lookup("myroom")
	if s == nil {
		t.Fatal("session not registered")
	}
	resp, err := http.Get("http://" + b.HTTPAddr() + "/api/rooms/" + strings.ToLower(s.Code()))
	if err != nil {
		t.Fatal(err)
	}
	var info roomInfo
	err = json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("room api: %v %d", err, resp.StatusCode)
	}
	if info.ID != s.ID() || info.Protocol != "dp:4.25.1" || info.Code != s.Code() || info.HasPassword {
		t.Fatalf("room info %+v", info)
	}
	resp, err = http.Get("http://" + b.HTTPAddr() + "/api/rooms/ZZZZZZ")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown room: %d", resp.StatusCode)
	}
	resp, err = http.Get("http://" + b.HTTPAddr() + "/r/" + s.Code())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(strings.ToLower(string(body)), "<html") {
		t.Fatalf("/r/CODE: %d %q", resp.StatusCode, body)
	}

	// Join by room code over WebSocket, at both paths, from a browser on
	// the bridge's own origin and from a desktop client (no Origin).
	for _, tc := range []struct {
		path, origin string
		browser      bool
	}{{"/ws", "http://" + b.HTTPAddr(), true}, {"/drawpile-web/ws", "", false}} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		h := http.Header{}
		if tc.origin != "" {
			h.Set("Origin", tc.origin)
		}
		ws, _, err := websocket.Dial(ctx, "ws://"+b.HTTPAddr()+tc.path, &websocket.DialOptions{HTTPHeader: h})
		if err != nil {
			cancel()
			t.Fatalf("%s: %v", tc.path, err)
		}
		send := func(name string, args []any, kw map[string]any) {
			c, _ := protocol.NewCommand(name, args, kw)
			f, _ := c.Frame()
			if err := ws.Write(ctx, websocket.MessageBinary, f.WS()); err != nil {
				t.Fatal(err)
			}
		}
		until := func(key, value string) map[string]any {
			for {
				typ, data, err := ws.Read(ctx)
				if err != nil {
					t.Fatalf("%s: read: %v", tc.path, err)
				}
				if typ != websocket.MessageBinary || len(data) < 2 {
					t.Fatalf("bad ws message %v %q", typ, data)
				}
				if data[0] != 0 {
					continue
				}
				var m map[string]any
				_ = json.Unmarshal(data[2:], &m)
				if s, _ := m[key].(string); s == value {
					return m
				}
			}
		}
		send("cinfo", []any{"localhost", clientInfo()}, nil)
		r := until("message", "Client info OK!")
		if r["cinfo"].(map[string]any)["browser"] != tc.browser {
			t.Errorf("%s: browser = %v", tc.path, r["cinfo"])
		}
		send("lookup", []any{s.Code()}, nil)
		until("lookup", "join")
		name := "Web" + strings.Trim(strings.ReplaceAll(tc.path, "/", ""), "-")
		send("ident", []any{name[:min(len(name), 20)]}, nil)
		send("join", []any{s.Code()}, clientInfo())
		until("state", "join")
		until("type", "caughtup")
		ws.CloseNow()
		cancel()
	}

	// Text WebSocket messages are dropped; the connection stays.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+b.HTTPAddr()+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.Read(ctx); err != nil { // greeting
		t.Fatal(err)
	}
	if err := ws.Write(ctx, websocket.MessageText, []byte(`{"cmd":"ident","args":["x"]}`)); err != nil {
		t.Fatal(err)
	}
	ping, _ := protocol.NewFrame(2, 0, []byte{0})
	if err := ws.Write(ctx, websocket.MessageBinary, ping.WS()); err != nil {
		t.Fatal(err)
	}
	if _, data, err := ws.Read(ctx); err != nil || len(data) != 3 || data[0] != 2 || data[2] != 1 {
		t.Fatalf("after a text message: %q %v, want a pong", data, err)
	}
	ws.CloseNow()
	// A foreign origin is refused.
	h := http.Header{}
	h.Set("Origin", "http://evil.example")
	if _, _, err := websocket.Dial(ctx, "ws://"+b.HTTPAddr()+"/ws", &websocket.DialOptions{HTTPHeader: h}); err == nil {
		t.Fatal("foreign origin accepted")
	}
}

func TestGracefulClose(t *testing.T) {
	b := startBridge(t, nil)
	c := dialRaw(t, b.TCPAddr())
	c.until("type", "login")
	hostOn(c, "Alice", "")
	c.until("type", "status")
	done := make(chan error, 1)
	go func() { done <- b.Close() }()
	for {
		f := c.next()
		if f.Type() == 1 {
			if f.Payload()[0] != 2 {
				t.Fatalf("disconnect reason %d, want shutdown", f.Payload()[0])
			}
			break
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", b.TCPAddr(), time.Second); err == nil {
		t.Fatal("still listening after Close")
	}
}

func writeSelfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestStartTLS(t *testing.T) {
	cert, key := writeSelfSigned(t)
	b := startBridge(t, func(c *Config) { c.TLSCert, c.TLSKey = cert, key })

	// Without startTls: tlsRequired and a Disconnect.
	plain := dialRaw(t, b.TCPAddr())
	g := plain.until("type", "login")
	flags, _ := json.Marshal(g["flags"])
	if !strings.Contains(string(flags), `"TLS","SECURE"`) {
		t.Fatalf("greeting flags %s", flags)
	}
	plain.cmd("ident", []any{"Alice"}, nil)
	if e := plain.until("type", "error"); e["code"] != "tlsRequired" {
		t.Fatalf("got %v", e)
	}
	if f := plain.next(); f.Type() != 1 {
		t.Fatalf("no disconnect: %v", f)
	}

	// With startTls: the login continues over TLS.
	c := dialRaw(t, b.TCPAddr())
	c.until("type", "login")
	c.cmd("startTls", nil, nil)
	if r := c.until("type", "result"); r["startTls"] != true {
		t.Fatalf("startTls result %v", r)
	}
	tc := tls.Client(c.nc, &tls.Config{InsecureSkipVerify: true}) // self-signed, as Drawpile clients accept (TOFU)
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	sc := &rawConn{t: t, nc: tc, rd: protocol.NewReader(bufio.NewReader(tc))}
	hostOn(sc, "Alice", "secure")
	sc.until("type", "status")
	if b.Server().Lookup("secure") == nil {
		t.Fatal("no session after TLS login")
	}

	// WebSockets are served over HTTPS on the same certificate.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	ws, _, err := websocket.Dial(ctx, "wss://"+b.HTTPAddr()+"/drawpile-web/ws", &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	_, data, err := ws.Read(ctx)
	if err != nil || !strings.Contains(string(data), `"type":"login"`) || strings.Contains(string(data), "TLS") {
		t.Fatalf("wss greeting %q %v", data, err)
	}
	ws.CloseNow()
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantTCP string
		wantErr bool
	}{
		{nil, ":27750", false},
		{[]string{"--listen", "127.0.0.1", "--port", "0"}, "127.0.0.1:0", false},
		{[]string{"--ssl-cert", "x"}, "", true},
		{[]string{"--port", "70000"}, "", true},
		{[]string{"extra"}, "", true},
	}
	for _, tt := range tests {
		c, err := ParseFlags(tt.args, io.Discard)
		if (err != nil) != tt.wantErr {
			t.Errorf("%v: err %v", tt.args, err)
			continue
		}
		if err == nil && c.TCPAddr != tt.wantTCP {
			t.Errorf("%v: TCPAddr %q, want %q", tt.args, c.TCPAddr, tt.wantTCP)
		}
	}
	c, _ := ParseFlags([]string{"--allowed-origins", "a.example, *.b.example"}, io.Discard)
	if len(c.AllowedOrigins) != 2 || c.AllowedOrigins[1] != "*.b.example" {
		t.Errorf("origins %q", c.AllowedOrigins)
	}
	c, err := ParseFlags([]string{"--trusted-proxies", "127.0.0.1, 10.0.0.0/8"}, io.Discard)
	if err != nil || len(c.TrustedProxies) != 2 || c.TrustedProxies[0].Bits() != 32 {
		t.Errorf("proxies %v %v", c.TrustedProxies, err)
	}
	if _, err := ParseFlags([]string{"--trusted-proxies", "nope"}, io.Discard); err == nil {
		t.Error("bad proxy accepted")
	}
}

func TestRemoteAddrTrustedProxy(t *testing.T) {
	b := &Bridge{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}}
	tests := []struct {
		peer, real, want string
	}{
		{"10.1.2.3:5000", "203.0.113.7", "203.0.113.7"},
		{"192.0.2.1:5000", "203.0.113.7", "192.0.2.1"}, // untrusted peer: header ignored
		{"10.1.2.3:5000", "garbage", "10.1.2.3"},
		{"10.1.2.3:5000", "", "10.1.2.3"},
	}
	for _, tt := range tests {
		r, _ := http.NewRequest("GET", "/ws", nil)
		r.RemoteAddr = tt.peer
		if tt.real != "" {
			r.Header.Set("X-Real-IP", tt.real)
		}
		if got := b.remoteAddr(r).String(); got != tt.want {
			t.Errorf("peer %s X-Real-IP %q: got %s, want %s", tt.peer, tt.real, got, tt.want)
		}
	}
}

package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/go-chi/chi/v5"

	"drawbridge/internal/client"
	"drawbridge/internal/client/wsconn"
	"drawbridge/internal/wsproxy"
	"drawbridge/protocol"
)

func TestRegisterProxyFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		args    []string
		want    ProxyConfig
		wantErr string // substring of the parse or Validate error
	}{
		{name: "none", args: nil, want: ProxyConfig{}},
		{name: "upstreams, pins and a room",
			args: []string{"--upstream", "draw.example", "--upstream", "[::1]:9000", "--proxy-pins", "/var/lib/pins.json", "--proxy-room", "ART=draw.example/room"},
			want: ProxyConfig{Upstreams: []string{"draw.example", "[::1]:9000"}, PinFile: "/var/lib/pins.json", Rooms: []string{"ART=draw.example/room"}}},
		{name: "bad upstream", args: []string{"--upstream", "bad host"}, wantErr: "invalid upstream"},
		{name: "bad room", args: []string{"--proxy-room", "nocode"}, wantErr: "CODE="},
		{name: "room off the allowlist", args: []string{"--upstream", "a.example", "--proxy-room", "X=b.example/room"}, wantErr: "not an allowed --upstream"},
		{name: "room on another port", args: []string{"--upstream", "a.example", "--proxy-room", "X=a.example:1/room"}, wantErr: "not an allowed --upstream"},
		{name: "duplicate room", args: []string{"--upstream", "a.example", "--proxy-room", "X=a.example/r", "--proxy-room", "x=a.example/s"}, wantErr: "defined twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c ProxyConfig
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			RegisterProxyFlags(fs, &c)
			err := fs.Parse(tc.args)
			if err == nil {
				err = c.Validate()
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(c.Upstreams, ",") != strings.Join(tc.want.Upstreams, ",") || c.PinFile != tc.want.PinFile ||
				strings.Join(c.Rooms, ",") != strings.Join(tc.want.Rooms, ",") {
				t.Errorf("config %+v, want %+v", c, tc.want)
			}
		})
	}
}

// proxyOn mounts proxyRoutes on a router of b and serves it.
func proxyOn(t *testing.T, b *Bridge, cfg ProxyConfig) *httptest.Server {
	t.Helper()
	r := chi.NewRouter()
	b.proxyRoutes(r, cfg)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, u string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// TestProxyRoutes: with the default (empty) configuration every target is
// refused; with an allowlist, /join serves the web client's page,
// /api/proxy/resolve answers, and a client relayed through the bridge to
// a Drawpile server (here: the bridge's own TCP port) is in the session;
// closing the bridge ends the relay with Disconnect(Shutdown).
func TestProxyRoutes(t *testing.T) {
	t.Parallel()
	b := startBridge(t, nil)
	host, port, _ := net.SplitHostPort(b.TCPAddr())

	off := proxyOn(t, b, ProxyConfig{})
	if st, _, body := get(t, off.URL+"/api/proxy/resolve?host="+host+"&port="+port+"&session=s"); st != http.StatusForbidden || !strings.Contains(body, wsproxy.CodeNotAllowed) {
		t.Errorf("default config resolve: %d %s, want 403 %s", st, body, wsproxy.CodeNotAllowed)
	}
	if st, _, body := get(t, off.URL+"/api/proxy/upstreams"); st != http.StatusOK || strings.TrimSpace(body) != `{"upstreams":[]}` {
		t.Errorf("default config upstreams: %d %s", st, body)
	}

	srv := proxyOn(t, b, ProxyConfig{Upstreams: []string{b.TCPAddr()}, Rooms: []string{"ROOM=" + b.TCPAddr() + "/selfie"}})
	q := url.Values{"host": {host}, "port": {port}, "session": {"selfie"}}.Encode()
	if st, ct, body := get(t, srv.URL+"/join?"+q); st != http.StatusOK || !strings.HasPrefix(ct, "text/html") || !strings.Contains(strings.ToLower(body), "<html") {
		t.Errorf("/join: %d %s, want the web client's page", st, ct)
	}
	if st, _, _ := get(t, srv.URL+"/join?room=nope"); st != http.StatusNotFound {
		t.Errorf("/join of an unknown room: %d, want 404", st)
	}
	st, _, body := get(t, srv.URL+"/api/proxy/resolve?link="+url.QueryEscape("drawpile://"+b.TCPAddr()+"/selfie:inv#pw"))
	var res resolved
	if st != http.StatusOK || json.Unmarshal([]byte(body), &res) != nil || res.Session != "selfie" || res.Invite != "inv" || strings.Contains(body, "pw") {
		t.Errorf("resolve link: %d %s", st, body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	hostTr, err := client.DialTCP(ctx, b.TCPAddr())
	if err != nil {
		t.Fatal(err)
	}
	alice := client.New(hostTr, client.Options{Info: client.DefaultClientInfo(strings.Repeat("1", 32))})
	defer alice.Close()
	if _, err := alice.Login(ctx, client.LoginOptions{Ident: client.IdentOptions{Name: "Alice"}, Host: &client.HostOptions{Alias: "selfie"}}); err != nil {
		t.Fatal(err)
	}
	if err := alice.InitComplete(ctx); err != nil {
		t.Fatal(err)
	}

	tr, err := wsconn.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/proxy/ws?room=room", wsconn.DialOptions{Origin: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	bob := client.New(tr, client.Options{Info: client.DefaultClientInfo(strings.Repeat("2", 32))})
	defer bob.Close()
	if _, err := bob.Login(ctx, client.LoginOptions{Ident: client.IdentOptions{Name: "Bob"}, Join: &client.JoinOptions{Session: "selfie"}}); err != nil {
		t.Fatalf("join through the bridge's proxy: %v", err)
	}
	if err := bob.WaitCaughtUp(ctx, nil); err != nil {
		t.Fatal(err)
	}

	closed := make(chan error, 1)
	go func() { closed <- b.Close() }()
	// The test must not end before Close has finished: the bridge's
	// goroutines log through t.Output().
	defer func() {
		if err := <-closed; err != nil {
			t.Errorf("bridge Close: %v", err)
		}
	}()
	for {
		_, err := bob.Recv(ctx)
		if err == nil {
			continue
		}
		var de *client.DisconnectError
		if !errors.As(err, &de) || de.Reason != protocol.DisconnectShutdown {
			t.Errorf("after bridge Close: %v, want Disconnect(Shutdown)", err)
		}
		break
	}
}

// BenchmarkProxyRelayDown: upstream messages of a typical dab size relayed
// to a WebSocket reader on loopback, as in a catch-up through the proxy:
// "batched" is the bridge's route (wsSock: one socket write per batch the
// upstream delivered), "per-message" the same relay writing through
// coder/websocket (a write and a flush per message).
func BenchmarkProxyRelayDown(b *testing.B) {
	for _, batched := range []bool{true, false} {
		name := "per-message"
		if batched {
			name = "batched"
		}
		b.Run(name, func(b *testing.B) { benchProxyRelayDown(b, batched) })
	}
}

func benchProxyRelayDown(b *testing.B, batched bool) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	greeting, _ := protocol.JSONFrame(map[string]any{"type": "login", "version": 4, "flags": []string{}, "methods": map[string]any{}})
	msg, _ := protocol.NewFrame(148, 1, make([]byte, 120))
	batch := make([]byte, 0, 64*len(msg))
	for range 64 {
		batch = append(batch, msg...)
	}
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = conn.Write(greeting)
		for sent := 0; sent < b.N; sent += 64 {
			if _, err := conn.Write(batch); err != nil {
				return
			}
		}
	}()
	addr := ln.Addr().(*net.TCPAddr)
	cfg := ProxyConfig{Upstreams: []string{ln.Addr().String()}}
	var h http.Handler
	if batched {
		ph, err := NewProxyHandler(cfg, nil, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		defer ph.Close()
		h = ph
	} else {
		al, _ := wsproxy.NewAllowlist(cfg.Upstreams)
		p := wsproxy.New(wsproxy.Config{Allowlist: al, Logger: slog.New(slog.DiscardHandler)})
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
			if err != nil {
				return
			}
			tgt, _ := wsproxy.ParseTarget(ln.Addr().String())
			_ = p.Serve(context.Background(), ws, tgt, wsproxy.ServeOptions{})
		})
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx := context.Background()
	u := "ws" + strings.TrimPrefix(srv.URL, "http") + "/proxy/ws?host=127.0.0.1&port=" + strconv.Itoa(addr.Port)
	ws, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.CloseNow()
	if _, _, err := ws.Read(ctx); err != nil { // greeting
		b.Fatal(err)
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, _, err := ws.Read(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

package wsproxy

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"drawbridge/protocol"
)

const testTimeout = 20 * time.Second

// fakeUpstream is a scripted Drawpile server: it greets, answers cinfo
// and pings (unless silent), and hands every other received frame to got.
type fakeUpstream struct {
	ln     net.Listener
	got    chan protocol.Frame
	send   chan protocol.Frame // frames to send to the connected proxy
	silent bool                // never answer anything
	first  protocol.Frame      // the greeting (default: a 2.3 server's)
}

func newFakeUpstream(t *testing.T, silent bool, greeting protocol.Frame) *fakeUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &fakeUpstream{ln: ln, got: make(chan protocol.Frame, 64), send: make(chan protocol.Frame, 64), silent: silent}
	u.first = greeting
	if u.first == nil {
		u.first = mustJSON(t, map[string]any{"type": "login", "message": "fake", "version": 4,
			"flags": []string{"MULTI", "AVATAR", "LOOKUP", "CINFO"}, "methods": map[string]any{"guest": map[string]any{"actions": []string{"join"}}}})
	}
	t.Cleanup(func() { ln.Close() })
	go u.serve()
	return u
}

func (u *fakeUpstream) target() Target {
	t, _ := ParseTarget(u.ln.Addr().String())
	return t
}

func (u *fakeUpstream) serve() {
	conn, err := u.ln.Accept()
	if err != nil {
		return
	}
	defer conn.Close()
	if _, err := conn.Write(u.first); err != nil {
		return
	}
	go func() {
		for f := range u.send {
			if _, err := conn.Write(f); err != nil {
				return
			}
		}
	}()
	rd := protocol.NewReader(bufio.NewReader(conn))
	for {
		f, err := rd.ReadFrame()
		if err != nil {
			close(u.got)
			return
		}
		f = f.Clone()
		if !u.silent {
			if f.Type() == protocol.TypePing && f.Payload()[0] == 0 {
				u.send <- protocol.Frame{0, 1, 2, 0, 1}
			}
			if f.Type() == protocol.TypeServerCommand && strings.Contains(string(f.Payload()), `"cinfo"`) {
				u.send <- mustJSON(nil, map[string]any{"type": "result", "message": "Client info OK!", "cinfo": map[string]bool{"browser": false}})
			}
		}
		u.got <- f
	}
}

func mustJSON(t *testing.T, v any) protocol.Frame {
	f, err := protocol.JSONFrame(v)
	if err != nil {
		if t != nil {
			t.Fatal(err)
		}
		panic(err) // test constants only
	}
	return f
}

// proxyServer serves Serve on an httptest server and returns the dial URL
// and a channel with Serve's result.
func proxyServer(t *testing.T, p *Proxy, tgt Target) (string, <-chan error) {
	return proxyServerCtx(t, context.Background(), p, tgt)
}

func proxyServerCtx(t *testing.T, ctx context.Context, p *Proxy, tgt Target) (string, <-chan error) {
	t.Helper()
	res := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			res <- err
			return
		}
		res <- p.Serve(ctx, ws, tgt, ServeOptions{Browser: r.Header.Get("Origin") != "", Client: r.RemoteAddr})
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http"), res
}

func dialBrowser(t *testing.T, ctx context.Context, url string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"http://example.test"}}})
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(protocol.WSHeaderLen + protocol.MaxPayload)
	t.Cleanup(func() { ws.CloseNow() })
	return ws
}

// readMsg reads one WebSocket message and returns it as a TCP frame.
func readMsg(t *testing.T, ctx context.Context, ws *websocket.Conn) protocol.Frame {
	t.Helper()
	typ, b, err := ws.Read(ctx)
	if err != nil {
		t.Fatalf("read from proxy: %v", err)
	}
	if typ != websocket.MessageBinary {
		t.Fatalf("proxy sent a %v message", typ)
	}
	f, err := protocol.FrameFromWS(b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func reply(t *testing.T, f protocol.Frame) protocol.Reply {
	t.Helper()
	if f.Type() != protocol.TypeServerCommand {
		t.Fatalf("got %v, want a ServerCommand", f)
	}
	r, err := protocol.ParseReply(f.Payload())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRelayReframesAndRewritesLogin: the greeting reaches the browser in
// WebSocket framing without TLS flags; cinfo goes upstream with the
// upstream's host name and the identity untouched, and comes back with
// browser:true; the largest messages cross in both directions byte for
// byte.
func TestRelayReframesAndRewritesLogin(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	up := newFakeUpstream(t, false, mustJSON(t, map[string]any{"type": "login", "message": "fake", "version": 4,
		"flags": []string{"MULTI", "SECURE", "CINFO"}, "methods": map[string]any{}}))
	al, _ := NewAllowlist([]string{up.ln.Addr().String()})
	p := New(Config{Allowlist: al, Logger: testLogger(t)})
	url, _ := proxyServer(t, p, up.target())
	ws := dialBrowser(t, ctx, url)

	g := reply(t, readMsg(t, ctx, ws))
	var flags []string
	json.Unmarshal(g.Raw["flags"], &flags)
	if g.Type != "login" || strings.Join(flags, ",") != "MULTI,CINFO" {
		t.Errorf("greeting %s %v, want login with MULTI,CINFO", g.Type, flags)
	}

	cinfo := mustJSON(t, map[string]any{"cmd": "cinfo", "args": []any{"bridge.example", map[string]any{"app_version": "2.3.1", "s": strings.Repeat("a", 32)}}})
	if err := ws.Write(ctx, websocket.MessageBinary, cinfo.WS()); err != nil {
		t.Fatal(err)
	}
	sent := <-up.got
	cmd, err := protocol.ParseCommand(sent.Payload())
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := cmd.StringArg(0); h != "127.0.0.1" {
		t.Errorf("cinfo host sent upstream = %q, want 127.0.0.1", h)
	}
	if got := string(cmd.Args[1]); got != `{"app_version":"2.3.1","s":"`+strings.Repeat("a", 32)+`"}` {
		t.Errorf("cinfo identity changed on the way: %s", got)
	}
	r := reply(t, readMsg(t, ctx, ws))
	if string(r.Raw["cinfo"]) != `{"browser":true}` {
		t.Errorf("cinfo result to the browser: %s, want browser:true", r.Raw["cinfo"])
	}

	// Largest message, browser → upstream.
	big := make([]byte, protocol.MaxPayload)
	for i := range big {
		big[i] = byte(i * 7)
	}
	bf, _ := protocol.NewFrame(200, 9, big)
	if err := ws.Write(ctx, websocket.MessageBinary, bf.WS()); err != nil {
		t.Fatal(err)
	}
	if got := <-up.got; string(got) != string(bf) {
		t.Errorf("upstream got %v, want %v with the same bytes", got, bf)
	}
	// And upstream → browser.
	df, _ := protocol.NewFrame(201, 3, big[1:])
	up.send <- df
	if got := readMsg(t, ctx, ws); string(got) != string(df) {
		t.Errorf("browser got %v, want %v with the same bytes", got, df)
	}
}

// TestServeRefusesWithoutDialing: an upstream off the allowlist gets an
// error, a Disconnect and a policy-violation close, and Dial is never
// called.
func TestServeRefusesWithoutDialing(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	var dials atomic.Int32
	al, _ := NewAllowlist([]string{"drawpile.example:27750"})
	p := New(Config{Allowlist: al, Logger: testLogger(t), Dial: func(ctx context.Context, n, a string) (net.Conn, error) {
		dials.Add(1)
		return nil, errors.New("must not dial")
	}})
	tgt := Target{Host: "127.0.0.1", Port: 27750}
	url, res := proxyServer(t, p, tgt)
	ws := dialBrowser(t, ctx, url)
	r := reply(t, readMsg(t, ctx, ws))
	if r.Type != "error" || r.Code != CodeNotAllowed || !strings.Contains(r.Message, "127.0.0.1:27750") {
		t.Errorf("refusal %+v, want error %s naming the upstream", r, CodeNotAllowed)
	}
	if d := readMsg(t, ctx, ws); d.Type() != protocol.TypeDisconnect || d.Payload()[0] != protocol.DisconnectError {
		t.Errorf("after the error: %v, want Disconnect(Error)", d)
	}
	if err := drain(ctx, ws); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Errorf("close: %v, want status %d", err, websocket.StatusPolicyViolation)
	}
	var pe *Error
	if err := <-res; !errors.As(err, &pe) || pe.Code != CodeNotAllowed {
		t.Errorf("Serve returned %v, want *Error %s", err, CodeNotAllowed)
	}
	if n := dials.Load(); n != 0 {
		t.Errorf("proxy dialled %d times for a refused upstream", n)
	}
}

// TestServeUpstreamFailures: unreachable and non-Drawpile upstreams are
// reported with their codes.
func TestServeUpstreamFailures(t *testing.T) {
	t.Parallel()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedAddr := closed.Addr().String()
	closed.Close()
	wrong := newFakeUpstream(t, true, mustJSON(t, map[string]any{"type": "result", "message": "I am not a greeting"}))
	oldVersion := newFakeUpstream(t, true, mustJSON(t, map[string]any{"type": "login", "version": 3, "flags": []string{}}))
	for _, tc := range []struct {
		name, addr, code string
	}{
		{"connection refused", closedAddr, CodeUnreachable},
		{"not a greeting", wrong.ln.Addr().String(), CodeProtocol},
		{"old server", oldVersion.ln.Addr().String(), CodeProtocol},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			al, _ := NewAllowlist([]string{tc.addr})
			tgt, _ := ParseTarget(tc.addr)
			url, res := proxyServer(t, New(Config{Allowlist: al, Logger: testLogger(t)}), tgt)
			ws := dialBrowser(t, ctx, url)
			if r := reply(t, readMsg(t, ctx, ws)); r.Code != tc.code {
				t.Errorf("error code %q (%s), want %s", r.Code, r.Message, tc.code)
			}
			drain(ctx, ws)
			var pe *Error
			if err := <-res; !errors.As(err, &pe) || pe.Code != tc.code {
				t.Errorf("Serve returned %v, want code %s", err, tc.code)
			}
		})
	}
}

// TestKeepalive: the relay pings a quiet upstream and swallows the pong;
// the browser's own pings still get their pongs; an upstream that stops
// answering ends the relay with a clear message.
func TestKeepalive(t *testing.T) {
	t.Parallel()
	t.Run("answering", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		up := newFakeUpstream(t, false, nil)
		al, _ := NewAllowlist([]string{up.ln.Addr().String()})
		p := New(Config{Allowlist: al, Logger: testLogger(t), PingInterval: 5 * time.Millisecond})
		url, _ := proxyServer(t, p, up.target())
		ws := dialBrowser(t, ctx, url)
		in := reader(ctx, ws) // a reading browser answers WebSocket pings
		<-in                  // greeting
		// Wait for a few relay pings to reach the (answering) upstream.
		for pings := 0; pings < 3; {
			f, ok := <-up.got
			if !ok {
				t.Fatal("relay closed the upstream connection")
			}
			if f.Type() == protocol.TypePing && f.Payload()[0] == 0 {
				pings++
			}
		}
		// The browser's own ping is answered; the relay's pongs never
		// reach the browser: the next messages are exactly our pong and
		// the marker.
		if err := ws.Write(ctx, websocket.MessageBinary, []byte{2, 7, 0}); err != nil {
			t.Fatal(err)
		}
		for f := range up.got {
			if f.Type() == protocol.TypePing && f.Ctx() == 7 {
				break // its pong is queued before the marker
			}
		}
		marker, _ := protocol.NewFrame(220, 1, []byte("marker"))
		go func() {
			for range up.got {
			}
		}()
		var seen []protocol.Frame
		for {
			f, ok := <-in
			if !ok {
				t.Fatalf("browser connection ended; got %v", seen)
			}
			seen = append(seen, f)
			if f.Type() == protocol.TypePing && len(seen) == 1 {
				up.send <- marker
			}
			if f.Type() == 220 {
				break
			}
		}
		if len(seen) != 2 || seen[0].Type() != protocol.TypePing || seen[0].Payload()[0] != 1 {
			t.Errorf("browser got %v, want exactly one pong and then the marker", seen)
		}
	})
	t.Run("silent", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		up := newFakeUpstream(t, true, nil)
		al, _ := NewAllowlist([]string{up.ln.Addr().String()})
		p := New(Config{Allowlist: al, Logger: testLogger(t), PingInterval: 5 * time.Millisecond, UpstreamTimeout: 50 * time.Millisecond})
		url, res := proxyServer(t, p, up.target())
		ws := dialBrowser(t, ctx, url)
		readMsg(t, ctx, ws) // greeting
		r := reply(t, readMsg(t, ctx, ws))
		if r.Code != CodeLost || !strings.Contains(r.Message, "stopped responding") {
			t.Errorf("silent upstream: %+v, want %s / stopped responding", r, CodeLost)
		}
		if d := readMsg(t, ctx, ws); d.Type() != protocol.TypeDisconnect {
			t.Errorf("then %v, want Disconnect", d)
		}
		if err := drain(ctx, ws); websocket.CloseStatus(err) != websocket.StatusBadGateway {
			t.Errorf("close: %v, want status %d", err, websocket.StatusBadGateway)
		}
		var pe *Error
		if err := <-res; !errors.As(err, &pe) || pe.Code != CodeLost {
			t.Errorf("Serve returned %v, want %s", err, CodeLost)
		}
	})
}

// drain reads until the connection closes and returns the close error.
func drain(ctx context.Context, ws *websocket.Conn) error {
	for {
		if _, _, err := ws.Read(ctx); err != nil {
			return err
		}
	}
}

// reader reads browser messages in the background (which also answers
// WebSocket pings) until the connection ends.
func reader(ctx context.Context, ws *websocket.Conn) <-chan protocol.Frame {
	c := make(chan protocol.Frame, 64)
	go func() {
		defer close(c)
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				return
			}
			f, err := protocol.FrameFromWS(b)
			if err != nil {
				return
			}
			c <- f
		}
	}()
	return c
}

// TestServeShutdown: cancelling Serve's context (bridge shutdown) sends
// the browser Disconnect(Shutdown), closes with going-away, closes the
// upstream connection and returns nil.
func TestServeShutdown(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	up := newFakeUpstream(t, false, nil)
	al, _ := NewAllowlist([]string{up.ln.Addr().String()})
	sctx, shutdown := context.WithCancel(ctx)
	url, res := proxyServerCtx(t, sctx, New(Config{Allowlist: al, Logger: testLogger(t)}), up.target())
	ws := dialBrowser(t, ctx, url)
	readMsg(t, ctx, ws) // greeting: the relay is running
	shutdown()
	d := readMsg(t, ctx, ws)
	if d.Type() != protocol.TypeDisconnect || d.Payload()[0] != protocol.DisconnectShutdown {
		t.Errorf("on shutdown the browser got %v, want Disconnect(Shutdown)", d)
	}
	if err := drain(ctx, ws); websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Errorf("close: %v, want going away", err)
	}
	if err := <-res; err != nil {
		t.Errorf("Serve after shutdown: %v, want nil", err)
	}
	for range up.got { // ends when the relay closed the upstream connection
	}
}

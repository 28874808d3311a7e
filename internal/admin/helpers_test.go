package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"drawbridge/internal/auth"
	"drawbridge/internal/bridge"
	"drawbridge/internal/client"
	"drawbridge/internal/store"
)

const (
	adminUser = "admin"
	adminPass = "s3cret"
)

// env is a running bridge with an admin listener on 127.0.0.1.
type env struct {
	t     *testing.T
	ctx   context.Context
	b     *bridge.Bridge
	adm   *bridge.AdminServer
	st    *store.Store
	base  string // http://127.0.0.1:port
	http  *http.Client
	authd bool // send credentials by default
}

type envOpts struct {
	memory bool   // in-memory store instead of a database
	origin string // --web-admin-allowed-origin
	noAuth bool   // no --web-admin-auth
}

// cheapHash keeps account and lock passwords fast in tests.
func cheapHash(pw string) (string, error) { return auth.HashPasswordPlain(pw) }

func newEnv(t *testing.T, o envOpts) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	so := store.Options{Logger: logger, HashPassword: cheapHash}
	if !o.memory {
		so.Database = filepath.Join(t.TempDir(), "config.db")
	}
	st, err := store.Open(ctx, so)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	b, err := bridge.Start(ctx, bridge.Config{TCPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"}, logger)
	if err != nil {
		t.Fatalf("start bridge: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	cfg := bridge.AdminConfig{Addr: "127.0.0.1:0", Store: st, AllowedOrigin: o.origin}
	if !o.noAuth {
		cfg.Auth = adminUser + ":" + adminPass
	}
	adm, err := bridge.StartAdmin(ctx, b, cfg)
	if err != nil {
		t.Fatalf("start admin: %v", err)
	}
	t.Cleanup(func() { adm.Close() })
	return &env{t: t, ctx: ctx, b: b, adm: adm, st: st, base: "http://" + adm.Addr(), http: &http.Client{Timeout: 20 * time.Second}, authd: !o.noAuth}
}

// resp is a decoded response.
type resp struct {
	code   int
	header http.Header
	body   []byte
}

func (r resp) obj(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

func (r resp) arr(t *testing.T) []any {
	t.Helper()
	var a []any
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatalf("response is not a JSON array: %v: %s", err, r.body)
	}
	return a
}

// do sends a request; body may be nil, a string (sent raw) or a value
// (JSON-encoded).
func (e *env) do(method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequestWithContext(e.ctx, method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if e.authd {
		req.SetBasicAuth(adminUser, adminPass)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Authorization" && hdr[i+1] == "" {
			req.Header.Del("Authorization")
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.http.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return resp{code: res.StatusCode, header: res.Header, body: data}
}

// must sends a request and checks the status code.
func (e *env) must(code int, method, path string, body any) resp {
	e.t.Helper()
	r := e.do(method, path, body)
	if r.code != code {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.code, code, r.body)
	}
	return r
}

// wantError checks an error response's status and JSON shape.
func (e *env) wantError(code int, method, path string, body any) string {
	e.t.Helper()
	r := e.must(code, method, path, body)
	m := r.obj(e.t)
	if m["status"] != "error" {
		e.t.Fatalf("%s %s: error body %s lacks status:error", method, path, r.body)
	}
	msg, _ := m["message"].(string)
	if msg == "" {
		e.t.Fatalf("%s %s: error body %s lacks a message", method, path, r.body)
	}
	return msg
}

var sysCounter atomic.Uint64

func newSID() string {
	return strings.Repeat("0", 16) + strings.Repeat("a", 8) + hex8(sysCounter.Add(1))
}

func hex8(n uint64) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 8)
	for i := 7; i >= 0; i-- {
		b[i] = digits[n&15]
		n >>= 4
	}
	return string(b)
}

// host logs in as name over TCP, hosts a session (alias may be "") and
// completes its initialisation.
func (e *env) host(name, alias string) *client.Client {
	e.t.Helper()
	tr, err := client.DialTCP(e.ctx, e.b.TCPAddr())
	if err != nil {
		e.t.Fatal(err)
	}
	c := client.New(tr, client.Options{Info: client.DefaultClientInfo(newSID())})
	e.t.Cleanup(func() { c.Close() })
	if _, err := c.Login(e.ctx, client.LoginOptions{Ident: client.IdentOptions{Name: name}, Host: &client.HostOptions{Alias: alias}}); err != nil {
		e.t.Fatalf("%s: host: %v", name, err)
	}
	if err := c.Initialize(e.ctx, nil); err != nil {
		e.t.Fatalf("%s: init: %v", name, err)
	}
	e.ping(c)
	return c
}

// join logs in as name and joins session.
func (e *env) join(name, session string) *client.Client {
	e.t.Helper()
	tr, err := client.DialTCP(e.ctx, e.b.TCPAddr())
	if err != nil {
		e.t.Fatal(err)
	}
	c := client.New(tr, client.Options{Info: client.DefaultClientInfo(newSID())})
	e.t.Cleanup(func() { c.Close() })
	if _, err := c.Login(e.ctx, client.LoginOptions{Ident: client.IdentOptions{Name: name}, Join: &client.JoinOptions{Session: session}}); err != nil {
		e.t.Fatalf("%s: join: %v", name, err)
	}
	e.ping(c)
	return c
}

// ping waits until the server has processed everything c sent before.
func (e *env) ping(c *client.Client) {
	e.t.Helper()
	if err := c.Ping(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	for {
		m, err := c.Recv(e.ctx)
		if err != nil {
			e.t.Fatalf("wait for pong: %v", err)
		}
		if m.Frame != nil && m.Frame.Type() == 2 {
			return
		}
	}
}

// waitFor reads c's messages until match returns true; it fails on error.
func (e *env) waitFor(c *client.Client, what string, match func(client.Message) bool) {
	e.t.Helper()
	for {
		m, err := c.Recv(e.ctx)
		if err != nil {
			e.t.Fatalf("waiting for %s: %v", what, err)
		}
		if match(m) {
			return
		}
	}
}

// waitDisconnect reads c's messages until the server disconnects it and
// returns the error (a *client.DisconnectError for a Disconnect message).
func (e *env) waitDisconnect(c *client.Client) error {
	e.t.Helper()
	for {
		if _, err := c.Recv(e.ctx); err != nil {
			return err
		}
	}
}

package e2e

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"drawbridge/internal/bridge"
	"drawbridge/internal/client"
	"drawbridge/internal/store"
)

// extAuthServer is a minimal ext-auth server (server.md §5): it answers
// the bridge's guest checks and, like drawpile.net, issues signed tokens
// (here the test signs them directly).
type extAuthServer struct {
	*httptest.Server
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
}

func newExtAuthServer(t *testing.T, status string) *extAuthServer {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s := &extAuthServer{priv: priv, pub: pub}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &req); err != nil || req["username"] == nil {
			t.Errorf("guest check body %s", body)
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"status": status})
	}))
	t.Cleanup(s.Close)
	return s
}

// token signs a version 1 token for payload.
func (s *extAuthServer) token(payload map[string]any) string {
	js, _ := json.Marshal(payload)
	head := "1." + base64.StdEncoding.EncodeToString(js)
	return head + "." + base64.StdEncoding.EncodeToString(ed25519.Sign(s.priv, []byte(head)))
}

func extAuthEnv(t *testing.T, srv *extAuthServer, guests bool) *env {
	st, err := store.Open(context.Background(), store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for k, v := range map[string]string{"extauth": "true", "extauthkey": base64.StdEncoding.EncodeToString(srv.pub),
		"allowGuests": map[bool]string{true: "true", false: "false"}[guests]} {
		if err := st.SetSetting(k, v); err != nil {
			t.Fatalf("set %s: %v", k, err)
		}
	}
	return newEnv(t, func(c *bridge.Config) { c.Store = st; c.ExtAuthURL = srv.URL + "/ext-auth/" })
}

func TestExtAuthLogin(t *testing.T) {
	srv := newExtAuthServer(t, "auth")
	e := extAuthEnv(t, srv, true)

	c := e.dial(tcp)
	defer c.Close()
	g, err := c.ReadGreeting(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := g.Methods["extauth"]; !ok || m.URL != srv.URL+"/ext-auth/" {
		t.Fatalf("greeting methods %v: no extauth method with the URL", g.Methods)
	}
	if _, err := c.ClientInfo(e.ctx, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	r, err := c.Ident(e.ctx, client.IdentOptions{Name: "zed"})
	if err != nil {
		t.Fatal(err)
	}
	if r.State != "needExtAuth" || r.Nonce == "" || r.ExtAuthURL != srv.URL+"/ext-auth/" {
		t.Fatalf("ident without token: %+v, want needExtAuth with a nonce", r)
	}
	tok := srv.token(map[string]any{"username": "Zed", "nonce": r.Nonce, "flags": []string{"MOD", "HOST"}, "uid": 42})
	r, err = c.Ident(e.ctx, client.IdentOptions{Name: "zed", ExtAuth: tok})
	if err != nil {
		t.Fatal(err)
	}
	if r.State != client.IdentOK || r.Ident != "Zed" || !slices.Contains(r.Flags, "MOD") || r.Guest {
		t.Fatalf("ident with token: %+v, want identOk as Zed with MOD", r)
	}
}

func TestExtAuthRejectsBadTokens(t *testing.T) {
	srv := newExtAuthServer(t, "auth")
	e := extAuthEnv(t, srv, false)
	forger := newExtAuthServer(t, "auth") // a different key

	for _, tc := range []struct {
		name string
		tok  func(nonce string) string
	}{
		{"wrong nonce", func(string) string { return srv.token(map[string]any{"username": "Zed", "nonce": "1234"}) }},
		{"bad signature", func(n string) string { return forger.token(map[string]any{"username": "Zed", "nonce": n}) }},
		{"garbage", func(string) string { return "1.bm90IGpzb24.AAAA" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.dial(tcp)
			defer c.Close()
			if _, err := c.ReadGreeting(e.ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := c.ClientInfo(e.ctx, "127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			r, err := c.Ident(e.ctx, client.IdentOptions{Name: "zed"})
			if err != nil || r.State != "needExtAuth" {
				t.Fatalf("without guests the server must ask for ext-auth directly: %+v %v", r, err)
			}
			_, err = c.Ident(e.ctx, client.IdentOptions{Name: "zed", ExtAuth: tc.tok(r.Nonce)})
			if client.ErrorCode(err) != "extAuthError" {
				t.Fatalf("got %v, want extAuthError", err)
			}
		})
	}
}

func TestExtAuthGuestAnswers(t *testing.T) {
	for _, tc := range []struct{ status, wantCode string }{
		{"outgroup", "extauthOutgroup"},
		{"banned", "extauthLocked"},
	} {
		t.Run(tc.status, func(t *testing.T) {
			srv := newExtAuthServer(t, tc.status)
			e := extAuthEnv(t, srv, true)
			c := e.dial(tcp)
			defer c.Close()
			if _, err := c.ReadGreeting(e.ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := c.ClientInfo(e.ctx, "127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			_, err := c.Ident(e.ctx, client.IdentOptions{Name: "zed"})
			if client.ErrorCode(err) != tc.wantCode {
				t.Fatalf("got %v, want %s", err, tc.wantCode)
			}
		})
	}
	t.Run("guest", func(t *testing.T) {
		srv := newExtAuthServer(t, "guest")
		e := extAuthEnv(t, srv, true)
		host := e.host("Visitor", tcp, client.HostOptions{Alias: "extguest"})
		host.Close()
	})
}

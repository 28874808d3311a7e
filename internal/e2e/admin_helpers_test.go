package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"drawbridge/internal/auth"
	"drawbridge/internal/bridge"
	"drawbridge/internal/client"
	"drawbridge/internal/store"
)

// adminSIDs numbers the system ids of the admin tests' clients.
var adminSIDs atomic.Uint64

// adminEnv is a bridge with its admin listener on 127.0.0.1 and a SQLite
// configuration database, for the admin API tests.
type adminEnv struct {
	t    *testing.T
	ctx  context.Context
	b    *bridge.Bridge
	adm  *bridge.AdminServer
	base string
	user string
	pass string
}

func newAdminEnv(t *testing.T, user, pass string) *adminEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := store.Open(ctx, store.Options{Database: filepath.Join(t.TempDir(), "drawpile.db"), Logger: logger,
		HashPassword: auth.HashPasswordPlain})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	b, err := bridge.Start(ctx, bridge.Config{TCPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"}, logger)
	if err != nil {
		t.Fatalf("start bridge: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	adm, err := bridge.StartAdmin(ctx, b, bridge.AdminConfig{Addr: "127.0.0.1:0", Auth: user + ":" + pass, Store: st})
	if err != nil {
		t.Fatalf("start admin: %v", err)
	}
	t.Cleanup(func() { adm.Close() })
	return &adminEnv{t: t, ctx: ctx, b: b, adm: adm, base: "http://" + adm.Addr(), user: user, pass: pass}
}

// call performs an admin API call the way dpwebadmin does: Basic
// credentials, X-Requested-With, JSON body. It decodes the JSON answer
// into out (if not nil) and returns the status code and headers.
func (e *adminEnv) call(method, path string, body, out any) (int, http.Header) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		js, _ := json.Marshal(body)
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequestWithContext(e.ctx, method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.SetBasicAuth(e.user, e.pass)
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: status %d, undecodable answer %q: %v", method, path, res.StatusCode, data, err)
		}
	}
	return res.StatusCode, res.Header
}

// login logs in a TCP client as name and hosts (alias != "") or joins.
func (e *adminEnv) login(name string, lo client.LoginOptions) *client.Client {
	e.t.Helper()
	tr, err := client.DialTCP(e.ctx, e.b.TCPAddr())
	if err != nil {
		e.t.Fatal(err)
	}
	c := client.New(tr, client.Options{Info: client.DefaultClientInfo(fmt.Sprintf("%032x", adminSIDs.Add(1)+1<<40))})
	e.t.Cleanup(func() { c.Close() })
	lo.Ident = client.IdentOptions{Name: name}
	if _, err := c.Login(e.ctx, lo); err != nil {
		e.t.Fatalf("%s: login: %v", name, err)
	}
	if lo.Host != nil {
		if err := c.Initialize(e.ctx, nil); err != nil {
			e.t.Fatalf("%s: init: %v", name, err)
		}
	}
	if err := c.Ping(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	for {
		m, err := c.Recv(e.ctx)
		if err != nil {
			e.t.Fatalf("%s: wait for pong: %v", name, err)
		}
		if m.Frame != nil && m.Frame.Type() == 2 {
			return c
		}
	}
}

// untilDisconnected reads until the server disconnects c.
func (e *adminEnv) untilDisconnected(c *client.Client) error {
	for {
		if _, err := c.Recv(e.ctx); err != nil {
			return err
		}
	}
}

package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"drawbridge/internal/bridge"
	"drawbridge/internal/client"
	"drawbridge/internal/client/wsconn"
)

// adminDo calls the admin API of b without authentication and decodes
// the JSON answer into out.
func adminDo(t *testing.T, b *bridge.Bridge, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		js, _ := json.Marshal(body)
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, "http://"+b.AdminAddr()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %d %q: %v", method, path, res.StatusCode, data, err)
		}
	}
	return res.StatusCode
}

type proxyRoomJSON struct {
	Code, Target, Host, Session, Source string
	Port                                int
}

// TestProxyRoomsAdminAPI: rooms added through the admin API are checked
// against the upstream allowlist, resolve and relay at once, are kept in
// the database across a restart, and --proxy-room rooms cannot be changed.
func TestProxyRoomsAdminAPI(t *testing.T) {
	up := newEnv(t)
	up.host("alice", tcp, client.HostOptions{Alias: "art"})
	db := filepath.Join(t.TempDir(), "drawpile.db")
	cfg := func(c *bridge.Config) {
		c.Database = db
		c.Admin = bridge.AdminConfig{Addr: "127.0.0.1:0"}
		c.Proxy = bridge.ProxyConfig{Upstreams: []string{up.tcpAddr}, Rooms: []string{"fixed=" + up.tcpAddr + "/art"}}
	}
	e := newEnv(t, cfg)

	var rooms []proxyRoomJSON
	if st := adminDo(t, e.b, "GET", "/api/proxyrooms", nil, &rooms); st != 200 || len(rooms) != 1 || rooms[0].Source != "cli" {
		t.Fatalf("initial rooms: %d %+v", st, rooms)
	}
	var room proxyRoomJSON
	if st := adminDo(t, e.b, "PUT", "/api/proxyrooms/Gallery", map[string]any{"target": up.tcpAddr + "/art"}, &room); st != 200 {
		t.Fatalf("PUT: %d", st)
	}
	if room.Code != "Gallery" || room.Session != "art" || room.Source != "database" || room.Target != up.tcpAddr+"/art" {
		t.Fatalf("PUT answer %+v", room)
	}
	var errBody map[string]string
	for _, tc := range []struct {
		path   string
		body   any
		status int
	}{
		{"/api/proxyrooms/evil", map[string]any{"target": "127.0.0.2:1/x"}, 400},        // off the allowlist
		{"/api/proxyrooms/bad", map[string]any{"target": "not a link"}, 400},            // syntax
		{"/api/proxyrooms/bad", map[string]any{}, 400},                                  // no target
		{"/api/proxyrooms/fixed", map[string]any{"target": up.tcpAddr + "/other"}, 409}, // --proxy-room
		{"/api/proxyrooms/" + string(bytes.Repeat([]byte("x"), 40)), map[string]any{"target": up.tcpAddr + "/a"}, 400},
	} {
		if st := adminDo(t, e.b, "PUT", tc.path, tc.body, &errBody); st != tc.status || errBody["status"] != "error" {
			t.Errorf("PUT %s %v: %d %v, want %d", tc.path, tc.body, st, errBody, tc.status)
		}
	}
	if st := adminDo(t, e.b, "DELETE", "/api/proxyrooms/fixed", nil, &errBody); st != 409 {
		t.Errorf("DELETE of a --proxy-room room: %d", st)
	}
	if st := adminDo(t, e.b, "DELETE", "/api/proxyrooms/nope", nil, &errBody); st != 404 {
		t.Errorf("DELETE of an unknown room: %d", st)
	}

	// The new room works on the public side at once (case-insensitive).
	res, err := http.Get("http://" + e.httpAddr + "/api/proxy/resolve?room=gallery")
	if err != nil {
		t.Fatal(err)
	}
	var resolved struct{ Session, Room, WS string }
	json.NewDecoder(res.Body).Decode(&resolved)
	res.Body.Close()
	if res.StatusCode != 200 || resolved.Session != "art" || resolved.Room != "Gallery" {
		t.Fatalf("resolve: %d %+v", res.StatusCode, resolved)
	}
	tr, err := wsconn.Dial(e.ctx, "ws://"+e.httpAddr+resolved.WS, wsconn.DialOptions{})
	if err != nil {
		t.Fatalf("dial the room's relay: %v", err)
	}
	defer tr.Close()
	bob := client.New(tr, client.Options{Info: client.DefaultClientInfo(newSystemID())})
	if _, err := bob.Login(e.ctx, client.LoginOptions{Ident: client.IdentOptions{Name: "bob"}, Join: &client.JoinOptions{Session: "art"}}); err != nil {
		t.Fatalf("join through the room: %v", err)
	}
	bob.Close()

	// Kept in the database across a restart.
	e.b.Close()
	e2 := newEnv(t, cfg)
	rooms = nil
	adminDo(t, e2.b, "GET", "/api/proxyrooms", nil, &rooms)
	if len(rooms) != 2 || rooms[0].Code != "fixed" || rooms[1].Code != "Gallery" || rooms[1].Source != "database" {
		t.Fatalf("rooms after restart: %+v", rooms)
	}
	if st := adminDo(t, e2.b, "DELETE", "/api/proxyrooms/GALLERY", nil, nil); st != 200 {
		t.Fatalf("DELETE: %d", st)
	}
	res, err = http.Get("http://" + e2.httpAddr + "/api/proxy/resolve?room=gallery")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Errorf("deleted room still resolves: %d", res.StatusCode)
	}
}

// TestProxyRoomsConfigFile: [proxyRooms] of the config file are loaded
// (allowlisted ones only) and read-only through the API; without a
// store, rooms live in memory.
func TestProxyRoomsConfigFile(t *testing.T) {
	up := newEnv(t)
	path := filepath.Join(t.TempDir(), "srv.cfg")
	cfgText := "[proxyRooms]\nart = " + up.tcpAddr + "/art\nelsewhere = 127.0.0.2:9/x\n"
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *bridge.Config) {
		c.ConfigFile = path
		c.Admin = bridge.AdminConfig{Addr: "127.0.0.1:0"}
		c.Proxy = bridge.ProxyConfig{Upstreams: []string{up.tcpAddr}}
	})
	var rooms []proxyRoomJSON
	adminDo(t, e.b, "GET", "/api/proxyrooms", nil, &rooms)
	if len(rooms) != 1 || rooms[0].Code != "art" || rooms[0].Source != "config file" {
		t.Fatalf("config rooms: %+v", rooms)
	}
	if st := adminDo(t, e.b, "PUT", "/api/proxyrooms/new", map[string]any{"target": up.tcpAddr + "/x"}, nil); st != 409 {
		t.Errorf("PUT in config-file mode: %d, want 409", st)
	}

	m := newEnv(t, func(c *bridge.Config) {
		c.Admin = bridge.AdminConfig{Addr: "127.0.0.1:0"}
		c.Proxy = bridge.ProxyConfig{Upstreams: []string{up.tcpAddr}}
	})
	var room proxyRoomJSON
	if st := adminDo(t, m.b, "PUT", "/api/proxyrooms/mem", map[string]any{"target": up.tcpAddr + "/x"}, &room); st != 200 || room.Source != "memory" {
		t.Fatalf("PUT in memory mode: %d %+v", st, room)
	}
}

package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"drawbridge/internal/client"
	"drawbridge/protocol"
)

// hostForList hosts a session over TCP with the given configuration and
// sends a minimal initial canvas.
func hostForList(t *testing.T, b *Bridge, name, alias, password string, conf client.SessionConf) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := client.DialTCP(ctx, b.TCPAddr())
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(conn, client.Options{Info: client.DefaultClientInfo(fmt.Sprintf("%032x", len(name)+len(alias)))})
	t.Cleanup(func() { c.Close() })
	if _, err := c.Login(ctx, client.LoginOptions{
		Ident: client.IdentOptions{Name: name},
		Host:  &client.HostOptions{Alias: alias, Password: password, Web: client.Ptr(true), Config: &conf},
	}); err != nil {
		t.Fatalf("host %s: %v", alias, err)
	}
	f, err := protocol.EncodeFrame(1, protocol.CanvasResize{Right: 64, Bottom: 64}, protocol.Layout425)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Initialize(ctx, []protocol.Frame{f}); err != nil {
		t.Fatalf("initialize %s: %v", alias, err)
	}
	go func() { // drain so the server never lag-kicks the host
		for {
			if _, err := c.Recv(context.Background()); err != nil {
				return
			}
		}
	}()
}

func fetchSessions(t *testing.T, b *Bridge) (sessionList, *http.Response) {
	t.Helper()
	resp, err := http.Get("http://" + b.HTTPAddr() + "/api/sessions")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var l sessionList
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		t.Fatalf("decode session list: %v", err)
	}
	return l, resp
}

func TestSessionsAPI(t *testing.T) {
	b := startBridge(t, nil)

	l, resp := fetchSessions(t, b)
	if len(l.Sessions) != 0 {
		t.Fatalf("empty bridge lists %+v", l.Sessions)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}

	hostForList(t, b, "alice", "publicroom", "", client.SessionConf{Title: client.Ptr("Public room"), AllowWeb: client.Ptr(true), MaxUserCount: client.Ptr(7)})
	hostForList(t, b, "bob", "lockedroom", "secret", client.SessionConf{Title: client.Ptr("Locked and adult"), NSFM: client.Ptr(true)})
	hostForList(t, b, "carol", "hiddenroom", "", client.SessionConf{Title: client.Ptr("Hidden")})
	// Unlisting is for moderators (sessionconf ignores it from a plain
	// host); the admin path sets it.
	hidden := b.srv.Lookup("hiddenroom")
	if hidden == nil {
		t.Fatal("hiddenroom not hosted")
	}
	if _, err := hidden.Configure(map[string]json.RawMessage{"unlisted": json.RawMessage("true")}); err != nil {
		t.Fatal(err)
	}

	// Session configuration arrives after the host reply; poll until
	// all three sessions exist and their settings are applied.
	byAlias := map[string]listedSession{}
	deadline := time.Now().Add(20 * time.Second)
	for {
		l, _ = fetchSessions(t, b)
		byAlias = map[string]listedSession{}
		for _, s := range l.Sessions {
			byAlias[s.Alias] = s
		}
		pub, locked := byAlias["publicroom"], byAlias["lockedroom"]
		if len(b.srv.Sessions()) == 3 && pub.MaxUsers == 7 && locked.Nsfm && locked.Title == "Locked and adult" {
			if _, hidden := byAlias["hiddenroom"]; !hidden {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("session list never settled: %+v", l.Sessions)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(l.Sessions) != 2 {
		t.Fatalf("listed %d sessions, want 2 (the unlisted one excluded): %+v", len(l.Sessions), l.Sessions)
	}
	tests := []struct {
		alias string
		want  listedSession
	}{
		{"publicroom", listedSession{Alias: "publicroom", Title: "Public room", Users: 1, MaxUsers: 7, AllowWeb: true, Protocol: client.ProtocolVersion}},
		{"lockedroom", listedSession{Alias: "lockedroom", Title: "Locked and adult", Users: 1, HasPassword: true, Nsfm: true, AllowWeb: true, Protocol: client.ProtocolVersion}},
	}
	for _, tc := range tests {
		t.Run(tc.alias, func(t *testing.T) {
			got := byAlias[tc.alias]
			s := b.srv.Lookup(tc.alias)
			if s == nil {
				t.Fatal("session not found")
			}
			tc.want.ID, tc.want.Code = s.ID(), s.Code()
			if tc.want.MaxUsers == 0 {
				tc.want.MaxUsers = s.Desc().MaxUserCount
			}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if got.Code == "" {
				t.Error("no room code")
			}
		})
	}

	// The raw JSON uses the documented field names.
	resp2, err := http.Get("http://" + b.HTTPAddr() + "/api/sessions")
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	var raw struct {
		Sessions []map[string]any `json:"sessions"`
	}
	if err := json.NewDecoder(resp2.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "code", "alias", "title", "users", "maxUsers", "hasPassword", "nsfm", "protocol", "allowWeb"} {
		if _, ok := raw.Sessions[0][k]; !ok {
			t.Errorf("field %q missing from %v", k, raw.Sessions[0])
		}
	}
}

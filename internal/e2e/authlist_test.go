package e2e

import (
	"strings"
	"testing"

	"drawbridge/internal/bridge"
	"drawbridge/internal/client"
)

// authListIs matches a sessionconf whose auth list is exactly want (JSON).
func authListIs(want string) func(rec) bool {
	return func(r rec) bool {
		if r.Reply == nil || r.Reply.Type != "sessionconf" {
			return false
		}
		a, ok := r.Reply.Config["auth"]
		return ok && string(a) == want
	}
}

// TestAuthList: operators get the list of registered users in the session
// (online and remembered, with op/trusted markers) when it changes, and
// the auth-list command sets the status of online and offline accounts;
// non-operators never get the list.
func TestAuthList(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *bridge.Config) {
		c.Auth = accounts{"Alice": "wonderland", "Bob": "builder", "Zed": "zebra"}
	})
	login := func(name, pw string) *client.Client {
		t.Helper()
		c := e.dial(tcp)
		if _, err := c.Login(e.ctx, client.LoginOptions{Ident: client.IdentOptions{Name: name, Password: pw}, Join: &client.JoinOptions{Session: "roles"}}); err != nil {
			t.Fatalf("%s: join: %v", name, err)
		}
		if err := c.WaitCaughtUp(e.ctx, nil); err != nil {
			t.Fatalf("%s: catch up: %v", name, err)
		}
		return c
	}
	host := e.dial(tcp)
	if _, err := host.Login(e.ctx, client.LoginOptions{Ident: client.IdentOptions{Name: "Alice", Password: "wonderland"}, Host: &client.HostOptions{Alias: "roles"}}); err != nil {
		t.Fatal(err)
	}
	if err := host.Initialize(e.ctx, snapshot(t, host.UserID())); err != nil {
		t.Fatal(err)
	}
	const alice = `{"authId":"auth-Alice","op":true,"username":"Alice"}`
	e.until(host, "own auth list", authListIs("["+alice+"]"))

	bob := login("Bob", "builder")
	defer bob.Close()
	guest, _ := e.join("Carol", tcp, "roles", "")
	defer guest.Close()
	const bob0 = `{"authId":"auth-Bob","username":"Bob"}`
	e.until(host, "auth list with Bob", authListIs("["+alice+","+bob0+"]"))

	// Trust Bob (online) and pre-authorize Zed (offline) as operator.
	if err := host.SendCommand(e.ctx, client.Command{Cmd: "auth-list", Args: []any{[]any{
		map[string]any{"a": "auth-Bob", "t": true},
		map[string]any{"a": "auth-Zed", "o": true, "u": "Zed"},
	}}}); err != nil {
		t.Fatal(err)
	}
	const bobT = `{"authId":"auth-Bob","trusted":true,"username":"Bob"}`
	const zed = `{"authId":"auth-Zed","op":true,"username":"Zed"}`
	e.until(host, "auth list after auth-list", authListIs("["+alice+","+bobT+","+zed+"]"))

	// Zed joins and is an operator at once; the list is unchanged.
	z := e.dial(tcp)
	defer z.Close()
	if _, err := z.Login(e.ctx, client.LoginOptions{Ident: client.IdentOptions{Name: "Zed", Password: "zebra"}, Join: &client.JoinOptions{Session: "roles"}}); err != nil {
		t.Fatal(err)
	}
	// Zed, an operator at once, gets the list with the join's lists.
	e.until(z, "Zed's auth list", authListIs("["+alice+","+bobT+","+zed+"]"))
	rs := e.until(host, "SessionOwner with Zed", func(r rec) bool {
		return r.Type == 34 && bytesContain([]byte(r.Payload), z.UserID())
	})
	rs = append(rs, e.sync(host)...)
	if !authListIn(rs, "["+alice+","+bobT+","+zed+"]") {
		t.Errorf("no updated auth list after Zed joined: %v", rs)
	}
	// Bob and the guest never get it.
	for _, c := range []*client.Client{bob, guest} {
		for _, r := range e.sync(c) {
			if r.Reply != nil && r.Reply.Type == "sessionconf" && r.Reply.Config["auth"] != nil {
				t.Errorf("%s got an auth list: %s", c.Name(), r.Payload)
			}
			if r.Reply != nil && strings.Contains(r.Payload, `"auth":[{`) {
				t.Errorf("%s got auth entries: %s", c.Name(), r.Payload)
			}
		}
	}
}

func authListIn(rs []rec, want string) bool {
	for _, r := range rs {
		if authListIs(want)(r) {
			return true
		}
	}
	return false
}

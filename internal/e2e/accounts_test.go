package e2e

import (
	"context"
	"slices"
	"testing"

	"drawbridge/internal/bridge"
	"drawbridge/internal/client"
	"drawbridge/internal/session"
)

// accounts is a fixed account table for the test.
type accounts map[string]string // name → password

func (a accounts) HasAccounts(context.Context) bool { return len(a) > 0 }

func (a accounts) Authenticate(_ context.Context, name, password string) (session.Account, error) {
	pw, ok := a[name]
	switch {
	case !ok:
		return session.Account{}, session.ErrNoAccount
	case password == "":
		return session.Account{}, session.ErrNeedPassword
	case password != pw:
		return session.Account{}, session.ErrBadPassword
	}
	return session.Account{Name: name, AuthID: "auth-" + name, Flags: []string{"HOST"}}, nil
}

// TestAccountLogin: an account name needs its password (needPassword, then
// ident with the password); a wrong password is badPassword and not fatal;
// other names stay guests.
func TestAccountLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *bridge.Config) { c.Auth = accounts{"Alice": "wonderland"} })
	c := e.dial(tcp)
	g, err := c.ReadGreeting(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := g.Methods["auth"]; !ok {
		t.Errorf("greeting methods %v lack auth", g.Methods)
	}
	r, err := c.Ident(e.ctx, client.IdentOptions{Name: "Alice"})
	if err != nil || r.State != client.IdentNeedPassword {
		t.Fatalf("ident without password: %+v %v, want needPassword", r, err)
	}
	if _, err := c.Ident(e.ctx, client.IdentOptions{Name: "Alice", Password: "rabbit"}); client.ErrorCode(err) != client.CodeBadPassword {
		t.Fatalf("wrong account password: %v, want badPassword", err)
	}
	r, err = c.Ident(e.ctx, client.IdentOptions{Name: "Alice", Password: "wonderland"})
	if err != nil || r.State != client.IdentOK || r.Guest {
		t.Fatalf("ident with password: %+v %v", r, err)
	}
	j, err := c.Host(e.ctx, client.HostOptions{Alias: "acct"})
	if err != nil {
		t.Fatal(err)
	}
	if j.AuthID != "auth-Alice" {
		t.Errorf("authId %q", j.AuthID)
	}
	if err := c.Initialize(e.ctx, snapshot(t, c.UserID())); err != nil {
		t.Fatal(err)
	}
	// The host's Join carries the auth flag (0x1).
	rs := e.until(c, "own Join", msgOf(32, c.UserID()))
	if p := rs[len(rs)-1].Payload; len(p) == 0 || p[0]&1 == 0 {
		t.Errorf("Join flags %x, want auth", p)
	}
	// Guests still get in, with the implicit guest flags.
	bob, _ := e.join("Bob", ws, "acct", "")
	if !slices.Contains(bob.UserFlags(), "WEB") {
		t.Errorf("guest flags %v lack WEB", bob.UserFlags())
	}
}

// TestRememberedOperator: a registered user made operator gets operator
// status back when they leave and rejoin (by auth id, as drawpile-srv);
// a guest does not.
func TestRememberedOperator(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *bridge.Config) { c.Auth = accounts{"Alice": "wonderland", "Bob": "builder"} })
	login := func(name, pw string) *client.Client {
		t.Helper()
		c := e.dial(tcp)
		if _, err := c.Login(e.ctx, client.LoginOptions{Ident: client.IdentOptions{Name: name, Password: pw}, Join: &client.JoinOptions{Session: "remember"}}); err != nil {
			t.Fatalf("%s: join: %v", name, err)
		}
		if err := c.WaitCaughtUp(e.ctx, nil); err != nil {
			t.Fatalf("%s: catch up: %v", name, err)
		}
		return c
	}
	host := e.dial(tcp)
	if _, err := host.Login(e.ctx, client.LoginOptions{Ident: client.IdentOptions{Name: "Alice", Password: "wonderland"}, Host: &client.HostOptions{Alias: "remember"}}); err != nil {
		t.Fatal(err)
	}
	if err := host.Initialize(e.ctx, snapshot(t, host.UserID())); err != nil {
		t.Fatal(err)
	}
	e.sync(host)
	bob := login("Bob", "builder")
	guest, _ := e.join("Carol", tcp, "remember", "")
	if err := host.SetOperators(e.ctx, []uint8{host.UserID(), bob.UserID(), guest.UserID()}); err != nil {
		t.Fatal(err)
	}
	e.until(host, "SessionOwner with Bob", func(r rec) bool {
		return r.Type == 34 && sameSet([]byte(r.Payload), []byte{host.UserID(), bob.UserID(), guest.UserID()})
	})
	bob.Close()
	guest.Close()
	e.until(host, "Bob's Leave", msgOf(33, bob.UserID()))

	bob2 := login("Bob", "builder")
	defer bob2.Close()
	carol2, _ := e.join("Carol", tcp, "remember", "")
	defer carol2.Close()
	rs := e.until(host, "SessionOwner with Bob again", func(r rec) bool {
		return r.Type == 34 && sameSet([]byte(r.Payload), []byte{host.UserID(), bob2.UserID()})
	})
	rs = append(rs, e.sync(host)...) // Carol's join is processed by now
	for _, r := range rs {
		if r.Type == 34 && bytesContain([]byte(r.Payload), carol2.UserID()) {
			t.Errorf("guest Carol got operator status back: %v", []byte(r.Payload))
		}
	}
}

func bytesContain(b []byte, v uint8) bool {
	for _, x := range b {
		if x == v {
			return true
		}
	}
	return false
}

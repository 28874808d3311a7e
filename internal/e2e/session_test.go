package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sync/errgroup"

	"drawbridge/internal/client"
	"drawbridge/internal/session"
	"drawbridge/protocol"
)

// TestHostAndTenJoiners: a host and ten joiners over TCP, WebSocket and
// browser WebSocket all draw and chat at once; everyone must receive the
// same history in the same order, and every joiner's catch-up must hold
// the host's initial canvas.
func TestHostAndTenJoiners(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	host := e.host("Host", tcp, client.HostOptions{Alias: "ten"})
	kinds := []kind{tcp, ws, browser}
	clients := []*client.Client{host}
	for i := range 10 {
		k := kinds[i%len(kinds)]
		c, catchup := e.join(fmt.Sprintf("User%d", i), k, "ten", "")
		// The catch-up holds the initial snapshot, in upload order.
		var snap []rec
		for _, r := range history(catchup) {
			if r.Type >= 64 && r.Ctx == host.UserID() {
				snap = append(snap, r)
			}
		}
		want := snapshot(t, host.UserID())
		if len(snap) != len(want) {
			t.Fatalf("User%d (%v): catch-up has %d snapshot messages, want %d", i, k, len(snap), len(want))
		}
		for j, f := range want {
			if snap[j].Type != f.Type() || snap[j].Payload != string(f.Payload()) {
				t.Errorf("User%d: snapshot message %d is %v, want %v", i, j, snap[j], f)
			}
		}
		clients = append(clients, c)
	}
	// Bring everyone up to date, then start recording at a marker.
	for _, c := range clients {
		e.sync(c)
	}
	e.chat(host, "start")
	const strokes = 5
	var g errgroup.Group
	got := make([][]rec, len(clients))
	for i, c := range clients {
		g.Go(func() error {
			rs, err := untilErr(e.ctx, c, chatFrom(host.UserID(), "start"))
			if err != nil {
				return fmt.Errorf("%s: %w", c.Name(), err)
			}
			_ = rs
			for s := range strokes {
				u, d, p := stroke(c.UserID(), int32(10*i+s))
				for _, m := range []struct {
					t protocol.Type
					p []byte
				}{{128, u}, {148, d}, {140, p}} {
					if err := c.Send(e.ctx, m.t, m.p); err != nil {
						return err
					}
				}
				if err := c.Chat(e.ctx, fmt.Sprintf("%s stroke %d", c.Name(), s)); err != nil {
					return err
				}
			}
			// Read until every client's last chat arrived.
			last := map[uint8]bool{}
			for len(last) < len(clients) {
				m, err := c.Recv(e.ctx)
				if err != nil {
					return fmt.Errorf("%s: %w (have %d)", c.Name(), err, len(got[i]))
				}
				r := newRec(m)
				if !r.History {
					continue
				}
				got[i] = append(got[i], r)
				if r.Type == 35 && strings.HasSuffix(r.Payload, fmt.Sprintf("stroke %d", strokes-1)) {
					last[r.Ctx] = true
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	want := len(clients) * strokes * 4
	if len(got[0]) != want {
		t.Errorf("host saw %d history messages, want %d", len(got[0]), want)
	}
	for i := 1; i < len(got); i++ {
		if at, ok := sameHistory(got[0], got[i]); !ok {
			t.Errorf("%s's history differs from the host's at %d (lengths %d, %d)", clients[i].Name(), at, len(got[i]), len(got[0]))
		}
	}
	// Everyone's context id is stamped by the server and unique.
	seen := map[uint8]string{}
	for _, c := range clients {
		if other, dup := seen[c.UserID()]; dup {
			t.Errorf("%s and %s both have user id %d", c.Name(), other, c.UserID())
		}
		seen[c.UserID()] = c.Name()
	}
}

// TestSenderStampedAndEchoed: the server overwrites a forged context id
// and echoes every message to its sender too.
func TestSenderStampedAndEchoed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	host := e.host("Host", tcp, client.HostOptions{Alias: "stamp"})
	bob, _ := e.join("Bob", ws, "stamp", "")
	forged := frame(t, 35, host.UserID(), append([]byte{0, 0}, "forged"...))
	if err := bob.SendFrame(e.ctx, forged); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client.Client{host, bob} {
		rs := e.until(c, "forged chat", func(r rec) bool { return r.Type == 35 && strings.HasSuffix(r.Payload, "forged") })
		if last := rs[len(rs)-1]; last.Ctx != bob.UserID() {
			t.Errorf("%s: chat stamped with ctx %d, want Bob's %d", c.Name(), last.Ctx, bob.UserID())
		}
	}
}

// TestKick: the operator kicks a user; the user gets Disconnect(kick, by
// name), the others a "kick" notice and the Leave.
func TestKick(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	host := e.host("Alice", tcp, client.HostOptions{Alias: "kick"})
	bob, _ := e.join("Bob", tcp, "kick", "")
	carol, _ := e.join("Carol", browser, "kick", "")
	e.sync(host)
	if err := host.Kick(e.ctx, int(bob.UserID()), false); err != nil {
		t.Fatal(err)
	}
	de := e.expectClosed(bob)
	if de == nil || de.Reason != client.ReasonKick || de.Message != "Alice" {
		t.Errorf("Bob: disconnect %+v, want kick by Alice", de)
	}
	for _, c := range []*client.Client{host, carol} {
		rs := e.until(c, "Leave of Bob", msgOf(33, bob.UserID()))
		if !hasNotice(rs, "kick") {
			t.Errorf("%s: no kick notice before the Leave: %v", c.Name(), rs)
		}
	}
	// Not an operator: kicking is refused, nobody leaves.
	if err := carol.Kick(e.ctx, int(host.UserID()), false); err != nil {
		t.Fatal(err)
	}
	rs := e.until(carol, "error", reply("error"))
	if msg := rs[len(rs)-1].Reply.Message; !strings.HasPrefix(msg, "kick-user:") {
		t.Errorf("Carol's kick: error %q", msg)
	}
	// Bob may come back (no ban).
	e.join("Bob", tcp, "kick", "")
}

func hasNotice(rs []rec, key string) bool {
	for _, r := range rs {
		if r.Reply != nil && r.Reply.T == key {
			return true
		}
	}
	return false
}

// TestBan: kick with ban keeps the user out (error banned) until the ban
// is removed.
func TestBan(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	host := e.host("Alice", tcp, client.HostOptions{Alias: "ban"})
	bob, _ := e.join("Bob", ws, "ban", "")
	e.sync(host)
	if err := host.Kick(e.ctx, int(bob.UserID()), true); err != nil {
		t.Fatal(err)
	}
	if de := e.expectClosed(bob); de == nil || de.Reason != client.ReasonKick {
		t.Errorf("Bob: disconnect %+v, want kick", de)
	}
	rs := e.until(host, "banlist", func(r rec) bool {
		return r.Reply != nil && r.Reply.Type == "sessionconf" && len(r.Reply.Config["banlist"]) > 2
	})
	var bans []struct {
		ID       int    `json:"id"`
		Username string `json:"username"`
	}
	if err := json.Unmarshal(rs[len(rs)-1].Reply.Config["banlist"], &bans); err != nil || len(bans) != 1 {
		t.Fatalf("banlist %s: %v", rs[len(rs)-1].Reply.Config["banlist"], err)
	}
	if !hasNotice(rs, "ban") {
		t.Errorf("no ban notice: %v", rs)
	}
	// Bob's system id is banned too, but a new connection has a new one:
	// the name alone must not matter. Use the same system id.
	again := client.New(e.transport(ws), client.Options{Info: bob.Info()})
	_, err := again.Login(e.ctx, client.LoginOptions{Ident: client.IdentOptions{Name: "Bob"}, Join: &client.JoinOptions{Session: "ban"}})
	if code := client.ErrorCode(err); code != client.CodeBanned {
		t.Fatalf("rejoin after ban: %v, want code banned", err)
	}
	if err := host.RemoveBan(e.ctx, bans[0].ID); err != nil {
		t.Fatal(err)
	}
	e.sync(host)
	third := client.New(e.transport(tcp), client.Options{Info: bob.Info()})
	if _, err := third.Login(e.ctx, client.LoginOptions{Ident: client.IdentOptions{Name: "Bob"}, Join: &client.JoinOptions{Session: "ban"}}); err != nil {
		t.Fatalf("rejoin after remove-ban: %v", err)
	}
}

// TestMute: a muted user's chat is dropped, drawing still passes; after
// unmute chat passes again.
func TestMute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	host := e.host("Alice", tcp, client.HostOptions{Alias: "mute"})
	bob, _ := e.join("Bob", tcp, "mute", "")
	e.sync(host)
	if err := host.Mute(e.ctx, int(bob.UserID()), true); err != nil {
		t.Fatal(err)
	}
	e.until(bob, "muted list", mutedList(bob.UserID(), true))
	e.chat(bob, "you cannot hear me")
	e.draw(bob, 10)
	rs := e.until(host, "Bob's PenUp", msgOf(140, bob.UserID()))
	for _, r := range rs {
		if r.Type == 35 && r.Ctx == bob.UserID() {
			t.Errorf("muted chat was relayed: %v", r)
		}
	}
	if err := host.Mute(e.ctx, int(bob.UserID()), false); err != nil {
		t.Fatal(err)
	}
	e.until(bob, "unmuted list", mutedList(bob.UserID(), false))
	e.chat(bob, "hello again")
	e.until(host, "Bob's chat", chatFrom(bob.UserID(), "hello again"))
}

// mutedList matches a sessionconf "muted" list (user ids) that does or
// does not hold id.
func mutedList(id uint8, muted bool) func(rec) bool {
	return func(r rec) bool {
		if r.Reply == nil || r.Reply.Type != "sessionconf" || r.Reply.Config["muted"] == nil {
			return false
		}
		var ids []int
		if json.Unmarshal(r.Reply.Config["muted"], &ids) != nil {
			return false
		}
		return slices.Contains(ids, int(id)) == muted
	}
}

// TestOpDeop: the operator makes Bob an operator with SessionOwner; Bob
// can then change the session; after deop he cannot.
func TestOpDeop(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	host := e.host("Alice", tcp, client.HostOptions{Alias: "ops"})
	bob, _ := e.join("Bob", ws, "ops", "")
	e.sync(host)
	if err := bob.SessionConf(e.ctx, client.SessionConf{Title: client.Ptr("by Bob")}); err != nil {
		t.Fatal(err)
	}
	rs := e.until(bob, "error", reply("error"))
	if msg := rs[len(rs)-1].Reply.Message; msg != "sessionconf: Not a session owner" {
		t.Errorf("non-op sessionconf: %q", msg)
	}
	if err := host.SetOperators(e.ctx, []uint8{host.UserID(), bob.UserID()}); err != nil {
		t.Fatal(err)
	}
	rs = e.until(bob, "SessionOwner", msgOf(34, host.UserID()))
	if got := rs[len(rs)-1].Payload; !sameSet([]byte(got), []byte{host.UserID(), bob.UserID()}) {
		t.Errorf("SessionOwner %v", []byte(got))
	}
	if !hasNotice(rs, "opgive") {
		t.Errorf("no opgive notice: %v", rs)
	}
	if err := bob.SessionConf(e.ctx, client.SessionConf{Title: client.Ptr("by Bob")}); err != nil {
		t.Fatal(err)
	}
	rs = e.until(host, "sessionconf", func(r rec) bool {
		return r.Reply != nil && r.Reply.Type == "sessionconf" && r.Reply.Config["title"] != nil
	})
	if got := string(rs[len(rs)-1].Reply.Config["title"]); got != `"by Bob"` {
		t.Errorf("title %s after Bob's sessionconf", got)
	}
	if err := host.SetOperators(e.ctx, []uint8{host.UserID()}); err != nil {
		t.Fatal(err)
	}
	rs = e.until(bob, "SessionOwner", msgOf(34, host.UserID()))
	if got := rs[len(rs)-1].Payload; got != string([]byte{host.UserID()}) {
		t.Errorf("SessionOwner after deop %v", []byte(got))
	}
	if err := bob.SessionConf(e.ctx, client.SessionConf{Title: client.Ptr("again")}); err != nil {
		t.Fatal(err)
	}
	e.until(bob, "error", reply("error"))
	// A non-operator's SessionOwner is ignored.
	if err := bob.SetOperators(e.ctx, []uint8{bob.UserID()}); err != nil {
		t.Fatal(err)
	}
	e.chat(bob, "after")
	for _, r := range e.until(host, "Bob's chat", chatFrom(bob.UserID(), "after")) {
		if r.Type == 34 && r.Ctx == bob.UserID() {
			t.Errorf("non-op SessionOwner relayed: %v", r)
		}
	}
}

// TestPasswords: a wrong or missing session password gets badPassword
// without ending the connection, up to the tenth try, which is fatal.
func TestPasswords(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.host("Alice", tcp, client.HostOptions{Alias: "pw", Password: "sesame"})
	c := e.dial(tcp)
	if _, err := c.ReadGreeting(e.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Ident(e.ctx, client.IdentOptions{Name: "Mallory"}); err != nil {
		t.Fatal(err)
	}
	if s, ok := c.Session("pw"); !ok || !s.HasPassword {
		t.Errorf("session list: %+v %v, want hasPassword", s, ok)
	}
	for i := 1; i <= 10; i++ {
		_, err := c.Join(e.ctx, client.JoinOptions{Session: "pw", Password: fmt.Sprintf("guess%d", i)})
		if client.ErrorCode(err) != client.CodeBadPassword {
			t.Fatalf("try %d: %v, want badPassword", i, err)
		}
		if i < 10 {
			if _, err := syncErr(e.ctx, c); err != nil {
				t.Fatalf("connection ended after %d wrong passwords: %v", i, err)
			}
		}
	}
	if de := e.expectClosed(c); de != nil && de.Reason != client.ReasonError {
		t.Errorf("after 10 wrong passwords: %+v", de)
	}
	// No password at all is wrong too; the right one works.
	d := e.dial(ws)
	d.ReadGreeting(e.ctx)
	if _, err := d.Ident(e.ctx, client.IdentOptions{Name: "Bob"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Join(e.ctx, client.JoinOptions{Session: "pw"}); client.ErrorCode(err) != client.CodeBadPassword {
		t.Fatalf("join without password: %v", err)
	}
	if _, err := d.Join(e.ctx, client.JoinOptions{Session: "pw", Password: "sesame"}); err != nil {
		t.Fatalf("join with the password: %v", err)
	}
	if err := d.WaitCaughtUp(e.ctx, nil); err != nil {
		t.Fatal(err)
	}
}

// TestFullSession: with maxUserCount 2 the third user gets "closed".
func TestFullSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	host := e.host("Alice", tcp, client.HostOptions{Alias: "full"})
	if err := host.SessionConf(e.ctx, client.SessionConf{MaxUserCount: client.Ptr(2)}); err != nil {
		t.Fatal(err)
	}
	e.until(host, "sessionconf", func(r rec) bool { return r.Reply != nil && string(r.Reply.Config["maxUserCount"]) == "2" })
	e.join("Bob", ws, "full", "")
	if _, err := e.joinOpts("Carol", tcp, client.JoinOptions{Session: "full"}); client.ErrorCode(err) != client.CodeClosed {
		t.Fatalf("third user: %v, want closed", err)
	}
}

// TestDuplicateName: the same name from another machine is refused; from
// the same system id it replaces the old connection.
func TestDuplicateName(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.host("Alice", tcp, client.HostOptions{Alias: "dup"})
	bob, _ := e.join("Bob", tcp, "dup", "")
	if _, err := e.joinOpts("bob", ws, client.JoinOptions{Session: "dup"}); client.ErrorCode(err) != client.CodeNameInUse {
		t.Fatalf("same name, other system: %v, want nameInuse", err)
	}
	again := client.New(e.transport(ws), client.Options{Info: bob.Info()})
	j, err := again.Login(e.ctx, client.LoginOptions{Ident: client.IdentOptions{Name: "Bob"}, Join: &client.JoinOptions{Session: "dup"}})
	if err != nil {
		t.Fatalf("same name, same system id: %v", err)
	}
	if j.User != int(bob.UserID()) {
		t.Errorf("rejoin got user id %d, want the old %d", j.User, bob.UserID())
	}
	e.expectClosed(bob)
}

// TestInvites: an invite secret opens a password-protected session, as
// the join password and via lookup "alias:secret".
func TestInvites(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	host := e.host("Alice", tcp, client.HostOptions{Alias: "inv", Password: "secret-pw"})
	if err := host.InviteCreate(e.ctx, 2, false, false); err != nil {
		t.Fatal(err)
	}
	rs := e.until(host, "invitecreated", reply("invitecreated"))
	secret := rs[len(rs)-1].Reply.Secret
	if secret == "" {
		t.Fatalf("invitecreated without secret: %v", rs[len(rs)-1])
	}
	if _, err := e.joinOpts("Bob", tcp, client.JoinOptions{Session: "inv", Password: secret}); err != nil {
		t.Fatalf("join with invite as password: %v", err)
	}
	c := e.dial(browser)
	c.ReadGreeting(e.ctx)
	c.ClientInfo(e.ctx, "localhost")
	if _, err := c.LookupJoin(e.ctx, "inv:"+secret); err != nil {
		t.Fatalf("lookup with invite: %v", err)
	}
	if _, err := c.Ident(e.ctx, client.IdentOptions{Name: "Carol"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Join(e.ctx, client.JoinOptions{Session: "inv", Password: secret}); err != nil {
		t.Fatalf("join after invite lookup: %v", err)
	}
	// Both uses are spent.
	if _, err := e.joinOpts("Dave", tcp, client.JoinOptions{Session: "inv", Password: secret}); err == nil {
		t.Errorf("third use of a 2-use invite succeeded")
	}
}

// TestClassicReset: the operator resets the session; everyone gets the
// reset notice and the new history, and drawing goes on.
func TestClassicReset(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	host := e.host("Alice", tcp, client.HostOptions{Alias: "reset"})
	bob, _ := e.join("Bob", ws, "reset", "")
	e.draw(bob, 5)
	e.until(host, "Bob's PenUp", msgOf(140, bob.UserID())) // in the old history
	if err := host.ResetSession(e.ctx, "current"); err != nil {
		t.Fatal(err)
	}
	rs := e.until(host, "reset init", func(r rec) bool { return r.Reply != nil && r.Reply.Type == "reset" && r.Reply.State == "init" })
	_ = rs
	if err := host.InitBegin(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := host.Initialize(e.ctx, snapshot(t, host.UserID())); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client.Client{host, bob} {
		rs := e.until(c, "reset", func(r rec) bool { return r.Reply != nil && r.Reply.Type == "reset" && r.Reply.State == "reset" })
		_ = rs
		var after []rec
		if err := c.WaitCaughtUp(e.ctx, func(m client.Message) error { after = append(after, newRec(m)); return nil }); err != nil {
			t.Fatalf("%s: catch up after reset: %v", c.Name(), err)
		}
		h := history(after)
		var joins, snap int
		for _, r := range h {
			switch {
			case r.Type == 32:
				joins++
			case r.Type >= 64:
				snap++
				if r.Type == 148 {
					t.Errorf("%s: old drawing survived the reset: %v", c.Name(), r)
				}
			}
		}
		if joins != 2 || snap != len(snapshot(t, 1)) {
			t.Errorf("%s: new history has %d joins and %d canvas messages: %v", c.Name(), joins, snap, h)
		}
	}
	e.draw(bob, 7)
	e.until(host, "Bob's PenUp", msgOf(140, bob.UserID()))
}

// TestReconnectWithHidx: a client that reconnects with its hidx gets
// skip:true and only the history it missed.
func TestReconnectWithHidx(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	host := e.host("Alice", tcp, client.HostOptions{Alias: "hidx"})
	bob, _ := e.join("Bob", tcp, "hidx", "")
	e.chat(host, "before")
	e.until(bob, "chat", chatFrom(host.UserID(), "before"))
	e.sync(bob)
	hidx := bob.ResumeHidx()
	if hidx == "" {
		t.Fatal("no hidx after catch-up")
	}
	bob.Close()
	e.until(host, "Bob's Leave", msgOf(33, bob.UserID()))
	e.chat(host, "while away")
	e.until(host, "own chat", chatFrom(host.UserID(), "while away")) // in the history before the rejoin
	again := client.New(e.transport(ws), client.Options{Info: bob.Info()})
	j, err := again.Login(e.ctx, client.LoginOptions{Ident: client.IdentOptions{Name: "Bob"}, Join: &client.JoinOptions{Session: "hidx", Hidx: hidx}})
	if err != nil {
		t.Fatal(err)
	}
	if j.Skip == nil || !*j.Skip {
		t.Fatalf("join with hidx %s: skip false", hidx)
	}
	var got []rec
	if err := again.WaitCaughtUp(e.ctx, func(m client.Message) error { got = append(got, newRec(m)); return nil }); err != nil {
		t.Fatal(err)
	}
	h := history(got)
	for _, r := range h {
		if r.Type >= 64 || r.Type == 35 && strings.HasSuffix(r.Payload, "before") {
			t.Errorf("replayed history from before the hidx: %v", r)
		}
	}
	found := false
	for _, r := range h {
		found = found || r.Type == 35 && strings.HasSuffix(r.Payload, "while away")
	}
	if !found {
		t.Errorf("missed chat not replayed: %v", h)
	}
}

// TestSessionListAndRoomCodes: a user that has not joined yet sees
// sessions appear and end; a session is reachable by its room code via
// lookup, join and the HTTP room API.
func TestSessionListAndRoomCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withSettings(func(s *session.Settings) { s.EmptySessionLingerTime = 0 }))
	watcher := e.dial(ws)
	if _, err := watcher.ReadGreeting(e.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := watcher.Ident(e.ctx, client.IdentOptions{Name: "Watcher"}); err != nil {
		t.Fatal(err)
	}
	if n := len(watcher.Sessions()); n != 0 {
		t.Errorf("fresh server lists %d sessions", n)
	}
	host := e.host("Alice", tcp, client.HostOptions{Alias: "listed", Config: &client.SessionConf{Title: client.Ptr("Listed session")}})
	for {
		if s, ok := watcher.Session("listed"); ok && s.Title == "Listed session" {
			break
		}
		if _, err := watcher.WaitSessionUpdate(e.ctx); err != nil {
			t.Fatalf("waiting for the new session in the list: %v", err)
		}
	}
	var room struct{ ID, Code, Alias string }
	getJSON(t, e, "/api/rooms/listed", &room)
	if len(room.Code) != 6 || room.Alias != "listed" {
		t.Fatalf("room API: %+v", room)
	}
	var byCode struct{ ID string }
	getJSON(t, e, "/api/rooms/"+strings.ToLower(room.Code), &byCode)
	if byCode.ID != room.ID {
		t.Errorf("room code resolves to %q, want %q", byCode.ID, room.ID)
	}
	c := e.dial(tcp)
	c.ReadGreeting(e.ctx)
	si, err := c.LookupJoin(e.ctx, room.Code)
	if err != nil || si == nil || si.ID != room.ID {
		t.Fatalf("lookup by room code: %+v %v", si, err)
	}
	if _, err := c.Ident(e.ctx, client.IdentOptions{Name: "Bob"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Join(e.ctx, client.JoinOptions{Session: room.Code}); err != nil {
		t.Fatalf("join by room code: %v", err)
	}
	c.Close()
	host.Close()
	for {
		if _, ok := watcher.Session("listed"); !ok {
			break
		}
		if _, err := watcher.WaitSessionUpdate(e.ctx); err != nil {
			t.Fatalf("waiting for the session to end: %v", err)
		}
	}
}

func getJSON(t *testing.T, e *env, path string, v any) {
	t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, "http://"+e.httpAddr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// TestRealClientLoginSequence follows the login of the real Drawpile 2.3
// desktop client (testdata/transcripts/real-client-login.txt): full version
// string in cinfo, join lookup by alias, ident with intent guest, join by
// the session's unique id.
func TestRealClientLoginSequence(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.host("host1", tcp, client.HostOptions{Alias: "realclient"})
	for _, k := range []kind{tcp, ws} {
		info := client.DefaultClientInfo(newSystemID())
		info.AppVersion = "2.3.1-beta.1-127-g5e085d081-dirty"
		c := client.New(e.transport(k), client.Options{Info: info})
		if _, err := c.ReadGreeting(e.ctx); err != nil {
			t.Fatal(err)
		}
		if browser, err := c.ClientInfo(e.ctx, "127.0.0.1"); err != nil || browser {
			t.Fatalf("%v: cinfo: browser %v, %v", k, browser, err)
		}
		si, err := c.LookupJoin(e.ctx, "realclient")
		if err != nil || si == nil || si.Alias != "realclient" {
			t.Fatalf("%v: lookup: %+v %v", k, si, err)
		}
		r, err := c.Ident(e.ctx, client.IdentOptions{Name: "real" + k.String(), Intent: "guest"})
		if err != nil || r.State != client.IdentOK || !r.Guest {
			t.Fatalf("%v: ident: %+v %v", k, r, err)
		}
		if n := len(c.Sessions()); n != 0 {
			t.Errorf("%v: session list after a join lookup has %d entries, want 0", k, n)
		}
		j, err := c.Join(e.ctx, client.JoinOptions{Session: si.ID})
		if err != nil {
			t.Fatalf("%v: join by unique id: %v", k, err)
		}
		if j.ID != "realclient" || j.UniqueID != si.ID {
			t.Errorf("%v: join result %+v", k, j)
		}
		if err := c.WaitCaughtUp(e.ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
}

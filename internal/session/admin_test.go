package session

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
)

func TestAdminKickOpTrust(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room"})
		bob := connect(t, srv, ConnInfo{Transport: "tcp"})
		bob.join("Bob", "room", nil)
		synctest.Wait()
		s := srv.Lookup("room")
		users := s.Users()
		if len(users) != 2 || users[0].Name != "Alice" || !users[0].Op || users[1].Name != "Bob" || users[1].State != "session" {
			t.Fatalf("users = %+v", users)
		}
		if srv.ClientCount() != 2 || len(srv.Clients()) != 2 {
			t.Fatalf("clients = %d", srv.ClientCount())
		}
		if c := srv.ClientByUID(bob.c.UID()); c != bob.c {
			t.Fatalf("ClientByUID(%s) = %v", bob.c.UID(), c)
		}
		if srv.ClientByUID("zz") != nil || srv.ClientByUID("ffffffff") != nil {
			t.Fatal("ClientByUID found a bogus handle")
		}
		if info := bob.c.Info(); info.Session != s.ID() || info.ID != 2 || info.Name != "Bob" {
			t.Fatalf("Info = %+v", info)
		}

		// Op and trust by the administrator: SessionOwner/TrustedUsers in the
		// history and notices naming the administrator.
		host.conn.take()
		if err := s.SetOp(2, true); err != nil {
			t.Fatal(err)
		}
		if err := s.SetTrusted(2, true); err != nil {
			t.Fatal(err)
		}
		if err := s.SetOp(9, true); !errors.Is(err, ErrNoSuchUser) {
			t.Fatalf("SetOp(9) = %v", err)
		}
		synctest.Wait()
		var owners, trusted []byte
		for _, f := range host.conn.take() {
			switch f.Type() {
			case typeSessionOwner:
				owners = f.Payload()
			case typeTrustedUsers:
				trusted = f.Payload()
			}
		}
		if string(owners) != "\x01\x02" || string(trusted) != "\x02" {
			t.Fatalf("owners %v trusted %v", owners, trusted)
		}
		if u, _ := s.User(2); !u.Op || !u.Trusted {
			t.Fatalf("bob = %+v", u)
		}

		// Private message, then kick.
		if err := s.MessageUser(2, "hello", false); err != nil {
			t.Fatal(err)
		}
		if err := s.MessageUser(2, strings.Repeat("x", MaxAdminMessage+1), false); !errors.Is(err, ErrMessageTooLong) {
			t.Fatalf("long message: %v", err)
		}
		force, err := s.KickUser(2, "bye")
		if err != nil || force {
			t.Fatalf("KickUser = %v, %v", force, err)
		}
		synctest.Wait()
		rs := jsonReplies(t, bob.conn.take())
		gotHello := false
		for _, r := range rs {
			gotHello = gotHello || (r.str("type") == "msg" && r.str("message") == "hello")
		}
		if !gotHello {
			t.Fatalf("bob did not get the private message: %v", rs)
		}
		if closed, _ := bob.conn.isClosed(); !closed {
			t.Fatal("bob not disconnected")
		}
		if _, ok := s.User(2); ok {
			t.Fatal("bob still a member")
		}
		if _, err := s.KickUser(2, ""); !errors.Is(err, ErrNoSuchUser) {
			t.Fatalf("second kick: %v", err)
		}
	})
}

func TestAdminConfigureAndInvites(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room"})
		synctest.Wait()
		s := srv.Lookup("room")
		props := map[string]json.RawMessage{"title": json.RawMessage(`"Admin"`), "persistent": json.RawMessage(`true`),
			"unlisted": json.RawMessage(`true`), "maxUserCount": json.RawMessage(`300`), "password": json.RawMessage(`"pw"`)}
		changed, err := s.Configure(props)
		if err != nil || !changed {
			t.Fatalf("Configure = %v, %v", changed, err)
		}
		d := s.Desc()
		if d.Title != "Admin" || !d.Persistent || !d.Unlisted || d.MaxUserCount != 254 || !d.HasPassword {
			t.Fatalf("desc = %+v", d)
		}
		if !s.CheckPassword("pw") || s.CheckPassword("no") || s.CheckOpword("") {
			t.Fatal("password checks")
		}
		if changed, _ := s.Configure(map[string]json.RawMessage{"title": json.RawMessage(`"Admin"`)}); changed {
			t.Fatal("no-op Configure reported a change")
		}

		inv, err := s.CreateInvite(99, true, false)
		if err != nil || inv.MaxUses != 50 || !inv.Trust || inv.Creator != AdminName || len(inv.Secret) != 8 {
			t.Fatalf("CreateInvite = %+v, %v", inv, err)
		}
		if got, ok := s.Invite(inv.Secret); !ok || got.Secret != inv.Secret {
			t.Fatal("Invite lookup")
		}
		for range maxInvites - 1 {
			if _, err := s.CreateInvite(1, false, false); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.CreateInvite(1, false, false); !errors.Is(err, ErrTooManyInvites) {
			t.Fatalf("51st invite: %v", err)
		}
		if len(s.Invites()) != maxInvites {
			t.Fatalf("invites = %d", len(s.Invites()))
		}
		if err := s.RemoveInvite(inv.Secret); err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveInvite(inv.Secret); !errors.Is(err, ErrNoSuchInvite) {
			t.Fatalf("second remove: %v", err)
		}

		// Terminate: the host is told and disconnected, the session is gone.
		host.conn.take()
		s.Terminate("maintenance", false)
		synctest.Wait()
		if a := findReply(jsonReplies(t, host.conn.take()), "alert"); a == nil || a.str("message") != "maintenance" {
			t.Fatalf("termination alert: %v", a)
		}
		if !s.Ended() || srv.Lookup("room") != nil {
			t.Fatal("session still live")
		}
		if _, err := s.Configure(props); !errors.Is(err, ErrSessionEnded) {
			t.Fatalf("Configure after end: %v", err)
		}
	})
}

func TestAdminBroadcastAndServerKick(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", nil)
		lurker := connect(t, srv, ConnInfo{Transport: "tcp"})
		synctest.Wait()
		host.conn.take()
		if err := srv.Broadcast("to all", true); err != nil {
			t.Fatal(err)
		}
		if err := srv.Broadcast(strings.Repeat("x", MaxAdminMessage+1), true); !errors.Is(err, ErrMessageTooLong) {
			t.Fatalf("long broadcast: %v", err)
		}
		synctest.Wait()
		if a := findReply(jsonReplies(t, host.conn.take()), "alert"); a == nil || a.str("message") != "to all" {
			t.Fatalf("broadcast: %v", a)
		}
		// A connection that never logged in can be kicked from the server.
		if info := lurker.c.Info(); info.State != "login" || info.Session != "" {
			t.Fatalf("lurker = %+v", info)
		}
		if force := lurker.c.Kick("go"); force {
			t.Fatal("first kick forced")
		}
		synctest.Wait()
		if closed, _ := lurker.conn.isClosed(); !closed {
			t.Fatal("lurker not disconnected")
		}
		// Kicking a member through its connection leaves the session.
		host.c.Kick("")
		synctest.Wait()
		if len(srv.Sessions()) != 0 {
			t.Fatal("session of the kicked host still live")
		}
	})
}

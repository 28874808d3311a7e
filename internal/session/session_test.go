package session

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"drawbridge/protocol"
)

func TestHostAndJoin(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room", "password": "pw"})
		synctest.Wait()
		hr := jsonReplies(t, host.conn.take())
		if g := hr[0]; g.str("type") != "login" || g["version"].(float64) != 4 {
			t.Fatalf("first message is not the greeting: %v", g)
		}
		res := findReply(hr, "result")
		if res == nil || res.str("message") != "Client info OK!" {
			t.Fatalf("no cinfo result: %v", hr)
		}
		var hostRes reply
		for _, r := range hr {
			if r.str("state") == "host" {
				hostRes = r
			}
		}
		if hostRes == nil {
			t.Fatalf("no host result in %v", hr)
		}
		join := hostRes["join"].(map[string]any)
		if join["id"] != "room" || join["user"].(float64) != 1 || len(join["uniqueId"].(string)) != 26 {
			t.Fatalf("bad host result %v", hostRes)
		}
		s := srv.Lookup("room")
		if s == nil || srv.Lookup(s.ID()) != s || srv.Lookup(strings.ToLower(s.Code())) != s {
			t.Fatal("session not found by alias, id or room code")
		}

		bob := connect(t, srv, ConnInfo{Transport: "ws"})
		bob.join("Bob", "room", map[string]any{"password": "pw"})
		synctest.Wait()
		br := bob.conn.take()
		rs := jsonReplies(t, br)
		var joinRes, catchup reply
		for _, r := range rs {
			if r.str("state") == "join" {
				joinRes = r
			}
			if r.str("type") == "catchup" && catchup == nil {
				catchup = r
			}
		}
		if joinRes == nil || catchup == nil {
			t.Fatalf("join result or catchup missing: %v", rs)
		}
		if joinRes["join"].(map[string]any)["user"].(float64) != 2 {
			t.Fatalf("Bob got id %v", joinRes)
		}
		// History: everything up to Bob's caughtup marker with the same key,
		// then Bob's Join. catchup.count = history messages before it.
		caughtAt := -1
		n := 0
		seenResize := false
		for i, f := range br {
			if caughtAt >= 0 {
				break
			}
			if f.Type() == 0 {
				var r reply
				_ = json.Unmarshal(f.Payload(), &r)
				switch {
				case r.str("type") == "caughtup" && r["key"] == catchup["key"]:
					caughtAt = i
				case r.str("type") == "caughtup" || bytes.Contains(f.Payload(), []byte(`"allowIdleOverride"`)):
					n++
				}
				continue
			}
			n++
			if f.Type() == 129 {
				seenResize = true
				if f.Ctx() != 1 {
					t.Errorf("resize ctx = %d, want 1 (the host's upload keeps its ctx)", f.Ctx())
				}
			}
		}
		if caughtAt < 0 {
			t.Fatal("no caughtup with the catchup key")
		}
		if !seenResize {
			t.Error("joiner did not get the host's canvas")
		}
		if int(catchup["count"].(float64)) != n {
			t.Errorf("catchup count = %v, history before the marker = %d", catchup["count"], n)
		}
		var last protocol.Frame
		for _, f := range br {
			if f.Type() == typeJoin {
				last = f
			}
		}
		if last == nil || last.Ctx() != 2 {
			t.Fatalf("Bob's own Join missing")
		}

		// Chat from Bob: stamped with ctx 2, echoed to Bob and sent to Alice.
		host.conn.take()
		if err := bob.sendFrame(typeChat, 77, append([]byte{0, 0}, "hi"...)); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		for _, who := range []*tc{host, bob} {
			got := false
			for _, f := range who.conn.take() {
				if f.Type() == typeChat {
					got = true
					if f.Ctx() != 2 || string(f.Payload()[2:]) != "hi" {
						t.Errorf("%s got chat %v %q", who.name, f, f.Payload())
					}
				}
			}
			if !got {
				t.Errorf("%s did not get the chat", who.name)
			}
		}
	})
}

// TestSlowClientKicked: a client whose writes block is disconnected after
// the write deadline while the others receive every message in order.
func TestSlowClientKicked(t *testing.T) {
	inBubble(t, func(s *Settings) { s.WriteTimeout = 5 * time.Second }, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", nil)
		var others []*tc
		for i := range 3 {
			x := connect(t, srv, ConnInfo{Transport: "tcp"})
			x.join(fmt.Sprintf("User%d", i), srv.Sessions()[0].ID(), nil)
			others = append(others, x)
		}
		synctest.Wait()
		slow := others[1]
		slow.conn.mu.Lock()
		slow.conn.block = true
		slow.conn.mu.Unlock()
		for _, x := range append(others, host) {
			x.conn.take()
		}
		const n = 200
		for i := range n {
			p := make([]byte, 16)
			binary.BigEndian.PutUint32(p, uint32(i))
			if err := host.sendFrame(129, 1, p); err != nil {
				t.Fatal(err)
			}
			if i == 50 {
				time.Sleep(6 * time.Second) // the slow client's deadline passes
			}
		}
		synctest.Wait()
		closed, reason := slow.conn.isClosed()
		if !closed || reason != CloseSlow {
			t.Fatalf("slow client: closed=%v reason=%v", closed, reason)
		}
		for _, x := range []*tc{host, others[0], others[2]} {
			if c, _ := x.conn.isClosed(); c {
				t.Fatalf("%s was closed", x.name)
			}
			want := uint32(0)
			sawLeave := false
			for _, f := range x.conn.take() {
				switch f.Type() {
				case 129:
					if got := binary.BigEndian.Uint32(f.Payload()); got != want {
						t.Fatalf("%s: message %d out of order (want %d)", x.name, got, want)
					}
					want++
				case typeLeave:
					if f.Ctx() == slow.c.id {
						sawLeave = true
					}
				}
			}
			if want != n {
				t.Errorf("%s got %d of %d messages", x.name, want, n)
			}
			if !sawLeave {
				t.Errorf("%s did not see the slow client's Leave", x.name)
			}
		}
		if srv.SlowKicks() != 1 {
			t.Errorf("SlowKicks = %d", srv.SlowKicks())
		}
	})
}

// TestLaggingClientKicked: a client whose writes stall (without missing the
// deadline) is disconnected as soon as more than MaxLag bytes pile up,
// found by the appending side; the others are unaffected.
func TestLaggingClientKicked(t *testing.T) {
	inBubble(t, func(s *Settings) { s.MaxLag = 4096; s.WriteTimeout = time.Hour }, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", nil)
		bob := connect(t, srv, ConnInfo{Transport: "tcp"})
		bob.join("Bob", srv.Sessions()[0].ID(), nil)
		carl := connect(t, srv, ConnInfo{Transport: "tcp"})
		carl.join("Carl", srv.Sessions()[0].ID(), nil)
		synctest.Wait()
		bob.conn.mu.Lock()
		bob.conn.gate = make(chan struct{}) // never opened
		bob.conn.mu.Unlock()
		for range 100 {
			if err := host.sendFrame(129, 1, make([]byte, 100)); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
		}
		if c, r := bob.conn.isClosed(); !c || r != CloseSlow {
			t.Fatalf("lagging client not kicked: %v %v", c, r)
		}
		for _, x := range []*tc{host, carl} {
			if c, _ := x.conn.isClosed(); c {
				t.Fatalf("%s kicked", x.name)
			}
			n := 0
			for _, f := range x.conn.take() {
				if f.Type() == 129 {
					n++
				}
			}
			if n < 100 {
				t.Errorf("%s got %d of 100 messages", x.name, n)
			}
		}
	})
}

func TestLoginErrors(t *testing.T) {
	tests := []struct {
		name  string
		run   func(x *tc, srv *Server)
		code  string
		fatal bool
	}{
		{"bad username", func(x *tc, _ *Server) { x.cinfo(); x.send("ident", []any{strings.Repeat("A", 23)}, nil) }, "badUsername", true},
		{"quote in username", func(x *tc, _ *Server) { x.send("ident", []any{`a"b`}, nil) }, "badUsername", true},
		{"bad protocol", func(x *tc, _ *Server) {
			x.send("ident", []any{"Gina"}, nil)
			x.send("host", nil, x.kw(map[string]any{"protocol": "dp:5.25.1", "user_id": 1}))
		}, "badProtocol", true},
		{"unparseable protocol", func(x *tc, _ *Server) {
			x.send("ident", []any{"Gina"}, nil)
			x.send("host", nil, x.kw(map[string]any{"protocol": "4.25", "user_id": 1}))
		}, "syntax", true},
		{"bad user id", func(x *tc, _ *Server) {
			x.send("ident", []any{"Gina"}, nil)
			x.send("host", nil, x.kw(map[string]any{"protocol": "dp:4.25.1", "user_id": 0}))
		}, "syntax", true},
		{"alias in use", func(x *tc, _ *Server) {
			x.send("ident", []any{"Hank"}, nil)
			x.send("host", nil, x.kw(map[string]any{"protocol": "dp:4.25.1", "user_id": 1, "alias": "room"}))
		}, "idInUse", true},
		{"bad alias", func(x *tc, _ *Server) {
			x.send("ident", []any{"Hank"}, nil)
			x.send("host", nil, x.kw(map[string]any{"protocol": "dp:4.25.1", "user_id": 1, "alias": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}))
		}, "badAlias", true},
		{"lookup missing", func(x *tc, _ *Server) { x.send("lookup", []any{"nosuchsession"}, nil) }, "lookupFailed", true},
		{"join missing", func(x *tc, _ *Server) {
			x.send("ident", []any{"Frank"}, nil)
			x.send("join", []any{"nosuchsession"}, x.kw(nil))
		}, "notFound", true},
		{"wrong password", func(x *tc, _ *Server) { x.join("Erin", "room", map[string]any{"password": "wrong"}) }, "badPassword", false},
		{"name in use", func(x *tc, _ *Server) { x.join("alice", "room", map[string]any{"password": "pw"}) }, "nameInuse", true},
		{"cinfo twice", func(x *tc, _ *Server) { x.cinfo(); x.cinfo() }, "cinfoAlreadyDone", true},
		{"bad app version", func(x *tc, _ *Server) {
			m := x.info()
			m["app_version"] = "x"
			x.send("cinfo", []any{"h", m}, nil)
		}, "badversion", true},
		{"lookup then host", func(x *tc, _ *Server) {
			x.send("lookup", []any{"room"}, nil)
			x.send("ident", []any{"Ivan"}, nil)
			x.send("host", nil, x.kw(map[string]any{"protocol": "dp:4.25.1", "user_id": 1}))
		}, "lookupHostMismatch", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inBubble(t, nil, func(t *testing.T, srv *Server) {
				host := connect(t, srv, ConnInfo{Transport: "tcp"})
				host.host("Alice", map[string]any{"alias": "room", "password": "pw"})
				x := connect(t, srv, ConnInfo{Transport: "tcp"})
				tt.run(x, srv)
				synctest.Wait()
				fs := x.conn.take()
				var e reply
				for _, r := range jsonReplies(t, fs) {
					if r.str("type") == "error" {
						e = r
					}
				}
				if e == nil || e.str("code") != tt.code {
					t.Fatalf("error = %v, want code %s", e, tt.code)
				}
				disc := fs[len(fs)-1].Type() == typeDisconnect
				closed, _ := x.conn.isClosed()
				if disc != tt.fatal || closed != tt.fatal {
					t.Fatalf("fatal: disconnect=%v closed=%v, want %v", disc, closed, tt.fatal)
				}
				if tt.fatal && string(fs[len(fs)-1].Payload()) != "\x00Login error" && tt.code != "" {
					t.Errorf("disconnect payload %q", fs[len(fs)-1].Payload())
				}
			})
		})
	}
}

func TestPasswordTenTries(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room", "password": "pw"})
		x := connect(t, srv, ConnInfo{Transport: "tcp"})
		x.join("Erin", "room", map[string]any{"password": "wrong"})
		for i := 2; i <= 10; i++ {
			synctest.Wait()
			if c, _ := x.conn.isClosed(); c {
				t.Fatalf("closed after %d tries", i-1)
			}
			x.send("join", []any{"room"}, x.kw(map[string]any{"password": "wrong"}))
		}
		synctest.Wait()
		if c, _ := x.conn.isClosed(); !c {
			t.Fatal("still open after 10 wrong passwords")
		}
	})
}

func TestBrowserRules(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room"})
		host.send("sessionconf", nil, map[string]any{"allowWeb": false})
		b := connect(t, srv, ConnInfo{Transport: "ws", Browser: true})
		b.cinfo()
		b.send("ident", []any{"Carol"}, nil)
		b.send("join", []any{"room"}, b.kw(nil))
		synctest.Wait()
		rs := jsonReplies(t, b.conn.take())
		if r := findReply(rs, "result"); r == nil || r["cinfo"].(map[string]any)["browser"] != true {
			t.Errorf("cinfo browser flag: %v", rs)
		}
		if e := findReply(rs, "error"); e == nil || e.str("code") != "noWebJoin" {
			t.Fatalf("want noWebJoin, got %v", rs)
		}
		host.send("sessionconf", nil, map[string]any{"allowWeb": true})
		b2 := connect(t, srv, ConnInfo{Transport: "ws", Browser: true})
		b2.join("Carol", "room", nil)
		synctest.Wait()
		if e := findReply(jsonReplies(t, b2.conn.take()), "error"); e != nil {
			t.Fatalf("join with allowWeb failed: %v", e)
		}
	})
}

func TestFullSession(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room"})
		host.send("sessionconf", nil, map[string]any{"maxUserCount": 2})
		b := connect(t, srv, ConnInfo{Transport: "tcp"})
		b.join("Bob", "room", nil)
		c := connect(t, srv, ConnInfo{Transport: "tcp"})
		c.join("Carl", "room", nil)
		synctest.Wait()
		if e := findReply(jsonReplies(t, b.conn.take()), "error"); e != nil {
			t.Fatalf("Bob: %v", e)
		}
		if e := findReply(jsonReplies(t, c.conn.take()), "error"); e == nil || e.str("code") != "closed" {
			t.Fatalf("Carl: want closed, got %v", e)
		}
	})
}

func TestKickBanMuteOp(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room"})
		bob := connect(t, srv, ConnInfo{Transport: "tcp"})
		bob.join("Bob", "room", nil)
		carl := connect(t, srv, ConnInfo{Transport: "tcp"})
		carl.join("Carl", "room", nil)
		synctest.Wait()
		// Non-op cannot kick.
		bob.conn.take()
		bob.send("kick-user", []any{3}, nil)
		synctest.Wait()
		if e := findReply(jsonReplies(t, bob.conn.take()), "error"); e == nil || e.str("message") != "kick-user: Not a session owner or a deputy" {
			t.Fatalf("bob kick: %v", e)
		}
		// Mute Carl: his chat is dropped.
		host.send("mute", []any{3, true}, nil)
		if err := carl.sendFrame(typeChat, 0, []byte{0, 0, 'x'}); err != nil {
			t.Fatal(err)
		}
		// Op Bob through SessionOwner.
		if err := host.sendFrame(typeSessionOwner, 0, []byte{2}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		hs := host.conn.take()
		for _, f := range hs {
			if f.Type() == typeChat {
				t.Fatal("muted chat was relayed")
			}
		}
		var owners []byte
		var ownerCtx uint8
		for _, f := range hs {
			if f.Type() == typeSessionOwner {
				owners, ownerCtx = f.Payload(), f.Ctx()
			}
		}
		if ownerCtx != 1 {
			t.Errorf("SessionOwner ctx %d, want the sender's 1", ownerCtx)
		}
		if !bytes.Equal(owners, []byte{1, 2}) {
			t.Fatalf("SessionOwner = %v, want [1 2]", owners)
		}
		// Ban Carl.
		host.send("kick-user", []any{"Carl"}, map[string]any{"ban": true})
		synctest.Wait()
		cf := carl.conn.take()
		if len(cf) == 0 || cf[len(cf)-1].Type() != typeDisconnect || string(cf[len(cf)-1].Payload()) != "\x01Alice" {
			t.Fatalf("carl's last message: %v", cf)
		}
		if c, _ := carl.conn.isClosed(); !c {
			t.Fatal("carl not closed")
		}
		var kickMsg reply
		for _, r := range jsonReplies(t, bob.conn.take()) {
			if r.str("T") == "ban" {
				kickMsg = r
			}
		}
		if kickMsg == nil || kickMsg.str("message") != "Carl banned by Alice" {
			t.Fatalf("ban notice: %v", kickMsg)
		}
		again := connect(t, srv, ConnInfo{Transport: "tcp"})
		again.join("Carl", "room", nil)
		synctest.Wait()
		if e := findReply(jsonReplies(t, again.conn.take()), "error"); e == nil || e.str("code") != "banned" {
			t.Fatalf("banned rejoin: %v", e)
		}
	})
}

func TestBadInput(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room"})
		bob := connect(t, srv, ConnInfo{Transport: "tcp"})
		bob.join("Bob", "room", nil)
		synctest.Wait()
		host.conn.take()
		// Server-only messages are dropped, not relayed.
		for _, m := range []struct {
			typ     protocol.Type
			payload []byte
		}{{typeJoin, []byte{0, 1, 'x'}}, {typeLeave, nil}, {typeSoftReset, nil}} {
			if err := bob.sendFrame(m.typ, 0, m.payload); err != nil {
				t.Fatalf("type %d: %v", m.typ, err)
			}
		}
		// Non-object JSON and unknown commands get errors.
		f, _ := protocol.NewFrame(0, 0, []byte(`[1,2]`))
		if err := bob.c.Receive(f); err != nil {
			t.Fatal(err)
		}
		bob.send("frobnicate", nil, nil)
		synctest.Wait()
		rs := jsonReplies(t, bob.conn.take())
		var errs []string
		for _, r := range rs {
			if r.str("type") == "error" {
				errs = append(errs, r.str("message"))
			}
		}
		if len(errs) != 2 || errs[1] != "frobnicate: Unknown command" {
			t.Fatalf("errors = %q", errs)
		}
		for _, f := range host.conn.take() {
			if f.Type() == typeJoin || f.Type() == typeLeave || f.Type() == typeSoftReset {
				t.Fatalf("host got a forged %v", f)
			}
		}
		// An undefined type < 64 or an undecodable one ends the sender's
		// connection; the host keeps going.
		if err := bob.sendFrame(5, 0, nil); err == nil {
			t.Fatal("type 5 accepted")
		}
		if c, r := bob.conn.isClosed(); !c || r != CloseBadData {
			t.Fatalf("bob: %v %v", c, r)
		}
		carl := connect(t, srv, ConnInfo{Transport: "tcp"})
		carl.join("Carl", "room", nil)
		if err := carl.sendFrame(typeJoin, 0, []byte{0, 9, 'x'}); err == nil {
			t.Fatal("Join with a bad name length accepted")
		}
		if c, r := carl.conn.isClosed(); !c || r != CloseBadData {
			t.Fatalf("carl: %v %v", c, r)
		}
		if err := host.sendFrame(129, 1, make([]byte, 16)); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		got := false
		for _, f := range host.conn.take() {
			if f.Type() == 129 {
				got = true
			}
		}
		if !got {
			t.Fatal("host stopped receiving")
		}
		// Commands in the wrong login state.
		x := connect(t, srv, ConnInfo{Transport: "tcp"})
		x.send("join", []any{"room"}, x.kw(nil))
		synctest.Wait()
		if c, _ := x.conn.isClosed(); !c {
			t.Fatal("join before ident accepted")
		}
	})
}

func TestResumeWithHidx(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room"})
		bob := connect(t, srv, ConnInfo{Transport: "tcp"})
		bob.join("Bob", "room", nil)
		synctest.Wait()
		var hidx string
		for _, r := range jsonReplies(t, bob.conn.take()) {
			if r.str("type") == "caughtup" {
				hidx = r.str("hidx")
			}
		}
		bob.c.Close()
		host.sendFrame(129, 1, make([]byte, 16))
		bob2 := connect(t, srv, ConnInfo{Transport: "tcp"})
		bob2.join("Bob", "room", map[string]any{"hidx": hidx})
		synctest.Wait()
		fs := bob2.conn.take()
		var res reply
		for _, r := range jsonReplies(t, fs) {
			if r.str("state") == "join" {
				res = r
			}
		}
		if res == nil || res["join"].(map[string]any)["skip"] != true {
			t.Fatalf("no skip: %v", res)
		}
		resizes := 0
		for _, f := range fs {
			if f.Type() == 129 {
				resizes++
			}
		}
		if resizes != 1 {
			t.Fatalf("resumed client got %d resizes, want only the new one", resizes)
		}
	})
}

func TestClassicReset(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room"})
		bob := connect(t, srv, ConnInfo{Transport: "tcp"})
		bob.join("Bob", "room", nil)
		synctest.Wait()
		bob.conn.take()
		host.send("reset-session", nil, map[string]any{"type": "current"})
		host.send("init-begin", nil, nil)
		if err := host.sendFrame(147, 7, []byte{1, 2, 3, 4}); err != nil {
			t.Fatal(err)
		}
		host.send("init-complete", nil, nil)
		synctest.Wait()
		fs := bob.conn.take()
		var sawReset, sawBg bool
		for _, f := range fs {
			if f.Type() == 0 && bytes.Contains(f.Payload(), []byte(`"state":"reset"`)) {
				sawReset = true
			}
			if f.Type() == 147 {
				if !sawReset {
					t.Fatal("new history before the reset notice")
				}
				sawBg = true
				if f.Ctx() != 7 {
					t.Errorf("reset image ctx %d, want 7 (kept)", f.Ctx())
				}
			}
		}
		if !sawBg {
			t.Fatal("reset image not delivered")
		}
		late := connect(t, srv, ConnInfo{Transport: "tcp"})
		late.join("Late", "room", nil)
		synctest.Wait()
		for _, f := range late.conn.take() {
			if f.Type() == 129 {
				t.Fatal("late joiner got pre-reset history")
			}
		}
	})
}

func TestInvites(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room", "password": "pw"})
		host.send("invite-create", nil, map[string]any{"maxUses": 1})
		synctest.Wait()
		inv := findReply(jsonReplies(t, host.conn.take()), "invitecreated")
		if inv == nil || len(inv.str("secret")) != 8 {
			t.Fatalf("invite: %v", inv)
		}
		x := connect(t, srv, ConnInfo{Transport: "tcp"})
		x.send("lookup", []any{"room:" + inv.str("secret")}, nil)
		x.join("Ivy", "room", nil)
		synctest.Wait()
		if e := findReply(jsonReplies(t, x.conn.take()), "error"); e != nil {
			t.Fatalf("invite join: %v", e)
		}
		y := connect(t, srv, ConnInfo{Transport: "tcp"})
		y.send("lookup", []any{"room:" + inv.str("secret")}, nil)
		synctest.Wait()
		if e := findReply(jsonReplies(t, y.conn.take()), "error"); e == nil || e.str("code") != "inviteLimitReached" {
			t.Fatalf("second use: %v", e)
		}
	})
}

func TestSessionListUpdates(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		w := connect(t, srv, ConnInfo{Transport: "tcp"})
		w.send("ident", []any{"Watcher"}, nil)
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room"})
		synctest.Wait()
		var sawNew bool
		for _, r := range jsonReplies(t, w.conn.take()) {
			if r.str("message") == "New session" {
				sawNew = true
			}
		}
		if !sawNew {
			t.Fatal("watcher got no New session update")
		}
		host.c.Close()
		synctest.Wait()
		var sawEnd bool
		for _, r := range jsonReplies(t, w.conn.take()) {
			if r.str("message") == "Session ended" {
				sawEnd = true
			}
		}
		if !sawEnd || srv.Lookup("room") != nil {
			t.Fatal("empty session not ended")
		}
	})
}

func TestPingAndPrivateChat(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		x := connect(t, srv, ConnInfo{Transport: "tcp"})
		if err := x.sendFrame(typePing, 0, []byte{0}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		fs := x.conn.take()
		if f := fs[len(fs)-1]; f.Type() != typePing || f.Payload()[0] != 1 {
			t.Fatalf("no pong: %v", fs)
		}
		if err := x.sendFrame(typePing, 0, []byte{0, 0}); err == nil {
			t.Fatal("2-byte ping accepted")
		}
	})
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room"})
		bob := connect(t, srv, ConnInfo{Transport: "tcp"})
		bob.join("Bob", "room", nil)
		carl := connect(t, srv, ConnInfo{Transport: "tcp"})
		carl.join("Carl", "room", nil)
		synctest.Wait()
		carl.conn.take()
		if err := host.sendFrame(typePrivateChat, 0, append([]byte{2, 0}, "psst"...)); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		count := func(x *tc) int {
			n := 0
			for _, f := range x.conn.take() {
				if f.Type() == typePrivateChat {
					n++
				}
			}
			return n
		}
		if count(host) != 1 || count(bob) != 1 || count(carl) != 0 {
			t.Fatal("private chat not delivered to exactly sender and target")
		}
	})
}

func TestIdleSessionEnds(t *testing.T) {
	inBubble(t, func(s *Settings) { s.IdleTimeLimit = time.Minute }, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room"})
		time.Sleep(50 * time.Second)
		synctest.Wait()
		if srv.Lookup("room") == nil {
			t.Fatal("session ended before the idle limit")
		}
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if srv.Lookup("room") != nil {
			t.Fatal("idle session still alive")
		}
		fs := host.conn.take()
		if f := fs[len(fs)-1]; f.Type() != typeDisconnect || f.Payload()[0] != disconnectShutdown {
			t.Fatalf("last message %v", f)
		}
	})
}

// TestAutoresetStreamed: passing the threshold queries the operator; a
// client that can stream gets a streamed reset, and after the image the
// history is compacted for later joiners while nobody is interrupted.
func TestAutoresetStreamed(t *testing.T) {
	inBubble(t, func(s *Settings) { s.AutoResetThreshold = 2000 }, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room"})
		synctest.Wait()
		host.conn.take()
		for range 30 {
			if err := host.sendFrame(147, 1, make([]byte, 100)); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		q := findReply(jsonReplies(t, host.conn.take()), "autoreset")
		if q == nil || q["query"] != true {
			t.Fatalf("no autoreset query: %v", q)
		}
		host.send("ready-to-autoreset", nil, map[string]any{"payload": q.str("payload"), "capabilities": []string{"gzip1", "net"}, "os": "linux"})
		synctest.Wait()
		req := findReply(jsonReplies(t, host.conn.take()), "autoreset")
		if req == nil || req["query"] != false || req.str("stream") != "gzip1" {
			t.Fatalf("no streamed reset request: %v", req)
		}
		host.send("stream-reset-start", []any{req.str("correlator")}, nil)
		// The image: one background message, zlib-compressed, 4-byte framed.
		var raw bytes.Buffer
		img, _ := protocol.NewFrame(147, 1, []byte{9, 9, 9, 9})
		zw := zlib.NewWriter(&raw)
		zw.Write(img)
		zw.Close()
		if err := host.sendFrame(typeResetStream, 1, raw.Bytes()); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if p := findReply(jsonReplies(t, host.conn.take()), "sprogress"); p == nil || p["cancel"] != false {
			t.Fatalf("no sprogress: %v", p)
		}
		host.send("stream-reset-finish", []any{1}, nil)
		// The swap happens once everyone got history after the sstart marker.
		if err := host.sendFrame(128, 1, nil); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		late := connect(t, srv, ConnInfo{Transport: "tcp"})
		late.join("Late", "room", nil)
		synctest.Wait()
		bgs := 0
		for _, f := range late.conn.take() {
			if f.Type() == 147 {
				bgs++
				if !bytes.Equal(f.Payload(), []byte{9, 9, 9, 9}) {
					t.Errorf("late joiner got pre-reset background %x", f.Payload())
				}
			}
		}
		if bgs != 1 {
			t.Fatalf("late joiner got %d backgrounds, want the 1 from the reset image", bgs)
		}
	})
}

func TestMinimumProtocolVersion(t *testing.T) {
	inBubble(t, func(s *Settings) { s.MinimumProtocolVersion = "dp:4.25.0" }, func(t *testing.T, srv *Server) {
		for _, tt := range []struct{ proto, code string }{{"dp:4.24.0", "protoverold"}, {"xx:4.25.1", "protoverns"}, {"dp:4.25.1", ""}} {
			x := connect(t, srv, ConnInfo{Transport: "tcp"})
			x.send("ident", []any{"Host" + tt.proto[:2]}, nil)
			x.send("host", nil, x.kw(map[string]any{"protocol": tt.proto, "user_id": 1}))
			synctest.Wait()
			e := findReply(jsonReplies(t, x.conn.take()), "error")
			if got := e.str("code"); got != tt.code {
				t.Errorf("%s: code %q, want %q", tt.proto, got, tt.code)
			}
		}
	})
}

// TestResetConnectionIsNotSlow: a write that fails because the peer reset
// the connection ends the client as a lost connection, not as a slow
// consumer (no slow-client count, no Warn), and the session goes on.
func TestResetConnectionIsNotSlow(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{})
		host.host("alice", map[string]any{"alias": "reset"})
		gone := connect(t, srv, ConnInfo{})
		gone.join("bob", "reset", nil)
		synctest.Wait()
		gone.conn.mu.Lock()
		gone.conn.err = errors.New("write tcp: connection reset by peer")
		gone.conn.mu.Unlock()
		if err := host.sendFrame(130, 1, []byte{1}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		closed, reason := gone.conn.isClosed()
		if !closed || reason != CloseNormal {
			t.Fatalf("reset client: closed=%v reason=%v, want closed normally", closed, reason)
		}
		if n := srv.SlowKicks(); n != 0 {
			t.Errorf("SlowKicks = %d after a reset connection, want 0", n)
		}
		if c, _ := host.conn.isClosed(); c {
			t.Error("the host was closed too")
		}
	})
}

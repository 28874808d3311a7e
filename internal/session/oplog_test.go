package session

import (
	"encoding/json"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"drawbridge/protocol"
)

// Tests for drawpile-srv behaviours around operators and the session log:
// ensureOperatorExists on leave, role-filtered session log, and the lists
// sent when operator status changes.

// confValues returns the raw JSON of every sessionconf message's key
// member in fs, in order.
func confValues(t *testing.T, fs []protocol.Frame, key string) []string {
	t.Helper()
	var out []string
	for _, f := range fs {
		if f.Type() != 0 {
			continue
		}
		var m struct {
			Type   string                     `json:"type"`
			Config map[string]json.RawMessage `json:"config"`
		}
		if err := json.Unmarshal(f.Payload(), &m); err != nil {
			t.Fatalf("bad JSON from server: %s", f.Payload())
		}
		if v, ok := m.Config[key]; ok && m.Type == "sessionconf" {
			out = append(out, string(v))
		}
	}
	return out
}

// logReplies returns the `log` messages in fs.
func logReplies(t *testing.T, fs []protocol.Frame) []reply {
	t.Helper()
	var out []reply
	for _, r := range jsonReplies(t, fs) {
		if r.str("type") == "log" {
			out = append(out, r)
		}
	}
	return out
}

func logTopics(rs []reply) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.str("topic"))
	}
	return out
}

// member returns the member of session alias called name (nil if none);
// the caller must not hold the session lock.
func member(srv *Server, alias, name string) (id uint8, op, ok bool) {
	s := srv.Lookup(alias)
	if s == nil {
		return 0, false, false
	}
	s.lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if u.name == name {
			return u.id, u.op, true
		}
	}
	return 0, false, false
}

func addr(s string) ConnInfo { return ConnInfo{Transport: "tcp", Addr: netip.MustParseAddr(s)} }

func TestReplayLogVisible(t *testing.T) {
	for _, tt := range []struct {
		topic               string
		guest, op, mod, all bool
	}{
		{topic: "Join", guest: true, op: true, mod: true},
		{topic: "Status", guest: true, op: true, mod: true},
		{topic: "Op", guest: true, op: true, mod: true},
		{topic: "Kick", guest: false, op: true, mod: true},
		{topic: "Ban", guest: false, op: true, mod: true},
		{topic: "Unban", guest: false, op: true, mod: true},
		{topic: "ClientInfo", guest: false, op: false, mod: true},
		{topic: "Report", guest: false, op: false, mod: true},
	} {
		if got := replayLogVisible(tt.topic, false, false); got != tt.guest {
			t.Errorf("%s to a guest: %v, want %v", tt.topic, got, tt.guest)
		}
		if got := replayLogVisible(tt.topic, false, true); got != tt.op {
			t.Errorf("%s to an operator: %v, want %v", tt.topic, got, tt.op)
		}
		if got := replayLogVisible(tt.topic, true, false); got != tt.mod {
			t.Errorf("%s to a moderator: %v, want %v", tt.topic, got, tt.mod)
		}
	}
}

// TestSessionLogByRole: a guest who joins after an abuse report, a ban and
// other users' client info is replayed none of them, and is pushed no
// client info live; an operator is replayed the ban but not the sensitive
// entries; a moderator gets everything. Nobody gets an address.
func TestSessionLogByRole(t *testing.T) {
	ips := []string{"192.0.2.1", "198.51.100.2", "198.51.100.5", "203.0.113.9", "203.0.113.10", "203.0.113.11", "203.0.113.12"}
	noIPs := func(t *testing.T, who string, rs []reply) {
		t.Helper()
		for _, r := range rs {
			if r.str("topic") == "ClientInfo" {
				continue // moderators only; checked below
			}
			b, _ := json.Marshal(r)
			for _, ip := range ips {
				if strings.Contains(string(b), ip) {
					t.Errorf("%s got an address in %s", who, b)
				}
			}
		}
	}
	inBubbleOpts(t, func(o *Options) {
		o.Auth = flagAuth{"Mod": {"MOD"}}
	}, func(t *testing.T, srv *Server) {
		alice := connect(t, srv, addr(ips[0]))
		alice.host("Alice", map[string]any{"alias": "room"})
		bob := connect(t, srv, addr(ips[1]))
		bob.join("Bob", "room", nil)
		eve := connect(t, srv, addr(ips[2]))
		eve.join("Eve", "room", nil)
		synctest.Wait()
		bob.conn.take()
		bob.send("report", nil, map[string]any{"reason": "rude words", "user": 3})
		alice.send("kick-user", []any{"Eve"}, map[string]any{"ban": true})
		alice.send("invite-create", nil, map[string]any{"op": true, "maxUses": 1})
		synctest.Wait()
		var secret string
		if r := findReply(jsonReplies(t, alice.conn.take()), protocol.ReplyInviteCreated); r != nil {
			secret = r.str("secret")
		}
		if secret == "" {
			t.Fatal("no invite created")
		}
		// Live: a guest member sees the ban but not the report.
		bs := logReplies(t, bob.conn.take())
		if tp := logTopics(bs); !slices.Contains(tp, "Ban") || slices.Contains(tp, "Report") || slices.Contains(tp, "ClientInfo") {
			t.Errorf("guest member pushed topics %v, want Ban but no Report/ClientInfo", tp)
		}
		noIPs(t, "Bob (live)", bs)

		// A guest joining later.
		carol := connect(t, srv, addr(ips[3]))
		carol.join("Carol", "room", nil)
		synctest.Wait()
		cs := logReplies(t, carol.conn.take())
		tp := logTopics(cs)
		for _, bad := range []string{"ClientInfo", "Report", "Kick", "Ban", "Unban"} {
			if slices.Contains(tp, bad) {
				t.Errorf("guest joiner replayed a %s entry: %v", bad, tp)
			}
		}
		if !slices.ContainsFunc(cs, func(r reply) bool { return r.str("message") == "Session was reported." }) {
			t.Errorf("guest joiner not told the session was reported: %v", tp)
		}
		if !slices.Contains(tp, "Join") {
			t.Errorf("guest joiner replayed no Join entries: %v", tp)
		}
		for _, r := range cs {
			if strings.Contains(r.str("message"), "rude words") {
				t.Errorf("guest joiner got the report text: %v", r)
			}
		}
		noIPs(t, "Carol", cs)
		if bs := logReplies(t, bob.conn.take()); slices.Contains(logTopics(bs), "ClientInfo") {
			t.Errorf("guest member pushed a joiner's client info: %v", logTopics(bs))
		}

		// An operator (by invite) joining later: the ban, not the report.
		opper := connect(t, srv, addr(ips[4]))
		opper.join("Opper", "room", map[string]any{"password": secret})
		synctest.Wait()
		if _, op, _ := member(srv, "room", "Opper"); !op {
			t.Fatal("op invite did not make Opper an operator")
		}
		os := logReplies(t, opper.conn.take())
		tp = logTopics(os)
		if !slices.Contains(tp, "Ban") || slices.Contains(tp, "Report") || slices.Contains(tp, "ClientInfo") {
			t.Errorf("operator joiner replayed %v, want Ban but no Report/ClientInfo", tp)
		}
		noIPs(t, "Opper", os)

		// A moderator gets everything, client info with addresses included.
		mod := connect(t, srv, addr(ips[5]))
		mod.join("Mod", "room", nil)
		synctest.Wait()
		ms := logReplies(t, mod.conn.take())
		tp = logTopics(ms)
		for _, want := range []string{"ClientInfo", "Report", "Ban"} {
			if !slices.Contains(tp, want) {
				t.Errorf("moderator joiner not replayed %s: %v", want, tp)
			}
		}
		if !slices.ContainsFunc(ms, func(r reply) bool {
			return r.str("topic") == "ClientInfo" && strings.Contains(r.str("message"), `"address":"203.0.113.9"`) &&
				strings.Contains(r.str("message"), `"app_version":"2.3.1"`)
		}) {
			t.Errorf("moderator joiner has no client info for Carol: %v", ms)
		}
		if !slices.ContainsFunc(ms, func(r reply) bool {
			return r.str("topic") == "Report" && strings.Contains(r.str("message"), "rude words")
		}) {
			t.Errorf("moderator joiner has no report entry: %v", tp)
		}
		for _, r := range ms {
			if u := r.str("user"); strings.Count(u, ";") > 1 {
				t.Errorf("log entry user %q carries more than id;name", u)
			}
		}
		// Live client info of a later joiner: to the moderator only.
		carol.conn.take()
		dave := connect(t, srv, addr(ips[6]))
		dave.join("Dave", "room", nil)
		synctest.Wait()
		if tp := logTopics(logReplies(t, mod.conn.take())); !slices.Contains(tp, "ClientInfo") {
			t.Errorf("moderator not pushed a joiner's client info: %v", tp)
		}
		if tp := logTopics(logReplies(t, carol.conn.take())); slices.Contains(tp, "ClientInfo") || !slices.Contains(tp, "Join") {
			t.Errorf("guest member pushed %v, want Join but no ClientInfo", tp)
		}
	})
}

// TestLastOperatorLeaves: when the last operator leaves and there is no
// other way to become one, the earliest-joined remaining user (not a
// ghost) is made operator (drawpile-srv's ensureOperatorExists).
func TestLastOperatorLeaves(t *testing.T) {
	for _, tt := range []struct {
		name   string
		auth   flagAuth
		setup  func(t *testing.T, srv *Server, alice *tc)
		joiner []string // join in this order after the setup
		wantOp string   // "" = nobody new
	}{
		{name: "guests", joiner: []string{"Bob", "Carol", "Dave"}, wantOp: "Bob"},
		{name: "opword", joiner: []string{"Bob", "Carol"}, setup: func(t *testing.T, srv *Server, alice *tc) {
			alice.send("sessionconf", nil, map[string]any{"opword": "sesame"})
		}},
		{name: "registered operator away", auth: flagAuth{"Alice": nil}, joiner: []string{"Bob"}},
		{name: "ghosts excluded", auth: flagAuth{"Ghosty": {"MOD", "GHOST"}}, joiner: []string{"Ghosty", "Bob"}, wantOp: "Bob"},
		{name: "another operator remains", joiner: []string{"Bob", "Carol"}, setup: func(t *testing.T, srv *Server, alice *tc) {
			bob := connect(t, srv, ConnInfo{Transport: "tcp"})
			bob.join("Zed", "room", nil)
			synctest.Wait()
			id, _, _ := member(srv, "room", "Zed")
			if err := alice.sendFrame(typeSessionOwner, 0, []byte{id}); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inBubbleOpts(t, func(o *Options) {
				o.Auth = tt.auth
				o.Settings.EnableGhosts = true
			}, func(t *testing.T, srv *Server) {
				alice := connect(t, srv, ConnInfo{Transport: "tcp"})
				alice.host("Alice", map[string]any{"alias": "room"})
				synctest.Wait()
				if tt.setup != nil {
					tt.setup(t, srv, alice)
				}
				var others []*tc
				for _, n := range tt.joiner {
					x := connect(t, srv, ConnInfo{Transport: "tcp"})
					x.join(n, "room", nil)
					synctest.Wait()
					others = append(others, x)
				}
				for _, x := range others {
					x.conn.take()
				}
				alice.c.Close()
				synctest.Wait()
				for _, x := range others {
					_, op, ok := member(srv, "room", x.name)
					if !ok {
						t.Fatalf("%s is not in the session", x.name)
					}
					if x.name == "Ghosty" {
						continue // a moderator, op all along
					}
					if want := x.name == tt.wantOp; op != want {
						t.Errorf("%s op = %v, want %v", x.name, op, want)
					}
				}
				if tt.wantOp == "" {
					return
				}
				// Everyone is told, and SessionOwner (ctx 0) in the history
				// names the new operator; it gets the operator-only lists.
				id, _, _ := member(srv, "room", tt.wantOp)
				for _, x := range others {
					fs := x.conn.take()
					if x.name == "Ghosty" {
						continue
					}
					told := slices.ContainsFunc(jsonReplies(t, fs), func(r reply) bool {
						p, _ := r["P"].(map[string]any)
						return r.str("T") == "opgive" && p["target"] == tt.wantOp
					})
					if !told {
						t.Errorf("%s was not told %s was made operator", x.name, tt.wantOp)
					}
					if !slices.ContainsFunc(fs, func(f protocol.Frame) bool {
						return f.Type() == typeSessionOwner && f.Ctx() == 0 && slices.Contains(f.Payload(), id)
					}) {
						t.Errorf("%s got no SessionOwner naming %s", x.name, tt.wantOp)
					}
					if x.name == tt.wantOp {
						if len(confValues(t, fs, "banlist")) == 0 || len(confValues(t, fs, "invitelist")) == 0 {
							t.Errorf("new operator did not get the ban and invite lists")
						}
					}
				}
			})
		})
	}
}

// TestOpChangeLists: an operator status change sends the ban and invite
// lists to every operator (once per change message) and an empty ban list
// to everyone else, as drawpile-srv's updateOwnership.
func TestOpChangeLists(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		alice := connect(t, srv, ConnInfo{Transport: "tcp"})
		alice.host("Alice", map[string]any{"alias": "room"})
		alice.send("invite-create", nil, nil)
		var xs []*tc
		for _, n := range []string{"Bob", "Carol", "Dave", "Eve"} {
			x := connect(t, srv, addr("198.51.100.7"))
			x.join(n, "room", nil)
			xs = append(xs, x)
		}
		bob, carol, dave := xs[0], xs[1], xs[2]
		alice.send("kick-user", []any{"Eve"}, map[string]any{"ban": true})
		synctest.Wait()
		for _, x := range append(xs, alice) {
			x.conn.take()
		}
		ids := func(names ...string) []byte {
			var out []byte
			for _, n := range names {
				id, _, _ := member(srv, "room", n)
				out = append(out, id)
			}
			return out
		}
		check := func(step string, x *tc, wantBans string, wantInvites int) {
			t.Helper()
			fs := x.conn.take()
			bans := confValues(t, fs, "banlist")
			switch {
			case wantBans == "" && len(bans) != 0:
				t.Errorf("%s: %s got ban lists %v, want none", step, x.name, bans)
			case wantBans == "[]" && (len(bans) != 1 || bans[0] != "[]"):
				t.Errorf("%s: %s got ban lists %v, want one empty list", step, x.name, bans)
			case wantBans == "full" && (len(bans) != 1 || !strings.Contains(bans[0], `"Eve"`)):
				t.Errorf("%s: %s got ban lists %v, want one with Eve", step, x.name, bans)
			}
			inv := confValues(t, fs, "invitelist")
			if len(inv) != wantInvites {
				t.Errorf("%s: %s got %d invite lists, want %d", step, x.name, len(inv), wantInvites)
			} else if wantInvites > 0 && !strings.Contains(inv[0], `"secret"`) {
				t.Errorf("%s: %s got invite list %s", step, x.name, inv[0])
			}
		}

		// Alice ops Bob and Carol in one message.
		if err := alice.sendFrame(typeSessionOwner, 0, ids("Alice", "Bob", "Carol")); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		check("op Bob+Carol", alice, "full", 1)
		check("op Bob+Carol", bob, "full", 1)
		check("op Bob+Carol", carol, "full", 1)
		check("op Bob+Carol", dave, "[]", 0)

		// Alice takes Carol's status away.
		if err := alice.sendFrame(typeSessionOwner, 0, ids("Alice", "Bob")); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		check("deop Carol", alice, "full", 1)
		check("deop Carol", bob, "full", 1)
		check("deop Carol", carol, "[]", 0)
		check("deop Carol", dave, "[]", 0)

		// The administrator ops Dave.
		id, _, _ := member(srv, "room", "Dave")
		if err := srv.Lookup("room").SetOp(id, true); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		check("admin op Dave", alice, "full", 1)
		check("admin op Dave", dave, "full", 1)
		check("admin op Dave", carol, "[]", 0)
	})
}

// TestOpNotices: the operator change notices use drawpile-srv's keys,
// texts and parameters.
func TestOpNotices(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		alice := connect(t, srv, ConnInfo{Transport: "tcp"})
		alice.host("Alice", map[string]any{"alias": "room"})
		alice.send("sessionconf", nil, map[string]any{"opword": "sesame"})
		alice.send("invite-create", nil, map[string]any{"op": true})
		synctest.Wait()
		secret := findReply(jsonReplies(t, alice.conn.take()), protocol.ReplyInviteCreated).str("secret")
		bob := connect(t, srv, ConnInfo{Transport: "tcp"})
		bob.join("Bob", "room", nil)
		synctest.Wait()
		notice := func() reply {
			t.Helper()
			synctest.Wait()
			var last reply
			for _, r := range jsonReplies(t, alice.conn.take()) {
				if r.str("type") == "msg" && strings.HasPrefix(r.str("T"), "op") {
					last = r
				}
			}
			return last
		}
		alice.conn.take()
		for _, tt := range []struct {
			step      string
			do        func()
			key, text string
			p         map[string]any
		}{
			{"gain-op", func() { bob.send("gain-op", []any{"sesame"}, nil) },
				"opgive", "Bob made operator by password", map[string]any{"target": "Bob", "by": "password"}},
			{"deop", func() {
				id, _, _ := member(srv, "room", "Alice")
				if err := alice.sendFrame(typeSessionOwner, 0, []byte{id}); err != nil {
					t.Fatal(err)
				}
			}, "optake", "Bob operator status revoked by Alice", map[string]any{"target": "Bob", "by": "Alice"}},
			{"admin", func() {
				id, _, _ := member(srv, "room", "Bob")
				if err := srv.Lookup("room").SetOp(id, true); err != nil {
					t.Fatal(err)
				}
			}, "opgive", "Bob made operator by the server administrator", map[string]any{"target": "Bob", "by": AdminName}},
			{"invite", func() {
				carol := connect(t, srv, ConnInfo{Transport: "tcp"})
				carol.join("Carol", "room", map[string]any{"password": secret})
			}, "opgiveinvite", "Carol made operator via invite created by Alice", map[string]any{"target": "Carol", "creator": "Alice"}},
		} {
			tt.do()
			r := notice()
			if r == nil {
				t.Errorf("%s: no notice", tt.step)
				continue
			}
			if r.str("T") != tt.key || r.str("message") != tt.text {
				t.Errorf("%s: notice %s %q, want %s %q", tt.step, r.str("T"), r.str("message"), tt.key, tt.text)
			}
			if p, _ := r["P"].(map[string]any); !maps.Equal(p, tt.p) {
				t.Errorf("%s: params %v, want %v", tt.step, p, tt.p)
			}
		}
	})
}

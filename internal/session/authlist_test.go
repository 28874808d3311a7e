package session

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"drawbridge/internal/store/sessionfile"
	"drawbridge/protocol"
)

// authLists returns the "auth" members of the sessionconf messages in fs,
// each as its raw JSON array.
func authLists(t *testing.T, fs []protocol.Frame) []string {
	t.Helper()
	return confValues(t, fs, "auth")
}

// lastAuthList is the last auth list in fs ("" if none).
func lastAuthList(t *testing.T, fs []protocol.Frame) string {
	t.Helper()
	l := authLists(t, fs)
	if len(l) == 0 {
		return ""
	}
	return l[len(l)-1]
}

func TestAuthListGuestsOnly(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room"})
		synctest.Wait()
		hs := host.conn.take()
		for _, f := range hs {
			if f.Type() == 0 && strings.Contains(string(f.Payload()), `"auth"`) &&
				string(f.Payload()) != `{"config":{"auth":[]},"type":"sessionconf"}` {
				t.Errorf("guest session auth list: %s", f.Payload())
			}
		}
		if n := len(authLists(t, hs)); n != 2 { // op grant and the join lists, as drawpile-srv
			t.Errorf("host got %d auth lists, want 2", n)
		}
		bob := connect(t, srv, ConnInfo{Transport: "tcp"})
		bob.join("Bob", "room", nil)
		synctest.Wait()
		if l := authLists(t, host.conn.take()); len(l) != 1 || l[0] != "[]" {
			t.Errorf("host auth lists after a guest join: %q", l)
		}
		if l := authLists(t, bob.conn.take()); len(l) != 0 {
			t.Errorf("non-operator got auth lists: %q", l)
		}
	})
}

func TestAuthListMembers(t *testing.T) {
	accounts := flagAuth{"Alice": nil, "Bob": nil, "Moddy": {"MOD"}, "Zed": nil}
	inBubbleOpts(t, func(o *Options) { o.Auth = accounts }, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room"})
		synctest.Wait()
		const alice = `{"authId":"internal:Alice","op":true,"username":"Alice"}`
		if got := lastAuthList(t, host.conn.take()); got != "["+alice+"]" {
			t.Fatalf("host's auth list: %s", got)
		}

		// Registered users and guests join; only registered ones are listed.
		bob := connect(t, srv, ConnInfo{Transport: "tcp"})
		bob.join("Bob", "room", nil)
		carol := connect(t, srv, ConnInfo{Transport: "tcp"})
		carol.join("Carol", "room", nil)
		synctest.Wait()
		const bobPlain = `{"authId":"internal:Bob","username":"Bob"}`
		if got := lastAuthList(t, host.conn.take()); got != "["+alice+","+bobPlain+"]" {
			t.Errorf("after joins: %s", got)
		}
		if l := authLists(t, bob.conn.take()); len(l) != 0 {
			t.Errorf("non-operator got auth lists: %q", l)
		}

		// A moderator is listed with its marker instead of op.
		mod := connect(t, srv, ConnInfo{Transport: "tcp"})
		mod.join("Moddy", "room", nil)
		synctest.Wait()
		const moddy = `{"authId":"internal:Moddy","mod":true,"username":"Moddy"}`
		want := "[" + alice + "," + bobPlain + "," + moddy + "]"
		if got := lastAuthList(t, host.conn.take()); got != want {
			t.Errorf("after the moderator joined: %s", got)
		}
		if got := lastAuthList(t, mod.conn.take()); got != want {
			t.Errorf("moderator's own list: %s", got)
		}

		// Trusting Bob through the user list updates the operators' list.
		if err := host.sendFrame(typeTrustedUsers, 1, []byte{2}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		const bobTrusted = `{"authId":"internal:Bob","trusted":true,"username":"Bob"}`
		if got := lastAuthList(t, host.conn.take()); got != "["+alice+","+bobTrusted+","+moddy+"]" {
			t.Errorf("after trusting Bob: %s", got)
		}

		// Bob leaves: still listed (remembered), then the moderator leaves:
		// no mod marker any more and no remembered op (as drawpile-srv).
		bob.c.Close()
		mod.c.Close()
		synctest.Wait()
		host.conn.take()
		host.send("auth-list", []any{[]any{}}, nil) // nothing changes: no update
		synctest.Wait()
		if l := authLists(t, host.conn.take()); len(l) != 0 {
			t.Errorf("empty auth-list command sent %q", l)
		}
		dave := connect(t, srv, ConnInfo{Transport: "tcp"})
		dave.join("Dave", "room", nil)
		synctest.Wait()
		const moddyOff = `{"authId":"internal:Moddy","username":"Moddy"}`
		if got := lastAuthList(t, host.conn.take()); got != "["+alice+","+bobTrusted+","+moddyOff+"]" {
			t.Errorf("after Bob and the moderator left: %s", got)
		}
	})
}

func TestAuthListCommand(t *testing.T) {
	accounts := flagAuth{"Alice": nil, "Bob": nil, "Zed": nil}
	inBubbleOpts(t, func(o *Options) { o.Auth = accounts }, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room"})
		bob := connect(t, srv, ConnInfo{Transport: "tcp"})
		bob.join("Bob", "room", nil)
		synctest.Wait()
		host.conn.take()
		bob.conn.take()

		// Non-operators may not use it.
		bob.send("auth-list", []any{[]any{map[string]any{"a": "internal:Bob", "o": true}}}, nil)
		synctest.Wait()
		if r := findReply(jsonReplies(t, bob.conn.take()), "error"); r == nil || !strings.Contains(r.str("message"), errNotOwner) {
			t.Errorf("non-operator auth-list: %v", r)
		}

		// Online Bob becomes operator and trusted; offline Zed is
		// remembered as operator with a name; the own entry cannot deop.
		host.send("auth-list", []any{[]any{
			map[string]any{"a": "internal:Bob", "o": true, "t": true, "u": "Ignored"},
			map[string]any{"a": "internal:Zed", "o": true, "u": "Zed"},
			map[string]any{"a": "internal:Alice", "o": false},
			map[string]any{"a": "has space", "o": true, "u": "X"},
			map[string]any{"o": true},
			"not an object",
		}}, nil)
		synctest.Wait()
		hs := host.conn.take()
		want := `[{"authId":"internal:Alice","op":true,"username":"Alice"},` +
			`{"authId":"internal:Bob","op":true,"trusted":true,"username":"Bob"},` +
			`{"authId":"internal:Zed","op":true,"username":"Zed"}]`
		if l := authLists(t, hs); len(l) != 1 || l[0] != want {
			t.Errorf("auth lists after auth-list: %q\nwant %s", l, want)
		}
		if !hasFrame(hs, typeSessionOwner, 0) || !hasFrame(hs, typeTrustedUsers, 0) {
			t.Error("auth-list did not append SessionOwner and TrustedUsers")
		}
		var keys []string
		for _, r := range jsonReplies(t, hs) {
			if k := r.str("T"); k != "" {
				keys = append(keys, k)
			}
		}
		if strings.Join(keys, ",") != "opgive,trustgive" {
			t.Errorf("notices %q, want opgive,trustgive", keys)
		}
		if got := lastAuthList(t, bob.conn.take()); got != want {
			t.Errorf("new operator's auth list: %s", got)
		}

		// Zed's remembered status applies when Zed joins.
		zed := connect(t, srv, ConnInfo{Transport: "tcp"})
		zed.join("Zed", "room", nil)
		synctest.Wait()
		s := srv.Lookup("room")
		s.lock()
		var zedOp bool
		for _, u := range s.users {
			if u.name == "Zed" {
				zedOp = u.op
			}
		}
		s.mu.Unlock()
		if !zedOp {
			t.Error("remembered operator Zed is not an operator after joining")
		}

		// Taking offline status away and bad arguments.
		zed.c.Close()
		synctest.Wait()
		host.conn.take()
		host.send("auth-list", []any{[]any{map[string]any{"a": "internal:Zed", "o": false}}}, nil)
		synctest.Wait()
		if got := lastAuthList(t, host.conn.take()); strings.Contains(got, `"internal:Zed","op"`) || !strings.Contains(got, `"internal:Zed"`) {
			t.Errorf("after deopping offline Zed: %s", got)
		}
		var tooMany []any
		for i := range maxAuthListEntries + 1 {
			tooMany = append(tooMany, map[string]any{"a": fmt.Sprint("x:", i), "t": true})
		}
		for _, tt := range []struct {
			args []any
			want string
		}{
			{nil, "Expected one argument"},
			{[]any{1, 2}, "Expected one argument"},
			{[]any{tooMany}, "Insane argument"},
		} {
			host.send("auth-list", tt.args, nil)
			synctest.Wait()
			if r := findReply(jsonReplies(t, host.conn.take()), "error"); r == nil || !strings.Contains(r.str("message"), tt.want) {
				t.Errorf("auth-list %v: %v, want %q", tt.args, r, tt.want)
			}
		}
		host.send("auth-list", []any{"not a list"}, nil)
		synctest.Wait()
		if fs := host.conn.take(); len(authLists(t, fs)) != 0 || findReply(jsonReplies(t, fs), "error") != nil {
			t.Error("auth-list with a non-list argument did something")
		}
	})
}

// TestAuthListTrimming checks the size rules on a session filled directly.
func TestAuthListTrimming(t *testing.T) {
	long := strings.Repeat("n", 1500) // names are not length-checked here
	for _, tt := range []struct {
		name              string
		bare, trusted, op int
		nameOf            func(i int) string
		wantBare          int // offline entries without a role
		wantTrusted       int
		wantOp            int
	}{
		{"small", 5, 2, 1, nil, 5, 2, 1},
		{"bare capped", 40, 3, 0, nil, maxBareOfflineAuth, 3, 0},
		{"trusted dropped", 10, 60, 5, func(int) string { return long }, 0, 0, 5},
		{"everything offline dropped", 0, 0, 60, func(int) string { return long }, 0, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inBubble(t, nil, func(t *testing.T, srv *Server) {
				host := connect(t, srv, ConnInfo{Transport: "tcp"})
				host.host("Alice", map[string]any{"alias": "room"})
				synctest.Wait()
				s := srv.Lookup("room")
				s.lock()
				defer s.mu.Unlock()
				s.authOps, s.authTrusted = map[string]bool{}, map[string]bool{}
				add := func(kind string, n int, m map[string]bool) {
					for i := range n {
						id := fmt.Sprintf("%s:%d", kind, i)
						name := "u"
						if tt.nameOf != nil {
							name = tt.nameOf(i)
						}
						s.setAuthNameLocked(id, name)
						if m != nil {
							m[id] = true
						}
					}
				}
				add("bare", tt.bare, nil)
				add("trusted", tt.trusted, s.authTrusted)
				add("op", tt.op, s.authOps)
				f := s.authListFrameLocked()
				if tt.name == "everything offline dropped" {
					// Nobody online is registered: an empty list fits.
					if f == nil || !strings.Contains(string(f.Payload()), `"auth":[]`) {
						t.Fatalf("got %v", f)
					}
					return
				}
				if f == nil {
					t.Fatal("no auth list")
				}
				if len(f.Payload()) > protocol.MaxPayload {
					t.Fatalf("payload %d bytes", len(f.Payload()))
				}
				got := map[string]int{}
				for _, e := range parseAuthList(t, f) {
					got[strings.SplitN(e.AuthID, ":", 2)[0]]++
				}
				if got["bare"] != tt.wantBare || got["trusted"] != tt.wantTrusted || got["op"] != tt.wantOp {
					t.Errorf("listed %v, want bare %d trusted %d op %d", got, tt.wantBare, tt.wantTrusted, tt.wantOp)
				}
			})
		})
	}
}

func parseAuthList(t *testing.T, f protocol.Frame) []authEntry {
	t.Helper()
	var m struct {
		Config struct {
			Auth []authEntry `json:"auth"`
		} `json:"config"`
	}
	if err := json.Unmarshal(f.Payload(), &m); err != nil {
		t.Fatal(err)
	}
	return m.Config.Auth
}

// TestSendListsShared checks what the shared-frame sendListsLocked sends:
// every member the public lists, operators also the operator-only ones,
// in drawpile-srv's order (BenchmarkJoin250 measures the saving).
func TestSendListsShared(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room"})
		var others []*tc
		for i := range 3 {
			x := connect(t, srv, ConnInfo{Transport: "tcp"})
			x.join(fmt.Sprint("U", i), "room", nil)
			others = append(others, x)
		}
		synctest.Wait()
		host.conn.take()
		for _, x := range others {
			x.conn.take()
		}
		s := srv.Lookup("room")
		s.lock()
		s.sendListsLocked(nil)
		s.mu.Unlock()
		synctest.Wait()
		kinds := func(x *tc) []string {
			var out []string
			for _, f := range x.conn.take() {
				if f.Type() == 0 {
					out = append(out, string(f.Payload()))
				}
			}
			return out
		}
		wantGuest := []string{`{"config":{"announcements":[]},"type":"sessionconf"}`, `{"config":{"muted":[]},"type":"sessionconf"}`}
		wantOp := []string{wantGuest[0], `{"config":{"banlist":[]},"type":"sessionconf"}`, wantGuest[1],
			`{"config":{"auth":[]},"type":"sessionconf"}`, `{"config":{"invitelist":[]},"type":"sessionconf"}`}
		if got := kinds(host); strings.Join(got, "\n") != strings.Join(wantOp, "\n") {
			t.Errorf("operator got\n%s", strings.Join(got, "\n"))
		}
		for _, x := range others {
			if got := kinds(x); strings.Join(got, "\n") != strings.Join(wantGuest, "\n") {
				t.Errorf("%s got\n%s", x.name, strings.Join(got, "\n"))
			}
		}
	})
}

// TestAuthListPersisted: the names behind the auth list survive a restart
// of a file-backed session (AUTHNAME records), with remembered roles.
func TestAuthListPersisted(t *testing.T) {
	dir := t.TempDir()
	accounts := flagAuth{"Alice": nil, "Bob": nil}
	start := func(t *testing.T) *Server {
		st := DefaultSettings()
		st.Persistence = true
		srv := NewServer(Options{Settings: st, Auth: accounts, Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))})
		if _, err := srv.EnableFiles(FileConfig{Dir: dir, Options: sessionfile.Options{Fsync: sessionfile.FsyncNever}}); err != nil {
			t.Fatal(err)
		}
		return srv
	}
	synctest.Test(t, func(t *testing.T) {
		srv := start(t)
		host := connect(t, srv, ConnInfo{})
		host.host("Alice", map[string]any{"alias": "keep"})
		host.send("sessionconf", nil, map[string]any{"persistent": true})
		bob := connect(t, srv, ConnInfo{})
		bob.join("Bob", "keep", nil)
		host.send("auth-list", []any{[]any{map[string]any{"a": "internal:Bob", "t": true}}}, nil)
		synctest.Wait()
		shutdown(t, srv)

		srv2 := start(t)
		defer shutdown(t, srv2)
		again := connect(t, srv2, ConnInfo{})
		again.join("Alice", "keep", nil)
		synctest.Wait()
		want := `[{"authId":"internal:Alice","op":true,"username":"Alice"},{"authId":"internal:Bob","trusted":true,"username":"Bob"}]`
		if got := lastAuthList(t, again.conn.take()); got != want {
			t.Errorf("auth list after restart: %s\nwant %s", got, want)
		}
	})
}

// TestNoAutoOpWhileRegisteredOpAway: a guest joining a session without
// operators is not made operator while a registered operator who left is
// remembered; that operator gets the status back on rejoining.
func TestNoAutoOpWhileRegisteredOpAway(t *testing.T) {
	inBubbleOpts(t, func(o *Options) {
		o.Auth = flagAuth{"Alice": nil}
		o.Settings.Persistence = true
	}, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room"})
		host.send("sessionconf", nil, map[string]any{"persistent": true})
		synctest.Wait()
		host.c.Close()
		synctest.Wait()
		isOp := func(name string) bool {
			s := srv.Lookup("room")
			s.lock()
			defer s.mu.Unlock()
			for _, u := range s.users {
				if u.name == name {
					return u.op
				}
			}
			return false
		}
		carol := connect(t, srv, ConnInfo{Transport: "tcp"})
		carol.join("Carol", "room", nil)
		synctest.Wait()
		if isOp("Carol") {
			t.Error("guest made operator while a registered operator is remembered")
		}
		alice := connect(t, srv, ConnInfo{Transport: "tcp"})
		alice.join("Alice", "room", nil)
		synctest.Wait()
		if !isOp("Alice") {
			t.Error("registered operator did not get operator status back")
		}
	})
}

// FuzzAuthListCommand sends an operator's auth-list command with an
// arbitrary JSON argument: no panic, the operator stays connected and any
// auth list sent still fits one message.
func FuzzAuthListCommand(f *testing.F) {
	for _, s := range []string{
		`[]`,
		`[{"a":"internal:Bob","o":true,"t":true,"u":"Bob"}]`,
		`[{"a":"internal:Alice","o":false}]`,
		`[{"a":"x:1","u":""},{"a":"","o":true},{"a":1},null,"s",[1]]`,
		`{"a":"x"}`,
		`[{"a":"x:1","o":"yes","t":1,"u":"a\"b"}]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		if !json.Valid([]byte(arg)) {
			return
		}
		srv := newTestServer(t, nil)
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room"})
		cmd := `{"cmd":"auth-list","args":[` + arg + `]}`
		fr, err := protocol.NewFrame(0, 0, []byte(cmd))
		if err != nil {
			return // too long for one message
		}
		if err := host.c.Receive(fr); err != nil {
			t.Fatalf("Receive: %v", err)
		}
		s := srv.Lookup("room")
		s.lock()
		if f := s.authListFrameLocked(); f != nil && len(f.Payload()) > protocol.MaxPayload {
			t.Errorf("auth list of %d bytes", len(f.Payload()))
		}
		s.mu.Unlock()
		if c, _ := host.conn.isClosed(); c {
			t.Fatal("the operator was disconnected")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
}

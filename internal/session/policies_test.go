package session

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/crypto/nacl/secretbox"

	"drawbridge/protocol"
)

// flagAuth is an Authenticator whose accounts (any password) have the
// given flags.
type flagAuth map[string][]string

func (a flagAuth) HasAccounts(context.Context) bool { return len(a) > 0 }

func (a flagAuth) Authenticate(_ context.Context, name, _ string) (Account, error) {
	flags, ok := a[name]
	if !ok {
		return Account{}, ErrNoAccount
	}
	return Account{Name: name, AuthID: "internal:" + name, Flags: flags}, nil
}

// inBubbleOpts is inBubble with full server options.
func inBubbleOpts(t *testing.T, mod func(*Options), f func(t *testing.T, srv *Server)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		st := DefaultSettings()
		st.ServerName = "Drawbridge test"
		opts := Options{Settings: st, Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))}
		mod(&opts)
		srv := NewServer(opts)
		f(t, srv)
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
}

// lastDisconnect returns the message of the last Disconnect in fs.
func lastDisconnect(fs []protocol.Frame) (reason byte, msg string, ok bool) {
	for i := len(fs) - 1; i >= 0; i-- {
		if fs[i].Type() == typeDisconnect {
			p := fs[i].Payload()
			return p[0], string(p[1:]), true
		}
	}
	return 0, "", false
}

func hasFrame(fs []protocol.Frame, t protocol.Type, ctx uint8) bool {
	return slices.ContainsFunc(fs, func(f protocol.Frame) bool { return f.Type() == t && f.Ctx() == ctx })
}

func errorCode(t *testing.T, fs []protocol.Frame) string {
	t.Helper()
	if e := findReply(jsonReplies(t, fs), "error"); e != nil {
		return e.str("code")
	}
	return ""
}

func TestGhostModerator(t *testing.T) {
	accounts := flagAuth{"Ghosty": {"MOD", "GHOST"}, "Casper": {"GHOST"}}
	inBubbleOpts(t, func(o *Options) {
		o.Auth = accounts
		o.Settings.EnableGhosts = true
	}, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room"})
		ghost := connect(t, srv, ConnInfo{Transport: "tcp"})
		ghost.join("Ghosty", "room", nil)
		synctest.Wait()
		gs := ghost.conn.take()
		if code := errorCode(t, gs); code != "" {
			t.Fatalf("ghost join failed: %s", code)
		}
		var alerted bool
		var gid uint8
		for _, r := range jsonReplies(t, gs) {
			if r.str("type") == "alert" && strings.HasPrefix(r.str("message"), "GHOST MODE.") {
				alerted = true
			}
			if r.str("state") == "join" {
				gid = uint8(r["join"].(map[string]any)["user"].(float64))
			}
		}
		if !alerted {
			t.Error("ghost was not told about ghost mode")
		}
		hs := host.conn.take()
		if hasFrame(hs, typeJoin, gid) {
			t.Error("a Join message was sent for the ghost")
		}
		for _, r := range jsonReplies(t, hs) {
			if p, _ := r["P"].(map[string]any); r.str("T") == "opgive" && p["target"] == "Ghosty" {
				t.Errorf("op notice announces the ghost: %v", r)
			}
		}
		s := srv.Lookup("room")
		if d := s.Desc(); d.UserCount != 1 {
			t.Errorf("userCount %d, want 1 (ghosts not counted)", d.UserCount)
		}
		// Unstored chat becomes an alert; private messages are refused.
		if err := ghost.sendFrame(typeChat, 0, append([]byte{chatBypass, 0}, "boo"...)); err != nil {
			t.Fatal(err)
		}
		if err := ghost.sendFrame(typePrivateChat, 0, append([]byte{1, 0}, "psst"...)); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		hs = host.conn.take()
		if hasFrame(hs, typeChat, gid) || hasFrame(hs, typePrivateChat, gid) {
			t.Error("ghost chat relayed as chat")
		}
		if r := findReply(jsonReplies(t, hs), "alert"); r == nil || r.str("message") != "boo" {
			t.Errorf("ghost chat alert: %v", r)
		}
		gs = ghost.conn.take()
		i := slices.IndexFunc(gs, func(f protocol.Frame) bool { return f.Type() == typePrivateChat })
		if i < 0 || !strings.Contains(string(gs[i].Payload()), "ghost mode") {
			t.Errorf("ghost private chat not refused: %v", gs)
		}
		// Admin actions still show the ghost's name.
		bob := connect(t, srv, ConnInfo{Transport: "tcp"})
		bob.join("Bob", "room", nil)
		synctest.Wait()
		ghost.send("kick-user", []any{"Bob"}, nil)
		synctest.Wait()
		if _, msg, ok := lastDisconnect(bob.conn.take()); !ok || msg != "Ghosty" {
			t.Errorf("kick by ghost: %q", msg)
		}
		// The ghost does not keep the session alive and leaves no Leave.
		host.conn.take()
		host.c.Close()
		synctest.Wait()
		if !s.Ended() {
			t.Fatal("session with only a ghost left did not end")
		}
	})
}

func TestGhostLeaveIsSilent(t *testing.T) {
	inBubbleOpts(t, func(o *Options) {
		o.Auth = flagAuth{"Ghosty": {"MOD", "GHOST"}}
		o.Settings.EnableGhosts = true
	}, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room"})
		ghost := connect(t, srv, ConnInfo{Transport: "tcp"})
		ghost.join("Ghosty", "room", nil)
		synctest.Wait()
		host.conn.take()
		ghost.c.Close()
		synctest.Wait()
		hs := host.conn.take()
		if slices.ContainsFunc(hs, func(f protocol.Frame) bool { return f.Type() == typeLeave }) {
			t.Error("a Leave message was sent for the ghost")
		}
		found := false
		for _, r := range jsonReplies(t, hs) {
			if r.str("type") == "log" && r.str("message") == "Moderator in ghost mode left session" {
				found = true
			}
		}
		if !found {
			t.Error("no ghost leave log entry")
		}
	})
}

func TestGhostLoginRules(t *testing.T) {
	accounts := flagAuth{"Ghosty": {"MOD", "GHOST"}, "Casper": {"GHOST"}}
	for _, tt := range []struct {
		name, user string
		enable     bool
		want       string
	}{
		{"ghosts disabled", "Ghosty", false, "ghostsNotAllowed"},
		{"not a moderator", "Casper", true, "ghostWithoutMod"},
		{"ok", "Ghosty", true, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inBubbleOpts(t, func(o *Options) {
				o.Auth = accounts
				o.Settings.EnableGhosts = tt.enable
			}, func(t *testing.T, srv *Server) {
				c := connect(t, srv, ConnInfo{Transport: "tcp"})
				c.cinfo()
				c.send("ident", []any{tt.user, "pw"}, nil)
				synctest.Wait()
				if got := errorCode(t, c.conn.take()); got != tt.want {
					t.Fatalf("error %q, want %q", got, tt.want)
				}
			})
		})
	}
	// Ghosts cannot host.
	inBubbleOpts(t, func(o *Options) {
		o.Auth = accounts
		o.Settings.EnableGhosts = true
	}, func(t *testing.T, srv *Server) {
		c := connect(t, srv, ConnInfo{Transport: "tcp"})
		c.cinfo()
		c.send("ident", []any{"Ghosty", "pw"}, nil)
		c.send("host", nil, c.kw(map[string]any{"protocol": "dp:4.25.1", "user_id": 1}))
		synctest.Wait()
		if got := errorCode(t, c.conn.take()); got != "ghostHost" {
			t.Fatalf("ghost host: %q", got)
		}
	})
}

func TestPasswordDependentWebSession(t *testing.T) {
	inBubble(t, func(st *Settings) {
		st.PasswordDependentWebSession = true
		st.AllowGuestWebSession = false
	}, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room"})
		s := srv.Lookup("room")
		if s.Desc().AllowWeb {
			t.Fatal("session without a password allows browsers")
		}
		b := connect(t, srv, ConnInfo{Transport: "ws", Browser: true})
		b.join("Carol", "room", nil)
		synctest.Wait()
		if got := errorCode(t, b.conn.take()); got != "noWebJoin" {
			t.Fatalf("browser join without password: %q", got)
		}
		host.send("sessionconf", nil, map[string]any{"password": "secret"})
		if !s.Desc().AllowWeb {
			t.Fatal("setting a password did not allow browsers")
		}
		b2 := connect(t, srv, ConnInfo{Transport: "ws", Browser: true})
		b2.join("Carol", "room", map[string]any{"password": "secret"})
		synctest.Wait()
		if got := errorCode(t, b2.conn.take()); got != "" {
			t.Fatalf("browser join with password: %q", got)
		}
		host.send("sessionconf", nil, map[string]any{"password": ""})
		synctest.Wait()
		if s.Desc().AllowWeb {
			t.Error("removing the password kept browsers allowed")
		}
		if _, msg, ok := lastDisconnect(b2.conn.take()); !ok || !strings.Contains(msg, "only allowed on sessions with a password") {
			t.Errorf("browser user not kicked: %q", msg)
		}
		if d := s.Desc(); d.UserCount != 1 {
			t.Errorf("userCount after kick %d", d.UserCount)
		}
		// A browser without WEBSESSION may host only with a password.
		bh := connect(t, srv, ConnInfo{Transport: "ws", Browser: true})
		bh.cinfo()
		bh.send("ident", []any{"Dave"}, nil)
		bh.send("host", nil, bh.kw(map[string]any{"protocol": "dp:4.25.1", "user_id": 1}))
		synctest.Wait()
		if got := errorCode(t, bh.conn.take()); got != "passwordedHost" {
			t.Fatalf("browser host without password: %q", got)
		}
		bh2 := connect(t, srv, ConnInfo{Transport: "ws", Browser: true})
		bh2.host("Dave", map[string]any{"password": "pw", "alias": "webroom"})
		synctest.Wait()
		if got := errorCode(t, bh2.conn.take()); got != "" {
			t.Fatalf("browser host with password: %q", got)
		}
	})
}

func TestSessionLessClientLinger(t *testing.T) {
	inBubble(t, func(st *Settings) { st.SessionLessClientLingerTime = 20 * time.Second }, func(t *testing.T, srv *Server) {
		idle := connect(t, srv, ConnInfo{Transport: "tcp"})
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room"})
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if c, _ := idle.conn.isClosed(); c {
			t.Fatal("kicked before the linger time")
		}
		time.Sleep(cleanupInterval + 10*time.Second)
		synctest.Wait()
		if c, _ := idle.conn.isClosed(); !c {
			t.Fatal("session-less connection not kicked")
		}
		if reason, msg, ok := lastDisconnect(idle.conn.take()); !ok || reason != disconnectKick || msg != sessionLessKickMsg {
			t.Errorf("disconnect %d %q", reason, msg)
		}
		if c, _ := host.conn.isClosed(); c {
			t.Fatal("a connection in a session was kicked")
		}
		// After its session ends, the host's connection lingers, then goes.
		srv.Lookup("room").Terminate("", true)
		host.conn.take()
		time.Sleep(cleanupInterval * 3)
		synctest.Wait()
		if c, _ := host.conn.isClosed(); !c {
			t.Fatal("connection left without a session was not kicked")
		}
	})
}

func TestUnlistedHostPolicy(t *testing.T) {
	for _, tt := range []struct {
		policy          string
		browser, listed bool
	}{
		{"", true, true},
		{"WEB", false, true},
		{"WEB", true, false},
		{"ALL", false, false},
	} {
		inBubble(t, func(st *Settings) { st.UnlistedHostPolicy = tt.policy }, func(t *testing.T, srv *Server) {
			h := connect(t, srv, ConnInfo{Transport: "ws", Browser: tt.browser})
			h.host("Alice", map[string]any{"alias": "room"})
			if got := !srv.Lookup("room").Desc().Unlisted; got != tt.listed {
				t.Errorf("policy %q browser %v: listed %v, want %v", tt.policy, tt.browser, got, tt.listed)
			}
		})
	}
}

func TestOperatorMayUnlist(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		h := connect(t, srv, ConnInfo{Transport: "tcp"})
		h.host("Alice", map[string]any{"alias": "room"})
		s := srv.Lookup("room")
		h.send("sessionconf", nil, map[string]any{"unlisted": true})
		if !s.Desc().Unlisted {
			t.Fatal("operator could not unlist")
		}
		h.send("sessionconf", nil, map[string]any{"unlisted": false})
		if !s.Desc().Unlisted {
			t.Fatal("operator could list again (moderators only)")
		}
		if _, err := s.Configure(map[string]json.RawMessage{"unlisted": json.RawMessage("false")}); err != nil || s.Desc().Unlisted {
			t.Fatalf("admin could not list again: %v", err)
		}
	})
}

func TestRequireMatchingHost(t *testing.T) {
	for _, tt := range []struct {
		name    string
		require bool
		first   string // command sent first
		host    string
		want    string
	}{
		{"ident first", true, "ident", "", "clientInfoUnsupported"},
		{"lookup first", true, "lookup", "", "clientInfoUnsupported"},
		{"mismatch", true, "cinfo", "other.example", "mismatchedHostName"},
		{"match, other case", true, "cinfo", "DRAW.Example.com", ""},
		{"mismatch allowed", false, "cinfo", "other.example", ""},
		{"no cinfo allowed", false, "ident", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inBubbleOpts(t, func(o *Options) {
				o.LocalHost = "draw.example.com"
				o.Settings.RequireMatchingHost = tt.require
			}, func(t *testing.T, srv *Server) {
				c := connect(t, srv, ConnInfo{Transport: "tcp"})
				switch tt.first {
				case "cinfo":
					c.send("cinfo", []any{tt.host, c.info()}, nil)
					c.send("ident", []any{"Bob"}, nil)
				case "lookup":
					c.send("lookup", []any{""}, nil)
				default:
					c.send("ident", []any{"Bob"}, nil)
				}
				synctest.Wait()
				fs := c.conn.take()
				if got := errorCode(t, fs); got != tt.want {
					t.Fatalf("error %q, want %q", got, tt.want)
				}
				if tt.want == "" && findReply(jsonReplies(t, fs), "result") == nil {
					t.Fatal("no result")
				}
			})
		})
	}
}

// banList builds plain import data for the given names.
func plainBanData(names ...string) string {
	ex := banExport{V: 1}
	for _, n := range names {
		ex.L = append(ex.L, banExportItem{U: n, B: "Mallory"})
	}
	js, _ := json.Marshal(ex)
	return "p" + base64.StdEncoding.EncodeToString(qCompress(js))
}

func banImpEx(t *testing.T, fs []protocol.Frame) reply {
	t.Helper()
	r := findReply(jsonReplies(t, fs), "banimpex")
	if r == nil {
		t.Fatalf("no banimpex reply in %d frames", len(fs))
	}
	return r
}

func TestEncryptedBanExportImport(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	var exported string
	inBubbleOpts(t, func(o *Options) { o.CryptKey = key }, func(t *testing.T, srv *Server) {
		if !slices.Contains(srv.Greeting(ConnInfo{}).Flags, protocol.FlagCBanImpEx) {
			t.Error("greeting lacks CBANIMPEX")
		}
		h := connect(t, srv, ConnInfo{Transport: "tcp"})
		h.host("Alice", map[string]any{"alias": "room"})
		synctest.Wait()
		h.conn.take()
		h.send("import-bans", []any{plainBanData("Troll", "Spammer", "troll")}, nil)
		synctest.Wait()
		r := banImpEx(t, h.conn.take())
		if r["imported"] != 2.0 || r["total"] != 3.0 {
			t.Fatalf("plain import: %v (the third entry is subsumed)", r)
		}
		h.send("export-bans", nil, nil)
		synctest.Wait()
		exported = banImpEx(t, h.conn.take()).str("export")
		if !strings.HasPrefix(exported, "c") {
			t.Fatalf("export %q is not encrypted", exported)
		}
		// The box opens with the key and holds the list.
		nonceB64, boxB64, _ := strings.Cut(exported[1:], ":")
		nonce, _ := base64.StdEncoding.DecodeString(nonceB64)
		box, _ := base64.StdEncoding.DecodeString(boxB64)
		var n [24]byte
		var k [32]byte
		copy(n[:], nonce)
		copy(k[:], key)
		plain, ok := secretbox.Open(nil, box, &n, &k)
		if !ok {
			t.Fatal("export does not open with the crypt key")
		}
		js, err := qUncompress(plain)
		if err != nil || !strings.Contains(string(js), `"u":"Spammer"`) {
			t.Fatalf("export content %s, %v", js, err)
		}
		// Plain export is for moderators only.
		h.send("export-bans", nil, map[string]any{"plain": true})
		synctest.Wait()
		if r := banImpEx(t, h.conn.take()); r.str("T") != "banexportmodonly" {
			t.Errorf("plain export by an operator: %v", r)
		}
		// Importing into another session of the same server works.
		h2 := connect(t, srv, ConnInfo{Transport: "tcp"})
		h2.host("Bob", map[string]any{"alias": "room2"})
		synctest.Wait()
		h2.conn.take()
		h2.send("import-bans", []any{exported}, nil)
		synctest.Wait()
		if r := banImpEx(t, h2.conn.take()); r["imported"] != 2.0 || r["total"] != 2.0 {
			t.Fatalf("encrypted import: %v", r)
		}
		troll := connect(t, srv, ConnInfo{Transport: "tcp"})
		troll.join("Troll", "room2", nil)
		synctest.Wait()
		if got := errorCode(t, troll.conn.take()); got != "banned" {
			t.Fatalf("imported ban not applied: %q", got)
		}
		for _, bad := range []struct{ data, key string }{
			{"x123", "banimportmalformed"},
			{"cAAAA:AAAA", "banimportmalformed"},
			{"p" + base64.StdEncoding.EncodeToString([]byte("garbage!")), "banimportinvalid"},
		} {
			h2.send("import-bans", []any{bad.data}, nil)
			synctest.Wait()
			if r := banImpEx(t, h2.conn.take()); r.str("T") != bad.key {
				t.Errorf("import %q: %v, want %s", bad.data, r, bad.key)
			}
		}
	})
	// Another key cannot read it; no key: encrypted export/import unavailable.
	inBubbleOpts(t, func(o *Options) { o.CryptKey = []byte("another key, another server 1234") }, func(t *testing.T, srv *Server) {
		h := connect(t, srv, ConnInfo{Transport: "tcp"})
		h.host("Alice", map[string]any{"alias": "room"})
		synctest.Wait()
		h.conn.take()
		h.send("import-bans", []any{exported}, nil)
		synctest.Wait()
		if r := banImpEx(t, h.conn.take()); r.str("T") != "banimportcrypterror" {
			t.Errorf("import with another key: %v", r)
		}
	})
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		if slices.Contains(srv.Greeting(ConnInfo{}).Flags, protocol.FlagCBanImpEx) {
			t.Error("CBANIMPEX without a crypt key")
		}
		h := connect(t, srv, ConnInfo{Transport: "tcp"})
		h.host("Alice", map[string]any{"alias": "room"})
		synctest.Wait()
		h.conn.take()
		h.send("export-bans", nil, nil)
		h.send("import-bans", []any{exported}, nil)
		synctest.Wait()
		var keys []string
		for _, r := range jsonReplies(t, h.conn.take()) {
			if r.str("type") == "banimpex" {
				keys = append(keys, r.str("T"))
			}
		}
		if !slices.Equal(keys, []string{"banexportunconfigured", "banimportunconfigured"}) {
			t.Errorf("without a key: %v", keys)
		}
	})
}

// FuzzBanImport: arbitrary import-bans data never panics, and whatever is
// accepted decompresses within the size bound.
func FuzzBanImport(f *testing.F) {
	f.Add(plainBanData("Troll"))
	f.Add("cAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("p" + base64.StdEncoding.EncodeToString([]byte{0xff, 0xff, 0xff, 0xff, 0x78, 0x9c}))
	f.Add("p====")
	f.Add("x")
	key := new([32]byte)
	f.Fuzz(func(t *testing.T, data string) {
		nonce, payload, ok := decodeBanImport(data)
		if !ok {
			return
		}
		if nonce != nil {
			if payload, ok = secretbox.Open(nil, payload, nonce, key); !ok {
				return
			}
		}
		if js, err := qUncompress(payload); err == nil && len(js) > maxBanImport {
			t.Fatalf("decompressed %d bytes", len(js))
		}
	})
}

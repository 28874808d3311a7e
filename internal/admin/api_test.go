package admin_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"drawbridge/internal/client"
)

// endpoints lists one request per route of server.md §3.2 (ids need not
// exist: authentication is checked first).
var endpoints = [][2]string{
	{"GET", "/api/status"}, {"GET", "/api/server"}, {"PUT", "/api/server"},
	{"GET", "/api/sessions"}, {"PUT", "/api/sessions"},
	{"GET", "/api/sessions/x"}, {"PUT", "/api/sessions/x"}, {"DELETE", "/api/sessions/x"},
	{"GET", "/api/sessions/x/listing"}, {"POST", "/api/sessions/x/listing"}, {"DELETE", "/api/sessions/x/listing/1"},
	{"POST", "/api/sessions/x/auth"}, {"POST", "/api/sessions/x/auth/op"},
	{"GET", "/api/sessions/x/chat"}, {"POST", "/api/sessions/x/chat"}, {"PUT", "/api/sessions/x/chat"}, {"DELETE", "/api/sessions/x/chat"},
	{"GET", "/api/sessions/x/invites"}, {"POST", "/api/sessions/x/invites"},
	{"GET", "/api/sessions/x/invites/ABCDEFGH"}, {"DELETE", "/api/sessions/x/invites/ABCDEFGH"},
	{"GET", "/api/sessions/x/thumbnail"}, {"DELETE", "/api/sessions/x/thumbnail"},
	{"GET", "/api/sessions/x/1"}, {"PUT", "/api/sessions/x/1"}, {"DELETE", "/api/sessions/x/1"},
	{"POST", "/api/sessions/x/1/thumbnail"}, {"DELETE", "/api/sessions/x/1/thumbnail"},
	{"GET", "/api/users"}, {"GET", "/api/users/1"}, {"DELETE", "/api/users/1"},
	{"GET", "/api/banlist"}, {"POST", "/api/banlist"}, {"DELETE", "/api/banlist/1"},
	{"GET", "/api/systembans"}, {"POST", "/api/systembans"}, {"DELETE", "/api/systembans/1"},
	{"GET", "/api/userbans"}, {"POST", "/api/userbans"}, {"DELETE", "/api/userbans/1"},
	{"GET", "/api/listserverwhitelist"}, {"PUT", "/api/listserverwhitelist"},
	{"GET", "/api/accounts"}, {"POST", "/api/accounts"}, {"PUT", "/api/accounts/1"}, {"DELETE", "/api/accounts/1"},
	{"POST", "/api/accounts/auth"},
	{"GET", "/api/log"}, {"POST", "/api/log"},
	{"GET", "/api/extbans"}, {"DELETE", "/api/extbans"}, {"POST", "/api/extbans/refresh"}, {"PUT", "/api/extbans/1"},
	{"GET", "/api/locks"}, {"PUT", "/api/locks"},
}

func TestAuthRequiredEverywhere(t *testing.T) {
	e := newEnv(t, envOpts{})
	for _, ep := range endpoints {
		for _, xhr := range []bool{false, true} {
			name := ep[0] + " " + ep[1]
			hdr := []string{"Authorization", ""}
			if xhr {
				hdr = append(hdr, "X-Requested-With", "XMLHttpRequest")
			}
			r := e.do(ep[0], ep[1], `{}`, hdr...)
			if r.code != http.StatusUnauthorized {
				t.Errorf("%s without credentials: status %d, want 401", name, r.code)
				continue
			}
			if got := r.header.Get("WWW-Authenticate"); xhr && got != "" {
				t.Errorf("%s with X-Requested-With: WWW-Authenticate %q, want none", name, got)
			} else if !xhr && !strings.Contains(got, `realm="drawpile-srv"`) {
				t.Errorf("%s: WWW-Authenticate %q, want Basic realm drawpile-srv", name, got)
			}
			if m := r.obj(t); m["status"] != "error" {
				t.Errorf("%s: body %s", name, r.body)
			}
		}
	}
	// Wrong password and malformed headers are refused too.
	for _, h := range []string{"Basic " + "YWRtaW46d3Jvbmc=", "Basic !!!", "Bearer x", "Basic YWRtaW4="} {
		if r := e.do("GET", "/api/status", nil, "Authorization", h); r.code != 401 {
			t.Errorf("Authorization %q: status %d, want 401", h, r.code)
		}
	}
	e.must(200, "GET", "/api/status", nil)
}

func TestCORSPreflight(t *testing.T) {
	e := newEnv(t, envOpts{origin: "https://admin.example"})
	r := e.do("OPTIONS", "/api/sessions", nil, "Authorization", "")
	if r.code != http.StatusNoContent {
		t.Fatalf("OPTIONS: status %d, want 204", r.code)
	}
	for k, want := range map[string]string{
		"Access-Control-Allow-Methods": "HEAD, GET, POST, PUT, DELETE",
		"Access-Control-Max-Age":       "86400",
		"Access-Control-Allow-Origin":  "https://admin.example",
	} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if h := r.header.Get("Access-Control-Allow-Headers"); !strings.Contains(h, "Authorization") || !strings.Contains(h, "Content-Type") {
		t.Errorf("Access-Control-Allow-Headers = %q", h)
	}
	// Every response carries the allowed origin, errors included.
	for _, auth := range []bool{true, false} {
		var r resp
		if auth {
			r = e.do("GET", "/api/status", nil)
		} else {
			r = e.do("GET", "/api/status", nil, "Authorization", "")
		}
		if got := r.header.Get("Access-Control-Allow-Origin"); got != "https://admin.example" {
			t.Errorf("auth=%v: Access-Control-Allow-Origin %q", auth, got)
		}
	}
}

func TestNoAuthConfigured(t *testing.T) {
	e := newEnv(t, envOpts{noAuth: true})
	e.must(200, "GET", "/api/status", nil)
	if r := e.do("GET", "/api/status", nil); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("Access-Control-Allow-Origin sent without --web-admin-allowed-origin")
	}
}

func TestStatus(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.host("alice", "")
	m := e.must(200, "GET", "/api/status", nil).obj(t)
	for _, k := range []string{"started", "sessions", "maxSessions", "users", "ext_host", "ext_port"} {
		if _, ok := m[k]; !ok {
			t.Errorf("status lacks %q: %v", k, m)
		}
	}
	if m["sessions"] != 1.0 || m["maxSessions"] != 25.0 || m["users"] != 1.0 {
		t.Errorf("status = %v, want 1 session of 25, 1 user", m)
	}
	if _, port, _ := strings.Cut(e.b.TCPAddr(), "127.0.0.1:"); m["ext_port"] != float64(atoi(t, port)) {
		t.Errorf("ext_port = %v, want %s", m["ext_port"], port)
	}
	// Empty path segments and trailing slashes are ignored, as upstream.
	e.must(200, "GET", "/api//status/", nil)
	// HEAD is GET without a body.
	if r := e.do("HEAD", "/api/status", nil); r.code != 200 || len(r.body) != 0 {
		t.Errorf("HEAD: %d %q", r.code, r.body)
	}
	// Unknown paths are 404 JSON errors, unsupported methods 400.
	e.wantError(404, "GET", "/api/nope", nil)
	e.wantError(400, "PATCH", "/api/status", nil)
	e.wantError(400, "POST", "/api/status", nil)
}

func atoi(t *testing.T, s string) int {
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestServerSettings(t *testing.T) {
	e := newEnv(t, envOpts{})
	m := e.must(200, "GET", "/api/server", nil).obj(t)
	for k, want := range map[string]any{"clientTimeout": 60.0, "sessionSizeLimit": 103809024.0, "sessionCountLimit": 25.0,
		"allowGuests": true, "serverTitle": "", "_locked": false, "autoResetThreshold": 15728640.0} {
		if m[k] != want {
			t.Errorf("GET /api/server %s = %v, want %v", k, m[k], want)
		}
	}
	if _, ok := m["extBansCacheResponse"]; ok {
		t.Error("internal setting extBansCacheResponse exposed")
	}
	m = e.must(200, "PUT", "/api/server/", map[string]any{"sessionCountLimit": 10, "serverTitle": "Hi", "idleTimeLimit": "1.5d", "nonsense": 1}).obj(t)
	if m["sessionCountLimit"] != 10.0 || m["serverTitle"] != "Hi" || m["idleTimeLimit"] != 129600.0 {
		t.Errorf("PUT result = %v", m)
	}
	// Invalid values and bad JSON: 400, nothing changed.
	for _, body := range []any{
		map[string]any{"clientTimeout": "abc", "serverTitle": "Changed"},
		map[string]any{"sessionSizeLimit": "lots"},
		`{"serverTitle": "Changed",`,
		`[1,2]`,
		`"str"`,
	} {
		msg := e.wantError(400, "PUT", "/api/server", body)
		if !strings.Contains(strings.ToLower(msg), "invalid") && !strings.Contains(strings.ToLower(msg), "json") {
			t.Errorf("PUT %v: unclear message %q", body, msg)
		}
	}
	m = e.must(200, "GET", "/api/server", nil).obj(t)
	if m["serverTitle"] != "Hi" || m["clientTimeout"] != 60.0 || m["sessionSizeLimit"] != 103809024.0 {
		t.Errorf("settings changed by a refused PUT: %v", m)
	}
}

func TestSessionsEndpoints(t *testing.T) {
	e := newEnv(t, envOpts{})
	alice := e.host("alice", "pic")
	bob := e.join("bob", "pic")

	list := e.must(200, "GET", "/api/sessions", nil).arr(t)
	if len(list) != 1 {
		t.Fatalf("sessions = %v", list)
	}
	s := list[0].(map[string]any)
	id := s["id"].(string)
	for k, want := range map[string]any{"alias": "pic", "userCount": 2.0, "founder": "alice", "hasPassword": false,
		"closed": false, "persistent": false, "unlisted": false, "maxUserCount": 254.0} {
		if s[k] != want {
			t.Errorf("session %s = %v, want %v", k, s[k], want)
		}
	}
	for _, k := range []string{"protocol", "activeDrawingUserCount", "title", "authOnly", "nsfm", "startTime", "size", "invites"} {
		if _, ok := s[k]; !ok {
			t.Errorf("session lacks %q", k)
		}
	}
	v2 := e.must(200, "GET", "/api/sessions?v=2", nil).obj(t)
	if l, ok := v2["sessions"].([]any); !ok || len(l) != 1 || v2["_locked"] != false {
		t.Errorf("?v=2 = %v", v2)
	}

	// Full description, by id and by alias.
	for _, key := range []string{id, "pic"} {
		full := e.must(200, "GET", "/api/sessions/"+key, nil).obj(t)
		users, _ := full["users"].([]any)
		if full["id"] != id || len(users) != 2 || full["_locked"] != false {
			t.Fatalf("GET session %s = %v", key, full)
		}
		for _, k := range []string{"maxSize", "resetThreshold", "deputies", "hasOpword", "listings", "invitelist", "chat", "autoreset"} {
			if _, ok := full[k]; !ok {
				t.Errorf("full description lacks %q", k)
			}
		}
		if sec, _ := full["spectatorSecret"].(string); len(sec) < 10 || sec == full["id"] {
			t.Errorf("spectatorSecret = %q, want a separate secret", sec)
		}
		u := users[0].(map[string]any)
		for k, want := range map[string]any{"id": 1.0, "name": "alice", "op": true, "online": true, "state": "session", "ip": "127.0.0.1", "browser": false} {
			if u[k] != want {
				t.Errorf("user %s = %v, want %v", k, u[k], want)
			}
		}
	}
	e.wantError(404, "GET", "/api/sessions/nosuch", nil)

	// Update settings.
	full := e.must(200, "PUT", "/api/sessions/"+id, map[string]any{"title": "Admin title", "maxUserCount": 5, "nsfm": true, "password": "pw"}).obj(t)
	if full["title"] != "Admin title" || full["maxUserCount"] != 5.0 || full["nsfm"] != true || full["hasPassword"] != true {
		t.Errorf("after PUT: %v", full)
	}
	// Wrong types, bad JSON, too long messages: 400 and nothing changed.
	for _, body := range []any{
		map[string]any{"title": 5, "nsfm": false},
		map[string]any{"nsfm": "yes", "title": "X"},
		map[string]any{"maxUserCount": "many", "title": "X"},
		map[string]any{"title": "X", "message": strings.Repeat("m", 70000)},
		`{"title": "X"`,
	} {
		e.wantError(400, "PUT", "/api/sessions/"+id, body)
	}
	full = e.must(200, "GET", "/api/sessions/"+id, nil).obj(t)
	if full["title"] != "Admin title" || full["nsfm"] != true || full["maxUserCount"] != 5.0 {
		t.Errorf("refused PUT changed the session: %v", full)
	}
	// Session password checks.
	if m := e.must(200, "POST", "/api/sessions/"+id+"/auth", map[string]any{"password": "pw"}).obj(t); m["status"] != true {
		t.Errorf("auth with right password: %v", m)
	}
	if m := e.must(200, "POST", "/api/sessions/"+id+"/auth", map[string]any{"password": "no"}).obj(t); m["status"] != false {
		t.Errorf("auth with wrong password: %v", m)
	}
	if m := e.must(200, "POST", "/api/sessions/"+id+"/auth/op", map[string]any{"password": "x"}).obj(t); m["status"] != false {
		t.Errorf("opword check without opword: %v", m)
	}

	// Broadcast to all sessions and to one session.
	if m := e.must(200, "PUT", "/api/sessions", map[string]any{"message": "hello all"}).obj(t); len(m) != 0 {
		t.Errorf("broadcast answer %v, want {}", m)
	}
	e.waitFor(bob, "broadcast", func(m client.Message) bool {
		return m.Reply != nil && m.Reply.Type == "msg" && m.Reply.Message == "hello all"
	})
	e.must(200, "PUT", "/api/sessions/pic", map[string]any{"alert": "careful"})
	e.waitFor(bob, "alert", func(m client.Message) bool {
		return m.Reply != nil && m.Reply.Type == "alert" && m.Reply.Message == "careful"
	})
	e.wantError(400, "PUT", "/api/sessions", map[string]any{"message": strings.Repeat("x", 70000)})

	// Users in the session.
	u := e.must(200, "GET", "/api/sessions/pic/2", nil).obj(t)
	if u["name"] != "bob" || u["op"] != false || u["uid"] == "" {
		t.Errorf("user 2 = %v", u)
	}
	e.wantError(404, "GET", "/api/sessions/pic/99", nil)
	e.wantError(404, "GET", "/api/sessions/pic/abc", nil)
	u = e.must(200, "PUT", "/api/sessions/pic/2", map[string]any{"op": true, "trusted": true, "message": "psst"}).obj(t)
	if u["op"] != true || u["trusted"] != true {
		t.Errorf("after op/trust: %v", u)
	}
	e.waitFor(bob, "private message", func(m client.Message) bool {
		return m.Reply != nil && m.Reply.Type == "msg" && m.Reply.Message == "psst"
	})
	e.wantError(400, "PUT", "/api/sessions/pic/2", map[string]any{"op": "maybe"})
	u = e.must(200, "PUT", "/api/sessions/pic/2", map[string]any{"op": false}).obj(t)
	if u["op"] != false {
		t.Errorf("after deop: %v", u)
	}

	// Listings are not supported yet, with upstream's codes; thumbnails are
	// rendered server-side (a PNG in upstream's {data, at} shape).
	if l := e.must(200, "GET", "/api/sessions/pic/listing", nil).arr(t); len(l) != 0 {
		t.Errorf("listings = %v", l)
	}
	e.wantError(400, "POST", "/api/sessions/pic/listing", map[string]any{})
	e.wantError(404, "DELETE", "/api/sessions/pic/listing/1", nil)
	if m := e.must(200, "GET", "/api/sessions/pic/thumbnail", nil).obj(t); m["data"] == nil || m["at"] == nil {
		t.Errorf("thumbnail: %v", m)
	}
	if m := e.must(200, "DELETE", "/api/sessions/pic/thumbnail", nil).obj(t); m["status"] != "ok" {
		t.Errorf("thumbnail delete: %v", m)
	}
	e.wantError(400, "POST", "/api/sessions/pic/2/thumbnail", map[string]any{})
	e.wantError(404, "DELETE", "/api/sessions/pic/2/thumbnail", nil)

	// Kick: message too long is refused, then bob is kicked.
	e.wantError(400, "DELETE", "/api/sessions/pic/2?message="+strings.Repeat("k", 101), nil)
	if m := e.must(200, "DELETE", "/api/sessions/pic/2?message=bye", nil).obj(t); m["status"] != "ok" || m["force"] != false {
		t.Errorf("kick answer %v", m)
	}
	var de *client.DisconnectError
	if err := e.waitDisconnect(bob); !errors.As(err, &de) || de.Reason != client.ReasonKick {
		t.Errorf("bob: %v, want a kick", err)
	}
	e.wantError(404, "DELETE", "/api/sessions/pic/2", nil)
	if full := e.must(200, "GET", "/api/sessions/pic", nil).obj(t); full["userCount"] != 1.0 {
		t.Errorf("after kick userCount = %v", full["userCount"])
	}

	// Terminate.
	if m := e.must(200, "DELETE", "/api/sessions/pic?reason=maintenance", nil).obj(t); m["status"] != "ok" {
		t.Errorf("terminate answer %v", m)
	}
	if err := e.waitDisconnect(alice); !errors.As(err, &de) || de.Reason != client.ReasonShutdown {
		t.Errorf("alice: %v, want shutdown", err)
	}
	e.wantError(404, "GET", "/api/sessions/pic", nil)
	e.wantError(404, "DELETE", "/api/sessions/pic", nil)
	if l := e.must(200, "GET", "/api/sessions", nil).arr(t); len(l) != 0 {
		t.Errorf("sessions after terminate: %v", l)
	}
}

func TestListedFilter(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.host("alice", "one")
	e.host("carol", "two")
	e.must(200, "PUT", "/api/sessions/two", map[string]any{"unlisted": true})
	if l := e.must(200, "GET", "/api/sessions", nil).arr(t); len(l) != 2 {
		t.Errorf("all sessions: %d", len(l))
	}
	l := e.must(200, "GET", "/api/sessions?listed=true", nil).arr(t)
	if len(l) != 1 || l[0].(map[string]any)["alias"] != "one" {
		t.Errorf("listed sessions: %v", l)
	}
}

func TestInvitesAndChat(t *testing.T) {
	e := newEnv(t, envOpts{})
	alice := e.host("alice", "inv")
	m := e.must(200, "POST", "/api/sessions/inv/invites", map[string]any{"maxUses": 100, "trust": true}).obj(t)
	secret, _ := m["secret"].(string)
	if len(secret) != 8 || m["maxUses"] != 50.0 || m["trust"] != true || m["op"] != false {
		t.Fatalf("invite = %v", m)
	}
	list := e.must(200, "GET", "/api/sessions/inv/invites", nil).obj(t)
	if l, _ := list["invites"].([]any); len(l) != 1 {
		t.Errorf("invites = %v", list)
	}
	if g := e.must(200, "GET", "/api/sessions/inv/invites/"+secret, nil).obj(t); g["secret"] != secret {
		t.Errorf("invite get = %v", g)
	}
	e.wantError(400, "POST", "/api/sessions/inv/invites", map[string]any{"maxUses": 0})
	e.must(200, "DELETE", "/api/sessions/inv/invites/"+secret, nil)
	e.wantError(404, "DELETE", "/api/sessions/inv/invites/"+secret, nil)
	e.wantError(404, "GET", "/api/sessions/inv/invites/"+secret, nil)
	for range 50 {
		e.must(200, "POST", "/api/sessions/inv/invites", map[string]any{})
	}
	if msg := e.wantError(400, "POST", "/api/sessions/inv/invites", map[string]any{}); msg != "Too many invites" {
		t.Errorf("51st invite: %q", msg)
	}

	// Admin chat.
	e.wantError(404, "GET", "/api/sessions/inv/chat", nil)
	e.wantError(400, "POST", "/api/sessions/inv/chat", map[string]any{})
	e.wantError(400, "POST", "/api/sessions/inv/chat", map[string]any{"message": "hi", "timeout": 10})
	c := e.must(200, "POST", "/api/sessions/inv/chat", map[string]any{"message": "Admin here"}).obj(t)
	if c["offset"] != 1.0 || len(c["messages"].([]any)) != 1 {
		t.Errorf("chat connect = %v", c)
	}
	e.waitFor(alice, "admin chat alert", func(m client.Message) bool {
		return m.Reply != nil && m.Reply.Type == "alert" && m.Reply.Message == "Admin here"
	})
	e.wantError(409, "POST", "/api/sessions/inv/chat", map[string]any{"message": "again"})
	c = e.must(200, "PUT", "/api/sessions/inv/chat", map[string]any{"message": "second", "offset": 1}).obj(t)
	if msgs := c["messages"].([]any); c["offset"] != 2.0 || len(msgs) != 1 || msgs[0].(map[string]any)["m"] != "second" {
		t.Errorf("chat send = %v", c)
	}
	if c = e.must(200, "GET", "/api/sessions/inv/chat?offset=2", nil).obj(t); len(c["messages"].([]any)) != 0 {
		t.Errorf("chat poll = %v", c)
	}
	if full := e.must(200, "GET", "/api/sessions/inv", nil).obj(t); full["chat"] == nil {
		t.Error("full description: chat is null while connected")
	}
	e.must(200, "DELETE", "/api/sessions/inv/chat?message=bye", nil)
	e.wantError(404, "PUT", "/api/sessions/inv/chat", map[string]any{"message": "x"})
	logs := e.must(200, "GET", "/api/log?contains=Admin+here", nil).arr(t)
	if len(logs) != 1 || logs[0].(map[string]any)["topic"] != "AdminChat" {
		t.Errorf("admin chat log = %v", logs)
	}
}

func TestServerUsers(t *testing.T) {
	e := newEnv(t, envOpts{})
	alice := e.host("alice", "")
	users := e.must(200, "GET", "/api/users", nil).arr(t)
	if len(users) != 1 {
		t.Fatalf("users = %v", users)
	}
	u := users[0].(map[string]any)
	uid, _ := u["uid"].(string)
	if uid == "" || u["name"] != "alice" || u["session"] == nil {
		t.Errorf("user = %v", u)
	}
	if v := e.must(200, "GET", "/api/users?v=2", nil).obj(t); len(v["users"].([]any)) != 1 {
		t.Errorf("v=2 users = %v", v)
	}
	// Upstream returns an empty document here (server.md §10); we return the user.
	if g := e.must(200, "GET", "/api/users/"+uid, nil).obj(t); g["uid"] != uid || g["name"] != "alice" {
		t.Errorf("GET /api/users/%s = %v", uid, g)
	}
	e.wantError(404, "GET", "/api/users/ffffff", nil)
	e.wantError(404, "DELETE", "/api/users/zzz", nil)
	if m := e.must(200, "DELETE", "/api/users/"+uid, map[string]any{"message": "go away"}).obj(t); m["status"] != "ok" {
		t.Errorf("kick = %v", m)
	}
	var de *client.DisconnectError
	if err := e.waitDisconnect(alice); !errors.As(err, &de) || de.Reason != client.ReasonKick {
		t.Errorf("alice: %v, want kick", err)
	}
}

func TestBans(t *testing.T) {
	e := newEnv(t, envOpts{})
	if l := e.must(200, "GET", "/api/banlist", nil).arr(t); len(l) != 0 {
		t.Fatalf("banlist = %v", l)
	}
	b := e.must(200, "POST", "/api/banlist", map[string]any{"ip": "192.0.2.7", "subnet": 24, "expires": "2099-01-01 00:00:00", "comment": "spam"}).obj(t)
	for k, want := range map[string]any{"ip": "192.0.2.7", "subnet": 24.0, "expires": "2099-01-01 00:00:00", "comment": "spam"} {
		if b[k] != want {
			t.Errorf("ban %s = %v, want %v", k, b[k], want)
		}
	}
	id := b["id"].(float64)
	if v := e.must(200, "GET", "/api/banlist?v=2", nil).obj(t); len(v["bans"].([]any)) != 1 || v["_locked"] != false {
		t.Errorf("v=2 banlist = %v", v)
	}
	for _, body := range []any{
		map[string]any{"ip": "not-an-ip", "expires": "2099-01-01 00:00:00"},
		map[string]any{"ip": "192.0.2.8", "subnet": 99, "expires": "2099-01-01 00:00:00"},
		map[string]any{"ip": "192.0.2.8", "expires": "someday"},
		`{"ip":`,
	} {
		e.wantError(400, "POST", "/api/banlist", body)
	}
	if l := e.must(200, "GET", "/api/banlist", nil).arr(t); len(l) != 1 {
		t.Errorf("refused POSTs added bans: %v", l)
	}
	if m := e.must(200, "DELETE", fmt.Sprintf("/api/banlist/%d", int(id)), nil).obj(t); m["status"] != "ok" || m["deleted"] != id {
		t.Errorf("delete = %v", m)
	}
	e.wantError(404, "DELETE", fmt.Sprintf("/api/banlist/%d", int(id)), nil)
	e.wantError(404, "DELETE", "/api/banlist/abc", nil)

	sb := e.must(200, "POST", "/api/systembans", map[string]any{"sid": strings.Repeat("ab", 16), "expires": "2099-01-01 00:00:00", "reaction": "garbage", "reason": "r", "comment": "c"}).obj(t)
	if sb["sid"] != strings.Repeat("ab", 16) || sb["reaction"] != "garbage" {
		t.Errorf("system ban = %v", sb)
	}
	e.wantError(400, "POST", "/api/systembans", map[string]any{"sid": "short", "expires": "2099-01-01 00:00:00"})
	e.wantError(400, "POST", "/api/systembans", map[string]any{"sid": strings.Repeat("ab", 16), "expires": "2099-01-01 00:00:00", "reaction": "explode"})
	if l := e.must(200, "GET", "/api/systembans", nil).arr(t); len(l) != 1 {
		t.Errorf("systembans = %v", l)
	}
	e.must(200, "DELETE", fmt.Sprintf("/api/systembans/%d", int(sb["id"].(float64))), nil)

	ub := e.must(200, "POST", "/api/userbans", map[string]any{"userId": 42, "expires": "2099-01-01 00:00:00"}).obj(t)
	if ub["userId"] != 42.0 || ub["reaction"] != "normal" {
		t.Errorf("user ban = %v", ub)
	}
	e.wantError(400, "POST", "/api/userbans", map[string]any{"userId": 0, "expires": "2099-01-01 00:00:00"})
	if l := e.must(200, "GET", "/api/userbans", nil).arr(t); len(l) != 1 {
		t.Errorf("userbans = %v", l)
	}
	e.must(200, "DELETE", fmt.Sprintf("/api/userbans/%d", int(ub["id"].(float64))), nil)
	e.wantError(404, "DELETE", fmt.Sprintf("/api/userbans/%d", int(ub["id"].(float64))), nil)
}

func TestAccounts(t *testing.T) {
	e := newEnv(t, envOpts{})
	a := e.must(200, "POST", "/api/accounts", map[string]any{"username": "mod1", "password": "pw1", "locked": false, "flags": "MOD,HOST"}).obj(t)
	if a["username"] != "mod1" || a["locked"] != false || a["flags"] != "HOST,MOD" {
		t.Errorf("account = %v", a)
	}
	id := int(a["id"].(float64))
	e.wantError(400, "POST", "/api/accounts", map[string]any{"username": "mod1", "password": "x"})
	e.wantError(400, "POST", "/api/accounts", map[string]any{"username": "nopw"})
	e.wantError(400, "POST", "/api/accounts", map[string]any{"username": `bad"name`, "password": "x"})
	e.wantError(400, "POST", "/api/accounts", `not json`)
	if l := e.must(200, "GET", "/api/accounts", nil).arr(t); len(l) != 1 {
		t.Errorf("accounts = %v", l)
	}
	if v := e.must(200, "GET", "/api/accounts?v=2", nil).obj(t); len(v["accounts"].([]any)) != 1 {
		t.Errorf("v=2 accounts = %v", v)
	}
	for pw, want := range map[string]float64{"pw1": 3, "wrong": 1} {
		if m := e.must(200, "POST", "/api/accounts/auth", map[string]any{"username": "mod1", "password": pw}).obj(t); m["status"] != want {
			t.Errorf("auth with %q = %v, want %v", pw, m, want)
		}
	}
	if m := e.must(200, "POST", "/api/accounts/auth", map[string]any{"username": "ghost", "password": "x"}).obj(t); m["status"] != 0.0 {
		t.Errorf("auth unknown = %v", m)
	}
	a = e.must(200, "PUT", fmt.Sprintf("/api/accounts/%d", id), map[string]any{"locked": true, "flags": "HOST"}).obj(t)
	if a["locked"] != true || a["flags"] != "HOST" {
		t.Errorf("updated = %v", a)
	}
	if m := e.must(200, "POST", "/api/accounts/auth", map[string]any{"username": "mod1", "password": "pw1"}).obj(t); m["status"] != 2.0 {
		t.Errorf("auth locked = %v", m)
	}
	e.wantError(404, "PUT", "/api/accounts/9999", map[string]any{"locked": true})
	if m := e.must(200, "DELETE", fmt.Sprintf("/api/accounts/%d", id), nil).obj(t); m["deleted"] != float64(id) {
		t.Errorf("delete = %v", m)
	}
	e.wantError(404, "DELETE", fmt.Sprintf("/api/accounts/%d", id), nil)
}

func TestMemoryStore(t *testing.T) {
	e := newEnv(t, envOpts{memory: true})
	for _, ep := range [][2]string{{"GET", "/api/accounts"}, {"GET", "/api/banlist"}, {"GET", "/api/systembans"},
		{"GET", "/api/userbans"}, {"GET", "/api/listserverwhitelist"}, {"PUT", "/api/locks"}} {
		e.wantError(404, ep[0], ep[1], map[string]any{"sections": []string{"server"}})
	}
	if m := e.must(200, "GET", "/api/locks", nil).obj(t); m["supported"] != false {
		t.Errorf("locks = %v", m)
	}
	// Settings still work in memory.
	e.must(200, "PUT", "/api/server", map[string]any{"serverTitle": "Mem"})
	if m := e.must(200, "GET", "/api/server", nil).obj(t); m["serverTitle"] != "Mem" {
		t.Errorf("serverTitle = %v", m["serverTitle"])
	}
}

func TestLog(t *testing.T) {
	e := newEnv(t, envOpts{})
	ulid := "01ARZ3NDEKTSV4RRFFQ69G5FAV"
	m := e.must(200, "POST", "/api/log", map[string]any{"level": "Warn", "topic": "Status", "session": ulid,
		"user": map[string]any{"id": 3, "ip": "192.0.2.1", "name": "bob"}, "message": "[BOT] something happened"}).obj(t)
	entry, _ := m["entry"].(map[string]any)
	if m["_locked"] != false || entry["level"] != "Warn" || entry["user"] != "3;192.0.2.1;bob" || entry["session"] != ulid {
		t.Errorf("post log = %v", m)
	}
	for _, body := range []any{
		map[string]any{"level": "Loud", "topic": "Status", "message": "[X] y"},
		map[string]any{"level": "Info", "topic": "Nope", "message": "[X] y"},
		map[string]any{"level": "Info", "topic": "Status", "message": "no source"},
		map[string]any{"level": "Info", "topic": "Status", "session": "not-a-ulid", "message": "[X] y"},
		map[string]any{"level": "Info", "topic": "Status", "user": map[string]any{"id": 300}, "message": "[X] y"},
	} {
		e.wantError(400, "POST", "/api/log", body)
	}
	logs := e.must(200, "GET", "/api/log?session="+ulid, nil).arr(t)
	if len(logs) != 1 {
		t.Fatalf("log = %v", logs)
	}
	l := logs[0].(map[string]any)
	for _, k := range []string{"timestamp", "level", "topic", "session", "user", "message"} {
		if _, ok := l[k]; !ok {
			t.Errorf("log entry lacks %q", k)
		}
	}
	if got := e.must(200, "GET", "/api/log?user=bob&contains=HAPPENED", nil).arr(t); len(got) != 1 {
		t.Errorf("filtered log = %v", got)
	}
	if got := e.must(200, "GET", "/api/log?page=1&session="+ulid, nil).arr(t); len(got) != 0 {
		t.Errorf("page 1 = %v", got)
	}
	e.wantError(400, "GET", "/api/log?page=x", nil)
	e.wantError(400, "GET", "/api/log?after=yesterday", nil)
}

func TestWhitelistAndExtBans(t *testing.T) {
	e := newEnv(t, envOpts{})
	m := e.must(200, "GET", "/api/listserverwhitelist", nil).obj(t)
	if m["enabled"] != false || len(m["whitelist"].([]any)) != 0 || m["_locked"] != false {
		t.Errorf("whitelist = %v", m)
	}
	m = e.must(200, "PUT", "/api/listserverwhitelist", map[string]any{"enabled": true, "whitelist": []string{`^https://pub\.drawpile\.net/`}}).obj(t)
	if m["enabled"] != true || len(m["whitelist"].([]any)) != 1 {
		t.Errorf("whitelist after PUT = %v", m)
	}
	e.wantError(400, "PUT", "/api/listserverwhitelist", map[string]any{"enabled": false, "whitelist": []string{"(unclosed"}})
	if m = e.must(200, "GET", "/api/listserverwhitelist", nil).obj(t); m["enabled"] != true {
		t.Errorf("refused PUT changed enabled: %v", m)
	}

	x := e.must(200, "GET", "/api/extbans", nil).obj(t)
	for _, k := range []string{"config", "bans", "status", "_locked"} {
		if _, ok := x[k]; !ok {
			t.Errorf("extbans lacks %q", k)
		}
	}
	e.wantError(400, "POST", "/api/extbans/refresh", nil)
	e.must(200, "DELETE", "/api/extbans", nil)
	if m := e.must(200, "PUT", "/api/extbans/7", map[string]any{"enabled": false}).obj(t); m["status"] != "ok" {
		t.Errorf("extban enable = %v", m)
	}
	e.wantError(400, "PUT", "/api/extbans/7", map[string]any{})
}

func TestLocks(t *testing.T) {
	e := newEnv(t, envOpts{})
	m := e.must(200, "GET", "/api/locks", nil).obj(t)
	if m["supported"] != true || m["password"] != false {
		t.Fatalf("locks = %v", m)
	}
	e.wantError(400, "PUT", "/api/locks", map[string]any{"sections": []string{"kitchen"}})
	m = e.must(200, "PUT", "/api/locks", map[string]any{"password": "lockpw", "sections": []string{"server", "bans", "accounts", "sessions", "extbans", "listserverwhitelist"}}).obj(t)
	secs := m["sections"].(map[string]any)
	if m["password"] != true || secs["server"] != true || secs["bans"] != true {
		t.Errorf("locks after PUT = %v", m)
	}
	// Locked sections: reads work and report _locked, writes are 403.
	if s := e.must(200, "GET", "/api/server", nil).obj(t); s["_locked"] != true {
		t.Errorf("server _locked = %v", s["_locked"])
	}
	for _, w := range [][2]string{{"PUT", "/api/server"}, {"POST", "/api/banlist"}, {"DELETE", "/api/banlist/1"},
		{"POST", "/api/systembans"}, {"POST", "/api/userbans"}, {"POST", "/api/accounts"}, {"PUT", "/api/accounts/1"},
		{"PUT", "/api/sessions"}, {"DELETE", "/api/sessions/x"}, {"DELETE", "/api/users/1"},
		{"PUT", "/api/listserverwhitelist"}, {"DELETE", "/api/extbans"}, {"PUT", "/api/extbans/1"}} {
		if msg := e.wantError(403, w[0], w[1], map[string]any{"serverTitle": "locked"}); msg != "This section is locked" {
			t.Errorf("%s %s: %q", w[0], w[1], msg)
		}
	}
	if s := e.must(200, "GET", "/api/server", nil).obj(t); s["serverTitle"] != "" {
		t.Errorf("locked PUT changed serverTitle to %v", s["serverTitle"])
	}
	e.must(200, "GET", "/api/banlist", nil)
	e.must(200, "GET", "/api/sessions?v=2", nil)
	// refresh is exempt from the extbans lock (it fails for another reason).
	if msg := e.wantError(400, "POST", "/api/extbans/refresh", nil); strings.Contains(msg, "locked") {
		t.Errorf("refresh: %q", msg)
	}
	// Wrong or missing password: 403; right password with no sections unlocks.
	e.wantError(403, "PUT", "/api/locks", map[string]any{"password": "wrong", "sections": []string{}})
	e.wantError(403, "PUT", "/api/locks", map[string]any{"sections": []string{}})
	m = e.must(200, "PUT", "/api/locks", map[string]any{"password": "lockpw", "sections": []string{}}).obj(t)
	if m["password"] != false || m["sections"].(map[string]any)["server"] != false {
		t.Errorf("after unlock = %v", m)
	}
	e.must(200, "PUT", "/api/server", map[string]any{"serverTitle": "open"})
}

func TestAdminPage(t *testing.T) {
	e := newEnv(t, envOpts{})
	for _, p := range []string{"/", "/index.html", "/sessions/some/deep/link"} {
		r := e.do("GET", p, nil, "Authorization", "")
		if r.code != 200 || !strings.Contains(r.header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.body), "<html") {
			t.Errorf("GET %s: %d %s", p, r.code, r.header.Get("Content-Type"))
		}
	}
	for _, p := range []string{"/app.js", "/style.css"} {
		if r := e.do("GET", p, nil, "Authorization", ""); r.code != 200 || len(r.body) == 0 {
			t.Errorf("GET %s: %d", p, r.code)
		}
	}
}

func TestHealthAndMetrics(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.host("alice", "")
	if r := e.do("GET", "/healthz", nil, "Authorization", ""); r.code != 200 {
		t.Errorf("healthz: %d", r.code)
	}
	if r := e.do("GET", "/readyz", nil, "Authorization", ""); r.code != 200 {
		t.Errorf("readyz: %d", r.code)
	}
	r := e.do("GET", "/metrics", nil, "Authorization", "")
	if r.code != 200 || !strings.Contains(string(r.body), "drawbridge_sessions 1") || !strings.Contains(string(r.body), "drawbridge_connections 1") {
		t.Errorf("metrics: %d\n%s", r.code, r.body)
	}
}

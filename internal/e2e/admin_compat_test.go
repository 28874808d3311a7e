package e2e

import (
	"errors"
	"fmt"
	"regexp"
	"testing"
	"time"

	"drawbridge/internal/client"
)

// checkFields asserts that m has every key with a value of the given JSON
// kind ("string", "number", "bool", "array", "object", "null").
func checkFields(t *testing.T, what string, m map[string]any, kinds map[string]string) {
	t.Helper()
	for k, kind := range kinds {
		v, ok := m[k]
		if !ok {
			t.Errorf("%s: missing field %q (have %v)", what, k, m)
			continue
		}
		got := "null"
		switch v.(type) {
		case string:
			got = "string"
		case float64:
			got = "number"
		case bool:
			got = "bool"
		case []any:
			got = "array"
		case map[string]any:
			got = "object"
		}
		if got != kind {
			t.Errorf("%s: field %q is %s (%v), want %s", what, k, got, v, kind)
		}
	}
}

var isoRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

// TestAdminDpwebadminSequence performs the calls dpwebadmin makes, with
// its trailing-slash URLs and X-Requested-With header, and checks the
// answers field by field against server.md §3.
func TestAdminDpwebadminSequence(t *testing.T) {
	e := newAdminEnv(t, "webadmin", "hunter2")
	host := e.login("alice", client.LoginOptions{Host: &client.HostOptions{Alias: "compat"}})
	bob := e.login("bob", client.LoginOptions{Join: &client.JoinOptions{Session: "compat"}})

	// 1. Log in: dpwebadmin probes /status/ with the credentials; a wrong
	// password must be a plain 401 without WWW-Authenticate.
	wrong := *e
	wrong.pass = "nope"
	code, hdr := wrong.call("GET", "/api/status/", nil, nil)
	if code != 401 || hdr.Get("WWW-Authenticate") != "" {
		t.Fatalf("wrong login: %d, WWW-Authenticate %q", code, hdr.Get("WWW-Authenticate"))
	}
	var status map[string]any
	if code, _ := e.call("GET", "/api/status/", nil, &status); code != 200 {
		t.Fatalf("status: %d", code)
	}
	checkFields(t, "status", status, map[string]string{"started": "string", "sessions": "number", "maxSessions": "number",
		"users": "number", "ext_host": "string", "ext_port": "number"})
	if !isoRE.MatchString(fmt.Sprint(status["started"])) || status["sessions"] != 1.0 || status["users"] != 2.0 {
		t.Errorf("status = %v", status)
	}

	// 2. List sessions.
	var sessions []map[string]any
	if code, _ := e.call("GET", "/api/sessions/", nil, &sessions); code != 200 || len(sessions) != 1 {
		t.Fatalf("sessions: %d %v", code, sessions)
	}
	s := sessions[0]
	checkFields(t, "session", s, map[string]string{"id": "string", "alias": "string", "protocol": "string", "userCount": "number",
		"activeDrawingUserCount": "number", "maxUserCount": "number", "founder": "string", "title": "string", "autotitle": "bool",
		"hasPassword": "bool", "closed": "bool", "authOnly": "bool", "nsfm": "bool", "startTime": "string", "size": "number",
		"persistent": "bool", "invites": "bool", "unlisted": "bool", "idleOverride": "bool", "allowWeb": "bool"})
	if s["alias"] != "compat" || s["userCount"] != 2.0 || s["founder"] != "alice" || !isoRE.MatchString(fmt.Sprint(s["startTime"])) {
		t.Errorf("session = %v", s)
	}
	id := s["id"].(string)
	var full map[string]any
	if code, _ := e.call("GET", "/api/sessions/"+id, nil, &full); code != 200 {
		t.Fatalf("session detail: %d", code)
	}
	checkFields(t, "full session", full, map[string]string{"maxSize": "number", "baseSize": "number", "overrideSize": "number",
		"resetThreshold": "number", "effectiveResetThreshold": "number", "minResetThreshold": "number", "deputies": "bool",
		"hasOpword": "bool", "users": "array", "listings": "array", "invitelist": "array", "chat": "null",
		"thumbnail": "object", "autoreset": "object", "_locked": "bool"})
	users := full["users"].([]any)
	if len(users) != 2 {
		t.Fatalf("users = %v", users)
	}
	var bobDesc map[string]any
	for _, u := range users {
		if um := u.(map[string]any); um["name"] == "bob" {
			bobDesc = um
		}
	}
	if bobDesc == nil {
		t.Fatalf("bob not listed: %v", users)
	}
	checkFields(t, "user", bobDesc, map[string]string{"uid": "string", "id": "number", "name": "string", "ip": "string",
		"s": "string", "lastActiveDrawing": "string", "auth": "bool", "op": "bool", "trusted": "bool", "muted": "bool",
		"mod": "bool", "tls": "bool", "browser": "bool", "state": "string", "capabilities": "object", "oldv": "bool",
		"online": "bool", "holdLocked": "bool", "resetFlags": "array"})
	if bobDesc["state"] != "session" || bobDesc["online"] != true || bobDesc["ip"] != "127.0.0.1" || bobDesc["op"] != false {
		t.Errorf("bob = %v", bobDesc)
	}

	// 3. Change a setting.
	var settings map[string]any
	if code, _ := e.call("GET", "/api/server/", nil, &settings); code != 200 {
		t.Fatalf("server: %d", code)
	}
	checkFields(t, "settings", settings, map[string]string{"clientTimeout": "number", "sessionSizeLimit": "number",
		"sessionCountLimit": "number", "persistence": "bool", "allowGuestHosts": "bool", "idleTimeLimit": "number",
		"serverTitle": "string", "welcomeMessage": "string", "allowGuests": "bool", "archive": "bool", "logpurgedays": "number",
		"autoResetThreshold": "number", "customAvatars": "bool", "forceNsfm": "bool", "extBansUrl": "string",
		"allowIdleOverride": "bool", "enableGhosts": "bool", "sessionUserLimit": "number", "emptySessionLingerTime": "number",
		"allowGuestWeb": "bool", "invites": "bool", "_locked": "bool"})
	var updated map[string]any
	if code, _ := e.call("PUT", "/api/server/", map[string]any{"welcomeMessage": "Welcome!", "sessionUserLimit": 100}, &updated); code != 200 {
		t.Fatalf("PUT server: %d", code)
	}
	if updated["welcomeMessage"] != "Welcome!" || updated["sessionUserLimit"] != 100.0 || updated["clientTimeout"] != 60.0 {
		t.Errorf("after PUT: welcomeMessage %v, sessionUserLimit %v", updated["welcomeMessage"], updated["sessionUserLimit"])
	}

	// 4. Kick a user.
	var kick map[string]any
	if code, _ := e.call("DELETE", fmt.Sprintf("/api/sessions/%s/%d", id, int(bobDesc["id"].(float64))), nil, &kick); code != 200 {
		t.Fatalf("kick: %d %v", code, kick)
	}
	if kick["status"] != "ok" || kick["force"] != false {
		t.Errorf("kick answer = %v", kick)
	}
	var de *client.DisconnectError
	if err := e.untilDisconnected(bob); !errors.As(err, &de) || de.Reason != client.ReasonKick {
		t.Errorf("bob after kick: %v", err)
	}
	if code, _ := e.call("GET", "/api/sessions/"+id, nil, &full); code != 200 || full["userCount"] != 1.0 {
		t.Errorf("after kick: %d userCount %v", code, full["userCount"])
	}

	// 5. Add and remove an IP ban (with the form dpwebadmin posts: an
	// unused "address" field and "" for an empty subnet).
	exp := time.Now().Add(48 * time.Hour).UTC().Format("2006-01-02 15:04:05")
	var ban map[string]any
	if code, _ := e.call("POST", "/api/banlist/", map[string]any{"address": "", "ip": "198.51.100.20", "subnet": "", "expires": exp, "comment": "test"}, &ban); code != 200 {
		t.Fatalf("add ban: %d %v", code, ban)
	}
	checkFields(t, "ban", ban, map[string]string{"id": "number", "ip": "string", "subnet": "number", "expires": "string",
		"comment": "string", "added": "string"})
	if ban["ip"] != "198.51.100.20" || ban["expires"] != exp || ban["comment"] != "test" {
		t.Errorf("ban = %v", ban)
	}
	var bans []map[string]any
	if code, _ := e.call("GET", "/api/banlist/", nil, &bans); code != 200 || len(bans) != 1 || bans[0]["id"] != ban["id"] {
		t.Fatalf("banlist: %d %v", code, bans)
	}
	var del map[string]any
	if code, _ := e.call("DELETE", fmt.Sprintf("/api/banlist/%d", int(ban["id"].(float64))), nil, &del); code != 200 {
		t.Fatalf("delete ban: %d", code)
	}
	if del["status"] != "ok" || del["deleted"] != ban["id"] {
		t.Errorf("delete answer = %v", del)
	}
	if code, _ := e.call("GET", "/api/banlist/", nil, &bans); code != 200 || len(bans) != 0 {
		t.Errorf("banlist after delete: %v", bans)
	}

	// 6. Create an account.
	var acct map[string]any
	if code, _ := e.call("POST", "/api/accounts/", map[string]any{"username": "carol", "password": "pw", "locked": false, "flags": "HOST"}, &acct); code != 200 {
		t.Fatalf("add account: %d %v", code, acct)
	}
	checkFields(t, "account", acct, map[string]string{"id": "number", "username": "string", "locked": "bool", "flags": "string"})
	if acct["username"] != "carol" || acct["flags"] != "HOST" || acct["locked"] != false {
		t.Errorf("account = %v", acct)
	}
	var accts []map[string]any
	if code, _ := e.call("GET", "/api/accounts/", nil, &accts); code != 200 || len(accts) != 1 {
		t.Errorf("accounts: %d %v", code, accts)
	}
	_ = host
}

package admin_test

import (
	"strings"
	"testing"
)

// TestProxyRoomsConventions: /api/proxyrooms follows the API's
// conventions: authentication, JSON errors, the "server" section lock, and
// the upstream allowlist (this bridge allows none, so every target is
// refused with a reason).
func TestProxyRoomsConventions(t *testing.T) {
	e := newEnv(t, envOpts{})
	if r := e.do("GET", "/api/proxyrooms", nil, "Authorization", ""); r.code != 401 {
		t.Fatalf("without credentials: %d", r.code)
	}
	if a := e.must(200, "GET", "/api/proxyrooms", nil).arr(t); len(a) != 0 {
		t.Fatalf("rooms = %v", a)
	}
	if msg := e.wantError(400, "PUT", "/api/proxyrooms/art", map[string]any{"target": "draw.example/room"}); !strings.Contains(msg, "not an allowed upstream") {
		t.Errorf("off-allowlist target: %q", msg)
	}
	e.wantError(400, "PUT", "/api/proxyrooms/art", map[string]any{})
	e.wantError(400, "PUT", "/api/proxyrooms/art", "not json")
	e.wantError(404, "DELETE", "/api/proxyrooms/art", nil)

	e.must(200, "PUT", "/api/locks", map[string]any{"password": "lockpw", "sections": []string{"server"}})
	for _, w := range [][2]string{{"PUT", "/api/proxyrooms/art"}, {"DELETE", "/api/proxyrooms/art"}} {
		if msg := e.wantError(403, w[0], w[1], map[string]any{"target": "draw.example/room"}); msg != "This section is locked" {
			t.Errorf("%s %s while locked: %q", w[0], w[1], msg)
		}
	}
	e.must(200, "GET", "/api/proxyrooms", nil)
}

package bridge

import (
	"flag"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
)

func TestAdminFlagsDefaults(t *testing.T) {
	var c AdminConfig
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	registerAdminFlags(fs, &c)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if c.enabled() || c.Access != "loopback" || c.Auth != "" {
		t.Fatalf("defaults = %+v", c)
	}
	if err := fs.Parse([]string{"--web-admin-port=27780", "--web-admin-auth", "a:b:c", "--web-admin-allowed-origin", "https://x"}); err != nil {
		t.Fatal(err)
	}
	if !c.enabled() || c.listenAddr() != "127.0.0.1:27780" || c.Auth != "a:b:c" || c.AllowedOrigin != "https://x" || c.Validate() != nil {
		t.Fatalf("parsed = %+v (addr %s)", c, c.listenAddr())
	}
}

func TestAdminListenAddr(t *testing.T) {
	for _, tc := range []struct {
		c    AdminConfig
		want string
	}{
		{AdminConfig{Port: 1}, "127.0.0.1:1"},
		{AdminConfig{Port: 1, Access: "loopback"}, "127.0.0.1:1"},
		{AdminConfig{Port: 1, Access: "all"}, ":1"},
		{AdminConfig{Port: 1, Access: "10.0.0.0/8"}, ":1"},
		{AdminConfig{Port: 1, Listen: "::1"}, "[::1]:1"},
		{AdminConfig{Port: 1, Listen: "0.0.0.0"}, "0.0.0.0:1"},
		{AdminConfig{Port: 1, Addr: "127.0.0.1:0"}, "127.0.0.1:0"},
	} {
		if got := tc.c.listenAddr(); got != tc.want {
			t.Errorf("%+v: listenAddr %q, want %q", tc.c, got, tc.want)
		}
	}
}

func TestAdminAccessRule(t *testing.T) {
	for _, tc := range []struct {
		access, remote string
		want           bool
	}{
		{"", "127.0.0.1:5", true},
		{"", "[::1]:5", true},
		{"", "[::ffff:127.0.0.1]:5", true},
		{"", "192.0.2.2:5", false},
		{"loopback", "10.1.2.3:5", false},
		{"all", "198.51.100.1:5", true},
		{"10.0.0.0/8", "10.1.2.3:5", true},
		{"10.0.0.0/8", "[::ffff:10.1.2.3]:5", true},
		{"10.0.0.0/8", "11.0.0.1:5", false},
		{"10.0.0.0/8", "127.0.0.1:5", true},
		{"10.0.0.0/8, 192.0.2.7", "192.0.2.7:5", true},
		{"10.0.0.0/8, 192.0.2.7", "192.0.2.8:5", false},
		{"fd00::/8", "[fd12::1]:5", true},
		{"", "garbage", false},
	} {
		r, err := parseAccess(tc.access)
		if err != nil {
			t.Fatalf("parseAccess(%q): %v", tc.access, err)
		}
		if got := r.allows(tc.remote); got != tc.want {
			t.Errorf("access %q, remote %s: %v, want %v", tc.access, tc.remote, got, tc.want)
		}
	}
	for _, bad := range []string{"everyone", "10.0.0.0/99", "1.2.3"} {
		if _, err := parseAccess(bad); err == nil {
			t.Errorf("parseAccess(%q) accepted", bad)
		}
	}
}

func TestHealthRoutes(t *testing.T) {
	b := &Bridge{}
	r := chi.NewRouter()
	b.healthRoutes(r)
	get := func(path string) int {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code
	}
	if get("/healthz") != 200 || get("/readyz") != 200 {
		t.Fatal("healthz/readyz not 200 while running")
	}
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	if get("/readyz") != 503 || get("/healthz") != 200 {
		t.Fatal("readyz must be 503 while shutting down, healthz 200")
	}
}

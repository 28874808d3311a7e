package admin

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"drawbridge/internal/session"
	"drawbridge/internal/store"
)

// FuzzRequests sends arbitrary bodies and query strings to the write
// endpoints in-process: the API must never panic, must answer JSON, and a
// 400 must carry an error message.
func FuzzRequests(f *testing.F) {
	for _, seed := range []string{`{}`, `{"serverTitle":"x"}`, `{"clientTimeout":"abc"}`, `[`, `null`, `[1]`, `"s"`,
		`{"ip":"1.2.3.4","subnet":"8","expires":"2099-01-01 00:00:00"}`, `{"sections":["server"],"password":1}`,
		`{"user":{"id":-1}}`, `{"maxUses":1e99}`, `{"whitelist":[1,2]}`, "\xff\xfe", `{"level":"Info","topic":"Status","message":"[A] b"}`} {
		f.Add(seed, "v=2&page=1")
	}
	logger := slog.New(slog.DiscardHandler)
	srv := session.NewServer(session.Options{Settings: session.DefaultSettings(), Logger: logger})
	f.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	st, err := store.Open(context.Background(), store.Options{Logger: logger})
	if err != nil {
		f.Fatal(err)
	}
	api, err := New(Options{Server: srv, Store: st, Logger: logger})
	if err != nil {
		f.Fatal(err)
	}
	targets := [][2]string{{"PUT", "/api/server"}, {"PUT", "/api/sessions"}, {"POST", "/api/banlist"}, {"POST", "/api/systembans"},
		{"POST", "/api/userbans"}, {"POST", "/api/accounts"}, {"POST", "/api/accounts/auth"}, {"POST", "/api/log"},
		{"PUT", "/api/listserverwhitelist"}, {"PUT", "/api/locks"}, {"PUT", "/api/extbans/1"}, {"GET", "/api/log"},
		{"DELETE", "/api/users/1"}, {"GET", "/api/sessions"}}
	f.Fuzz(func(t *testing.T, body, query string) {
		for _, tg := range targets {
			req := httptest.NewRequest(tg[0], "/api/x", strings.NewReader(body))
			req.URL.Path = tg[1]
			req.URL.RawQuery = query
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, req)
			var v any
			if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
				t.Fatalf("%s %s %q: non-JSON answer %d %q", tg[0], tg[1], body, rec.Code, rec.Body.String())
			}
			if rec.Code == http.StatusBadRequest {
				if m, _ := v.(map[string]any); m["status"] != "error" || m["message"] == "" {
					t.Fatalf("%s %s: 400 without error body: %s", tg[0], tg[1], rec.Body.String())
				}
			}
			if rec.Code >= 500 {
				t.Fatalf("%s %s %q: %d %s", tg[0], tg[1], body, rec.Code, rec.Body.String())
			}
		}
	})
}

package e2e

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"drawbridge/internal/auth"
	"drawbridge/internal/bridge"
	"drawbridge/internal/client"
	"drawbridge/internal/store"
)

// TestServerLogAndAbuseReports: session events reach the configuration
// database's serverlog table, and a report is POSTed to --report-url with
// the reporttoken when the abusereport setting is on (server.md §4.10–4.11).
func TestServerLogAndAbuseReports(t *testing.T) {
	type received struct {
		auth string
		body map[string]any
	}
	got := make(chan received, 4)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		data, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(data, &body); err != nil {
			t.Errorf("report is not JSON: %v: %s", err, data)
		}
		got <- received{r.Header.Get("Authorization"), body}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), store.Options{Database: filepath.Join(t.TempDir(), "config.db"), Logger: logger, HashPassword: auth.HashPasswordPlain})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for k, v := range map[string]string{"abusereport": "true", "reporttoken": "s3cret"} {
		if err := st.SetSetting(k, v); err != nil {
			t.Fatalf("set %s: %v", k, err)
		}
	}
	e := newEnv(t, func(c *bridge.Config) { c.Store = st; c.ReportURL = receiver.URL })

	host := e.host("Alice", tcp, client.HostOptions{Alias: "logged"})
	defer host.Close()
	if !host.HasFlag("REPORT") {
		t.Error("greeting does not advertise REPORT")
	}
	guest, _ := e.join("Mallory", tcp, "logged", "")
	defer guest.Close()
	if err := host.Report(e.ctx, "2", "drew something nasty"); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		if r.auth != "Token s3cret" {
			t.Errorf("Authorization %q, want %q", r.auth, "Token s3cret")
		}
		if r.body["user"] != "Alice" || r.body["message"] != "drew something nasty" || r.body["perp"] != float64(2) {
			t.Errorf("report body %v", r.body)
		}
		if users, _ := r.body["users"].([]any); len(users) != 2 {
			t.Errorf("report lists %d users, want 2: %v", len(users), r.body["users"])
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no report received")
	}

	deadline := time.Now().Add(20 * time.Second)
	for {
		entries, err := st.QueryLog(store.LogFilter{MaxLevel: store.LevelDebug, Message: "joined"})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, en := range entries {
			if strings.Contains(en.User, "Mallory") && en.Session != "" {
				found = true
			}
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			all, _ := st.QueryLog(store.LogFilter{MaxLevel: store.LevelDebug})
			t.Fatalf("no join entry for Mallory in the server log; have %v", all)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

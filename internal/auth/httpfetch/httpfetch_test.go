package httpfetch

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"drawbridge/internal/auth"
	"drawbridge/internal/store"
)

func TestExtBansETagEndToEnd(t *testing.T) {
	t.Parallel()
	const doc = `{"bans":[{"id":1,"users":[{"ids":[5]}],"expires":"2099-01-01 00:00:00"}]}`
	var gets []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gets = append(gets, r.Header.Get("User-Agent")+"|"+r.Header.Get("If-None-Match"))
		if r.Header.Get("If-None-Match") == `"abc"` {
			w.Header().Set("ETag", `"abc"`)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"abc"`)
		io.WriteString(w, doc)
	}))
	defer srv.Close()

	st, err := store.Open(context.Background(), store.Options{Database: filepath.Join(t.TempDir(), "c.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.SetSetting("extBansUrl", srv.URL+"/bans.json"); err != nil {
		t.Fatal(err)
	}
	fetch := ExtBans(srv.Client(), "2.3.1")
	for range 2 {
		if err := st.RefreshExtBans(context.Background(), fetch); err != nil {
			t.Fatal(err)
		}
	}
	if !st.CheckUserID(5).Banned() {
		t.Error("ban not applied")
	}
	want := []string{"DrawpileExtBansClient/2.3.1|", `DrawpileExtBansClient/2.3.1|"abc"`}
	if strings.Join(gets, ",") != strings.Join(want, ",") {
		t.Errorf("requests = %q", gets)
	}
}

func TestExtBansNetworkError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	if _, err := ExtBans(nil, "x")(context.Background(), url, ""); err == nil {
		t.Error("no error from closed server")
	}
}

func TestGuestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   auth.GuestCheckStatus
		unavai bool
	}{
		{"auth", 200, `{"status":"auth"}`, auth.GuestCheckAuth, false},
		{"guest", 200, `{"status":"guest"}`, auth.GuestCheckGuest, false},
		{"banned", 200, `{"status":"banned"}`, auth.GuestCheckBanned, false},
		{"garbage", 200, `<html>`, "", true},
		{"500", 500, `{"status":"guest"}`, "", true},
		{"huge", 200, `{"status":"` + strings.Repeat("x", MaxExtAuthBody) + `"}`, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got map[string]string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
					t.Errorf("request %s %s", r.Method, r.Header.Get("Content-Type"))
				}
				json.NewDecoder(r.Body).Decode(&got)
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			st, err := GuestCheck(context.Background(), srv.Client(), srv.URL, "bob", "grp")
			if st != tc.want || errors.Is(err, auth.ErrExtAuthUnavailable) != tc.unavai {
				t.Errorf("GuestCheck = %q, %v", st, err)
			}
			if got["username"] != "bob" || got["group"] != "grp" {
				t.Errorf("request body = %v", got)
			}
		})
	}
}

func TestSendReport(t *testing.T) {
	t.Parallel()
	var body map[string]any
	var authz string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authz = r.Header.Get("Authorization")
		json.NewDecoder(r.Body).Decode(&body)
	}))
	defer srv.Close()
	err := SendReport(context.Background(), srv.Client(), srv.URL, "tok", Report{Session: "s", User: "u", Message: "m", Offset: 42,
		Users: []ReportUser{{Name: "a", ID: 1, Op: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if authz != "Token tok" || body["session"] != "s" || body["offset"] != 42.0 || body["perp"] != nil || len(body["users"].([]any)) != 1 {
		t.Errorf("authz %q body %v", authz, body)
	}
}

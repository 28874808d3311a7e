package listing

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// localServer is an httptest server on 127.0.0.1 running h.
func localServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	ts := httptest.NewUnstartedServer(h)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	return ts
}

func TestAnnounceRequestAndInterval(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		expires  string // JSON member, "" = absent
		interval time.Duration
	}{
		{"listserver default 10", `,"expires":10`, 9 * time.Minute},
		{"missing means 6", ``, 5 * time.Minute},
		{"short is raised to 2", `,"expires":1`, time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got map[string]any
			var path, ua, ctype string
			ts := localServer(t, func(w http.ResponseWriter, r *http.Request) {
				path, ua, ctype = r.URL.Path, r.UserAgent(), r.Header.Get("Content-Type")
				_ = json.NewDecoder(r.Body).Decode(&got)
				io.WriteString(w, `{"status":"ok","id":7,"key":"k3y","message":"hi"`+tc.expires+`}`)
			})
			c := NewClient(nil, "9.9")
			d := Description{ID: "alias", Protocol: "dp:4.24.0", Title: "T", Users: 2, ActiveDrawingUsers: 1,
				Owner: "bob", MaxUsers: 10, AllowWeb: true}
			a, err := c.Announce(context.Background(), ts.URL+"/api", d)
			if err != nil {
				t.Fatal(err)
			}
			if a.ListingID != 7 || a.UpdateKey != "k3y" || a.Message != "hi" || a.Refresh != tc.interval || a.SessionID != "alias" {
				t.Errorf("announcement = %+v", a)
			}
			if path != "/api/sessions/" || ua != "DrawpileListingClient/9.9" || ctype != "application/json" {
				t.Errorf("path %q, user agent %q, content type %q", path, ua, ctype)
			}
			// host and port omitted when unset, closed and preferwebsockets
			// only when true; allowweb sent because true.
			for _, k := range []string{"host", "port", "closed", "preferwebsockets", "private"} {
				if _, ok := got[k]; ok {
					t.Errorf("body has %q: %v", k, got)
				}
			}
			want := map[string]any{"id": "alias", "protocol": "dp:4.24.0", "title": "T", "users": 2.0,
				"activedrawingusers": 1.0, "password": false, "owner": "bob", "nsfm": false, "maxusers": 10.0, "allowweb": true}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("body[%q] = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

func TestAnnounceHostAndPort(t *testing.T) {
	t.Parallel()
	var got map[string]any
	ts := localServer(t, func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewDecoder(r.Body).Decode(&got)
		io.WriteString(w, `{"id":1,"key":"k"}`)
	})
	_, err := NewClient(nil, "x").Announce(context.Background(), ts.URL+"/", Description{Host: "draw.example", Port: 27760, ID: "s", Protocol: "dp:4.24.0"})
	if err != nil {
		t.Fatal(err)
	}
	if got["host"] != "draw.example" || got["port"] != 27760.0 {
		t.Errorf("body = %v", got)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   string
		gone   bool
	}{
		{"400 relays message", 400, `{"status":"error","message":"Host not reachable"}`, "Host not reachable", false},
		{"409 relays message", 409, `{"message":"already listed"}`, "already listed", false},
		{"422 without message", 422, `{"status":"error"}`, "Http error 422 (no explanation given)", false},
		{"400 unparseable", 400, `<html>`, "Http error 400 but response body was unparseable", false},
		{"410 gone", 410, `{}`, "ERROR 410 GONE", true},
		{"500 network error", 500, `{"message":"ignored"}`, "Network error: server replied: 500 Internal Server Error", false},
		{"200 unparseable", 200, `nope`, "Unparseable response", false},
		{"200 without key", 200, `{"id":3}`, "Unparseable response", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := localServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			_, err := NewClient(nil, "x").Announce(context.Background(), ts.URL, Description{ID: "s", Protocol: "dp:4.24.0"})
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v, want prefix %q", err, tc.want)
			}
			if errors.Is(err, ErrGone) != tc.gone {
				t.Errorf("errors.Is(err, ErrGone) = %v", !tc.gone)
			}
		})
	}
}

func TestInvalidURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "foo", "ftp://x/", "http://", "://"} {
		if _, err := NewClient(nil, "x").Announce(context.Background(), u, Description{}); err == nil || err.Error() != "Invalid API URL" {
			t.Errorf("Announce(%q) err = %v", u, err)
		}
	}
}

func TestRedirects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		hops int
		ok   bool
	}{{0, true}, {2, true}, {3, false}}
	for _, tc := range tests {
		t.Run(strings.Repeat("r", tc.hops), func(t *testing.T) {
			t.Parallel()
			var ts *httptest.Server
			ts = localServer(t, func(w http.ResponseWriter, r *http.Request) {
				n := strings.Count(r.URL.Path, "x")
				if n < tc.hops {
					// 307 keeps the method and the body.
					http.Redirect(w, r, ts.URL+"/"+strings.Repeat("x", n+1)+"/sessions/", http.StatusTemporaryRedirect)
					return
				}
				io.WriteString(w, `{"id":1,"key":"k"}`)
			})
			_, err := NewClient(nil, "x").Announce(context.Background(), ts.URL, Description{ID: "s", Protocol: "dp:4.24.0"})
			if (err == nil) != tc.ok {
				t.Fatalf("%d redirects: err = %v", tc.hops, err)
			}
		})
	}
}

func TestRefreshAndUnlistRequests(t *testing.T) {
	t.Parallel()
	type req struct {
		method, path, key string
		body              map[string]map[string]any
	}
	reqs := make(chan req, 4)
	ts := localServer(t, func(w http.ResponseWriter, r *http.Request) {
		var b map[string]map[string]any
		_ = json.NewDecoder(r.Body).Decode(&b)
		reqs <- req{r.Method, r.URL.Path, r.Header.Get("X-Update-Key"), b}
		io.WriteString(w, `{"status":"ok","responses":{"4":"ok","5":"error"},"errors":{"5":"timed out"}}`)
	})
	c := NewClient(nil, "x")
	res, err := c.Refresh(context.Background(), ts.URL+"/list", []Update{
		{ListingID: 4, UpdateKey: "a", Desc: Description{Title: "four", MaxUsers: 5}},
		{ListingID: 5, UpdateKey: "b", Desc: Description{Title: "five"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK(4) || res.OK(5) || res.Reason(5) != "timed out" {
		t.Errorf("result = %+v", res)
	}
	r := <-reqs
	if r.method != http.MethodPut || r.path != "/list/sessions/" {
		t.Errorf("refresh request %s %s", r.method, r.path)
	}
	four := r.body["4"]
	// A refresh sends every member, false ones included.
	for _, k := range []string{"updatekey", "title", "users", "activedrawingusers", "password", "owner", "nsfm", "maxusers", "closed", "allowweb", "preferwebsockets"} {
		if _, ok := four[k]; !ok {
			t.Errorf("refresh body lacks %q: %v", k, four)
		}
	}
	if four["updatekey"] != "a" || four["title"] != "four" || r.body["5"]["updatekey"] != "b" {
		t.Errorf("refresh body = %v", r.body)
	}

	if err := c.Unlist(context.Background(), Announcement{APIURL: ts.URL + "/list/", ListingID: 4, UpdateKey: "a"}); err != nil {
		t.Fatal(err)
	}
	r = <-reqs
	if r.method != http.MethodDelete || r.path != "/list/sessions/4" || r.key != "a" {
		t.Errorf("unlist request %s %s key %q", r.method, r.path, r.key)
	}
}

func TestResponseTooLarge(t *testing.T) {
	t.Parallel()
	ts := localServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"id":1,"key":"`+strings.Repeat("k", MaxResponseBody)+`"}`)
	})
	if _, err := NewClient(nil, "x").Announce(context.Background(), ts.URL, Description{ID: "s"}); err == nil {
		t.Fatal("oversized answer accepted")
	}
}

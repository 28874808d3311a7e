// Package listingtest is an in-memory Drawpile list server for tests: the
// public API version 1.7 of drawpile/listserver as server.md §6.3
// documents it (announce, single and batch refresh, delist, session
// list), on an httptest server bound to 127.0.0.1. It checks what a real
// list server checks about the requests it gets (JSON shapes, update keys,
// id length, private listings) but not host reachability.
//
// Goroutines: net/http's; all state is guarded by Server.mu.
package listingtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Listing is one announced session as the list server stores it.
type Listing struct {
	ID                 int64
	Host               string
	Port               int
	SessionID          string
	Protocol           string
	Title              string
	Users              int
	ActiveDrawingUsers int
	MaxUsers           int
	Password           bool
	Nsfm               bool
	Owner              string
	AllowWeb           bool
	PreferWebSockets   bool
	UpdateKey          string
	Refreshes          int    // successful refreshes (single or batch)
	Unlisted           bool   // deleted by the announcer
	Kicked             string // admin unlist reason ("" = listed)
}

// Request is one request the server received.
type Request struct {
	Method, Path, UserAgent, UpdateKey string
	Body                               json.RawMessage
}

// Server is the fake list server.
type Server struct {
	// URL is the API root, e.g. "http://127.0.0.1:1234/".
	URL  string
	http *httptest.Server

	mu       sync.Mutex
	nextID   int64
	listings map[int64]*Listing
	requests []Request
	expires  int
	welcome  string
	reject   string // non-empty: announcements answer 400 with this message
	gone     bool   // every request answers 410
	batchErr int    // non-zero: batch refreshes answer this status
	notify   chan struct{}
}

// New starts a list server on 127.0.0.1; it is closed when the test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{listings: map[int64]*Listing{}, nextID: 1, expires: 10, notify: make(chan struct{})}
	ts := httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listingtest: listen: %v", err)
	}
	ts.Listener = ln
	ts.Start()
	s.http = ts
	s.URL = ts.URL + "/"
	tb.Cleanup(s.Close)
	return s
}

// Close stops the server.
func (s *Server) Close() { s.http.Close() }

// SetExpires sets the "expires" (minutes) returned on announcement.
func (s *Server) SetExpires(min int) { s.mu.Lock(); s.expires = min; s.mu.Unlock() }

// SetWelcome sets the welcome message returned on announcement.
func (s *Server) SetWelcome(msg string) { s.mu.Lock(); s.welcome = msg; s.mu.Unlock() }

// RejectAnnouncements makes announcements fail with 400 and this message
// ("" = accept again).
func (s *Server) RejectAnnouncements(msg string) { s.mu.Lock(); s.reject = msg; s.mu.Unlock() }

// SetGone makes every request answer 410 Gone.
func (s *Server) SetGone(g bool) { s.mu.Lock(); s.gone = g; s.mu.Unlock() }

// FailBatches makes batch refreshes answer this HTTP status (0 = normal).
func (s *Server) FailBatches(status int) { s.mu.Lock(); s.batchErr = status; s.mu.Unlock() }

// Kick unlists a listing as a list server admin would; its next refresh
// fails with reason.
func (s *Server) Kick(id int64, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.listings[id]; l != nil {
		l.Kicked = reason
	}
}

// Listings returns copies of every listing ever made, by id.
func (s *Server) Listings() []Listing {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Listing, 0, len(s.listings))
	for _, l := range s.listings {
		out = append(out, *l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Active returns the listings that are neither deleted nor kicked.
func (s *Server) Active() []Listing {
	var out []Listing
	for _, l := range s.Listings() {
		if !l.Unlisted && l.Kicked == "" {
			out = append(out, l)
		}
	}
	return out
}

// Requests returns every request received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Changed returns a channel closed when the next request has been
// handled (use with a timeout to wait for background requests).
func (s *Server) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notify
}

var slashes = regexp.MustCompile(`/{2,}`)

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"status": "error", "message": msg})
}

func newKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// serve is the whole API.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	defer s.bump()
	path := slashes.ReplaceAllString(r.URL.Path, "/")
	if !strings.HasSuffix(path, "/") {
		path += "/"
	}
	var body json.RawMessage
	if r.Body != nil {
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		if err := dec.Decode(&body); err != nil && r.Method != http.MethodGet && r.Method != http.MethodDelete {
			s.record(r, path, nil)
			writeErr(w, http.StatusBadRequest, "invalid JSON: "+err.Error())
			return
		}
	}
	s.record(r, path, body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone {
		writeErr(w, http.StatusGone, "gone")
		return
	}
	switch {
	case path == "/" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"api_name": "drawpile-session-list", "version": "1.7",
			"name": "listingtest", "description": "test list server", "favicon": "", "source": "",
			"read_only": false, "public": true, "private": false})
	case path == "/sessions/" && r.Method == http.MethodGet:
		s.list(w)
	case path == "/sessions/" && r.Method == http.MethodPost:
		s.announce(w, r, body)
	case path == "/sessions/" && r.Method == http.MethodPut:
		s.batch(w, body)
	case strings.HasPrefix(path, "/sessions/"):
		id, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(path, "/sessions/"), "/"), 10, 64)
		if err != nil {
			writeErr(w, http.StatusNotFound, "not found")
			return
		}
		switch r.Method {
		case http.MethodPut:
			s.refreshOne(w, id, r.Header.Get("X-Update-Key"), body)
		case http.MethodDelete:
			l := s.listings[id]
			if l == nil || l.Unlisted || l.UpdateKey != r.Header.Get("X-Update-Key") {
				writeErr(w, http.StatusNotFound, "no such session")
				return
			}
			l.Unlisted = true
			writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		default:
			writeErr(w, http.StatusMethodNotAllowed, "method not allowed")
		}
	default:
		writeErr(w, http.StatusNotFound, "not found")
	}
}

func (s *Server) record(r *http.Request, path string, body json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: path, UserAgent: r.UserAgent(),
		UpdateKey: r.Header.Get("X-Update-Key"), Body: body})
}

// bump wakes the Changed waiters once a request has been handled.
func (s *Server) bump() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.notify)
	s.notify = make(chan struct{})
}

// WaitFor waits until cond holds, checking after every request, or until
// timeout; it reports whether cond held.
func (s *Server) WaitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		ch := s.Changed()
		if cond() {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return cond()
		}
	}
}

func (s *Server) list(w http.ResponseWriter) {
	out := []map[string]any{}
	for _, l := range s.listings {
		if l.Unlisted || l.Kicked != "" {
			continue
		}
		out = append(out, map[string]any{"host": l.Host, "port": l.Port, "id": l.SessionID, "protocol": l.Protocol,
			"title": l.Title, "users": l.Users, "maxusers": l.MaxUsers, "usernames": []string{}, "password": l.Password,
			"nsfm": l.Nsfm, "owner": l.Owner, "started": time.Now().UTC().Format("2006-01-02T15:04:05Z"),
			"activedrawingusers": l.ActiveDrawingUsers, "allowweb": l.AllowWeb})
	}
	writeJSON(w, http.StatusOK, out)
}

// announceReq is the POST body; pointer members distinguish absent ones.
type announceReq struct {
	Host               string `json:"host"`
	Port               *int   `json:"port"`
	ID                 string `json:"id"`
	Protocol           string `json:"protocol"`
	Owner              string `json:"owner"`
	Title              string `json:"title"`
	Users              int    `json:"users"`
	Password           bool   `json:"password"`
	Nsfm               bool   `json:"nsfm"`
	Private            bool   `json:"private"`
	Closed             bool   `json:"closed"`
	ActiveDrawingUsers int    `json:"activedrawingusers"`
	AllowWeb           bool   `json:"allowweb"`
	PreferWebSockets   bool   `json:"preferwebsockets"`
	MaxUsers           int    `json:"maxusers"`
}

func (s *Server) announce(w http.ResponseWriter, r *http.Request, body json.RawMessage) {
	var req announceReq
	if err := json.Unmarshal(body, &req); err != nil {
		writeErr(w, http.StatusBadRequest, "invalid announcement: "+err.Error())
		return
	}
	if req.Private {
		writeErr(w, http.StatusNotFound, "private listings are not supported")
		return
	}
	if s.reject != "" {
		writeErr(w, http.StatusBadRequest, s.reject)
		return
	}
	if len(req.ID) < 1 || len(req.ID) > 36 {
		writeErr(w, http.StatusBadRequest, "invalid session id")
		return
	}
	if req.Protocol == "" {
		writeErr(w, http.StatusBadRequest, "invalid protocol version")
		return
	}
	port := 27750
	if req.Port != nil {
		port = *req.Port
	}
	host := req.Host
	if host == "" {
		host, _, _ = net.SplitHostPort(r.RemoteAddr)
	}
	for _, l := range s.listings {
		if !l.Unlisted && l.Kicked == "" && l.Host == host && l.Port == port && l.SessionID == req.ID {
			writeErr(w, http.StatusBadRequest, "session already listed")
			return
		}
	}
	l := &Listing{ID: s.nextID, Host: host, Port: port, SessionID: req.ID, Protocol: req.Protocol, Title: req.Title,
		Users: req.Users, ActiveDrawingUsers: req.ActiveDrawingUsers, MaxUsers: req.MaxUsers, Password: req.Password,
		Nsfm: req.Nsfm, Owner: req.Owner, AllowWeb: req.AllowWeb, PreferWebSockets: req.PreferWebSockets, UpdateKey: newKey()}
	s.nextID++
	s.listings[l.ID] = l
	resp := map[string]any{"status": "ok", "id": l.ID, "key": l.UpdateKey, "expires": s.expires}
	if s.welcome != "" {
		resp["message"] = s.welcome
	}
	writeJSON(w, http.StatusOK, resp)
}

// refreshReq holds the updatable members (absent = unchanged).
type refreshReq struct {
	UpdateKey          string `json:"updatekey"`
	Title              *string
	Users              *int
	Password           *bool
	Nsfm               *bool
	MaxUsers           *int `json:"maxusers"`
	ActiveDrawingUsers *int `json:"activedrawingusers"`
	AllowWeb           *bool
}

// update applies a refresh; "" = ok, else the failure reason.
func (s *Server) update(id int64, key string, req refreshReq) string {
	l := s.listings[id]
	switch {
	case l == nil:
		return "no such session"
	case l.UpdateKey != key:
		return "invalid session key"
	case l.Unlisted:
		return "already unlisted"
	case l.Kicked != "":
		return l.Kicked
	}
	if req.Title != nil {
		l.Title = *req.Title
	}
	if req.Users != nil {
		l.Users = *req.Users
	}
	if req.Password != nil {
		l.Password = *req.Password
	}
	if req.Nsfm != nil {
		l.Nsfm = *req.Nsfm
	}
	if req.MaxUsers != nil {
		l.MaxUsers = *req.MaxUsers
	}
	if req.ActiveDrawingUsers != nil {
		l.ActiveDrawingUsers = *req.ActiveDrawingUsers
	}
	if req.AllowWeb != nil {
		l.AllowWeb = *req.AllowWeb
	}
	l.Refreshes++
	return ""
}

func (s *Server) refreshOne(w http.ResponseWriter, id int64, key string, body json.RawMessage) {
	var req refreshReq
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			writeErr(w, http.StatusBadRequest, "invalid refresh: "+err.Error())
			return
		}
	}
	if reason := s.update(id, key, req); reason != "" {
		writeErr(w, http.StatusBadRequest, reason)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) batch(w http.ResponseWriter, body json.RawMessage) {
	if s.batchErr != 0 {
		writeErr(w, s.batchErr, "batch refresh failed")
		return
	}
	var req map[string]refreshReq
	if err := json.Unmarshal(body, &req); err != nil {
		writeErr(w, http.StatusBadRequest, "invalid batch refresh: "+err.Error())
		return
	}
	responses, errs := map[string]string{}, map[string]string{}
	for k, r := range req {
		id, err := strconv.ParseInt(k, 10, 64)
		reason := "no such session"
		if err == nil {
			reason = s.update(id, r.UpdateKey, r)
		}
		if reason == "" {
			responses[k] = "ok"
		} else {
			responses[k] = "error"
			errs[k] = reason
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "responses": responses, "errors": errs})
}

// Package admin is Drawbridge's administration HTTP API, compatible with
// drawpile-srv's web admin REST API (server.md §3: same paths, methods,
// JSON fields and status codes, so dpwebadmin and scripts work unchanged),
// plus a built-in admin page (plain HTML/CSS/JS embedded in the binary)
// that uses only that public API.
//
// It owns request parsing, Basic authentication with the X-Requested-With
// behaviour, CORS preflight, JSON errors ({"status":"error","message":…}),
// admin section locks and the "?v=2" list convention. It does not own a
// listener, the connection access filter (loopback / subnet / all) or
// /metrics: internal/bridge mounts this handler on the admin listener and
// applies those. Session state comes from internal/session; settings,
// accounts, bans, the server log and locks from a Store (satisfied by
// *store.Store).
//
// Where drawpile-srv has documented bugs (server.md §10) this package does
// the correct thing: GET /api/users/:uid returns the user, internal errors
// are 500 (not 505); see docs/admin-api.md.
//
// Goroutines: none of its own. Handlers run on net/http's goroutines; the
// admin chat state is guarded by API.mu.
package admin

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"drawbridge/internal/auth"
	"drawbridge/internal/session"
	"drawbridge/internal/store"
)

// Store is what the admin API needs from the configuration store.
// *store.Store implements it.
type Store interface {
	Mode() store.Mode
	Settings() store.Settings
	APISettings(c store.APIContext) map[string]any
	UpdateAPISettings(req map[string]any) error
	SetSetting(name, value string) error

	Accounts() ([]store.AccountEntry, error)
	AddAccount(username, password string, locked bool, flags auth.FlagSet) (store.AccountEntry, error)
	UpdateAccount(id int64, u store.AccountUpdate) (store.AccountEntry, error)
	DeleteAccount(id int64) error
	Account(username, password string) store.AccountResult

	IPBans() ([]store.IPBanEntry, error)
	AddIPBan(ip netip.Addr, subnet int, expires time.Time, comment string) (store.IPBanEntry, error)
	DeleteIPBan(id int64) error
	SystemBans() ([]store.IDBanEntry, error)
	UserBans() ([]store.IDBanEntry, error)
	AddSystemBan(sid string, expires time.Time, r store.Reaction, reason, comment string) (store.IDBanEntry, error)
	AddUserBan(uid int64, expires time.Time, r store.Reaction, reason, comment string) (store.IDBanEntry, error)
	DeleteSystemBan(id int64) error
	DeleteUserBan(id int64) error

	ListServerWhitelist() ([]string, error)
	SetListServerWhitelist(entries []string) error

	Log(e store.LogEntry)
	QueryLog(f store.LogFilter) ([]store.LogEntry, error)

	ExternalBans() []store.ExtBanStatus
	SetExternalBanEnabled(id int64, enabled bool) error
	SetExternalBans(bans []store.ExtBan)
	RefreshExtBans(ctx context.Context, fetch store.FetchFunc) error

	SupportsAdminLocks() bool
	AdminSectionLocked(section string) bool
	CheckAdminLockPassword(password string) bool
	SetAdminSectionsLocked(sections []string, password string) error
}

// *store.Store is the production Store.
var _ Store = (*store.Store)(nil)

// Options configure the API.
type Options struct {
	// Server is the live session server (required).
	Server *session.Server
	// Store holds settings, accounts, bans, log and locks (required; an
	// in-memory store.Open(ctx, store.Options{}) is fine).
	Store Store
	// Auth is "user:password" for HTTP Basic authentication; "" = none.
	Auth string
	// AllowedOrigin, when set, is sent as Access-Control-Allow-Origin on
	// every response.
	AllowedOrigin string
	// Started is when the server started (/api/status "started").
	Started time.Time
	// ExtHost and ExtPort are reported by /api/status as ext_host and
	// ext_port (the server's public host name and TCP port).
	ExtHost string
	ExtPort int
	// Features says which optional features are active (hides settings).
	Features store.APIContext
	// FetchExtBans fetches the external ban list for POST
	// /api/extbans/refresh (nil: refresh answers 400 "inactive").
	FetchExtBans store.FetchFunc
	// Thumbnail, if set, renders a session's current canvas for GET
	// /api/sessions/:id/thumbnail (the bridge's server-side canvas) in
	// format: "png" or "webp" (lossless); ok=false means none is available.
	Thumbnail func(ctx context.Context, sessionID, format string) (img []byte, at time.Time, ok bool, err error)
	// ProxyRooms, if set, serves /api/proxyrooms (proxyrooms.go).
	ProxyRooms ProxyRooms
	// SettingsChanged, if set, is called after PUT /api/server changed
	// settings, so the caller can apply them to the running server.
	SettingsChanged func()
	// Logger for request errors; nil = slog.Default().
	Logger *slog.Logger
}

// API is the admin HTTP handler. Create it with New.
type API struct {
	// Immutable after New.
	opts    Options
	srv     *session.Server
	st      Store
	log     *slog.Logger
	handler http.Handler
	user    []byte // Basic auth user and password (nil: no auth)
	pass    []byte

	mu    sync.Mutex            // guards chats
	chats map[string]*chatState // admin chat by session id
}

// New returns the admin API handler. It serves /api/... and the built-in
// admin page at every other path.
func New(opts Options) (*API, error) {
	if opts.Server == nil || opts.Store == nil {
		return nil, errors.New("admin: Server and Store are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Started.IsZero() {
		opts.Started = time.Now()
	}
	a := &API{opts: opts, srv: opts.Server, st: opts.Store, log: opts.Logger, chats: map[string]*chatState{}}
	if opts.Auth != "" {
		u, p, ok := strings.Cut(opts.Auth, ":")
		if !ok || u == "" {
			return nil, errors.New("admin: auth must be user:password")
		}
		a.user, a.pass = []byte(u), []byte(p)
	}
	a.handler = a.routes()
	return a, nil
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// Section names of the admin locks (server.md §3.1).
const (
	SectionAccounts            = "accounts"
	SectionBans                = "bans"
	SectionExtBans             = "extbans"
	SectionListServerWhitelist = "listserverwhitelist"
	SectionServer              = "server"
	SectionSessions            = "sessions"
)

// Sections lists every lockable section.
var Sections = []string{SectionAccounts, SectionBans, SectionExtBans, SectionListServerWhitelist, SectionServer, SectionSessions}

func (a *API) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(a.cors)
	r.Use(middleware.CleanPath) // empty path segments are ignored, as upstream
	r.Use(middleware.StripSlashes)
	r.Use(middleware.GetHead)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) { writeError(w, http.StatusNotFound, "Not found") })
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusBadRequest, "Unsupported method")
	})
	r.Route("/api", func(r chi.Router) {
		r.Use(a.authenticate)
		r.NotFound(func(w http.ResponseWriter, r *http.Request) { writeError(w, http.StatusNotFound, "Not found") })
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusBadRequest, "Unsupported method")
		})
		r.Get("/status", a.getStatus)
		r.Group(func(r chi.Router) {
			r.Use(a.lock(SectionServer))
			r.Get("/server", a.getServer)
			r.Put("/server", a.putServer)
			a.proxyRoomRoutes(r)
		})
		r.Group(func(r chi.Router) {
			r.Use(a.lock(SectionSessions))
			a.sessionRoutes(r)
			r.Get("/users", a.listUsers)
			r.Get("/users/{uid}", a.getServerUser)
			r.Delete("/users/{uid}", a.kickServerUser)
		})
		r.Group(func(r chi.Router) {
			r.Use(a.lock(SectionBans))
			r.Get("/banlist", a.listIPBans)
			r.Post("/banlist", a.addIPBan)
			r.Delete("/banlist/{id}", a.deleteIPBan)
			r.Get("/systembans", a.listSystemBans)
			r.Post("/systembans", a.addSystemBan)
			r.Delete("/systembans/{id}", a.deleteSystemBan)
			r.Get("/userbans", a.listUserBans)
			r.Post("/userbans", a.addUserBan)
			r.Delete("/userbans/{id}", a.deleteUserBan)
		})
		r.Group(func(r chi.Router) {
			r.Use(a.lock(SectionListServerWhitelist))
			r.Get("/listserverwhitelist", a.getWhitelist)
			r.Put("/listserverwhitelist", a.putWhitelist)
		})
		r.Group(func(r chi.Router) {
			r.Use(a.lock(SectionAccounts))
			r.Get("/accounts", a.listAccounts)
			r.Post("/accounts", a.addAccount)
			r.Post("/accounts/auth", a.checkAccount)
			r.Put("/accounts/{id}", a.updateAccount)
			r.Delete("/accounts/{id}", a.deleteAccount)
		})
		r.Get("/log", a.getLog)
		r.Post("/log", a.postLog)
		r.Group(func(r chi.Router) {
			r.Use(a.lock(SectionExtBans))
			r.Get("/extbans", a.getExtBans)
			r.Delete("/extbans", a.clearExtBans)
			r.Post("/extbans/refresh", a.refreshExtBans)
			r.Put("/extbans/{id}", a.enableExtBan)
		})
		r.Get("/locks", a.getLocks)
		r.Put("/locks", a.putLocks)
	})
	r.Get("/*", servePage)
	return r
}

// cors adds Access-Control-Allow-Origin and answers preflight requests
// (OPTIONS → 204, without authentication), as drawpile-srv.
func (a *API) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.opts.AllowedOrigin != "" {
			w.Header().Set("Access-Control-Allow-Origin", a.opts.AllowedOrigin)
		}
		if r.Method == http.MethodOptions {
			h := w.Header()
			h.Set("Access-Control-Allow-Methods", "HEAD, GET, POST, PUT, DELETE")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Requested-With")
			h.Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authenticate checks HTTP Basic credentials when configured. A request
// with X-Requested-With: XMLHttpRequest gets a plain 401 without
// WWW-Authenticate, so browsers do not pop up a login dialog.
func (a *API) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.user == nil || a.checkAuth(r) {
			next.ServeHTTP(w, r)
			return
		}
		if !strings.EqualFold(r.Header.Get("X-Requested-With"), "XMLHttpRequest") {
			w.Header().Set("WWW-Authenticate", `Basic realm="drawpile-srv", charset="UTF-8"`)
		}
		writeError(w, http.StatusUnauthorized, "Unauthorized")
	})
}

func (a *API) checkAuth(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	scheme, rest, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil {
		return false
	}
	u, p, ok := strings.Cut(string(raw), ":")
	if !ok {
		return false
	}
	uok := subtle.ConstantTimeCompare([]byte(u), a.user)
	pok := subtle.ConstantTimeCompare([]byte(p), a.pass)
	return uok&pok == 1
}

// lock refuses writes (anything but GET/HEAD) to a locked section with
// 403 "This section is locked". POST /api/extbans/refresh is exempt.
func (a *API) lock(section string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			write := r.Method != http.MethodGet && r.Method != http.MethodHead
			exempt := section == SectionExtBans && r.Method == http.MethodPost && strings.HasSuffix(strings.TrimSuffix(r.URL.Path, "/"), "/refresh")
			if write && !exempt && a.st.AdminSectionLocked(section) {
				writeError(w, http.StatusForbidden, "This section is locked")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func (a *API) locked(section string) bool { return a.st.AdminSectionLocked(section) }

// errorBody is the JSON of every error response.
type errorBody struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Status: "error", Message: msg})
}

func writeOK(w http.ResponseWriter) { writeJSON(w, http.StatusOK, map[string]any{"status": "ok"}) }

// internalError logs err and answers 500 (drawpile-srv answers 505).
func (a *API) internalError(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Error("admin API error", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, "Internal error: "+err.Error())
}

// storeError maps a store error to a response.
func (a *API) storeError(w http.ResponseWriter, r *http.Request, err error) {
	var se *store.SettingError
	switch {
	case errors.Is(err, store.ErrUnsupported):
		writeError(w, http.StatusNotFound, "Not available: the server runs without --database")
	case errors.Is(err, store.ErrReadOnly):
		writeError(w, http.StatusConflict, "The configuration file is read-only")
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "Not found")
	case errors.As(err, &se):
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Invalid value %q for %s: %s; nothing was changed", se.Value, se.Key, se.Reason))
	case errors.Is(err, store.ErrInvalid):
		writeError(w, http.StatusBadRequest, "Invalid value: "+strings.TrimPrefix(err.Error(), "store: invalid value: "))
	default:
		a.internalError(w, r, err)
	}
}

// maxBody bounds request bodies.
const maxBody = 1 << 20

// request is the request object: the JSON body of POST/PUT, or the query
// string of GET/DELETE (values as JSON strings), as drawpile-srv.
type request map[string]json.RawMessage

// errBadRequest is a client error with a message for the 400 response.
type errBadRequest struct{ msg string }

func (e *errBadRequest) Error() string { return e.msg }

// parseRequest reads the request object. For POST and PUT the body must
// be a JSON object (an empty body counts as {}); for GET and DELETE the
// query string is used, plus a JSON body if one is sent.
func parseRequest(w http.ResponseWriter, r *http.Request) (request, bool) {
	req := request{}
	for k, vs := range r.URL.Query() {
		if len(vs) > 0 {
			b, _ := json.Marshal(vs[len(vs)-1])
			req[k] = b
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, "Request body too large or unreadable")
		return nil, false
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return req, true
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		msg := "Invalid JSON request body: expected a JSON object"
		if err != nil {
			msg = "Invalid JSON request body: " + err.Error()
		}
		writeError(w, http.StatusBadRequest, msg)
		return nil, false
	}
	for k, v := range obj {
		req[k] = v
	}
	return req, true
}

func (q request) has(k string) bool { _, ok := q[k]; return ok }

// str returns a string field (numbers and booleans are stringified).
func (q request) str(k string) (string, bool) {
	raw, ok := q[k]
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	t := strings.TrimSpace(string(raw))
	if t == "null" {
		return "", true
	}
	return t, true
}

// boolean returns a bool field; "true"/"1" strings count as true.
func (q request) boolean(k string) (v, ok bool) {
	raw, ok := q[k]
	if !ok {
		return false, false
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "1":
			return true, true
		case "false", "0", "":
			return false, true
		}
		return false, false
	}
	var n float64
	if json.Unmarshal(raw, &n) == nil {
		return n != 0, true
	}
	return false, false
}

// integer returns an integer field given as a number or a numeric string.
func (q request) integer(k string) (int64, bool) {
	raw, ok := q[k]
	if !ok {
		return 0, false
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		if f, err := n.Float64(); err == nil && f == float64(int64(f)) {
			return int64(f), true
		}
		return 0, false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		return i, err == nil
	}
	return 0, false
}

// v2 reports whether the list should be wrapped ({name: [...], _locked}).
func v2(r *http.Request) bool { return r.URL.Query().Get("v") == "2" }

// writeList writes a list endpoint's answer per the v=2 convention.
func (a *API) writeList(w http.ResponseWriter, r *http.Request, name, section string, list any) {
	if v2(r) {
		writeJSON(w, http.StatusOK, map[string]any{name: list, "_locked": a.locked(section)})
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// idParam parses a numeric path parameter.
func idParam(w http.ResponseWriter, r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, name), 10, 64)
	if err != nil {
		writeError(w, http.StatusNotFound, "Not found")
		return 0, false
	}
	return id, true
}

func isoTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

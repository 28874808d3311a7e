package admin

// Proxy room codes (Drawbridge extension, docs/admin-api.md):
//
//	GET    /api/proxyrooms          → [{"code","target","host","port","session","source"}, …]
//	PUT    /api/proxyrooms/{code}   {"target":"host[:port]/session"} → the room
//	DELETE /api/proxyrooms/{code}   → {"status":"ok"}
//
// Writes are refused while the "server" section is locked. Targets must
// be on the bridge's --upstream allowlist; rooms given with --proxy-room
// (source "cli") cannot be changed here.

import (
	"errors"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
)

// ProxyRoom is one room code of the bridge's proxy mode.
type ProxyRoom struct {
	Code    string `json:"code"`
	Target  string `json:"target"` // host:port/session
	Host    string `json:"host"`
	Port    int    `json:"port"`
	Session string `json:"session"`
	// Source is where the room is defined: "cli" (--proxy-room, read-only
	// here), "database", "config file" (read-only) or "memory".
	Source string `json:"source"`
}

// ProxyRooms is the bridge's room table (Options.ProxyRooms).
type ProxyRooms interface {
	ProxyRooms() ([]ProxyRoom, error)
	// PutProxyRoom adds or replaces a room; errors wrap
	// ErrProxyRoomInvalid, ErrProxyRoomFixed, ErrProxyDisabled or a store
	// error (store.ErrReadOnly in config-file mode).
	PutProxyRoom(code, target string) (ProxyRoom, error)
	// DeleteProxyRoom removes a room; ErrProxyRoomNotFound if none.
	DeleteProxyRoom(code string) error
}

// Errors of ProxyRooms implementations.
var (
	ErrProxyRoomInvalid  = errors.New("invalid room")
	ErrProxyRoomFixed    = errors.New("room is defined with --proxy-room")
	ErrProxyRoomNotFound = errors.New("no such room")
	ErrProxyDisabled     = errors.New("proxy mode is off or misconfigured")
)

func (a *API) proxyRoomRoutes(r chi.Router) {
	r.Get("/proxyrooms", a.listProxyRooms)
	r.Put("/proxyrooms/{code}", a.putProxyRoom)
	r.Delete("/proxyrooms/{code}", a.deleteProxyRoom)
}

func (a *API) listProxyRooms(w http.ResponseWriter, r *http.Request) {
	if a.opts.ProxyRooms == nil {
		writeJSON(w, http.StatusOK, []ProxyRoom{})
		return
	}
	rooms, err := a.opts.ProxyRooms.ProxyRooms()
	if err != nil {
		a.proxyRoomError(w, r, err)
		return
	}
	if rooms == nil {
		rooms = []ProxyRoom{}
	}
	writeJSON(w, http.StatusOK, rooms)
}

func (a *API) putProxyRoom(w http.ResponseWriter, r *http.Request) {
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	target, _ := req.str("target")
	if strings.TrimSpace(target) == "" {
		writeError(w, http.StatusBadRequest, "Missing target (host[:port]/session)")
		return
	}
	if a.opts.ProxyRooms == nil {
		a.proxyRoomError(w, r, ErrProxyDisabled)
		return
	}
	room, err := a.opts.ProxyRooms.PutProxyRoom(chi.URLParam(r, "code"), target)
	if err != nil {
		a.proxyRoomError(w, r, err)
		return
	}
	a.log.Info("admin: proxy room set", "code", room.Code, "target", room.Target)
	writeJSON(w, http.StatusOK, room)
}

func (a *API) deleteProxyRoom(w http.ResponseWriter, r *http.Request) {
	if a.opts.ProxyRooms == nil {
		a.proxyRoomError(w, r, ErrProxyRoomNotFound)
		return
	}
	code := chi.URLParam(r, "code")
	if err := a.opts.ProxyRooms.DeleteProxyRoom(code); err != nil {
		a.proxyRoomError(w, r, err)
		return
	}
	a.log.Info("admin: proxy room deleted", "code", code)
	writeOK(w)
}

func (a *API) proxyRoomError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrProxyRoomInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, ErrProxyRoomFixed):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, ErrProxyRoomNotFound):
		writeError(w, http.StatusNotFound, "Not found")
	case errors.Is(err, ErrProxyDisabled):
		writeError(w, http.StatusConflict, "Proxy mode is off or misconfigured on this bridge")
	default:
		a.storeError(w, r, err)
	}
}

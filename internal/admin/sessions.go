package admin

// Session endpoints: /api/sessions/... and /api/users/... (server.md
// §3.2), with the description objects of §3.3.

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"drawbridge/internal/session"
	"drawbridge/internal/store"
)

func jsonUnmarshal(raw json.RawMessage, v any) error { return json.Unmarshal(raw, v) }

func jsonString(s string) json.RawMessage { b, _ := json.Marshal(s); return b }

func (a *API) sessionRoutes(r chi.Router) {
	r.Get("/sessions", a.listSessions)
	r.Put("/sessions", a.broadcastAll)
	r.Route("/sessions/{sid}", func(r chi.Router) {
		r.Get("/", a.getSession)
		r.Put("/", a.updateSession)
		r.Delete("/", a.terminateSession)
		r.Get("/listing", a.getListings)
		r.Post("/listing", a.addListing)
		r.Delete("/listing/{lid}", a.deleteListing)
		r.Post("/auth", a.checkSessionPassword)
		r.Post("/auth/op", a.checkSessionOpword)
		r.Get("/chat", a.chatPoll)
		r.Post("/chat", a.chatConnect)
		r.Put("/chat", a.chatSend)
		r.Delete("/chat", a.chatDisconnect)
		r.Get("/invites", a.listInvites)
		r.Post("/invites", a.createInvite)
		r.Get("/invites/{secret}", a.getInvite)
		r.Delete("/invites/{secret}", a.deleteInvite)
		r.Get("/thumbnail", a.getThumbnail)
		r.Delete("/thumbnail", a.deleteThumbnail)
		r.Get("/{uid}", a.getSessionUser)
		r.Put("/{uid}", a.updateSessionUser)
		r.Delete("/{uid}", a.kickSessionUser)
		r.Post("/{uid}/thumbnail", a.requestThumbnail)
		r.Delete("/{uid}/thumbnail", a.cancelThumbnail)
	})
}

// basicSession is the "Session, basic" description as a JSON object.
func basicSession(s *session.Session) map[string]any {
	b, _ := json.Marshal(s.Desc())
	m := map[string]any{}
	_ = json.Unmarshal(b, &m)
	if _, ok := m["alias"]; !ok {
		m["alias"] = ""
	}
	return m
}

// userJSON is the "User" description of a session member.
func userJSON(u session.UserInfo) map[string]any {
	m := map[string]any{
		"uid":               u.UID,
		"id":                u.ID,
		"name":              u.Name,
		"ip":                u.IP,
		"s":                 u.SID,
		"lastActive":        isoTime(u.LastActiveDrawing),
		"lastActiveDrawing": isoTime(u.LastActiveDrawing),
		"auth":              u.AuthID != "",
		"op":                u.Op,
		"trusted":           u.Trusted,
		"muted":             u.Muted,
		"mod":               u.Mod,
		"tls":               u.TLS,
		"browser":           u.Browser,
		"state":             u.State,
		"capabilities":      map[string]bool{"keepalive": u.KeepAlive, "thumbnail": false},
		"oldv":              u.Old,
	}
	if u.Session != "" {
		m["online"] = true
		m["holdLocked"] = false
		m["resetFlags"] = []string{}
	}
	return m
}

// fullSession is the "Session, full" description.
func (a *API) fullSession(s *session.Session) map[string]any {
	m := basicSession(s)
	d := s.Details()
	users := []map[string]any{}
	for _, u := range s.Users() {
		users = append(users, userJSON(u))
	}
	invites := []map[string]any{}
	for _, inv := range s.Invites() {
		invites = append(invites, inviteJSON(inv))
	}
	m["maxSize"] = d.MaxSize
	m["baseSize"] = d.BaseSize
	m["overrideSize"] = d.OverrideSize
	m["resetThreshold"] = d.ResetThreshold
	m["effectiveResetThreshold"] = d.EffectiveResetThreshold
	m["minResetThreshold"] = d.MinResetThreshold
	m["deputies"] = d.Deputies
	m["hasOpword"] = d.HasOpword
	m["preserveChat"] = d.PreserveChat
	m["users"] = users
	m["listings"] = s.Listings()
	m["invitelist"] = invites
	m["chat"] = a.chatSummary(s.ID())
	m["thumbnail"] = map[string]any{}
	// Drawbridge extension: the spectator link's secret (/watch/SECRET and
	// /embed/SECRET), which is separate from the join code.
	m["spectatorSecret"] = s.WatchSecret()
	m["autoreset"] = map[string]any{
		"delay":             0,
		"historyFirstIndex": d.HistoryFirst,
		"historyLastIndex":  d.HistoryEnd - 1,
		"requestStatus":     d.AutoresetStatus,
		"sessionState":      d.State,
		"stream":            nil,
	}
	m["_locked"] = a.locked(SectionSessions)
	return m
}

// lookupSession resolves {sid} or answers 404.
func (a *API) lookupSession(w http.ResponseWriter, r *http.Request) *session.Session {
	s := a.srv.Lookup(chi.URLParam(r, "sid"))
	if s == nil || s.Ended() {
		writeError(w, http.StatusNotFound, "Session not found")
		return nil
	}
	return s
}

func (a *API) listSessions(w http.ResponseWriter, r *http.Request) {
	listed := r.URL.Query().Get("listed") == "true"
	list := []map[string]any{}
	for _, s := range a.srv.Sessions() {
		m := basicSession(s)
		if listed && m["unlisted"] == true {
			continue
		}
		list = append(list, m)
	}
	sortByStart(list)
	a.writeList(w, r, "sessions", SectionSessions, list)
}

func sortByStart(list []map[string]any) {
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && less(list[j], list[j-1]); j-- {
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
}

func less(x, y map[string]any) bool {
	xs, _ := x["startTime"].(string)
	ys, _ := y["startTime"].(string)
	if xs != ys {
		return xs < ys
	}
	xi, _ := x["id"].(string)
	yi, _ := y["id"].(string)
	return xi < yi
}

// broadcastText returns the message/alert of a request, validated.
func broadcastText(w http.ResponseWriter, req request) (msg, alert string, ok bool) {
	msg, _ = req.str("message")
	alert, _ = req.str("alert")
	if len(msg) > session.MaxAdminMessage || len(alert) > session.MaxAdminMessage {
		writeError(w, http.StatusBadRequest, "Message too long")
		return "", "", false
	}
	return msg, alert, true
}

func (a *API) broadcastAll(w http.ResponseWriter, r *http.Request) {
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	msg, alert, ok := broadcastText(w, req)
	if !ok {
		return
	}
	if msg != "" {
		_ = a.srv.Broadcast(msg, false)
	}
	if alert != "" {
		_ = a.srv.Broadcast(alert, true)
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

func (a *API) getSession(w http.ResponseWriter, r *http.Request) {
	if s := a.lookupSession(w, r); s != nil {
		writeJSON(w, http.StatusOK, a.fullSession(s))
	}
}

// Types of the session properties the admin may set (server.md §2.5).
var (
	sessionBoolProps = []string{"autotitle", "authOnly", "persistent", "preserveChat", "nsfm", "deputies",
		"idleOverride", "invites", "unlisted", "allowWeb", "closed"}
	sessionStringProps = []string{"title", "password", "opword", "founder"}
	sessionIntProps    = []string{"maxUserCount", "overrideSize"}
)

// updateSession applies settings and broadcasts message/alert. Every
// value is type-checked first: a wrong type answers 400 and nothing
// changes.
func (a *API) updateSession(w http.ResponseWriter, r *http.Request) {
	s := a.lookupSession(w, r)
	if s == nil {
		return
	}
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	msg, alert, ok := broadcastText(w, req)
	if !ok {
		return
	}
	props := map[string]json.RawMessage{}
	if !copyProps(w, req, props, sessionBoolProps, "a boolean", func(bool) bool { return true }) ||
		!copyProps(w, req, props, sessionStringProps, "a string", func(string) bool { return true }) ||
		!copyProps(w, req, props, sessionIntProps, "a non-negative integer", func(n int64) bool { return n >= 0 }) {
		return
	}
	if raw, ok := req["resetThreshold"]; ok {
		var n int64
		var str string
		if json.Unmarshal(raw, &n) != nil && json.Unmarshal(raw, &str) != nil {
			writeError(w, http.StatusBadRequest, "Invalid value for resetThreshold: expected bytes or a size")
			return
		}
		if str != "" {
			if _, err := store.ParseSize(str); err != nil {
				writeError(w, http.StatusBadRequest, "Invalid value for resetThreshold: "+err.Error())
				return
			}
		}
		props["resetThreshold"] = raw
	}
	delete(props, "founder") // fixed at creation in this server
	if len(props) > 0 {
		if _, err := s.Configure(props); err != nil {
			writeError(w, http.StatusNotFound, "Session not found")
			return
		}
	}
	if msg != "" {
		_ = s.Broadcast(msg, false)
	}
	if alert != "" {
		_ = s.Broadcast(alert, true)
	}
	writeJSON(w, http.StatusOK, a.fullSession(s))
}

func (a *API) terminateSession(w http.ResponseWriter, r *http.Request) {
	s := a.lookupSession(w, r)
	if s == nil {
		return
	}
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	quiet, _ := req.boolean("quiet")
	reason, _ := req.str("reason")
	s.Terminate(reason, quiet)
	a.mu.Lock()
	delete(a.chats, s.ID())
	a.mu.Unlock()
	writeOK(w)
}

// getListings: [{id, url}] of the session's finished listings.
func (a *API) getListings(w http.ResponseWriter, r *http.Request) {
	if s := a.lookupSession(w, r); s != nil {
		writeJSON(w, http.StatusOK, s.Listings())
	}
}

// addListing announces the session at a list server. The result is
// asynchronous (the session's users are told in chat), as drawpile-srv;
// so is a refusal by the announce whitelist.
func (a *API) addListing(w http.ResponseWriter, r *http.Request) {
	s := a.lookupSession(w, r)
	if s == nil {
		return
	}
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	u, _ := req.str("url")
	if u == "" {
		writeError(w, http.StatusBadRequest, "Missing url")
		return
	}
	if s.Desc().Unlisted {
		writeError(w, http.StatusBadRequest, "Can't list an unlisted session")
		return
	}
	switch err := s.Announce(u); {
	case err == nil:
		writeOK(w)
	case errors.Is(err, session.ErrListingUnlisted):
		writeError(w, http.StatusBadRequest, "Can't list an unlisted session")
	case errors.Is(err, session.ErrListingURL):
		writeError(w, http.StatusBadRequest, "Invalid API URL")
	case errors.Is(err, session.ErrListingUnsupported):
		writeError(w, http.StatusBadRequest, "Announcing to list servers is not supported by this server")
	case errors.Is(err, session.ErrSessionEnded):
		writeError(w, http.StatusNotFound, "Session not found")
	default:
		a.internalError(w, r, err)
	}
}

// deleteListing unlists one listing by its list server id.
func (a *API) deleteListing(w http.ResponseWriter, r *http.Request) {
	s := a.lookupSession(w, r)
	if s == nil {
		return
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "lid"), 10, 64)
	if err != nil || !s.Unlist(id) {
		writeError(w, http.StatusNotFound, "Listing not found")
		return
	}
	writeOK(w)
}

func (a *API) checkSessionPassword(w http.ResponseWriter, r *http.Request) {
	a.checkSecret(w, r, (*session.Session).CheckPassword)
}

func (a *API) checkSessionOpword(w http.ResponseWriter, r *http.Request) {
	a.checkSecret(w, r, (*session.Session).CheckOpword)
}

func (a *API) checkSecret(w http.ResponseWriter, r *http.Request, check func(*session.Session, string) bool) {
	s := a.lookupSession(w, r)
	if s == nil {
		return
	}
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	pw, _ := req.str("password")
	writeJSON(w, http.StatusOK, map[string]any{"status": check(s, pw)})
}

// inviteJSON is the invite description.
func inviteJSON(inv session.InviteInfo) map[string]any {
	uses := []map[string]any{}
	for _, u := range inv.Uses {
		uses = append(uses, map[string]any{"name": u})
	}
	return map[string]any{"secret": inv.Secret, "at": isoTime(inv.At), "maxUses": inv.MaxUses, "uses": uses,
		"creator": inv.Creator, "op": inv.Op, "trust": inv.Trust}
}

func (a *API) listInvites(w http.ResponseWriter, r *http.Request) {
	s := a.lookupSession(w, r)
	if s == nil {
		return
	}
	list := []map[string]any{}
	for _, inv := range s.Invites() {
		list = append(list, inviteJSON(inv))
	}
	writeJSON(w, http.StatusOK, map[string]any{"invites": list})
}

func (a *API) createInvite(w http.ResponseWriter, r *http.Request) {
	s := a.lookupSession(w, r)
	if s == nil {
		return
	}
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	uses := int64(1)
	if req.has("maxUses") {
		if uses, ok = req.integer("maxUses"); !ok || uses < 1 {
			writeError(w, http.StatusBadRequest, "maxUses must be a number ≥ 1")
			return
		}
	}
	trust, _ := req.boolean("trust")
	op, _ := req.boolean("op")
	inv, err := s.CreateInvite(int(min(uses, 50)), trust, op)
	switch {
	case errors.Is(err, session.ErrTooManyInvites):
		writeError(w, http.StatusBadRequest, "Too many invites")
	case err != nil:
		writeError(w, http.StatusNotFound, "Session not found")
	default:
		writeJSON(w, http.StatusOK, inviteJSON(inv))
	}
}

func (a *API) getInvite(w http.ResponseWriter, r *http.Request) {
	s := a.lookupSession(w, r)
	if s == nil {
		return
	}
	inv, ok := s.Invite(chi.URLParam(r, "secret"))
	if !ok {
		writeError(w, http.StatusNotFound, "Invite not found")
		return
	}
	writeJSON(w, http.StatusOK, inviteJSON(inv))
}

func (a *API) deleteInvite(w http.ResponseWriter, r *http.Request) {
	s := a.lookupSession(w, r)
	if s == nil {
		return
	}
	if err := s.RemoveInvite(chi.URLParam(r, "secret")); err != nil {
		writeError(w, http.StatusNotFound, "Invite not found")
		return
	}
	writeOK(w)
}

// getThumbnail answers {data, at, format} with an image of the session's
// canvas, rendered by the bridge's server-side canvas (drawpile-srv stores
// client-generated thumbnails instead; the answer has the same shape, plus
// format). The image is lossless WebP with ?format=webp or when the Accept
// header lists image/webp, PNG otherwise (?format=png forces PNG).
func (a *API) getThumbnail(w http.ResponseWriter, r *http.Request) {
	s := a.lookupSession(w, r)
	if s == nil {
		return
	}
	w.Header().Set("Vary", "Accept")
	format, ok := ThumbnailFormat(r.URL.Query().Get("format"), r.Header.Get("Accept"))
	if !ok {
		writeError(w, http.StatusBadRequest, "format must be png or webp")
		return
	}
	if a.opts.Thumbnail == nil {
		writeError(w, http.StatusNotFound, "No thumbnail")
		return
	}
	img, at, ok, err := a.opts.Thumbnail(r.Context(), s.ID(), format)
	switch {
	case err != nil:
		a.log.Error("render thumbnail", "session", s.ID(), "err", err)
		writeError(w, http.StatusInternalServerError, "Could not render the thumbnail")
	case !ok:
		writeError(w, http.StatusNotFound, "No thumbnail")
	default:
		writeJSON(w, http.StatusOK, map[string]any{"data": base64.StdEncoding.EncodeToString(img), "at": at.UTC().Format(time.RFC3339), "format": format})
	}
}

// ThumbnailFormat picks the format of a thumbnail request ("png" or
// "webp"): the ?format= value if given, else "webp" when the Accept header
// lists image/webp with a non-zero q (browsers' image requests do), else
// "png". ok is false for an unknown ?format=. The bridge's public
// thumbnail route uses it too.
func ThumbnailFormat(query, accept string) (format string, ok bool) {
	switch query {
	case "png", "webp":
		return query, true
	case "":
	default:
		return "png", false
	}
	for _, part := range strings.Split(accept, ",") {
		typ, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(typ), "image/webp") {
			continue
		}
		for _, p := range strings.Split(params, ";") {
			if k, v, _ := strings.Cut(strings.TrimSpace(p), "="); strings.EqualFold(k, "q") {
				if q, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && q <= 0 {
					return "png", true
				}
			}
		}
		return "webp", true
	}
	return "png", true
}

func (a *API) deleteThumbnail(w http.ResponseWriter, r *http.Request) {
	if s := a.lookupSession(w, r); s != nil {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "thumbnail": false, "generation": false})
	}
}

// copyProps copies the keys of req that are in keys into props after
// checking that each decodes as a T accepted by valid; otherwise it
// answers 400 naming the key and returns false.
func copyProps[T any](w http.ResponseWriter, req request, props map[string]json.RawMessage, keys []string, what string, valid func(T) bool) bool {
	for _, k := range keys {
		raw, ok := req[k]
		if !ok {
			continue
		}
		var v T
		if json.Unmarshal(raw, &v) != nil || !valid(v) {
			writeError(w, http.StatusBadRequest, "Invalid value for "+k+": expected "+what)
			return false
		}
		props[k] = raw
	}
	return true
}

// sessionUser resolves {uid} (numeric context id) within the session.
func (a *API) sessionUser(w http.ResponseWriter, r *http.Request) (*session.Session, session.UserInfo, bool) {
	s := a.lookupSession(w, r)
	if s == nil {
		return nil, session.UserInfo{}, false
	}
	id, err := strconv.ParseUint(chi.URLParam(r, "uid"), 10, 8)
	if err != nil {
		writeError(w, http.StatusNotFound, "User not found")
		return nil, session.UserInfo{}, false
	}
	u, ok := s.User(uint8(id))
	if !ok {
		writeError(w, http.StatusNotFound, "User not found")
		return nil, session.UserInfo{}, false
	}
	return s, u, true
}

func (a *API) getSessionUser(w http.ResponseWriter, r *http.Request) {
	if _, u, ok := a.sessionUser(w, r); ok {
		writeJSON(w, http.StatusOK, userJSON(u))
	}
}

func (a *API) updateSessionUser(w http.ResponseWriter, r *http.Request) {
	s, u, ok := a.sessionUser(w, r)
	if !ok {
		return
	}
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	msg, alert, ok := broadcastText(w, req)
	if !ok {
		return
	}
	op, hasOp := req.boolean("op")
	trusted, hasTrusted := req.boolean("trusted")
	if (req.has("op") && !hasOp) || (req.has("trusted") && !hasTrusted) {
		writeError(w, http.StatusBadRequest, "op and trusted must be booleans")
		return
	}
	var err error
	if msg != "" {
		err = errors.Join(err, s.MessageUser(u.ID, msg, false))
	}
	if alert != "" {
		err = errors.Join(err, s.MessageUser(u.ID, alert, true))
	}
	if hasOp {
		err = errors.Join(err, s.SetOp(u.ID, op))
	}
	if hasTrusted {
		err = errors.Join(err, s.SetTrusted(u.ID, trusted))
	}
	if err != nil {
		writeError(w, http.StatusNotFound, "User not found")
		return
	}
	u, ok = s.User(u.ID)
	if !ok {
		writeError(w, http.StatusNotFound, "User not found")
		return
	}
	writeJSON(w, http.StatusOK, userJSON(u))
}

// maxKickMessage is the longest kick message (bytes), as upstream.
const maxKickMessage = 100

func (a *API) kickSessionUser(w http.ResponseWriter, r *http.Request) {
	s, u, ok := a.sessionUser(w, r)
	if !ok {
		return
	}
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	msg, _ := req.str("message")
	if len(msg) > maxKickMessage {
		writeError(w, http.StatusBadRequest, "Message too long (at most 100 bytes)")
		return
	}
	force, err := s.KickUser(u.ID, msg)
	if err != nil {
		writeError(w, http.StatusNotFound, "User not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "force": force})
}

func (a *API) requestThumbnail(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := a.sessionUser(w, r); ok {
		writeError(w, http.StatusBadRequest, "Client does not support thumbnail generation")
	}
}

func (a *API) cancelThumbnail(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := a.sessionUser(w, r); ok {
		writeError(w, http.StatusNotFound, "No thumbnail generation in progress")
	}
}

// serverUserJSON describes any connection (/api/users).
func serverUserJSON(u session.UserInfo) map[string]any {
	m := userJSON(u)
	if u.Session != "" {
		m["session"] = u.Session
	} else {
		m["session"] = nil
		delete(m, "id")
	}
	return m
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	list := []map[string]any{}
	for _, c := range a.srv.Clients() {
		list = append(list, serverUserJSON(c.Info()))
	}
	a.writeList(w, r, "users", SectionSessions, list)
}

// getServerUser returns one connection. drawpile-srv returns an empty
// document here (server.md §10); we return the description.
func (a *API) getServerUser(w http.ResponseWriter, r *http.Request) {
	c := a.srv.ClientByUID(chi.URLParam(r, "uid"))
	if c == nil {
		writeError(w, http.StatusNotFound, "User not found")
		return
	}
	writeJSON(w, http.StatusOK, serverUserJSON(c.Info()))
}

func (a *API) kickServerUser(w http.ResponseWriter, r *http.Request) {
	c := a.srv.ClientByUID(chi.URLParam(r, "uid"))
	if c == nil {
		writeError(w, http.StatusNotFound, "User not found")
		return
	}
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	msg, _ := req.str("message")
	if len(msg) > maxKickMessage {
		writeError(w, http.StatusBadRequest, "Message too long (at most 100 bytes)")
		return
	}
	force := c.Kick(msg)
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "force": force})
}

// Admin chat (server.md §3.2 /api/sessions/:id/chat). Lines from the
// administrator are sent to the session as alerts and kept here; users'
// chat lines arrive through UserChat.

const (
	chatBufferLines    = 1024
	chatDefaultTimeout = 300 * time.Second
	chatMinTimeout     = 30 * time.Second
	chatMaxTimeout     = 900 * time.Second
)

type chatLine struct {
	ID   *uint8 `json:"i,omitempty"`
	Name string `json:"n,omitempty"`
	Text string `json:"m"`
}

// chatState is one session's admin chat; guarded by API.mu.
type chatState struct {
	lines   []chatLine
	base    int // offset of lines[0]
	timeout time.Duration
	touched time.Time
}

func (c *chatState) end() int { return c.base + len(c.lines) }

func (c *chatState) add(l chatLine) {
	c.lines = append(c.lines, l)
	if over := len(c.lines) - chatBufferLines; over > 0 {
		c.lines = append([]chatLine(nil), c.lines[over:]...)
		c.base += over
	}
}

// since returns the lines from offset on.
func (c *chatState) since(offset int) []chatLine {
	i := max(0, offset-c.base)
	if i > len(c.lines) {
		i = len(c.lines)
	}
	return append([]chatLine{}, c.lines[i:]...)
}

// activeChatLocked returns the session's connected chat (expired ones are
// dropped); a.mu is held.
func (a *API) activeChatLocked(id string) *chatState {
	c := a.chats[id]
	if c != nil && time.Since(c.touched) > c.timeout {
		delete(a.chats, id)
		return nil
	}
	return c
}

func (a *API) chatSummary(id string) any {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.activeChatLocked(id)
	if c == nil {
		return nil
	}
	return map[string]any{"offset": c.end(), "count": len(c.lines), "timeout": c.timeout.Milliseconds(),
		"remaining": (c.timeout - time.Since(c.touched)).Milliseconds()}
}

// UserChat adds a user's chat line to the session's admin chat, if an
// administrator is connected to it. The bridge calls it for every public
// chat message, outside session locks.
func (a *API) UserChat(sessionID string, userID uint8, name, text string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c := a.activeChatLocked(sessionID); c != nil {
		id := userID
		c.add(chatLine{ID: &id, Name: name, Text: text})
	}
}

func chatBody(c *chatState, offset int) map[string]any {
	return map[string]any{"offset": c.end(), "messages": c.since(offset)}
}

func (a *API) chatSay(s *session.Session, c *chatState, msg string) error {
	if err := s.Broadcast(msg, true); err != nil {
		return err
	}
	c.add(chatLine{Text: msg})
	a.st.Log(store.LogEntry{Time: time.Now(), Level: store.LevelInfo, Topic: store.TopicAdminChat, Session: s.ID(), Message: msg})
	return nil
}

func (a *API) chatConnect(w http.ResponseWriter, r *http.Request) {
	s := a.lookupSession(w, r)
	if s == nil {
		return
	}
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	msg, _ := req.str("message")
	if strings.TrimSpace(msg) == "" {
		writeError(w, http.StatusBadRequest, "Missing message")
		return
	}
	if len(msg) > session.MaxAdminMessage {
		writeError(w, http.StatusBadRequest, "Message too long")
		return
	}
	timeout := chatDefaultTimeout
	if req.has("timeout") {
		ms, ok := req.integer("timeout")
		if !ok || time.Duration(ms)*time.Millisecond < chatMinTimeout || time.Duration(ms)*time.Millisecond > chatMaxTimeout {
			writeError(w, http.StatusBadRequest, "timeout must be 30000 to 900000 milliseconds")
			return
		}
		timeout = time.Duration(ms) * time.Millisecond
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.activeChatLocked(s.ID()) != nil {
		writeError(w, http.StatusConflict, "Admin chat already connected")
		return
	}
	c := &chatState{timeout: timeout, touched: time.Now()}
	if err := a.chatSay(s, c, msg); err != nil {
		writeError(w, http.StatusNotFound, "Session not found")
		return
	}
	a.chats[s.ID()] = c
	writeJSON(w, http.StatusOK, chatBody(c, 0))
}

// chatOf returns the connected chat or answers 404.
func (a *API) chatOf(w http.ResponseWriter, s *session.Session) *chatState {
	c := a.activeChatLocked(s.ID())
	if c == nil {
		writeError(w, http.StatusNotFound, "Admin chat not connected")
		return nil
	}
	c.touched = time.Now()
	return c
}

func (a *API) chatSend(w http.ResponseWriter, r *http.Request) {
	s := a.lookupSession(w, r)
	if s == nil {
		return
	}
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	msg, _ := req.str("message")
	if len(msg) > session.MaxAdminMessage {
		writeError(w, http.StatusBadRequest, "Message too long")
		return
	}
	offset, _ := req.integer("offset")
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.chatOf(w, s)
	if c == nil {
		return
	}
	if strings.TrimSpace(msg) != "" {
		if err := a.chatSay(s, c, msg); err != nil {
			writeError(w, http.StatusNotFound, "Session not found")
			return
		}
	}
	writeJSON(w, http.StatusOK, chatBody(c, int(offset)))
}

func (a *API) chatPoll(w http.ResponseWriter, r *http.Request) {
	s := a.lookupSession(w, r)
	if s == nil {
		return
	}
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	offset, _ := req.integer("offset")
	a.mu.Lock()
	defer a.mu.Unlock()
	if c := a.chatOf(w, s); c != nil {
		writeJSON(w, http.StatusOK, chatBody(c, int(offset)))
	}
}

func (a *API) chatDisconnect(w http.ResponseWriter, r *http.Request) {
	s := a.lookupSession(w, r)
	if s == nil {
		return
	}
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	offset, _ := req.integer("offset")
	msg, _ := req.str("message")
	if len(msg) > session.MaxAdminMessage {
		writeError(w, http.StatusBadRequest, "Message too long")
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.chatOf(w, s)
	if c == nil {
		return
	}
	if strings.TrimSpace(msg) != "" {
		_ = a.chatSay(s, c, msg)
	}
	delete(a.chats, s.ID())
	writeJSON(w, http.StatusOK, chatBody(c, int(offset)))
}

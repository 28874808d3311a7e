package bridge

// The public session list of the web client's landing page:
// GET /api/sessions lists the sessions this bridge announces. Unlisted
// sessions (joinable only by room code or link) and sessions that have
// ended are never included. The answer is computed per request from the
// session server; it holds no state.

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"
)

// listedSession is one entry of GET /api/sessions.
type listedSession struct {
	ID          string `json:"id"`
	Code        string `json:"code"`
	Alias       string `json:"alias,omitempty"`
	Title       string `json:"title"`
	Users       int    `json:"users"`
	MaxUsers    int    `json:"maxUsers"`
	HasPassword bool   `json:"hasPassword"`
	Nsfm        bool   `json:"nsfm"`
	Protocol    string `json:"protocol"`
	AllowWeb    bool   `json:"allowWeb"`
}

// sessionList is the JSON of GET /api/sessions.
type sessionList struct {
	Sessions []listedSession `json:"sessions"`
}

// sessionsAPI mounts the public session list on r.
func (b *Bridge) sessionsAPI(r chi.Router) {
	r.Get("/api/sessions", b.serveSessions)
}

func (b *Bridge) serveSessions(w http.ResponseWriter, r *http.Request) {
	list := sessionList{Sessions: []listedSession{}}
	for _, s := range b.srv.Sessions() {
		if s.Ended() {
			continue
		}
		d := s.Desc()
		if d.Unlisted {
			continue
		}
		list.Sessions = append(list.Sessions, listedSession{
			ID: d.ID, Code: s.Code(), Alias: d.Alias, Title: d.Title,
			Users: d.UserCount, MaxUsers: d.MaxUserCount, HasPassword: d.HasPassword,
			Nsfm: d.Nsfm, Protocol: d.Protocol, AllowWeb: d.AllowWeb,
		})
	}
	// Busiest first, then by title, so the order is stable between polls.
	slices.SortFunc(list.Sessions, func(a, c listedSession) int {
		if n := cmp.Compare(c.Users, a.Users); n != 0 {
			return n
		}
		if n := strings.Compare(strings.ToLower(a.Title), strings.ToLower(c.Title)); n != 0 {
			return n
		}
		return strings.Compare(a.ID, c.ID)
	})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := json.NewEncoder(w).Encode(list); err != nil {
		b.logger.Debug("write session list", "err", err)
	}
}

package webui

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// MaxSessionList bounds the size of a session list the landing page
// accepts from the server (bytes of JSON).
const MaxSessionList = 1 << 20

// ErrSessionList is wrapped by every ParseSessionList failure.
var ErrSessionList = errors.New("invalid session list")

// ListedSession is one entry of the bridge's GET /api/sessions.
type ListedSession struct {
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

// ParseSessionList decodes GET /api/sessions. Entries without a usable
// room code cannot be joined from the page and are dropped.
func ParseSessionList(data []byte) ([]ListedSession, error) {
	if len(data) > MaxSessionList {
		return nil, fmt.Errorf("%w: %d bytes", ErrSessionList, len(data))
	}
	var l struct {
		Sessions []ListedSession `json:"sessions"`
	}
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSessionList, err)
	}
	out := l.Sessions[:0]
	for _, s := range l.Sessions {
		if c := RoomCode(s.Code); c != "" {
			s.Code = c
			out = append(out, s)
		}
	}
	return out, nil
}

// VisibleSessions returns the sessions the landing page shows: NSFM
// sessions only when showNSFM is set. The order is kept.
func VisibleSessions(list []ListedSession, showNSFM bool) []ListedSession {
	out := make([]ListedSession, 0, len(list))
	for _, s := range list {
		if s.Nsfm && !showNSFM {
			continue
		}
		out = append(out, s)
	}
	return out
}

// HiddenNSFM counts the NSFM sessions in list.
func HiddenNSFM(list []ListedSession) int {
	n := 0
	for _, s := range list {
		if s.Nsfm {
			n++
		}
	}
	return n
}

// DisplayTitle is the title shown for s: its title, else its alias, else
// its room code.
func (s ListedSession) DisplayTitle() string {
	switch {
	case s.Title != "":
		return s.Title
	case s.Alias != "":
		return s.Alias
	}
	return "Room " + s.Code
}

// UserCount is "3 / 10" (or "3" when the limit is unknown).
func (s ListedSession) UserCount() string {
	if s.MaxUsers <= 0 {
		return strconv.Itoa(s.Users)
	}
	return strconv.Itoa(s.Users) + " / " + strconv.Itoa(s.MaxUsers)
}

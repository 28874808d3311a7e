package webui

import (
	"encoding/json"
	"errors"
	"fmt"
)

// ErrSessionConf is wrapped by every SessionSettings.Apply failure.
var ErrSessionConf = errors.New("invalid sessionconf")

// SessionSettings are the session properties the operator's settings
// dialog edits, tracked from the server's sessionconf messages (full
// ones in the history and partial ones such as "muted").
type SessionSettings struct {
	Title        string
	MaxUsers     int
	HasPassword  bool
	NSFM         bool
	Persistent   bool
	PreserveChat bool
	AllowWeb     bool
	// Muted lists the muted users' context ids (the "muted" key).
	Muted []uint8
	// MutedChanged is set by Apply when the "muted" key was present.
	MutedChanged bool
}

// Apply updates s from one sessionconf "config" object. Unknown keys are
// ignored; a known key with the wrong JSON type is an error and leaves
// the rest applied.
func (s *SessionSettings) Apply(conf map[string]json.RawMessage) error {
	s.MutedChanged = false
	var errs []error
	get := func(key string, dst any) {
		raw, ok := conf[key]
		if !ok {
			return
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %v", ErrSessionConf, key, err))
		}
	}
	get("title", &s.Title)
	get("maxUserCount", &s.MaxUsers)
	get("hasPassword", &s.HasPassword)
	get("nsfm", &s.NSFM)
	get("persistent", &s.Persistent)
	get("preserveChat", &s.PreserveChat)
	get("allowWeb", &s.AllowWeb)
	if raw, ok := conf["muted"]; ok {
		var ids []int
		if err := json.Unmarshal(raw, &ids); err != nil {
			errs = append(errs, fmt.Errorf("%w: muted: %v", ErrSessionConf, err))
		} else {
			s.Muted = s.Muted[:0]
			for _, id := range ids {
				if id >= 1 && id <= 255 {
					s.Muted = append(s.Muted, uint8(id))
				}
			}
			s.MutedChanged = true
		}
	}
	return errors.Join(errs...)
}

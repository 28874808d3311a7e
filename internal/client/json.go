package client

import (
	"bytes"
	"encoding/json"
	"fmt"

	"drawbridge/protocol"
)

// This file holds the client's view of ServerCommand (type 0) JSON. The
// nested shapes and the encoding (Qt-style compact JSON with sorted keys)
// come from protocol/servercmd.go.

// Command is a client → server command built from Go values; it is encoded
// as protocol.Command: {"cmd":…,"args":[…],"kwargs":{…}}, args and kwargs
// omitted when empty (protocol.md §4.1).
type Command struct {
	Cmd    string         `json:"cmd"`
	Args   []any          `json:"args,omitempty"`
	Kwargs map[string]any `json:"kwargs,omitempty"`
}

// Reply is a server → client ServerCommand object. It has the fields the
// client interprets; Raw keeps the whole JSON text for everything else.
type Reply struct {
	Type    string `json:"type"`
	Message string `json:"message,omitempty"`
	Code    string `json:"code,omitempty"`
	State   string `json:"state,omitempty"`

	// greeting (type login, first message)
	Version          int                    `json:"version,omitempty"`
	Flags            []string               `json:"flags,omitempty"`
	Methods          map[string]LoginMethod `json:"methods,omitempty"`
	Info             string                 `json:"info,omitempty"`
	Rules            string                 `json:"rules,omitempty"`
	PreferWebSockets bool                   `json:"preferWebSockets,omitempty"`

	// session list (type login)
	Title    string        `json:"title,omitempty"`
	Sessions []SessionInfo `json:"sessions,omitempty"`
	Remove   []string      `json:"remove,omitempty"`

	// results
	StartTLS bool         `json:"startTls,omitempty"`
	Cinfo    *CinfoResult `json:"cinfo,omitempty"`
	Lookup   string       `json:"lookup,omitempty"`
	Session  *SessionInfo `json:"session,omitempty"`
	Ident    string       `json:"ident,omitempty"`
	Guest    bool         `json:"guest,omitempty"`
	Join     *JoinInfo    `json:"join,omitempty"`
	Intent   string       `json:"intent,omitempty"`
	Method   string       `json:"method,omitempty"`

	// needExtAuth result (protocol.md §4.7)
	ExtAuthURL      string `json:"extauthurl,omitempty"`
	Nonce           string `json:"nonce,omitempty"`
	Group           string `json:"group,omitempty"`
	AskAvatar       bool   `json:"avatar,omitempty"`
	ExtAuthFallback bool   `json:"extauthfallback,omitempty"`

	// session notices
	Count    int                        `json:"count,omitempty"` // catchup
	Key      int                        `json:"key,omitempty"`   // catchup, caughtup
	Hidx     string                     `json:"hidx,omitempty"`  // caughtup, sessionconf
	HidStar  string                     `json:"hid*,omitempty"`  // status
	Size     int64                      `json:"size,omitempty"`  // status, sizelimit
	MaxSize  int64                      `json:"maxSize,omitempty"`
	Config   map[string]json.RawMessage `json:"config,omitempty"` // sessionconf
	T        string                     `json:"T,omitempty"`      // translatable notice key
	P        map[string]any             `json:"P,omitempty"`      // notice parameters
	Reset    string                     `json:"reset,omitempty"`
	Secret   string                     `json:"secret,omitempty"` // invitecreated
	Query    bool                       `json:"query,omitempty"`  // autoreset
	Payload  string                     `json:"payload,omitempty"`
	Stream   string                     `json:"stream,omitempty"`
	Corr     string                     `json:"correlator,omitempty"`
	Cancel   bool                       `json:"cancel,omitempty"` // sprogress
	Password string                     `json:"password,omitempty"`

	// Raw is the complete JSON text of the message (a copy).
	Raw []byte `json:"-"`
}

// Shared JSON shapes (protocol/servercmd.go), aliased for convenience.
type (
	// LoginMethod is one entry of the greeting's "methods" object.
	LoginMethod = protocol.LoginMethod
	// CinfoResult is the "cinfo" object of the cinfo reply.
	CinfoResult = protocol.CInfoResult
	// SessionInfo is a session description from the session list or a
	// lookup result (protocol.md §4.8).
	SessionInfo = protocol.SessionDesc
	// JoinInfo is the "join" object of a host or join result; its Flags may
	// hold NOAUTORESET and SKIP, Skip is set for joins.
	JoinInfo = protocol.JoinInfo
)

// ParseReply decodes a server → client ServerCommand payload. It fails if
// the payload is not a JSON object or has no "type".
func ParseReply(payload []byte) (*Reply, error) {
	if len(bytes.TrimSpace(payload)) == 0 || bytes.TrimSpace(payload)[0] != '{' {
		return nil, &ProtocolError{Reason: "server command is not a JSON object"}
	}
	r := new(Reply)
	if err := json.Unmarshal(payload, r); err != nil {
		return nil, &ProtocolError{Reason: fmt.Sprintf("server command JSON: %v", err)}
	}
	if r.Type == "" {
		return nil, &ProtocolError{Reason: "server command without type"}
	}
	r.Raw = append([]byte(nil), payload...)
	return r, nil
}

// sessionconf keys that the server sends on their own, outside the history
// (protocol.md §5.8: partial sessionconf objects).
var partialConfKeys = map[string]bool{
	"banlist": true, "auth": true, "invitelist": true, "announcements": true, "muted": true,
}

// inHistory reports whether a ServerCommand reply is a history entry
// (sessionconf with the full property set, caughtup, sstart; §5.2).
func (r *Reply) inHistory() bool {
	switch r.Type {
	case "caughtup", "sstart":
		return true
	case "sessionconf":
		for k := range r.Config {
			if !partialConfKeys[k] {
				return true
			}
		}
	}
	return false
}

func hasString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

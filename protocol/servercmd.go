package protocol

// ServerCommand (type 0) JSON envelopes, protocol.md §4.1 and §5.8.
//
// Message flow of the login (§4.2), every message a ServerCommand with ctx 0:
//
//	S: Greeting                         {"type":"login","version":4,"flags":[…],"methods":{…}}
//	C: startTls → S: Result{StartTLS}   TCP with TLS only
//	C: cinfo    → S: Result{CInfo}
//	C: lookup   → S: Result{Lookup}
//	C: ident    → S: Result{State:"identOk"} + SessionList{"Welcome"}
//	S: SessionList{"New session"} / SessionsRemoved while the user decides
//	C: host|join→ S: Result{State:"host"|"join", Join} or Error{Code}
//
// After login, client commands (Command) are in-session commands (§5.8) and
// the server sends the notices below (CatchUp, CaughtUp, Status, SessionConf,
// Notice, LogEntry, ResetNotice, AutoReset, SStart, SProgress, …).
//
// Encoding: Drawpile (Qt) writes compact JSON with object keys sorted
// alphabetically and without HTML escaping; MarshalQt reproduces that, so
// the bytes match the recorded transcripts of drawpile-srv.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// Reply "type" values sent by the server (§4.1).
const (
	ReplyLogin          = "login"
	ReplyResult         = "result"
	ReplyError          = "error"
	ReplyMsg            = "msg"
	ReplyAlert          = "alert"
	ReplyLog            = "log"
	ReplySessionConf    = "sessionconf"
	ReplySizeLimit      = "sizelimit"
	ReplyStatus         = "status"
	ReplyReset          = "reset"
	ReplyAutoReset      = "autoreset"
	ReplyCatchUp        = "catchup"
	ReplyCaughtUp       = "caughtup"
	ReplyBanImpEx       = "banimpex"
	ReplyOutOfSpace     = "outofspace"
	ReplySStart         = "sstart"
	ReplySProgress      = "sprogress"
	ReplyPasswordChange = "passwordchange"
	ReplyInviteCreated  = "invitecreated"
	ReplyThumbnail      = "thumbnail"
)

// CommandError reports a ServerCommand payload that is not a valid command
// envelope (not JSON, not an object, no "cmd" string).
type CommandError struct {
	Reason string
}

func (e *CommandError) Error() string { return "protocol: bad server command: " + e.Reason }

// Command is a client→server command: {"cmd":…,"args":[…],"kwargs":{…}}.
// Args and Kwargs are kept raw; the accessors below convert single values.
type Command struct {
	Args   []json.RawMessage          `json:"args,omitempty"`
	Cmd    string                     `json:"cmd"`
	Kwargs map[string]json.RawMessage `json:"kwargs,omitempty"`
}

// ParseCommand decodes a ServerCommand payload sent by a client. The payload
// must be a JSON object with a string "cmd"; "args" must be an array and
// "kwargs" an object when present.
func ParseCommand(payload []byte) (Command, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil {
		return Command{}, &CommandError{Reason: "not a JSON object"}
	}
	if raw == nil {
		return Command{}, &CommandError{Reason: "not a JSON object"}
	}
	var c Command
	if err := json.Unmarshal(raw["cmd"], &c.Cmd); err != nil || raw["cmd"] == nil {
		return Command{}, &CommandError{Reason: `missing or non-string "cmd"`}
	}
	if a, ok := raw["args"]; ok && !isNull(a) {
		if err := json.Unmarshal(a, &c.Args); err != nil {
			return Command{}, &CommandError{Reason: `"args" is not an array`}
		}
	}
	if k, ok := raw["kwargs"]; ok && !isNull(k) {
		if err := json.Unmarshal(k, &c.Kwargs); err != nil {
			return Command{}, &CommandError{Reason: `"kwargs" is not an object`}
		}
	}
	return c, nil
}

func isNull(r json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(r), []byte("null")) }

// NewCommand builds a command from Go values (encoded with encoding/json).
func NewCommand(cmd string, args []any, kwargs map[string]any) (Command, error) {
	c := Command{Cmd: cmd}
	for _, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			return Command{}, fmt.Errorf("protocol: encode %s arg: %w", cmd, err)
		}
		c.Args = append(c.Args, b)
	}
	if len(kwargs) > 0 {
		c.Kwargs = make(map[string]json.RawMessage, len(kwargs))
		for k, v := range kwargs {
			b, err := json.Marshal(v)
			if err != nil {
				return Command{}, fmt.Errorf("protocol: encode %s kwarg %s: %w", cmd, k, err)
			}
			c.Kwargs[k] = b
		}
	}
	return c, nil
}

// Marshal encodes the command as Qt compact JSON.
func (c Command) Marshal() ([]byte, error) { return MarshalQt(c) }

// Frame encodes the command as a ServerCommand frame with ctx 0.
func (c Command) Frame() (Frame, error) { return JSONFrame(c) }

// NArgs returns the number of positional arguments.
func (c Command) NArgs() int { return len(c.Args) }

// StringArg returns positional argument i if it is a JSON string.
func (c Command) StringArg(i int) (string, bool) {
	if i < 0 || i >= len(c.Args) {
		return "", false
	}
	return rawString(c.Args[i])
}

// IntArg returns positional argument i if it is an integral JSON number.
func (c Command) IntArg(i int) (int64, bool) {
	if i < 0 || i >= len(c.Args) {
		return 0, false
	}
	return rawInt(c.Args[i])
}

// BoolArg returns positional argument i if it is a JSON boolean.
func (c Command) BoolArg(i int) (bool, bool) {
	if i < 0 || i >= len(c.Args) {
		return false, false
	}
	return rawBool(c.Args[i])
}

// Has reports whether keyword argument key is present (even if null).
func (c Command) Has(key string) bool { _, ok := c.Kwargs[key]; return ok }

// KwString returns keyword argument key if it is a JSON string.
func (c Command) KwString(key string) (string, bool) { return rawString(c.Kwargs[key]) }

// KwBool returns keyword argument key if it is a JSON boolean.
func (c Command) KwBool(key string) (bool, bool) { return rawBool(c.Kwargs[key]) }

// KwInt returns keyword argument key if it is an integral JSON number.
func (c Command) KwInt(key string) (int64, bool) { return rawInt(c.Kwargs[key]) }

// KwFloat returns keyword argument key if it is a JSON number.
func (c Command) KwFloat(key string) (float64, bool) {
	r := c.Kwargs[key]
	if r == nil {
		return 0, false
	}
	var f float64
	if err := json.Unmarshal(r, &f); err != nil {
		return 0, false
	}
	return f, true
}

func rawString(r json.RawMessage) (string, bool) {
	if len(r) == 0 || r[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(r, &s); err != nil {
		return "", false
	}
	return s, true
}

func rawBool(r json.RawMessage) (bool, bool) {
	switch string(bytes.TrimSpace(r)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

func rawInt(r json.RawMessage) (int64, bool) {
	if len(r) == 0 {
		return 0, false
	}
	var f float64
	if err := json.Unmarshal(r, &f); err != nil {
		return 0, false
	}
	if f != math.Trunc(f) || f < math.MinInt64 || f > math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}

// MarshalQt encodes v as Qt's QJsonDocument::Compact would: no whitespace,
// object keys sorted (at every depth), no HTML escaping.
func MarshalQt(v any) ([]byte, error) {
	b, err := marshalNoEscape(v)
	if err != nil {
		return nil, fmt.Errorf("protocol: encode json: %w", err)
	}
	// Round-trip through generic values: encoding/json writes map keys
	// sorted, so this sorts struct fields and nested raw objects alike.
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var g any
	if err := dec.Decode(&g); err != nil {
		return nil, fmt.Errorf("protocol: encode json: %w", err)
	}
	return marshalNoEscape(g)
}

func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// ErrJSONTooLarge is returned by JSONFrame when the encoded JSON does not fit
// into one message.
var ErrJSONTooLarge = errors.New("protocol: server command exceeds the maximum payload")

// JSONFrame encodes v with MarshalQt into a ServerCommand frame (ctx 0).
func JSONFrame(v any) (Frame, error) {
	b, err := MarshalQt(v)
	if err != nil {
		return nil, err
	}
	if len(b) > MaxPayload {
		return nil, ErrJSONTooLarge
	}
	return NewFrame(serverCommandType, 0, b)
}

// serverCommandType is the message type of ServerCommand (JSON) messages.
const serverCommandType Type = 0

// Reply is a generic view of any server→client JSON message, for clients:
// the fields every reply kind may carry plus the raw object. Decode the
// payload into one of the typed structs below for the rest.
type Reply struct {
	Type    string
	Message string
	Code    string // error code (login errors only)
	State   string // result state: identOk, needPassword, host, join, …
	Raw     map[string]json.RawMessage
}

// ParseReply decodes a server→client ServerCommand payload.
func ParseReply(payload []byte) (Reply, error) {
	var r Reply
	if err := json.Unmarshal(payload, &r.Raw); err != nil || r.Raw == nil {
		return Reply{}, &CommandError{Reason: "reply is not a JSON object"}
	}
	var ok bool
	if r.Type, ok = rawString(r.Raw["type"]); !ok {
		return Reply{}, &CommandError{Reason: `reply has no string "type"`}
	}
	r.Message, _ = rawString(r.Raw["message"])
	r.Code, _ = rawString(r.Raw["code"])
	r.State, _ = rawString(r.Raw["state"])
	return r, nil
}

// Decode unmarshals the whole reply into v (one of the typed replies).
func (r Reply) Decode(v any) error {
	b, err := json.Marshal(r.Raw)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// LoginMethod lists the actions ("join", "host") a login method allows.
type LoginMethod struct {
	Actions []string `json:"actions"`
	URL     string   `json:"url,omitempty"`
}

// Greeting is the server's first message (§4.3), type "login".
type Greeting struct {
	Flags            []string               `json:"flags"`
	Info             string                 `json:"info,omitempty"`
	Message          string                 `json:"message"`
	Methods          map[string]LoginMethod `json:"methods"`
	PreferWebSockets bool                   `json:"preferWebSockets,omitempty"`
	Rules            string                 `json:"rules,omitempty"`
	Type             string                 `json:"type"`
	Version          int                    `json:"version"`
}

// Greeting flags (§4.3), in the order the server lists them.
const (
	FlagMulti     = "MULTI"
	FlagPersist   = "PERSIST"
	FlagTLS       = "TLS"
	FlagSecure    = "SECURE"
	FlagNoGuest   = "NOGUEST"
	FlagReport    = "REPORT"
	FlagAvatar    = "AVATAR"
	FlagCBanImpEx = "CBANIMPEX"
	FlagMBanImpEx = "MBANIMPEX"
	FlagLookup    = "LOOKUP"
	FlagCInfo     = "CINFO"
)

// ServerVersion is the protocol server number the greeting advertises.
const ServerVersion = 4

// CInfoResult is the "cinfo" member of the cinfo result.
type CInfoResult struct {
	Browser bool `json:"browser"`
}

// JoinInfo is the "join" member of a host/join result (§4.9, §4.10).
type JoinInfo struct {
	AuthID   string   `json:"authId"`
	Flags    []string `json:"flags"`
	ID       string   `json:"id"`
	Skip     *bool    `json:"skip,omitempty"` // join only
	UniqueID string   `json:"uniqueId"`
	User     int      `json:"user"`
}

// Result is a successful login step, type "result". Exactly the members
// that belong to the step are set.
type Result struct {
	// AskAvatar (needExtAuth): the client should send its avatar to the
	// ext-auth server.
	AskAvatar       *bool        `json:"avatar,omitempty"`
	CInfo           *CInfoResult `json:"cinfo,omitempty"`
	ExtAuthFallback bool         `json:"extauthfallback,omitempty"`
	ExtAuthURL      string       `json:"extauthurl,omitempty"` // needExtAuth
	Flags           []string     `json:"flags,omitempty"`
	Group           string       `json:"group,omitempty"` // needExtAuth: ext-auth user group
	Guest           *bool        `json:"guest,omitempty"`
	Ident           string       `json:"ident,omitempty"`
	Intent          string       `json:"intent,omitempty"`
	Join            *JoinInfo    `json:"join,omitempty"`
	Lookup          string       `json:"lookup,omitempty"`
	Message         string       `json:"message"`
	Method          string       `json:"method,omitempty"`
	Nonce           string       `json:"nonce,omitempty"` // needExtAuth: hex nonce the token must carry
	Session         *SessionDesc `json:"session,omitempty"`
	StartTLS        bool         `json:"startTls,omitempty"`
	State           string       `json:"state,omitempty"`
	Type            string       `json:"type"`
}

// ErrorReply is an error reply, type "error". Login errors carry a Code
// (§4.11); in-session command errors do not (§5.8).
type ErrorReply struct {
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
	Type    string `json:"type"`
}

// SessionDesc describes a session in the session list and in a join lookup
// result (§4.8).
type SessionDesc struct {
	ActiveDrawingUserCount int    `json:"activeDrawingUserCount"`
	Alias                  string `json:"alias,omitempty"`
	AllowWeb               bool   `json:"allowWeb"`
	AuthOnly               bool   `json:"authOnly"`
	Autotitle              bool   `json:"autotitle"`
	Closed                 bool   `json:"closed"`
	Founder                string `json:"founder"`
	HasPassword            bool   `json:"hasPassword"`
	ID                     string `json:"id"`
	IdleOverride           bool   `json:"idleOverride"`
	Invites                bool   `json:"invites"`
	MaxUserCount           int    `json:"maxUserCount"`
	Nsfm                   bool   `json:"nsfm"`
	Persistent             bool   `json:"persistent"`
	PreferWebSockets       bool   `json:"preferWebSockets,omitempty"`
	Protocol               string `json:"protocol"`
	Size                   int64  `json:"size"`
	StartTime              string `json:"startTime"`
	Title                  string `json:"title"`
	Unlisted               bool   `json:"unlisted"`
	UserCount              int    `json:"userCount"`
	// Viewers is the number of spectators (Drawbridge extension; omitted when 0).
	Viewers int `json:"viewers,omitempty"`
}

// SessionList is a "login" message carrying session descriptions: the
// "Welcome" list after ident and "New session" updates (§4.8). Sessions is
// always written, even when empty.
type SessionList struct {
	Message  string        `json:"message"`
	Sessions []SessionDesc `json:"sessions"`
	Title    string        `json:"title,omitempty"`
	Type     string        `json:"type"`
}

// SessionsRemoved is the "Session ended" list update.
type SessionsRemoved struct {
	Message string   `json:"message"`
	Remove  []string `json:"remove"`
	Type    string   `json:"type"`
}

// CatchUp announces how many history messages a joining client will
// replay; the client finishes when it sees the CaughtUp with the same key.
type CatchUp struct {
	Count int    `json:"count"`
	Key   int    `json:"key"`
	Type  string `json:"type"`
}

// CaughtUp is stored in the history at the join point of a client.
type CaughtUp struct {
	HIdx string `json:"hidx,omitempty"`
	Key  int    `json:"key"`
	Type string `json:"type"`
}

// Status reports the history size; HidStar ("hid*") is the history index of
// the point the status was sent at.
type Status struct {
	HidStar string `json:"hid*,omitempty"`
	Size    int64  `json:"size"`
	Type    string `json:"type"`
}

// SessionConfig is the full property set of a "sessionconf" notice (§5.8).
// Closed is always null.
type SessionConfig struct {
	AllowIdleOverride  bool   `json:"allowIdleOverride"`
	AllowWeb           bool   `json:"allowWeb"`
	AuthOnly           bool   `json:"authOnly"`
	Autotitle          bool   `json:"autotitle"`
	Closed             *bool  `json:"closed"`
	Deputies           bool   `json:"deputies"`
	ForceNsfm          bool   `json:"forceNsfm"`
	HasOpword          bool   `json:"hasOpword"`
	HasPassword        bool   `json:"hasPassword"`
	IdleOverride       bool   `json:"idleOverride"`
	IdleTimeLimit      int64  `json:"idleTimeLimit"`
	Invites            bool   `json:"invites"`
	MaxSize            int64  `json:"maxSize"`
	MaxUserCount       int    `json:"maxUserCount"`
	Nsfm               bool   `json:"nsfm"`
	Persistent         bool   `json:"persistent"`
	PreferWebSockets   bool   `json:"preferWebSockets"`
	PreserveChat       bool   `json:"preserveChat"`
	ResetThreshold     int64  `json:"resetThreshold"`
	ResetThresholdBase int64  `json:"resetThresholdBase"`
	ResetThresholdMin  int64  `json:"resetThresholdMin"`
	Title              string `json:"title"`
}

// SessionConf is a "sessionconf" notice. Config is a *SessionConfig for the
// full set (stored in the history, with HIdx while running) or a partial
// object such as {"banlist":[…]}, {"muted":[…]} sent directly.
type SessionConf struct {
	Config any    `json:"config"`
	HIdx   string `json:"hidx,omitempty"`
	Type   string `json:"type"`
}

// Notice is a chat-like notice, type "msg" or "alert". T and P make it
// translatable (§4.1); Reset is "prepare" on the classic reset alert.
type Notice struct {
	Message string         `json:"message"`
	P       map[string]any `json:"P,omitempty"`
	Reset   string         `json:"reset,omitempty"`
	T       string         `json:"T,omitempty"`
	Type    string         `json:"type"`
}

// LogEntry is a session log line pushed to session members, type "log".
// User is "<id>;<name>" when the entry concerns a user.
type LogEntry struct {
	Level     string `json:"level"`
	Message   string `json:"message"`
	Timestamp string `json:"timestamp"`
	Topic     string `json:"topic"`
	Type      string `json:"type"`
	User      string `json:"user,omitempty"`
}

// ResetNotice is a classic reset notice, type "reset" (§5.4). State is
// "init" (to the resetter) or "reset" (to everyone).
type ResetNotice struct {
	Message string `json:"message"`
	State   string `json:"state"`
	Type    string `json:"type"`
}

// AutoReset is an autoreset query or request (§5.5).
type AutoReset struct {
	Correlator string `json:"correlator,omitempty"`
	MaxSize    int64  `json:"maxSize"`
	Payload    string `json:"payload,omitempty"`
	Query      bool   `json:"query"`
	Stream     string `json:"stream,omitempty"`
	Type       string `json:"type"`
}

// SizeLimit is the legacy autoreset notice.
type SizeLimit struct {
	MaxSize int64  `json:"maxSize"`
	Size    int64  `json:"size"`
	Type    string `json:"type"`
}

// SStart marks the start of a streamed reset in the history.
type SStart struct {
	Correlator string `json:"correlator"`
	Type       string `json:"type"`
}

// SProgress acknowledges one ResetStream chunk; Cancel aborts the upload.
type SProgress struct {
	Cancel bool   `json:"cancel"`
	Type   string `json:"type"`
}

// InviteCreated answers invite-create.
type InviteCreated struct {
	Secret string `json:"secret"`
	Type   string `json:"type"`
}

// PasswordChange tells operators the new session password.
type PasswordChange struct {
	Password string `json:"password"`
	Type     string `json:"type"`
}

// OutOfSpace tells clients the session history is full.
type OutOfSpace struct {
	Type string `json:"type"`
}

// BanImpEx answers export-bans / import-bans (drawpile-srv's keys):
// Export carries the exported list ("p…" plain or "c…" encrypted),
// Imported/Total the result of an import, Error and T (its translation
// key) a failure.
type BanImpEx struct {
	Error    string `json:"error,omitempty"`
	Export   string `json:"export,omitempty"`
	Imported *int   `json:"imported,omitempty"`
	T        string `json:"T,omitempty"`
	Total    *int   `json:"total,omitempty"`
	Type     string `json:"type"`
}

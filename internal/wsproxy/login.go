package wsproxy

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"drawbridge/protocol"
)

// maxKnownSessions bounds the session descriptions a relay remembers
// during login (the upstream's list; one entry per id and alias).
const maxKnownSessions = 20000

// sessionDesc is the part of a session description (protocol.md §4.8) the
// web policy needs. AllowWeb is nil when the key is absent: the upstream
// has no WebSocket listener and so no web policy.
type sessionDesc struct {
	ID       string `json:"id"`
	Alias    string `json:"alias"`
	AllowWeb *bool  `json:"allowWeb"`
}

// loginWatch is what the relay learns during login. The down goroutine
// records upstream answers, the up goroutine checks browser commands
// against them; mu guards every field.
type loginWatch struct {
	mu        sync.Mutex
	sessions  map[string]*sessionDesc // by id and by alias
	invited   map[string]bool         // sessions (id and alias) looked up with an accepted invite secret
	lookupInv bool                    // the browser's lookup target carried ":secret"
	flags     map[string]bool         // user flags from identOk
	identOK   bool
}

func (l *loginWatch) init() {
	l.sessions = map[string]*sessionDesc{}
	l.invited = map[string]bool{}
	l.flags = map[string]bool{}
}

func (l *loginWatch) addSessionLocked(d *sessionDesc) {
	if len(l.sessions) >= maxKnownSessions || d.ID == "" {
		return
	}
	l.sessions[d.ID] = d
	if d.Alias != "" {
		l.sessions[d.Alias] = d
	}
}

func marshalRaw(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	return json.RawMessage(b), err
}

// fromUpstream inspects one login-phase ServerCommand from the upstream and
// returns the frame to forward (possibly rewritten), or an *Error when the
// browser rules refuse the login. Called by the down goroutine only.
func (r *relay) fromUpstream(f protocol.Frame) (protocol.Frame, *Error) {
	rep, err := protocol.ParseReply(f.Payload())
	if err != nil {
		return f, nil // not ours to judge: forward as is
	}
	l := &r.login
	l.mu.Lock()
	defer l.mu.Unlock()
	switch rep.Type {
	case protocol.ReplyLogin:
		var list struct {
			Sessions []*sessionDesc `json:"sessions"`
			Remove   []string       `json:"remove"`
		}
		if json.Unmarshal(f.Payload(), &list) == nil {
			for _, d := range list.Sessions {
				if d != nil {
					l.addSessionLocked(d)
				}
			}
			for _, id := range list.Remove {
				if d := l.sessions[id]; d != nil {
					delete(l.sessions, d.ID)
					delete(l.sessions, d.Alias)
				}
			}
		}
	case protocol.ReplyResult:
		changed := false
		if _, ok := rep.Raw["cinfo"]; ok {
			// The upstream sees a TCP app client; tell the browser how
			// the relay treats it (package doc).
			rep.Raw["cinfo"], _ = marshalRaw(protocol.CInfoResult{Browser: r.browser})
			changed = true
		}
		if lk, _ := rawString(rep.Raw["lookup"]); lk == "join" {
			var d sessionDesc
			if s, ok := rep.Raw["session"]; ok && json.Unmarshal(s, &d) == nil && d.ID != "" {
				l.addSessionLocked(&d)
				if l.lookupInv {
					l.invited[d.ID] = true
					if d.Alias != "" {
						l.invited[d.Alias] = true
					}
				}
			}
		}
		switch rep.State {
		case "identOk":
			var fl struct {
				Flags []string `json:"flags"`
			}
			_ = json.Unmarshal(f.Payload(), &fl)
			clear(l.flags)
			for _, x := range fl.Flags {
				l.flags[x] = true
			}
			l.identOK = true
			if r.browser && !l.flags["WEB"] {
				return nil, &Error{Code: CodeWebNotAllowed, Target: r.t,
					Message: "Browser logins are not allowed on this server."}
			}
		case "host", "join":
			r.loggedIn.Store(true)
			r.log.Info("proxy login complete", "state", rep.State)
		}
		if changed {
			out, err := protocol.JSONFrame(rep.Raw)
			if err == nil {
				return out, nil
			}
		}
	}
	return f, nil
}

// fromBrowser inspects one login-phase command from the browser and
// returns the frame to send upstream (possibly rewritten), or an *Error
// when the browser rules refuse it. Called by the up goroutine only.
func (r *relay) fromBrowser(f protocol.Frame) (protocol.Frame, *Error) {
	cmd, err := protocol.ParseCommand(f.Payload())
	if err != nil {
		return f, nil // the upstream answers malformed commands itself
	}
	l := &r.login
	switch cmd.Cmd {
	case "cinfo":
		if _, ok := cmd.StringArg(0); ok && cmd.NArgs() == 2 {
			// Servers may require the host name the client connected
			// to; the browser connected to the bridge.
			cmd.Args[0], _ = marshalRaw(strings.ToLower(r.t.Host))
			if out, err := cmd.Frame(); err == nil {
				return out, nil
			}
		}
	case "lookup":
		target, _ := cmd.StringArg(0)
		l.mu.Lock()
		l.lookupInv = strings.Contains(target, ":")
		l.mu.Unlock()
	case "host":
		if !r.browser {
			break
		}
		l.mu.Lock()
		ok := l.flags["WEBHOST"] || !l.identOK // before ident the upstream refuses by itself
		l.mu.Unlock()
		if !ok {
			return nil, &Error{Code: CodeUnauthorizedHost, Target: r.t,
				Message: "Hosting sessions from a web browser is not allowed on this server."}
		}
	case "join":
		if !r.browser {
			break
		}
		id, _ := cmd.StringArg(0)
		if i := strings.LastIndexByte(id, ':'); i >= 0 {
			id = id[:i]
		}
		if e := r.checkWebJoin(id); e != nil {
			return nil, e
		}
	}
	return f, nil
}

// checkWebJoin applies drawpile-srv's noWebJoin rule (protocol.md §4.10)
// to a browser joining session id.
func (r *relay) checkWebJoin(id string) *Error {
	l := &r.login
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.flags["MOD"] || l.invited[id] {
		return nil
	}
	d := l.sessions[id]
	switch {
	case d == nil:
		return &Error{Code: CodeNoWebJoin, Target: r.t,
			Message: fmt.Sprintf("The bridge cannot check whether session %q allows joining from the web (look the session up first).", clip(id, 64))}
	case d.AllowWeb == nil || *d.AllowWeb:
		return nil
	default:
		return &Error{Code: CodeNoWebJoin, Target: r.t,
			Message: "This session does not allow joining from the web."}
	}
}

func rawString(r json.RawMessage) (string, bool) {
	var s string
	if len(r) == 0 || r[0] != '"' || json.Unmarshal(r, &s) != nil {
		return "", false
	}
	return s, true
}

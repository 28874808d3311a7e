// Package links parses the ways people share a Drawpile session, so that
// the bridge and the browser client can turn any of them into a proxied
// join: drawpile:// URLs, drawpile.net invite links, web-client links of
// the shape /join?host=H[&port=P]&session=S (web.drawpile.net uses the same
// query), bare host[:port]/session, and operator room specs
// CODE=host[:port]/session.
//
// It owns syntax only: no DNS, no network, no allowlist (that is
// wsproxy's job). It imports nothing but the standard library's string and
// URL helpers, so the wasm client can link it. Formats: client.md §2.3,
// protocol.md §4.13.
package links

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// DefaultPort is Drawpile's TCP port.
const DefaultPort = 27750

// maxLink bounds the input length (a link is typed or pasted by a person).
const maxLink = 2048

// Link is a parsed session link.
//
// Invariant (for values returned by Parse): Host is lower case, without
// brackets, a valid host name or IP literal; Port is 1–65535; Session is
// 1–64 characters of [A-Za-z0-9-]; Invite is empty or 1–64 characters of
// [A-Za-z0-9-].
type Link struct {
	Host     string
	Port     int
	Session  string // session id or alias
	Invite   string // invite secret (after the last ':' of the session part)
	Password string // session password (URL fragment or p= parameter)
	// Web is the "web" flag of invite links: the inviter said browser joins
	// are allowed. PreferWebSockets is the "w" flag.
	Web, PreferWebSockets bool
}

// Error reports an unparseable link.
type Error struct {
	Input  string
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("links: cannot read %q: %s", clip(e.Input, 80), e.Reason)
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// SessionTarget returns the session part as the Drawpile client sends it
// in lookup: "id" or "id:invite".
func (l Link) SessionTarget() string {
	if l.Invite != "" {
		return l.Session + ":" + l.Invite
	}
	return l.Session
}

// HostPort returns host:port (IPv6 literals bracketed).
func (l Link) HostPort() string {
	h := l.Host
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	return h + ":" + strconv.Itoa(l.Port)
}

// JoinPath returns the bridge-relative join link, /join?host=…&port=…&
// session=…, with the password (if any) in the fragment, never in the query.
func (l Link) JoinPath() string {
	q := url.Values{}
	q.Set("host", l.Host)
	if l.Port != DefaultPort {
		q.Set("port", strconv.Itoa(l.Port))
	}
	q.Set("session", l.SessionTarget())
	s := "/join?" + q.Encode()
	if l.Password != "" {
		s += "#" + url.PathEscape(l.Password)
	}
	return s
}

// DrawpileURL returns the drawpile:// form of the link.
func (l Link) DrawpileURL() string {
	u := url.URL{Scheme: "drawpile", Host: l.HostPort(), Path: "/" + l.SessionTarget()}
	if l.Port == DefaultPort {
		u.Host = strings.TrimSuffix(u.Host, ":"+strconv.Itoa(DefaultPort))
	}
	if l.Password != "" {
		u.RawQuery = "p=" + url.QueryEscape(l.Password)
	}
	return u.String()
}

// Parse reads any supported link form.
func Parse(s string) (Link, error) {
	in := s
	s = strings.TrimSpace(s)
	if s == "" {
		return Link{}, &Error{in, "empty"}
	}
	if len(s) > maxLink {
		return Link{}, &Error{in, "too long"}
	}
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "drawpile://"):
		return parseDrawpileURL(in, s)
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		return parseWebURL(in, s)
	case strings.Contains(s, "://"):
		return Link{}, &Error{in, "unsupported URL scheme"}
	}
	// host[:port]/session
	i := strings.IndexByte(s, '/')
	if i < 0 {
		return Link{}, &Error{in, "expected host[:port]/session"}
	}
	return build(in, s[:i], strings.Trim(s[i+1:], "/"), "")
}

func parseDrawpileURL(in, s string) (Link, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Link{}, &Error{in, "not a valid URL"}
	}
	q := u.Query()
	// u.User (a user name to prefill) is ignored.
	l, err := build(in, u.Host, strings.Trim(u.Path, "/"), q.Get("p"))
	if err != nil {
		return Link{}, err
	}
	_, l.PreferWebSockets = q["w"]
	return l, nil
}

func parseWebURL(in, s string) (Link, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Link{}, &Error{in, "not a valid URL"}
	}
	q := u.Query()
	password, _ := url.PathUnescape(u.Fragment)
	// drawpile.net invite pages: /invites/HOST[:PORT]/SESSION[:SECRET]?v1&w&web&nsfm#PASSWORD
	if rest, ok := strings.CutPrefix(u.EscapedPath(), "/invites/"); ok {
		rest, _ = url.PathUnescape(strings.Trim(rest, "/"))
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			return Link{}, &Error{in, "invite link without a session"}
		}
		l, err := build(in, rest[:i], strings.Trim(rest[i+1:], "/"), password)
		if err != nil {
			return Link{}, err
		}
		_, l.Web = q["web"]
		_, l.PreferWebSockets = q["w"]
		return l, nil
	}
	// Web-client links: ?host=H[&port=P]&session=S#PASSWORD (web.drawpile.net
	// and our own /join).
	host := q.Get("host")
	if host == "" {
		return Link{}, &Error{in, "not a Drawpile session link (no host parameter)"}
	}
	switch strings.ToLower(host) {
	case "drawpile.net", "web.drawpile.net", "www.drawpile.net":
		return Link{}, &Error{in, "invalid session link"} // as Drawpile's own loader says
	}
	if p := q.Get("port"); p != "" {
		if strings.ContainsAny(host, "[]") || strings.Count(host, ":") > 1 {
			host = "[" + strings.Trim(host, "[]") + "]"
		}
		host += ":" + p
	}
	l, err := build(in, host, q.Get("session"), password)
	if err != nil {
		return Link{}, err
	}
	l.Web = true
	return l, nil
}

// build validates and assembles the parts.
func build(in, hostport, session, password string) (Link, error) {
	host, port, err := ParseHostPort(hostport)
	if err != nil {
		return Link{}, &Error{in, err.Error()}
	}
	l := Link{Host: host, Port: port, Password: password}
	if i := strings.LastIndexByte(session, ':'); i >= 0 {
		session, l.Invite = session[:i], session[i+1:]
		if !validID(l.Invite) {
			return Link{}, &Error{in, "invalid invite code"}
		}
	}
	if !validID(session) {
		return Link{}, &Error{in, "missing or invalid session id"}
	}
	l.Session = session
	return l, nil
}

// validID: 1–64 characters of [A-Za-z0-9-] (the client's auto-join rule).
func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ParseHostPort parses "host", "host:port", "[v6]" or "[v6]:port"; the
// port defaults to DefaultPort. The host is lower-cased and checked for
// DNS syntax (letters, digits, '-', '_', '.'; labels ≤ 63, total ≤ 253) or
// parsed as an IP literal; it is never resolved.
func ParseHostPort(s string) (host string, port int, err error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", 0, fmt.Errorf("empty host")
	case len(s) > 300:
		return "", 0, fmt.Errorf("host too long")
	}
	host, portStr := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", 0, fmt.Errorf("unclosed '['")
		}
		host = s[1:end]
		if rest := s[end+1:]; rest != "" {
			if rest[0] != ':' || len(rest) == 1 {
				return "", 0, fmt.Errorf("bad port after ']'")
			}
			portStr = rest[1:]
		}
		if a, err := netip.ParseAddr(host); err != nil || !a.Is6() {
			return "", 0, fmt.Errorf("not an IPv6 address in brackets")
		}
	case strings.Count(s, ":") == 1:
		i := strings.IndexByte(s, ':')
		host, portStr = s[:i], s[i+1:]
		if portStr == "" {
			return "", 0, fmt.Errorf("empty port")
		}
	case strings.Count(s, ":") > 1:
		if _, err := netip.ParseAddr(s); err != nil {
			return "", 0, fmt.Errorf("IPv6 addresses must be written in brackets")
		}
	}
	port = DefaultPort
	if portStr != "" {
		p, err := strconv.Atoi(portStr)
		if err != nil || p < 1 || p > 65535 || portStr[0] == '+' {
			return "", 0, fmt.Errorf("port must be 1-65535")
		}
		port = p
	}
	host = strings.ToLower(host)
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return "", 0, fmt.Errorf("IPv6 zones are not supported")
		}
		return a.String(), port, nil
	}
	if !validHostName(host) {
		return "", 0, fmt.Errorf("not a valid host name")
	}
	return strings.TrimSuffix(host, "."), port, nil
}

func validHostName(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// Room is an operator-defined short code that stands for an upstream
// session.
type Room struct {
	Code string // 1–32 characters of [A-Za-z0-9-], compared case-insensitively
	Link Link
}

// ParseRoom parses CODE=host[:port]/session[:invite] (the --proxy-room
// flag). The link part may be any form Parse accepts.
func ParseRoom(spec string) (Room, error) {
	code, link, ok := strings.Cut(strings.TrimSpace(spec), "=")
	if !ok {
		return Room{}, &Error{spec, "expected CODE=host[:port]/session"}
	}
	code = strings.TrimSpace(code)
	if !validID(code) || len(code) > 32 {
		return Room{}, &Error{spec, "room code must be 1-32 letters, digits or '-'"}
	}
	l, err := Parse(link)
	if err != nil {
		return Room{}, err
	}
	return Room{Code: code, Link: l}, nil
}

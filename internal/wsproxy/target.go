package wsproxy

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"drawbridge/internal/wsproxy/links"
)

// DefaultPort is Drawpile's TCP port, used when a target names none.
const DefaultPort = links.DefaultPort

// Target is an upstream Drawpile server.
//
// Invariant (for values from ParseTarget): Host is lower case, non-empty,
// without brackets (an IPv6 literal is stored bare) and Port is 1–65535.
type Target struct {
	Host string
	Port int
}

// Addr returns host:port for dialing (IPv6 literals bracketed).
func (t Target) Addr() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) }

// String is the same as Addr.
func (t Target) String() string { return t.Addr() }

// TargetError reports a malformed host[:port].
type TargetError struct {
	Input  string
	Reason string
}

func (e *TargetError) Error() string {
	return fmt.Sprintf("wsproxy: invalid upstream %q: %s", e.Input, e.Reason)
}

// ParseTarget parses "host", "host:port", "[v6]" or "[v6]:port"; the port
// defaults to DefaultPort. Host names are checked for DNS syntax, never
// resolved (links.ParseHostPort).
func ParseTarget(s string) (Target, error) {
	host, port, err := links.ParseHostPort(s)
	if err != nil {
		return Target{}, &TargetError{Input: s, Reason: err.Error()}
	}
	return Target{Host: host, Port: port}, nil
}

// Allowlist is the set of upstreams the proxy may connect to. The zero
// value allows nothing. An entry without a port allows only DefaultPort.
// Immutable after construction; safe for concurrent use.
type Allowlist struct {
	set map[Target]struct{}
}

// NewAllowlist parses host[:port] entries.
func NewAllowlist(entries []string) (Allowlist, error) {
	a := Allowlist{set: make(map[Target]struct{}, len(entries))}
	for _, e := range entries {
		t, err := ParseTarget(e)
		if err != nil {
			return Allowlist{}, err
		}
		a.set[t] = struct{}{}
	}
	return a, nil
}

// Allows reports whether t is on the list (exact, case-insensitive host
// match; no wildcards, no DNS resolution).
func (a Allowlist) Allows(t Target) bool {
	_, ok := a.set[Target{Host: strings.ToLower(t.Host), Port: t.Port}]
	return ok
}

// Len returns the number of entries.
func (a Allowlist) Len() int { return len(a.set) }

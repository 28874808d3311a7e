package loadgen

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"
)

// Config describes one load run. The zero value of each field is its
// documented default; Server and Session are required.
type Config struct {
	// Server is tcp://HOST[:PORT] (default port 27750), ws://HOST:PORT/PATH
	// or wss://…; a bare HOST:PORT means TCP.
	Server string
	// Session is the session id or alias to join, or the alias to host
	// with HostSession. With Sessions > 1 the sessions are
	// "<Session>-1" … "<Session>-N".
	Session string
	// Sessions is the number of sessions (default 1). Drawers and
	// Watchers are per session.
	Sessions int
	// HostSession makes the first bot of each session host it (alias =
	// the session name) with a small initial canvas; otherwise every bot
	// joins an existing session.
	HostSession bool
	// Password is the session password for joins (and hosts) ("" = none).
	Password string
	// Drawers and Watchers are the bots per session.
	Drawers, Watchers int
	// Duration is the drawing phase (default 10 s).
	Duration time.Duration
	// Rate is the target messages per second per drawer (default 20).
	Rate float64
	// Seed makes the drawing deterministic: the same seed and bot index
	// give the same messages (default 1).
	Seed uint64
	// ServerPID, if > 0, is a local server process whose CPU time and
	// peak RSS are read from /proc during the drawing phase.
	ServerPID int
	// Catchup measures only the catch-up: bots join, catch up and leave;
	// there is no drawing phase.
	Catchup bool
	// FillBytes, if > 0, makes each session's host upload this many bytes
	// of drawing (TCP-framed) before the other bots join, to build a
	// large history for Catchup. Needs HostSession.
	FillBytes int64
	// NamePrefix starts every bot's user name (default "bot"); names are
	// NamePrefix + session number + d|w + index. Two runs on one session
	// need different prefixes.
	NamePrefix string
	// Origin, for WebSocket servers, is sent as the Origin header, which
	// makes the server treat the bots as browsers.
	Origin string
	// LoginConcurrency bounds simultaneous logins (default 32).
	LoginConcurrency int
	// ConnectTimeout bounds the whole connect phase: logins and catch-up
	// of every bot (default 2 min).
	ConnectTimeout time.Duration
	// DrainTimeout bounds the wait, after the drawing phase, for every
	// receiver to get every message that was sent (default 15 s).
	DrainTimeout time.Duration
	// Logger receives lifecycle logs (nil: discard).
	Logger *slog.Logger
}

// Limits of a run.
const (
	MaxBotsPerSession = 253 // user ids 1..254, minus one for a human observer
	maxBots           = 20000
)

// ConfigError reports an invalid Config field.
type ConfigError struct {
	Field  string
	Reason string
}

func (e *ConfigError) Error() string { return "loadgen: " + e.Field + ": " + e.Reason }

func (c Config) withDefaults() Config {
	if c.Sessions == 0 {
		c.Sessions = 1
	}
	if c.Duration == 0 {
		c.Duration = 10 * time.Second
	}
	if c.Rate == 0 {
		c.Rate = 20
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.NamePrefix == "" {
		c.NamePrefix = "bot"
	}
	if c.LoginConcurrency <= 0 {
		c.LoginConcurrency = 32
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 2 * time.Minute
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 15 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Server == "":
		return &ConfigError{"server", "missing"}
	case c.Session == "":
		return &ConfigError{"session", "missing"}
	case c.Sessions < 1:
		return &ConfigError{"sessions", "must be at least 1"}
	case c.Drawers < 0 || c.Watchers < 0:
		return &ConfigError{"drawers/watchers", "must not be negative"}
	case c.Drawers+c.Watchers == 0:
		return &ConfigError{"drawers/watchers", "no bots"}
	case c.Drawers+c.Watchers > MaxBotsPerSession:
		return &ConfigError{"drawers/watchers", fmt.Sprintf("%d bots in one session, at most %d", c.Drawers+c.Watchers, MaxBotsPerSession)}
	case c.Sessions*(c.Drawers+c.Watchers) > maxBots:
		return &ConfigError{"sessions", fmt.Sprintf("more than %d bots", maxBots)}
	case c.Rate < 0 || c.Rate > 10000:
		return &ConfigError{"rate", "must be in 0..10000 messages per second"}
	case c.Duration < 0:
		return &ConfigError{"duration", "must not be negative"}
	case c.FillBytes < 0 || c.FillBytes > 1<<30:
		return &ConfigError{"fill", "must be in 0..1 GiB"}
	case c.FillBytes > 0 && !c.HostSession:
		return &ConfigError{"fill", "needs host-session"}
	case len(c.NamePrefix) > 12:
		return &ConfigError{"name-prefix", "at most 12 characters (user names are limited to 22)"}
	}
	if _, err := parseServer(c.Server); err != nil {
		return err
	}
	return nil
}

// endpoint is a parsed Config.Server.
type endpoint struct {
	ws   bool
	addr string // TCP host:port
	url  string // WebSocket URL
	host string // host name for cinfo
}

func parseServer(s string) (endpoint, error) {
	if !strings.Contains(s, "://") {
		s = "tcp://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return endpoint{}, &ConfigError{"server", err.Error()}
	}
	if u.Hostname() == "" {
		return endpoint{}, &ConfigError{"server", "no host in " + s}
	}
	switch u.Scheme {
	case "tcp", "drawpile":
		port := u.Port()
		if port == "" {
			port = "27750"
		}
		return endpoint{addr: net.JoinHostPort(u.Hostname(), port), host: u.Hostname()}, nil
	case "ws", "wss":
		return endpoint{ws: true, url: u.String(), host: u.Hostname()}, nil
	}
	return endpoint{}, &ConfigError{"server", fmt.Sprintf("scheme %q: want tcp, ws or wss", u.Scheme)}
}

// errStopped marks a connection closed by the run itself.
var errStopped = errors.New("loadgen: stopped")

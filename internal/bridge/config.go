package bridge

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
)

// Config is the bridge's configuration, filled from command-line flags by
// ParseFlags. The zero value is not used directly: ParseFlags applies the
// documented defaults.
type Config struct {
	// Listen is the TCP address for Drawpile clients (host part); Port is
	// its port (default 27750).
	Listen string
	Port   int
	// HTTP is the address of the HTTP listener (web client, WebSocket).
	HTTP string
	// LogFormat is "text" or "json"; LogLevel is debug, info, warn or error.
	LogFormat string
	LogLevel  string
}

// ParseFlags parses the bridge's command line into a Config.
func ParseFlags(args []string, stderr io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("bridge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Listen, "listen", "", "address to listen on for Drawpile clients (default: all interfaces)")
	fs.IntVar(&c.Port, "port", 27750, "TCP port for Drawpile clients")
	fs.StringVar(&c.HTTP, "http", ":8080", "HTTP listener address for the web client and WebSocket connections")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return c, nil
}

// LogHandler returns the slog handler the configuration asks for.
func (c Config) LogHandler(w io.Writer) slog.Handler {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

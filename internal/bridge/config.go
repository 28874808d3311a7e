package bridge

import (
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"drawbridge/internal/session"
	"drawbridge/internal/store"
	"drawbridge/internal/systemd"
)

// Config is the bridge's configuration, filled from command-line flags by
// ParseFlags. Zero values mean the documented defaults.
type Config struct {
	// TCPAddr is host:port for Drawpile clients (--listen, --port);
	// default ":27750". Port 0 picks a free port.
	TCPAddr string
	// HTTPAddr is the HTTP listener (web client, WebSocket at /ws and
	// /drawpile-web/ws, room API); default ":8080".
	HTTPAddr string
	// TLSCert and TLSKey are PEM files (--ssl-cert, --ssl-key). When both
	// are set, TCP clients must STARTTLS (as drawpile-srv) and the HTTP
	// listener serves HTTPS/wss. Files are reloaded when they change.
	TLSCert, TLSKey string
	// AllowedOrigins are extra Origin host patterns (path.Match syntax,
	// e.g. "example.com", "*.example.com") that may open WebSocket
	// connections; the bridge's own origin is always allowed.
	AllowedOrigins []string
	// TrustedProxies are reverse proxies (--trusted-proxies, CIDRs) whose
	// X-Real-IP header gives the client address of WebSocket connections.
	// drawpile-srv trusts the header from anyone; we only trust these.
	TrustedProxies []netip.Prefix
	// LogFormat is "text" or "json"; LogLevel is debug, info, warn or error.
	LogFormat string
	LogLevel  string

	// ConfigFile and Database are drawpile-srv's --config (INI file, read
	// only, reloaded when it changes) and --database (SQLite). With neither,
	// an in-memory default configuration is used.
	ConfigFile, Database string
	// Store, when non-nil, is used instead of opening ConfigFile/Database;
	// the caller keeps ownership.
	Store *store.Store
	// Admin configures the admin API listener (--web-admin-*).
	Admin AdminConfig
	// ServerSideReset makes the bridge compact a session's history itself
	// from its live server-side canvas when the autoreset threshold is
	// reached, instead of asking a client to upload a snapshot
	// (--server-side-reset).
	ServerSideReset bool
	// ExtAuthURL is the external authentication server (--extauth); it is
	// used while the extauth setting is on.
	ExtAuthURL string
	// ReportURL receives abuse reports as JSON when the abusereport
	// setting is on (--report-url; the reporttoken setting authenticates).
	ReportURL string
	// LocalHost is this server's public host name (--local-host): cinfo
	// host names are checked against it (requireMatchingHost), and
	// /api/status reports it as ext_host (Admin.ExtHost defaults to it).
	LocalHost string
	// AnnouncePort is the port put into list server announcements when it
	// differs from the real TCP port, e.g. behind port forwarding
	// (--announce-port; 0 = the real port).
	AnnouncePort int
	// ListingVersion is the version in the listing client's User-Agent
	// "DrawpileListingClient/<version>"; "" = "drawbridge".
	ListingVersion string
	// CryptKey is the 32-byte secretbox key for encrypted session ban
	// export and import (--crypt-key, base64); nil = not configured.
	CryptKey []byte
	// GenerateCryptKey asks the caller to print a fresh key for
	// --crypt-key and exit (--generate-crypt-key); Run does not look at it.
	GenerateCryptKey bool
	// Limits bounds connections and password attempts per client address
	// (--max-connections-per-ip, --login-attempts, --login-attempt-interval).
	Limits LimitsConfig
	// Proxy configures proxy mode: browsers joining sessions on allowlisted
	// Drawpile servers (--upstream, --proxy-*; proxy.go).
	Proxy ProxyConfig

	// Listeners are sockets handed over by systemd socket activation, by
	// FileDescriptorName: "drawpile" replaces TCPAddr and "http" replaces
	// HTTPAddr. A single unnamed socket is the Drawpile listener.
	Listeners []systemd.Listener
	// Notifier receives READY=1 once every listener is up, STOPPING=1 at
	// shutdown and, every WatchdogInterval (0 = off), WATCHDOG=1 while the
	// session registry answers. nil = not running under systemd.
	Notifier         *systemd.Notifier
	WatchdogInterval time.Duration

	// Settings overrides the session settings taken from the store (nil =
	// the store's settings, live).
	Settings *session.Settings
	// Auth and Bans plug in account and ban storage (nil = guests only,
	// no bans).
	Auth session.Authenticator
	Bans session.BanChecker

	// Persist configures file-backed sessions, templates and recordings
	// (persist.go).
	Persist PersistConfig
}

// Defaults.
const (
	DefaultTCPPort  = 27750
	DefaultHTTPAddr = ":8080"
)

func (c Config) tcpAddr() string {
	if c.TCPAddr == "" {
		return ":" + strconv.Itoa(DefaultTCPPort)
	}
	return c.TCPAddr
}

func (c Config) httpAddr() string {
	if c.HTTPAddr == "" {
		return DefaultHTTPAddr
	}
	return c.HTTPAddr
}

// ParseFlags parses the bridge's command line into a Config.
func ParseFlags(args []string, stderr io.Writer) (Config, error) {
	var c Config
	var listen, origins, proxies string
	var port int
	fs := flag.NewFlagSet("bridge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&listen, "listen", "", "address to listen on for Drawpile clients (default: all interfaces)")
	fs.IntVar(&port, "port", DefaultTCPPort, "TCP port for Drawpile clients")
	fs.StringVar(&c.HTTPAddr, "http", DefaultHTTPAddr, "HTTP listener address for the web client and WebSocket connections")
	fs.StringVar(&c.TLSCert, "ssl-cert", "", "TLS certificate chain (PEM); with --ssl-key, TLS becomes mandatory on TCP and the HTTP listener serves HTTPS")
	fs.StringVar(&c.TLSKey, "ssl-key", "", "TLS private key (PEM)")
	fs.StringVar(&origins, "allowed-origins", "", "comma-separated extra Origin host patterns allowed to open WebSockets (default: only the bridge's own origin)")
	fs.StringVar(&proxies, "trusted-proxies", "", "comma-separated CIDRs of reverse proxies whose X-Real-IP header is trusted")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	RegisterPersistFlags(fs, &c.Persist)
	fs.StringVar(&c.ConfigFile, "config", "", "drawpile-srv configuration file (INI format; reloaded when it changes)")
	fs.StringVar(&c.Database, "database", "", "drawpile-srv configuration database (SQLite; created if missing)")
	registerAdminFlags(fs, &c.Admin)
	RegisterProxyFlags(fs, &c.Proxy)
	RegisterLimitsFlags(fs, &c.Limits)
	fs.BoolVar(&c.ServerSideReset, "server-side-reset", false, "compact session history on the server from its live canvas at the autoreset threshold, instead of asking a client")
	fs.StringVar(&c.ExtAuthURL, "extauth", "", "external authentication server URL (used while the extauth setting is on)")
	fs.StringVar(&c.ReportURL, "report-url", "", "URL that receives abuse reports (JSON) when the abusereport setting is on")
	fs.StringVar(&c.LocalHost, "local-host", "", "this server's public host name (requireMatchingHost; ext_host of /api/status)")
	fs.IntVar(&c.AnnouncePort, "announce-port", 0, "port put into list server announcements if different from the real port (port forwarding)")
	var cryptKey string
	fs.StringVar(&cryptKey, "crypt-key", "", "base64 32-byte key for encrypted session ban export and import (see --generate-crypt-key)")
	fs.BoolVar(&c.GenerateCryptKey, "generate-crypt-key", false, "print a fresh random key for --crypt-key and exit")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.ConfigFile != "" && c.Database != "" {
		return c, fmt.Errorf("--config and --database cannot be used together")
	}
	if err := c.Admin.Validate(); err != nil {
		return c, err
	}
	if err := c.Proxy.Validate(); err != nil {
		return c, err
	}
	if err := c.Limits.Validate(); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if cryptKey != "" {
		key, err := ParseCryptKey(cryptKey)
		if err != nil {
			return c, err
		}
		c.CryptKey = key
	}
	c.LocalHost = strings.TrimSpace(c.LocalHost)
	if c.Admin.ExtHost == "" {
		c.Admin.ExtHost = c.LocalHost
	}
	if port < 0 || port > 65535 {
		return c, fmt.Errorf("invalid --port %d", port)
	}
	if c.AnnouncePort < 0 || c.AnnouncePort > 65535 {
		return c, fmt.Errorf("invalid --announce-port %d", c.AnnouncePort)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return c, fmt.Errorf("--ssl-cert and --ssl-key must be given together")
	}
	c.TCPAddr = net.JoinHostPort(listen, strconv.Itoa(port))
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.AllowedOrigins = append(c.AllowedOrigins, o)
		}
	}
	for _, p := range strings.Split(proxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return c, fmt.Errorf("invalid --trusted-proxies entry %q", p)
			}
			pfx = netip.PrefixFrom(addr, addr.BitLen())
		}
		c.TrustedProxies = append(c.TrustedProxies, pfx.Masked())
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

// CryptKeySize is the length of a --crypt-key (libsodium secretbox key).
const CryptKeySize = 32

// ParseCryptKey decodes a --crypt-key value: standard base64 of exactly
// CryptKeySize bytes (drawpile-srv refuses to start with anything else).
func ParseCryptKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("--crypt-key: invalid base64: %w", err)
	}
	if len(key) != CryptKeySize {
		return nil, fmt.Errorf("--crypt-key: key must be %d bytes, got %d", CryptKeySize, len(key))
	}
	return key, nil
}

// GenerateCryptKey returns a fresh random key for --crypt-key, base64.
func GenerateCryptKey() (string, error) {
	key := make([]byte, CryptKeySize)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(key), nil
}

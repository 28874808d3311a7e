package wsproxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/coder/websocket"

	"drawbridge/protocol"
)

// Defaults for the zero values of Config.
const (
	DefaultDialTimeout      = 10 * time.Second
	DefaultHandshakeTimeout = 15 * time.Second
	DefaultWriteTimeout     = 30 * time.Second
	DefaultUpstreamTimeout  = 60 * time.Second
	DefaultPingInterval     = 15 * time.Second
)

// Config configures a Proxy. The zero value allows no upstream.
type Config struct {
	// Allowlist is the set of upstreams that may be reached (default none).
	Allowlist Allowlist
	// Pins keeps TLS pins (nil: a fresh in-memory store).
	Pins *PinStore
	// RootCAs verifies upstream certificates (nil: the system roots). A
	// certificate that verifies for the upstream's host name is accepted
	// even when its key differs from the pin, and re-pinned (a renewed
	// public certificate); any other certificate must match the pin.
	RootCAs *x509.CertPool
	// DialTimeout bounds the TCP connect; HandshakeTimeout the greeting and
	// STARTTLS; WriteTimeout every write to either side; UpstreamTimeout
	// how long the upstream may stay silent (the relay pings it every
	// PingInterval, and pings the browser with WebSocket pings as often).
	DialTimeout, HandshakeTimeout, WriteTimeout, UpstreamTimeout, PingInterval time.Duration
	// Dial opens the TCP connection (nil: net.Dialer). Tests use it to
	// observe connection attempts.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Logger receives lifecycle logs (nil: discard).
	Logger *slog.Logger
}

// Proxy relays browser WebSockets to allowlisted upstream servers. It is
// immutable after New and safe for concurrent use; each Serve call owns one
// relay.
type Proxy struct {
	cfg Config
	log *slog.Logger
}

// New returns a Proxy with the defaults filled in.
func New(cfg Config) *Proxy {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.DialTimeout, DefaultDialTimeout)
	def(&cfg.HandshakeTimeout, DefaultHandshakeTimeout)
	def(&cfg.WriteTimeout, DefaultWriteTimeout)
	def(&cfg.UpstreamTimeout, DefaultUpstreamTimeout)
	def(&cfg.PingInterval, DefaultPingInterval)
	if cfg.Pins == nil {
		cfg.Pins, _ = OpenPins("") // in memory: cannot fail
	}
	if cfg.Dial == nil {
		var d net.Dialer
		cfg.Dial = d.DialContext
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	return &Proxy{cfg: cfg, log: lg}
}

// Allows reports whether t is on the allowlist.
func (p *Proxy) Allows(t Target) bool { return p.cfg.Allowlist.Allows(t) }

// Pins returns the pin store.
func (p *Proxy) Pins() *PinStore { return p.cfg.Pins }

// ServeOptions describe the browser side of one relay.
type ServeOptions struct {
	// Browser is true when the WebSocket request carried an Origin header:
	// the relay then applies the upstream's browser rules (package doc).
	Browser bool
	// Client is the browser's address, for logs only.
	Client string
	// Writer, when set, sends every protocol message to the browser
	// instead of ws.Write: the relay then hands it whole batches (what the
	// upstream has already delivered, up to downBatchBytes), which it
	// should send in one socket write. ws must then carry no other data
	// messages; coder/websocket still sends its control frames (pings,
	// close) and reads.
	Writer FrameWriter
}

// FrameWriter sends protocol messages to the browser: each frame (TCP
// framing, protocol.Frame) as one binary WebSocket message, in order, the
// whole call bounded by ctx. It must be safe for concurrent use (the relay
// reports errors from any of its goroutines). After it fails nothing more
// needs to reach the browser; the relay closes the connection.
// internal/bridge implements it over the hijacked socket.
type FrameWriter interface {
	WriteFrames(ctx context.Context, frames []protocol.Frame) error
}

// wsWriter is the default FrameWriter: one ws.Write (a write and a flush)
// per message.
type wsWriter struct{ ws *websocket.Conn }

func (w wsWriter) WriteFrames(ctx context.Context, frames []protocol.Frame) error {
	for _, f := range frames {
		if err := w.ws.Write(ctx, websocket.MessageBinary, f.WS()); err != nil {
			return err
		}
	}
	return nil
}

// upstreamReadBuf is the size of the buffered reader on the upstream
// connection, and so roughly the most one batch to the browser holds when
// the upstream sends faster than the browser reads.
const upstreamReadBuf = 32 << 10

// Serve relays ws to the upstream t until either side ends, then closes
// both. ws must be a freshly accepted connection that nobody else reads.
// A refused or failed upstream is reported to the browser (error and
// Disconnect messages, then a close frame with the reason) and returned
// as *Error; nothing is dialled for an upstream that is not allowlisted.
// A clean end (the browser left, or the upstream sent a Disconnect) and a
// cancelled ctx (shutdown: the browser gets Disconnect(Shutdown)) return
// nil.
func (p *Proxy) Serve(ctx context.Context, ws *websocket.Conn, t Target, o ServeOptions) error {
	ws.SetReadLimit(protocol.WSHeaderLen + protocol.MaxPayload)
	if o.Writer == nil {
		o.Writer = wsWriter{ws}
	}
	lg := p.log.With("upstream", t.Addr(), "client", o.Client, "browser", o.Browser)
	if !p.Allows(t) {
		e := &Error{Code: CodeNotAllowed, Target: t,
			Message: fmt.Sprintf("This bridge does not connect to %s: the server is not on its list of allowed upstream servers.", t)}
		lg.Info("proxy refused: upstream not allowlisted")
		p.reject(ws, o.Writer, e)
		return e
	}
	conn, br, rd, greeting, err := p.connect(ctx, t, lg)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			e = &Error{Code: CodeUnreachable, Target: t, Message: fmt.Sprintf("Could not connect to the Drawpile server %s.", t), Err: err}
		}
		if ctx.Err() != nil {
			_ = ws.Close(websocket.StatusGoingAway, "bridge shutting down")
			return nil
		}
		lg.Info("proxy upstream failed", "code", e.Code, "err", e.Err)
		p.reject(ws, o.Writer, e)
		return e
	}
	r := newRelay(p, ws, conn, br, rd, t, o, lg)
	return r.run(ctx, greeting)
}

// reject tells the browser why it cannot be connected and closes ws.
func (p *Proxy) reject(ws *websocket.Conn, out FrameWriter, e *Error) {
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.WriteTimeout)
	defer cancel()
	_ = out.WriteFrames(ctx, []protocol.Frame{errorFrame(e.Code, e.Message), disconnectFrame(protocol.DisconnectError, e.Message)})
	_ = ws.Close(e.status(), clip(e.Message, 120))
}

// connect dials t, reads the greeting, performs STARTTLS with pinning when
// the greeting offers TLS, and returns the connection, the buffered reader
// on it, a frame reader on that and the greeting to give to the browser
// (TLS flags removed).
func (p *Proxy) connect(ctx context.Context, t Target, lg *slog.Logger) (net.Conn, *bufio.Reader, *protocol.Reader, protocol.Frame, error) {
	dctx, cancel := context.WithTimeout(ctx, p.cfg.DialTimeout)
	conn, err := p.cfg.Dial(dctx, "tcp", t.Addr())
	cancel()
	if err != nil {
		return nil, nil, nil, nil, &Error{Code: CodeUnreachable, Target: t,
			Message: fmt.Sprintf("Could not connect to the Drawpile server %s.", t), Err: err}
	}
	ok := false
	defer func() {
		if !ok {
			conn.Close()
		}
	}()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	_ = conn.SetDeadline(time.Now().Add(p.cfg.HandshakeTimeout))

	br := bufio.NewReaderSize(conn, upstreamReadBuf)
	rd := protocol.NewReader(br)
	f, err := rd.ReadFrame()
	if err != nil {
		return nil, nil, nil, nil, &Error{Code: CodeUnreachable, Target: t,
			Message: fmt.Sprintf("The server %s did not send a Drawpile greeting.", t), Err: err}
	}
	g, flags, err := parseGreeting(f)
	if err != nil {
		return nil, nil, nil, nil, &Error{Code: CodeProtocol, Target: t,
			Message: fmt.Sprintf("The server %s is not a compatible Drawpile server.", t), Err: err}
	}
	greeting := g
	pin, pinned := p.cfg.Pins.Get(t)
	if slices.Contains(flags, protocol.FlagTLS) {
		tc, err := p.startTLS(conn, br, rd, t, pin, pinned, lg)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		conn = tc
		br = bufio.NewReaderSize(tc, upstreamReadBuf)
		rd = protocol.NewReader(br)
	} else if pinned {
		return nil, nil, nil, nil, &Error{Code: CodeNoTLS, Target: t,
			Message: fmt.Sprintf("The server %s used an encrypted connection before but no longer offers one; the bridge refuses to connect without encryption.", t)}
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		return nil, nil, nil, nil, err
	}
	if ctx.Err() != nil {
		return nil, nil, nil, nil, ctx.Err()
	}
	ok = true
	return conn, br, rd, greeting, nil
}

// startTLS sends startTls, waits for the result and upgrades conn,
// checking the certificate against the pin (or pinning it).
func (p *Proxy) startTLS(conn net.Conn, br *bufio.Reader, rd *protocol.Reader, t Target, pin string, pinned bool, lg *slog.Logger) (net.Conn, error) {
	fail := func(msg string, err error) error {
		return &Error{Code: CodeTLSFailed, Target: t, Message: msg, Err: err}
	}
	cmd, err := protocol.NewCommand("startTls", nil, nil)
	if err != nil {
		return nil, err
	}
	cf, err := cmd.Frame()
	if err != nil {
		return nil, err
	}
	if _, err := conn.Write(cf); err != nil {
		return nil, fail(fmt.Sprintf("Could not start an encrypted connection to %s.", t), err)
	}
	for {
		f, err := rd.ReadFrame()
		if err != nil {
			return nil, fail(fmt.Sprintf("The server %s closed the connection while starting encryption.", t), err)
		}
		if f.Type() != protocol.TypeServerCommand {
			continue // pings and the like: meaningless before login
		}
		r, err := protocol.ParseReply(f.Payload())
		if err != nil {
			return nil, fail(fmt.Sprintf("The server %s sent an invalid answer to startTls.", t), err)
		}
		if r.Type == protocol.ReplyError {
			return nil, fail(fmt.Sprintf("The server %s refused encryption: %s", t, r.Message), nil)
		}
		if r.Type != protocol.ReplyResult || string(r.Raw["startTls"]) != "true" {
			return nil, fail(fmt.Sprintf("The server %s sent an unexpected answer to startTls.", t), nil)
		}
		break
	}
	if br.Buffered() != 0 {
		return nil, fail(fmt.Sprintf("The server %s sent data before the TLS handshake.", t), nil)
	}
	var got string
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// Drawpile servers commonly use self-signed certificates; trust is
		// decided by VerifyConnection (pin or CA) instead.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("no certificate")
			}
			got = SPKIPin(cs.PeerCertificates[0])
			if !pinned || got == pin {
				return nil
			}
			if p.caVerified(cs, t) {
				return nil
			}
			return &pinMismatch{want: pin, got: got}
		},
	}
	if _, err := netip.ParseAddr(t.Host); err != nil {
		cfg.ServerName = t.Host
	}
	tc := tls.Client(conn, cfg)
	if err := tc.Handshake(); err != nil { // bounded by the handshake deadline on conn
		var pm *pinMismatch
		if errors.As(err, &pm) {
			return nil, &Error{Code: CodeCertChanged, Target: t, Err: pm,
				Message: fmt.Sprintf("The TLS certificate of %s has changed since the bridge first connected to it (pinned key SHA-256 %s, now %s). The bridge refuses to connect; its operator must remove the old pin if the change is legitimate.", t, pm.want, pm.got)}
		}
		return nil, fail(fmt.Sprintf("The encrypted connection to %s failed.", t), err)
	}
	if got != pin {
		if err := p.cfg.Pins.Set(t, got); err != nil {
			lg.Error("could not save certificate pin", "err", err)
		}
		if pinned {
			lg.Info("upstream certificate changed and verified by a CA; re-pinned", "pin", got)
		} else {
			lg.Info("pinned upstream certificate (trust on first use)", "pin", got)
		}
	}
	return tc, nil
}

// caVerified reports whether the peer's chain verifies against RootCAs for
// the upstream's host name.
func (p *Proxy) caVerified(cs tls.ConnectionState, t Target) bool {
	opts := x509.VerifyOptions{Roots: p.cfg.RootCAs, DNSName: t.Host, Intermediates: x509.NewCertPool()}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(opts)
	return err == nil
}

type pinMismatch struct{ want, got string }

func (e *pinMismatch) Error() string {
	return fmt.Sprintf("certificate key %s does not match pin %s", e.got, e.want)
}

// parseGreeting checks the upstream greeting and returns it without the
// TLS and SECURE flags (the browser cannot STARTTLS; the relay has done it),
// together with the original flags.
func parseGreeting(f protocol.Frame) (protocol.Frame, []string, error) {
	if f.Type() != protocol.TypeServerCommand {
		return nil, nil, fmt.Errorf("first message has type %d", f.Type())
	}
	r, err := protocol.ParseReply(f.Payload())
	if err != nil {
		return nil, nil, err
	}
	if r.Type != protocol.ReplyLogin {
		return nil, nil, fmt.Errorf("first message has type %q", r.Type)
	}
	var g struct {
		Version int      `json:"version"`
		Flags   []string `json:"flags"`
	}
	if err := r.Decode(&g); err != nil {
		return nil, nil, err
	}
	if g.Version != protocol.ServerVersion {
		return nil, nil, fmt.Errorf("server protocol version %d", g.Version)
	}
	kept := make([]string, 0, len(g.Flags))
	for _, fl := range g.Flags {
		if fl != protocol.FlagTLS && fl != protocol.FlagSecure {
			kept = append(kept, fl)
		}
	}
	raw := r.Raw
	raw["flags"], err = marshalRaw(kept)
	if err != nil {
		return nil, nil, err
	}
	out, err := protocol.JSONFrame(raw)
	if err != nil {
		return nil, nil, err
	}
	return out, g.Flags, nil
}

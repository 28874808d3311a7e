package client

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"drawbridge/protocol"
)

// Transport carries protocol frames between the client and a server. The
// frame returned by ReadFrame is valid until the next ReadFrame call.
// ReadFrame returns io.EOF when the peer closed the connection cleanly.
// After any other ReadFrame error (including a cancelled ctx) the stream
// position is unknown and the transport must be closed.
//
// One goroutine may call ReadFrame while another calls WriteFrame; Close
// may be called from any goroutine and unblocks both.
type Transport interface {
	ReadFrame(ctx context.Context) (protocol.Frame, error)
	WriteFrame(ctx context.Context, f protocol.Frame) error
	Close() error
}

// TLSUpgrader is implemented by transports that can switch to TLS in place
// (TCP STARTTLS, protocol.md §4.4).
type TLSUpgrader interface {
	StartTLS(ctx context.Context, cfg *tls.Config) error
}

// TCP is a Transport over a stream connection with 4-byte framing.
type TCP struct {
	// mu guards conn and rd, which StartTLS replaces. Reads and writes take
	// a snapshot of conn under mu and then do their I/O without it.
	mu   sync.Mutex
	conn net.Conn
	br   *bufio.Reader
	rd   *protocol.Reader
	// wbuf is owned by the writing goroutine (writes are serialised by the
	// Client's write mutex; a bare TCP user must serialise them too).
	wbuf []byte
}

// NewTCP wraps an established stream connection.
func NewTCP(conn net.Conn) *TCP {
	t := &TCP{conn: conn}
	t.br = bufio.NewReaderSize(conn, 4096)
	t.rd = protocol.NewReader(t.br)
	return t
}

// DialTCP connects to a Drawpile server over TCP.
func DialTCP(ctx context.Context, addr string) (*TCP, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return NewTCP(conn), nil
}

// Conn returns the current underlying connection (a *tls.Conn after
// StartTLS).
func (t *TCP) Conn() net.Conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.conn
}

// ReadFrame implements Transport.
func (t *TCP) ReadFrame(ctx context.Context) (protocol.Frame, error) {
	t.mu.Lock()
	conn, rd := t.conn, t.rd
	t.mu.Unlock()
	stop := deadlineFromContext(ctx, conn.SetReadDeadline)
	f, err := rd.ReadFrame()
	stop()
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) && ctx.Err() == nil {
			return nil, io.EOF
		}
		return nil, ctxErr(ctx, err)
	}
	return f, nil
}

// WriteFrame implements Transport.
func (t *TCP) WriteFrame(ctx context.Context, f protocol.Frame) error {
	t.mu.Lock()
	conn := t.conn
	t.mu.Unlock()
	stop := deadlineFromContext(ctx, conn.SetWriteDeadline)
	defer stop()
	if _, err := conn.Write(f); err != nil {
		return ctxErr(ctx, fmt.Errorf("write frame: %w", err))
	}
	return nil
}

// Close implements Transport.
func (t *TCP) Close() error {
	t.mu.Lock()
	conn := t.conn
	t.mu.Unlock()
	return conn.Close()
}

// StartTLS switches the connection to TLS (client side) and performs the
// handshake. It must be called when no read or write is in progress and
// the server has nothing more to send in plain text (after its startTls
// reply).
func (t *TCP) StartTLS(ctx context.Context, cfg *tls.Config) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.br.Buffered() > 0 {
		return &ProtocolError{Reason: "plain-text data after startTls reply"}
	}
	tc := tls.Client(t.conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("tls handshake: %w", err)
	}
	t.conn = tc
	t.br = bufio.NewReaderSize(tc, 4096)
	t.rd = protocol.NewReader(t.br)
	return nil
}

// deadlineFromContext applies ctx's deadline with set and arranges for
// cancellation of ctx to interrupt the I/O. The returned func clears both.
func deadlineFromContext(ctx context.Context, set func(time.Time) error) (stop func()) {
	dl, _ := ctx.Deadline()
	_ = set(dl) // zero time = no deadline
	if ctx.Done() == nil {
		return func() {}
	}
	unregister := context.AfterFunc(ctx, func() { _ = set(time.Unix(1, 0)) })
	return func() {
		unregister()
		_ = set(time.Time{})
	}
}

// ctxErr prefers the context's error when a deadline or cancellation caused
// err.
func ctxErr(ctx context.Context, err error) error {
	if !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, net.ErrClosed) {
		return err
	}
	cerr := ctx.Err()
	if cerr == nil && errors.Is(err, os.ErrDeadlineExceeded) {
		cerr = context.DeadlineExceeded // the socket deadline fired a moment before ctx's timer
	}
	if cerr == nil {
		return err
	}
	return fmt.Errorf("%w (%v)", cerr, err)
}

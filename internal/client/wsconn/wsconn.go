// Package wsconn adapts a WebSocket connection (github.com/coder/websocket)
// to client.Transport: one binary WebSocket message per protocol message,
// in the 2-byte WebSocket framing (type, ctx, payload; protocol.md §1.2,
// §6). It owns nothing but the adaptation; the protocol state machine is
// in internal/client, which stays free of WebSocket libraries.
//
// Goroutines: one goroutine may read while another writes; Close may be
// called from any goroutine.
package wsconn

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/coder/websocket"

	"drawbridge/internal/client"
	"drawbridge/protocol"
)

// Conn is a client.Transport over a WebSocket connection.
type Conn struct {
	ws *websocket.Conn // immutable after construction
	// buf holds the last frame ReadFrame returned (valid until the next
	// call, as client.Transport allows); owned by the reading goroutine.
	buf []byte
}

var _ client.Transport = (*Conn)(nil)

// DialOptions configure Dial.
type DialOptions struct {
	// Origin, if set, is sent as the Origin header: the server then treats
	// the connection as a browser (protocol.md §6).
	Origin string
	// UserAgent defaults to "DrawpileClient/2.3.1" like the desktop client.
	UserAgent string
	// HTTPClient is used for the upgrade request (default http.DefaultClient).
	HTTPClient *http.Client
}

// Dial opens a WebSocket connection to url (ws:// or wss://).
func Dial(ctx context.Context, url string, o DialOptions) (*Conn, error) {
	h := http.Header{}
	if o.Origin != "" {
		h.Set("Origin", o.Origin)
	}
	ua := o.UserAgent
	if ua == "" {
		ua = "DrawpileClient/2.3.1"
	}
	h.Set("User-Agent", ua)
	ws, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: h, HTTPClient: o.HTTPClient})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	return New(ws), nil
}

// New wraps an established WebSocket connection and sets its read limit to
// the largest protocol message.
func New(ws *websocket.Conn) *Conn {
	ws.SetReadLimit(protocol.WSHeaderLen + protocol.MaxPayload)
	return &Conn{ws: ws}
}

// WebSocket returns the underlying connection (for tests that need to send
// deliberately invalid messages).
func (c *Conn) WebSocket() *websocket.Conn { return c.ws }

// ReadFrame implements client.Transport. A close frame with a normal or
// going-away status reads as io.EOF; a text message is a protocol error.
//
// The message is read into a buffer reused from call to call, behind two
// bytes of room for the TCP length: no allocation per message once the
// buffer has grown to the largest message seen.
func (c *Conn) ReadFrame(ctx context.Context) (protocol.Frame, error) {
	typ, b, err := c.read(ctx)
	if err != nil {
		switch websocket.CloseStatus(err) {
		case websocket.StatusNormalClosure, websocket.StatusGoingAway:
			return nil, io.EOF
		}
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("read websocket: %w", err)
	}
	if typ != websocket.MessageBinary {
		return nil, &client.ProtocolError{Reason: "text WebSocket message from server"}
	}
	if len(b) < protocol.HeaderLen {
		return protocol.FrameFromWS(b[2:]) // the short-message error
	}
	binary.BigEndian.PutUint16(b, uint16(len(b)-protocol.HeaderLen))
	return protocol.Frame(b), nil
}

// read reads one whole message into c.buf after two bytes of room; the
// read limit set by New bounds it.
func (c *Conn) read(ctx context.Context) (websocket.MessageType, []byte, error) {
	typ, rd, err := c.ws.Reader(ctx)
	if err != nil {
		return 0, nil, err
	}
	b := append(c.buf[:0], 0, 0)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow
		}
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			c.buf = b[:0]
			return 0, nil, err
		}
	}
	c.buf = b
	return typ, b, nil
}

// WriteFrame implements client.Transport.
func (c *Conn) WriteFrame(ctx context.Context, f protocol.Frame) error {
	if err := c.ws.Write(ctx, websocket.MessageBinary, f.WS()); err != nil {
		return fmt.Errorf("write websocket: %w", err)
	}
	return nil
}

// Close implements client.Transport with a normal-closure close handshake.
func (c *Conn) Close() error {
	err := c.ws.Close(websocket.StatusNormalClosure, "")
	if err != nil && websocket.CloseStatus(err) != -1 {
		return nil // the peer had already closed
	}
	return err
}

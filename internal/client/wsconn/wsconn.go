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
func (c *Conn) ReadFrame(ctx context.Context) (protocol.Frame, error) {
	typ, b, err := c.ws.Read(ctx)
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
	f, err := protocol.FrameFromWS(b)
	if err != nil {
		return nil, err
	}
	return f, nil
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

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"drawbridge/canvas"
	"drawbridge/internal/client"
	"drawbridge/protocol"
)

// watchServer serves the bridge's spectator routes on 127.0.0.1.
func (e *env) watchServer() *httptest.Server {
	srv := httptest.NewServer(e.b.WatchHandler())
	e.t.Cleanup(srv.Close)
	return srv
}

// wsBase turns an http:// test server URL into ws://.
func wsBase(srv *httptest.Server) string { return "ws" + strings.TrimPrefix(srv.URL, "http") }

// canvasPlayer replays a message stream like a Drawpile client: ACL
// filter, then the canvas; a {"type":"reset","state":"reset"} notice
// clears both.
type canvasPlayer struct {
	cv       *canvas.Canvas
	acl      *canvas.ACL
	lay      protocol.Layout
	chats    []string
	caughtUp bool // saw the viewer's caughtup marker (key 1)
	msgs     int
	bytes    int
}

func newCanvasPlayer() *canvasPlayer {
	return &canvasPlayer{cv: canvas.New(), acl: canvas.NewACL(), lay: protocol.Layout425}
}

func (p *canvasPlayer) feed(t testing.TB, f protocol.Frame) {
	p.msgs++
	p.bytes += len(f)
	if f.Type() == 0 {
		var r struct {
			Type, State string
			Key         int
		}
		if err := json.Unmarshal(f.Payload(), &r); err != nil {
			t.Errorf("bad JSON %q", f.Payload())
			return
		}
		switch {
		case r.Type == "reset" && r.State == "reset":
			p.cv, p.acl = canvas.New(), canvas.NewACL()
		case r.Type == "caughtup" && r.Key == 1:
			p.caughtUp = true
		}
		return
	}
	if f.Type() < 32 {
		return
	}
	m, err := protocol.Decode(f, p.lay)
	if err != nil {
		t.Errorf("decode type %d: %v", f.Type(), err)
		return
	}
	if c, ok := m.(protocol.Chat); ok {
		p.chats = append(p.chats, c.Message)
	}
	if p.acl.Allow(f.Ctx(), m) {
		_ = p.cv.Apply(f.Ctx(), m)
	}
}

func (p *canvasPlayer) saw(chat string) bool {
	for _, c := range p.chats {
		if c == chat {
			return true
		}
	}
	return false
}

func (p *canvasPlayer) render() *image.NRGBA { return p.cv.Render(canvas.RenderOptions{}) }

// spectator is a viewer WebSocket.
type spectator struct {
	c    *websocket.Conn
	info map[string]any
}

// dialSpectator connects to the spectator WebSocket and reads the
// {"type":"watch"} header.
func dialSpectator(ctx context.Context, url string) (*spectator, error) {
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(protocol.WSHeaderLen + protocol.MaxPayload)
	sp := &spectator{c: c}
	f, err := sp.read(ctx)
	if err != nil {
		c.CloseNow()
		return nil, err
	}
	if err := json.Unmarshal(f.Payload(), &sp.info); err != nil || sp.info["type"] != "watch" {
		c.CloseNow()
		return nil, fmt.Errorf("first spectator message %q is not a watch header", f.Payload())
	}
	return sp, nil
}

func (sp *spectator) read(ctx context.Context) (protocol.Frame, error) {
	_, data, err := sp.c.Read(ctx)
	if err != nil {
		return nil, err
	}
	return protocol.FrameFromWS(data)
}

// until feeds p from sp until done reports true.
func (sp *spectator) until(ctx context.Context, t testing.TB, p *canvasPlayer, done func() bool) error {
	for !done() {
		f, err := sp.read(ctx)
		if err != nil {
			return err
		}
		p.feed(t, f)
	}
	return nil
}

// clientUntil feeds p from a session client until the chat arrives.
func clientUntil(ctx context.Context, t testing.TB, c *client.Client, p *canvasPlayer, chat string) {
	t.Helper()
	for !p.saw(chat) {
		m, err := c.Recv(ctx)
		if err != nil {
			t.Fatalf("%s: recv: %v", c.Name(), err)
		}
		p.feed(t, m.Frame)
	}
}

// sendMsg encodes and sends one message.
func sendMsg(ctx context.Context, t testing.TB, c *client.Client, m protocol.Message) {
	t.Helper()
	payload, err := protocol.AppendPayload(nil, m, protocol.Layout425)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send(ctx, m.MessageType(), payload); err != nil {
		t.Fatalf("%s: send %T: %v", c.Name(), m, err)
	}
}

// drainClient reads c in the background until ctx ends (a client that
// floods the session must keep reading its own echo).
func drainClient(ctx context.Context, c *client.Client) {
	go func() {
		for {
			if _, err := c.Recv(ctx); err != nil {
				return
			}
		}
	}()
}

// sameRender fails unless both renders are identical.
func sameRender(t testing.TB, what string, got, want *image.NRGBA) {
	t.Helper()
	if got.Rect != want.Rect {
		t.Fatalf("%s: size %v, want %v", what, got.Rect, want.Rect)
	}
	if !bytes.Equal(got.Pix, want.Pix) {
		for i := range got.Pix {
			if got.Pix[i] != want.Pix[i] {
				px := i / 4
				t.Fatalf("%s: pixel (%d,%d) = %v, want %v", what, px%want.Rect.Dx(), px/want.Rect.Dx(),
					got.Pix[i&^3:i&^3+4], want.Pix[i&^3:i&^3+4])
			}
		}
	}
}

// eventually polls cond (the viewer count is reported once a second).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

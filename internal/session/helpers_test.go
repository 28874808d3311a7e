package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"drawbridge/protocol"
)

// fakeConn records what the core writes. With block set, every write
// blocks until its deadline, like a client that stopped reading.
type fakeConn struct {
	mu     sync.Mutex
	frames []protocol.Frame
	block  bool
	err    error         // if set, writes fail at once with it (a reset socket)
	gate   chan struct{} // if set, writes wait for it to close
	shut   chan struct{} // closed by Close: unblocks writes like a real socket
	closed bool
	reason CloseReason
	msg    string
}

func (f *fakeConn) WriteFrames(ctx context.Context, frames []protocol.Frame) error {
	f.mu.Lock()
	block, gate, werr := f.block, f.gate, f.err
	f.mu.Unlock()
	if werr != nil {
		return werr
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		case <-f.shut:
			return errConnClosed
		}
	}
	if block {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-f.shut:
			return errConnClosed
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fr := range frames {
		f.frames = append(f.frames, fr.Clone())
	}
	return nil
}

func (f *fakeConn) Close(reason CloseReason, msg string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed, f.reason, f.msg = true, reason, msg
		close(f.shut)
	}
	return nil
}

func (f *fakeConn) isClosed() (bool, CloseReason) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed, f.reason
}

// take returns and forgets everything written so far.
func (f *fakeConn) take() []protocol.Frame {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.frames
	f.frames = nil
	return out
}

var errConnClosed = errors.New("use of closed connection")

// tc is a test client.
type tc struct {
	t    *testing.T
	c    *Client
	conn *fakeConn
	name string
	sid  string
}

func newTestServer(t *testing.T, mod func(*Settings)) *Server {
	st := DefaultSettings()
	st.ServerName = "Drawbridge test"
	if mod != nil {
		mod(&st)
	}
	return NewServer(Options{Settings: st, Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))})
}

var sidCounter int

func connect(t *testing.T, srv *Server, info ConnInfo) *tc {
	t.Helper()
	fc := &fakeConn{shut: make(chan struct{})}
	c, err := srv.Accept(fc, info)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	sidCounter++
	return &tc{t: t, c: c, conn: fc, sid: fmt.Sprintf("%032x", sidCounter)}
}

func (x *tc) send(cmd string, args []any, kwargs map[string]any) {
	x.t.Helper()
	c, err := protocol.NewCommand(cmd, args, kwargs)
	if err != nil {
		x.t.Fatal(err)
	}
	f, err := c.Frame()
	if err != nil {
		x.t.Fatal(err)
	}
	if err := x.c.Receive(f); err != nil {
		x.t.Fatalf("%s: Receive(%s): %v", x.name, cmd, err)
	}
}

func (x *tc) sendFrame(t protocol.Type, ctx uint8, payload []byte) error {
	f, err := protocol.NewFrame(t, ctx, payload)
	if err != nil {
		x.t.Fatal(err)
	}
	return x.c.Receive(f)
}

func (x *tc) info() map[string]any {
	return map[string]any{"app_version": "2.3.1", "protocol_version": "dp:4.25.1", "qt_version": "5", "os": "linux",
		"s": x.sid, "m": "bWFjaGluZQ==", "capabilities": "KEEPALIVE,THUMBNAIL"}
}

func (x *tc) cinfo() {
	x.send("cinfo", []any{"127.0.0.1", x.info()}, nil)
}

func (x *tc) kw(extra map[string]any) map[string]any {
	m := x.info()
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// reply is a decoded server JSON message.
type reply map[string]any

func (r reply) str(k string) string { s, _ := r[k].(string); return s }

// jsonReplies decodes the type-0 frames among fs.
func jsonReplies(t *testing.T, fs []protocol.Frame) []reply {
	t.Helper()
	var out []reply
	for _, f := range fs {
		if f.Type() != 0 {
			continue
		}
		var r reply
		if err := json.Unmarshal(f.Payload(), &r); err != nil {
			t.Fatalf("bad JSON from server: %s", f.Payload())
		}
		out = append(out, r)
	}
	return out
}

func findReply(rs []reply, typ string) reply {
	for _, r := range rs {
		if r.str("type") == typ {
			return r
		}
	}
	return nil
}

// hostSession logs x in as name and hosts a session, then completes the
// initialization with a tiny canvas.
func (x *tc) host(name string, kwargs map[string]any) {
	x.t.Helper()
	x.name = name
	x.cinfo()
	x.send("ident", []any{name}, nil)
	kw := x.kw(map[string]any{"protocol": "dp:4.25.1", "user_id": 1})
	for k, v := range kwargs {
		kw[k] = v
	}
	x.send("host", nil, kw)
	x.send("sessionconf", nil, map[string]any{"title": "Test"})
	if err := x.sendFrame(129, 1, make([]byte, 16)); err != nil { // CanvasResize
		x.t.Fatal(err)
	}
	x.send("init-complete", nil, nil)
}

func (x *tc) join(name, session string, kwargs map[string]any) {
	x.t.Helper()
	x.name = name
	x.cinfo()
	x.send("ident", []any{name}, nil)
	x.send("join", []any{session}, x.kw(kwargs))
}

// inBubble runs f in a synctest bubble with a fresh server.
func inBubble(t *testing.T, mod func(*Settings), f func(t *testing.T, srv *Server)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		srv := newTestServer(t, mod)
		f(t, srv)
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
}

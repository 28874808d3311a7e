package e2e

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"drawbridge/internal/bridge"
	"drawbridge/internal/client"
	"drawbridge/internal/client/wsconn"
	"drawbridge/protocol"
)

// testTimeout bounds every test's context: nothing here should take long.
const testTimeout = 30 * time.Second

// env is one bridge started for one test.
type env struct {
	t        *testing.T
	ctx      context.Context
	tcpAddr  string
	httpAddr string
	b        *bridge.Bridge
}

// newEnv starts a bridge on 127.0.0.1 with ephemeral ports; it is shut
// down when the test ends.
func newEnv(t *testing.T, opts ...func(*bridge.Config)) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	cfg := bridge.Config{TCPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"}
	for _, o := range opts {
		o(&cfg)
	}
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	b, err := bridge.Start(context.Background(), cfg, logger)
	if err != nil {
		t.Fatalf("start bridge: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return &env{t: t, ctx: ctx, tcpAddr: fmt.Sprint(b.TCPAddr()), httpAddr: fmt.Sprint(b.HTTPAddr()), b: b}
}

// kind selects a transport.
type kind int

const (
	tcp     kind = iota // TCP, 4-byte framing
	ws                  // WebSocket without Origin (desktop client)
	browser             // WebSocket with Origin (browser)
)

func (k kind) String() string { return [...]string{"tcp", "ws", "browser"}[k] }

var sysCounter atomic.Uint64

// newSystemID returns a fresh 32-hex-digit system id.
func newSystemID() string { return fmt.Sprintf("%032x", sysCounter.Add(1)) }

// wsURL returns the WebSocket URL of the bridge (Drawpile's browser path).
func (e *env) wsURL() string { return "ws://" + e.httpAddr + "/drawpile-web/ws" }

// transport opens a raw transport of kind k.
func (e *env) transport(k kind) client.Transport {
	e.t.Helper()
	var tr client.Transport
	var err error
	switch k {
	case tcp:
		tr, err = client.DialTCP(e.ctx, e.tcpAddr)
	case ws:
		tr, err = wsconn.Dial(e.ctx, e.wsURL(), wsconn.DialOptions{})
	case browser:
		tr, err = wsconn.Dial(e.ctx, e.wsURL(), wsconn.DialOptions{Origin: "http://" + e.httpAddr})
	}
	if err != nil {
		e.t.Fatalf("dial %v: %v", k, err)
	}
	e.t.Cleanup(func() { tr.Close() })
	return tr
}

// dial opens a client of kind k with a fresh system id.
func (e *env) dial(k kind) *client.Client {
	return client.New(e.transport(k), client.Options{Info: client.DefaultClientInfo(newSystemID())})
}

// host logs in as name over k, hosts a session with ho, uploads the
// standard snapshot and completes the initialisation.
func (e *env) host(name string, k kind, ho client.HostOptions) *client.Client {
	e.t.Helper()
	c := e.dial(k)
	if _, err := c.Login(e.ctx, client.LoginOptions{Ident: client.IdentOptions{Name: name}, Host: &ho}); err != nil {
		e.t.Fatalf("%s: host: %v", name, err)
	}
	if err := c.Initialize(e.ctx, snapshot(e.t, c.UserID())); err != nil {
		e.t.Fatalf("%s: initialize: %v", name, err)
	}
	e.sync(c)
	return c
}

// joinOpts logs in as name over k and joins with o, returning the login
// error as is.
func (e *env) joinOpts(name string, k kind, o client.JoinOptions) (*client.Client, error) {
	c := e.dial(k)
	_, err := c.Login(e.ctx, client.LoginOptions{Ident: client.IdentOptions{Name: name}, Join: &o})
	return c, err
}

// join joins session as name over k and waits for the catch-up; it fails
// the test on any error.
func (e *env) join(name string, k kind, session, password string) (*client.Client, []rec) {
	e.t.Helper()
	c, err := e.joinOpts(name, k, client.JoinOptions{Session: session, Password: password})
	if err != nil {
		e.t.Fatalf("%s (%v): join %s: %v", name, k, session, err)
	}
	var got []rec
	if err := c.WaitCaughtUp(e.ctx, func(m client.Message) error { got = append(got, newRec(m)); return nil }); err != nil {
		e.t.Fatalf("%s (%v): catch up: %v", name, k, err)
	}
	return c, got
}

// rec is a received message kept beyond the next Recv.
type rec struct {
	Type    protocol.Type
	Ctx     uint8
	Payload string
	History bool
	Reply   *client.Reply
}

func newRec(m client.Message) rec {
	return rec{Type: m.Frame.Type(), Ctx: m.Frame.Ctx(), Payload: string(m.Frame.Payload()), History: m.History, Reply: m.Reply}
}

func (r rec) String() string {
	if r.Type == 0 {
		return fmt.Sprintf("cmd %s", r.Payload)
	}
	return fmt.Sprintf("type %d ctx %d %q", r.Type, r.Ctx, r.Payload)
}

// isPong reports whether r is a Ping reply.
func (r rec) isPong() bool { return r.Type == 2 }

// sync sends a Ping and reads until the pong, returning what came before
// it. The server answers pings after the history that existed when the
// ping arrived, so this is a barrier for "everything sent so far".
func (e *env) sync(c *client.Client) []rec {
	e.t.Helper()
	got, err := syncErr(e.ctx, c)
	if err != nil {
		e.t.Fatalf("%s: sync: %v", c.Name(), err)
	}
	return got
}

func syncErr(ctx context.Context, c *client.Client) ([]rec, error) {
	if err := c.Ping(ctx); err != nil {
		return nil, err
	}
	var got []rec
	for {
		m, err := c.Recv(ctx)
		if err != nil {
			return got, err
		}
		r := newRec(m)
		if r.isPong() {
			return got, nil
		}
		got = append(got, r)
	}
}

// until reads until pred matches and returns everything read, the match
// last.
func (e *env) until(c *client.Client, what string, pred func(rec) bool) []rec {
	e.t.Helper()
	got, err := untilErr(e.ctx, c, pred)
	if err != nil {
		e.t.Fatalf("%s: waiting for %s: %v (got %v)", c.Name(), what, err, got)
	}
	return got
}

func untilErr(ctx context.Context, c *client.Client, pred func(rec) bool) ([]rec, error) {
	var got []rec
	for {
		m, err := c.Recv(ctx)
		if err != nil {
			return got, err
		}
		r := newRec(m)
		got = append(got, r)
		if pred(r) {
			return got, nil
		}
	}
}

// reply matches a ServerCommand of the given JSON type.
func reply(typ string) func(rec) bool {
	return func(r rec) bool { return r.Reply != nil && r.Reply.Type == typ }
}

// msgOf matches a message of type t from ctx.
func msgOf(t protocol.Type, ctx uint8) func(rec) bool {
	return func(r rec) bool { return r.Type == t && r.Ctx == ctx }
}

// chatFrom matches a Chat with the given text from ctx.
func chatFrom(ctx uint8, text string) func(rec) bool {
	return func(r rec) bool { return r.Type == 35 && r.Ctx == ctx && len(r.Payload) >= 2 && r.Payload[2:] == text }
}

// expectClosed reads until the connection ends and returns the Disconnect
// (nil if the server closed without one).
func (e *env) expectClosed(c *client.Client) *client.DisconnectError {
	e.t.Helper()
	for {
		_, err := c.Recv(e.ctx)
		if err == nil {
			continue
		}
		var de *client.DisconnectError
		if errors.As(err, &de) {
			return de
		}
		if e.ctx.Err() != nil {
			e.t.Fatalf("%s: connection still open: %v", c.Name(), err)
		}
		return nil
	}
}

// mustHex decodes a hex constant.
func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err) // constants only
	}
	return b
}

func frame(t *testing.T, typ protocol.Type, ctx uint8, payload []byte) protocol.Frame {
	t.Helper()
	f, err := protocol.NewFrame(typ, ctx, payload)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// snapshot is the initial canvas the conformance transcript's host
// uploads, with layer ids owned by uid: feature tiers, limits, undo depth,
// a 256×192 canvas, white background, "Layer 1" with one tile row, default
// layer.
func snapshot(t *testing.T, uid uint8) []protocol.Frame {
	layer := []byte{0x00, 0x01, uid}
	ltc := append(append([]byte{}, layer...), mustHex("000000 000000 00000000 00")...)
	ltc = append(ltc, "Layer 1"...)
	tile := append([]byte{uid}, layer...)
	tile = append(tile, mustHex("00 0000 0000 0003 ffe8f0ff")...)
	return []protocol.Frame{
		frame(t, 70, uid, mustHex("030300000003030303000303")),
		frame(t, 77, uid, mustHex("ffffffff000000ff000000ff000000ffffffffff000003e8000003e8000003e8")),
		frame(t, 74, uid, mustHex("1e")),
		frame(t, 129, uid, mustHex("0000000000000100000000c000000000")),
		frame(t, 147, uid, mustHex("ffffffff")),
		frame(t, 162, uid, ltc),
		frame(t, 146, uid, tile),
		frame(t, 71, uid, layer),
	}
}

// stroke returns the payloads of one brush stroke on layer 0x0001uu at
// vertical offset y: UndoPoint, DrawDabsClassic (six dabs), PenUp.
func stroke(uid uint8, y int32) (undo, dabs, penup []byte) {
	layer := []byte{0x00, 0x01, uid}
	d := []byte{0x00} // flags
	d = append(d, layer...)
	d = binary.BigEndian.AppendUint32(d, 80)          // x (1/4 px)
	d = binary.BigEndian.AppendUint32(d, uint32(y*4)) // y
	d = append(d, mustHex("ff2040c0 01")...)          // colour, blend
	for range 6 {
		d = append(d, mustHex("10 00 000800 ff ff")...)
	}
	return nil, d, layer
}

// draw sends one stroke.
func (e *env) draw(c *client.Client, y int32) {
	e.t.Helper()
	u, d, p := stroke(c.UserID(), y)
	for _, m := range []struct {
		t protocol.Type
		p []byte
	}{{128, u}, {148, d}, {140, p}} {
		if err := c.Send(e.ctx, m.t, m.p); err != nil {
			e.t.Fatalf("%s: draw: %v", c.Name(), err)
		}
	}
}

// chat sends a chat message.
func (e *env) chat(c *client.Client, text string) {
	e.t.Helper()
	if err := c.Chat(e.ctx, text); err != nil {
		e.t.Fatalf("%s: chat: %v", c.Name(), err)
	}
}

// history keeps only history messages.
func history(rs []rec) []rec {
	var out []rec
	for _, r := range rs {
		if r.History {
			out = append(out, r)
		}
	}
	return out
}

// sameHistory compares two histories by type, ctx and payload (history
// entries are stored once, so even their JSON is byte-identical for every
// reader). It returns the first differing index.
func sameHistory(a, b []rec) (int, bool) {
	for i := range min(len(a), len(b)) {
		if a[i].Type != b[i].Type || a[i].Ctx != b[i].Ctx || a[i].Payload != b[i].Payload {
			return i, false
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b)), false
	}
	return -1, true
}

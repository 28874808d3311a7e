package bridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"drawbridge/internal/session"
	"drawbridge/protocol"
)

func TestAppendWSHeader(t *testing.T) {
	tests := []struct {
		n    int
		want []byte
	}{
		{0, []byte{0x82, 0}},
		{1, []byte{0x82, 1}},
		{125, []byte{0x82, 125}},
		{126, []byte{0x82, 126, 0, 126}},
		{65535, []byte{0x82, 126, 0xff, 0xff}},
		{65536, []byte{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
		{protocol.WSHeaderLen + protocol.MaxPayload, []byte{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 1}},
	}
	for _, tc := range tests {
		got := appendWSHeader([]byte{0xAA}, tc.n)
		if !bytes.Equal(got[1:], tc.want) || got[0] != 0xAA {
			t.Errorf("appendWSHeader(%d) = % x, want aa % x", tc.n, got, tc.want)
		}
		if len(tc.want) > wsMaxFrameHeader {
			t.Errorf("header for %d is longer than wsMaxFrameHeader", tc.n)
		}
	}
}

// countingConn records the writes that reach the socket.
type countingConn struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes = append(c.writes, bytes.Clone(p))
	c.mu.Unlock()
	return len(p), nil
}

func (c *countingConn) SetWriteDeadline(time.Time) error { return nil }

func testFrames(t testing.TB, sizes ...int) []protocol.Frame {
	t.Helper()
	var fs []protocol.Frame
	for i, n := range sizes {
		p := make([]byte, n)
		for j := range p {
			p[j] = byte(i + j)
		}
		f, err := protocol.NewFrame(protocol.Type(128+i%64), uint8(i), p)
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	return fs
}

// A batch is one write on the socket holding one frame per message.
func TestWSSockBatchIsOneWrite(t *testing.T) {
	cc := &countingConn{}
	s := &wsSock{Conn: cc}
	frames := testFrames(t, 0, 10, 123, 124, 5000)
	n, err := s.writeMessages(context.Background(), frames)
	if err != nil {
		t.Fatal(err)
	}
	if len(cc.writes) != 1 {
		t.Fatalf("%d writes for one batch, want 1", len(cc.writes))
	}
	var want []byte
	for _, f := range frames {
		want = appendWSHeader(want, len(f.WS()))
		want = append(want, f.WS()...)
	}
	if n != len(want) || !bytes.Equal(cc.writes[0], want) {
		t.Fatalf("wrote %d bytes % x…, want %d bytes", n, cc.writes[0][:min(16, len(cc.writes[0]))], len(want))
	}
	// A close frame written by coder/websocket ends the data stream.
	if _, err := s.Write([]byte{0x88, 0}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.writeMessages(context.Background(), frames); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("data after close frame: err %v, want net.ErrClosed", err)
	}
	if len(cc.writes) != 2 {
		t.Fatalf("%d writes, want 2 (batch, close frame)", len(cc.writes))
	}
}

// wsPair accepts one WebSocket connection the way serveWS does and
// returns the server side (its control frames are handled by a CloseRead
// goroutine) and the client side.
func wsPair(t *testing.T) (*websocket.Conn, *wsSock, *websocket.Conn) {
	t.Helper()
	type accepted struct {
		c    *websocket.Conn
		sock *wsSock
	}
	ch := make(chan accepted, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		hj := &wsHijacker{ResponseWriter: rw}
		c, err := websocket.Accept(hj, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
		if err != nil {
			t.Error(err)
			return
		}
		c.SetReadLimit(protocol.WSHeaderLen + protocol.MaxPayload)
		ch <- accepted{c, hj.sock}
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, _, err := websocket.Dial(ctx, "ws"+srv.URL[len("http"):], nil)
	if err != nil {
		t.Fatal(err)
	}
	cl.SetReadLimit(protocol.WSHeaderLen + protocol.MaxPayload)
	t.Cleanup(func() { cl.CloseNow() })
	a := <-ch
	t.Cleanup(func() { a.c.CloseNow() })
	if a.sock == nil {
		t.Fatal("Accept did not hijack through wsHijacker")
	}
	return a.c, a.sock, cl
}

// Batches of N messages arrive as N WebSocket messages in order, for
// every length encoding (7-bit, 16-bit and 64-bit).
func TestWSBatchesOverLoopback(t *testing.T) {
	srv, sock, cl := wsPair(t)
	srv.CloseRead(context.Background())
	sizes := []int{0, 1, 123, 124, protocol.MaxPayload - 2, protocol.MaxPayload}
	for i := range 300 {
		sizes = append(sizes, 20+i%200)
	}
	frames := testFrames(t, sizes...)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		// Uneven batches, the first a single message.
		for i, k := 0, 1; i < len(frames); i, k = i+k, k+7 {
			if _, err := sock.writeMessages(ctx, frames[i:min(i+k, len(frames))]); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for i, f := range frames {
		typ, b, err := cl.Read(ctx)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if typ != websocket.MessageBinary || !bytes.Equal(b, f.WS()) {
			t.Fatalf("message %d: %v %d bytes, want binary %d bytes %v", i, typ, len(b), len(f.WS()), f)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// Pings answered by coder/websocket on the server's read side interleave
// with the batches without corrupting either.
func TestWSControlFramesBetweenBatches(t *testing.T) {
	srv, sock, cl := wsPair(t)
	srv.CloseRead(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const per = 20
	var frames []protocol.Frame
	for i := range per {
		frames = append(frames, testFrames(t, 30+i)[0])
	}
	// A bounded stream: pings overlap it, but a pong never queues behind
	// more than ~1 MB.
	const batches = 1500
	wrote := make(chan int, 1)
	go func() {
		n := 0
		defer func() { wrote <- n }()
		for n < batches {
			if _, err := sock.writeMessages(ctx, frames); err != nil {
				t.Errorf("batch %d: %v", n, err)
				return
			}
			n++
		}
	}()
	type result struct {
		n   int
		err error
	}
	got := make(chan result, 1)
	go func() {
		for i := 0; ; i++ {
			_, b, err := cl.Read(ctx)
			if err != nil {
				got <- result{i, err}
				return
			}
			if !bytes.Equal(b, frames[i%per].WS()) {
				got <- result{i, fmt.Errorf("message %d corrupted", i)}
				return
			}
		}
	}()
	for range 20 {
		if err := cl.Ping(ctx); err != nil {
			t.Fatalf("ping: %v", err)
		}
	}
	if n := <-wrote; n != batches {
		t.Fatalf("wrote %d batches, want %d", n, batches)
	}
	go srv.Close(websocket.StatusNormalClosure, "")
	r := <-got
	if websocket.CloseStatus(r.err) != websocket.StatusNormalClosure {
		t.Fatalf("reader after %d messages: %v", r.n, r.err)
	}
	if r.n != batches*per {
		t.Fatalf("read %d messages, want %d", r.n, batches*per)
	}
}

// A close from the server after batches arrives after all of them, with
// its status, and no data frame may follow it.
func TestWSCloseAfterBatches(t *testing.T) {
	srv, sock, cl := wsPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	frames := testFrames(t, 10, 20, 30)
	if _, err := sock.writeMessages(ctx, frames); err != nil {
		t.Fatal(err)
	}
	go srv.Close(websocket.StatusPolicyViolation, "slow")
	for i := range frames {
		if _, b, err := cl.Read(ctx); err != nil || !bytes.Equal(b, frames[i].WS()) {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	_, _, err := cl.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("after the batch: %v, want close status policy violation", err)
	}
	if _, err := sock.writeMessages(ctx, frames); err == nil {
		t.Fatal("a batch after the close frame was written")
	}
}

// A client that stops reading makes a batch write miss its deadline; the
// write returns instead of blocking the writer.
func TestWSSlowReaderDeadline(t *testing.T) {
	srv, sock, _ := wsPair(t)
	srv.CloseRead(context.Background())
	frames := testFrames(t, protocol.MaxPayload, protocol.MaxPayload, protocol.MaxPayload, protocol.MaxPayload)
	var err error
	for range 10000 { // far more than any socket buffer
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		_, err = sock.writeMessages(ctx, frames)
		cancel()
		if err != nil {
			break
		}
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("writes to a client that does not read: %v, want a timeout", err)
	}
}

// End to end: a WebSocket client in a session that does not read is
// disconnected as a slow client by the write deadline, while a reading
// WebSocket client gets every message.
func TestWSSlowClientKicked(t *testing.T) {
	st := session.DefaultSettings()
	st.WriteTimeout = 2 * time.Second
	st.MaxLag = 1 << 40 // only the write deadline can find the stalled client
	st.SessionSizeLimit, st.AutoResetThreshold = 0, 0
	b := startBridge(t, func(c *Config) { c.Settings = &st })
	host := dialRaw(t, b.TCPAddr())
	hostOn(host, "host", "slowtest")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	join := func(name string, rcvbuf int) *websocket.Conn {
		var opts websocket.DialOptions
		if rcvbuf > 0 {
			// A fixed small receive buffer (no autotuning up to
			// tcp_rmem's maximum): the stalled client's socket fills
			// after a few MB.
			d := &net.Dialer{}
			tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				nc, err := d.DialContext(ctx, network, addr)
				if err == nil {
					err = nc.(*net.TCPConn).SetReadBuffer(rcvbuf)
				}
				return nc, err
			}}
			opts.HTTPClient = &http.Client{Transport: tr}
		}
		ws, _, err := websocket.Dial(ctx, "ws://"+b.HTTPAddr()+"/ws", &opts)
		if err != nil {
			t.Fatal(err)
		}
		ws.SetReadLimit(protocol.WSHeaderLen + protocol.MaxPayload)
		t.Cleanup(func() { ws.CloseNow() })
		send := func(name string, args []any, kw map[string]any) {
			cm, _ := protocol.NewCommand(name, args, kw)
			f, _ := cm.Frame()
			if err := ws.Write(ctx, websocket.MessageBinary, f.WS()); err != nil {
				t.Fatal(err)
			}
		}
		send("ident", []any{name}, nil)
		kw := clientInfo()
		kw["s"] = fmt.Sprintf("%032x", len(name))
		send("join", []any{"slowtest"}, kw)
		for {
			_, m, err := ws.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if m[0] == 0 && bytes.Contains(m, []byte(`"caughtup"`)) {
				return ws
			}
		}
	}
	reader := join("reader", 0)
	stalled := join("stalled", 32<<10) // not read from until it is kicked

	payload := make([]byte, protocol.MaxPayload)
	f, _ := protocol.NewFrame(146, 1, payload)
	const msgs = 200                // 13 MB: more than the stalled client's socket buffers (≤ 4 MB + 64 KB)
	go io.Copy(io.Discard, host.nc) // the host's echo
	go func() {
		for range msgs {
			if _, err := host.nc.Write(f); err != nil {
				return
			}
		}
	}()
	n := 0
	for n < msgs {
		_, m, err := reader.Read(ctx)
		if err != nil {
			t.Fatalf("reading client after %d messages: %v", n, err)
		}
		if m[0] == 146 && m[1] == 1 {
			n++
		}
	}
	for b.Server().SlowKicks() == 0 {
		select {
		case <-ctx.Done():
			t.Fatal("the stalled client was never disconnected")
		case <-time.After(20 * time.Millisecond):
		}
	}
	// Its socket is closed: what it had buffered, then the end.
	for {
		if _, _, err := stalled.Read(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatal("the stalled client's connection stayed open")
			}
			break
		}
	}
}

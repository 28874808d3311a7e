package bridge

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"drawbridge/protocol"
)

// Batched WebSocket writes.
//
// coder/websocket writes and flushes one message per Write call, and each
// call takes its channel-based locks and arms a context.AfterFunc for the
// deadline. A batch of N messages taken from the history cursor therefore
// cost N write syscalls (N TCP segments for the receiver to wake up for)
// plus a few microseconds of locking each, where the TCP transport sends
// the same batch with one writev. Under fan-out to a hundred receivers and
// more that put the WebSocket p99 latency two orders of magnitude above
// TCP's (BENCHMARKS.md, fan-out section).
//
// wsSock sits between coder/websocket and the hijacked socket. The session
// writer's data messages bypass coder/websocket's writer: wsSock frames
// each message itself (RFC 6455 §5.2: FIN, opcode binary, unmasked from a
// server, no extensions since compression is disabled) into one buffer and
// sends the batch with one write under the session's write deadline.
// Every protocol message is still exactly one WebSocket message
// (protocol.md §1.2); only the syscalls are merged. coder/websocket keeps
// the handshake, the reading side and the control frames (pong, close),
// which reach the socket through wsSock.Write.
//
// Three kinds of WebSocket use it, all accepted by acceptWS: session
// clients (ws.go, wsConn.WriteFrames), spectators (watch.go, one batch per
// mirror.Viewer.Next) and proxy relays (proxy.go hands the wsSock to
// wsproxy as its ServeOptions.Writer; the relay batches what the upstream
// has already delivered). On each of them every data message goes through
// writeMessages, never through coder/websocket's Write, whose frames could
// be split over several wsSock.Write calls and interleave with a batch.

// corkMaxKeep is the largest batch buffer returned to the pool: larger ones
// (a catch-up batch reaches BatchBytes plus one message) are left to the
// garbage collector so the pool does not pin them.
const corkMaxKeep = 512 << 10

// corkBufs holds batch buffers between batches, so an idle connection
// keeps none.
var corkBufs = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// wsMaxFrameHeader is the largest header of a server frame: 2 bytes plus
// the 8-byte extended length, no mask.
const wsMaxFrameHeader = 10

// appendWSHeader appends the header of one unfragmented, unmasked binary
// frame carrying n payload bytes.
func appendWSHeader(b []byte, n int) []byte {
	const finBinary = 0x80 | 0x2
	switch {
	case n <= 125:
		return append(b, finBinary, byte(n))
	case n <= 0xFFFF:
		return binary.BigEndian.AppendUint16(append(b, finBinary, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, finBinary, 127), uint64(n))
	}
}

// wsSock is the hijacked connection of a WebSocket client.
//
// Goroutines: writeMessages is called by the session's writer goroutine
// (through wsConn.WriteFrames), by a spectator's HTTP handler goroutine
// (streamViewer), or by any goroutine of a proxy relay (WriteFrames: its
// down goroutine, and whichever goroutine ends the relay). Write is called by
// coder/websocket for its control frames (from the bridge's read loop when
// answering a ping, from the goroutine sending the close frame), one frame
// per call because coder/websocket flushes after every frame and its
// control frames fit its buffer. mu makes each of those writes and each
// batch one unit on the socket, so frames never interleave. Read belongs
// to the bridge's read loop; Close may come from anywhere and unblocks a
// pending write.
type wsSock struct {
	net.Conn

	mu        sync.Mutex
	closeSent bool // a close frame went out: no data frames may follow
	broken    bool // a batch write failed, maybe mid-frame: nothing may follow

	// writes counts the socket writes started (batches and control
	// frames), counted before each write; tests read it to check batching.
	writes atomic.Int64
}

// errWSBroken refuses coder/websocket's frames after a failed batch. It
// must not be net.ErrClosed: coder/websocket's Close takes that for a
// close frame that went out and then waits 5 s for the peer's answer,
// where this error makes it drop the connection at once.
var errWSBroken = errors.New("bridge: websocket stream broken by a failed write")

// Write implements net.Conn for coder/websocket's frames. It notes a close
// frame (opcode 8) so that no data frame follows it (RFC 6455 §5.5.1).
func (s *wsSock) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken {
		return 0, errWSBroken
	}
	if len(p) > 0 && p[0]&0x0F == 0x8 {
		s.closeSent = true
	}
	s.writes.Add(1)
	return s.Conn.Write(p)
}

// writeMessages sends each frame as one binary WebSocket message, the
// whole batch in one write that must finish before ctx's deadline (or
// before ctx is cancelled). It returns the number of wire bytes written.
// After a failed write nothing more goes out, not even a close frame (the
// stream may end inside a frame): the session then closes the connection
// and coder/websocket, unable to send its close frame, drops the socket at
// once, as promptly as it did itself on a missed deadline. The socket is
// not closed here: the read loop would end the client first and the
// session would not see a slow consumer.
func (s *wsSock) writeMessages(ctx context.Context, frames []protocol.Frame) (int, error) {
	size := 0
	for _, f := range frames {
		size += wsMaxFrameHeader + len(f) - protocol.HeaderLen + protocol.WSHeaderLen
	}
	bp := corkBufs.Get().(*[]byte)
	defer putCorkBuf(bp)
	buf := (*bp)[:0]
	if cap(buf) < size {
		buf = make([]byte, 0, size)
	}
	for _, f := range frames {
		ws := f.WS()
		buf = appendWSHeader(buf, len(ws))
		buf = append(buf, ws...)
	}
	*bp = buf

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closeSent || s.broken {
		return 0, net.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = s.Conn.SetWriteDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = s.Conn.SetWriteDeadline(time.Unix(1, 0)) })
	s.writes.Add(1)
	n, err := s.Conn.Write(buf)
	if stop() {
		// coder/websocket's own writes bound themselves by closing the
		// connection; they must not inherit this batch's deadline.
		_ = s.Conn.SetWriteDeadline(time.Time{})
	}
	if err != nil {
		s.broken = true
	}
	return n, err
}

// WriteFrames sends frames as one batch (writeMessages) for the proxy
// relay (wsproxy.FrameWriter). Safe for concurrent use: batches never
// interleave.
func (s *wsSock) WriteFrames(ctx context.Context, frames []protocol.Frame) error {
	_, err := s.writeMessages(ctx, frames)
	return err
}

func putCorkBuf(b *[]byte) {
	if cap(*b) <= corkMaxKeep {
		*b = (*b)[:0]
		corkBufs.Put(b)
	}
}

// wsHijacker hands coder/websocket's Accept a wsSock instead of the raw
// hijacked socket. The hijacked writer is flushed (the 101 response) and
// re-pointed at the wsSock, so every frame coder/websocket writes goes
// through it.
type wsHijacker struct {
	http.ResponseWriter
	sock *wsSock // set by Hijack
}

// Unwrap lets http.ResponseController reach the wrapped writer.
func (h *wsHijacker) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// Hijack implements http.Hijacker.
func (h *wsHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil {
		nc.Close()
		return nil, nil, err
	}
	h.sock = &wsSock{Conn: nc}
	brw.Writer.Reset(h.sock)
	return h.sock, brw, nil
}

// errNotHijacked reports a websocket.Accept that did not hijack through
// the wsHijacker (it always does; this guards a library change).
var errNotHijacked = errors.New("bridge: websocket accept did not hijack the connection")

// acceptWS upgrades the request to a WebSocket (binary messages,
// compression disabled, Origin checked against origins) whose writes go
// through a wsSock, returned with the connection. On error the response
// has been written (a failed handshake) or the connection closed.
func acceptWS(rw http.ResponseWriter, r *http.Request, origins []string) (*websocket.Conn, *wsSock, error) {
	hj := &wsHijacker{ResponseWriter: rw}
	c, err := websocket.Accept(hj, r, &websocket.AcceptOptions{
		OriginPatterns:  origins,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, nil, err
	}
	if hj.sock == nil {
		_ = c.CloseNow()
		return nil, nil, errNotHijacked
	}
	return c, hj.sock, nil
}

package wsproxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"drawbridge/protocol"
)

// relay is one browser ↔ upstream connection pair.
type relay struct {
	// Immutable after construction.
	p       *Proxy
	ws      *websocket.Conn // control frames, close and reads; data goes through out
	out     FrameWriter     // every message to the browser; safe from any goroutine
	up      net.Conn
	t       Target
	browser bool
	log     *slog.Logger
	rctx    context.Context // cancelled by finish, after both sides are closed
	cancel  context.CancelFunc

	br *bufio.Reader    // under rd; owned by the down goroutine
	rd *protocol.Reader // owned by the down goroutine

	umu sync.Mutex // serialises writes to up

	lastUpRead   atomic.Int64           // unix nanos of the last upstream frame
	lastUpWrite  atomic.Int64           // unix nanos of the last write to upstream
	pendingPongs atomic.Int32           // pongs owed to our own upstream pings: dropped
	loggedIn     atomic.Bool            // host/join succeeded: no more inspection
	upBye        atomic.Pointer[string] // the upstream's Disconnect message, once seen

	login loginWatch

	once     sync.Once
	finished chan struct{} // closed when finish has completed
	result   error         // written by finish before finished is closed
}

func newRelay(p *Proxy, ws *websocket.Conn, up net.Conn, br *bufio.Reader, rd *protocol.Reader, t Target, o ServeOptions, lg *slog.Logger) *relay {
	r := &relay{p: p, ws: ws, out: o.Writer, up: up, br: br, rd: rd, t: t, browser: o.Browser, log: lg, finished: make(chan struct{})}
	r.login.init()
	now := time.Now().UnixNano()
	r.lastUpRead.Store(now)
	r.lastUpWrite.Store(now)
	return r
}

// end describes how the relay ends.
type end struct {
	err      *Error               // reported to the browser (error + Disconnect) and returned; nil otherwise
	bye      string               // for a clean close: the close reason
	status   websocket.StatusCode // close status when err is nil
	shutdown bool                 // the bridge is shutting down
	abort    bool                 // the browser is gone or broken: just close
}

func (r *relay) run(ctx context.Context, greeting protocol.Frame) error {
	r.rctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	defer r.cancel()
	wctx, cancel := context.WithTimeout(r.rctx, r.p.cfg.WriteTimeout)
	err := r.out.WriteFrames(wctx, []protocol.Frame{greeting})
	cancel()
	if err != nil {
		r.finish(end{abort: true})
		<-r.finished
		return nil
	}
	r.log.Info("proxy relay started")
	stop := context.AfterFunc(ctx, func() { r.finish(end{shutdown: true}) })
	defer stop()
	var wg sync.WaitGroup
	wg.Go(r.down)
	wg.Go(r.upward)
	wg.Go(r.keepalive)
	wg.Wait()
	<-r.finished
	return r.result
}

// finish ends the relay once: tells the browser why (when there is
// something to tell), closes both connections, and cancels rctx.
func (r *relay) finish(e end) {
	r.once.Do(func() {
		defer close(r.finished)
		defer r.cancel()
		defer r.up.Close()
		ctx, cancel := context.WithTimeout(context.Background(), r.p.cfg.WriteTimeout)
		defer cancel()
		send := func(f protocol.Frame) bool {
			return r.out.WriteFrames(ctx, []protocol.Frame{f}) == nil
		}
		switch {
		case e.abort:
			r.log.Info("proxy relay ended by the browser")
			_ = r.ws.CloseNow()
		case e.shutdown:
			r.log.Info("proxy relay ended: shutdown")
			send(disconnectFrame(protocol.DisconnectShutdown, "The bridge is shutting down."))
			_ = r.ws.Close(websocket.StatusGoingAway, "bridge shutting down")
		case e.err != nil:
			r.result = e.err
			r.log.Info("proxy relay ended", "code", e.err.Code, "err", e.err.Err)
			ok := true
			if !r.loggedIn.Load() {
				ok = send(errorFrame(e.err.Code, e.err.Message))
			}
			if ok {
				send(disconnectFrame(protocol.DisconnectError, e.err.Message))
			}
			_ = r.ws.Close(e.err.status(), clip(e.err.Message, 120))
		default:
			r.log.Info("proxy relay ended by the upstream", "reason", e.bye)
			_ = r.ws.Close(e.status, clip(e.bye, 120))
		}
	})
}

// upstreamEnded turns an upstream read or write error into an end.
func (r *relay) upstreamEnded(err error) end {
	if bye := r.upBye.Load(); bye != nil {
		return end{bye: *bye, status: websocket.StatusNormalClosure}
	}
	msg := fmt.Sprintf("Lost the connection to the Drawpile server %s.", r.t)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		msg = fmt.Sprintf("The Drawpile server %s stopped responding.", r.t)
	}
	return end{err: &Error{Code: CodeLost, Target: r.t, Message: msg, Err: err}}
}

// downBatchBytes bounds one batch to the browser: down stops adding
// frames the upstream has already delivered once the batch holds this
// many bytes.
const downBatchBytes = 64 << 10

// down copies upstream frames to the browser. It blocks for one frame,
// then adds every further frame already complete in the read buffer
// (never waiting for more) up to downBatchBytes, and hands the batch to
// the FrameWriter: during a catch-up the browser gets many messages per
// socket write, each still its own WebSocket message, while a lone
// message goes out at once. An upstream error or a refused login ends the
// relay after the frames before it were sent.
func (r *relay) down() {
	var (
		arena  []byte           // the batch's frames, back to back (rd's buffer is reused); < downBatchBytes+MaxFrame
		ends   []int            // end offset of each frame in arena
		frames []protocol.Frame // slices of arena, rebuilt per batch
	)
	for {
		arena, ends = arena[:0], ends[:0]
		var stop *end
		for len(arena) < downBatchBytes && (len(ends) == 0 || r.frameBuffered()) {
			if len(ends) == 0 {
				_ = r.up.SetReadDeadline(time.Now().Add(r.p.cfg.UpstreamTimeout))
			}
			f, err := r.rd.ReadFrame()
			if err != nil {
				e := r.upstreamEnded(err)
				stop = &e
				break
			}
			r.lastUpRead.Store(time.Now().UnixNano())
			f, keep, e := r.inspectDown(f)
			if e != nil {
				stop = e
				break
			}
			if keep {
				arena = append(arena, f...)
				ends = append(ends, len(arena))
			}
		}
		if len(ends) > 0 {
			frames = frames[:0]
			start := 0
			for _, e := range ends {
				frames = append(frames, protocol.Frame(arena[start:e]))
				start = e
			}
			wctx, cancel := context.WithTimeout(r.rctx, r.p.cfg.WriteTimeout)
			err := r.out.WriteFrames(wctx, frames)
			cancel()
			clear(frames)
			if err != nil {
				r.finish(end{abort: true})
				return
			}
		}
		if stop != nil {
			r.finish(*stop)
			return
		}
	}
}

// frameBuffered reports whether the next upstream frame is complete in the
// read buffer, so that reading it cannot block.
func (r *relay) frameBuffered() bool {
	n := r.br.Buffered()
	if n < protocol.HeaderLen {
		return false
	}
	h, err := r.br.Peek(2)
	if err != nil {
		return false
	}
	return n >= protocol.HeaderLen+int(binary.BigEndian.Uint16(h))
}

// inspectDown looks at one upstream frame on its way to the browser: it
// drops the answers to the relay's own pings (keep false), notes the
// upstream's Disconnect, and rewrites the login messages until the login
// is done. A non-nil end stops the relay.
func (r *relay) inspectDown(f protocol.Frame) (out protocol.Frame, keep bool, stop *end) {
	switch f.Type() {
	case protocol.TypePing:
		if p := f.Payload(); len(p) == 1 && p[0] != 0 && r.pendingPongs.Load() > 0 {
			r.pendingPongs.Add(-1) // the answer to our own keepalive ping
			return nil, false, nil
		}
	case protocol.TypeDisconnect:
		msg := "disconnected by the server"
		if p := f.Payload(); len(p) > 1 {
			msg = string(p[1:])
		}
		r.upBye.Store(&msg)
	case protocol.TypeServerCommand:
		if !r.loggedIn.Load() {
			out, e := r.fromUpstream(f)
			if e != nil {
				return nil, false, &end{err: e}
			}
			return out, true, nil
		}
	}
	return f, true, nil
}

// upward copies browser messages to the upstream.
func (r *relay) upward() {
	var buf bytes.Buffer
	for {
		typ, rd, err := r.ws.Reader(r.rctx)
		if err != nil {
			r.finish(end{abort: true})
			return
		}
		buf.Reset()
		buf.Write([]byte{0, 0}) // room for the TCP length
		if _, err := buf.ReadFrom(rd); err != nil {
			r.finish(end{abort: true})
			return
		}
		if typ != websocket.MessageBinary {
			r.log.Warn("dropped a text websocket message from the browser")
			continue
		}
		data := buf.Bytes()
		if len(data) < protocol.HeaderLen {
			r.log.Info("websocket message shorter than its header, closing")
			r.finish(end{abort: true})
			return
		}
		binary.BigEndian.PutUint16(data, uint16(len(data)-protocol.HeaderLen)) // ≤ MaxPayload by the read limit
		f := protocol.Frame(data)
		if f.Type() == protocol.TypeServerCommand && !r.loggedIn.Load() {
			out, e := r.fromBrowser(f)
			if e != nil {
				r.finish(end{err: e})
				return
			}
			f = out
		}
		if err := r.writeUp(f); err != nil {
			r.finish(r.upstreamEnded(err))
			return
		}
	}
}

// writeUp writes one frame to the upstream with a deadline.
func (r *relay) writeUp(f protocol.Frame) error {
	r.umu.Lock()
	defer r.umu.Unlock()
	_ = r.up.SetWriteDeadline(time.Now().Add(r.p.cfg.WriteTimeout))
	_, err := r.up.Write(f)
	if err == nil {
		r.lastUpWrite.Store(time.Now().UnixNano())
	}
	return err
}

// Keepalive frames towards the upstream (protocol.md §1.1, §5.9).
var (
	pingFrame      = protocol.Frame{0, 1, byte(protocol.TypePing), 0, 0}
	keepAliveFrame = protocol.Frame{0, 0, byte(protocol.TypeKeepAlive), 0}
)

// keepalive pings the browser (WebSocket ping: a dead browser is noticed
// even when it has nothing to send) and keeps the upstream connection
// alive: a protocol Ping when the upstream has been silent (its Pong,
// dropped in down, proves it alive), a KeepAlive when we have been silent.
func (r *relay) keepalive() {
	iv := r.p.cfg.PingInterval
	tk := time.NewTicker(iv)
	defer tk.Stop()
	for {
		select {
		case <-r.rctx.Done():
			return
		case <-tk.C:
		}
		now := time.Now().UnixNano()
		var err2 error
		switch {
		case time.Duration(now-r.lastUpRead.Load()) >= iv:
			r.pendingPongs.Add(1)
			err2 = r.writeUp(pingFrame)
		case time.Duration(now-r.lastUpWrite.Load()) >= iv:
			err2 = r.writeUp(keepAliveFrame)
		}
		if err2 != nil {
			r.finish(r.upstreamEnded(err2))
			return
		}
		pctx, cancel := context.WithTimeout(r.rctx, r.p.cfg.WriteTimeout)
		err := r.ws.Ping(pctx)
		cancel()
		if err != nil {
			if r.rctx.Err() == nil {
				r.log.Info("browser did not answer a websocket ping", "err", err)
				r.finish(end{abort: true})
			}
			return
		}
	}
}

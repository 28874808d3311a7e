package wsproxy

import (
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
	ws      *websocket.Conn // writes are safe from any goroutine
	up      net.Conn
	t       Target
	browser bool
	log     *slog.Logger
	rctx    context.Context // cancelled by finish, after both sides are closed
	cancel  context.CancelFunc

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

func newRelay(p *Proxy, ws *websocket.Conn, up net.Conn, rd *protocol.Reader, t Target, o ServeOptions, lg *slog.Logger) *relay {
	r := &relay{p: p, ws: ws, up: up, rd: rd, t: t, browser: o.Browser, log: lg, finished: make(chan struct{})}
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
	err := r.ws.Write(wctx, websocket.MessageBinary, greeting.WS())
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
			return r.ws.Write(ctx, websocket.MessageBinary, f.WS()) == nil
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

// down copies upstream frames to the browser.
func (r *relay) down() {
	for {
		_ = r.up.SetReadDeadline(time.Now().Add(r.p.cfg.UpstreamTimeout))
		f, err := r.rd.ReadFrame()
		if err != nil {
			r.finish(r.upstreamEnded(err))
			return
		}
		r.lastUpRead.Store(time.Now().UnixNano())
		switch f.Type() {
		case protocol.TypePing:
			if p := f.Payload(); len(p) == 1 && p[0] != 0 && r.pendingPongs.Load() > 0 {
				r.pendingPongs.Add(-1) // the answer to our own keepalive ping
				continue
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
					r.finish(end{err: e})
					return
				}
				f = out
			}
		}
		wctx, cancel := context.WithTimeout(r.rctx, r.p.cfg.WriteTimeout)
		err = r.ws.Write(wctx, websocket.MessageBinary, f.WS())
		cancel()
		if err != nil {
			r.finish(end{abort: true})
			return
		}
	}
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

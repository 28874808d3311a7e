package session

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"drawbridge/protocol"
)

// Client is one connection: its login state, its membership in a session
// and its writer goroutine.
type Client struct {
	// Immutable after Accept.
	srv    *Server
	conn   Conn
	info   ConnInfo
	serial uint64
	ctx    context.Context    // cancelled by Close: the writer exits, writes abort
	cancel context.CancelFunc // cancels ctx
	done   chan struct{}      // closed when the writer goroutine has exited
	wake   chan struct{}      // cap 1: direct queue grew or closing was set

	// Owned by the reader goroutine (the caller of Receive).
	login loginState
	// mod mirrors login.flags["MOD"] for other goroutines.
	mod atomic.Bool

	// log is replaced when the client joins a session; guarded by mu.
	// sess is the joined session (nil before join and after leave).
	sess atomic.Pointer[Session]
	// sessionless is when the client was last left without a session (unix
	// ns; 0 while in one), for SessionLessClientLingerTime. Set with setSess.
	sessionless atomic.Int64

	// Guarded by mu.
	mu         sync.Mutex
	logger     *slog.Logger
	queue      []queued // direct messages, FIFO
	queueBytes int
	closing    bool // a Disconnect is queued: write the queue, then close
	closed     bool // Close was called or the transport failed
	overflow   bool // the queue overflowed: the writer disconnects
	closeMsg   string

	// Guarded by the session's mu (valid while sess != nil).
	id           uint8  // context id in the session
	name         string // user name
	authID       string
	flags        map[string]bool // user flags (MOD, HOST, WEB, …)
	avatar       []byte
	op, trusted  bool
	muted        bool
	old          bool // minor-incompatible client (join kwarg oldv)
	viaInvite    bool // joined with an invite (kept when web users are kicked)
	keepalive    bool // announced KEEPALIVE
	sid          string
	lagKicked    bool      // checkLagLocked is already disconnecting it
	catchupMark  int64     // history index of this client's caughtup marker
	catchupStart time.Time // when the client joined (catch-up duration metric)
	joinBytes    int64     // history byte offset when it joined (lag base)
	joinSeq      uint64    // order of entry among the members (Session.joinSeq)
	lastActive   time.Time

	// cursor is the next history index to send: written by the writer
	// goroutine in Session.fetch and by the login before sess is set,
	// always under the session's mu.
	cursor int64
	// Owned by the writer goroutine.
	lastSend time.Time
}

// queued is a direct message and its history barrier: it is written only
// after the history before index barrier (unless the client is catching
// up or not in a session).
type queued struct {
	f       protocol.Frame
	barrier int64
}

// Logger returns the client's logger (with session attributes once joined).
func (c *Client) Logger() *slog.Logger {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logger
}

// Session returns the joined session, or nil.
func (c *Client) Session() *Session { return c.sess.Load() }

// Done is closed when the client's writer goroutine has exited (the
// connection is finished from the core's point of view).
func (c *Client) Done() <-chan struct{} { return c.done }

// sendNow queues a direct message that jumps ahead of any history.
func (c *Client) sendNow(f protocol.Frame) { c.enqueue(f, 0) }

// sendAfter queues a direct message behind the history before barrier.
func (c *Client) sendAfter(f protocol.Frame, barrier int64) { c.enqueue(f, barrier) }

func (c *Client) enqueue(f protocol.Frame, barrier int64) {
	c.mu.Lock()
	if c.closed || c.closing {
		c.mu.Unlock()
		return
	}
	c.queue = append(c.queue, queued{f, barrier})
	c.queueBytes += len(f)
	if c.queueBytes > c.srv.settings().QueueBytes {
		c.overflow = true
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// disconnect queues a Disconnect message; the connection closes once it is
// written. Further input is ignored.
func (c *Client) disconnect(reason uint8, msg string) {
	c.mu.Lock()
	if c.closed || c.closing {
		c.mu.Unlock()
		return
	}
	f := disconnectFrame(reason, msg)
	c.queue = append(c.queue, queued{f, 0})
	c.queueBytes += len(f)
	c.closing = true
	c.closeMsg = msg
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// isClosing reports whether input should be ignored.
func (c *Client) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing || c.closed
}

// fail closes the transport at once (slow consumer, bad data) and leaves
// the session. Safe from any goroutine, idempotent.
func (c *Client) fail(reason CloseReason, msg string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	lg := c.logger
	c.mu.Unlock()
	if reason == CloseSlow {
		c.srv.slowKicks.Add(1)
		lg.Warn("disconnecting slow client", "reason", msg)
	} else {
		lg.Info("closing connection", "reason", reason.String(), "detail", msg)
	}
	_ = c.conn.Close(reason, msg)
	c.leave()
}

// writeFailed ends the client after a failed write: a missed write
// deadline is a slow consumer (logged, counted); any other error means the
// connection is gone (the peer closed or reset it).
func (c *Client) writeFailed(err error) {
	if errors.Is(err, errWriteTimeout) {
		c.fail(CloseSlow, err.Error())
		return
	}
	c.fail(CloseNormal, "connection lost: "+err.Error())
}

// Close ends the client: it leaves its session (Leave in the history),
// stops the writer and closes the transport. The transport adapter calls it
// when its read loop ends. Idempotent; waits for the writer to exit.
func (c *Client) Close() {
	c.mu.Lock()
	already := c.closed
	c.closed = true
	c.mu.Unlock()
	c.leave()
	c.srv.forgetClient(c)
	c.cancel()
	if !already {
		_ = c.conn.Close(CloseNormal, "")
	}
	<-c.done
}

// leave removes the client from its session, if any.
func (c *Client) leave() {
	if s := c.sess.Load(); s != nil {
		s.removeClient(c)
	}
	c.srv.unwatch(c)
}

// writeLoop is the writer goroutine.
func (c *Client) writeLoop() {
	defer close(c.done)
	st := c.srv.settings()
	var keepalive *time.Timer
	var keepaliveC <-chan time.Time
	if st.KeepAliveInterval > 0 {
		keepalive = time.NewTimer(st.KeepAliveInterval)
		defer keepalive.Stop()
		keepaliveC = keepalive.C
	}
	c.lastSend = time.Now()
	var batch []protocol.Frame
	for {
		batch = batch[:0]
		// 1. History that precedes the oldest direct message.
		c.mu.Lock()
		barrier := int64(math.MaxInt64)
		if len(c.queue) > 0 {
			barrier = c.queue[0].barrier
		}
		overflow := c.overflow
		c.mu.Unlock()
		if overflow {
			c.fail(CloseSlow, "send queue overflow")
			return
		}
		var grew <-chan struct{}
		jump := true // direct messages may all go now
		var cur int64
		s := c.sess.Load()
		if s != nil {
			var kick string
			batch, grew, jump, cur, kick = s.fetch(c, batch, barrier)
			if kick != "" {
				c.fail(CloseSlow, kick)
				return
			}
		}
		// 2. Direct messages whose barrier is reached (at least the head
		//    once no more history precedes it).
		closeAfter := false
		if len(batch) == 0 {
			c.mu.Lock()
			if c.closed {
				c.mu.Unlock()
				return
			}
			n, bytes := 0, 0
			for n < len(c.queue) && bytes < st.BatchBytes && (n == 0 || jump || c.queue[n].barrier <= cur) {
				batch = append(batch, c.queue[n].f)
				bytes += len(c.queue[n].f)
				n++
			}
			clear(c.queue[:n])
			c.queue = c.queue[n:]
			if len(c.queue) == 0 {
				c.queue = nil
			}
			c.queueBytes -= bytes
			closeAfter = c.closing && len(c.queue) == 0
			c.mu.Unlock()
		}
		if len(batch) > 0 {
			if err := c.write(batch); err != nil {
				c.writeFailed(err)
				return
			}
			if closeAfter {
				c.mu.Lock()
				c.closed = true
				c.mu.Unlock()
				_ = c.conn.Close(CloseNormal, "disconnected")
				c.leave()
				return
			}
			continue
		}
		// 3. Nothing to send: wait.
		select {
		case <-c.ctx.Done():
			return
		case <-c.wake:
		case <-grew:
		case <-keepaliveC:
			if c.wantsKeepAlive() && time.Since(c.lastSend) >= st.KeepAliveInterval {
				if err := c.write([]protocol.Frame{keepAliveFrame()}); err != nil {
					c.writeFailed(err)
					return
				}
			}
			keepalive.Reset(st.KeepAliveInterval)
		}
	}
}

func (c *Client) wantsKeepAlive() bool {
	s := c.sess.Load()
	if s == nil {
		return false
	}
	s.lock()
	defer s.mu.Unlock()
	return c.keepalive
}

var errWriteTimeout = errors.New("write deadline exceeded")

// write writes one batch with the write deadline.
func (c *Client) write(batch []protocol.Frame) error {
	ctx, cancel := context.WithTimeout(c.ctx, c.srv.settings().WriteTimeout)
	defer cancel()
	err := c.conn.WriteFrames(ctx, batch)
	// The transport sets the socket deadline to ctx's: its timeout can
	// come back a moment before ctx itself reports the deadline.
	if err != nil && (errors.Is(ctx.Err(), context.DeadlineExceeded) ||
		errors.Is(err, os.ErrDeadlineExceeded) && c.ctx.Err() == nil) {
		return errWriteTimeout
	}
	if err == nil {
		c.lastSend = time.Now()
	}
	return err
}

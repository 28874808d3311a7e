package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

	"drawbridge/internal/client"
	"drawbridge/internal/client/wsconn"
	"drawbridge/protocol"
)

// Role is what a bot does in its session.
type Role uint8

// Roles.
const (
	Drawer  Role = iota // draws at the target rate and receives
	Watcher             // only receives
)

func (r Role) String() string { return [...]string{"drawer", "watcher"}[r] }

// session is the shared state of one session's bots.
type session struct {
	name string
	// running is set at the start barrier; streams must not be read
	// before it is.
	running atomic.Bool
	// streams[ctx] is the drawer with that context id; written by Run's
	// goroutine after the connect phase, immutable once running is set.
	streams [256]*stream
	bots    []*bot
}

// bot is one connection.
type bot struct {
	r     *runner
	sess  *session
	role  Role
	index int // within the role and session
	seq   int // global index: generator seed stream
	name  string
	host  bool

	c     *client.Client // set by the bot goroutine before ready is closed
	ready chan struct{}  // closed when login (and catch-up) ended
	done  chan struct{}  // closed when the read loop ended
	uid   uint8          // own context id; immutable after ready
	ok    bool           // login succeeded; immutable after ready

	// Login results; written before ready is closed.
	loginDur     time.Duration
	catchupDur   time.Duration
	joinedAt     int64 // run clock at the join result
	caughtAt     int64 // run clock at caughtup
	catchupBytes int64
	catchupMsgs  int64
	caughtUp     bool

	// Owned by the reading goroutine; read by others only after done.
	counts                [256]uint32 // messages ≥ 64 per ctx since the barrier
	recvMsgs, recvBytes   int64       // every frame since the barrier
	rtt, delivery, lag    *Histogram
	unmatched, mismatched int64
	foreign               int64 // messages ≥ 64 from senders outside this run

	tracked  atomic.Int64 // messages from this run's drawers since the barrier
	echoes   atomic.Int64 // own echoes of type ≥ 128 (fill flow control)
	echoByte atomic.Int64
	echoCh   chan struct{} // signalled (non-blocking) on own echoes

	// Owned by the sender goroutine; read after it ended.
	st                  *stream
	gen                 *Generator
	sentMsgs, sentBytes int64
}

func (b *bot) dial(ctx context.Context) (client.Transport, error) {
	ep := b.r.ep
	if ep.ws {
		return wsconn.Dial(ctx, ep.url, wsconn.DialOptions{Origin: b.r.cfg.Origin})
	}
	return client.DialTCP(ctx, ep.addr)
}

// login connects, hosts or joins, waits for the catch-up and syncs with a
// ping so that everything queued before the bot became ready is consumed.
func (b *bot) login(ctx context.Context) error {
	start := time.Now()
	t, err := b.dial(ctx)
	if err != nil {
		return err
	}
	sysID := fmt.Sprintf("%016x%016x", b.r.runID, uint64(b.seq)+1)
	c := client.New(t, client.Options{Info: client.DefaultClientInfo(sysID), Logger: b.r.cfg.Logger.With("bot", b.name)})
	b.c = c
	lo := client.LoginOptions{
		HostName: b.r.ep.host,
		// Load tests accept any certificate: the bots measure a server,
		// they do not protect secrets.
		TLS:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec
		Ident: client.IdentOptions{Name: b.name},
	}
	if b.host {
		lo.Host = &client.HostOptions{
			Alias:    b.sess.name,
			Password: b.r.cfg.Password,
			Config:   &client.SessionConf{Title: client.Ptr("dptool bots " + b.sess.name), MaxUserCount: client.Ptr(254)},
		}
	} else {
		lo.Join = &client.JoinOptions{Session: b.sess.name, Password: b.r.cfg.Password}
	}
	if _, err := c.Login(ctx, lo); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	b.uid = c.UserID()
	joined := time.Now()
	b.joinedAt = b.r.now()
	b.loginDur = joined.Sub(start)
	if b.host {
		frames, err := hostSnapshot(b.uid, b.r.layout)
		if err != nil {
			return err
		}
		if err := c.Initialize(ctx, frames); err != nil {
			return fmt.Errorf("initialize: %w", err)
		}
	} else {
		err := c.WaitCaughtUp(ctx, func(m client.Message) error {
			b.catchupMsgs++
			b.catchupBytes += int64(len(m.Frame))
			return nil
		})
		if err != nil {
			return fmt.Errorf("catch up: %w", err)
		}
		b.catchupDur = time.Since(joined)
		b.caughtAt = b.r.now()
		b.caughtUp = true
	}
	// Barrier: read until our own pong.
	if err := c.Ping(ctx); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	for {
		m, err := c.Recv(ctx)
		if err != nil {
			return fmt.Errorf("sync: %w", err)
		}
		if m.Frame.Type() == 2 {
			return nil
		}
	}
}

// hostSnapshot is the initial canvas a hosting bot uploads: every feature
// open to guests, a 1920×1080 white canvas and one background layer.
func hostSnapshot(uid uint8, l protocol.Layout) ([]protocol.Frame, error) {
	tiers := make([]uint8, 12)
	for i := range tiers {
		tiers[i] = 3
	}
	msgs := []protocol.Message{
		&protocol.FeatureAccessLevels{FeatureTiers: tiers},
		&protocol.CanvasResize{Right: 1920, Bottom: 1080},
		&protocol.CanvasBackground{Image: []byte{0xff, 0xff, 0xff, 0xff}},
		&protocol.LayerTreeCreate{ID: 1<<8 | uint32(uid), Title: "Background"},
		&protocol.DefaultLayer{ID: 1<<8 | uint32(uid)},
	}
	frames := make([]protocol.Frame, 0, len(msgs))
	for _, m := range msgs {
		f, err := protocol.EncodeFrame(uid, m, l)
		if err != nil {
			return nil, fmt.Errorf("encode snapshot: %w", err)
		}
		frames = append(frames, f)
	}
	return frames, nil
}

// readLoop receives until the connection ends. It runs on the bot's own
// goroutine, which owns the receive counters and histograms.
func (b *bot) readLoop() error {
	r := b.r
	running := false
	ctx := context.Background() // no Done channel: no per-read timer; Close ends the loop
	for {
		m, err := b.c.Recv(ctx)
		if err != nil {
			return err
		}
		f := m.Frame
		if !running {
			running = b.sess.running.Load()
		}
		t := f.Type()
		if running && !r.stopping.Load() { // not the Leave/log noise of the shutdown
			b.recvMsgs++
			b.recvBytes += int64(len(f))
		}
		if t < protocol.FirstClientMeta {
			continue
		}
		from := f.Ctx()
		if from == b.uid && t >= protocol.FirstCommand {
			b.echoes.Add(1)
			b.echoByte.Add(int64(len(f)))
			select {
			case b.echoCh <- struct{}{}:
			default:
			}
		}
		if !running {
			continue
		}
		k := b.counts[from]
		b.counts[from]++
		s := b.sess.streams[from]
		if s == nil {
			b.foreign++
			continue
		}
		b.tracked.Add(1)
		now := r.now()
		sent, res := s.lookup(k, uint8(t), len(f)-protocol.HeaderLen)
		switch res {
		case matchUnmatched:
			b.unmatched++
			continue
		case matchMismatch:
			b.mismatched++
			continue
		}
		if from == b.uid {
			b.rtt.Add(now - sent)
		} else {
			b.delivery.Add(now - sent)
		}
		if first, ok := s.firstSeen(k, now); ok {
			b.lag.Add(now - first)
		}
	}
}

// sendLoop draws at the target rate: message k is due at start + offset +
// k·interval, and nothing due at or after end is sent; stop ends it early.
// A sender that fell behind (a write blocked) catches up at once, but
// never by more than maxBurst messages, so the achieved rate shows the
// server's back-pressure.
func (b *bot) sendLoop(start, end time.Time, stop <-chan struct{}) error {
	const maxBurst = 10
	r := b.r
	interval := time.Duration(float64(time.Second) / r.cfg.Rate)
	// Spread the bots' sends over one interval, deterministically.
	offset := time.Duration(uint64(b.seq)*0x9E3779B97F4A7C15>>11) % max(interval, 1)
	due := start.Add(offset)
	timer := time.NewTimer(time.Until(due))
	defer timer.Stop()
	buf := make([]byte, 0, 2048)
	ctx := context.Background() // Close unblocks a stuck write
	var seq uint32
	for due.Before(end) {
		select {
		case <-stop:
			return nil
		case <-timer.C:
		}
		var err error
		buf, err = b.gen.Next(buf[:0], b.uid)
		if err != nil {
			return fmt.Errorf("generate: %w", err)
		}
		b.st.publish(seq, buf[2], len(buf)-protocol.HeaderLen, r.now())
		if err := b.c.SendFrame(ctx, protocol.Frame(buf)); err != nil {
			return fmt.Errorf("send: %w", err)
		}
		seq++
		b.st.sent.Add(1)
		b.sentMsgs++
		b.sentBytes += int64(len(buf))
		due = due.Add(interval)
		if late := time.Since(due); late > maxBurst*interval {
			due = due.Add(late - maxBurst*interval)
		}
		timer.Reset(time.Until(due))
	}
	return nil
}

// fill uploads about n bytes of drawing as fast as the server takes it,
// keeping at most window bytes unacknowledged (not yet echoed), and waits
// for the last echo.
func (b *bot) fill(ctx context.Context, n int64) error {
	const window = 2 << 20
	gen := NewGenerator(b.r.cfg.Seed^0xF111, b.seq, GenOptions{Fill: true, Layout: b.r.layout})
	buf := make([]byte, 0, 2048)
	var sent, sentBytes int64
	for sentBytes < n {
		for sentBytes-b.echoByte.Load() > window {
			select {
			case <-ctx.Done():
				return fmt.Errorf("fill: %w", ctx.Err())
			case <-b.done:
				return errors.New("fill: connection lost")
			case <-b.echoCh:
			}
		}
		var err error
		buf, err = gen.Next(buf[:0], b.uid)
		if err != nil {
			return fmt.Errorf("fill: %w", err)
		}
		if err := b.c.SendFrame(ctx, protocol.Frame(buf)); err != nil {
			return fmt.Errorf("fill: %w", err)
		}
		if buf[2] >= byte(protocol.FirstCommand) {
			sent++
		}
		sentBytes += int64(len(buf))
	}
	for b.echoes.Load() < sent {
		select {
		case <-ctx.Done():
			return fmt.Errorf("fill: waiting for echoes: %w", ctx.Err())
		case <-b.done:
			return errors.New("fill: connection lost")
		case <-b.echoCh:
		}
	}
	return nil
}

// isClosed reports whether err is the end of a connection the run closed
// itself.
func isClosed(err error) bool {
	return err == nil || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, errStopped) || errors.Is(err, context.Canceled)
}

package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"drawbridge/protocol"
)

// runner is one Run. Its fields are immutable after newRunner except where
// noted.
type runner struct {
	cfg    Config
	ep     endpoint
	layout protocol.Layout
	runID  uint64
	epoch  time.Time

	sessions []*session
	bots     []*bot

	stopping atomic.Bool // set before the run closes connections itself

	mu          sync.Mutex // guards the fields below
	errCount    int
	disconnects int
	samples     []string
}

// now returns the run's monotonic clock in ns since the epoch.
func (r *runner) now() int64 { return int64(time.Since(r.epoch)) }

const maxErrorSamples = 10

// recordError counts an error; disconnect marks the loss of a connection
// that was logged in.
func (r *runner) recordError(b *bot, err error, disconnect bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errCount++
	if disconnect {
		r.disconnects++
	}
	if len(r.samples) < maxErrorSamples {
		r.samples = append(r.samples, fmt.Sprintf("%s: %v", b.name, err))
	}
	r.cfg.Logger.Warn("bot error", "bot", b.name, "err", err, "disconnect", disconnect)
}

func newRunner(cfg Config) (*runner, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ep, _ := parseServer(cfg.Server)
	var idb [8]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return nil, fmt.Errorf("loadgen: run id: %w", err)
	}
	r := &runner{cfg: cfg, ep: ep, layout: protocol.Layout425, runID: binary.BigEndian.Uint64(idb[:]), epoch: time.Now()}
	for s := 0; s < cfg.Sessions; s++ {
		name := cfg.Session
		if cfg.Sessions > 1 {
			name = fmt.Sprintf("%s-%d", cfg.Session, s+1)
		}
		sess := &session{name: name}
		r.sessions = append(r.sessions, sess)
		for i := 0; i < cfg.Drawers+cfg.Watchers; i++ {
			role, idx, letter := Drawer, i, "d"
			if i >= cfg.Drawers {
				role, idx, letter = Watcher, i-cfg.Drawers, "w"
			}
			b := &bot{
				r: r, sess: sess, role: role, index: idx, seq: len(r.bots),
				name:     fmt.Sprintf("%s%d%s%d", cfg.NamePrefix, s+1, letter, idx),
				host:     cfg.HostSession && i == 0,
				ready:    make(chan struct{}),
				done:     make(chan struct{}),
				echoCh:   make(chan struct{}, 1),
				delivery: new(Histogram),
				lag:      new(Histogram),
			}
			if role == Drawer {
				b.rtt = new(Histogram)
			}
			sess.bots = append(sess.bots, b)
			r.bots = append(r.bots, b)
		}
	}
	return r, nil
}

// Run executes one load run and returns its report. The report is
// returned (with its error counts) even when some bots failed; the error
// is non-nil only when the run could not start or no bot connected.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	r, err := newRunner(cfg)
	if err != nil {
		return nil, err
	}
	return r.run(ctx)
}

func (r *runner) run(ctx context.Context) (*Report, error) {
	cfg := r.cfg
	lg := cfg.Logger
	started := time.Now()

	pingCtx, stopPing := context.WithCancel(ctx)
	pingDone := make(chan struct{})
	go func() {
		defer close(pingDone)
		r.pinger(pingCtx)
	}()
	defer func() {
		stopPing()
		<-pingDone
	}()

	// Connect phase.
	lg.Info("connecting", "server", cfg.Server, "sessions", cfg.Sessions, "drawers", cfg.Drawers, "watchers", cfg.Watchers)
	cctx, cancelConnect := context.WithTimeout(ctx, cfg.ConnectTimeout)
	sem := make(chan struct{}, cfg.LoginConcurrency)
	// Phase A: hosts log in, initialise and fill their sessions.
	var fillDur time.Duration
	if cfg.HostSession {
		var hwg sync.WaitGroup
		var fillMu sync.Mutex
		for _, s := range r.sessions {
			h := s.bots[0]
			go r.botMain(cctx, h, sem)
			hwg.Add(1)
			go func() {
				defer hwg.Done()
				<-h.ready
				if !h.ok || cfg.FillBytes == 0 {
					return
				}
				t0 := time.Now()
				if err := h.fill(cctx, cfg.FillBytes); err != nil {
					r.recordError(h, err, false)
				}
				fillMu.Lock()
				fillDur = max(fillDur, time.Since(t0))
				fillMu.Unlock()
				lg.Info("filled", "session", s.name, "bytes", cfg.FillBytes, "took", time.Since(t0))
			}()
		}
		hwg.Wait()
	}
	// Phase B: everyone else joins and catches up.
	var sp *procSampler
	var catchStart time.Time
	if cfg.Catchup {
		if cfg.ServerPID > 0 {
			sp = startProcSampler(cfg.ServerPID)
		}
		catchStart = time.Now()
	}
	for _, s := range r.sessions {
		others := s.bots
		if cfg.HostSession {
			others = s.bots[1:]
			if !s.bots[0].ok {
				for _, b := range others {
					r.recordError(b, errors.New("not started: the host failed"), false)
					close(b.ready)
					close(b.done)
				}
				continue
			}
		}
		for _, b := range others {
			go r.botMain(cctx, b, sem)
		}
	}
	for _, b := range r.bots {
		<-b.ready
	}
	cancelConnect()
	connected := 0
	for _, b := range r.bots {
		if b.ok {
			connected++
		}
	}
	lg.Info("connected", "bots", connected, "of", len(r.bots), "took", time.Since(started))

	rep := &Report{}
	var runDur, recvDur time.Duration
	if sp != nil {
		rep.ServerProc = sp.stop(time.Since(catchStart))
	}
	if connected > 0 && !cfg.Catchup {
		// Register the drawers' streams, then open the barrier.
		for _, b := range r.bots {
			if b.ok && b.role == Drawer {
				b.st = &stream{ctx: b.uid}
				b.gen = NewGenerator(cfg.Seed, b.seq, GenOptions{Layout: r.layout})
				b.sess.streams[b.uid] = b.st
			}
		}
		for _, s := range r.sessions {
			s.running.Store(true)
		}
		var sp *procSampler
		if cfg.ServerPID > 0 {
			sp = startProcSampler(cfg.ServerPID)
		}
		self := startProcSampler(os.Getpid())
		start := time.Now().Add(50 * time.Millisecond)
		stop := make(chan struct{})
		var swg sync.WaitGroup
		if cfg.Rate > 0 {
			for _, b := range r.bots {
				if b.ok && b.role == Drawer {
					swg.Add(1)
					go func() {
						defer swg.Done()
						if err := b.sendLoop(start, start.Add(cfg.Duration), stop); err != nil && !(r.stopping.Load() && isClosed(err)) {
							r.recordError(b, err, false)
						}
					}()
				}
			}
		}
		lg.Info("drawing", "duration", cfg.Duration, "rate", cfg.Rate)
		t := time.NewTimer(time.Until(start.Add(cfg.Duration)))
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		close(stop)
		swg.Wait()
		runDur = time.Since(start)
		r.drain(ctx)
		recvDur = time.Since(start)
		if sp != nil {
			rep.ServerProc = sp.stop(recvDur)
		}
		rep.ToolProc = self.stop(recvDur)
	}

	// Shut down.
	r.stopping.Store(true)
	r.closeAll()
	for _, b := range r.bots {
		<-b.done
	}
	r.fillReport(rep, started, runDur, recvDur, fillDur)
	if connected == 0 {
		return rep, fmt.Errorf("loadgen: no bot connected (%d errors; first: %s)", rep.Errors, firstOr(rep.ErrorSamples, "none"))
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	return rep, nil
}

// closeAll closes every connection, 64 at a time: a WebSocket close waits
// for the peer's close frame, which a busy server may delay.
func (r *runner) closeAll() {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for _, b := range r.bots {
		if b.c == nil {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = b.c.Close()
			<-sem
		}()
	}
	wg.Wait()
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}

// botMain is the bot's goroutine: login, then read until closed.
func (r *runner) botMain(ctx context.Context, b *bot, sem chan struct{}) {
	defer close(b.done)
	var err error
	select {
	case sem <- struct{}{}:
		err = b.login(ctx)
		<-sem
	case <-ctx.Done():
		err = fmt.Errorf("login not started: %w", ctx.Err())
	}
	if err != nil {
		r.recordError(b, err, false)
		if b.c != nil {
			_ = b.c.Close()
		}
		close(b.ready)
		return
	}
	b.ok = true
	close(b.ready)
	err = b.readLoop()
	if !(r.stopping.Load() && isClosed(err)) {
		if err == nil {
			err = errors.New("connection closed by the server")
		}
		r.recordError(b, err, true)
	}
}

// pinger keeps idle bots alive: servers drop clients that send nothing
// for 60 s (protocol.md §5.9).
func (r *runner) pinger(ctx context.Context) {
	const every = 15 * time.Second
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, b := range r.bots {
			select {
			case <-b.ready:
			default:
				continue
			}
			select {
			case <-b.done:
				continue
			default:
			}
			if !b.ok || r.stopping.Load() {
				continue
			}
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_ = b.c.Ping(pctx) // a failing connection is reported by its reader
			cancel()
		}
	}
}

// drain waits until every live receiver has every message its session's
// drawers sent, or DrainTimeout.
func (r *runner) drain(ctx context.Context) {
	deadline := time.NewTimer(r.cfg.DrainTimeout)
	defer deadline.Stop()
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for {
		if r.drained() {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			r.cfg.Logger.Warn("drain timeout: some receivers did not get every message")
			return
		case <-poll.C:
		}
	}
}

func (r *runner) drained() bool {
	for _, s := range r.sessions {
		want := s.expected()
		for _, b := range s.bots {
			if !b.ok {
				continue
			}
			select {
			case <-b.done:
				continue
			default:
			}
			if b.tracked.Load() < want {
				return false
			}
		}
	}
	return true
}

// expected is the number of messages the session's drawers sent since the
// barrier: what each receiver must get.
func (s *session) expected() int64 {
	var n int64
	for _, st := range s.streams {
		if st != nil {
			n += st.sent.Load()
		}
	}
	return n
}

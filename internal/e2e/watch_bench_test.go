package e2e

// Spectator scenarios too heavy for the normal test run (issue #8
// acceptance): run them explicitly, e.g.
//
//	go test -run '^$' -bench 'BenchmarkWatch' -benchtime 1x ./internal/e2e/
//
// They log the numbers BENCHMARKS.md quotes. The bridge runs in-process,
// so CPU time and heap include the test's own clients.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"drawbridge/internal/bridge"
	"drawbridge/internal/client"
	"drawbridge/protocol"
)

// benchSession starts a bridge and hosts a session with a w×h canvas and
// one layer; the host's echo is drained in the background.
func benchSession(b *testing.B, w, h int32) (ctx context.Context, br *bridge.Bridge, host *client.Client, watchURL string) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	b.Cleanup(cancel)
	logger := slog.New(slog.NewTextHandler(b.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	br, err := bridge.Start(ctx, bridge.Config{TCPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"}, logger)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { br.Close() })
	tr, err := client.DialTCP(ctx, br.TCPAddr())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tr.Close() })
	host = client.New(tr, client.Options{Info: client.DefaultClientInfo(newSystemID())})
	if _, err := host.Login(ctx, client.LoginOptions{Ident: client.IdentOptions{Name: "host"}, Host: &client.HostOptions{}}); err != nil {
		b.Fatal(err)
	}
	uid := host.UserID()
	init := []protocol.Frame{}
	for _, m := range []protocol.Message{
		protocol.CanvasResize{Right: w, Bottom: h},
		protocol.LayerTreeCreate{ID: protocol.LayerID(uid, 1), Fill: 0xffffffff, Title: "Layer 1"},
	} {
		f, err := protocol.EncodeFrame(uid, m, protocol.Layout425)
		if err != nil {
			b.Fatal(err)
		}
		init = append(init, f)
	}
	if err := host.Initialize(ctx, init); err != nil {
		b.Fatal(err)
	}
	drainClient(ctx, host)
	s := br.Server().Lookup(host.JoinInfo().ID)
	srv := httptest.NewServer(br.WatchHandler())
	b.Cleanup(srv.Close)
	return ctx, br, host, wsBase(srv) + "/watch/" + s.WatchSecret() + "/ws"
}

// flood sends PutImages of random pixels until about size bytes of
// history were sent, then a chat marker.
func flood(ctx context.Context, b *testing.B, host *client.Client, size int, w, h int32, marker string) {
	rng := rand.New(rand.NewPCG(1, 2))
	layer := protocol.LayerID(host.UserID(), 1)
	img := randomImage(b, rng, 120, 120) // ~57 KiB, incompressible
	for sent := 0; sent < size; sent += len(img) + 30 {
		x, y := rng.Int32N(w-120), rng.Int32N(h-120)
		sendMsg(ctx, b, host, protocol.UndoPoint{})
		sendMsg(ctx, b, host, protocol.PutImage{Layer: layer, Mode: 1, X: uint32(x), Y: uint32(y), W: 120, H: 120, Image: img})
	}
	if err := host.Chat(ctx, marker); err != nil {
		b.Fatal(err)
	}
}

// watchUntil dials a spectator and reads until pred; it returns the time
// to the caughtup marker and to pred.
func watchUntil(ctx context.Context, b *testing.B, url string, p *canvasPlayer, pred func() bool) (caught, done time.Duration) {
	start := time.Now()
	sp, err := dialSpectator(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer sp.c.CloseNow()
	if err := sp.until(ctx, b, p, func() bool { return p.caughtUp }); err != nil {
		b.Fatal(err)
	}
	caught = time.Since(start)
	if err := sp.until(ctx, b, p, pred); err != nil {
		b.Fatal(err)
	}
	return caught, time.Since(start)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapMiB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapInuse) / (1 << 20)
}

// BenchmarkWatchLateJoin50MB: a session with a 50 MB history; a viewer
// that arrives cold (no mirror yet: the mirror replays the history while
// the viewer streams) and late viewers while the mirror is warm (they get
// a snapshot and a short tail).
func BenchmarkWatchLateJoin50MB(b *testing.B) {
	const w, h = 2000, 2000
	ctx, br, host, url := benchSession(b, w, h)
	t0 := time.Now()
	flood(ctx, b, host, 50<<20, w, h, "flooded")
	s := br.Server().Lookup(host.JoinInfo().ID)
	// Wait until the whole flood is in the history.
	for s.Desc().Size < 50<<20 {
		time.Sleep(10 * time.Millisecond)
	}
	b.Logf("history: %.1f MiB built in %v", float64(s.Desc().Size)/(1<<20), time.Since(t0).Round(time.Millisecond))

	cold := newCanvasPlayer()
	caught, done := watchUntil(ctx, b, url, cold, func() bool { return cold.saw("flooded") })
	b.Logf("cold viewer (mirror starts now): caughtup after %v, live (saw the last message) after %v, received %.1f MiB",
		caught.Round(time.Millisecond), done.Round(time.Millisecond), float64(cold.bytes)/(1<<20))

	// Keep one viewer connected so the mirror stays warm.
	keep, err := dialSpectator(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer keep.c.CloseNow()
	go func() {
		for {
			if _, err := keep.read(ctx); err != nil {
				return
			}
		}
	}()
	b.ResetTimer()
	var worst time.Duration
	for i := range b.N {
		marker := fmt.Sprintf("late %d", i)
		if err := host.Chat(ctx, marker); err != nil {
			b.Fatal(err)
		}
		p := newCanvasPlayer()
		start := time.Now()
		sp, err := dialSpectator(ctx, url)
		if err != nil {
			b.Fatal(err)
		}
		if err := sp.until(ctx, b, p, func() bool { return p.caughtUp }); err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		worst = max(worst, d)
		if i == 0 {
			b.Logf("warm late viewer: watching after %v, received %.1f MiB in %d messages", d.Round(time.Millisecond), float64(p.bytes)/(1<<20), p.msgs)
			// Read the tail after the snapshot too, then compare.
			if err := host.Chat(ctx, "sync"); err != nil {
				b.Fatal(err)
			}
			if err := sp.until(ctx, b, p, func() bool { return p.saw("sync") }); err != nil {
				b.Fatal(err)
			}
			sameRender(b, "late viewer vs cold viewer", p.render(), cold.render())
		}
		sp.c.CloseNow()
	}
	b.ReportMetric(float64(worst.Milliseconds()), "worst-ms/latejoin")
}

// BenchmarkWatch1000Viewers: 1,000 spectator WebSockets on one session on
// loopback; the host draws; every viewer's canvas converges to the
// mirror's (a late viewer's snapshot).
func BenchmarkWatch1000Viewers(b *testing.B) {
	const viewers = 1000
	const w, h = 1024, 768
	ctx, br, host, url := benchSession(b, w, h)
	s := br.Server().Lookup(host.JoinInfo().ID)
	heap0, cpu0 := heapMiB(), cpuTime()
	var mu sync.Mutex
	spectators := make([]*spectator, viewers)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range viewers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sp, err := dialSpectator(ctx, url)
			if err != nil {
				b.Error(err)
				return
			}
			mu.Lock()
			spectators[i] = sp
			mu.Unlock()
		}()
	}
	wg.Wait()
	if b.Failed() {
		return
	}
	b.Logf("%d spectators connected in %v", viewers, time.Since(start).Round(time.Millisecond))
	// Each viewer hashes its stream; one viewer per distinct stream keeps
	// its frames and replays them (identical streams give identical
	// canvases), so the test's memory is not 1,000 canvases.
	type stream struct {
		sum    [32]byte
		frames []protocol.Frame
		err    error
	}
	results := make(chan stream, viewers)
	last := fmt.Sprint("end ", b.N-1)
	for _, sp := range spectators {
		go func() {
			defer sp.c.CloseNow()
			h := sha256.New()
			var frames []protocol.Frame
			for {
				f, err := sp.read(ctx)
				if err != nil {
					results <- stream{err: err}
					return
				}
				h.Write(f)
				frames = append(frames, f)
				if f.Type() == protocol.TypeChat && bytes.HasSuffix(f, []byte(last)) {
					break
				}
			}
			var st stream
			h.Sum(st.sum[:0])
			st.frames = frames
			results <- st
		}()
	}
	rng := rand.New(rand.NewPCG(3, 4))
	layer := protocol.LayerID(host.UserID(), 1)
	b.ResetTimer()
	t0 := time.Now()
	for i := range b.N {
		for range 200 {
			sendMsg(ctx, b, host, protocol.UndoPoint{})
			sendMsg(ctx, b, host, protocol.FillRect{Layer: layer, Mode: 1, X: uint32(rng.IntN(w - 50)), Y: uint32(rng.IntN(h - 50)),
				W: 50, H: 50, Color: 0xff000000 | rng.Uint32()&0xffffff})
		}
		if err := host.Chat(ctx, fmt.Sprint("end ", i)); err != nil {
			b.Fatal(err)
		}
	}
	distinct := map[[32]byte][]protocol.Frame{}
	for range viewers {
		r := <-results
		if r.err != nil {
			b.Fatal(r.err)
		}
		if _, ok := distinct[r.sum]; !ok {
			distinct[r.sum] = r.frames
		}
	}
	fanout := time.Since(t0)
	b.StopTimer()
	var players []*canvasPlayer
	for _, frames := range distinct {
		p := newCanvasPlayer()
		for _, f := range frames {
			p.feed(b, f)
		}
		players = append(players, p)
	}
	b.Logf("%d distinct spectator streams; the session reports %d viewers, %d users", len(distinct), s.Viewers(), s.Desc().UserCount)
	cpu, heap := cpuTime()-cpu0, heapMiB()
	late := newCanvasPlayer()
	sp, err := dialSpectator(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer sp.c.CloseNow()
	if err := sp.until(ctx, b, late, func() bool { return late.caughtUp }); err != nil {
		b.Fatal(err)
	}
	if err := host.Chat(ctx, "final"); err != nil {
		b.Fatal(err)
	}
	if err := sp.until(ctx, b, late, func() bool { return late.saw("final") }); err != nil {
		b.Fatal(err)
	}
	want := late.render()
	for _, p := range players {
		sameRender(b, "spectator vs late snapshot", p.render(), want)
	}
	b.Logf("%d viewers: %d×401 messages fanned out to all in %v; process CPU %v, heap %.0f → %.0f MiB (includes the test's %d WebSocket clients); all %d canvases equal the mirror's",
		viewers, b.N, fanout.Round(time.Millisecond), cpu.Round(time.Millisecond), heap0, heap, viewers, viewers)
}

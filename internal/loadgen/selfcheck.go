package loadgen

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"time"

	"drawbridge/internal/client"
	"drawbridge/protocol"
)

// SelfCheckResult is the tool's own cost per message, measured against an
// in-memory "null server" (no sockets): what remains is the generator,
// the client's frame handling and the latency accounting.
type SelfCheckResult struct {
	Messages       int     `json:"messages"`
	GenNsPerMsg    float64 `json:"gen_ns_per_msg"`
	RecvNsPerMsg   float64 `json:"recv_ns_per_msg"`
	GenAllocsPer   float64 `json:"gen_allocs_per_msg"`
	RecvAllocsPer  float64 `json:"recv_allocs_per_msg"`
	AvgFrameBytes  float64 `json:"avg_frame_bytes"`
	RecvMsgsPerCPU float64 `json:"recv_msgs_per_cpu_s"`
}

// WriteSummary writes res for humans.
func (res *SelfCheckResult) WriteSummary(w io.Writer) {
	fmt.Fprintf(w, "dptool bots self-check (null server, %d messages, %.0f bytes average):\n", res.Messages, res.AvgFrameBytes)
	fmt.Fprintf(w, "  generate+encode  %7.0f ns/msg  %.2f allocs/msg\n", res.GenNsPerMsg, res.GenAllocsPer)
	fmt.Fprintf(w, "  receive+account  %7.0f ns/msg  %.2f allocs/msg\n", res.RecvNsPerMsg, res.RecvAllocsPer)
	fmt.Fprintf(w, "  → one core handles about %.1f M received msgs/s before socket costs;\n", res.RecvMsgsPerCPU/1e6)
	fmt.Fprintf(w, "    e.g. 500 bots × 200 msgs/s = 100k msgs/s costs %.1f%% of a core here.\n", 100*1e5/res.RecvMsgsPerCPU)
}

// memTransport is a client.Transport that plays frames from memory, as a
// server that relays one drawer's messages would, and discards writes.
type memTransport struct {
	frames []protocol.Frame
	st     *stream
	r      *runner
	i, n   int
}

func (m *memTransport) ReadFrame(context.Context) (protocol.Frame, error) {
	if m.i >= m.n {
		return nil, io.EOF
	}
	f := m.frames[m.i%len(m.frames)]
	// The "sender" publishes just before the "server" relays.
	m.st.publish(uint32(m.i), byte(f.Type()), len(f)-protocol.HeaderLen, m.r.now())
	m.i++
	return f, nil
}

func (m *memTransport) WriteFrame(context.Context, protocol.Frame) error { return nil }
func (m *memTransport) Close() error                                     { return nil }

// nullReceiver returns a watcher bot whose client reads n frames (cycling
// through frames, all from one drawer of this run) from memory.
func nullReceiver(frames []protocol.Frame, n int) *bot {
	r := &runner{epoch: time.Now()}
	sess := &session{name: "selfcheck"}
	st := &stream{ctx: frames[0].Ctx()}
	sess.streams[st.ctx] = st
	sess.running.Store(true)
	mt := &memTransport{frames: frames, st: st, r: r, n: n}
	b := &bot{r: r, sess: sess, role: Watcher, uid: st.ctx + 1, delivery: new(Histogram), lag: new(Histogram), echoCh: make(chan struct{}, 1)}
	b.c = client.New(mt, client.Options{})
	return b
}

// SelfCheck measures the generator and the receive path for n messages.
func SelfCheck(ctx context.Context, n int) (*SelfCheckResult, error) {
	if n < 1 || n > 100_000_000 {
		return nil, &ConfigError{"selfcheck", "message count out of range"}
	}
	res := &SelfCheckResult{Messages: n}
	const senderCtx = 7
	gen := NewGenerator(1, 0, GenOptions{})
	frames, err := sampleFrames(gen, senderCtx)
	if err != nil {
		return nil, err
	}
	var total int
	for _, f := range frames {
		total += len(f)
	}
	res.AvgFrameBytes = float64(total) / float64(len(frames))

	// Generation.
	var ms0, ms1 runtime.MemStats
	buf := make([]byte, 0, 2048)
	runtime.ReadMemStats(&ms0)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		var err error
		if buf, err = gen.Next(buf[:0], senderCtx); err != nil {
			return nil, err
		}
		if i&0xFFFF == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	el := time.Since(t0)
	runtime.ReadMemStats(&ms1)
	res.GenNsPerMsg = float64(el.Nanoseconds()) / float64(n)
	res.GenAllocsPer = float64(ms1.Mallocs-ms0.Mallocs) / float64(n)

	// Receiving: one watcher bot reading a drawer's stream.
	b := nullReceiver(frames, n)
	runtime.ReadMemStats(&ms0)
	t0 = time.Now()
	err = b.readLoop()
	el = time.Since(t0)
	runtime.ReadMemStats(&ms1)
	if err != io.EOF {
		return nil, fmt.Errorf("selfcheck: read loop: %v", err)
	}
	if b.tracked.Load() != int64(n) || b.mismatched != 0 || b.unmatched != 0 {
		return nil, fmt.Errorf("selfcheck: tracked %d of %d (mismatched %d, unmatched %d)", b.tracked.Load(), n, b.mismatched, b.unmatched)
	}
	res.RecvNsPerMsg = float64(el.Nanoseconds()) / float64(n)
	res.RecvAllocsPer = float64(ms1.Mallocs-ms0.Mallocs) / float64(n)
	res.RecvMsgsPerCPU = 1e9 / res.RecvNsPerMsg
	return res, nil
}

// sampleFrames returns 4096 consecutive frames of gen.
func sampleFrames(gen *Generator, ctx uint8) ([]protocol.Frame, error) {
	frames := make([]protocol.Frame, 0, 4096)
	for range 4096 {
		b, err := gen.Next(nil, ctx)
		if err != nil {
			return nil, err
		}
		frames = append(frames, b)
	}
	return frames, nil
}

package bridge

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"drawbridge/internal/session"
	"drawbridge/protocol"
)

// BenchmarkLoopbackFanout: one TCP sender and N TCP receivers in one
// session on loopback. Each message is a 94-byte DrawDabsClassic whose
// payload carries the send time; receivers record the sender-to-receiver
// latency. Reports deliveries/s and p50/p99 latency, flooding (rate=max:
// latency is queueing) and paced at 1000 messages/s (a busy drawing
// session).
func BenchmarkLoopbackFanout(b *testing.B) {
	for _, rate := range []int{0, 1000} {
		for _, n := range []int{1, 10, 100, 250} {
			name := fmt.Sprintf("rate=max/receivers=%d", n)
			if rate > 0 {
				name = fmt.Sprintf("rate=%d/receivers=%d", rate, n)
			}
			b.Run(name, func(b *testing.B) { benchFanout(b, n, rate) })
		}
	}
}

func benchFanout(b *testing.B, n, rate int) {
	{
		{
			st := session.DefaultSettings()
			st.SessionSizeLimit, st.AutoResetThreshold = 0, 0
			br, err := Start(context.Background(), Config{TCPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Settings: &st},
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				b.Fatal(err)
			}
			defer br.Close()
			host := benchDial(b, br.TCPAddr())
			benchHost(b, host)
			type result struct{ lat []time.Duration }
			results := make([]result, n)
			var wg sync.WaitGroup
			ready := make(chan struct{}, n)
			for i := range n {
				c := benchDial(b, br.TCPAddr())
				benchJoin(b, c, fmt.Sprintf("r%d", i))
				wg.Add(1)
				go func() {
					defer wg.Done()
					ready <- struct{}{}
					lat := make([]time.Duration, 0, b.N)
					for len(lat) < b.N {
						f, err := c.rd.ReadFrame()
						if err != nil {
							return
						}
						if f.Type() == 148 && f.Ctx() == 1 {
							sent := int64(binary.BigEndian.Uint64(f.Payload()[8:]))
							lat = append(lat, time.Duration(time.Now().UnixNano()-sent))
						}
					}
					results[i].lat = lat
				}()
			}
			for range n {
				<-ready
			}
			payload := make([]byte, 24+7*10)
			bw := bufio.NewWriter(host.nc)
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				if rate > 0 {
					time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
				}
				binary.BigEndian.PutUint64(payload[8:], uint64(time.Now().UnixNano()))
				f, _ := protocol.NewFrame(148, 1, payload)
				bw.Write(f)
				if rate > 0 || bw.Buffered() > 16*1024 {
					bw.Flush()
				}
			}
			bw.Flush()
			wg.Wait()
			el := time.Since(start)
			b.StopTimer()
			var all []time.Duration
			for _, r := range results {
				all = append(all, r.lat...)
			}
			if len(all) != n*b.N {
				b.Fatalf("got %d deliveries, want %d (slow clients kicked: %d)", len(all), n*b.N, br.Server().SlowKicks())
			}
			slices.Sort(all)
			b.ReportMetric(float64(n*b.N)/el.Seconds(), "deliveries/s")
			b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
		}
	}
}

type benchConn struct {
	nc net.Conn
	rd *protocol.Reader
}

func benchDial(b *testing.B, addr string) *benchConn {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { nc.Close() })
	return &benchConn{nc: nc, rd: protocol.NewReader(bufio.NewReaderSize(nc, 64*1024))}
}

func (c *benchConn) cmd(b *testing.B, name string, args []any, kw map[string]any) {
	cm, _ := protocol.NewCommand(name, args, kw)
	f, _ := cm.Frame()
	if _, err := c.nc.Write(f); err != nil {
		b.Fatal(err)
	}
}

func (c *benchConn) waitFor(b *testing.B, substr string) {
	for {
		f, err := c.rd.ReadFrame()
		if err != nil {
			b.Fatal(err)
		}
		if f.Type() == 0 && contains(f.Payload(), substr) {
			return
		}
	}
}

func contains(b []byte, s string) bool { return len(s) == 0 || string(b) != "" && indexOf(b, s) >= 0 }

func indexOf(b []byte, s string) int {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return i
		}
	}
	return -1
}

func benchHost(b *testing.B, c *benchConn) {
	c.cmd(b, "ident", []any{"host"}, nil)
	c.waitFor(b, `"Welcome"`)
	kw := clientInfo()
	kw["protocol"], kw["user_id"], kw["alias"] = "dp:4.25.1", 1, "bench"
	c.cmd(b, "host", nil, kw)
	c.cmd(b, "init-complete", nil, nil)
	c.waitFor(b, `"type":"status"`)
	go io.Copy(io.Discard, c.nc) // the host's echo
}

func benchJoin(b *testing.B, c *benchConn, name string) {
	c.cmd(b, "ident", []any{name}, nil)
	kw := clientInfo()
	kw["s"] = fmt.Sprintf("%032x", len(name)*7919+int(name[len(name)-1]))
	c.cmd(b, "join", []any{"bench"}, kw)
	c.waitFor(b, `"type":"caughtup"`)
}

// BenchmarkIdleConnMemory: memory (heap + stacks, both ends of the
// loopback connections, in this process) per logged-in idle TCP client.
func BenchmarkIdleConnMemory(b *testing.B) {
	const n = 200
	for range b.N {
		br, err := Start(context.Background(), Config{TCPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"},
			slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			b.Fatal(err)
		}
		host := benchDial(b, br.TCPAddr())
		benchHost(b, host)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range n {
			c := benchDial(b, br.TCPAddr())
			benchJoin(b, c, fmt.Sprintf("idle%d", i))
			c.rd = nil // drop the client-side read buffer
		}
		time.Sleep(100 * time.Millisecond)
		runtime.GC()
		runtime.ReadMemStats(&after)
		perConn := (int64(after.HeapInuse+after.StackInuse) - int64(before.HeapInuse+before.StackInuse)) / n
		b.ReportMetric(float64(perConn), "bytes/conn")
		br.Close()
	}
}

// BenchmarkLoopbackCatchUp: a TCP client joins a session whose history
// holds 15 MB or 99 MB and reads until its caughtup marker; reports MB/s.
func BenchmarkLoopbackCatchUp(b *testing.B) {
	for _, mb := range []int{15, 99} {
		b.Run(fmt.Sprintf("history=%dMB", mb), func(b *testing.B) {
			st := session.DefaultSettings()
			st.SessionSizeLimit, st.AutoResetThreshold = 0, 0
			br, err := Start(context.Background(), Config{TCPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Settings: &st},
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				b.Fatal(err)
			}
			defer br.Close()
			host := benchDial(b, br.TCPAddr())
			benchHost(b, host)
			f, _ := protocol.NewFrame(146, 1, make([]byte, 8000)) // PutTile-sized
			n := mb << 20 / len(f)
			bw := bufio.NewWriterSize(host.nc, 256*1024)
			for range n {
				bw.Write(f)
			}
			bw.Flush()
			// Wait until the history holds everything.
			for br.Server().Lookup("bench").Desc().Size < int64(n*len(f)) {
				time.Sleep(10 * time.Millisecond)
			}
			b.SetBytes(int64(n * len(f)))
			b.ResetTimer()
			for i := range b.N {
				c := benchDial(b, br.TCPAddr())
				benchJoin(b, c, fmt.Sprintf("j%d", i))
				b.StopTimer()
				c.nc.Close()
				b.StartTimer()
			}
		})
	}
}

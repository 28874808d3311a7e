package bridge

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
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
			b.Run(name, func(b *testing.B) { benchFanout(b, n, rate, false) })
		}
	}
}

// BenchmarkLoopbackFanoutWS is BenchmarkLoopbackFanout with the receivers
// connected over WebSocket (the sender stays on TCP, so both benchmarks
// measure the same input path and differ only in the fan-out transport).
func BenchmarkLoopbackFanoutWS(b *testing.B) {
	for _, rate := range []int{0, 1000} {
		for _, n := range []int{1, 10, 100, 250} {
			name := fmt.Sprintf("rate=max/receivers=%d", n)
			if rate > 0 {
				name = fmt.Sprintf("rate=%d/receivers=%d", rate, n)
			}
			b.Run(name, func(b *testing.B) { benchFanout(b, n, rate, true) })
		}
	}
}

// frameSource is one benchmark receiver's incoming message stream.
type frameSource interface {
	ReadFrame() (protocol.Frame, error)
}

func benchFanout(b *testing.B, n, rate int, ws bool) {
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
				var src frameSource
				if ws {
					c := benchDialWS(b, br.HTTPAddr())
					benchJoin(b, c, fmt.Sprintf("r%d", i))
					src = c
				} else {
					c := benchDial(b, br.TCPAddr())
					benchJoin(b, c, fmt.Sprintf("r%d", i))
					src = c.rd
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					ready <- struct{}{}
					lat := make([]time.Duration, 0, b.N)
					for len(lat) < b.N {
						f, err := src.ReadFrame()
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

// benchWS is a minimal WebSocket benchmark client speaking RFC 6455 on a
// raw socket with a 64 KiB read buffer, like the TCP receivers' reader: the
// receivers' own cost (they share the cores with the server) stays the
// same for both transports, so the benchmarks compare the server's
// fan-out paths. ReadFrame returns a frame valid until the next call.
type benchWS struct {
	nc  net.Conn
	br  *bufio.Reader
	buf []byte
}

func benchDialWS(b *testing.B, addr string) *benchWS {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { nc.Close() })
	req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		b.Fatal(err)
	}
	br := bufio.NewReaderSize(nc, 64*1024)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		b.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		b.Fatalf("websocket upgrade: %s", resp.Status)
	}
	return &benchWS{nc: nc, br: br, buf: make([]byte, 0, 1024)}
}

// ReadFrame reads the next data message (server frames are unmasked and,
// from the bridge, unfragmented) as a TCP frame; control frames are
// skipped.
func (c *benchWS) ReadFrame() (protocol.Frame, error) {
	for {
		var h [2]byte
		if _, err := io.ReadFull(c.br, h[:]); err != nil {
			return nil, err
		}
		n := int(h[1] & 0x7F)
		switch n {
		case 126:
			var e [2]byte
			if _, err := io.ReadFull(c.br, e[:]); err != nil {
				return nil, err
			}
			n = int(binary.BigEndian.Uint16(e[:]))
		case 127:
			var e [8]byte
			if _, err := io.ReadFull(c.br, e[:]); err != nil {
				return nil, err
			}
			n = int(binary.BigEndian.Uint64(e[:]))
		}
		if h[0]&0x80 == 0 || h[1]&0x80 != 0 || n > protocol.WSHeaderLen+protocol.MaxPayload {
			return nil, fmt.Errorf("unexpected websocket frame header % x", h)
		}
		c.buf = slices.Grow(c.buf[:0], protocol.HeaderLen+n-protocol.WSHeaderLen)[:2+n]
		if _, err := io.ReadFull(c.br, c.buf[2:]); err != nil {
			return nil, err
		}
		switch op := h[0] & 0x0F; op {
		case 0x2:
		case 0x8:
			return nil, io.EOF
		case 0x9, 0xA:
			continue
		default:
			return nil, fmt.Errorf("unexpected websocket opcode %d", op)
		}
		if n < protocol.WSHeaderLen {
			return nil, fmt.Errorf("short websocket message")
		}
		binary.BigEndian.PutUint16(c.buf, uint16(n-protocol.WSHeaderLen))
		return protocol.Frame(c.buf), nil
	}
}

// write sends one binary message, masked as a client must (RFC 6455 §5.3).
func (c *benchWS) write(p []byte) error {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	f := []byte{0x82}
	switch {
	case len(p) <= 125:
		f = append(f, 0x80|byte(len(p)))
	case len(p) <= 0xFFFF:
		f = binary.BigEndian.AppendUint16(append(f, 0x80|126), uint16(len(p)))
	default:
		f = binary.BigEndian.AppendUint64(append(f, 0x80|127), uint64(len(p)))
	}
	f = append(f, key[:]...)
	for i, x := range p {
		f = append(f, x^key[i%4])
	}
	_, err := c.nc.Write(f)
	return err
}

func (c *benchWS) cmd(b *testing.B, name string, args []any, kw map[string]any) {
	cm, _ := protocol.NewCommand(name, args, kw)
	f, _ := cm.Frame()
	if err := c.write(f.WS()); err != nil {
		b.Fatal(err)
	}
}

func (c *benchWS) waitFor(b *testing.B, substr string) {
	for {
		f, err := c.ReadFrame()
		if err != nil {
			b.Fatal(err)
		}
		if f.Type() == 0 && contains(f.Payload(), substr) {
			return
		}
	}
}

// benchClient is what benchJoin needs of a TCP or WebSocket client.
type benchClient interface {
	cmd(b *testing.B, name string, args []any, kw map[string]any)
	waitFor(b *testing.B, substr string)
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

func benchJoin(b *testing.B, c benchClient, name string) {
	c.cmd(b, "ident", []any{name}, nil)
	kw := clientInfo()
	kw["s"] = fmt.Sprintf("%032x", len(name)*7919+int(name[len(name)-1]))
	c.cmd(b, "join", []any{"bench"}, kw)
	c.waitFor(b, `"type":"caughtup"`)
}

// BenchmarkIdleConnMemory: memory (heap + stacks, both ends of the
// loopback connections, in this process) per logged-in idle TCP client.
func BenchmarkIdleConnMemory(b *testing.B) { benchIdleConnMemory(b, false) }

// BenchmarkIdleConnMemoryWS is BenchmarkIdleConnMemory for WebSocket
// clients (the client end is coder/websocket's).
func BenchmarkIdleConnMemoryWS(b *testing.B) { benchIdleConnMemory(b, true) }

func benchIdleConnMemory(b *testing.B, ws bool) {
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
			if ws {
				c := benchDialWS(b, br.HTTPAddr())
				benchJoin(b, c, fmt.Sprintf("idle%d", i))
				c.buf = nil // drop the client-side read buffer
				continue
			}
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

package session

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"drawbridge/protocol"
)

// countConn counts delivered frames of one type and signals when a target
// is reached; it keeps nothing (like a fast client).
type countConn struct {
	typ    protocol.Type
	n      atomic.Int64
	bytes  atomic.Int64
	target atomic.Int64
	done   chan struct{}
}

func newCountConn(typ protocol.Type) *countConn {
	c := &countConn{typ: typ, done: make(chan struct{}, 1)}
	c.target.Store(-1)
	return c
}

func (c *countConn) WriteFrames(_ context.Context, frames []protocol.Frame) error {
	var k int64
	for _, f := range frames {
		c.bytes.Add(int64(len(f)))
		if f.Type() == c.typ {
			k++
		}
	}
	if k > 0 && c.n.Add(k) == c.target.Load() {
		c.done <- struct{}{}
	}
	return nil
}

func (c *countConn) Close(CloseReason, string) error { return nil }

func benchServer() *Server {
	st := DefaultSettings()
	st.SessionSizeLimit = 0
	st.AutoResetThreshold = 0
	st.MaxLag = 1 << 40 // in-process writers can be starved of CPU; this measures throughput
	return NewServer(Options{Settings: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

func benchLogin(b *testing.B, srv *Server, conn Conn, name string, host bool) *Client {
	b.Helper()
	c, err := srv.Accept(conn, ConnInfo{Transport: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	x := &tc{c: c, sid: fmt.Sprintf("%032x", len(name)+int(c.serial))}
	info := x.info()
	send := func(cmd string, args []any, kw map[string]any) {
		cm, _ := protocol.NewCommand(cmd, args, kw)
		f, _ := cm.Frame()
		if err := c.Receive(f); err != nil {
			b.Fatal(err)
		}
	}
	send("ident", []any{name}, nil)
	if host {
		info["protocol"], info["user_id"], info["alias"] = "dp:4.25.1", 1, "bench"
		send("host", nil, info)
		send("init-complete", nil, nil)
	} else {
		send("join", []any{"bench"}, info)
	}
	return c
}

// dabs is a typical DrawDabsClassic message with 10 dabs (94 bytes).
func dabs() protocol.Frame {
	f, _ := protocol.NewFrame(148, 1, make([]byte, 24+7*10))
	return f
}

// BenchmarkFanout: one sender, N receivers in one session; reports
// messages delivered per second (sum over receivers).
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1, 10, 100, 250} {
		b.Run(fmt.Sprintf("receivers=%d", n), func(b *testing.B) {
			srv := benchServer()
			hostConn := newCountConn(148)
			host := benchLogin(b, srv, hostConn, "host", true)
			var conns []*countConn
			for i := range n - 1 {
				c := newCountConn(148)
				benchLogin(b, srv, c, fmt.Sprintf("u%d", i), false)
				conns = append(conns, c)
			}
			conns = append(conns, hostConn) // the sender gets its echo too
			for _, c := range conns {
				c.target.Store(int64(b.N))
			}
			f := dabs()
			b.SetBytes(int64(len(f) * n))
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				if err := host.Receive(f); err != nil {
					b.Fatal(err)
				}
			}
			for _, c := range conns {
				<-c.done
			}
			el := time.Since(start)
			b.ReportMetric(float64(b.N*n)/el.Seconds(), "deliveries/s")
			b.StopTimer()
			_ = srv.Shutdown(context.Background())
		})
	}
}

// BenchmarkCatchUp: a client joins a session with a large history; reports
// catch-up throughput (history bytes / time until its caughtup marker).
func BenchmarkCatchUp(b *testing.B) {
	for _, mb := range []int{15, 99} {
		b.Run(fmt.Sprintf("history=%dMB", mb), func(b *testing.B) {
			srv := benchServer()
			host := benchLogin(b, srv, newCountConn(255), "host", true)
			payload := make([]byte, 4096)
			f, _ := protocol.NewFrame(147, 1, payload)
			count := mb << 20 / len(f)
			for range count {
				if err := host.Receive(f); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(count * len(f)))
			b.ResetTimer()
			for i := range b.N {
				c := newCountConn(147)
				c.target.Store(int64(count))
				j := benchLogin(b, srv, c, fmt.Sprintf("j%d", i), false)
				<-c.done
				b.StopTimer()
				j.Close()
				b.StartTimer()
			}
			b.StopTimer()
			_ = srv.Shutdown(context.Background())
		})
	}
}

// BenchmarkJoin250: 250 users join one session, one after another. Every
// join sends the sessionconf lists to every member (as drawpile-srv), so
// the cost of encoding them once per recipient grows with n². Reports
// joins per second.
func BenchmarkJoin250(b *testing.B) {
	const n = 250
	b.ReportAllocs()
	var joins int
	var el time.Duration
	for range b.N {
		b.StopTimer()
		srv := benchServer()
		benchLogin(b, srv, newCountConn(255), "host", true)
		b.StartTimer()
		start := time.Now()
		for i := range n - 1 {
			benchLogin(b, srv, newCountConn(255), fmt.Sprintf("u%d", i), false)
		}
		el += time.Since(start)
		joins += n - 1
		b.StopTimer()
		_ = srv.Shutdown(context.Background())
		b.StartTimer()
	}
	b.ReportMetric(float64(joins)/el.Seconds(), "joins/s")
}

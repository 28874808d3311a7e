package wsproxy

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"

	"drawbridge/protocol"
)

// gatedWriter is a FrameWriter that records the batches it is given and
// holds the batch starting with hold until release is closed.
type gatedWriter struct {
	next    FrameWriter
	hold    protocol.Frame
	held    chan struct{} // closed when the held batch arrives
	release chan struct{}

	mu      sync.Mutex
	batches []int // frames per call
}

func (w *gatedWriter) WriteFrames(ctx context.Context, frames []protocol.Frame) error {
	w.mu.Lock()
	w.batches = append(w.batches, len(frames))
	w.mu.Unlock()
	if len(frames) > 0 && string(frames[0]) == string(w.hold) {
		close(w.held)
		select {
		case <-w.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return w.next.WriteFrames(ctx, frames)
}

// What the upstream delivers while the browser side is busy goes to the
// FrameWriter as one batch, every frame still its own WebSocket message,
// in order and unaltered.
func TestRelayBatchesDown(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	const n = 200
	frames := make([]protocol.Frame, n)
	for i := range frames {
		p := make([]byte, 40+i%90)
		for j := range p {
			p[j] = byte(i + j)
		}
		f, err := protocol.NewFrame(148, uint8(1+i%7), p)
		if err != nil {
			t.Fatal(err)
		}
		frames[i] = f
	}
	w := &gatedWriter{hold: frames[0], held: make(chan struct{}), release: make(chan struct{})}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	greeting := mustJSON(t, map[string]any{"type": "login", "version": 4, "flags": []string{}, "methods": map[string]any{}})
	upDone := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			upDone <- err
			return
		}
		defer conn.Close()
		if _, err := conn.Write(append(greeting.Clone(), frames[0]...)); err != nil {
			upDone <- err
			return
		}
		select {
		case <-w.held: // the relay is writing frames[0] to the browser
		case <-ctx.Done():
			upDone <- ctx.Err()
			return
		}
		var rest []byte
		for _, f := range frames[1:] {
			rest = append(rest, f...)
		}
		_, err = conn.Write(rest)
		close(w.release)
		if err != nil {
			upDone <- err
			return
		}
		<-ctx.Done() // keep the connection open until the test ends
		upDone <- nil
	}()

	tgt, _ := ParseTarget(ln.Addr().String())
	al, _ := NewAllowlist([]string{ln.Addr().String()})
	p := New(Config{Allowlist: al, Logger: testLogger(t)})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(rw, r, nil)
		if err != nil {
			return
		}
		w.next = wsWriter{ws}
		_ = p.Serve(ctx, ws, tgt, ServeOptions{Writer: w})
	}))
	defer srv.Close()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(protocol.WSHeaderLen + protocol.MaxPayload)
	if f := readMsg(t, ctx, ws); f.Type() != protocol.TypeServerCommand {
		t.Fatalf("first message %v, want the greeting", f)
	}
	for i, want := range frames {
		if got := readMsg(t, ctx, ws); string(got) != string(want) {
			t.Fatalf("message %d: got %x, want %x", i, got, want)
		}
	}
	w.mu.Lock()
	batches := append([]int(nil), w.batches...)
	w.mu.Unlock()
	// The greeting, frames[0] (alone or with nothing else buffered), then
	// the rest: allow a few more batches for a split delivery.
	if len(batches) > 5 {
		t.Fatalf("%d frames went to the browser in %d batches %v, want ≤ 5", n, len(batches), batches)
	}
	t.Logf("batches: %v", batches)
	cancel()
	if err := <-upDone; err != nil && err != context.Canceled {
		t.Fatal(err)
	}
}

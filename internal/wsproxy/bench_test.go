package wsproxy

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"drawbridge/protocol"
)

// BenchmarkRelayDown measures the hot path of a catch-up: upstream frames
// of a typical dab size re-framed to the browser, one WebSocket message
// each.
func BenchmarkRelayDown(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	greeting, _ := protocol.JSONFrame(map[string]any{"type": "login", "version": 4, "flags": []string{}, "methods": map[string]any{}})
	msg, _ := protocol.NewFrame(148, 1, make([]byte, 120))
	batch := make([]byte, 0, 64*len(msg))
	for range 64 {
		batch = append(batch, msg...)
	}
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.Write(greeting)
		for sent := 0; sent < b.N; sent += 64 {
			if _, err := conn.Write(batch); err != nil {
				return
			}
		}
	}()
	tgt, _ := ParseTarget(ln.Addr().String())
	al, _ := NewAllowlist([]string{ln.Addr().String()})
	p := New(Config{Allowlist: al, Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		p.Serve(context.Background(), ws, tgt, ServeOptions{})
	}))
	defer srv.Close()
	ctx := context.Background()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.CloseNow()
	if _, _, err := ws.Read(ctx); err != nil { // greeting
		b.Fatal(err)
	}
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for range b.N {
		if _, _, err := ws.Read(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

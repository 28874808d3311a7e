package wsconn_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"drawbridge/internal/client"
	"drawbridge/internal/client/wsconn"
	"drawbridge/protocol"
)

// server runs handle for each WebSocket connection and reports the Origin
// header it saw.
func server(t *testing.T, handle func(ctx context.Context, ws *websocket.Conn)) (url string, origins chan string) {
	t.Helper()
	origins = make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origins <- r.Header.Get("Origin")
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: []string{"example.test"}})
		if err != nil {
			return
		}
		defer ws.CloseNow()
		handle(r.Context(), ws)
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http"), origins
}

func TestLoginOverWebSocket(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url, origins := server(t, func(ctx context.Context, ws *websocket.Conn) {
		greet, _ := protocol.NewFrame(0, 0, []byte(`{"type":"login","version":4,"flags":["CINFO"],"methods":{"guest":{"actions":["join","host"]}}}`))
		ws.Write(ctx, websocket.MessageBinary, greet.WS())
		typ, b, err := ws.Read(ctx)
		if err != nil || typ != websocket.MessageBinary || b[0] != 0 || !strings.Contains(string(b), `"cmd":"cinfo"`) {
			t.Errorf("server read %v %q %v", typ, b, err)
			return
		}
		res, _ := protocol.NewFrame(0, 0, []byte(`{"type":"result","cinfo":{"browser":true}}`))
		ws.Write(ctx, websocket.MessageBinary, res.WS())
		// A text message is not part of the protocol.
		ws.Write(ctx, websocket.MessageText, []byte("hello"))
		ws.Read(ctx) // wait for the client to go away
	})
	tr, err := wsconn.Dial(ctx, url, wsconn.DialOptions{Origin: "http://example.test"})
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(tr, client.Options{Info: client.DefaultClientInfo("0123456789abcdef0123456789abcdef")})
	defer c.Close()
	if got := <-origins; got != "http://example.test" {
		t.Errorf("Origin %q", got)
	}
	if _, err := c.ReadGreeting(ctx); err != nil {
		t.Fatal(err)
	}
	browser, err := c.ClientInfo(ctx, "Example.Test")
	if err != nil || !browser {
		t.Fatalf("cinfo: browser %v, %v", browser, err)
	}
	var pe *client.ProtocolError
	if _, err := tr.ReadFrame(ctx); !errors.As(err, &pe) {
		t.Fatalf("text message: got %v, want *client.ProtocolError", err)
	}
}

func TestNormalCloseIsEOF(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url, origins := server(t, func(ctx context.Context, ws *websocket.Conn) {
		f, _ := protocol.NewFrame(1, 0, []byte("\x00Login error"))
		ws.Write(ctx, websocket.MessageBinary, f.WS())
		ws.Close(websocket.StatusNormalClosure, "")
	})
	tr, err := wsconn.Dial(ctx, url, wsconn.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if got := <-origins; got != "" {
		t.Errorf("Origin %q sent without being asked", got)
	}
	f, err := tr.ReadFrame(ctx)
	if err != nil || f.Type() != 1 || string(f.Payload()[1:]) != "Login error" {
		t.Fatalf("got %v %v", f, err)
	}
	if _, err := tr.ReadFrame(ctx); err != io.EOF {
		t.Fatalf("after close frame: %v, want io.EOF", err)
	}
}

// Messages of every length encoding arrive whole and in order; each frame
// is intact until the next ReadFrame although the buffer is reused.
func TestReadFrameSizes(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sizes := []int{0, 1, 121, 122, 123, 124, 5000, protocol.MaxPayload, 3, protocol.MaxPayload - 1, 0}
	frames := make([]protocol.Frame, len(sizes))
	for i, n := range sizes {
		p := make([]byte, n)
		for j := range p {
			p[j] = byte(i*7 + j)
		}
		f, err := protocol.NewFrame(protocol.Type(130+i), uint8(i), p)
		if err != nil {
			t.Fatal(err)
		}
		frames[i] = f
	}
	url, _ := server(t, func(ctx context.Context, ws *websocket.Conn) {
		for _, f := range frames {
			if err := ws.Write(ctx, websocket.MessageBinary, f.WS()); err != nil {
				t.Error(err)
				return
			}
		}
		ws.Write(ctx, websocket.MessageBinary, []byte{7}) // shorter than the 2-byte header
		ws.Read(ctx)
	})
	tr, err := wsconn.Dial(ctx, url, wsconn.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for i, want := range frames {
		got, err := tr.ReadFrame(ctx)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if string(got) != string(want) {
			t.Fatalf("frame %d: got %v, want %v", i, got, want)
		}
	}
	if f, err := tr.ReadFrame(ctx); err == nil {
		t.Fatalf("a 1-byte message read as %v", f)
	}
}

// BenchmarkReadFrame: receiving small messages over loopback, the cost a
// dptool bot pays per delivered message.
func BenchmarkReadFrame(b *testing.B) {
	f, _ := protocol.NewFrame(148, 1, make([]byte, 94))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		for {
			if err := ws.Write(context.Background(), websocket.MessageBinary, f.WS()); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	tr, err := wsconn.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), wsconn.DialOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	b.ReportAllocs()
	b.SetBytes(int64(len(f)))
	for b.Loop() {
		if _, err := tr.ReadFrame(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

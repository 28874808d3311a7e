package client_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"drawbridge/internal/client"
	"drawbridge/protocol"
)

// pipeServer is the server end of an in-memory connection.
type pipeServer struct {
	t    *testing.T
	conn net.Conn
	rd   *protocol.Reader
}

func newPipe(t *testing.T) (*client.Client, *pipeServer) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	c := client.New(client.NewTCP(a), client.Options{Info: client.DefaultClientInfo("0123456789abcdef0123456789abcdef")})
	return c, &pipeServer{t: t, conn: b, rd: protocol.NewReader(bufio.NewReader(b))}
}

// send writes frames from a goroutine (net.Pipe is unbuffered).
func (s *pipeServer) send(frames ...protocol.Frame) {
	go func() {
		for _, f := range frames {
			if _, err := s.conn.Write(f); err != nil {
				return
			}
		}
	}()
}

func (s *pipeServer) read() protocol.Frame {
	s.t.Helper()
	s.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	f, err := s.rd.ReadFrame()
	if err != nil {
		s.t.Fatalf("server read: %v", err)
	}
	return f.Clone()
}

func js(t *testing.T, s string) protocol.Frame {
	f, err := protocol.NewFrame(0, 0, []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

const greeting = `{"type":"login","version":4,"flags":["MULTI","LOOKUP","CINFO"],"methods":{"guest":{"actions":["join","host"]}}}`

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestLoginFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		server []string // JSON replies after the greeting (a "!" prefix: raw Disconnect payload)
		check  func(t *testing.T, err error)
	}{
		{"error with code", []string{`{"type":"error","code":"badUsername","message":"Invalid username"}`}, func(t *testing.T, err error) {
			var se *client.ServerError
			if !errors.As(err, &se) || se.Code != client.CodeBadUsername || !se.Fatal() || se.Cmd != "ident" {
				t.Errorf("got %v", err)
			}
		}},
		{"badPassword is not fatal", []string{`{"type":"error","code":"badPassword","message":"Incorrect password"}`}, func(t *testing.T, err error) {
			var se *client.ServerError
			if !errors.As(err, &se) || se.Fatal() {
				t.Errorf("got %v", err)
			}
		}},
		{"disconnect", []string{"!\x00invalid message"}, func(t *testing.T, err error) {
			var de *client.DisconnectError
			if !errors.As(err, &de) || de.Reason != client.ReasonError || de.Message != "invalid message" {
				t.Errorf("got %v", err)
			}
		}},
		{"notice during login", []string{`{"type":"msg","message":"hi"}`}, func(t *testing.T, err error) {
			var pe *client.ProtocolError
			if !errors.As(err, &pe) {
				t.Errorf("got %v", err)
			}
		}},
		{"not an object", []string{`[1]`}, func(t *testing.T, err error) {
			var pe *client.ProtocolError
			if !errors.As(err, &pe) {
				t.Errorf("got %v", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := ctxT(t)
			c, s := newPipe(t)
			s.send(js(t, greeting))
			if _, err := c.ReadGreeting(ctx); err != nil {
				t.Fatal(err)
			}
			var frames []protocol.Frame
			for _, r := range tc.server {
				if r[0] == '!' {
					f, _ := protocol.NewFrame(1, 0, []byte(r[1:]))
					frames = append(frames, f)
				} else {
					frames = append(frames, js(t, r))
				}
			}
			done := make(chan error, 1)
			go func() {
				_, err := c.Ident(ctx, client.IdentOptions{Name: "Bob", Intent: "guest"})
				done <- err
			}()
			if got := s.read(); got.Type() != 0 || string(got.Payload()) != `{"args":["Bob"],"cmd":"ident","kwargs":{"intent":"guest"}}` {
				t.Errorf("client sent %s", got.Payload())
			}
			s.send(frames...)
			tc.check(t, <-done)
		})
	}
}

func TestPingAnsweredAndSessionListUpdates(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	c, s := newPipe(t)
	ping, _ := protocol.NewFrame(2, 0, []byte{0})
	done := make(chan struct{})
	go func() { // the server's side, in order
		defer close(done)
		s.conn.Write(js(t, greeting))
		if f := s.read(); f.Type() != 0 {
			t.Errorf("want lookup first, got %v", f)
		}
		s.conn.Write(ping)
		if f := s.read(); f.Type() != 2 || f.Payload()[0] != 1 {
			t.Errorf("want pong, got %v %x", f, f.Payload())
		}
		s.conn.Write(js(t, `{"type":"result","lookup":"join","message":"Empty join lookup OK!"}`))
		s.read() // ident
		for _, r := range []string{
			`{"type":"result","state":"identOk","ident":"Bob","guest":true,"flags":["HOST"]}`,
			`{"type":"login","message":"Welcome","sessions":[{"id":"A","alias":"a","title":"one"},{"id":"B","title":"two"}]}`,
			`{"type":"login","message":"New session","sessions":[{"id":"C","title":"three"},{"id":"A","alias":"a","title":"renamed"}]}`,
			`{"type":"login","message":"Session ended","remove":["B"]}`,
		} {
			s.conn.Write(js(t, r))
		}
	}()
	if _, err := c.ReadGreeting(ctx); err != nil {
		t.Fatal(err)
	}
	if si, err := c.LookupJoin(ctx, ""); err != nil || si != nil {
		t.Fatalf("lookup: %v %v", si, err)
	}
	if _, err := c.Ident(ctx, client.IdentOptions{Name: "Bob"}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := c.WaitSessionUpdate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	<-done
	got := map[string]string{}
	for _, si := range c.Sessions() {
		got[si.ID] = si.Title
	}
	if len(got) != 2 || got["A"] != "renamed" || got["C"] != "three" {
		t.Errorf("sessions %v", got)
	}
	if si, ok := c.Session("a"); !ok || si.ID != "A" {
		t.Errorf("Session(alias) = %v %v", si, ok)
	}
	if _, err := c.LookupJoin(ctx, "x"); !errors.Is(err, client.ErrState) {
		t.Errorf("lookup after ident: %v, want ErrState", err)
	}
}

func TestCatchupWithoutKey(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	c, s := newPipe(t)
	s.send(js(t, greeting))
	c.ReadGreeting(ctx)
	s.send(
		js(t, `{"type":"result","state":"identOk","ident":"Bob"}`),
		js(t, `{"type":"login","message":"Welcome","sessions":[]}`),
	)
	go func() { s.read(); s.read() }()
	if _, err := c.Ident(ctx, client.IdentOptions{Name: "Bob"}); err != nil {
		t.Fatal(err)
	}
	chat, _ := protocol.NewFrame(35, 1, []byte("\x00\x00hi"))
	bypass, _ := protocol.NewFrame(35, 1, []byte("\x01\x00psst"))
	s.send(
		js(t, `{"type":"result","state":"join","join":{"id":"x","uniqueId":"x","user":2,"flags":[]}}`),
		js(t, `{"type":"catchup","count":2}`),
		chat, bypass, js(t, `{"type":"sessionconf","config":{"muted":[]}}`), chat,
	)
	if _, err := c.Join(ctx, client.JoinOptions{Session: "x"}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := c.WaitCaughtUp(ctx, func(m client.Message) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	// catchup, chat, bypass chat, partial sessionconf, chat: the bypass chat
	// and the partial sessionconf are not history.
	if got, count := c.CatchupProgress(); n != 5 || got != 2 || count != 2 {
		t.Errorf("read %d messages, progress %d/%d", n, got, count)
	}
	if c.UserID() != 2 {
		t.Errorf("user id %d", c.UserID())
	}
}

// FuzzParseReply: server JSON never panics the client, and accepted
// replies always have a type.
func FuzzParseReply(f *testing.F) {
	for _, r := range loadStory(f) {
		if r.Dir == "s2c" && r.Type == 0 {
			f.Add([]byte(r.Raw))
		}
	}
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"type":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := client.ParseReply(b)
		if err == nil && r.Type == "" {
			t.Fatalf("reply without type accepted: %q", b)
		}
	})
}

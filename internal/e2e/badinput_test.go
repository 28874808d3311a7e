package e2e

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"drawbridge/internal/client"
	"drawbridge/internal/client/wsconn"
	"drawbridge/protocol"
)

// drawingGoesOn checks that the host and a bystander still exchange
// drawing after something bad happened.
// It returns what the bystander received meanwhile.
func (e *env) drawingGoesOn(host, other *client.Client) []rec {
	e.t.Helper()
	e.draw(other, 3)
	e.until(host, "bystander's PenUp", msgOf(140, other.UserID()))
	e.draw(host, 4)
	return e.until(other, "host's PenUp", msgOf(140, host.UserID()))
}

// TestBadInputInSession sends hostile messages from a logged-in user; each
// gets Drawpile's reaction and the session keeps working for the others.
func TestBadInputInSession(t *testing.T) {
	t.Parallel()
	type reaction int
	const (
		dropped      reaction = iota // ignored; the sender stays connected
		errorReply                   // {"type":"error"} notice; stays connected
		disconnected                 // the bridge closes the sender's connection
		errorOrClose                 // either of the above is acceptable
	)
	cases := []struct {
		name string
		send func(t *testing.T, e *env, c *client.Client) error
		want reaction
	}{
		{"unknown command", func(t *testing.T, e *env, c *client.Client) error {
			return c.SendCommand(e.ctx, client.Command{Cmd: "frobnicate"})
		}, errorReply},
		{"login command in session", func(t *testing.T, e *env, c *client.Client) error {
			return c.SendCommand(e.ctx, client.Command{Cmd: "join", Args: []any{"x"}})
		}, errorReply},
		{"JSON array", func(t *testing.T, e *env, c *client.Client) error {
			return c.SendFrame(e.ctx, frame(t, 0, 0, []byte(`[1,2,3]`)))
		}, errorOrClose},
		{"not JSON", func(t *testing.T, e *env, c *client.Client) error {
			return c.SendFrame(e.ctx, frame(t, 0, 0, []byte(`{"cmd":`)))
		}, errorOrClose},
		{"Join from client", func(t *testing.T, e *env, c *client.Client) error {
			return c.Send(e.ctx, 32, append([]byte{0, 3}, "Eve"...))
		}, dropped},
		{"Leave from client", func(t *testing.T, e *env, c *client.Client) error {
			return c.Send(e.ctx, 33, nil)
		}, dropped},
		{"SoftReset from client", func(t *testing.T, e *env, c *client.Client) error {
			return c.Send(e.ctx, 37, nil)
		}, dropped},
		{"undecodable Join", func(t *testing.T, e *env, c *client.Client) error {
			return c.Send(e.ctx, 32, []byte{0, 200, 'x'}) // name length beyond the payload
		}, disconnected},
		{"reserved type 31", func(t *testing.T, e *env, c *client.Client) error {
			return c.Send(e.ctx, 31, nil)
		}, disconnected},
		{"unassigned type 50", func(t *testing.T, e *env, c *client.Client) error {
			return c.Send(e.ctx, 50, []byte{1, 2, 3})
		}, disconnected},
		{"Ping of wrong length", func(t *testing.T, e *env, c *client.Client) error {
			return c.Send(e.ctx, 2, []byte{0, 0})
		}, disconnected},
		{"unassigned opaque type 200 is relayed", func(t *testing.T, e *env, c *client.Client) error {
			return c.Send(e.ctx, 200, []byte{1, 2, 3})
		}, dropped},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			host := e.host("Alice", tcp, client.HostOptions{Alias: "bad"})
			other, _ := e.join("Bob", ws, "bad", "")
			eve, _ := e.join("Eve", tcp, "bad", "")
			e.sync(host)
			// Bob must have seen Eve's own Join before the test starts.
			if rs := e.sync(other); !slices.ContainsFunc(rs, msgOf(32, eve.UserID())) {
				t.Logf("Bob's pong came before Eve's Join (appended before the ping)")
				e.until(other, "Eve's Join", msgOf(32, eve.UserID()))
			}
			if err := tc.send(t, e, eve); err != nil {
				t.Fatalf("send: %v", err)
			}
			// Read the sender's reaction. A pong is not relied on to come
			// after a queued error notice (see TestPongIsABarrier).
			rctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
			defer cancel()
			var got []rec
			var err error
			if tc.want == dropped {
				got, err = syncErr(rctx, eve)
			} else {
				got, err = untilErr(rctx, eve, reply("error"))
			}
			if rctx.Err() != nil {
				t.Fatalf("no reaction from the bridge: %v (got %v)", err, got)
			}
			errReply := slices.ContainsFunc(got, reply("error"))
			switch tc.want {
			case dropped:
				if err != nil || errReply {
					t.Errorf("sender: %v, error reply %v; want the message silently dropped", err, errReply)
				}
			case errorReply:
				if err != nil || !errReply {
					t.Errorf("sender: %v, error reply %v (%v); want an error notice", err, errReply, got)
				}
				if _, err := syncErr(rctx, eve); err != nil {
					t.Errorf("sender disconnected after the error notice: %v", err)
				}
			case disconnected:
				if err == nil {
					t.Errorf("sender got %v and is still connected; want the connection aborted", got)
				}
			case errorOrClose:
				// Either outcome ended the read without a timeout.
			}
			seen := e.drawingGoesOn(host, other)
			// Server-only messages from a client never reach the others.
			for _, r := range append(seen, e.sync(other)...) {
				if r.Ctx == eve.UserID() && (r.Type == 32 || r.Type == 37) || r.Type == 33 && r.Ctx == eve.UserID() && tc.want == dropped {
					t.Errorf("Bob received %v from Eve", r)
				}
			}
		})
	}
}

// TestBadInputDuringLogin: commands in the wrong login state and junk
// before login.
func TestBadInputDuringLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	host := e.host("Alice", tcp, client.HostOptions{Alias: "login"})
	bob, _ := e.join("Bob", browser, "login", "")

	t.Run("sessionconf before ident", func(t *testing.T) {
		c := e.dial(tcp)
		if _, err := c.ReadGreeting(e.ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.SessionConf(e.ctx, client.SessionConf{Title: client.Ptr("x")}); err != nil {
			t.Fatal(err)
		}
		de := e.expectClosed(c)
		if de == nil || de.Reason != client.ReasonError {
			t.Errorf("disconnect %+v, want reason error", de)
		}
	})
	t.Run("join before ident", func(t *testing.T) {
		c := e.dial(ws)
		c.ReadGreeting(e.ctx)
		if err := c.SendCommand(e.ctx, client.Command{Cmd: "join", Args: []any{"login"}}); err != nil {
			t.Fatal(err)
		}
		if de := e.expectClosed(c); de != nil && de.Reason != client.ReasonError {
			t.Errorf("disconnect %+v", de)
		}
	})
	t.Run("drawing before login is ignored", func(t *testing.T) {
		c := e.dial(tcp)
		c.ReadGreeting(e.ctx)
		_, d, _ := stroke(9, 1)
		if err := c.Send(e.ctx, 148, d); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Ident(e.ctx, client.IdentOptions{Name: "Late"}); err != nil {
			t.Fatalf("ident after junk: %v", err)
		}
	})
	t.Run("bad username", func(t *testing.T) {
		for _, name := range []string{"", strings.Repeat("A", 23), `quo"te`} {
			c := e.dial(tcp)
			c.ReadGreeting(e.ctx)
			_, err := c.Ident(e.ctx, client.IdentOptions{Name: name})
			if client.ErrorCode(err) != client.CodeBadUsername {
				t.Errorf("ident %q: %v, want badUsername", name, err)
			}
			if de := e.expectClosed(c); de == nil || de.Reason != client.ReasonError {
				t.Errorf("ident %q: disconnect %+v, want a Login error", name, de)
			}
		}
	})
	t.Run("bad protocol and alias on host", func(t *testing.T) {
		for _, ho := range []client.HostOptions{
			{Protocol: "dp:5.25.1", Alias: "x1"},
			{Protocol: "4.25", Alias: "x2"},
			{Alias: "login"},
			{Alias: "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, // a ULID
			{Alias: "has space"},
		} {
			c := e.dial(tcp)
			_, err := c.Login(e.ctx, client.LoginOptions{Ident: client.IdentOptions{Name: "Host2"}, Host: &ho})
			var se *client.ServerError
			if !errors.As(err, &se) || !se.Fatal() {
				t.Errorf("host %+v: %v, want a fatal login error", ho, err)
			}
		}
	})
	e.drawingGoesOn(host, bob)
}

// TestBadFraming: oversized and text WebSocket messages, short WebSocket
// messages, and a TCP stream cut in the middle of a frame.
func TestBadFraming(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	host := e.host("Alice", tcp, client.HostOptions{Alias: "framing"})
	bob, _ := e.join("Bob", tcp, "framing", "")

	t.Run("oversized websocket message", func(t *testing.T) {
		tr := e.transport(ws).(*wsconn.Conn)
		big := make([]byte, protocol.WSHeaderLen+protocol.MaxPayload+1)
		big[0] = 200
		tr.WebSocket().Write(e.ctx, websocket.MessageBinary, big) // may fail once the bridge closes
		if _, err := readAll(e, tr); err == nil {
			t.Errorf("bridge kept the connection after an oversized message")
		}
	})
	t.Run("text websocket message", func(t *testing.T) {
		c, _ := e.join("Texter", ws, "framing", "")
		tr := c.Transport().(*wsconn.Conn)
		if err := tr.WebSocket().Write(e.ctx, websocket.MessageText, []byte(`{"cmd":"ping"}`)); err != nil {
			t.Fatal(err)
		}
		// Drawpile logs a warning and drops text messages (see
		// TestTextWebSocketMessageDropped); closing with 1003 is safe too.
		// Either way the session is unaffected (checked below).
		if _, err := syncErr(e.ctx, c); err != nil && websocket.CloseStatus(err) != websocket.StatusUnsupportedData {
			t.Errorf("connection ended after a text message: %v", err)
		}
	})
	t.Run("one-byte websocket message", func(t *testing.T) {
		tr := e.transport(ws).(*wsconn.Conn)
		tr.WebSocket().Write(e.ctx, websocket.MessageBinary, []byte{0})
		if _, err := readAll(e, tr); err == nil {
			t.Errorf("bridge kept the connection after a 1-byte message")
		}
	})
	t.Run("tcp frame cut short", func(t *testing.T) {
		conn, err := net.Dial("tcp", e.tcpAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var hdr [4]byte
		binary.BigEndian.PutUint16(hdr[:], 1000)
		conn.Write(hdr[:])
		conn.Write([]byte("only a little"))
		conn.(*net.TCPConn).CloseWrite()
		tr := client.NewTCP(conn)
		if _, err := readAll(e, tr); err == nil {
			t.Errorf("no end of connection")
		}
	})
	t.Run("garbage on the tcp port", func(t *testing.T) {
		conn, err := net.Dial("tcp", e.tcpAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		conn.(*net.TCPConn).CloseWrite() // the "frame" it started never ends
		if _, err := readAll(e, client.NewTCP(conn)); err == nil {
			t.Errorf("no end of connection")
		}
	})
	e.drawingGoesOn(host, bob)
}

// readAll reads frames until the connection ends; it returns the error
// that ended it (io.EOF for a clean close) or nil if ctx expired first.
func readAll(e *env, tr client.Transport) (int, error) {
	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
	defer cancel()
	n := 0
	for {
		_, err := tr.ReadFrame(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return n, nil
			}
			if errors.Is(err, io.EOF) {
				return n, io.EOF
			}
			return n, err
		}
		n++
	}
}

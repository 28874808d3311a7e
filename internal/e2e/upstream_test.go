package e2e

// Tests of fine points of upstream behaviour: text WebSocket messages are
// dropped, and pongs are ordered after the history they follow.

import (
	"fmt"
	"slices"
	"testing"

	"github.com/coder/websocket"

	"drawbridge/internal/client"
	"drawbridge/internal/client/wsconn"
)

// TestTextWebSocketMessageDropped: drawpile-srv logs a warning and drops a
// text WebSocket message; the connection stays (protocol.md §1.2).
func TestTextWebSocketMessageDropped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.host("Alice", tcp, client.HostOptions{Alias: "text"})
	c, _ := e.join("Texter", ws, "text", "")
	tr := c.Transport().(*wsconn.Conn)
	if err := tr.WebSocket().Write(e.ctx, websocket.MessageText, []byte(`{"cmd":"ping"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := syncErr(e.ctx, c); err != nil {
		t.Errorf("connection ended after a text message: %v", err)
	}
}

// TestPongIsABarrier: a pong is written after all history that existed
// when the ping arrived (internal/session doc, "Direct messages carry a
// history barrier"). This once failed about once in a hundred joins (a
// pong overtook a Join appended before the ping); it is the regression test.
func TestPongIsABarrier(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	host := e.host("Alice", tcp, client.HostOptions{Alias: "barrier"})
	bob, _ := e.join("Bob", ws, "barrier", "")
	e.sync(bob)
	for i := range 300 {
		text := fmt.Sprintf("n%d", i)
		e.chat(host, text)
		e.until(host, "own chat", chatFrom(host.UserID(), text)) // appended
		if rs := e.sync(bob); !slices.ContainsFunc(rs, chatFrom(host.UserID(), text)) {
			t.Fatalf("round %d: Bob's pong overtook the host's chat", i)
		}
	}
	for i := range 50 {
		c, _ := e.join(fmt.Sprintf("J%d", i), tcp, "barrier", "")
		if rs := e.sync(bob); !slices.ContainsFunc(rs, msgOf(32, c.UserID())) {
			t.Fatalf("join %d: Bob's pong overtook the Join", i)
		}
		c.Close()
		e.until(bob, "Leave", msgOf(33, c.UserID()))
	}
}

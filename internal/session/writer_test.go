package session

import (
	"net"
	"os"
	"testing"
	"testing/synctest"
)

// TestSocketDeadlineIsSlow: a transport whose socket deadline (set to the
// write context's) fires a moment before the context reports it still
// ends the client as a slow consumer, not as a lost connection.
func TestSocketDeadlineIsSlow(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		host := connect(t, srv, ConnInfo{})
		host.host("alice", map[string]any{"alias": "deadline"})
		slow := connect(t, srv, ConnInfo{})
		slow.join("bob", "deadline", nil)
		synctest.Wait()
		slow.conn.mu.Lock()
		slow.conn.err = &net.OpError{Op: "write", Net: "tcp", Err: os.ErrDeadlineExceeded}
		slow.conn.mu.Unlock()
		if err := host.sendFrame(130, 1, []byte{1}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		closed, reason := slow.conn.isClosed()
		if !closed || reason != CloseSlow {
			t.Fatalf("client whose socket deadline fired: closed=%v reason=%v, want closed as slow", closed, reason)
		}
		if n := srv.SlowKicks(); n != 1 {
			t.Errorf("SlowKicks = %d, want 1", n)
		}
	})
}

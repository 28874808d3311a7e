package session

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"drawbridge/protocol"
)

// FuzzReceive feeds arbitrary frames to a logged-in client: the core must
// never panic, and the other user of the session must stay connected.
// The input is a sequence of (type u8, len u8, payload) records.
func FuzzReceive(f *testing.F) {
	seeds := [][]byte{
		{32, 0},            // Join without payload
		{32, 3, 0, 9, 'x'}, // Join with a bad name length
		{0, 5, '[', '1', ']', ' ', ' '},
		{0, 14, '{', '"', 'c', 'm', 'd', '"', ':', '"', 'x', '"', '}', ' ', ' ', ' '},
		{35, 1, 0},              // Chat too short
		{38, 3, 1, 0, 'x'},      // PrivateChat to user 1
		{2, 2, 0, 0},            // Ping of the wrong length
		{31, 0},                 // reserved
		{200, 2, 1, 2},          // opaque
		{39, 4, 1, 2, 3, 4},     // ResetStream without a reset
		{34, 2, 1, 2, 36, 1, 2}, // SessionOwner, TrustedUsers
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		srv := newTestServer(t, nil)
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room"})
		x := connect(t, srv, ConnInfo{Transport: "tcp"})
		x.join("Mallory", "room", nil)
		for len(data) >= 2 {
			typ, n := data[0], int(data[1])
			data = data[2:]
			n = min(n, len(data))
			fr, err := protocol.NewFrame(protocol.Type(typ), 0, data[:n])
			data = data[n:]
			if err != nil {
				t.Fatal(err)
			}
			if x.c.Receive(fr) != nil {
				break
			}
		}
		ping := make([]byte, 16)
		binary.BigEndian.PutUint32(ping, 1)
		if err := host.sendFrame(129, 1, ping); err != nil {
			t.Fatal(err)
		}
		if c, _ := host.conn.isClosed(); c {
			t.Fatal("the other user was disconnected")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
}

package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"drawbridge/protocol"
)

// NullServer is the smallest thing bots can run against: it speaks just
// enough of the login (greeting, cinfo, lookup, ident, host, join with an
// empty catch-up) and then relays every message of type ≥ 32 to everyone in
// the session, the sender included, stamped with the sender's context id.
// It keeps no history, checks nothing and answers pings. Running the bots
// against it shows what the load generator itself costs (`dptool bots
// --serve-null`), so a real server's numbers can be read as the server's.
//
// Goroutines: one accept loop, and per connection a reader (which relays
// by appending to every member's queue under the session's mutex) and a
// writer that sends its queue in one system call per wake-up. A receiver
// more than 32 MiB behind is dropped. Close stops and joins them all.
type NullServer struct {
	ln  net.Listener
	log *slog.Logger
	wg  sync.WaitGroup

	mu       sync.Mutex // guards sessions and conns
	sessions map[string]*nullSession
	conns    map[*nullConn]struct{}
	closed   bool
}

type nullSession struct {
	mu      sync.Mutex // guards members; held while relaying
	members map[uint8]*nullConn
}

type nullConn struct {
	c    net.Conn
	uid  uint8 // owned by the reader goroutine
	sess *nullSession

	mu      sync.Mutex // guards pending and dead
	pending []byte     // frames queued for the writer goroutine
	dead    bool
	wake    chan struct{} // cap 1: pending became non-empty
}

// maxPending bounds a connection's queue; beyond it the receiver is too
// slow and is dropped.
const maxPending = 32 << 20

// StartNullServer listens on addr (TCP, e.g. "127.0.0.1:0") and serves in
// the background until Close.
func StartNullServer(ctx context.Context, addr string, logger *slog.Logger) (*NullServer, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("loadgen: null server: %w", err)
	}
	s := &NullServer{ln: ln, log: logger, sessions: map[string]*nullSession{}, conns: map[*nullConn]struct{}{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.accept()
	}()
	return s, nil
}

// Addr returns the listening address.
func (s *NullServer) Addr() string { return s.ln.Addr().String() }

// Close stops the server and closes every connection.
func (s *NullServer) Close() error {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.c.Close()
	}
	s.mu.Unlock()
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

func (s *NullServer) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		nc := &nullConn{c: c, wake: make(chan struct{}, 1)}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[nc] = struct{}{}
		s.mu.Unlock()
		quit := make(chan struct{})
		s.wg.Add(2)
		go func() {
			defer s.wg.Done()
			nc.writer(quit)
		}()
		go func() {
			defer s.wg.Done()
			defer close(quit)
			err := s.serve(nc)
			if err != nil && !errors.Is(err, net.ErrClosed) {
				s.log.Debug("null server: connection ended", "err", err)
			}
			s.leave(nc)
			c.Close()
			s.mu.Lock()
			delete(s.conns, nc)
			s.mu.Unlock()
		}()
	}
}

// write queues f for the connection's writer goroutine, which sends
// everything queued in one system call.
func (c *nullConn) write(f []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return net.ErrClosed
	}
	if len(c.pending)+len(f) > maxPending {
		c.dead = true
		c.c.Close()
		return errors.New("null server: receiver too slow")
	}
	c.pending = append(c.pending, f...)
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

// writer is the connection's writer goroutine; it ends when quit closes
// or a write fails.
func (c *nullConn) writer(quit <-chan struct{}) {
	var buf []byte
	for {
		select {
		case <-quit:
			return
		case <-c.wake:
		}
		c.mu.Lock()
		buf, c.pending = c.pending, buf[:0]
		c.mu.Unlock()
		if len(buf) == 0 {
			continue
		}
		_ = c.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.c.Write(buf); err != nil {
			c.mu.Lock()
			c.dead = true
			c.mu.Unlock()
			c.c.Close()
			return
		}
		if cap(buf) > 1<<20 {
			buf = nil // do not keep a burst's buffer forever
		}
	}
}

func (c *nullConn) reply(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := protocol.NewFrame(0, 0, b)
	if err != nil {
		return err
	}
	return c.write(f)
}

// nullCommand is a client → server ServerCommand.
type nullCommand struct {
	Cmd    string            `json:"cmd"`
	Args   []json.RawMessage `json:"args"`
	Kwargs map[string]any    `json:"kwargs"`
}

func (s *NullServer) serve(c *nullConn) error {
	err := c.reply(map[string]any{
		"type": "login", "message": "dptool null server", "version": 4,
		"flags":   []string{"MULTI", "LOOKUP", "CINFO"},
		"methods": map[string]any{"guest": map[string]any{"actions": []string{"join", "host"}}},
	})
	if err != nil {
		return err
	}
	rd := protocol.NewReader(bufio.NewReaderSize(c.c, 16<<10))
	for {
		f, err := rd.ReadFrame()
		if err != nil {
			return err
		}
		switch t := f.Type(); {
		case t == 0:
			if err := s.command(c, f.Payload()); err != nil {
				return err
			}
		case t == 2:
			if p := f.Payload(); len(p) == 1 && p[0] == 0 {
				if err := c.write([]byte{0, 1, 2, 0, 1}); err != nil {
					return err
				}
			}
		case t >= protocol.FirstServerMeta && c.sess != nil:
			f.SetCtx(c.uid)
			c.sess.relay(f)
		}
	}
}

func (ns *nullSession) relay(f protocol.Frame) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	for _, m := range ns.members {
		if m == nil {
			continue // reserved, result not sent yet
		}
		_ = m.write(f) // a dead member's reader ends and leaves

	}
}

func (s *NullServer) command(c *nullConn, payload []byte) error {
	var cmd nullCommand
	if err := json.Unmarshal(payload, &cmd); err != nil {
		return fmt.Errorf("null server: bad command: %w", err)
	}
	result := func(kv ...any) error {
		m := map[string]any{"type": "result", "message": cmd.Cmd + " ok"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return c.reply(m)
	}
	switch cmd.Cmd {
	case "cinfo":
		return result("cinfo", map[string]any{"browser": false})
	case "lookup":
		if len(cmd.Args) == 0 {
			return result("lookup", "host")
		}
		return result("lookup", "join")
	case "ident":
		var name string
		if len(cmd.Args) > 0 {
			_ = json.Unmarshal(cmd.Args[0], &name)
		}
		if err := result("state", "identOk", "ident", name, "guest", true, "flags", []string{"HOST"}); err != nil {
			return err
		}
		return c.reply(map[string]any{"type": "login", "message": "Welcome", "sessions": []any{}})
	case "host", "join":
		if c.sess != nil {
			return nil
		}
		var id string
		if cmd.Cmd == "host" {
			id, _ = cmd.Kwargs["alias"].(string)
		} else if len(cmd.Args) > 0 {
			_ = json.Unmarshal(cmd.Args[0], &id)
		}
		want := 0
		if v, ok := cmd.Kwargs["user_id"].(float64); ok {
			want = int(v)
		}
		ns, uid, err := s.enter(c, id, cmd.Cmd == "host", want)
		if err != nil {
			return c.reply(map[string]any{"type": "error", "code": "notFound", "message": err.Error()})
		}
		if err := result("state", cmd.Cmd, "join", map[string]any{"id": id, "uniqueId": id, "user": uid, "flags": []string{}}); err != nil {
			return err
		}
		if cmd.Cmd == "join" {
			if err := c.reply(map[string]any{"type": "catchup", "count": 0, "key": 1}); err != nil {
				return err
			}
			if err := c.reply(map[string]any{"type": "caughtup", "key": 1}); err != nil {
				return err
			}
		}
		ns.mu.Lock()
		ns.members[uid] = c
		ns.mu.Unlock()
		return nil
	}
	return nil // in-session commands are accepted and ignored
}

// enter adds c to session id (creating it for a host) and picks its id.
func (s *NullServer) enter(c *nullConn, id string, host bool, want int) (*nullSession, uint8, error) {
	s.mu.Lock()
	ns := s.sessions[id]
	if ns == nil {
		if !host {
			s.mu.Unlock()
			return nil, 0, fmt.Errorf("no session %q", id)
		}
		ns = &nullSession{members: map[uint8]*nullConn{}}
		s.sessions[id] = ns
	}
	s.mu.Unlock()
	ns.mu.Lock()
	defer ns.mu.Unlock()
	taken := func(u int) bool {
		_, ok := ns.members[uint8(u)] // nil values are reserved ids
		return ok
	}
	uid := 0
	if want >= 1 && want <= 254 && !taken(want) {
		uid = want
	}
	for u := 1; uid == 0 && u <= 254; u++ {
		if !taken(u) {
			uid = u
		}
	}
	if uid == 0 {
		return nil, 0, fmt.Errorf("session %q is full", id)
	}
	ns.members[uint8(uid)] = nil // reserved until the result is sent
	c.uid, c.sess = uint8(uid), ns
	return ns, uint8(uid), nil
}

func (s *NullServer) leave(c *nullConn) {
	if c.sess == nil {
		return
	}
	c.sess.mu.Lock()
	delete(c.sess.members, c.uid)
	c.sess.mu.Unlock()
}

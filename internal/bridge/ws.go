package bridge

import (
	"bytes"
	"context"
	"encoding/binary"
	"net/http"
	"net/netip"
	"strings"
	"sync"

	"github.com/coder/websocket"

	"drawbridge/internal/session"
	"drawbridge/protocol"
)

// wsConn adapts a WebSocket connection to session.Conn: one binary
// message per protocol message, `type ctx payload` (§1.2).
type wsConn struct {
	b    *Bridge
	c    *websocket.Conn
	sock *wsSock // the hijacked socket under c (wscork.go)
	once sync.Once
}

// WriteFrames writes each frame as its own binary WebSocket message, the
// whole batch with one write (wsSock.writeMessages). On error nothing is
// counted as sent (part of the batch may be on the wire; the connection
// is finished either way).
func (w *wsConn) WriteFrames(ctx context.Context, frames []protocol.Frame) error {
	if _, err := w.sock.writeMessages(ctx, frames); err != nil {
		return err
	}
	n := 0
	for _, f := range frames {
		n += len(f)
	}
	w.b.wsM.sent(len(frames), n)
	return nil
}

// Close sends a close frame in the background (the close handshake can
// take seconds); tracked by the bridge's WaitGroup.
func (w *wsConn) Close(reason session.CloseReason, msg string) error {
	w.once.Do(func() {
		status := websocket.StatusNormalClosure
		switch reason {
		case session.CloseSlow:
			status = websocket.StatusPolicyViolation
		case session.CloseBadData:
			status = websocket.StatusUnsupportedData
		case session.CloseShutdown:
			status = websocket.StatusGoingAway
		}
		if len(msg) > 120 {
			msg = msg[:120]
		}
		w.b.wg.Add(1)
		go func() {
			defer w.b.wg.Done()
			_ = w.c.Close(status, msg)
		}()
	})
	return nil
}

func (w *wsConn) forceClose() { _ = w.c.CloseNow() }

func (b *Bridge) serveWS(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Server", "drawbridge")
	release, ok := b.acquireConn(b.remoteAddr(r))
	if !ok {
		http.Error(rw, "Too many connections from your address", http.StatusTooManyRequests)
		return
	}
	defer release()
	c, sock, err := acceptWS(rw, r, b.origins)
	if err != nil {
		b.logger.Debug("websocket accept failed", "err", err, "origin", r.Header.Get("Origin"))
		return
	}
	c.SetReadLimit(protocol.WSHeaderLen + protocol.MaxPayload)
	wc := &wsConn{b: b, c: c, sock: sock}
	if !b.track(wc) {
		_ = c.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	defer b.untrack(wc)
	b.metrics.opened(b.wsM, "ws")
	defer b.wsM.closed()
	info := session.ConnInfo{Transport: "ws", Addr: b.remoteAddr(r), Browser: r.Header.Get("Origin") != ""}
	cl, err := b.srv.Accept(wc, info)
	if err != nil {
		_ = c.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	defer cl.Close()
	timeout := b.srv.Settings().ClientTimeout
	lg := cl.Logger()
	var buf bytes.Buffer
	for {
		ctx, cancel := context.Background(), context.CancelFunc(func() {})
		if timeout > 0 {
			ctx, cancel = context.WithTimeout(ctx, timeout)
		}
		typ, rd, err := c.Reader(ctx)
		if err != nil {
			cancel()
			lg.Debug("websocket read ended", "err", err)
			return
		}
		buf.Reset()
		buf.Write([]byte{0, 0}) // room for the TCP length
		_, err = buf.ReadFrom(rd)
		cancel()
		if err != nil {
			lg.Debug("websocket read ended", "err", err)
			return
		}
		if typ != websocket.MessageBinary {
			// Not part of the protocol: drawpile-srv warns and drops it
			// (protocol.md §1.2).
			lg.Warn("dropped a text websocket message", "bytes", buf.Len()-2)
			continue
		}
		data := buf.Bytes()
		if len(data) < protocol.HeaderLen {
			lg.Info("websocket message shorter than its header, disconnecting")
			_ = wc.Close(session.CloseBadData, "message too short")
			return
		}
		binary.BigEndian.PutUint16(data, uint16(len(data)-protocol.HeaderLen))
		b.wsM.received(len(data))
		if err := cl.Receive(protocol.Frame(data)); err != nil {
			return
		}
	}
}

// remoteAddr is the peer address, or X-Real-IP when the peer is a
// trusted proxy.
func (b *Bridge) remoteAddr(r *http.Request) netip.Addr {
	var peer netip.Addr
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		peer = ap.Addr().Unmap()
	}
	if real := r.Header.Get("X-Real-IP"); real != "" {
		for _, p := range b.cfg.TrustedProxies {
			if p.Contains(peer) {
				if a, err := netip.ParseAddr(strings.TrimSpace(real)); err == nil {
					return a.Unmap()
				}
				break
			}
		}
	}
	return peer
}

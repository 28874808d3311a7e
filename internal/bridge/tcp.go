package bridge

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"drawbridge/internal/session"
	"drawbridge/protocol"
)

// tcpConn adapts a TCP (or STARTTLS) connection to session.Conn.
type tcpConn struct {
	raw net.Conn // the accepted socket; closing it ends everything
	// nc is raw or the TLS connection on top of it; set before the session
	// sees the connection, immutable afterwards.
	nc net.Conn
	// bufs is reused for every batch (writev on plain TCP); owned by the
	// session's writer goroutine.
	bufs net.Buffers
	m    *transportMetrics // immutable after construction

	once sync.Once
}

func (c *tcpConn) WriteFrames(ctx context.Context, frames []protocol.Frame) error {
	if dl, ok := ctx.Deadline(); ok {
		_ = c.nc.SetWriteDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = c.nc.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	c.bufs = c.bufs[:0]
	n := 0
	for _, f := range frames {
		c.bufs = append(c.bufs, f)
		n += len(f)
	}
	bufs := c.bufs // WriteTo consumes its receiver
	_, err := bufs.WriteTo(c.nc)
	c.m.sent(len(frames), n)
	clear(c.bufs)
	return err
}

func (c *tcpConn) Close(session.CloseReason, string) error {
	var err error
	c.once.Do(func() { err = c.raw.Close() })
	return err
}

func (c *tcpConn) forceClose() { _ = c.Close(session.CloseShutdown, "") }

func addrOf(a net.Addr) netip.Addr {
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

func (b *Bridge) acceptTCP() {
	var delay time.Duration
	for {
		nc, err := b.tcpLn.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Temporary failure (e.g. out of file descriptors): back off.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			b.logger.Warn("tcp accept failed", "err", err, "retry_in", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		release, ok := b.acquireConn(addrOf(nc.RemoteAddr()))
		if !ok {
			_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = nc.Write(tooManyConnsFrame)
			nc.Close()
			continue
		}
		tc := &tcpConn{raw: nc, nc: nc, m: b.tcpM}
		if !b.track(tc) {
			release()
			nc.Close()
			return
		}
		b.metrics.opened(b.tcpM, "tcp")
		go func() {
			defer b.untrack(tc)
			defer release()
			defer b.tcpM.closed()
			b.serveTCP(tc)
		}()
	}
}

// serveTCP is the reader goroutine of one TCP connection.
func (b *Bridge) serveTCP(tc *tcpConn) {
	defer tc.Close(session.CloseNormal, "")
	if t, ok := tc.raw.(*net.TCPConn); ok {
		_ = t.SetNoDelay(true)
	}
	st := b.srv.Settings()
	info := session.ConnInfo{Transport: "tcp", Addr: addrOf(tc.raw.RemoteAddr())}
	br := bufio.NewReaderSize(tc.raw, 8*1024)
	if b.tlsConf != nil {
		info.TLS = true
		nc, ok := b.startTLS(tc.raw, br, info, st.ClientTimeout)
		if !ok {
			return
		}
		tc.nc = nc
		br = bufio.NewReaderSize(nc, 8*1024)
		info.Secure, info.GreetingSent = true, true
	}
	cl, err := b.srv.Accept(tc, info)
	if err != nil {
		return
	}
	defer cl.Close()
	rd := protocol.NewReader(br)
	lg := cl.Logger()
	for {
		if st.ClientTimeout > 0 {
			_ = tc.nc.SetReadDeadline(time.Now().Add(st.ClientTimeout))
		}
		f, err := rd.ReadFrame()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				lg.Debug("tcp read ended", "err", err)
			}
			return
		}
		tc.m.received(len(f))
		if err := cl.Receive(f); err != nil {
			return
		}
	}
}

// startTLS runs the plain-text part of a login on a TLS-enabled listener:
// greeting with TLS+SECURE, then the client must send startTls (§4.4).
// Pings are answered; any other command gets tlsRequired.
func (b *Bridge) startTLS(nc net.Conn, br *bufio.Reader, info session.ConnInfo, timeout time.Duration) (net.Conn, bool) {
	if timeout <= 0 {
		timeout = time.Minute
	}
	write := func(f protocol.Frame) bool {
		_ = nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		_, err := nc.Write(f)
		return err == nil
	}
	g, err := protocol.JSONFrame(b.srv.Greeting(info))
	if err != nil || !write(g) {
		return nil, false
	}
	rd := protocol.NewReader(br)
	for {
		_ = nc.SetReadDeadline(time.Now().Add(timeout))
		f, err := rd.ReadFrame()
		if err != nil {
			return nil, false
		}
		switch f.Type() {
		case 2: // Ping
			if f.PayloadLen() == 1 && f.Payload()[0] == 0 {
				pong, _ := protocol.NewFrame(2, 0, []byte{1})
				if !write(pong) {
					return nil, false
				}
			}
			continue
		case 0:
		default:
			continue
		}
		cmd, err := protocol.ParseCommand(f.Payload())
		if err != nil || cmd.Cmd != "startTls" {
			ef, _ := protocol.JSONFrame(protocol.ErrorReply{Type: protocol.ReplyError, Code: "tlsRequired", Message: "TLS required"})
			df, _ := protocol.NewFrame(1, 0, append([]byte{0}, "Login error"...))
			write(append(ef, df...))
			return nil, false
		}
		if br.Buffered() > 0 {
			return nil, false // the client must wait for our answer
		}
		rf, _ := protocol.JSONFrame(protocol.Result{Type: protocol.ReplyResult, Message: "Start TLS now!", StartTLS: true})
		if !write(rf) {
			return nil, false
		}
		tlsConn := tls.Server(nc, b.tlsConf)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = tlsConn.HandshakeContext(ctx)
		cancel()
		if err != nil {
			b.logger.Info("tls handshake failed", "addr", info.Addr.String(), "err", err)
			return nil, false
		}
		_ = nc.SetDeadline(time.Time{})
		return tlsConn, true
	}
}

package session

import (
	"context"
	"net/netip"

	"drawbridge/protocol"
)

// Conn is one client connection as the session core sees it. The transport
// adapter implements it; the core never touches sockets.
type Conn interface {
	// WriteFrames writes frames in order, each as one protocol message
	// (TCP: 4-byte header; WebSocket: one binary message without the
	// length). It must return once ctx is done (the write deadline).
	// Called only from the client's writer goroutine.
	WriteFrames(ctx context.Context, frames []protocol.Frame) error
	// Close closes the transport. It is called at most once per reason
	// from any goroutine and must be safe to call concurrently with
	// WriteFrames and with the transport's own reads, which it must unblock.
	Close(reason CloseReason, msg string) error
}

// CloseReason tells the transport why the core closes a connection
// (WebSocket adapters map it to a close status).
type CloseReason int

const (
	// CloseNormal: orderly end (after a Disconnect message, or logout).
	CloseNormal CloseReason = iota
	// CloseSlow: the client missed a write deadline or lagged too far.
	CloseSlow
	// CloseBadData: the client sent something undecodable.
	CloseBadData
	// CloseShutdown: the server is shutting down.
	CloseShutdown
)

func (r CloseReason) String() string {
	switch r {
	case CloseNormal:
		return "normal"
	case CloseSlow:
		return "slow"
	case CloseBadData:
		return "bad data"
	case CloseShutdown:
		return "shutdown"
	}
	return "unknown"
}

// ConnInfo describes a connection to the login state machine.
type ConnInfo struct {
	// Transport is "tcp" or "ws" (for logs).
	Transport string
	// Addr is the client's address (zero if unknown).
	Addr netip.Addr
	// Browser: a WebSocket connection with an Origin header (§6).
	Browser bool
	// TLS: the transport can do STARTTLS (TCP with a certificate);
	// greeting flags TLS and SECURE are sent and startTls is mandatory.
	// Secure: the connection is already encrypted.
	TLS, Secure bool
	// GreetingSent: the transport already sent the greeting and handled
	// startTls (TCP with TLS); Accept then sends no greeting.
	GreetingSent bool
}

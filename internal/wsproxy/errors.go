package wsproxy

import (
	"fmt"

	"github.com/coder/websocket"

	"drawbridge/protocol"
)

// Error codes the relay sends to the browser as {"type":"error","code":…}
// (the same envelope as upstream login errors, protocol.md §4.11), followed
// by a Disconnect with the same message. The upstream* codes are ours; the
// others are the codes drawpile-srv uses for the same refusal.
const (
	// CodeNotAllowed: the upstream is not on the allowlist; no connection
	// was attempted.
	CodeNotAllowed = "upstreamNotAllowed"
	// CodeUnreachable: the TCP connection failed or the server did not
	// greet in time.
	CodeUnreachable = "upstreamUnreachable"
	// CodeProtocol: the upstream does not speak Drawpile protocol 4.
	CodeProtocol = "upstreamProtocol"
	// CodeCertChanged: the upstream's TLS key differs from the pinned one.
	CodeCertChanged = "upstreamCertChanged"
	// CodeNoTLS: the upstream used TLS before (it is pinned) but no longer
	// offers it.
	CodeNoTLS = "upstreamNoTls"
	// CodeTLSFailed: STARTTLS or the TLS handshake failed.
	CodeTLSFailed = "upstreamTlsFailed"
	// CodeLost: the upstream closed the connection or stopped answering.
	CodeLost = "upstreamLost"

	// Browser rules applied on the upstream's behalf (see the package doc).
	CodeWebNotAllowed    = "webNotAllowed"
	CodeNoWebJoin        = "noWebJoin"
	CodeUnauthorizedHost = "unauthorizedHost"
)

// Error is why a relay ended when it was not a clean close by the browser
// or a Disconnect sent by the upstream. Serve returns it; the browser got
// the same Code and Message.
type Error struct {
	Code    string // one of the Code constants
	Target  Target
	Message string // what the browser was told
	Err     error  // underlying cause, if any
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("wsproxy: %s: %s (%s): %v", e.Target, e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("wsproxy: %s: %s (%s)", e.Target, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// status is the WebSocket close status that goes with an error code.
func (e *Error) status() websocket.StatusCode {
	switch e.Code {
	case CodeNotAllowed, CodeWebNotAllowed, CodeNoWebJoin, CodeUnauthorizedHost:
		return websocket.StatusPolicyViolation
	default:
		return websocket.StatusBadGateway
	}
}

// errorFrame encodes {"type":"error","code":…,"message":…}.
func errorFrame(code, msg string) protocol.Frame {
	f, err := protocol.JSONFrame(protocol.ErrorReply{Type: protocol.ReplyError, Code: code, Message: clip(msg, 4096)})
	if err != nil {
		return nil // cannot happen: the message is clipped
	}
	return f
}

// disconnectFrame encodes Disconnect(reason, msg).
func disconnectFrame(reason uint8, msg string) protocol.Frame {
	f, err := protocol.NewFrame(protocol.TypeDisconnect, 0, append([]byte{reason}, clip(msg, 4096)...))
	if err != nil {
		return nil // cannot happen: the message is clipped
	}
	return f
}

// clip shortens s to at most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

package client

import (
	"errors"
	"fmt"
)

// Login error codes sent by the server in {"type":"error","code":…}
// (protocol.md §4.11). The list is not exhaustive: ServerError.Code holds
// whatever the server sent.
const (
	CodeTLSRequired           = "tlsRequired"
	CodeNoTLS                 = "noTls"
	CodeAlreadySecure         = "alreadySecure"
	CodeClientInfoUnsupported = "clientInfoUnsupported"
	CodeLookupUnsupported     = "clientLookupUnsupported"
	CodeCinfoAlreadyDone      = "cinfoAlreadyDone"
	CodeLookupAlreadyDone     = "lookupAlreadyDone"
	CodeSyntax                = "syntax"
	CodeBadVersion            = "badversion"
	CodeMismatchedHostName    = "mismatchedHostName"
	CodeLookupRequired        = "lookupRequired"
	CodeLookupFailed          = "lookupFailed"
	CodeInviteNotFound        = "inviteNotFound"
	CodeInviteLimitReached    = "inviteLimitReached"
	CodeInviteNoClientKey     = "inviteNoClientKey"
	CodeBadUsername           = "badUsername"
	CodeForbiddenUsername     = "forbiddenUsername"
	CodeIdentError            = "identError"
	CodeBannedName            = "bannedName"
	CodeBadPassword           = "badPassword"
	CodeNoGuest               = "noGuest"
	CodeWebNotAllowed         = "webNotAllowed"
	CodeLookupHostMismatch    = "lookupHostMismatch"
	CodePasswordedHost        = "passwordedHost"
	CodeUnauthorizedHost      = "unauthorizedHost"
	CodeProtoVerNS            = "protoverns"
	CodeProtoVerOld           = "protoverold"
	CodeBadAlias              = "badAlias"
	CodeIDInUse               = "idInUse"
	CodeBadProtocol           = "badProtocol"
	CodeClosed                = "closed"
	CodeNotFound              = "notFound"
	CodeLookupJoinMismatch    = "lookupJoinMismatch"
	CodeLookupMismatch        = "lookupMismatch"
	CodeNoWebJoin             = "noWebJoin"
	CodeBanned                = "banned"
	CodeAuthOnly              = "authOnly"
	CodeNameInUse             = "nameInuse" // sic: the server's spelling
)

// ServerError is a {"type":"error"} reply from the server. During login it
// carries a Code (and is fatal except for badPassword); in-session command
// errors have no code and a message of the form "<cmd>: <reason>".
type ServerError struct {
	Cmd     string // the command that was answered ("" if unsolicited)
	Code    string // error code, "" for in-session command errors
	Message string // server's human-readable text
}

func (e *ServerError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("client: server error on %s: %s", e.Cmd, e.Message)
	}
	return fmt.Sprintf("client: server error on %s: %s (%s)", e.Cmd, e.Code, e.Message)
}

// Fatal reports whether the server ends the connection after this error
// (every login error except badPassword, protocol.md §4.11).
func (e *ServerError) Fatal() bool { return e.Code != "" && e.Code != CodeBadPassword }

// ErrorCode returns the server's error code of err if err is (or wraps) a
// *ServerError, else "".
func ErrorCode(err error) string {
	var se *ServerError
	if errors.As(err, &se) {
		return se.Code
	}
	return ""
}

// Disconnect reasons (protocol.md §3.2, Disconnect.reason).
const (
	ReasonError    = 0
	ReasonKick     = 1
	ReasonShutdown = 2
	ReasonOther    = 3
)

// DisconnectError is returned when the server sent a Disconnect message.
// Message is the kicker's name for ReasonKick.
type DisconnectError struct {
	Reason  uint8
	Message string
}

func (e *DisconnectError) Error() string {
	return fmt.Sprintf("client: disconnected by server (reason %d): %s", e.Reason, e.Message)
}

// ProtocolError reports a server message the client cannot make sense of
// (bad JSON, unexpected reply during login).
type ProtocolError struct {
	Reason string
}

func (e *ProtocolError) Error() string { return "client: protocol error: " + e.Reason }

// ErrState is returned by a method called in the wrong connection state
// (for example Join before Ident).
var ErrState = errors.New("client: wrong state for this call")

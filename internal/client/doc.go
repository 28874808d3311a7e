// Package client is the client side of Drawpile's session protocol: the
// login handshake (greeting, startTls, cinfo, lookup, ident, session list,
// host, join), catch-up tracking (catchup / caughtup), history-position
// tracking for fast reconnects (hidx), sending messages and the in-session
// server commands (sessionconf, kick, ban, mute, op, reset, invites, chat).
//
// It owns the protocol state machine of one connection. It does not own the
// transport (a Transport is injected: TCP with optional STARTTLS lives here,
// WebSocket lives in the wsconn sub-package so that this package never links
// a WebSocket library), the canvas, or any goroutine: the caller drives it.
// It is used by the black-box tests of the bridge, by `dptool bots` (many
// connections per process, so per-connection state is small) and by the
// browser client (compiled to wasm, so no net/http here).
//
// Specification: shared/reference/protocol.md §4 (login), §5 (session),
// §6 (WebSocket).
//
// # Message flow
//
//	S: greeting {"type":"login","version":4,"flags":[…],"methods":{…}}   ReadGreeting
//	C: startTls → S: result, TLS handshake (TCP only)                    StartTLS
//	C: cinfo    → S: result cinfo{browser}                               ClientInfo
//	C: lookup   → S: result lookup host|join                             LookupHost, LookupJoin
//	C: ident    → S: result identOk|needPassword|…, then session list    Ident
//	S: login "New session"/"Session ended" updates                       WaitSessionUpdate
//	C: host|join → S: result state host|join                             Host, Join
//	S: catchup, status, history …, caughtup(key)                         Recv, CaughtUp
//	C/S: messages and in-session commands                                Send*, Recv
//
// # Goroutines
//
// A Client starts no goroutines. Exactly one goroutine at a time may call
// the reading methods (ReadGreeting, the login steps, Recv, WaitCaughtUp);
// the state they update (session list, catch-up, history position) is owned
// by that goroutine and its accessors must be called from it too. The
// sending methods (Send*, Chat, the in-session commands, Ping) may be called
// from any goroutine, concurrently with a reader: writes are serialised by a
// mutex.
package client

// Package session is the transport-free core of the Drawbridge session
// server, a Go counterpart of Drawpile's dedicated "thin" server
// (drawpile-srv): the login state machine (protocol.md §4), the session
// registry, ordered session histories with one cursor per client, catch-up,
// in-session commands (§5.8), resets (§5.4, §5.5), limits and room codes.
//
// It does not own sockets, HTTP, TLS or WebSocket framing: a transport
// adapter (internal/bridge) wraps each connection in a Conn, calls
// Server.Accept and feeds every received frame to Client.Receive. Accounts
// and bans come through the Authenticator and BanChecker interfaces and
// settings are a Settings value (replaced live by SetSettings). With
// Server.EnableFiles, sessions are file-backed in drawpile-srv's format
// (persist.go, via internal/store/sessionfile): a frame is written to the
// session's recording before any client can receive it.
// Announcing sessions at list servers goes through a Lister plugged in
// with Server.SetLister (listing.go; internal/listing does the HTTP).
// It never decodes drawing commands (types ≥ 64 are relayed as bytes) and
// never renders.
//
// # Fan-out
//
// Every session has one append-only history of frames under Session.mu.
// Appending never waits for a client. Each Client has exactly one writer
// goroutine that owns its cursor into the history, wakes up on the
// session's "history grew" channel (closed and replaced on every append) or
// on its own direct-message queue, copies out a bounded batch and writes it
// with a write deadline. A client whose write misses the deadline, or that
// falls more than Settings.MaxLag bytes behind the history appended since it
// joined, is disconnected (the session never skips a message for it and
// never waits for it); it can rejoin and catch up.
//
// Direct messages (notices, pongs, command replies) carry a history
// barrier: they are written after the history that existed when the first
// direct message of the same critical section was queued (see
// Session.barrierLocked), so an up-to-date client sees events in the order
// drawpile-srv would send them, and a pong always follows the history that
// existed when its ping arrived. A client that is still catching up, or not
// yet in a session, gets direct messages ahead of the history it is
// replaying, like Drawpile's send queue.
//
// Receive never retains the frame it is given: whatever is stored is
// copied, so transports may reuse their read buffers.
//
// # Goroutines and locks
//
//   - The transport's reader goroutine calls Client.Receive, which runs the
//     login state machine and session commands synchronously.
//   - One writer goroutine per Client (started by Accept, stopped by
//     Client.Close).
//   - Per-session timers (autoreset answer window, empty-session linger)
//     run as time.AfterFunc callbacks that take Session.mu.
//   - A client found lagging by the appending side is disconnected on a
//     short-lived goroutine (Client.fail must not run under Session.mu).
//   - One cleanup goroutine per Server (idle sessions, connections without
//     a session past SessionLessClientLingerTime), stopped by Shutdown.
//
// Lock order: Server.mu before Session.mu before Client.mu. No lock is held
// while calling into a Conn.
//
// # Operators and the session log
//
// As drawpile-srv (server.md §4.2, §4.11): when a user joins or leaves and
// no member other than a ghost is an operator, and there is neither an
// opword nor a remembered registered operator who is away, the
// earliest-joined remaining member is made operator (ensureOperatorLocked).
// Every operator status change that is not part of a join or an auth-list
// command sends the auth, ban and invite lists to all operators and an
// empty ban list to everyone else (sendOpChangeListsLocked). Session log
// entries never carry an address ("id;name"); ClientInfo and Report
// entries go to moderators only, live and in the replay to joiners, and
// kicks and bans are replayed only to joining operators and moderators
// (replayLogVisible).
package session

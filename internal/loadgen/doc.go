// Package loadgen is the engine behind `dptool bots`: it connects many bot
// clients to any Drawpile-protocol server (Drawbridge or drawpile-srv) over
// TCP or WebSocket, lets drawers draw realistic strokes at a target rate
// while watchers only receive, and measures what the server delivers.
//
// It owns the bots (login, catch-up, sending, receiving), the deterministic
// stroke generator, latency accounting and the report. It does not own the
// protocol state machine (internal/client), the transports
// (internal/client, internal/client/wsconn) or any server code: it talks to
// servers only through sockets, so the same run can be pointed at a
// drawpile-srv for a side-by-side comparison.
//
// Specification: shared/reference/protocol.md §3.1 (DrawDabsClassic,
// UndoPoint, Undo, PenUp, LayerTreeCreate), §4 (login), §4.12 and §5.2
// (catch-up, history order), issue #9.
//
// # Measuring without clock synchronisation
//
// A thin Drawpile server stores every message of type ≥ 64 in one ordered
// history and relays it to everyone, the sender included (protocol.md
// §5.1). So the k-th message with context id C that a receiver sees after
// the start barrier is the k-th message the bot with id C sent after the
// barrier: messages are matched by order per context id, without decoding
// them. Each drawer publishes, per sequence number, the send time, type
// and payload length of what it sent in a lock-free ring (stream); a
// receiver checks type and length (a mismatch means the order assumption
// broke and is reported) and records:
//
//   - rtt: the sender's own round trip (send → own echo);
//   - delivery: send → arrival at another bot of this process (one
//     process, one monotonic clock, so no synchronisation is needed);
//   - lag: arrival relative to the first bot that saw the message, the
//     measure that stays valid when bots run in several processes.
//
// # Goroutines
//
// Per bot: one goroutine that logs in, catches up and then reads until the
// connection is closed (it owns the bot's receive counters and
// histograms); per drawer one sender goroutine driven by its own ticker
// (it owns the generator, the send buffer and the send counters). Run owns
// one pinger goroutine (keep-alive pings for all bots, every 15 s) and,
// with a server pid, one /proc sampler. No per-message goroutines; receive
// and send buffers are reused; only ServerCommand JSON is decoded.
package loadgen

// Package mirror keeps a live server-side canvas of a session: it consumes
// the session's history from one read-only subscription (a session.Tap, or
// any Source), runs every message through the canvas ACL filter and the
// paint engine like a client would, and serves from that canvas
//
//   - spectators: a late viewer gets a fresh reset image (canvas.Snapshot
//     plus the presence and ACL state the canvas does not hold) and then
//     the tail of the history after it, instead of the whole history; all
//     viewers of a session share the mirror's log (one history stream,
//     however many viewers), each with its own cursor and optional delay;
//   - thumbnails: PNG or lossless WebP (internal/webp), scaled to fit a
//     box, re-rendered at a bounded rate and only when the canvas changed,
//     each format encoded at most once per render;
//   - server-side resets: on a SoftReset marker the mirror builds the reset
//     image of exactly that point and hands it to a ResetSink (the session),
//     see session.ResetImager.
//
// It is the only server package that imports canvas. It owns no
// transport: the bridge turns Viewer.Next batches into WebSocket messages.
// Specification: shared/reference/protocol.md §4.12 (what a joiner
// receives), §5.5 (streamed reset), engine.md §6.3 (reset image).
//
// # Goroutines and locks
//
//   - Run is the owner goroutine: it alone touches the canvas, the ACL
//     and the tracked ACL state ("owned by Run" below). It starts one
//     reader goroutine that calls Source.Next and hands batches over a
//     channel of capacity 1; Run waits for it before returning.
//   - Viewers are driven by their callers (one goroutine per Viewer calls
//     Next); Watch, Thumbnail, ThumbnailAs, Viewers and RequestResetImage
//     may be called from any goroutine (ThumbnailAs encodes a format that
//     Run did not, on the caller's goroutine, outside Mirror.mu).
//   - Mirror.mu guards the shared log, the snapshots, the viewer set and
//     the thumbnail. It is never held while calling the Source, a
//     ResetSink or an OnViewers callback, so a session may call
//     RequestResetImage with its own lock held (lock order: session before
//     Mirror.mu).
package mirror

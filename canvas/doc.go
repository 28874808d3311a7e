// Package canvas is Drawbridge's paint engine: a pure-Go, pixel-compatible
// reimplementation of Drawpile's "drawdance" engine (dp:4.25.1, with the
// dp:4.24 layouts decoded by package protocol).
//
// It owns the canvas model (64×64 tiles of 15-bit premultiplied BGRA, the
// layer tree with groups, clipping, sublayers for indirect strokes, the
// background), every blend mode with Drawpile's exact fixed-point formulas in
// both contexts (layer compositing and brush masks), brush dab rendering,
// the undo history with Drawpile's depth rules, flattening to 8-bit RGBA and
// dirty-tile tracking for incremental viewers.
//
// Entry points: New creates a canvas; Apply feeds it decoded protocol
// messages in server order (canvas commands go through the undo history);
// Render / FlattenTile / RenderTileRGBA / TakeDirtyTiles serve viewers;
// Snapshot produces the reset-image message list; ACL is the permission
// filter clients run before Apply; Fork is an interactive client's local
// fork (own commands shown before their echo, reconciled with the
// server's order). The typed methods (FillRect,
// DrawDabsClassic, …) mutate the live state only and are not recorded in
// the history: wrap them in Do to make them undoable.
//
// It does not own message framing or decoding (package protocol), networking,
// or any user interface. The engine is deterministic: no goroutines, no I/O,
// no logging, no randomness. A Canvas is not safe for concurrent use; its
// owner (a client's game loop, a server mirror) applies messages from one
// goroutine.
//
// Specification: ../shared/reference/engine.md (§ references in comments
// point there). Where this package differs from the reference renderer, the
// difference is listed in KNOWN_DIFFERENCES.md.
package canvas

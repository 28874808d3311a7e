// Package protocol implements Drawpile's network protocol, dp:4.25.1 (Drawpile
// 2.3) and the dp:4.24.0 layouts (Drawpile 2.2), byte for byte.
//
// It owns message framing (TCP/recording 4-byte header, WebSocket 2-byte
// header), the message types and their codecs, the login and in-session
// ServerCommand JSON envelopes, and the .dprec/.dptxt recording formats. It
// does not own transports, sessions or rendering, and it imports only the
// standard library.
//
// Specification: Drawpile's protocol.yaml as described in
// shared/reference/protocol.md.
//
// # Messages
//
// Every message type has a struct named after it (DrawDabsClassic, Join, …)
// with one field per wire field, generated from spec/messages.spec into
// messages_gen.go. All of them implement Message. Layer ids are always held
// in the dp:4.25 meaning (u24, owner in the low byte); scaled fields (1/4 px,
// 1/256) hold the raw wire integer. The Layout of a session or recording
// (LayoutFor its protocol version) decides the wire layout: Layout424
// converts ids, drops and defaults the fields 2.2 lacks, and refuses the
// 4.25-only types with a *LayoutError (ErrNotInLayout).
//
// # Message flow
//
//	TCP bytes ──Reader.ReadFrame──► Frame ──────────────────► relay / history (opaque, no decode)
//	WS message ──FrameFromWS──────► Frame     Frame.WS() ───► WebSocket peer
//	Frame ──Decode(f, layout)──► Message (struct, or Opaque for unknown ids ≥ 64)
//	Message ──AppendMessage(dst, ctx, m, layout)──► TCP frame bytes
//	.dptxt ──TextReader──► (ctx, Message) ──TextWriter──► .dptxt (byte-identical to Drawpile)
//	.dprec ──RecordingReader──► Frame ──RecordingWriter──► .dprec
//
// A server decodes only what it must (types < 64); everything ≥ 64 stays a
// Frame. Decoding validates the payload length against the spec before it
// allocates, never panics, and reports *DecodeError (type, offset, reason).
package protocol

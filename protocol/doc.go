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
package protocol

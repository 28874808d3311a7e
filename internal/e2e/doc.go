// Package e2e holds the black-box tests of the bridge: a real bridge is
// started in-process on 127.0.0.1 and driven over real TCP and WebSocket
// connections with internal/client. It has no non-test code besides this
// comment.
//
// What is covered: conformance with the recorded drawpile-srv transcripts
// (testdata/transcripts, replayed message by message and compared by
// shape), a host with ten joiners over a mix of transports, moderation
// (kick, ban, mute, op/deop), passwords, limits, invites, resets and fast
// reconnects, and hostile input that must never take the bridge or a
// session down.
package e2e

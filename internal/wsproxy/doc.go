// Package wsproxy relays a browser's WebSocket connection to an upstream
// Drawpile server that only speaks TCP (drawpile-srv without a WebSocket
// listener, or any server whose nginx refuses foreign Origins).
//
// It owns one relay per browser connection: the allowlist check (before any
// connection attempt), the dial, the upstream side of the login handshake
// that a browser cannot do itself (STARTTLS with trust-on-first-use
// certificate pinning, PinStore), re-framing in both directions (WebSocket
// `type ctx payload` ↔ TCP `len type ctx payload`, protocol.md §1.1–1.2,
// through package protocol), rewriting of the few login messages that
// depend on the transport (greeting flags, cinfo host name, cinfo
// "browser" answer), keepalive on both sides and clean error reports to the
// browser. It does not own sessions, canvases, HTTP routing or the
// WebSocket accept (internal/bridge does those); links to upstream sessions
// are parsed by the pure sub-package links.
//
// # Message flow of one relay
//
//	browser (WS)                 wsproxy                       upstream (TCP)
//	  connect ──────────────▶ allowlist check (refused: error + Disconnect, no dial)
//	                          dial ─────────────────────────▶ accept
//	                          ◀──────────────────────────── greeting {flags:[…TLS…]}
//	                          startTls ─────────────────────▶ (only if TLS offered)
//	                          ◀──────────────────────────── result startTls:true
//	                          TLS handshake, pin check (PinStore)
//	  ◀── greeting without TLS/SECURE
//	  cinfo [browser-host,…] ─▶ cinfo [upstream-host,…] ────▶
//	                          ◀──────────────────────────── result cinfo{browser:false}
//	  ◀── result cinfo{browser:true} (when the browser sent an Origin)
//	  lookup/ident/join … ──▶ web policy checked, forwarded ─▶ …
//	  messages ◀─────────────▶ re-framed one by one ◀───────▶ messages
//
// # Browser status and allowWeb (protocol.md §6, server.md §7.1)
//
// A Drawpile server classifies a connection as a browser only when it
// arrives over WebSocket with an Origin header. Over TCP there is no way to
// say "I am a browser", so the upstream sees an ordinary app client. To
// avoid laundering browser policy, the relay applies the upstream's own
// browser rules itself, from the upstream's own answers, whenever the
// incoming WebSocket carried an Origin (ServeOptions.Browser):
//
//   - identOk without the WEB user flag → error webNotAllowed;
//   - host without the WEBHOST user flag → error unauthorizedHost;
//   - join of a session whose description (from the session list or the
//     lookup result) says "allowWeb":false → error noWebJoin, unless the
//     lookup carried an invite secret that the upstream accepted for that
//     session, or the user has the MOD flag (as drawpile-srv does);
//   - join of a session the relay has no description of → noWebJoin
//     (it cannot check; Drawpile's clients always look the session up);
//   - a session description without an allowWeb key means the upstream has
//     no WebSocket listener and therefore no web policy: joining is
//     allowed (this is the case the proxy exists for, and the operator put
//     the upstream on the allowlist).
//
// The cinfo reply then says "browser":true, so the client knows it is held
// to the web rules. Identity keys in cinfo (app_version, s, m, …) are
// passed through untouched; only the host name argument is replaced by the
// real upstream host name (servers may require it to match).
//
// # Goroutines
//
// Serve runs on the caller's goroutine (the HTTP handler) and starts three
// goroutines, all joined before it returns: down (upstream → browser; the
// only reader of the TCP connection), up (browser → upstream; the only
// reader of the WebSocket) and keepalive (WebSocket pings to the browser,
// Ping/KeepAlive to the upstream). Writes are blocking, so TCP and
// WebSocket flow control propagate end to end; every write has a deadline.
// Upstream writes are serialised by relay.umu; messages to the browser go
// through ServeOptions.Writer (internal/bridge: one socket write per batch
// of upstream frames already received) or, without one, ws.Write; both are
// safe for concurrent use. The first goroutine that sees the
// end runs relay.finish once, which tells the browser why (when it can)
// and closes both sides, unblocking the others.
package wsproxy

// Package auth holds drawpile-srv's credential logic as pure functions and
// small types with no I/O: password hashes (plain;, s+sha1;, pbkdf2;,
// sodium;), ext-auth tokens (Ed25519-signed, versions 1 and 2) and the
// flag filtering applied to ext-auth and internal accounts, the per-IP
// connection limit and login-attempt rate limiter (with an injected clock),
// and the trusted-proxy list that decides when X-Real-IP/X-Forwarded-For
// are believed.
//
// It does not own storage (accounts, bans and settings live in
// internal/store, which imports this package) and it does no networking:
// the HTTP calls to an ext-auth server or an external ban list live in
// internal/auth/httpfetch so that this package stays importable from
// internal/store, which must not link net/http.
//
// Facts: shared/reference/server.md §1.3 (password formats, account
// flags), §5 (ext-auth), §7.1 and §7.3 (client IP, limits).
package auth

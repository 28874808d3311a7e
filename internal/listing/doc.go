// Package listing announces sessions at Drawpile list servers, as
// drawpile-srv does (server.md §6.1), speaking the drawpile/listserver
// public API version 1.7 (§6.3).
//
// Client is the HTTP side: POST <api>/sessions/ to announce, one batch
// PUT <api>/sessions/ per list server to refresh, DELETE
// <api>/sessions/<id> with X-Update-Key to delist; User-Agent
// "DrawpileListingClient/<version>", at most two redirects, 400/409/422
// answers relay the list server's "message", 410 is ErrGone.
//
// Announcer owns the listings of every session: announcements run in the
// background, RefreshDue (called by Run every 30 s) refreshes each
// listing when max(2, expires) − 1 minutes have passed or its session
// changed urgently (title, NSFM, password, full/not full, browser
// access), and listings a list server no longer accepts are dropped with
// a message to the session. Sessions are Targets; the package does not
// import internal/session (which must not link net/http): internal/bridge
// adapts one to the other.
//
// It does not own the whitelist (Options.Allowed, the store's
// announceWhitelist) nor the session journal's ANNOUNCE records (the
// session keeps those).
package listing

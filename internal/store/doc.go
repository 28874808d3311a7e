// Package store owns drawpile-srv's durable server configuration: the
// runtime settings of server.md §1.2 (typed, with upstream's TIME/SIZE/INT/
// BOOL parsing rules and defaults), server accounts, server-wide bans (IP
// and subnet, system-id, user-id, the external shared ban list), the list
// server whitelist and the server log. One concrete type, Store, serves
// all three modes: the --config INI file (read-only, reloaded when it
// changes), the --database SQLite file with drawpile-srv's exact schema (so
// an existing drawpile-srv database works unchanged), or an in-memory
// default when neither is given.
//
// It does not own session files (internal/store/sessionfile), transports
// or HTTP: the external ban list is fetched through an injected FetchFunc
// (internal/auth/httpfetch implements one). Password hashing and ext-auth
// token checks live in internal/auth.
//
// Facts: shared/reference/server.md §1.2–1.4, §4.3–4.4, §4.11, §5.
package store

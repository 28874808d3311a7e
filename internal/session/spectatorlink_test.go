package session

import (
	"testing"
	"testing/synctest"
)

// TestSpectatorLinkCommand: the spectator-link command answers only
// operators, only to the asker, and rotate=true replaces the secret,
// revokes the old one and signals spectators of the old one.
func TestSpectatorLinkCommand(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		host, s := hostedSession(t, srv)
		bob := connect(t, srv, ConnInfo{Transport: "tcp"})
		bob.join("bob", s.ID(), nil)
		synctest.Wait()
		host.conn.take()
		bob.conn.take()

		bob.send("spectator-link", nil, nil)
		synctest.Wait()
		rs := jsonReplies(t, bob.conn.take())
		if r := findReply(rs, "spectatorlink"); r != nil {
			t.Fatalf("a non-operator got the spectator link: %v", r)
		}
		if r := findReply(rs, "error"); r == nil || r.str("message") != "spectator-link: "+errNotOwner {
			t.Fatalf("non-operator reply = %v, want an error", rs)
		}

		host.send("spectator-link", nil, nil)
		synctest.Wait()
		r := findReply(jsonReplies(t, host.conn.take()), "spectatorlink")
		if r == nil {
			t.Fatal("operator got no spectatorlink reply")
		}
		old := r.str("secret")
		if old != s.WatchSecret() || r.str("watch") != "/watch/"+old || r.str("embed") != "/embed/"+old || r["rotated"] != false {
			t.Fatalf("reply %v does not match the secret %q", r, s.WatchSecret())
		}
		if rs := jsonReplies(t, bob.conn.take()); findReply(rs, "spectatorlink") != nil {
			t.Fatal("the reply was broadcast")
		}
		revoked := s.WatchRevoked(old)
		select {
		case <-revoked:
			t.Fatal("current secret reported as revoked")
		default:
		}

		host.send("spectator-link", nil, map[string]any{"rotate": true})
		synctest.Wait()
		r = findReply(jsonReplies(t, host.conn.take()), "spectatorlink")
		if r == nil || r["rotated"] != true {
			t.Fatalf("rotate reply = %v", r)
		}
		sec := r.str("secret")
		if sec == old || sec != s.WatchSecret() {
			t.Fatalf("rotated secret %q (old %q, now %q)", sec, old, s.WatchSecret())
		}
		if srv.LookupWatch(old) != nil {
			t.Fatal("the old secret still finds the session")
		}
		if srv.LookupWatch(sec) != s {
			t.Fatal("the new secret does not find the session")
		}
		select {
		case <-revoked:
		default:
			t.Fatal("spectators of the old secret were not signalled")
		}
		select {
		case <-s.WatchRevoked(old):
		default:
			t.Fatal("WatchRevoked(old secret) is not closed")
		}
	})
}

// TestWatchSecretSurvivesRestart: a file-backed session journals its
// spectator secret, and a rotation, so links keep working after a restart.
func TestWatchSecretSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		srv, _ := newFileServer(t, dir, func(st *Settings) { st.Persistence = true }, FileConfig{})
		host := connect(t, srv, ConnInfo{})
		host.host("alice", map[string]any{"alias": "keep"})
		host.send("sessionconf", nil, map[string]any{"persistent": true})
		s := srv.Lookup("keep")
		first := s.WatchSecret()
		sec := s.RotateWatchSecret()
		if sec == first {
			t.Fatal("rotation kept the secret")
		}
		shutdown(t, srv)

		srv2, n := newFileServer(t, dir, func(st *Settings) { st.Persistence = true }, FileConfig{})
		defer shutdown(t, srv2)
		if n != 1 {
			t.Fatalf("restored %d sessions, want 1", n)
		}
		s2 := srv2.LookupWatch(sec)
		if s2 == nil || s2.Alias() != "keep" {
			t.Fatalf("LookupWatch(%q) after restart = %v", sec, s2)
		}
		if srv2.LookupWatch(first) != nil {
			t.Fatal("the rotated-away secret works again after a restart")
		}
		if got := s2.WatchSecret(); got != sec {
			t.Fatalf("secret after restart %q, want %q", got, sec)
		}
	})
}

package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"drawbridge/internal/bridge"
	"drawbridge/internal/client"
	"drawbridge/internal/listing/listingtest"
)

// listWait bounds waiting for the bridge's background list server requests.
const listWait = 20 * time.Second

// command sends a ServerCommand; its results come later.
func (e *env) command(c *client.Client, cmd string, args ...any) {
	e.t.Helper()
	if err := c.SendCommand(e.ctx, client.Command{Cmd: cmd, Args: args}); err != nil {
		e.t.Fatalf("%s: %v", cmd, err)
	}
}

// notice matches a server chat notice ("msg") with this text.
func notice(text string) func(rec) bool {
	return func(r rec) bool { return r.Reply != nil && r.Reply.Type == "msg" && r.Reply.Message == text }
}

// active returns the list server's live listings of session id.
func active(ls *listingtest.Server, id string) []listingtest.Listing {
	var out []listingtest.Listing
	for _, l := range ls.Active() {
		if l.SessionID == id {
			out = append(out, l)
		}
	}
	return out
}

// TestListingAnnounceUnlistRestart: an operator announces a file-backed
// session (host from --local-host, port from --announce-port), members
// see the result and the announcements list, unlist-session delists it;
// announced again, the session is delisted at shutdown and announced
// again when the restarted server restores it from its journal.
func TestListingAnnounceUnlistRestart(t *testing.T) {
	ls := listingtest.New(t)
	ls.SetWelcome("Welcome!")
	dir := t.TempDir()
	cfg := func(c *bridge.Config) {
		c.Persist.SessionsDir = dir
		c.LocalHost = "draw.example"
		c.AnnouncePort = 27760
	}
	e := newEnv(t, cfg)
	alice := e.host("Alice", tcp, client.HostOptions{Alias: "room"})

	e.command(alice, "announce-session", ls.URL)
	e.until(alice, "listed notice", notice("This session is now listed at 127.0.0.1: Welcome!"))
	e.until(alice, "announcements list", func(r rec) bool {
		return r.Type == 0 && strings.Contains(r.Payload, `"announcements":[{"url":"`+ls.URL+`"}]`)
	})
	l := active(ls, "room")
	if len(l) != 1 {
		t.Fatalf("list server has %+v", ls.Listings())
	}
	if l[0].Host != "draw.example" || l[0].Port != 27760 || l[0].Owner != "Alice" || l[0].Protocol == "" {
		t.Errorf("announced as %+v", l[0])
	}
	if ua := ls.Requests()[0].UserAgent; !strings.HasPrefix(ua, "DrawpileListingClient/") {
		t.Errorf("user agent %q", ua)
	}

	e.command(alice, "unlist-session", ls.URL)
	if !ls.WaitFor(listWait, func() bool { return len(active(ls, "room")) == 0 }) {
		t.Fatalf("not delisted: %+v", ls.Listings())
	}
	e.until(alice, "empty announcements list", func(r rec) bool {
		return r.Type == 0 && strings.Contains(r.Payload, `"announcements":[]`)
	})
	journal, err := os.ReadFile(filepath.Join(dir, e.b.Server().Lookup("room").ID()+".session"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(journal), "UNANNOUNCE "+ls.URL) {
		t.Errorf("journal lacks UNANNOUNCE:\n%s", journal)
	}

	e.command(alice, "announce-session", ls.URL)
	e.until(alice, "listed again", notice("This session is now listed at 127.0.0.1: Welcome!"))
	second := active(ls, "room")
	if len(second) != 1 {
		t.Fatalf("list server has %+v", ls.Listings())
	}

	// Shutdown delists (Close waits for the request) but keeps the journal.
	e.b.Close()
	for _, x := range ls.Listings() {
		if !x.Unlisted {
			t.Errorf("listing %d still up after shutdown", x.ID)
		}
	}
	newEnv(t, cfg)
	if !ls.WaitFor(listWait, func() bool { return len(active(ls, "room")) == 1 }) {
		t.Fatalf("restored session not announced again: %+v", ls.Listings())
	}
	if again := active(ls, "room"); again[0].ID == second[0].ID {
		t.Errorf("restart reused listing %d", again[0].ID)
	}
}

// TestListingWhitelist: with announceWhitelist on, a list server missing
// from the config file's [announceWhitelist] is refused with drawpile-srv's
// message and never contacted; a whitelisted one works.
func TestListingWhitelist(t *testing.T) {
	allowed, other := listingtest.New(t), listingtest.New(t)
	conf := filepath.Join(t.TempDir(), "drawpile.cfg")
	text := fmt.Sprintf("[config]\nannounceWhitelist = true\n[announceWhitelist]\n%s\n", allowed.URL)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *bridge.Config) { c.ConfigFile = conf })
	alice := e.host("Alice", tcp, client.HostOptions{Alias: "wl"})
	e.command(alice, "announce-session", other.URL)
	e.until(alice, "refusal", notice("Listing on 127.0.0.1 is not allowed on this server"))
	e.command(alice, "announce-session", allowed.URL)
	e.until(alice, "listed", notice("This session is now listed at 127.0.0.1"))
	if n := len(other.Requests()); n != 0 {
		t.Errorf("non-whitelisted list server got %d requests", n)
	}
	if len(active(allowed, "wl")) != 1 {
		t.Errorf("whitelisted list server has %+v", allowed.Listings())
	}
}

// TestListingErrorsAndUnlisted: list server errors are relayed to the
// session; private listings and unlisted sessions are refused as
// drawpile-srv refuses them.
func TestListingErrorsAndUnlisted(t *testing.T) {
	ls := listingtest.New(t)
	ls.RejectAnnouncements("Your server is not reachable")
	e := newEnv(t)
	alice := e.host("Alice", tcp, client.HostOptions{Alias: "err"})
	e.command(alice, "announce-session", ls.URL)
	e.until(alice, "failure", notice("Listing on 127.0.0.1 failed: Your server is not reachable"))

	if err := alice.SendCommand(e.ctx, client.Command{Cmd: "announce-session", Args: []any{ls.URL}, Kwargs: map[string]any{"private": true}}); err != nil {
		t.Fatal(err)
	}
	e.until(alice, "private refused", func(r rec) bool {
		return r.Reply != nil && r.Reply.Type == "error" && r.Reply.Message == "announce-session: Private listings are not available on this server"
	})
	if err := alice.SendCommand(e.ctx, client.Command{Cmd: "sessionconf", Kwargs: map[string]any{"unlisted": true}}); err != nil {
		t.Fatal(err)
	}
	e.command(alice, "announce-session", ls.URL)
	e.until(alice, "unlisted refused", func(r rec) bool {
		return r.Reply != nil && r.Reply.Type == "error" && r.Reply.Message == "announce-session: This session is hidden from listings, it can't be listed"
	})
	if n := len(ls.Requests()); n != 1 {
		t.Errorf("list server got %d requests, want the one refused announcement", n)
	}
}

// TestAdminListing: the admin API's /api/sessions/:id/listing endpoints
// and the "listings" member of the full description; terminating the
// session delists it. (The whitelist is covered by TestListingWhitelist:
// this environment's admin store is not the bridge's.)
func TestAdminListing(t *testing.T) {
	ls := listingtest.New(t)
	e := newAdminEnv(t, "admin", "pw")
	e.login("Alice", client.LoginOptions{Host: &client.HostOptions{Alias: "adm"}})
	id := e.b.Server().Lookup("adm").ID()
	base := "/api/sessions/" + id + "/listing"

	var res map[string]any
	if code, _ := e.call("POST", base, map[string]any{}, &res); code != http.StatusBadRequest || res["message"] != "Missing url" {
		t.Errorf("POST without url: %d %v", code, res)
	}
	if code, _ := e.call("POST", base, map[string]any{"url": ls.URL}, &res); code != http.StatusOK || res["status"] != "ok" {
		t.Fatalf("POST: %d %v", code, res)
	}
	if !ls.WaitFor(listWait, func() bool { return len(active(ls, "adm")) == 1 }) {
		t.Fatalf("not announced: %+v", ls.Listings())
	}
	lid := active(ls, "adm")[0].ID
	var listings []map[string]any
	if !ls.WaitFor(listWait, func() bool {
		e.call("GET", base, nil, &listings)
		return len(listings) == 1
	}) {
		t.Fatalf("GET listing: %v", listings)
	}
	if listings[0]["id"] != float64(lid) || listings[0]["url"] != ls.URL {
		t.Errorf("GET listing: %v", listings)
	}
	var full map[string]any
	e.call("GET", "/api/sessions/"+id, nil, &full)
	if l, _ := full["listings"].([]any); len(l) != 1 {
		t.Errorf("full description listings: %v", full["listings"])
	}

	if code, _ := e.call("DELETE", fmt.Sprintf("%s/%d", base, lid+1000), nil, &res); code != http.StatusNotFound {
		t.Errorf("DELETE unknown listing: %d", code)
	}
	if code, _ := e.call("DELETE", fmt.Sprintf("%s/%d", base, lid), nil, &res); code != http.StatusOK {
		t.Fatalf("DELETE listing: %d %v", code, res)
	}
	if !ls.WaitFor(listWait, func() bool { return len(active(ls, "adm")) == 0 }) {
		t.Fatalf("not delisted: %+v", ls.Listings())
	}

	// Announce again, then end the session: it is delisted.
	e.call("POST", base, map[string]any{"url": ls.URL}, &res)
	if !ls.WaitFor(listWait, func() bool { return len(active(ls, "adm")) == 1 }) {
		t.Fatalf("not announced again: %+v", ls.Listings())
	}
	if !ls.WaitFor(listWait, func() bool {
		e.call("GET", base, nil, &listings)
		return len(listings) == 1
	}) {
		t.Fatal("listing not finished")
	}
	if code, _ := e.call("DELETE", "/api/sessions/"+id, nil, &res); code != http.StatusOK {
		t.Fatalf("terminate: %d %v", code, res)
	}
	if !ls.WaitFor(listWait, func() bool { return len(active(ls, "adm")) == 0 }) {
		t.Fatalf("ended session still listed: %+v", ls.Listings())
	}
}

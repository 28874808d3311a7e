package session

import (
	"slices"
	"sync"
	"testing"
	"testing/synctest"

	"drawbridge/internal/store/sessionfile"
)

// fakeLister records calls; every announcement finishes at once with the
// next listing id unless refuse is set.
type fakeLister struct {
	mu       sync.Mutex
	refuse   bool
	nextID   int64
	listings map[*Session][]Listing
	calls    []string
}

func newFakeLister() *fakeLister { return &fakeLister{nextID: 1, listings: map[*Session][]Listing{}} }

func (f *fakeLister) Announce(s *Session, u string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "announce "+u)
	if f.refuse {
		return ErrListingNotAllowed
	}
	f.listings[s] = append(f.listings[s], Listing{ID: f.nextID, URL: u})
	f.nextID++
	return nil
}

func (f *fakeLister) Unlist(s *Session, u string) []Listing {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "unlist "+u)
	var gone, keep []Listing
	for _, l := range f.listings[s] {
		if u == "" || l.URL == u {
			gone = append(gone, l)
		} else {
			keep = append(keep, l)
		}
	}
	f.listings[s] = keep
	return gone
}

func (f *fakeLister) UnlistID(s *Session, id int64) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, l := range f.listings[s] {
		if l.ID == id {
			f.listings[s] = slices.Delete(f.listings[s], i, i+1)
			return l.URL, true
		}
	}
	return "", false
}

func (f *fakeLister) Listings(s *Session) []Listing {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Listing{}, f.listings[s]...)
}

func (f *fakeLister) callList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

const listURL = "https://list.example/api/"

func TestListingCommands(t *testing.T) {
	tests := []struct {
		name     string
		noLister bool
		refuse   bool
		unlisted bool
		asGuest  bool // sent by a non-operator
		args     []any
		kwargs   map[string]any
		wantErr  string // error reply message
		wantMsg  string // chat notice
		announce bool   // the Lister was asked to announce
	}{
		{name: "announce", args: []any{listURL}, announce: true},
		{name: "not op", asGuest: true, args: []any{listURL}, wantErr: "announce-session: Not a session owner"},
		{name: "no argument", wantErr: "announce-session: Expected one argument: API URL"},
		{name: "two arguments", args: []any{listURL, listURL}, wantErr: "announce-session: Expected one argument: API URL"},
		{name: "bad url", args: []any{"list.example"}, wantErr: "announce-session: Invalid API URL"},
		{name: "private", args: []any{listURL}, kwargs: map[string]any{"private": true},
			wantErr: "announce-session: Private listings are not available on this server"},
		{name: "unlisted session", unlisted: true, args: []any{listURL},
			wantErr: "announce-session: This session is hidden from listings, it can't be listed"},
		{name: "whitelist", refuse: true, args: []any{listURL}, announce: true,
			wantMsg: "Listing on list.example is not allowed on this server"},
		{name: "no lister", noLister: true, args: []any{listURL},
			wantErr: "announce-session: Session listing is not supported by this server"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inBubble(t, nil, func(t *testing.T, srv *Server) {
				fl := newFakeLister()
				fl.refuse = tc.refuse
				if !tc.noLister {
					srv.SetLister(fl)
				}
				host := connect(t, srv, ConnInfo{Transport: "tcp"})
				host.host("Alice", map[string]any{"alias": "room"})
				if tc.unlisted {
					host.send("sessionconf", nil, map[string]any{"unlisted": true})
				}
				sender := host
				if tc.asGuest {
					sender = connect(t, srv, ConnInfo{Transport: "tcp"})
					sender.join("Bob", "room", nil)
				}
				synctest.Wait()
				sender.conn.take()
				sender.send("announce-session", tc.args, tc.kwargs)
				synctest.Wait()
				rs := jsonReplies(t, sender.conn.take())
				e := findReply(rs, "error")
				if tc.wantErr == "" && e != nil {
					t.Fatalf("error reply %v", e)
				}
				if tc.wantErr != "" && (e == nil || e.str("message") != tc.wantErr) {
					t.Fatalf("want error %q, got %v", tc.wantErr, rs)
				}
				if m := findReply(rs, "msg"); tc.wantMsg != "" && (m == nil || m.str("message") != tc.wantMsg) {
					t.Errorf("want notice %q, got %v", tc.wantMsg, rs)
				}
				if got := slices.Contains(fl.callList(), "announce "+listURL); got != tc.announce {
					t.Errorf("announced = %v, calls %v", got, fl.callList())
				}
			})
		})
	}
}

func TestListingLifecycle(t *testing.T) {
	inBubble(t, nil, func(t *testing.T, srv *Server) {
		fl := newFakeLister()
		srv.SetLister(fl)
		host := connect(t, srv, ConnInfo{Transport: "tcp"})
		host.host("Alice", map[string]any{"alias": "room"})
		s := srv.Lookup("room")
		host.send("announce-session", []any{listURL}, nil)
		if err := s.Announce("http://other.example/"); err != nil {
			t.Fatal(err)
		}
		if l := s.Listings(); len(l) != 2 || l[0].URL != listURL {
			t.Fatalf("listings %v", l)
		}
		info := s.ListingInfo()
		if info.ID != "room" || info.Title != "Test" || info.Owner != "Alice" || info.Users != 1 || info.Protocol != "dp:4.25.1" {
			t.Errorf("listing info %+v", info)
		}

		// The result reaches the users as a notice, the list as sessionconf.
		synctest.Wait()
		host.conn.take()
		s.ListingMessage("This session is now listed at list.example")
		s.ListingsChanged()
		synctest.Wait()
		rs := jsonReplies(t, host.conn.take())
		if m := findReply(rs, "msg"); m == nil || m.str("message") != "This session is now listed at list.example" {
			t.Errorf("notice: %v", rs)
		}
		conf := findReply(rs, "sessionconf")
		if conf == nil {
			t.Fatalf("no announcements list: %v", rs)
		}
		ann, _ := conf["config"].(map[string]any)["announcements"].([]any)
		if len(ann) != 2 || ann[0].(map[string]any)["url"] != listURL {
			t.Errorf("announcements %v", conf)
		}

		host.send("unlist-session", []any{listURL}, nil)
		if l := s.Listings(); len(l) != 1 || l[0].URL != "http://other.example/" {
			t.Fatalf("after unlist-session: %v", l)
		}
		if !s.Unlist(s.Listings()[0].ID) || s.Unlist(99) {
			t.Error("Unlist by id")
		}
		if err := s.Announce(listURL); err != nil {
			t.Fatal(err)
		}
		// Making the session unlisted delists it.
		host.send("sessionconf", nil, map[string]any{"unlisted": true})
		if l := s.Listings(); len(l) != 0 {
			t.Fatalf("unlisted session still listed: %v", l)
		}
		if err := s.Announce(listURL); err != ErrListingUnlisted {
			t.Errorf("announce unlisted: %v", err)
		}
		host.send("sessionconf", nil, map[string]any{"unlisted": false}) // a moderator-only change: stays unlisted
		calls := len(fl.callList())
		s.Terminate("", true)
		if c := fl.callList(); len(c) != calls+1 || c[calls] != "unlist " {
			t.Errorf("session end: calls %v", c[calls:])
		}
	})
}

// TestListingRestoredFromJournal: announced URLs are journaled, a
// restarted server announces the restored session again (whether the
// Lister is set before or after the restore), an unlisted URL is not, and
// shutting down delists without touching the journal.
func TestListingRestoredFromJournal(t *testing.T) {
	dir := t.TempDir()
	srv, _ := newFileServer(t, dir, nil, FileConfig{})
	fl := newFakeLister()
	srv.SetLister(fl)
	host := connect(t, srv, ConnInfo{Transport: "tcp"})
	host.host("Alice", map[string]any{"alias": "room"})
	host.send("announce-session", []any{listURL}, nil)
	host.send("announce-session", []any{"https://other.example/"}, nil)
	host.send("unlist-session", []any{"https://other.example/"}, nil)
	host.send("sessionconf", nil, map[string]any{"persistent": true})
	shutdown(t, srv)
	if c := fl.callList(); c[len(c)-1] != "unlist " {
		t.Errorf("shutdown did not delist: %v", c)
	}

	for _, early := range []bool{true, false} {
		fl2 := newFakeLister()
		srv2 := newTestServer(t, nil)
		if early {
			srv2.SetLister(fl2)
		}
		if _, err := srv2.EnableFiles(FileConfig{Dir: dir, Options: sessionfile.Options{Fsync: sessionfile.FsyncNever}}); err != nil {
			t.Fatal(err)
		}
		if !early {
			srv2.SetLister(fl2)
		}
		if c := fl2.callList(); !slices.Equal(c, []string{"announce " + listURL}) {
			t.Errorf("lister set early=%v: restored session announced %v", early, c)
		}
		shutdown(t, srv2)
	}
}

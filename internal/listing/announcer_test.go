package listing_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"drawbridge/internal/listing"
	"drawbridge/internal/listing/listingtest"
)

// target is a fake session: its description is settable, its messages
// and list changes are recorded.
type target struct {
	mu      sync.Mutex
	desc    listing.Description
	msgs    chan string
	changes chan struct{}
	logs    []string
}

func newTarget(id, title string) *target {
	return &target{desc: listing.Description{ID: id, Protocol: "dp:4.24.0", Title: title, Users: 1, MaxUsers: 10, Owner: "alice"},
		msgs: make(chan string, 16), changes: make(chan struct{}, 16)}
}

func (t *target) ListingDescription() listing.Description {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.desc
}
func (t *target) ListingMessage(s string) { t.msgs <- s }
func (t *target) ListingsChanged()        { t.changes <- struct{}{} }
func (t *target) ListingLog(msg string, warn bool) {
	t.mu.Lock()
	t.logs = append(t.logs, msg)
	t.mu.Unlock()
}
func (t *target) set(f func(d *listing.Description)) {
	t.mu.Lock()
	f(&t.desc)
	t.mu.Unlock()
}

// message waits for the target's next chat message.
func (t *target) message(tb testing.TB) string {
	tb.Helper()
	select {
	case m := <-t.msgs:
		return m
	case <-time.After(10 * time.Second):
		tb.Fatal("no listing message")
		return ""
	}
}

// clock is a settable fake clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func setup(t *testing.T, allowed func(string) bool) (*listing.Announcer, *listingtest.Server, *clock) {
	t.Helper()
	ls := listingtest.New(t)
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	a := listing.New(listing.Options{Client: listing.NewClient(nil, "test"), Allowed: allowed, Now: clk.Now})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return a, ls, clk
}

// announce lists tg at ls and waits for the success message.
func announce(t *testing.T, a *listing.Announcer, ls *listingtest.Server, tg *target) {
	t.Helper()
	if err := a.Announce(tg.desc.ID, tg, ls.URL); err != nil {
		t.Fatal(err)
	}
	if m := tg.message(t); m != "This session is now listed at 127.0.0.1" {
		t.Fatalf("message %q", m)
	}
}

// puts counts the batch refreshes ls received.
func puts(ls *listingtest.Server) int {
	n := 0
	for _, r := range ls.Requests() {
		if r.Method == http.MethodPut && r.Path == "/sessions/" {
			n++
		}
	}
	return n
}

func TestAnnounceAndWelcome(t *testing.T) {
	t.Parallel()
	a, ls, _ := setup(t, nil)
	ls.SetWelcome("Welcome to the test list")
	tg := newTarget("s1", "First")
	if err := a.Announce("s1", tg, ls.URL); err != nil {
		t.Fatal(err)
	}
	if m := tg.message(t); m != "This session is now listed at 127.0.0.1: Welcome to the test list" {
		t.Errorf("message %q", m)
	}
	<-tg.changes
	l := a.Listings("s1")
	act := ls.Active()
	if len(l) != 1 || len(act) != 1 || l[0].ID != act[0].ID || l[0].URL != ls.URL {
		t.Fatalf("listings %+v, list server %+v", l, act)
	}
	if act[0].Title != "First" || act[0].SessionID != "s1" || act[0].Owner != "alice" || act[0].MaxUsers != 10 {
		t.Errorf("listed as %+v", act[0])
	}
	if ua := ls.Requests()[0].UserAgent; ua != "DrawpileListingClient/test" {
		t.Errorf("user agent %q", ua)
	}
	// Announcing twice at the same server is a no-op.
	if err := a.Announce("s1", tg, ls.URL); err != nil || len(ls.Listings()) != 1 {
		t.Errorf("second announce: %v, %d listings", err, len(ls.Listings()))
	}
}

func TestBatchRefreshInterval(t *testing.T) {
	t.Parallel()
	a, ls, clk := setup(t, nil)
	ls.SetExpires(10) // refresh every 9 minutes
	t1, t2 := newTarget("s1", "One"), newTarget("s2", "Two")
	announce(t, a, ls, t1)
	clk.add(4 * time.Minute)
	announce(t, a, ls, t2)
	ctx := context.Background()

	clk.add(4*time.Minute + 59*time.Second) // s1 listed 8:59 ago
	a.RefreshDue(ctx)
	if n := puts(ls); n != 0 {
		t.Fatalf("%d refreshes before the interval", n)
	}
	clk.add(time.Second) // 9:00: s1 is due; s2 rides along in the same batch
	t2.set(func(d *listing.Description) { d.Users = 3 })
	a.RefreshDue(ctx)
	if n := puts(ls); n != 1 {
		t.Fatalf("%d batch refreshes, want 1", n)
	}
	for _, l := range ls.Active() {
		if l.Refreshes != 1 {
			t.Errorf("listing %d refreshed %d times", l.ID, l.Refreshes)
		}
		if l.SessionID == "s2" && l.Users != 3 {
			t.Errorf("s2 users = %d", l.Users)
		}
	}
	clk.add(8 * time.Minute)
	a.RefreshDue(ctx)
	if n := puts(ls); n != 1 {
		t.Fatalf("refreshed again after 8 minutes (%d batches)", n)
	}
}

func TestUrgentRefresh(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(d *listing.Description)
		urgent bool
	}{
		{"title", func(d *listing.Description) { d.Title = "New" }, true},
		{"nsfm", func(d *listing.Description) { d.Nsfm = true }, true},
		{"password", func(d *listing.Description) { d.Password = true }, true},
		{"full", func(d *listing.Description) { d.Users = 10 }, true},
		{"allowweb", func(d *listing.Description) { d.AllowWeb = true }, true},
		{"one more user", func(d *listing.Description) { d.Users = 2 }, false},
		{"owner", func(d *listing.Description) { d.Owner = "bob" }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, ls, clk := setup(t, nil)
			tg := newTarget("s", "Old")
			announce(t, a, ls, tg)
			clk.add(time.Minute)
			tg.set(tc.change)
			a.RefreshDue(context.Background())
			if got := puts(ls) == 1; got != tc.urgent {
				t.Fatalf("refreshed = %v, want %v", got, tc.urgent)
			}
			if tc.urgent {
				// The change was sent: no second refresh for it.
				a.RefreshDue(context.Background())
				if n := puts(ls); n != 1 {
					t.Errorf("%d refreshes for one change", n)
				}
			}
		})
	}
}

func TestDelistedByListServer(t *testing.T) {
	t.Parallel()
	a, ls, clk := setup(t, nil)
	t1, t2 := newTarget("s1", "One"), newTarget("s2", "Two")
	announce(t, a, ls, t1)
	announce(t, a, ls, t2)
	<-t1.changes
	<-t2.changes
	ls.Kick(a.Listings("s1")[0].ID, "Breaks the rules")
	clk.add(10 * time.Minute)
	a.RefreshDue(context.Background())
	if m := t1.message(t); m != "The session has been delisted from 127.0.0.1: Breaks the rules" {
		t.Errorf("message %q", m)
	}
	<-t1.changes
	if len(a.Listings("s1")) != 0 || len(a.Listings("s2")) != 1 {
		t.Errorf("listings after kick: %v, %v", a.Listings("s1"), a.Listings("s2"))
	}
}

func TestBatchFailureDropsServer(t *testing.T) {
	t.Parallel()
	a, ls, clk := setup(t, nil)
	t1, t2 := newTarget("s1", "One"), newTarget("s2", "Two")
	announce(t, a, ls, t1)
	announce(t, a, ls, t2)
	ls.FailBatches(http.StatusInternalServerError)
	clk.add(10 * time.Minute)
	a.RefreshDue(context.Background())
	for _, tg := range []*target{t1, t2} {
		if m := tg.message(t); !strings.HasPrefix(m, "The session has been delisted from 127.0.0.1: Network error") {
			t.Errorf("message %q", m)
		}
		if l := a.Listings(tg.desc.ID); len(l) != 0 {
			t.Errorf("%s still listed: %v", tg.desc.ID, l)
		}
	}
}

func TestAnnounceFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(ls *listingtest.Server)
		want  string
	}{
		{"message relayed", func(ls *listingtest.Server) { ls.RejectAnnouncements("Too many sessions from your host") },
			"Listing on 127.0.0.1 failed: Too many sessions from your host"},
		{"gone", func(ls *listingtest.Server) { ls.SetGone(true) }, "Listing on 127.0.0.1 failed: ERROR 410 GONE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, ls, _ := setup(t, nil)
			tc.setup(ls)
			tg := newTarget("s", "T")
			if err := a.Announce("s", tg, ls.URL); err != nil {
				t.Fatal(err)
			}
			if m := tg.message(t); m != tc.want {
				t.Errorf("message %q, want %q", m, tc.want)
			}
			if l := a.Listings("s"); len(l) != 0 {
				t.Errorf("listings %v", l)
			}
		})
	}
}

func TestWhitelist(t *testing.T) {
	t.Parallel()
	a, ls, _ := setup(t, func(u string) bool { return u == "https://allowed.example/" })
	if err := a.Announce("s", newTarget("s", "T"), ls.URL); !errors.Is(err, listing.ErrNotAllowed) {
		t.Fatalf("err = %v", err)
	}
	if n := len(ls.Requests()); n != 0 {
		t.Errorf("%d requests to a list server not on the whitelist", n)
	}
}

func TestUnlist(t *testing.T) {
	t.Parallel()
	a, ls, _ := setup(t, nil)
	tg := newTarget("s", "T")
	announce(t, a, ls, tg)
	<-tg.changes
	id := a.Listings("s")[0].ID
	if _, ok := a.UnlistID("s", id+100); ok {
		t.Error("unknown listing id unlisted")
	}
	changed := ls.Changed()
	u, ok := a.UnlistID("s", id)
	if !ok || u != ls.URL {
		t.Fatalf("UnlistID = %q, %v", u, ok)
	}
	if l := a.Listings("s"); len(l) != 0 {
		t.Errorf("still listed: %v", l)
	}
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("no DELETE")
	}
	// Close waits for the request, then the listing is gone.
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	ll := ls.Listings()
	if len(ll) != 1 || !ll[0].Unlisted {
		t.Fatalf("list server: %+v", ll)
	}
	r := ls.Requests()
	last := r[len(r)-1]
	if last.Method != http.MethodDelete || last.UpdateKey != ll[0].UpdateKey {
		t.Errorf("last request %+v", last)
	}
	if err := a.Announce("s", tg, ls.URL); !errors.Is(err, listing.ErrClosed) {
		t.Errorf("announce after Close: %v", err)
	}
}

func TestRunStopsWithContext(t *testing.T) {
	t.Parallel()
	a, ls, clk := setup(t, nil)
	tg := newTarget("s", "T")
	announce(t, a, ls, tg)
	tick := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		a.Run(ctx, tick)
		close(done)
	}()
	clk.add(time.Hour)
	tick <- time.Time{}
	tick <- time.Time{} // the first tick's refresh has finished when this one is taken
	if puts(ls) < 1 {
		t.Error("tick did not refresh")
	}
	cancel()
	<-done
}

package listing

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Target is a session as the Announcer sees it. Its methods are called
// from the Announcer's goroutines, never with the Announcer's lock held,
// so they may take the session's own locks.
type Target interface {
	// ListingDescription returns the session's current description.
	ListingDescription() Description
	// ListingMessage tells the session's users something about its
	// listings (a chat notice, as drawpile-srv's sendListserverMessage).
	ListingMessage(text string)
	// ListingsChanged: the set of finished listings changed (the session
	// sends its users the new "announcements" list).
	ListingsChanged()
	// ListingLog records a session log entry with topic PubList.
	ListingLog(msg string, warn bool)
}

// Listing is one finished listing as reported to the admin API and to
// session members.
type Listing struct {
	ID  int64  `json:"id"`
	URL string `json:"url"`
}

// Errors of Announce.
var (
	// ErrNotAllowed: the announce whitelist does not allow the URL.
	ErrNotAllowed = errors.New("listing: list server not allowed")
	// ErrClosed: the Announcer has been closed.
	ErrClosed = errors.New("listing: announcer closed")
)

// CheckInterval is how often listings are checked for a due refresh (as
// drawpile-srv's 30 s timer).
const CheckInterval = 30 * time.Second

// DefaultRequestTimeout bounds each list server request.
const DefaultRequestTimeout = 30 * time.Second

// Options configure an Announcer.
type Options struct {
	// Client talks to list servers (required).
	Client *Client
	// Allowed reports whether announcing at a list server URL is allowed
	// (the announceWhitelist; store.Store.AllowedAnnouncementURL). nil =
	// everything. It is called synchronously by Announce.
	Allowed func(apiURL string) bool
	// Now is the clock for refresh intervals; nil = time.Now.
	Now func() time.Time
	// RequestTimeout bounds each request; 0 = DefaultRequestTimeout.
	RequestTimeout time.Duration
	// Logger; nil = slog.Default().
	Logger *slog.Logger
}

// Announcer owns every session's listings: it announces, refreshes
// (RefreshDue, driven by Run every CheckInterval) and delists them.
//
// Goroutines: Announce and Unlist start one short-lived goroutine per
// request (bounded by RequestTimeout and by Close), counted in wg; Run is
// the caller's goroutine and performs the batch refreshes itself. Target
// methods are always called without mu held; callers may hold their own
// locks while calling Announce, Unlist, UnlistID and Listings (lock order:
// the caller's locks before mu).
type Announcer struct {
	// Immutable after New.
	client  *Client
	allowed func(string) bool
	now     func() time.Time
	timeout time.Duration
	log     *slog.Logger
	ctx     context.Context // cancelled by Close when its deadline passes
	cancel  context.CancelFunc

	wg sync.WaitGroup // request goroutines

	mu       sync.Mutex // guards everything below
	listings []*entry   // in announcement order
	closed   bool
}

// entry is one listing, pending (announce request in flight) or finished.
type entry struct {
	key      string // the session's key (its id)
	target   Target
	url      string
	finished bool         // the list server accepted it
	ann      Announcement // valid when finished
	sent     Description  // what the list server was last told
	last     time.Time    // when it was last announced or refreshed
}

// New returns an Announcer. Call Run to refresh listings and Close to end.
func New(opts Options) *Announcer {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Announcer{client: opts.Client, allowed: opts.Allowed, now: opts.Now, timeout: opts.RequestTimeout,
		log: opts.Logger, ctx: ctx, cancel: cancel}
}

// hostOf is the host name of a list server URL, as drawpile-srv's
// messages name it.
func hostOf(apiURL string) string {
	if u, err := url.Parse(apiURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return apiURL
}

// Announce starts announcing the session key (t) at apiURL. It returns
// ErrNotAllowed when the whitelist refuses the URL and ErrClosed after
// Close; announcing twice at the same server is a no-op. The result is
// reported to t: "This session is now listed at <host>[: <welcome>]" or
// "Listing on <host> failed: <reason>".
func (a *Announcer) Announce(key string, t Target, apiURL string) error {
	if a.allowed != nil && !a.allowed(apiURL) {
		a.log.Warn("announcement API URL not allowed", "url", apiURL, "session", key)
		return ErrNotAllowed
	}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return ErrClosed
	}
	if a.findLocked(key, apiURL) != nil {
		a.mu.Unlock()
		return nil
	}
	e := &entry{key: key, target: t, url: apiURL}
	a.listings = append(a.listings, e)
	a.wg.Add(1)
	a.mu.Unlock()
	go func() {
		defer a.wg.Done()
		a.announce(e)
	}()
	return nil
}

// announce runs on a request goroutine.
func (a *Announcer) announce(e *entry) {
	t := e.target
	t.ListingLog("Announcing session at "+e.url, false)
	desc := t.ListingDescription()
	ctx, cancel := context.WithTimeout(a.ctx, a.timeout)
	defer cancel()
	ann, err := a.client.Announce(ctx, e.url, desc)

	a.mu.Lock()
	current := a.findLocked(e.key, e.url) == e
	if current && err != nil {
		a.removeLocked(e)
	}
	if current && err == nil {
		e.finished, e.ann, e.sent, e.last = true, ann, desc, a.now()
	}
	a.mu.Unlock()

	host := hostOf(e.url)
	switch {
	case !current && err == nil:
		// Unlisted (or the session ended) while the request was in flight:
		// take the new listing down again.
		if uerr := a.client.Unlist(ctx, ann); uerr != nil {
			a.log.Warn("delisting failed", "url", e.url, "session", e.key, "err", uerr)
		}
	case !current:
	case err != nil:
		a.log.Warn("announcement failed", "url", e.url, "session", e.key, "err", err)
		t.ListingLog(e.url+": announcement failed: "+err.Error(), true)
		t.ListingMessage("Listing on " + host + " failed: " + err.Error())
	default:
		a.log.Info("announced", "url", e.url, "session", e.key, "listing", ann.ListingID, "refresh", ann.Refresh)
		msg := "This session is now listed at " + host
		if ann.Message != "" {
			t.ListingLog(ann.Message, false)
			msg += ": " + ann.Message
		}
		t.ListingMessage(msg)
		t.ListingsChanged()
		t.ListingLog("Announced at: "+e.url, false)
	}
}

// Unlist removes the listings of key at apiURL ("" = at every list
// server) and returns the finished ones among them. Those are deleted at
// the list server in the background; an announcement still in flight is
// deleted when it completes. Unlist does not call the Target (the caller
// may hold its locks): the caller updates its users itself.
func (a *Announcer) Unlist(key, apiURL string) []Listing {
	a.mu.Lock()
	defer a.mu.Unlock()
	var gone []*entry
	for _, e := range a.listings {
		if e.key == key && (apiURL == "" || e.url == apiURL) {
			gone = append(gone, e)
		}
	}
	return a.unlistLocked(gone)
}

// UnlistID removes the finished listing of key with the given listing id,
// like Unlist, and returns its list server URL; ok is false if there is
// none.
func (a *Announcer) UnlistID(key string, listingID int64) (apiURL string, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.listings {
		if e.key == key && e.finished && e.ann.ListingID == listingID {
			a.unlistLocked([]*entry{e})
			return e.url, true
		}
	}
	return "", false
}

// unlistLocked removes entries and starts the DELETE of finished ones; it
// returns the finished ones.
func (a *Announcer) unlistLocked(gone []*entry) []Listing {
	var out []Listing
	for _, e := range gone {
		a.removeLocked(e)
		if !e.finished {
			continue
		}
		out = append(out, Listing{ID: e.ann.ListingID, URL: e.url})
		if a.closed {
			continue
		}
		ann := e.ann
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			ctx, cancel := context.WithTimeout(a.ctx, a.timeout)
			defer cancel()
			if err := a.client.Unlist(ctx, ann); err != nil {
				a.log.Warn("delisting failed", "url", ann.APIURL, "listing", ann.ListingID, "err", err)
			} else {
				a.log.Info("delisted", "url", ann.APIURL, "listing", ann.ListingID)
			}
		}()
	}
	return out
}

// Listings returns the finished listings of key.
func (a *Announcer) Listings(key string) []Listing {
	a.mu.Lock()
	defer a.mu.Unlock()
	l := []Listing{}
	for _, e := range a.listings {
		if e.key == key && e.finished {
			l = append(l, Listing{ID: e.ann.ListingID, URL: e.url})
		}
	}
	return l
}

func (a *Announcer) findLocked(key, apiURL string) *entry {
	for _, e := range a.listings {
		if e.key == key && e.url == apiURL {
			return e
		}
	}
	return nil
}

func (a *Announcer) removeLocked(x *entry) {
	for i, e := range a.listings {
		if e == x {
			a.listings = append(a.listings[:i], a.listings[i+1:]...)
			return
		}
	}
}

// urgentChange reports whether the session changed in a way that matters
// to someone choosing a session: title, NSFM, password, full/not full,
// closed or browser access (drawpile-srv's hasUrgentAnnouncementChange).
func urgentChange(sent, now Description) bool {
	return sent.Title != now.Title || sent.Nsfm != now.Nsfm || sent.Password != now.Password ||
		(sent.Users >= sent.MaxUsers) != (now.Users >= now.MaxUsers) ||
		sent.Closed != now.Closed || sent.AllowWeb != now.AllowWeb
}

// RefreshDue refreshes every listing whose refresh interval has elapsed
// or whose session changed urgently, together with every other listing at
// the same list server (one batch request per list server, so intervals
// line up). A listing the list server does not accept is dropped and its
// session told "The session has been delisted from <host>: <reason>"; a
// failed batch drops every listing at that server. It returns when every
// batch is done (each bounded by the request timeout and ctx).
func (a *Announcer) RefreshDue(ctx context.Context) {
	a.mu.Lock()
	snapshot := make([]*entry, 0, len(a.listings))
	for _, e := range a.listings {
		if e.finished {
			snapshot = append(snapshot, e)
		}
	}
	a.mu.Unlock()
	if len(snapshot) == 0 {
		return
	}
	now := a.now()
	descs := make(map[*entry]Description, len(snapshot))
	due := map[string]bool{}
	var servers []string
	for _, e := range snapshot {
		d := e.target.ListingDescription() // not under mu: takes the session's lock
		descs[e] = d
		a.mu.Lock()
		if now.Sub(e.last) >= e.ann.Refresh || urgentChange(e.sent, d) {
			if !due[e.url] {
				servers = append(servers, e.url)
			}
			due[e.url] = true
		}
		a.mu.Unlock()
	}
	for _, server := range servers {
		a.refreshServer(ctx, server, snapshot, descs, now)
	}
}

// refreshServer sends one batch to server with every listing there.
func (a *Announcer) refreshServer(ctx context.Context, server string, snapshot []*entry, descs map[*entry]Description, now time.Time) {
	var batch []*entry
	var updates []Update
	a.mu.Lock()
	for _, e := range snapshot {
		if e.url != server || a.findLocked(e.key, e.url) != e {
			continue // another server, or unlisted meanwhile
		}
		batch = append(batch, e)
		updates = append(updates, Update{ListingID: e.ann.ListingID, UpdateKey: e.ann.UpdateKey, Desc: descs[e]})
		e.last = now
	}
	a.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	a.log.Info("refreshing announcements", "count", len(batch), "url", server)
	rctx, cancel := context.WithTimeout(ctx, a.timeout)
	res, err := a.client.Refresh(rctx, server, updates)
	cancel()
	if err != nil {
		a.log.Warn("bulk refresh error", "url", server, "err", err)
	} else if res.Message != "" {
		a.log.Info("list server message", "url", server, "message", res.Message)
	}

	type drop struct {
		e      *entry
		reason string
	}
	var dropped []drop
	a.mu.Lock()
	for _, e := range batch {
		if a.findLocked(e.key, e.url) != e {
			continue
		}
		if err == nil && res.OK(e.ann.ListingID) {
			e.sent = descs[e]
			continue
		}
		reason := "no reason given"
		if err != nil {
			reason = err.Error()
		} else if r := res.Reason(e.ann.ListingID); r != "" {
			reason = r
		}
		a.removeLocked(e)
		dropped = append(dropped, drop{e, reason})
	}
	a.mu.Unlock()
	for _, d := range dropped {
		status := "error"
		if err == nil {
			status = res.Responses[strconv.FormatInt(d.e.ann.ListingID, 10)]
		}
		d.e.target.ListingLog(server+": "+status+" ("+d.reason+")", true)
		d.e.target.ListingMessage("The session has been delisted from " + hostOf(server) + ": " + d.reason)
		d.e.target.ListingsChanged()
	}
}

// Run calls RefreshDue every CheckInterval until ctx is done. tick, if
// non-nil, replaces the ticker (tests).
func (a *Announcer) Run(ctx context.Context, tick <-chan time.Time) {
	if tick == nil {
		t := time.NewTicker(CheckInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			a.RefreshDue(ctx)
		}
	}
}

// Close refuses further announcements and waits until the requests in
// flight (such as the delistings of sessions ended at shutdown) are done
// or ctx is done, then cancels the rest. Listings still registered are
// forgotten without a delisting (unlist sessions first).
func (a *Announcer) Close(ctx context.Context) error {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	done := make(chan struct{})
	go func() {
		a.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	a.cancel()
	<-done
	return err
}

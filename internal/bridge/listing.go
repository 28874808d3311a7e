package bridge

// Announcing sessions at list servers (server.md §6.1): the bridge owns
// the listing.Announcer and adapts it to the session server, which must
// not link net/http (internal/session.Lister ⇄ listing.Target).
//
// Goroutines: the refresh loop (Announcer.Run) runs under the background
// context (ended by bgStop, counted in wg); the Announcer's own request
// goroutines are waited for by closeListing after the sessions ended, so
// their delistings go out before the process exits.

import (
	"context"
	"errors"
	"net/netip"

	"drawbridge/internal/listing"
	"drawbridge/internal/session"
)

// defaultListingVersion is the User-Agent version of the listing client
// (as the external ban list client's).
const defaultListingVersion = "drawbridge"

// startListing creates the Announcer and plugs it into the session
// server; sessions restored from files are announced again. It must run
// after the listeners are up (announcements report the TCP port).
func (b *Bridge) startListing() {
	ver := b.cfg.ListingVersion
	if ver == "" {
		ver = defaultListingVersion
	}
	b.listing = listing.New(listing.Options{
		Client:  listing.NewClient(nil, ver),
		Allowed: b.store.AllowedAnnouncementURL,
		Logger:  b.logger.With("component", "listing"),
	})
	b.srv.SetLister(sessionLister{b})
}

// runListing refreshes listings every listing.CheckInterval until ctx is
// done.
func (b *Bridge) runListing(ctx context.Context) {
	if b.listing != nil {
		b.listing.Run(ctx, nil)
	}
}

// closeListing waits (until ctx is done) for the delistings of the
// sessions that ended at shutdown.
func (b *Bridge) closeListing(ctx context.Context) {
	if b.listing == nil {
		return
	}
	if err := b.listing.Close(ctx); err != nil {
		b.logger.Warn("listing: delistings still in flight at shutdown", "err", err)
	}
}

// announcePort is the port list servers are told: --announce-port, or
// the real TCP port.
func (b *Bridge) announcePort() int {
	if b.cfg.AnnouncePort > 0 {
		return b.cfg.AnnouncePort
	}
	if ap, err := netip.ParseAddrPort(b.TCPAddr()); err == nil {
		return int(ap.Port())
	}
	return 0
}

// sessionLister implements session.Lister with the bridge's Announcer.
type sessionLister struct{ b *Bridge }

func (l sessionLister) Announce(s *session.Session, apiURL string) error {
	err := l.b.listing.Announce(s.ID(), listingTarget{s, l.b}, apiURL)
	if errors.Is(err, listing.ErrNotAllowed) {
		return session.ErrListingNotAllowed
	}
	return err
}

func (l sessionLister) Unlist(s *session.Session, apiURL string) []session.Listing {
	return convertListings(l.b.listing.Unlist(s.ID(), apiURL))
}

func (l sessionLister) UnlistID(s *session.Session, id int64) (string, bool) {
	return l.b.listing.UnlistID(s.ID(), id)
}

func (l sessionLister) Listings(s *session.Session) []session.Listing {
	return convertListings(l.b.listing.Listings(s.ID()))
}

func convertListings(in []listing.Listing) []session.Listing {
	out := make([]session.Listing, 0, len(in))
	for _, x := range in {
		out = append(out, session.Listing{ID: x.ID, URL: x.URL})
	}
	return out
}

// listingTarget implements listing.Target for one session.
type listingTarget struct {
	s *session.Session
	b *Bridge
}

func (t listingTarget) ListingDescription() listing.Description {
	i := t.s.ListingInfo()
	return listing.Description{Host: t.b.cfg.LocalHost, Port: t.b.announcePort(), ID: i.ID, Protocol: i.Protocol,
		Title: i.Title, Users: i.Users, ActiveDrawingUsers: i.ActiveDrawingUsers, Password: i.Password, Owner: i.Owner,
		Nsfm: i.Nsfm, MaxUsers: i.MaxUsers, AllowWeb: i.AllowWeb, PreferWebSockets: i.PreferWebSockets}
}

func (t listingTarget) ListingMessage(text string)       { t.s.ListingMessage(text) }
func (t listingTarget) ListingsChanged()                 { t.s.ListingsChanged() }
func (t listingTarget) ListingLog(msg string, warn bool) { t.s.ListingLog(msg, warn) }

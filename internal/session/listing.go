package session

// Session listing: announcing sessions at list servers (server.md §6.1).
// The HTTP side lives in internal/listing (this package must not link
// net/http); internal/bridge plugs it in as a Lister with SetLister.
//
// A session's list server URLs are journaled (ANNOUNCE / UNANNOUNCE
// records) when an operator or the admin announces or unlists it, so a
// restarted server announces its sessions again. Ending a session, and
// making it unlisted, delists it without touching the journal, as
// drawpile-srv does.

import (
	"errors"
	"net/url"
	"sync/atomic"

	"drawbridge/protocol"
)

// Lister announces sessions at list servers. Its methods are called with
// Session.mu held: they must not block and must not call back into the
// session synchronously (lock order: Session.mu before the Lister's own
// locks). Results arrive later through the session's Listing* methods.
type Lister interface {
	// Announce starts announcing s at apiURL (a no-op if s is listed or
	// being listed there). It returns ErrListingNotAllowed when the
	// announce whitelist refuses apiURL.
	Announce(s *Session, apiURL string) error
	// Unlist removes the listings of s at apiURL ("" = all) and returns
	// the finished ones; they are deleted at the list server in the
	// background.
	Unlist(s *Session, apiURL string) []Listing
	// UnlistID removes the finished listing of s with this listing id.
	UnlistID(s *Session, listingID int64) (apiURL string, ok bool)
	// Listings returns the finished listings of s.
	Listings(s *Session) []Listing
}

// Listing is one finished listing of a session (admin API "listings").
type Listing struct {
	ID  int64  `json:"id"`
	URL string `json:"url"`
}

// ListingInfo is what a list server is told about a session; the bridge
// adds the host (--local-host) and port (--announce-port).
type ListingInfo struct {
	ID                 string // alias, or id
	Protocol           string
	Title              string
	Owner              string // founder
	Users              int
	ActiveDrawingUsers int
	MaxUsers           int
	Password           bool
	Nsfm               bool
	AllowWeb           bool
	PreferWebSockets   bool
}

// Listing errors.
var (
	ErrListingUnsupported = errors.New("session: announcing to list servers is not supported by this server")
	ErrListingURL         = errors.New("session: invalid list server URL")
	ErrListingUnlisted    = errors.New("session: an unlisted session cannot be listed")
	ErrListingNotAllowed  = errors.New("session: listing at this list server is not allowed")
)

// topicPubList is the log topic of listing events (drawpile-srv's).
const topicPubList = "PubList"

// listingHub holds the server's Lister (nil = listing unsupported).
type listingHub struct {
	lister atomic.Pointer[listerBox]
}

type listerBox struct{ l Lister }

func (srv *Server) lister() Lister {
	if b := srv.listing.lister.Load(); b != nil {
		return b.l
	}
	return nil
}

// SetLister plugs in the list server client and announces every live
// session at the list servers in its journal (sessions restored from
// files before the Lister was set).
func (srv *Server) SetLister(l Lister) {
	srv.listing.lister.Store(&listerBox{l})
	for _, s := range srv.Sessions() {
		s.announceJournaled(nil)
	}
}

// validListURL: an absolute http(s) URL with a host.
func validListURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// listHost is the host name drawpile-srv's listing messages use.
func listHost(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return raw
}

// announceJournaled announces s at the list servers its journal names
// (or, for a session without files, at urls): called when a session is
// restored or instantiated from a template, and by SetLister.
func (s *Session) announceJournaled(urls []string) {
	if s.srv.lister() == nil {
		return
	}
	s.lock()
	defer s.mu.Unlock()
	if s.state == StateShutdown || s.unlisted {
		return
	}
	if s.file != nil {
		urls = s.file.State().Announce
	}
	for _, u := range urls {
		if validListURL(u) {
			s.announceLocked(u, nil, false)
		}
	}
}

// announceLocked announces s at apiURL on behalf of by (nil = the admin
// or the server). journal records the URL for a restart.
func (s *Session) announceLocked(apiURL string, by *Client, journal bool) error {
	l := s.srv.lister()
	switch {
	case l == nil:
		return ErrListingUnsupported
	case !validListURL(apiURL):
		return ErrListingURL
	case s.unlisted:
		return ErrListingUnlisted
	}
	err := l.Announce(s, apiURL)
	if errors.Is(err, ErrListingNotAllowed) {
		// As drawpile-srv: the users are told, the request itself succeeds.
		s.logger.Warn("announcement API URL not allowed", "url", apiURL)
		s.logLocked(topicPubList, "Announcement API URL not allowed: "+apiURL, by)
		s.listingMessageLocked("Listing on " + listHost(apiURL) + " is not allowed on this server")
		return nil
	}
	if err != nil {
		return err
	}
	if journal && s.file != nil {
		if err := s.file.AddAnnouncement(apiURL); err != nil {
			s.logger.Error("session journal: announcement not recorded", "url", apiURL, "err", err)
		}
	}
	return nil
}

// unlistLocked removes the listings of s at apiURL ("" = all), on behalf
// of by; journal removes the URL from the journal too.
func (s *Session) unlistLocked(apiURL string, by *Client, journal bool) {
	l := s.srv.lister()
	if l == nil {
		return
	}
	gone := l.Unlist(s, apiURL)
	for _, g := range gone {
		s.logLocked(topicPubList, "Unlisting from "+g.URL, by)
	}
	if journal && apiURL != "" && s.file != nil {
		if err := s.file.RemoveAnnouncement(apiURL); err != nil {
			s.logger.Error("session journal: unlisting not recorded", "url", apiURL, "err", err)
		}
	}
	if len(gone) > 0 && s.state != StateShutdown {
		s.sendPartialLocked("announcements", s.announcementListLocked(), false)
	}
}

// listingCommandLocked runs the op commands announce-session [url]
// {private?} and unlist-session [url] (server.md §4.1), with
// drawpile-srv's error texts.
func (s *Session) listingCommandLocked(c *Client, cmd protocol.Command) {
	name := cmd.Cmd
	u, ok := cmd.StringArg(0)
	if cmd.NArgs() != 1 || !ok {
		c.cmdError(name, "Expected one argument: API URL")
		return
	}
	if name == "unlist-session" {
		if s.srv.lister() == nil {
			c.cmdError(name, "Session listing is not supported by this server")
			return
		}
		s.unlistLocked(u, c, true)
		return
	}
	if !validListURL(u) {
		c.cmdError(name, "Invalid API URL")
		return
	}
	if private, _ := cmd.KwBool("private"); private {
		c.cmdError(name, "Private listings are not available on this server")
		return
	}
	switch err := s.announceLocked(u, c, true); {
	case errors.Is(err, ErrListingUnlisted):
		c.cmdError(name, "This session is hidden from listings, it can't be listed")
	case errors.Is(err, ErrListingUnsupported):
		c.cmdError(name, "Session listing is not supported by this server")
	case err != nil:
		c.cmdError(name, err.Error())
	}
}

// announcementListLocked is the "announcements" sessionconf list sent to
// members: [{url}] of the finished listings.
func (s *Session) announcementListLocked() []any {
	l := []any{}
	if ls := s.srv.lister(); ls != nil {
		for _, x := range ls.Listings(s) {
			l = append(l, map[string]any{"url": x.URL})
		}
	}
	return l
}

// listingMessageLocked sends a listing result to every member as a chat
// notice (drawpile-srv's messageAll, not an alert).
func (s *Session) listingMessageLocked(text string) {
	if f, err := noticeFrame(text, false); err == nil {
		s.sendAllLocked(f)
	}
}

// endListings delists an ended session (its journal keeps the URLs, so a
// server restart announces a hibernated session again).
func (s *Session) endListings() {
	s.lock()
	defer s.mu.Unlock()
	s.unlistLocked("", nil, false)
}

// Announce announces the session at a list server for the admin API
// (POST /api/sessions/:id/listing). The result is asynchronous: the
// session's users are told in chat. A URL the whitelist refuses is
// reported to the users, not as an error (as drawpile-srv).
func (s *Session) Announce(apiURL string) error {
	s.lock()
	defer s.mu.Unlock()
	if s.state == StateShutdown {
		return ErrSessionEnded
	}
	return s.announceLocked(apiURL, nil, true)
}

// Unlist removes the listing with this id (DELETE
// /api/sessions/:id/listing/:listingId); false if there is none.
func (s *Session) Unlist(listingID int64) bool {
	l := s.srv.lister()
	if l == nil {
		return false
	}
	s.lock()
	defer s.mu.Unlock()
	u, ok := l.UnlistID(s, listingID)
	if !ok {
		return false
	}
	s.logLocked(topicPubList, "Unlisting from "+u, nil)
	if s.file != nil {
		if err := s.file.RemoveAnnouncement(u); err != nil {
			s.logger.Error("session journal: unlisting not recorded", "url", u, "err", err)
		}
	}
	if s.state != StateShutdown {
		s.sendPartialLocked("announcements", s.announcementListLocked(), false)
	}
	return true
}

// Listings returns the session's finished listings.
func (s *Session) Listings() []Listing {
	if l := s.srv.lister(); l != nil {
		return l.Listings(s)
	}
	return []Listing{}
}

// ListingInfo returns what a list server is told about the session.
func (s *Session) ListingInfo() ListingInfo {
	s.lock()
	defer s.mu.Unlock()
	d := s.descLocked()
	return ListingInfo{ID: s.idOrAlias(), Protocol: d.Protocol, Title: d.Title, Owner: d.Founder, Users: d.UserCount,
		ActiveDrawingUsers: d.ActiveDrawingUserCount, MaxUsers: d.MaxUserCount, Password: d.HasPassword,
		Nsfm: d.Nsfm, AllowWeb: d.AllowWeb, PreferWebSockets: d.PreferWebSockets}
}

// ListingMessage tells every member about a listing result.
func (s *Session) ListingMessage(text string) {
	s.lock()
	defer s.mu.Unlock()
	if s.state != StateShutdown {
		s.listingMessageLocked(text)
	}
}

// ListingsChanged sends the members the current "announcements" list.
func (s *Session) ListingsChanged() {
	s.lock()
	defer s.mu.Unlock()
	if s.state != StateShutdown {
		s.sendPartialLocked("announcements", s.announcementListLocked(), false)
	}
}

// ListingLog records a listing event in the session log (topic PubList).
func (s *Session) ListingLog(msg string, warn bool) {
	if warn {
		s.logger.Warn(msg, "topic", topicPubList)
	}
	s.lock()
	defer s.mu.Unlock()
	if s.state != StateShutdown {
		s.logLocked(topicPubList, msg, nil)
	}
}

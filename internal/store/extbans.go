package store

import (
	"context"
	"fmt"
	"time"
)

// External ban list (server.md §4.4): fetched from extBansUrl with
// If-None-Match ETag caching; the last response, URL and ETag are kept in
// the extBansCache* settings so the list survives restarts (in config-file
// mode only in memory). The HTTP request itself is injected (FetchFunc) so
// this package needs no net/http; internal/auth/httpfetch provides one.

// FetchResult is the outcome of one HTTP GET of the ban list.
type FetchResult struct {
	Status int    // HTTP status code (200, 304, …)
	ETag   string // ETag response header
	Body   []byte // response body (status 200)
}

// FetchFunc performs a GET of url with "If-None-Match: etag" when etag is
// non-empty and the User-Agent "DrawpileExtBansClient/<version>". A non-nil
// error means a network failure.
type FetchFunc func(ctx context.Context, url, etag string) (FetchResult, error)

// ExtBanRefreshError is returned by RefreshExtBans when the fetch or the
// document failed; the current list is kept.
type ExtBanRefreshError struct {
	URL    string
	Status int // 0 for network or parse errors
	Err    error
}

func (e *ExtBanRefreshError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("store: external bans %s: unexpected status %d", e.URL, e.Status)
	}
	return fmt.Sprintf("store: external bans %s: %v", e.URL, e.Err)
}

func (e *ExtBanRefreshError) Unwrap() error { return e.Err }

// loadExtBansFromCache loads the cached response and the disabled ids at
// Open.
func (s *Store) loadExtBansFromCache() {
	disabled, err := s.be.disabledExtBans()
	if err != nil {
		s.log.Error("store: read disabled external bans", "path", s.path, "err", err)
	}
	body := s.Settings().ExtBansCacheResponse
	var bans []ExtBan
	if body != "" {
		bans, _, err = ParseExtBans([]byte(body))
		if err != nil {
			s.log.Warn("store: cached external ban list unreadable", "err", err)
		}
	}
	s.mu.Lock()
	s.extBans = bans
	s.disabledExt = disabled
	s.mu.Unlock()
}

func (s *Store) disabledExtLocked() map[int64]bool { return s.disabledExt }

// SetExternalBans replaces the external ban list (normally done by
// RefreshExtBans).
func (s *Store) SetExternalBans(bans []ExtBan) {
	s.mu.Lock()
	s.extBans = bans
	s.mu.Unlock()
}

// ExtBanStatus is an external ban as listed by the admin API
// (/api/extbans), with its enabled state.
type ExtBanStatus struct {
	ExtBan
	Enabled bool
}

// ExternalBans lists the current external bans.
func (s *Store) ExternalBans() []ExtBanStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ExtBanStatus, len(s.extBans))
	for i, b := range s.extBans {
		out[i] = ExtBanStatus{ExtBan: b, Enabled: !s.disabledExt[b.ID]}
	}
	return out
}

// SetExternalBanEnabled switches one external ban on or off (persisted in
// disabledextbans in database mode, in memory otherwise).
func (s *Store) SetExternalBanEnabled(id int64, enabled bool) error {
	if err := s.be.setExtBanEnabled(id, enabled); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := make(map[int64]bool, len(s.disabledExt)+1)
	for k, v := range s.disabledExt {
		d[k] = v
	}
	if enabled {
		delete(d, id)
	} else {
		d[id] = true
	}
	s.disabledExt = d
	return nil
}

// RefreshExtBans fetches the external ban list once: with the cached ETag
// when the URL is the one cached; 304 keeps the current list; 200 replaces
// it and updates the cache settings; anything else is logged (topic
// ExtBan) and returned as *ExtBanRefreshError with the list unchanged.
// Malformed entries are skipped with a Warn log each. With no extBansUrl it
// does nothing.
func (s *Store) RefreshExtBans(ctx context.Context, fetch FetchFunc) error {
	st := s.Settings()
	u := st.ExtBansURL
	if u == "" {
		return nil
	}
	etag := ""
	if u == st.ExtBansCacheURL {
		etag = st.ExtBansCacheKey
	}
	res, err := fetch(ctx, u, etag)
	if err != nil {
		s.Log(LogEntry{Level: LevelError, Topic: TopicExtBan, Message: "Network error: " + err.Error()})
		return &ExtBanRefreshError{URL: u, Err: err}
	}
	switch res.Status {
	case 304:
		if res.ETag != etag {
			s.Log(LogEntry{Level: LevelWarn, Topic: TopicExtBan,
				Message: fmt.Sprintf("Response ETag '%s' does not match given If-None-Match '%s'", res.ETag, etag)})
		}
		return nil
	case 200:
	default:
		s.Log(LogEntry{Level: LevelError, Topic: TopicExtBan, Message: fmt.Sprintf("Unexpected status code %d", res.Status)})
		return &ExtBanRefreshError{URL: u, Status: res.Status}
	}
	bans, warns, err := ParseExtBans(res.Body)
	if err != nil {
		s.Log(LogEntry{Level: LevelError, Topic: TopicExtBan, Message: "Error parsing response: " + err.Error()})
		return &ExtBanRefreshError{URL: u, Err: err}
	}
	for _, w := range warns {
		s.Log(LogEntry{Level: LevelWarn, Topic: TopicExtBan, Message: fmt.Sprintf("Skipped ban #%d (id %s): %s", w.Index, w.ID, w.Reason)})
	}
	s.SetExternalBans(bans)
	for _, kv := range [][2]string{{KeyExtBansCacheURL.Name, u}, {KeyExtBansCacheKey.Name, res.ETag}, {KeyExtBansCacheResponse.Name, string(res.Body)}} {
		if err := s.setInternal(kv[0], kv[1]); err != nil {
			s.log.Error("store: cache external bans", "path", s.path, "err", err)
		}
	}
	s.Log(LogEntry{Level: LevelInfo, Topic: TopicExtBan, Message: fmt.Sprintf("Loaded %d external bans", len(bans))})
	return nil
}

// setInternal stores an internal (APINever) setting; in config-file mode
// it goes to the in-memory overlay.
func (s *Store) setInternal(name, value string) error {
	var err error
	if s.file != nil {
		s.file.setOverlay(name, value)
	} else {
		err = s.be.setSetting(name, value)
	}
	s.mu.Lock()
	s.haveCache = false
	s.mu.Unlock()
	return err
}

// RunExtBans refreshes the external ban list now and then every
// extBansCheckInterval (at least ExtBansMinInterval; re-read each round, so
// changes apply live) until ctx ends. It runs on the caller's goroutine:
// start it with `go st.RunExtBans(ctx, fetch)`; it returns nil when ctx is
// done. Failures are logged and retried at the next interval.
func (s *Store) RunExtBans(ctx context.Context, fetch FetchFunc) error {
	for {
		if err := s.RefreshExtBans(ctx, fetch); err != nil && ctx.Err() != nil {
			return nil
		}
		iv := s.Settings().ExtBansCheckInterval
		if iv < ExtBansMinInterval {
			iv = ExtBansMinInterval
		}
		t := time.NewTimer(iv)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

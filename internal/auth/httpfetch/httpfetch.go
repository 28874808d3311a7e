// Package httpfetch makes the outbound HTTP requests of drawpile-srv's
// authentication and moderation features: fetching the external ban list
// (with ETag caching, for store.Store.RefreshExtBans), asking an ext-auth
// server whether a username needs authentication (server.md §5 step 2),
// and forwarding abuse reports (§4.10).
//
// It is separate from internal/auth so that internal/store, which imports
// internal/auth, never links net/http. Every request takes a context and
// bounds the response size; the *http.Client (timeouts, proxies) is the
// caller's.
package httpfetch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"drawbridge/internal/auth"
	"drawbridge/internal/store"
)

// Response size limits.
const (
	MaxExtBansBody = 64 << 20
	MaxExtAuthBody = 64 << 10
)

// ErrTooLarge is returned when a response exceeds its size limit.
var ErrTooLarge = errors.New("httpfetch: response too large")

func client(c *http.Client) *http.Client {
	if c == nil {
		return http.DefaultClient
	}
	return c
}

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, ErrTooLarge
	}
	return b, nil
}

// ExtBans returns a store.FetchFunc that GETs the ban list with the
// User-Agent "DrawpileExtBansClient/<version>" and If-None-Match.
func ExtBans(c *http.Client, version string) store.FetchFunc {
	ua := "DrawpileExtBansClient/" + version
	return func(ctx context.Context, url, etag string) (store.FetchResult, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return store.FetchResult{}, fmt.Errorf("httpfetch: external bans request: %w", err)
		}
		req.Header.Set("User-Agent", ua)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := client(c).Do(req)
		if err != nil {
			return store.FetchResult{}, fmt.Errorf("httpfetch: get external bans: %w", err)
		}
		defer resp.Body.Close()
		res := store.FetchResult{Status: resp.StatusCode, ETag: resp.Header.Get("ETag")}
		if resp.StatusCode == http.StatusOK {
			if res.Body, err = readLimited(resp.Body, MaxExtBansBody); err != nil {
				return store.FetchResult{}, fmt.Errorf("httpfetch: read external bans: %w", err)
			}
		}
		return res, nil
	}
}

// GuestCheck POSTs {"username", "group"?} to the ext-auth URL and returns
// the server's status. Network failures, non-2xx answers and unparseable
// bodies return an error wrapping auth.ErrExtAuthUnavailable: the login
// falls back to guest when extauthfallback is on, else answers noExtAuth.
func GuestCheck(ctx context.Context, c *http.Client, extAuthURL, username, group string) (auth.GuestCheckStatus, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, extAuthURL, bytes.NewReader(auth.GuestCheckRequest(username, group)))
	if err != nil {
		return "", fmt.Errorf("%w: %v", auth.ErrExtAuthUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client(c).Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: %v", auth.ErrExtAuthUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", fmt.Errorf("%w: status %d", auth.ErrExtAuthUnavailable, resp.StatusCode)
	}
	body, err := readLimited(resp.Body, MaxExtAuthBody)
	if err != nil {
		return "", fmt.Errorf("%w: %v", auth.ErrExtAuthUnavailable, err)
	}
	return auth.ParseGuestCheckResponse(body)
}

// Report is the abuse report JSON drawpile-srv POSTs to --report-url.
type Report struct {
	Session      string       `json:"session"`
	SessionTitle string       `json:"sessionTitle"`
	User         string       `json:"user"` // reporter's name
	Auth         bool         `json:"auth"` // reporter authenticated
	IP           string       `json:"ip"`
	Perp         int          `json:"perp,omitempty"` // reported user id (omitted when 0)
	Message      string       `json:"message"`
	Offset       int64        `json:"offset"` // history size in bytes
	Users        []ReportUser `json:"users"`
}

// ReportUser is one session member in a Report.
type ReportUser struct {
	Name string `json:"name"`
	Auth bool   `json:"auth"`
	Op   bool   `json:"op"`
	IP   string `json:"ip"`
	ID   int    `json:"id"`
}

// SendReport POSTs r to reportURL with "Authorization: Token <token>" when
// token is non-empty. A non-2xx answer is an error.
func SendReport(ctx context.Context, c *http.Client, reportURL, token string, r Report) error {
	if r.Users == nil {
		r.Users = []ReportUser{}
	}
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("httpfetch: marshal report: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, reportURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("httpfetch: report request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	resp, err := client(c).Do(req)
	if err != nil {
		return fmt.Errorf("httpfetch: send report: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxExtAuthBody))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("httpfetch: send report: status %d", resp.StatusCode)
	}
	return nil
}

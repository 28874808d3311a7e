package listing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Description is what a list server is told about a session (server.md
// §6.1). The zero values of Host and Port are left out of an announcement
// (the list server then uses the caller's address and port 27750).
type Description struct {
	Host               string // --local-host; "" = omitted
	Port               int    // --announce-port or the real port; 0 = omitted
	ID                 string // session alias, or id
	Protocol           string // e.g. "dp:4.24.0"
	Title              string
	Users              int
	ActiveDrawingUsers int
	Password           bool // the session has a password
	Owner              string
	Nsfm               bool
	MaxUsers           int
	Closed             bool
	AllowWeb           bool
	PreferWebSockets   bool
}

// Announcement is a successful listing at one list server.
type Announcement struct {
	APIURL    string // the list server's API root, as given to Announce
	SessionID string // Description.ID at announcement time
	ListingID int64  // the list server's id of the listing
	UpdateKey string // X-Update-Key for refreshes and the delisting
	// Refresh is how often the listing must be refreshed:
	// max(2, expires) − 1 minutes, expires defaulting to 6.
	Refresh time.Duration
	// Message is the list server's welcome message ("" if none).
	Message string
}

// Update is one member of a batch refresh.
type Update struct {
	ListingID int64
	UpdateKey string
	Desc      Description
}

// BatchResult is a list server's answer to a batch refresh: per listing
// id (decimal) "ok" or "error", and the error reasons.
type BatchResult struct {
	Responses map[string]string
	Errors    map[string]string
	Message   string
}

// OK reports whether the listing with this id was refreshed.
func (r BatchResult) OK(listingID int64) bool {
	return r.Responses[strconv.FormatInt(listingID, 10)] == "ok"
}

// Reason is the list server's reason for a failed refresh ("" if none).
func (r BatchResult) Reason(listingID int64) string {
	return r.Errors[strconv.FormatInt(listingID, 10)]
}

// ErrGone is returned when a list server answers 410 Gone: it has been
// shut down permanently. Its text is drawpile-srv's.
var ErrGone = errors.New("ERROR 410 GONE")

// APIError is a failed request: Status is the HTTP status (0 for a
// network failure or an unreadable answer) and Message the reason, which
// for 400, 409 and 422 is the list server's own "message" (relayed to
// the session's users as drawpile-srv does).
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string { return e.Message }

// MaxResponseBody bounds a list server's answer.
const MaxResponseBody = 1 << 20

// maxExpires caps a list server's "expires" (minutes).
const maxExpires = 24 * 60

// maxRedirects is how many redirects a request follows (as drawpile-srv).
const maxRedirects = 2

// Client speaks the list server API (server.md §6.3, version 1.7). It is
// safe for concurrent use; every call takes a context that bounds it.
type Client struct {
	http      *http.Client
	userAgent string
}

// NewClient returns a client sending User-Agent
// "DrawpileListingClient/<version>". httpClient may be nil (a default
// client without a global timeout; contexts bound each call). Its
// CheckRedirect is replaced to allow at most two redirects.
func NewClient(httpClient *http.Client, version string) *Client {
	var hc http.Client
	if httpClient != nil {
		hc = *httpClient
	}
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > maxRedirects {
			return errors.New("too many redirects")
		}
		return nil
	}
	return &Client{http: &hc, userAgent: "DrawpileListingClient/" + version}
}

// sessionsURL appends "sessions/" (and optionally an id) to the API root's
// path, as drawpile-srv does.
func sessionsURL(apiURL, suffix string) (string, error) {
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", &APIError{Message: "Invalid API URL"}
	}
	p := u.Path
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	u.Path = p + "sessions/" + suffix
	u.RawPath = ""
	return u.String(), nil
}

// announceBody is the POST body; optional members are left out as
// drawpile-srv leaves them out.
type announceBody struct {
	Host               string `json:"host,omitempty"`
	Port               int    `json:"port,omitempty"`
	ID                 string `json:"id"`
	Protocol           string `json:"protocol"`
	Title              string `json:"title"`
	Users              int    `json:"users"`
	ActiveDrawingUsers int    `json:"activedrawingusers"`
	Password           bool   `json:"password"`
	Owner              string `json:"owner"`
	Nsfm               bool   `json:"nsfm"`
	MaxUsers           int    `json:"maxusers,omitempty"`
	Closed             bool   `json:"closed,omitempty"`
	AllowWeb           bool   `json:"allowweb,omitempty"`
	PreferWebSockets   bool   `json:"preferwebsockets,omitempty"`
}

// refreshBody is one listing of a batch refresh: every member is sent.
type refreshBody struct {
	UpdateKey          string `json:"updatekey"`
	Title              string `json:"title"`
	Users              int    `json:"users"`
	ActiveDrawingUsers int    `json:"activedrawingusers"`
	Password           bool   `json:"password"`
	Owner              string `json:"owner"`
	Nsfm               bool   `json:"nsfm"`
	MaxUsers           int    `json:"maxusers"`
	Closed             bool   `json:"closed"`
	AllowWeb           bool   `json:"allowweb"`
	PreferWebSockets   bool   `json:"preferwebsockets"`
}

// Announce lists a session: POST <api>/sessions/.
func (c *Client) Announce(ctx context.Context, apiURL string, d Description) (Announcement, error) {
	target, err := sessionsURL(apiURL, "")
	if err != nil {
		return Announcement{}, err
	}
	body := announceBody{Host: d.Host, Port: d.Port, ID: d.ID, Protocol: d.Protocol, Title: d.Title,
		Users: d.Users, ActiveDrawingUsers: d.ActiveDrawingUsers, Password: d.Password, Owner: d.Owner,
		Nsfm: d.Nsfm, MaxUsers: max(d.MaxUsers, 0), Closed: d.Closed, AllowWeb: d.AllowWeb, PreferWebSockets: d.PreferWebSockets}
	var resp struct {
		ID      *int64 `json:"id"`
		Key     string `json:"key"`
		Expires *int   `json:"expires"`
		Message string `json:"message"`
	}
	if err := c.do(ctx, http.MethodPost, target, "", body, &resp); err != nil {
		return Announcement{}, err
	}
	if resp.ID == nil || resp.Key == "" {
		return Announcement{}, &APIError{Message: "Unparseable response: listing id or update key missing"}
	}
	expires := 6
	if resp.Expires != nil {
		expires = min(*resp.Expires, maxExpires) // no Duration overflow
	}
	return Announcement{APIURL: apiURL, SessionID: d.ID, ListingID: *resp.ID, UpdateKey: resp.Key,
		Refresh: time.Duration(max(2, expires)-1) * time.Minute, Message: resp.Message}, nil
}

// Refresh refreshes several listings at one list server in one batch:
// PUT <api>/sessions/ {"<id>": {updatekey, …}}. A list server answers 200
// even when every listing failed; see BatchResult.
func (c *Client) Refresh(ctx context.Context, apiURL string, updates []Update) (BatchResult, error) {
	target, err := sessionsURL(apiURL, "")
	if err != nil {
		return BatchResult{}, err
	}
	batch := make(map[string]refreshBody, len(updates))
	for _, u := range updates {
		d := u.Desc
		batch[strconv.FormatInt(u.ListingID, 10)] = refreshBody{UpdateKey: u.UpdateKey, Title: d.Title, Users: d.Users,
			ActiveDrawingUsers: d.ActiveDrawingUsers, Password: d.Password, Owner: d.Owner, Nsfm: d.Nsfm,
			MaxUsers: d.MaxUsers, Closed: d.Closed, AllowWeb: d.AllowWeb, PreferWebSockets: d.PreferWebSockets}
	}
	var resp struct {
		Responses map[string]string `json:"responses"`
		Errors    map[string]string `json:"errors"`
		Message   string            `json:"message"`
	}
	if err := c.do(ctx, http.MethodPut, target, "", batch, &resp); err != nil {
		return BatchResult{}, err
	}
	return BatchResult{Responses: resp.Responses, Errors: resp.Errors, Message: resp.Message}, nil
}

// Unlist removes a listing: DELETE <api>/sessions/<listingId> with
// X-Update-Key.
func (c *Client) Unlist(ctx context.Context, a Announcement) error {
	target, err := sessionsURL(a.APIURL, strconv.FormatInt(a.ListingID, 10))
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, target, a.UpdateKey, nil, nil)
}

// do sends one request and decodes a 2xx JSON answer into out (if
// non-nil). Errors follow drawpile-srv's listing client: 400/409/422 relay
// the body's "message", 410 is ErrGone, anything else is a network error.
func (c *Client) do(ctx context.Context, method, target, updateKey string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("listing: encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return &APIError{Message: "Invalid API URL"}
	}
	req.Header.Set("User-Agent", c.userAgent)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if updateKey != "" {
		req.Header.Set("X-Update-Key", updateKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &APIError{Message: "Network error: " + err.Error()}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody+1))
	if err != nil {
		return &APIError{Status: resp.StatusCode, Message: "Network error: " + err.Error()}
	}
	if len(data) > MaxResponseBody {
		return &APIError{Status: resp.StatusCode, Message: "Network error: response too large"}
	}
	switch code := resp.StatusCode; {
	case code == http.StatusBadRequest || code == http.StatusConflict || code == http.StatusUnprocessableEntity:
		var e struct {
			Message string `json:"message"`
		}
		if err := json.Unmarshal(data, &e); err != nil {
			return &APIError{Status: code, Message: fmt.Sprintf("Http error %d but response body was unparseable: %v", code, err)}
		}
		if e.Message == "" {
			return &APIError{Status: code, Message: fmt.Sprintf("Http error %d (no explanation given)", code)}
		}
		return &APIError{Status: code, Message: e.Message}
	case code == http.StatusGone:
		return ErrGone
	case code < 200 || code > 299:
		return &APIError{Status: code, Message: "Network error: server replied: " + resp.Status}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &APIError{Status: resp.StatusCode, Message: "Unparseable response: " + err.Error()}
	}
	return nil
}

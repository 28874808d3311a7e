package listing

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// cannedTransport answers every request with one status and body, without
// a network.
type cannedTransport struct {
	status int
	body   string
}

func (c cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: c.status, Status: http.StatusText(c.status), Header: http.Header{},
		Body: io.NopCloser(strings.NewReader(c.body)), Request: r}, nil
}

// FuzzResponses feeds arbitrary list server answers to every call: they
// must produce a result or an error, never a panic, and a successful
// announcement always has a key and a refresh interval of at least a
// minute.
func FuzzResponses(f *testing.F) {
	seeds := []struct {
		status int
		body   string
	}{
		{200, `{"status":"ok","id":1,"key":"k","expires":10,"message":"hi"}`},
		{200, `{"id":-5,"key":"k","expires":-100}`},
		{200, `{"id":1e30,"key":"k"}`},
		{200, `{"id":1,"key":"k","expires":9223372036854775807}`},
		{200, `{"responses":{"1":"ok","2":"error"},"errors":{"2":"timed out"}}`},
		{200, `[]`},
		{400, `{"message":"bad"}`},
		{409, `{"message":3}`},
		{410, ``},
		{422, `not json`},
		{500, `{}`},
	}
	for _, s := range seeds {
		f.Add(s.status, s.body)
	}
	f.Fuzz(func(t *testing.T, status int, body string) {
		if status < 100 || status > 999 {
			return
		}
		c := NewClient(&http.Client{Transport: cannedTransport{status, body}}, "fuzz")
		ctx := context.Background()
		a, err := c.Announce(ctx, "http://list.invalid/", Description{ID: "s", Protocol: "dp:4.24.0"})
		if err == nil && (a.UpdateKey == "" || a.Refresh < 60e9) {
			t.Errorf("announcement %+v from %d %q", a, status, body)
		}
		res, err := c.Refresh(ctx, "http://list.invalid/", []Update{{ListingID: 1, UpdateKey: "k"}})
		if err == nil {
			_, _ = res.OK(1), res.Reason(1)
		}
		_ = c.Unlist(ctx, Announcement{APIURL: "http://list.invalid/", ListingID: 1, UpdateKey: "k"})
	})
}

package e2e

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"drawbridge/internal/bridge"
	"drawbridge/internal/client"
)

// TestMetrics drives real clients over TCP and WebSocket and checks the
// counters on the admin listener's /metrics, and that /metrics is not on
// the public HTTP port.
func TestMetrics(t *testing.T) {
	e := newEnv(t, func(c *bridge.Config) { c.Admin.Addr = "127.0.0.1:0" })
	adminAddr := e.b.AdminAddr()
	if adminAddr == "" {
		t.Fatal("admin listener not started")
	}

	host := e.host("Host", tcp, client.HostOptions{Alias: "metrics", Password: "pw"})
	defer host.Close()
	e.draw(host, 10)
	e.sync(host)
	guest, _ := e.join("Guest", ws, "metrics", "pw")
	defer guest.Close()
	if _, err := e.joinOpts("Wrong", tcp, client.JoinOptions{Session: "metrics", Password: "nope"}); client.ErrorCode(err) != client.CodeBadPassword {
		t.Fatalf("wrong password: %v", err)
	}

	text := scrape(t, "http://"+adminAddr+"/metrics")
	for _, tc := range []struct {
		series string
		min    float64
	}{
		{`drawbridge_transport_connections{transport="tcp"}`, 1},
		{`drawbridge_transport_connections{transport="ws"}`, 1},
		{`drawbridge_connections_total{transport="tcp"}`, 2},
		{`drawbridge_messages_received_total{transport="tcp"}`, 5},
		{`drawbridge_bytes_received_total{transport="tcp"}`, 50},
		{`drawbridge_messages_sent_total{transport="ws"}`, 5},
		{`drawbridge_bytes_sent_total{transport="ws"}`, 50},
		{`drawbridge_login_failures_total{code="badPassword"}`, 1},
		{`drawbridge_catchup_seconds_count`, 1},
		{`drawbridge_sessions`, 1},
	} {
		v, ok := metricValue(text, tc.series)
		if !ok {
			t.Errorf("%s missing from /metrics", tc.series)
			continue
		}
		if v < tc.min {
			t.Errorf("%s = %v, want ≥ %v", tc.series, v, tc.min)
		}
	}
	resp, err := http.Get("http://" + e.httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if _, ok := metricValue(string(body), "drawbridge_sessions"); ok {
		t.Error("/metrics is served on the public HTTP port")
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %v %s", url, err, resp.Status)
	}
	return string(body)
}

func metricValue(text, series string) (float64, bool) {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	return v, err == nil
}

package metrics

import (
	"strings"
	"sync"
	"testing"
)

func TestExposition(t *testing.T) {
	var r Registry
	c := r.NewCounter("drawbridge_messages_total", "Messages relayed.")
	conns := r.NewGaugeVec("drawbridge_connections", "Open connections by transport.", "transport")
	h := r.NewHistogram("drawbridge_catchup_seconds", "Catch-up duration.", []float64{0.1, 1})
	logins := r.NewCounterVec("drawbridge_login_failures_total", "Login failures by code.", "code")
	r.NewGaugeFunc("drawbridge_sessions", "Live sessions.", func() float64 { return 3 })

	c.Add(41)
	c.Inc()
	conns.With("tcp").Set(2)
	conns.With("ws").Add(5)
	conns.With("ws").Add(-1)
	h.Observe(0.05)
	h.Observe(0.5)
	h.Observe(7)
	logins.With(`bad"Password`).Inc()

	var b strings.Builder
	if _, err := r.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	want := `# HELP drawbridge_messages_total Messages relayed.
# TYPE drawbridge_messages_total counter
drawbridge_messages_total 42
# HELP drawbridge_connections Open connections by transport.
# TYPE drawbridge_connections gauge
drawbridge_connections{transport="tcp"} 2
drawbridge_connections{transport="ws"} 4
# HELP drawbridge_catchup_seconds Catch-up duration.
# TYPE drawbridge_catchup_seconds histogram
drawbridge_catchup_seconds_bucket{le="0.1"} 1
drawbridge_catchup_seconds_bucket{le="1"} 2
drawbridge_catchup_seconds_bucket{le="+Inf"} 3
drawbridge_catchup_seconds_sum 7.55
drawbridge_catchup_seconds_count 3
# HELP drawbridge_login_failures_total Login failures by code.
# TYPE drawbridge_login_failures_total counter
drawbridge_login_failures_total{code="bad\"Password"} 1
# HELP drawbridge_sessions Live sessions.
# TYPE drawbridge_sessions gauge
drawbridge_sessions 3
`
	if got := b.String(); got != want {
		t.Errorf("exposition mismatch:\n got:\n%s\nwant:\n%s", got, want)
	}
}

func TestConcurrentUpdates(t *testing.T) {
	var r Registry
	cv := r.NewCounterVec("c_total", "c", "k")
	g := r.NewGauge("g", "g")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				cv.With([]string{"a", "b"}[i%2]).Inc()
				g.Add(1)
			}
		}()
	}
	wg.Wait()
	if a, b := cv.With("a").Value(), cv.With("b").Value(); a+b != 8000 || a != 4000 {
		t.Errorf("counts a=%d b=%d, want 4000 each", a, b)
	}
	if g.Value() != 8000 {
		t.Errorf("gauge %v, want 8000", g.Value())
	}
}

func TestDuplicatePanics(t *testing.T) {
	var r Registry
	r.NewCounter("x", "x")
	defer func() {
		if recover() == nil {
			t.Error("registering x twice did not panic")
		}
	}()
	r.NewGauge("x", "x")
}

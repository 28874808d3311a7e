package bridge

import (
	"time"

	"drawbridge/internal/metrics"
)

// bridgeMetrics are the counters the transports and the session core
// update. They are exposed at /metrics on the admin listener only (behind
// its access rules), never on the public HTTP port.
type bridgeMetrics struct {
	reg           *metrics.Registry
	conns         *metrics.GaugeVec   // open connections by transport
	connsTotal    *metrics.CounterVec // accepted connections by transport
	msgsIn        *metrics.CounterVec // messages received by transport
	bytesIn       *metrics.CounterVec // bytes received (TCP framing) by transport
	msgsOut       *metrics.CounterVec // messages written by transport
	bytesOut      *metrics.CounterVec // bytes written (TCP framing) by transport
	loginFailures *metrics.CounterVec // by error code
	catchup       *metrics.Histogram  // join-to-caughtup seconds
	dropped       *metrics.Counter    // server-log entries and reports dropped because the queue was full
}

// newBridgeMetrics registers the transport and session metrics on reg.
func newBridgeMetrics(reg *metrics.Registry) *bridgeMetrics {
	return &bridgeMetrics{
		reg:           reg,
		conns:         reg.NewGaugeVec("drawbridge_transport_connections", "Open connections by transport (tcp, ws).", "transport"),
		connsTotal:    reg.NewCounterVec("drawbridge_connections_total", "Accepted connections by transport.", "transport"),
		msgsIn:        reg.NewCounterVec("drawbridge_messages_received_total", "Protocol messages received from clients, by transport.", "transport"),
		bytesIn:       reg.NewCounterVec("drawbridge_bytes_received_total", "Bytes of protocol messages received (4-byte framing), by transport.", "transport"),
		msgsOut:       reg.NewCounterVec("drawbridge_messages_sent_total", "Protocol messages sent to clients, by transport.", "transport"),
		bytesOut:      reg.NewCounterVec("drawbridge_bytes_sent_total", "Bytes of protocol messages sent (4-byte framing), by transport.", "transport"),
		loginFailures: reg.NewCounterVec("drawbridge_login_failures_total", "Logins that ended with an error, by error code.", "code"),
		dropped:       reg.NewCounter("drawbridge_events_dropped_total", "Server-log entries and abuse reports dropped because the bridge was too busy to store or send them."),
		catchup:       reg.NewHistogram("drawbridge_catchup_seconds", "Time from joining a session to receiving its whole history.", []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}),
	}
}

// transportMetrics are one transport's counters, looked up once per
// connection so the per-message cost is an atomic add.
type transportMetrics struct {
	conns                              *metrics.Gauge
	msgsIn, bytesIn, msgsOut, bytesOut *metrics.Counter
}

func (m *bridgeMetrics) transport(name string) *transportMetrics {
	return &transportMetrics{
		conns:    m.conns.With(name),
		msgsIn:   m.msgsIn.With(name),
		bytesIn:  m.bytesIn.With(name),
		msgsOut:  m.msgsOut.With(name),
		bytesOut: m.bytesOut.With(name),
	}
}

// opened and closed bracket one connection's lifetime.
func (m *bridgeMetrics) opened(t *transportMetrics, name string) {
	m.connsTotal.With(name).Inc()
	t.conns.Add(1)
}

func (t *transportMetrics) closed() { t.conns.Add(-1) }

// received counts one message of n bytes (TCP framing).
func (t *transportMetrics) received(n int) {
	t.msgsIn.Inc()
	t.bytesIn.Add(uint64(n))
}

// sent counts a written batch.
func (t *transportMetrics) sent(msgs, n int) {
	t.msgsOut.Add(uint64(msgs))
	t.bytesOut.Add(uint64(n))
}

// LoginFailed and CaughtUp implement session.Observer (with events).
func (m *bridgeMetrics) LoginFailed(code string)  { m.loginFailures.With(code).Inc() }
func (m *bridgeMetrics) CaughtUp(d time.Duration) { m.catchup.Observe(d.Seconds()) }

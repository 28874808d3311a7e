package loadgen

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Report is the result of a Run, written as JSON by `dptool bots --out`.
// Byte counts are TCP-framed sizes (4-byte header + payload) whatever the
// transport, so TCP and WebSocket runs compare directly. Rates are per
// second of the drawing phase (sent) or of the drawing phase plus the
// drain (received).
type Report struct {
	Tool      string    `json:"tool"`
	Label     string    `json:"label,omitempty"` // scenario name for tables
	Started   time.Time `json:"started"`
	Server    string    `json:"server"`
	Transport string    `json:"transport"` // tcp or ws
	Session   string    `json:"session"`
	Sessions  int       `json:"sessions"`
	Host      bool      `json:"host_session"`
	Drawers   int       `json:"drawers_per_session"`
	Watchers  int       `json:"watchers_per_session"`
	Rate      float64   `json:"rate"`
	Seed      uint64    `json:"seed"`
	// DurationS is the measured drawing phase; DrainS the wait for the
	// last deliveries after it.
	DurationS float64 `json:"duration_s"`
	DrainS    float64 `json:"drain_s"`
	WallS     float64 `json:"wall_s"`
	FillBytes int64   `json:"fill_bytes,omitempty"`
	FillS     float64 `json:"fill_s,omitempty"`

	Bots        int          `json:"bots"`
	Connected   int          `json:"connected"`
	Login       LatencyStats `json:"login"` // dial → host/join result
	CatchupOnly bool         `json:"catchup_only"`
	Catchup     CatchupStats `json:"catchup"`

	DrawerStats  RoleStats `json:"drawer_stats"`
	WatcherStats RoleStats `json:"watcher_stats"`
	// Latency over all bots: rtt (own echo), delivery (send → another
	// bot), lag (behind the first receiver).
	RTT      LatencyStats `json:"rtt"`
	Delivery LatencyStats `json:"delivery"`
	Lag      LatencyStats `json:"lag"`

	Consistency Consistency `json:"consistency"`

	Errors       int      `json:"errors"`
	Disconnects  int      `json:"disconnects"`
	ErrorSamples []string `json:"error_samples,omitempty"`

	ServerProc *ProcReport `json:"server_proc,omitempty"`
	ToolProc   *ProcReport `json:"tool_proc,omitempty"`
}

// RoleStats sums the bots of one role.
type RoleStats struct {
	Bots          int          `json:"bots"`
	SentMsgs      int64        `json:"sent_msgs"`
	SentBytes     int64        `json:"sent_bytes"`
	SentMsgsPerS  float64      `json:"sent_msgs_per_s"`
	SentBytesPerS float64      `json:"sent_bytes_per_s"`
	RecvMsgs      int64        `json:"recv_msgs"`
	RecvBytes     int64        `json:"recv_bytes"`
	RecvMsgsPerS  float64      `json:"recv_msgs_per_s"`
	RecvBytesPerS float64      `json:"recv_bytes_per_s"`
	RTT           LatencyStats `json:"rtt"`
	Delivery      LatencyStats `json:"delivery"`
	Lag           LatencyStats `json:"lag"`
}

// CatchupStats describe the joins: time from the join result to the
// caughtup marker and the history bytes received meanwhile.
type CatchupStats struct {
	Bots     int          `json:"bots"`
	CaughtUp int          `json:"caught_up"`
	Time     LatencyStats `json:"time"`
	// BytesPerBot is the largest catch-up (the session history) seen.
	BytesPerBot int64 `json:"bytes_per_bot"`
	MsgsPerBot  int64 `json:"msgs_per_bot"`
	// MBPerS is the median per-bot catch-up speed (10^6 bytes/s);
	// AggregateMBPerS is all catch-up bytes over the time from the first
	// join result to the last caughtup.
	MBPerS          float64 `json:"mb_per_s"`
	AggregateMBPerS float64 `json:"aggregate_mb_per_s"`
}

// Consistency checks the fundamental promise of a Drawpile session: every
// receiver gets every message, in order.
type Consistency struct {
	// Sent is what the drawers sent (all sessions); every receiver of a
	// session must get its session's share.
	Sent int64 `json:"sent"`
	// Receivers that got exactly what their session sent, and those that
	// did not (missing or extra).
	ReceiversComplete   int   `json:"receivers_complete"`
	ReceiversIncomplete int   `json:"receivers_incomplete"`
	MaxMissing          int64 `json:"max_missing"`
	// WatcherRecvMin/Max are the fewest and most tracked messages a
	// watcher received (single-session runs: each should equal Sent).
	WatcherRecvMin int64 `json:"watcher_recv_min"`
	WatcherRecvMax int64 `json:"watcher_recv_max"`
	// Unmatched: messages whose send record was already recycled (a
	// receiver more than 4096 messages of one sender behind). Mismatched:
	// same sequence number but another type or length, meaning the order
	// assumption broke (lost or reordered messages).
	Unmatched  int64 `json:"unmatched"`
	Mismatched int64 `json:"mismatched"`
	// Foreign counts messages from senders outside this run.
	Foreign int64 `json:"foreign"`
	OK      bool  `json:"ok"`
}

func (r *runner) fillReport(rep *Report, started time.Time, runDur, recvDur, fillDur time.Duration) {
	cfg := r.cfg
	*rep = Report{
		Tool: "dptool bots", Started: started, Server: cfg.Server, Transport: "tcp",
		Session: cfg.Session, Sessions: cfg.Sessions, Host: cfg.HostSession,
		Drawers: cfg.Drawers, Watchers: cfg.Watchers, Rate: cfg.Rate, Seed: cfg.Seed,
		DurationS: runDur.Seconds(), DrainS: (recvDur - runDur).Seconds(), WallS: time.Since(started).Seconds(),
		FillBytes: cfg.FillBytes, FillS: fillDur.Seconds(),
		Bots: len(r.bots), CatchupOnly: cfg.Catchup,
		ServerProc: rep.ServerProc, ToolProc: rep.ToolProc,
	}
	if r.ep.ws {
		rep.Transport = "ws"
	}
	var login Histogram
	var ctime Histogram
	var cBytes int64
	var firstJoin, lastCaught int64 = -1, 0
	var speeds []float64
	var all [2]struct{ rtt, del, lag Histogram }
	var rttAll, delAll, lagAll Histogram
	c := &rep.Consistency
	c.WatcherRecvMin = -1
	for _, b := range r.bots {
		if !b.ok {
			continue
		}
		rep.Connected++
		login.Add(int64(b.loginDur))
		if !b.host {
			rep.Catchup.Bots++
			if b.caughtUp {
				rep.Catchup.CaughtUp++
				ctime.Add(int64(b.catchupDur))
				cBytes += b.catchupBytes
				rep.Catchup.BytesPerBot = max(rep.Catchup.BytesPerBot, b.catchupBytes)
				rep.Catchup.MsgsPerBot = max(rep.Catchup.MsgsPerBot, b.catchupMsgs)
				if firstJoin < 0 || b.joinedAt < firstJoin {
					firstJoin = b.joinedAt
				}
				lastCaught = max(lastCaught, b.caughtAt)
				if b.catchupDur > 0 {
					speeds = append(speeds, float64(b.catchupBytes)/1e6/b.catchupDur.Seconds())
				}
			}
		}
		rs := &rep.DrawerStats
		if b.role == Watcher {
			rs = &rep.WatcherStats
		}
		rs.Bots++
		rs.SentMsgs += b.sentMsgs
		rs.SentBytes += b.sentBytes
		rs.RecvMsgs += b.recvMsgs
		rs.RecvBytes += b.recvBytes
		h := &all[b.role]
		h.rtt.Merge(b.rtt)
		h.del.Merge(b.delivery)
		h.lag.Merge(b.lag)
		rttAll.Merge(b.rtt)
		delAll.Merge(b.delivery)
		lagAll.Merge(b.lag)
		c.Unmatched += b.unmatched
		c.Mismatched += b.mismatched
		c.Foreign += b.foreign
		if !cfg.Catchup {
			want := b.sess.expected()
			got := b.tracked.Load()
			if got == want {
				c.ReceiversComplete++
			} else {
				c.ReceiversIncomplete++
				c.MaxMissing = max(c.MaxMissing, want-got)
			}
			if b.role == Watcher {
				if c.WatcherRecvMin < 0 || got < c.WatcherRecvMin {
					c.WatcherRecvMin = got
				}
				c.WatcherRecvMax = max(c.WatcherRecvMax, got)
			}
		}
	}
	if c.WatcherRecvMin < 0 {
		c.WatcherRecvMin = 0
	}
	for _, s := range r.sessions {
		c.Sent += s.expected()
	}
	c.OK = !cfg.Catchup && rep.Connected == rep.Bots && c.ReceiversIncomplete == 0 && c.Mismatched == 0 && c.Unmatched == 0
	for i, rs := range []*RoleStats{&rep.DrawerStats, &rep.WatcherStats} {
		if runDur > 0 {
			rs.SentMsgsPerS = float64(rs.SentMsgs) / runDur.Seconds()
			rs.SentBytesPerS = float64(rs.SentBytes) / runDur.Seconds()
		}
		if recvDur > 0 {
			rs.RecvMsgsPerS = float64(rs.RecvMsgs) / recvDur.Seconds()
			rs.RecvBytesPerS = float64(rs.RecvBytes) / recvDur.Seconds()
		}
		rs.RTT = all[i].rtt.Stats()
		rs.Delivery = all[i].del.Stats()
		rs.Lag = all[i].lag.Stats()
	}
	rep.RTT, rep.Delivery, rep.Lag = rttAll.Stats(), delAll.Stats(), lagAll.Stats()
	rep.Login = login.Stats()
	rep.Catchup.Time = ctime.Stats()
	if len(speeds) > 0 {
		slices.Sort(speeds)
		rep.Catchup.MBPerS = speeds[len(speeds)/2]
	}
	if span := time.Duration(lastCaught - firstJoin); firstJoin >= 0 && span > 0 {
		rep.Catchup.AggregateMBPerS = float64(cBytes) / 1e6 / span.Seconds()
	}
	r.mu.Lock()
	rep.Errors, rep.Disconnects = r.errCount, r.disconnects
	rep.ErrorSamples = slices.Clone(r.samples)
	r.mu.Unlock()
}

// WriteSummary writes a human-readable summary of rep.
func (rep *Report) WriteSummary(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("dptool bots: %s (%s), %d session(s) × (%d drawers + %d watchers), rate %.4g msg/s/drawer, seed %d\n",
		rep.Server, rep.Transport, rep.Sessions, rep.Drawers, rep.Watchers, rep.Rate, rep.Seed)
	p("  connected   %d/%d bots, login p50 %.1f ms, max %.1f ms\n", rep.Connected, rep.Bots, rep.Login.P50Ms, rep.Login.MaxMs)
	if rep.FillBytes > 0 {
		p("  fill        %.1f MB in %.1f s\n", float64(rep.FillBytes)/1e6, rep.FillS)
	}
	if cu := rep.Catchup; cu.Bots > 0 && (rep.CatchupOnly || cu.BytesPerBot > 1<<20) {
		p("  catch-up    %d/%d caught up, %.2f MB history, time p50 %.0f ms max %.0f ms, %.1f MB/s per bot, %.1f MB/s total\n",
			cu.CaughtUp, cu.Bots, float64(cu.BytesPerBot)/1e6, cu.Time.P50Ms, cu.Time.MaxMs, cu.MBPerS, cu.AggregateMBPerS)
	}
	if !rep.CatchupOnly {
		p("  phase       %.1f s drawing + %.2f s drain\n", rep.DurationS, rep.DrainS)
		for _, x := range []struct {
			name string
			rs   RoleStats
		}{{"drawers", rep.DrawerStats}, {"watchers", rep.WatcherStats}} {
			if x.rs.Bots == 0 {
				continue
			}
			p("  %-11s sent %d msgs (%.0f/s, %s/s), received %d msgs (%.0f/s, %s/s)\n", x.name,
				x.rs.SentMsgs, x.rs.SentMsgsPerS, humanBytes(x.rs.SentBytesPerS),
				x.rs.RecvMsgs, x.rs.RecvMsgsPerS, humanBytes(x.rs.RecvBytesPerS))
		}
		p("  latency ms  %-9s %8s %8s %8s %8s %8s\n", "", "count", "p50", "p90", "p99", "max")
		for _, x := range []struct {
			name string
			s    LatencyStats
		}{{"rtt", rep.RTT}, {"delivery", rep.Delivery}, {"lag", rep.Lag}} {
			p("              %-9s %8d %8.2f %8.2f %8.2f %8.2f\n", x.name, x.s.Count, x.s.P50Ms, x.s.P90Ms, x.s.P99Ms, x.s.MaxMs)
		}
		c := rep.Consistency
		p("  consistency sent %d, receivers complete %d, incomplete %d (max missing %d), watcher min/max %d/%d, unmatched %d, mismatched %d → %s\n",
			c.Sent, c.ReceiversComplete, c.ReceiversIncomplete, c.MaxMissing, c.WatcherRecvMin, c.WatcherRecvMax, c.Unmatched, c.Mismatched, okString(c.OK))
	}
	p("  errors      %d (disconnects %d)\n", rep.Errors, rep.Disconnects)
	for _, s := range rep.ErrorSamples {
		p("              %s\n", s)
	}
	for _, x := range []struct {
		name string
		pr   *ProcReport
	}{{"server", rep.ServerProc}, {"dptool", rep.ToolProc}} {
		if x.pr == nil {
			continue
		}
		if x.pr.Error != "" {
			p("  %-11s pid %d: %s\n", x.name, x.pr.PID, x.pr.Error)
			continue
		}
		p("  %-11s pid %d: cpu %.2f s (%.0f%% of one core), peak rss %.1f MB\n", x.name, x.pr.PID, x.pr.CPUSeconds, x.pr.CPUPercent, float64(x.pr.PeakRSSKB)/1024)
	}
}

func okString(ok bool) string {
	if ok {
		return "OK"
	}
	return "NOT OK"
}

func humanBytes(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2f MB", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1f kB", v/1e3)
	}
	return fmt.Sprintf("%.0f B", v)
}

// TableHeader is the header of the Markdown table FormatRow fills.
const TableHeader = "| scenario | transport | bots | sent msg/s | delivered msg/s | delivered MB/s | rtt p50/p99 ms | delivery p50/p99/max ms | catch-up | server CPU % | server peak RSS MB | dptool CPU % | errors | ok |\n" +
	"|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|\n"

// FormatRow returns one Markdown table row for rep.
func (rep *Report) FormatRow(name string) string {
	var b strings.Builder
	cpu, rss, tool := "–", "–", "–"
	if p := rep.ServerProc; p != nil && p.Error == "" {
		cpu = fmt.Sprintf("%.0f", p.CPUPercent)
		rss = fmt.Sprintf("%.0f", float64(p.PeakRSSKB)/1024)
	}
	if p := rep.ToolProc; p != nil && p.Error == "" {
		tool = fmt.Sprintf("%.0f", p.CPUPercent)
	}
	cu := "–"
	if rep.CatchupOnly || rep.Catchup.BytesPerBot > 1<<20 {
		cu = fmt.Sprintf("%.1f MB in %.2f s (%.0f MB/s)", float64(rep.Catchup.BytesPerBot)/1e6, rep.Catchup.Time.MaxMs/1000, rep.Catchup.MBPerS)
	}
	d, w := rep.DrawerStats, rep.WatcherStats
	recvMsgs := d.RecvMsgsPerS + w.RecvMsgsPerS
	recvBytes := d.RecvBytesPerS + w.RecvBytesPerS
	ok := rep.Consistency.OK
	if rep.CatchupOnly {
		ok = rep.Connected == rep.Bots && rep.Catchup.CaughtUp == rep.Catchup.Bots
	}
	dash := func(s LatencyStats, f string, v ...float64) string {
		if s.Count == 0 {
			return "–"
		}
		return fmt.Sprintf(f, anyf(v)...)
	}
	fmt.Fprintf(&b, "| %s | %s | %d | %.0f | %.0f | %.2f | %s | %s | %s | %s | %s | %s | %d | %s |\n",
		name, rep.Transport, rep.Bots, d.SentMsgsPerS, recvMsgs, recvBytes/1e6,
		dash(rep.RTT, "%.1f / %.1f", rep.RTT.P50Ms, rep.RTT.P99Ms),
		dash(rep.Delivery, "%.1f / %.1f / %.1f", rep.Delivery.P50Ms, rep.Delivery.P99Ms, rep.Delivery.MaxMs),
		cu, cpu, rss, tool, rep.Errors, okString(ok))
	return b.String()
}

func anyf(v []float64) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

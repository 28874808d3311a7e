package bridge

import (
	"context"
	"net/netip"
	"time"

	"drawbridge/internal/auth/httpfetch"
	"drawbridge/internal/session"
	"drawbridge/internal/store"
)

// events is the bridge's session.Observer: metrics, the server log (store)
// and abuse-report forwarding. The session core calls it with locks held,
// so the slow parts (database writes, HTTP) happen on the bridge's own
// goroutine, fed through a bounded queue.
type events struct {
	*bridgeMetrics
	b     *Bridge
	queue chan func(context.Context) // drained by runEvents; full = dropped and counted
}

// eventQueueLen bounds the backlog of log writes and report deliveries.
const eventQueueLen = 1024

func newEvents(b *Bridge, m *bridgeMetrics) *events {
	return &events{bridgeMetrics: m, b: b, queue: make(chan func(context.Context), eventQueueLen)}
}

// enqueue hands work to runEvents without blocking the caller.
func (e *events) enqueue(f func(context.Context)) {
	select {
	case e.queue <- f:
	default:
		e.dropped.Inc()
	}
}

// SessionLog implements session.Observer: the entry goes to the server log
// (the database's serverlog table, or the in-memory ring).
func (e *events) SessionLog(r session.LogRecord) {
	entry := store.LogEntry{Time: time.Now(), Level: store.LevelInfo, Topic: store.LogTopic(r.Topic), Session: r.Session, Message: r.Message}
	if r.UserID != 0 || r.UserName != "" {
		entry.User = store.LogUser(r.UserID, addrString(r.UserAddr), r.UserName)
	}
	e.enqueue(func(context.Context) { e.b.store.Log(entry) })
}

// Chatted implements session.Observer: users' chat goes to the admin
// API's two-way chat. Queued, because the admin API takes its own lock
// before session locks when it sends.
func (e *events) Chatted(sessionID string, userID uint8, name, text string) {
	adm := e.b.admin.Load()
	if adm == nil {
		return
	}
	e.enqueue(func(context.Context) { adm.API().UserChat(sessionID, userID, name, text) })
}

// Reported implements session.Observer: with the abusereport setting on
// and --report-url given, the report is POSTed there as drawpile-srv does.
func (e *events) Reported(r session.AbuseReport) {
	st := e.b.store.Settings()
	url := e.b.cfg.ReportURL
	if !st.AbuseReport || url == "" {
		return
	}
	user := func(u session.ReportUser) httpfetch.ReportUser {
		return httpfetch.ReportUser{Name: u.Name, Auth: u.Auth, Op: u.Op, IP: addrString(u.Addr), ID: int(u.ID)}
	}
	rep := httpfetch.Report{Session: r.Session, SessionTitle: r.Title, User: r.Reporter.Name, Auth: r.Reporter.Auth,
		IP: addrString(r.Reporter.Addr), Perp: int(r.Target), Message: r.Message, Offset: r.HistoryBytes}
	for _, u := range r.Users {
		rep.Users = append(rep.Users, user(u))
	}
	token := st.ReportToken
	e.enqueue(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := httpfetch.SendReport(ctx, nil, url, token, rep); err != nil {
			e.b.logger.Warn("abuse report not delivered", "url", url, "err", err)
			return
		}
		e.b.logger.Info("abuse report delivered", "session", rep.Session, "by", rep.User)
	})
}

// runEvents performs queued work until ctx ends, then finishes what is
// already queued (log lines are not lost at a clean shutdown).
func (e *events) runEvents(ctx context.Context) {
	for {
		select {
		case f := <-e.queue:
			f(ctx)
		case <-ctx.Done():
			for {
				select {
				case f := <-e.queue:
					f(context.WithoutCancel(ctx))
				default:
					return
				}
			}
		}
	}
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

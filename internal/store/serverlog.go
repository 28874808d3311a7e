package store

import (
	"strconv"
	"strings"
	"sync"
	"time"
)

// LogLevel is a server log severity; stored as its number in
// serverlog.level.
type LogLevel int

const (
	LevelError LogLevel = iota // needs admin attention
	LevelWarn                  // acceptable errors
	LevelInfo                  // useful for moderators
	LevelDebug                 // useful for developers
)

func (l LogLevel) String() string {
	switch l {
	case LevelError:
		return "Error"
	case LevelWarn:
		return "Warn"
	case LevelInfo:
		return "Info"
	case LevelDebug:
		return "Debug"
	}
	return "Level(" + strconv.Itoa(int(l)) + ")"
}

// ParseLogLevel parses a level name as used by /api/log ("Error", "Warn",
// "Info", "Debug"; case-insensitive).
func ParseLogLevel(s string) (LogLevel, bool) {
	for l := LevelError; l <= LevelDebug; l++ {
		if strings.EqualFold(s, l.String()) {
			return l, true
		}
	}
	return 0, false
}

// LogTopic is what a server log entry is about (server.md §4.11); stored by
// name in serverlog.topic.
type LogTopic string

const (
	TopicJoin       LogTopic = "Join"
	TopicLeave      LogTopic = "Leave"
	TopicKick       LogTopic = "Kick"
	TopicBan        LogTopic = "Ban"
	TopicUnban      LogTopic = "Unban"
	TopicOp         LogTopic = "Op"
	TopicDeop       LogTopic = "Deop"
	TopicMute       LogTopic = "Mute"
	TopicUnmute     LogTopic = "Unmute"
	TopicTrust      LogTopic = "Trust"
	TopicUntrust    LogTopic = "Untrust"
	TopicBadData    LogTopic = "BadData"
	TopicRuleBreak  LogTopic = "RuleBreak"
	TopicPubList    LogTopic = "PubList"
	TopicStatus     LogTopic = "Status"
	TopicClientInfo LogTopic = "ClientInfo"
	TopicExtBan     LogTopic = "ExtBan"
	TopicBanImpEx   LogTopic = "BanImpEx"
	TopicAdminChat  LogTopic = "AdminChat"
	TopicInvite     LogTopic = "Invite"
	TopicReport     LogTopic = "Report"
)

// Sensitive reports whether entries of this topic are for admins only
// (never pushed to session members; omitted with LogFilter.OmitSensitive).
func (t LogTopic) Sensitive() bool { return t == TopicClientInfo || t == TopicReport }

// KickOrBan reports whether the topic is Kick, Ban or Unban.
func (t LogTopic) KickOrBan() bool { return t == TopicKick || t == TopicBan || t == TopicUnban }

// LogEntry is one server log entry.
type LogEntry struct {
	Time    time.Time // stored as ISO 8601 UTC, second precision
	Level   LogLevel
	Topic   LogTopic
	User    string // "<ctx id>;<ip>;<name>" or empty (see LogUser)
	Session string // session id or empty
	Message string
}

// LogUser formats the user triplet of a log entry.
func LogUser(id uint8, ip, name string) string {
	return strconv.Itoa(int(id)) + ";" + ip + ";" + name
}

// WithoutIP returns the user triplet with the IP removed ("id;name"), as
// sent to session members.
func (e LogEntry) WithoutIP() string {
	first := strings.IndexByte(e.User, ';')
	if first < 0 {
		return e.User
	}
	second := strings.IndexByte(e.User[first+1:], ';')
	if second < 0 {
		return e.User
	}
	return e.User[:first] + e.User[first+1+second:]
}

// String formats the entry as upstream prints it to stderr:
// "<time> <Level>/<Topic> user@session: message".
func (e LogEntry) String() string {
	var b strings.Builder
	b.WriteString(formatLogTime(e.Time))
	b.WriteByte(' ')
	b.WriteString(e.Level.String())
	b.WriteByte('/')
	b.WriteString(string(e.Topic))
	b.WriteByte(' ')
	b.WriteString(e.User)
	if e.User != "" && e.Session != "" {
		b.WriteByte('@')
	}
	b.WriteString(e.Session)
	if e.User != "" || e.Session != "" {
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// LogTimeLayout is the timestamp format of serverlog.timestamp (Qt's
// ISODate for a UTC time).
const LogTimeLayout = "2006-01-02T15:04:05Z"

func formatLogTime(t time.Time) string { return t.UTC().Format(LogTimeLayout) }

func parseLogTime(s string) time.Time {
	for _, layout := range []string{LogTimeLayout, time.RFC3339, "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// LogFilter selects log entries for /api/log. Zero fields do not filter.
type LogFilter struct {
	Session string    // session id, case-insensitive
	User    string    // substring of the user triplet, case-insensitive
	Message string    // substring of the message, case-insensitive
	After   time.Time // entries at least one second after this
	// MaxLevel: only entries at this level or more severe. The zero value
	// is LevelError; use LevelDebug for everything.
	MaxLevel         LogLevel
	OmitSensitive    bool // drop ClientInfo and Report
	OmitKicksAndBans bool // drop Kick, Ban, Unban
	Offset, Limit    int  // paging; Limit 0 = no limit
}

func (f *LogFilter) matches(e *LogEntry) bool {
	if !f.After.IsZero() && e.Time.Sub(f.After) < time.Second {
		return false
	}
	if f.OmitSensitive && e.Topic.Sensitive() || f.OmitKicksAndBans && e.Topic.KickOrBan() {
		return false
	}
	if e.Level > f.MaxLevel {
		return false
	}
	if f.Session != "" && !strings.EqualFold(e.Session, f.Session) {
		return false
	}
	if f.User != "" && !strings.Contains(strings.ToLower(e.User), strings.ToLower(f.User)) {
		return false
	}
	if f.Message != "" && !strings.Contains(strings.ToLower(e.Message), strings.ToLower(f.Message)) {
		return false
	}
	return true
}

// MemoryLogLimit is how many entries the in-memory log keeps (upstream 1000).
const MemoryLogLimit = 1000

// memoryLog is a ring of the most recent entries; safe for concurrent use.
type memoryLog struct {
	mu      sync.Mutex
	entries []LogEntry // guarded by mu; oldest first, at most limit
	limit   int
}

func newMemoryLog(limit int) *memoryLog { return &memoryLog{limit: limit} }

func (m *memoryLog) add(e LogEntry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.entries) >= m.limit {
		n := copy(m.entries, m.entries[len(m.entries)-m.limit+1:])
		m.entries = m.entries[:n]
	}
	m.entries = append(m.entries, e)
}

// query returns matching entries newest first.
func (m *memoryLog) query(f LogFilter) []LogEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []LogEntry
	skip := f.Offset
	for i := len(m.entries) - 1; i >= 0; i-- {
		e := &m.entries[i]
		if !f.matches(e) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if f.Limit > 0 && len(out) >= f.Limit {
			break
		}
		out = append(out, *e)
	}
	return out
}

// purge drops entries older than cutoff.
func (m *memoryLog) purge(cutoff time.Time) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	kept := m.entries[:0]
	for _, e := range m.entries {
		if !e.Time.Before(cutoff) {
			kept = append(kept, e)
		}
	}
	n := len(m.entries) - len(kept)
	m.entries = kept
	return n
}

package sessionfile

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
)

// Flags are the persisted session flags, journaled as a space-separated
// list of names (FLAGS record).
type Flags uint16

// Session flags, in the order drawpile-srv writes them.
const (
	Persistent Flags = 1 << iota
	PreserveChat
	Nsfm
	Deputies
	AuthOnly
	IdleOverride
	AllowWeb
	AutoTitle
	Invites
	Unlisted
)

var flagNames = []struct {
	f    Flags
	name string
}{
	{Persistent, "persistent"}, {PreserveChat, "preserveChat"}, {Nsfm, "nsfm"},
	{Deputies, "deputies"}, {AuthOnly, "authonly"}, {IdleOverride, "idleoverride"},
	{AllowWeb, "allowweb"}, {AutoTitle, "autotitle"}, {Invites, "invites"},
	{Unlisted, "unlisted"},
}

// String returns the journal form: flag names separated by spaces.
func (f Flags) String() string {
	var names []string
	for _, n := range flagNames {
		if f&n.f != 0 {
			names = append(names, n.name)
		}
	}
	return strings.Join(names, " ")
}

// ArchiveMode is the per-session archive override (ARCHIVE record).
type ArchiveMode int

const (
	ArchiveDefault ArchiveMode = iota // follow the server's archive setting
	ArchiveOff                        // ARCHIVE 0: delete files on termination
	ArchiveOn                         // ARCHIVE 1: rename them to *.archived
)

// Ban is a session ban (BAN record). IP is the textual address as
// drawpile-srv writes it (IPv6 form, e.g. "::ffff:192.168.0.100"), or
// empty.
type Ban struct {
	ID       int
	Name     string
	IP       string
	AuthID   string
	BannedBy string
	SID      string
}

// UserID is a remembered name → user id assignment (USER record).
type UserID struct {
	ID   uint8
	Name string
}

// Invite is a session invite (INV record) with its uses (USV records).
type Invite struct {
	Secret    string
	CreatedAt string // timestamp text as written by the creator
	MaxUses   int
	Trust, Op bool
	Creator   string
	Uses      []InviteUse
}

// InviteUse records that a client (by client key, the system id) used an
// invite under a name.
type InviteUse struct {
	ClientKey string
	Name      string
}

// Default values of a fresh journal (drawpile-srv's FiledHistory).
const (
	DefaultMaxUsers       = 254
	InitialCatchupKey     = 1000000
	MinCatchupKey         = 1
	MaxCatchupKey         = 999999999
	maxSizeLimit          = 1<<31 - 1 // clampSizeLimit: INT_MAX
	maxJournalLine        = 1 << 20   // longer lines are corrupt, not records
	maxJournalRecordCount = 1 << 22
)

// State is a session's metadata as replayed from its journal. The zero
// value is not a valid initial state; use NewState.
type State struct {
	File      string // current recording file name (last FILE record)
	FileCount int    // number of FILE records seen (names the next _rN)
	Alias     string
	Founder   string
	Title     string
	Password  string // password hash ("" = none)
	Opword    string // operator password hash ("" = none)
	MaxUsers  int
	AutoReset uint64 // autoreset threshold in bytes, 0 = default
	Archive   ArchiveMode
	SizeLimit uint64 // override size limit in bytes, 0 = server default
	Flags     Flags
	Bans      []Ban
	Announce  []string
	Users     []UserID          // name → id memory, one entry per name
	Ops       []string          // remembered operator auth ids
	Trusted   []string          // remembered trusted auth ids
	AuthNames map[string]string // auth id → display name
	AuthOrder []string          // auth ids of AuthNames in insertion order
	Catchup   int               // next catch-up key
	Invites   []Invite
	// WatchSecret is Drawbridge's spectator secret (record WATCHSECRET, a
	// Drawbridge extension; drawpile-srv logs "unknown journal entry" for
	// it and goes on loading). "" = none yet.
	WatchSecret string
}

// NewState returns the state of an empty journal.
func NewState() State {
	return State{MaxUsers: DefaultMaxUsers, Catchup: InitialCatchupKey, AuthNames: map[string]string{}}
}

// Clone returns a deep copy of s.
func (s State) Clone() State {
	c := s
	c.Bans = slices.Clone(s.Bans)
	c.Announce = slices.Clone(s.Announce)
	c.Users = slices.Clone(s.Users)
	c.Ops = slices.Clone(s.Ops)
	c.Trusted = slices.Clone(s.Trusted)
	c.AuthOrder = slices.Clone(s.AuthOrder)
	c.AuthNames = make(map[string]string, len(s.AuthNames))
	for k, v := range s.AuthNames {
		c.AuthNames[k] = v
	}
	c.Invites = make([]Invite, len(s.Invites))
	for i, inv := range s.Invites {
		inv.Uses = slices.Clone(inv.Uses)
		c.Invites[i] = inv
	}
	return c
}

// UserIDFor returns the remembered id for name (case-sensitive, as
// drawpile-srv's IdQueue).
func (s *State) UserIDFor(name string) (uint8, bool) {
	for _, u := range s.Users {
		if u.Name == name {
			return u.ID, true
		}
	}
	return 0, false
}

// IsOp reports whether authID is a remembered operator.
func (s *State) IsOp(authID string) bool { return slices.Contains(s.Ops, authID) }

// IsTrusted reports whether authID is a remembered trusted user.
func (s *State) IsTrusted(authID string) bool { return slices.Contains(s.Trusted, authID) }

// JournalError describes one journal line that could not be applied. Load
// skips such lines (like drawpile-srv) and reports them.
type JournalError struct {
	Line   int // 1-based
	Text   string
	Reason string
}

func (e *JournalError) Error() string {
	return fmt.Sprintf("sessionfile: journal line %d: %s: %q", e.Line, e.Reason, e.Text)
}

// ParseJournal replays a journal. Lines that cannot be applied are skipped
// and returned as problems; a final line without its newline (a write cut
// short by a crash) is dropped and reported too. The error is non-nil only
// when r fails.
func ParseJournal(r io.Reader) (State, []*JournalError, error) {
	s := NewState()
	var problems []*JournalError
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		line, err := readLine(br)
		if err == io.EOF && line == nil {
			break
		}
		if err != nil && err != io.EOF {
			if err == errLineTooLong {
				problems = append(problems, &JournalError{Line: n, Reason: "line longer than 1 MiB"})
				continue
			}
			return s, problems, err
		}
		if err == io.EOF { // no trailing newline
			if len(bytes.TrimSpace(line)) > 0 {
				problems = append(problems, &JournalError{Line: n, Text: string(line), Reason: "incomplete last line dropped"})
			}
			break
		}
		if reason := s.apply(line); reason != "" {
			problems = append(problems, &JournalError{Line: n, Text: string(line), Reason: reason})
		}
		if len(problems) > maxJournalRecordCount {
			break
		}
	}
	return s, problems, nil
}

var errLineTooLong = fmt.Errorf("sessionfile: journal line too long")

// readLine returns the next line without its '\n'; at the end of input it
// returns (partial, io.EOF) or (nil, io.EOF). Lines over maxJournalLine are
// skipped with errLineTooLong.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > maxJournalLine {
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			return nil, errLineTooLong
		}
		line = append(line, chunk...)
		switch err {
		case nil:
			return line[:len(line)-1], nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			if len(line) == 0 {
				return nil, io.EOF
			}
			return line, io.EOF
		default:
			return nil, err
		}
	}
}

// trimQt trims like QByteArray::trimmed: ASCII whitespace at both ends.
func trimQt(b []byte) []byte { return bytes.Trim(b, " \t\n\v\f\r") }

// apply replays one journal line; it returns a reason when the line is
// invalid (the state is then unchanged).
func (s *State) apply(raw []byte) string {
	line := trimQt(raw)
	if len(line) == 0 || line[0] == '#' {
		return ""
	}
	cmd, params := line, []byte(nil)
	if i := bytes.IndexByte(line, ' '); i >= 0 {
		cmd, params = trimQt(line[:i]), trimQt(line[i+1:])
	}
	p := string(params)
	switch string(cmd) {
	case "FILE":
		if p == "" || strings.ContainsAny(p, "/\\") || p == "." || p == ".." {
			return "bad file name"
		}
		s.File = p
		s.FileCount++
	case "ALIAS":
		if s.Alias != "" {
			return "alias set twice"
		}
		s.Alias = p
	case "FOUNDER":
		s.Founder = p
	case "PASSWORD":
		s.Password = p
	case "OPWORD":
		s.Opword = p
	case "MAXUSERS":
		n, err := strconv.Atoi(p)
		if err != nil {
			n = 0 // QByteArray::toInt yields 0, clamped to 1
		}
		s.MaxUsers = min(max(n, 1), 254)
	case "AUTORESET":
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return "bad number"
		}
		s.AutoReset = n
	case "TITLE":
		s.Title = p
	case "ARCHIVE":
		switch p {
		case "":
			s.Archive = ArchiveDefault
		case "0":
			s.Archive = ArchiveOff
		case "1":
			s.Archive = ArchiveOn
		default:
			return "unknown archive mode"
		}
	case "LIMIT":
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return "bad number"
		}
		s.SizeLimit = min(n, maxSizeLimit)
	case "FLAGS":
		var f Flags
		var unknown []string
		for name := range strings.SplitSeq(p, " ") {
			found := false
			for _, n := range flagNames {
				if n.name == name {
					f |= n.f
					found = true
				}
			}
			if !found && name != "" {
				unknown = append(unknown, name)
			}
		}
		s.Flags = f
		if len(unknown) > 0 {
			return "unknown flags " + strings.Join(unknown, ",") + " ignored"
		}
	case "BAN":
		args := fields(p)
		if len(args) < 5 || len(args) > 6 {
			return "ban needs 5 or 6 fields"
		}
		id, err := strconv.Atoi(args[0])
		if err != nil {
			return "bad ban id"
		}
		b := Ban{ID: id, Name: percentDecode(args[1]), IP: args[2], AuthID: percentDecode(args[3]), BannedBy: percentDecode(args[4])}
		if len(args) == 6 {
			b.SID = percentDecode(args[5])
		}
		s.Bans = slices.DeleteFunc(s.Bans, func(o Ban) bool { return o.ID == id })
		s.Bans = append(s.Bans, b)
	case "UNBAN":
		id, err := strconv.Atoi(p)
		if err != nil {
			return "bad ban id"
		}
		s.Bans = slices.DeleteFunc(s.Bans, func(o Ban) bool { return o.ID == id })
	case "ANNOUNCE":
		if !slices.Contains(s.Announce, p) {
			s.Announce = append(s.Announce, p)
		}
	case "UNANNOUNCE":
		s.Announce = slices.DeleteFunc(s.Announce, func(u string) bool { return u == p })
	case "USER":
		args := fields(p)
		if len(args) != 2 {
			return "user needs 2 fields"
		}
		id, err := strconv.Atoi(args[0])
		if err != nil || id < 1 || id > 254 {
			return "bad user id"
		}
		s.setUser(uint8(id), percentDecode(args[1]))
	case "OP", "DEOP":
		if p == "" {
			return ""
		}
		s.Ops = setMember(s.Ops, p, string(cmd) == "OP")
	case "TRUST", "UNTRUST":
		if p == "" {
			return ""
		}
		s.Trusted = setMember(s.Trusted, p, string(cmd) == "TRUST")
	case "AUTHNAME":
		args := fields(p)
		if len(args) != 2 {
			return "authname needs 2 fields"
		}
		id, name := percentDecode(args[0]), percentDecode(args[1])
		if id != "" && name != "" {
			s.setAuthName(id, name)
		}
	case "WATCHSECRET":
		if !ValidWatchSecret(p) {
			return "bad spectator secret"
		}
		s.WatchSecret = p
	case "CATCHUP":
		n, err := strconv.Atoi(p)
		if err != nil {
			n = 0
		}
		s.Catchup = min(max(n, MinCatchupKey), MaxCatchupKey)
	case "INV":
		args := fields(p)
		if len(args) < 3 || len(args) > 4 {
			return "invite needs 3 or 4 fields"
		}
		inv := Invite{Secret: args[0], CreatedAt: args[1]}
		uses := args[2]
		inv.Trust = strings.Contains(uses, ",trust")
		inv.Op = strings.Contains(uses, ",op")
		if i := strings.IndexByte(uses, ','); i >= 0 {
			uses = uses[:i]
		}
		n, err := strconv.Atoi(uses)
		if err != nil || inv.Secret == "" {
			return "bad invite"
		}
		inv.MaxUses = n
		if len(args) == 4 {
			inv.Creator = percentDecode(args[3])
		}
		s.Invites = slices.DeleteFunc(s.Invites, func(o Invite) bool { return o.Secret == inv.Secret })
		s.Invites = append(s.Invites, inv)
	case "UNV":
		before := len(s.Invites)
		s.Invites = slices.DeleteFunc(s.Invites, func(o Invite) bool { return o.Secret == p })
		if len(s.Invites) == before {
			return "no matching invite"
		}
	case "USV":
		args := fields(p)
		if len(args) != 3 {
			return "invite use needs 3 fields"
		}
		name := args[2]
		if name == "?" {
			name = ""
		} else {
			name = percentDecode(name)
		}
		for i := range s.Invites {
			inv := &s.Invites[i]
			if inv.Secret != args[0] {
				continue
			}
			for j := range inv.Uses {
				if inv.Uses[j].ClientKey == args[1] {
					inv.Uses[j].Name = name
					return ""
				}
			}
			inv.Uses = append(inv.Uses, InviteUse{ClientKey: args[1], Name: name})
			return ""
		}
		return "no matching invite"
	default:
		return "unknown record"
	}
	return ""
}

func (s *State) setUser(id uint8, name string) {
	for i := range s.Users {
		if s.Users[i].Name == name {
			s.Users[i].ID = id
			return
		}
	}
	s.Users = append(s.Users, UserID{ID: id, Name: name})
}

func (s *State) setAuthName(id, name string) {
	if s.AuthNames == nil {
		s.AuthNames = map[string]string{}
	}
	if _, ok := s.AuthNames[id]; !ok {
		s.AuthOrder = append(s.AuthOrder, id)
	}
	s.AuthNames[id] = name
}

func setMember(set []string, v string, in bool) []string {
	has := slices.Contains(set, v)
	switch {
	case in && !has:
		return append(set, v)
	case !in && has:
		return slices.DeleteFunc(set, func(o string) bool { return o == v })
	}
	return set
}

// AppendJournal appends the complete journal that reproduces s (used for
// compaction). Records come in a fixed order; replaying the output gives
// back s, except FileCount, which becomes 1 (callers keep it separately:
// the next recording name is made unique on disk anyway).
func (s *State) AppendJournal(dst []byte) []byte {
	if s.File != "" {
		dst = appendRecord(dst, "FILE", s.File)
	}
	if s.Alias != "" {
		dst = appendRecord(dst, "ALIAS", s.Alias)
	}
	dst = appendRecord(dst, "FOUNDER", s.Founder)
	if s.Title != "" {
		dst = appendRecord(dst, "TITLE", s.Title)
	}
	if s.Password != "" {
		dst = appendRecord(dst, "PASSWORD", s.Password)
	}
	if s.Opword != "" {
		dst = appendRecord(dst, "OPWORD", s.Opword)
	}
	if s.MaxUsers != DefaultMaxUsers {
		dst = appendRecord(dst, "MAXUSERS", strconv.Itoa(s.MaxUsers))
	}
	if s.AutoReset != 0 {
		dst = appendRecord(dst, "AUTORESET", strconv.FormatUint(s.AutoReset, 10))
	}
	if s.Archive != ArchiveDefault {
		dst = archiveRecord(dst, s.Archive)
	}
	if s.SizeLimit != 0 {
		dst = appendRecord(dst, "LIMIT", strconv.FormatUint(s.SizeLimit, 10))
	}
	if s.Flags != 0 {
		dst = appendRecord(dst, "FLAGS", s.Flags.String())
	}
	for _, b := range s.Bans {
		dst = banRecord(dst, b)
	}
	for _, u := range s.Announce {
		dst = appendRecord(dst, "ANNOUNCE", u)
	}
	for _, u := range s.Users {
		dst = userRecord(dst, u)
	}
	for _, id := range s.Ops {
		dst = appendRecord(dst, "OP", id)
	}
	for _, id := range s.Trusted {
		dst = appendRecord(dst, "TRUST", id)
	}
	for _, id := range s.AuthOrder {
		dst = authNameRecord(dst, id, s.AuthNames[id])
	}
	if s.Catchup != InitialCatchupKey {
		dst = appendRecord(dst, "CATCHUP", strconv.Itoa(s.Catchup))
	}
	for _, inv := range s.Invites {
		dst = inviteRecord(dst, inv)
		for _, u := range inv.Uses {
			dst = inviteUseRecord(dst, inv.Secret, u)
		}
	}
	if s.WatchSecret != "" {
		dst = appendRecord(dst, "WATCHSECRET", s.WatchSecret)
	}
	return dst
}

// oneLine makes a free-text parameter safe for a line-oriented journal:
// line breaks become spaces and surrounding whitespace is trimmed (the
// reader trims anyway).
func oneLine(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		s = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(s)
	}
	return string(trimQt([]byte(s)))
}

// token makes a parameter that must not contain spaces safe (spaces and
// line breaks become '_', surrounding whitespace is trimmed, as the reader
// trims every field): it is used for fields drawpile-srv writes without
// encoding (secrets, timestamps, client keys, IP addresses).
func token(s string) string {
	if strings.ContainsAny(s, " \n\r") {
		b := []byte(s) // bytewise: invalid UTF-8 passes through unchanged
		for i, c := range b {
			switch c {
			case ' ', '\n', '\r':
				b[i] = '_'
			}
		}
		s = string(b)
	}
	return string(trimQt([]byte(s)))
}

// fields splits record parameters on single spaces (empty fields are
// kept, as drawpile-srv's split does) and trims each field.
func fields(p string) []string {
	args := strings.Split(p, " ")
	for i, a := range args {
		args[i] = string(trimQt([]byte(a)))
	}
	return args
}

func appendRecord(dst []byte, cmd, param string) []byte {
	dst = append(dst, cmd...)
	if p := oneLine(param); p != "" {
		dst = append(dst, ' ')
		dst = append(dst, p...)
	} else if cmd == "FOUNDER" || cmd == "PASSWORD" || cmd == "OPWORD" || cmd == "TITLE" || cmd == "FLAGS" {
		dst = append(dst, ' ') // drawpile-srv writes "PASSWORD \n" for a cleared password
	}
	return append(dst, '\n')
}

func archiveRecord(dst []byte, m ArchiveMode) []byte {
	switch m {
	case ArchiveOff:
		return append(dst, "ARCHIVE 0\n"...)
	case ArchiveOn:
		return append(dst, "ARCHIVE 1\n"...)
	}
	return append(dst, "ARCHIVE\n"...)
}

func banRecord(dst []byte, b Ban) []byte {
	dst = fmt.Appendf(dst, "BAN %d %s %s %s %s %s\n", b.ID, percentEncode(b.Name), token(b.IP),
		percentEncode(b.AuthID), percentEncode(b.BannedBy), percentEncode(b.SID))
	if b.SID == "" { // the reader trims the line: match what it will see
		dst = append(dst[:len(dst)-2], '\n')
	}
	return dst
}

func userRecord(dst []byte, u UserID) []byte {
	return fmt.Appendf(dst, "USER %d %s\n", u.ID, percentEncode(u.Name))
}

func authNameRecord(dst []byte, id, name string) []byte {
	return fmt.Appendf(dst, "AUTHNAME %s %s\n", percentEncode(id), percentEncode(name))
}

func inviteRecord(dst []byte, inv Invite) []byte {
	dst = fmt.Appendf(dst, "INV %s %s %d", token(inv.Secret), token(inv.CreatedAt), inv.MaxUses)
	if inv.Trust {
		dst = append(dst, ",trust"...)
	}
	if inv.Op {
		dst = append(dst, ",op"...)
	}
	if inv.Creator != "" {
		dst = append(dst, ' ')
		dst = append(dst, percentEncode(inv.Creator)...)
	}
	return append(dst, '\n')
}

func inviteUseRecord(dst []byte, secret string, u InviteUse) []byte {
	name := "?"
	if u.Name != "" {
		name = percentEncode(u.Name)
	}
	return fmt.Appendf(dst, "USV %s %s %s\n", token(secret), token(u.ClientKey), name)
}

// percentEncode encodes like Qt's QByteArray::toPercentEncoding: RFC 3986
// unreserved characters are kept, every other byte becomes %XX (uppercase).
func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// percentDecode decodes %XX sequences; malformed ones are kept literally.
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// logProblems logs journal problems, naming the file.
func logProblems(log *slog.Logger, path string, problems []*JournalError) {
	for _, p := range problems {
		log.Warn("session journal: skipped line", "file", path, "line", p.Line, "reason", p.Reason, "text", p.Text)
	}
}

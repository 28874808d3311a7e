package sessionfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"drawbridge/protocol"
)

// Session templates (server.md §2.10): a --templates directory holds
// recordings, *.dprec or *.dptxt (also *.dprec.* and *.dptxt.*), whose base
// name (up to the first dot) is the alias of the session they instantiate
// and whose header carries the session settings:
//
//	version       protocol version
//	founder       default "-"
//	title
//	password      hash, or a plain password (drawpile-srv warns and hashes it)
//	opword        likewise
//	maxUserCount  ≤ 0 → 25, else clamped to 1–255
//	nsfm persistent preserveChat deputies authOnly idleOverride allowWeb
//	invites unlisted   booleans: "" and "false" (any case) are false, other
//	              strings true; JSON numbers ≠ 0 and true are true
//	announce      list-server URL

// Template is a session template's settings, read from its header.
type Template struct {
	Alias   string
	Path    string
	ModTime time.Time
	Header  protocol.RecordingHeader
	Text    bool // a .dptxt file

	Version  string
	Founder  string
	Title    string
	Password string // as written: see PasswordIsHash
	Opword   string
	MaxUsers int
	Flags    Flags
	Announce string
}

// ErrTemplate is matched by errors about a template file that cannot be
// used.
var ErrTemplate = errors.New("sessionfile: unusable template")

// ValidAlias reports whether s is a session alias ("vanity id"): 1–32
// characters of [A-Za-z0-9-] that do not themselves parse as a UUID or a
// ULID (server.md §2.4).
func ValidAlias(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return !looksLikeUUID(s) && !looksLikeULID(s)
}

func looksLikeUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range []byte(s) {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !isHex(c) {
			return false
		}
	}
	return true
}

func looksLikeULID(s string) bool {
	const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZabcdefghjkmnpqrstvwxyz"
	if len(s) != 26 || s[0] > '7' {
		return false
	}
	for _, c := range []byte(s) {
		if !strings.ContainsRune(crockford, rune(c)) {
			return false
		}
	}
	return true
}

// PasswordIsHash reports whether a template password is in one of the
// hash formats drawpile-srv accepts (plain;, s+sha1;, pbkdf2;, sodium;);
// other values are plain passwords that the server must hash.
func PasswordIsHash(p string) bool {
	for _, prefix := range []string{"plain;", "s+sha1;", "pbkdf2;", "sodium;"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// templateAlias returns the alias a template file name stands for and
// whether the name is one the template directory considers.
func templateAlias(name string) (string, bool) {
	alias, rest, ok := strings.Cut(name, ".") // QFileInfo::baseName
	if !ok {
		return "", false
	}
	for _, ext := range []string{"dprec", "dptxt"} {
		if rest == ext || strings.HasSuffix(rest, "."+ext) || strings.HasPrefix(rest, ext+".") || strings.Contains(rest, "."+ext+".") {
			return alias, true
		}
	}
	return "", false
}

// ReadTemplate reads a template's header. The alias comes from the file
// name.
func ReadTemplate(path string) (*Template, error) {
	alias, ok := templateAlias(filepath.Base(path))
	if !ok || !ValidAlias(alias) {
		return nil, fmt.Errorf("%w %s: file name is not <alias>.dprec or <alias>.dptxt with a valid alias", ErrTemplate, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(f)
	t := &Template{Alias: alias, Path: path, ModTime: st.ModTime()}
	if magic, _ := br.Peek(len(protocol.RecordingMagic)); string(magic) == protocol.RecordingMagic {
		rr, err := protocol.NewRecordingReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w %s: %v", ErrTemplate, path, err)
		}
		t.Header = rr.Header()
	} else {
		tr := protocol.NewTextReader(br)
		fields, err := tr.Header()
		if err != nil {
			return nil, fmt.Errorf("%w %s: %v", ErrTemplate, path, err)
		}
		t.Header = protocol.RecordingHeaderFromText(fields)
		t.Text = true
	}
	t.Version = t.Header.Version()
	v, err := parseVersion(t.Version)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrTemplate, path, err)
	}
	// Text recordings are always in the current layout: Drawpile plays a
	// dptxt of the current major version (any minor) and refuses others.
	if cur, _ := parseVersion(protocol.ProtocolVersion); t.Text && v[1] != cur[1] {
		return nil, fmt.Errorf("%w %s: text recordings must be dp:4.%d.x, not %q", ErrTemplate, path, cur[1], t.Version)
	}
	t.Founder = t.headerString("founder")
	if t.Founder == "" {
		t.Founder = "-"
	}
	t.Title = t.headerString("title")
	t.Password = t.headerString("password")
	t.Opword = t.headerString("opword")
	t.Announce = t.headerString("announce")
	t.MaxUsers = t.headerInt("maxUserCount")
	if t.MaxUsers <= 0 {
		t.MaxUsers = 25
	}
	t.MaxUsers = min(t.MaxUsers, 255)
	for key, flag := range map[string]Flags{"nsfm": Nsfm, "persistent": Persistent, "preserveChat": PreserveChat,
		"deputies": Deputies, "authOnly": AuthOnly, "idleOverride": IdleOverride, "allowWeb": AllowWeb,
		"invites": Invites, "unlisted": Unlisted} {
		if t.headerBool(key) {
			t.Flags |= flag
		}
	}
	return t, nil
}

func (t *Template) headerString(key string) string {
	if !t.Header.IsString(key) {
		return ""
	}
	v, _ := t.Header.Get(key)
	return v
}

// headerInt follows drawpile-srv: strings via QString::toInt (0 if not an
// integer), numbers truncated.
func (t *Template) headerInt(key string) int {
	v, ok := t.Header.Get(key)
	if !ok {
		return 0
	}
	if t.Header.IsString(key) {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil {
			return 0
		}
		return int(n)
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0
	}
	return int(max(min(f, 1<<31-1), -1<<31))
}

func (t *Template) headerBool(key string) bool {
	v, ok := t.Header.Get(key)
	if !ok {
		return false
	}
	if t.Header.IsString(key) {
		return v != "" && !strings.EqualFold(v, "false")
	}
	switch v {
	case "true":
		return true
	case "false", "null":
		return false
	}
	f, err := strconv.ParseFloat(v, 64)
	return err == nil && f != 0
}

// Frames reads the template's messages as frames (dptxt messages are
// encoded in the dp:4.25.1 layout; .dprec frames are returned as stored).
// A dptxt line that does not parse is an error naming the line.
func (t *Template) Frames() ([]protocol.Frame, error) {
	f, err := os.Open(t.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var out []protocol.Frame
	if !t.Text {
		rr, err := protocol.NewRecordingReader(br)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", t.Path, err)
		}
		for {
			fr, err := rr.ReadFrame()
			if err == io.EOF {
				return out, nil
			}
			if err != nil {
				return nil, fmt.Errorf("template %s: %w", t.Path, err)
			}
			out = append(out, fr.Clone())
		}
	}
	layout := protocol.Layout425
	tr := protocol.NewTextReader(br)
	for {
		ctx, m, err := tr.ReadMessage()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", t.Path, err)
		}
		fr, err := protocol.EncodeFrame(ctx, m, layout)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", t.Path, err)
		}
		out = append(out, fr)
	}
}

// JournalState returns the journal state a session instantiated from the
// template starts with (founder, title, flags, max users clamped to 254,
// password hashes when they are hashes — plain passwords are left for the
// caller to hash —, announcement).
func (t *Template) JournalState() State {
	s := NewState()
	s.Founder = t.Founder
	s.Title = oneLine(t.Title)
	s.MaxUsers = min(max(t.MaxUsers, 1), 254)
	s.Flags = t.Flags
	if PasswordIsHash(t.Password) {
		s.Password = t.Password
	}
	if PasswordIsHash(t.Opword) {
		s.Opword = t.Opword
	}
	if t.Announce != "" {
		s.Announce = []string{oneLine(t.Announce)}
	}
	return s
}

// ScanTemplates reads the headers of every template in dir, sorted by
// alias. Files that cannot be used are logged with their name and skipped;
// when two files share an alias the first in name order wins. The error is
// non-nil only when dir cannot be read.
func ScanTemplates(dir string, logger *slog.Logger) ([]*Template, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("scan templates: %w", err)
	}
	var out []*Template
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		alias, ok := templateAlias(e.Name())
		if !ok || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if !ValidAlias(alias) {
			logger.Warn("skipping template: file name is not a valid alias", "file", path)
			continue
		}
		if slices.ContainsFunc(out, func(t *Template) bool { return t.Alias == alias }) {
			logger.Warn("skipping template: alias already used by another file", "file", path, "alias", alias)
			continue
		}
		t, err := ReadTemplate(path)
		if err != nil {
			logger.Warn("skipping template", "file", path, "err", err)
			continue
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *Template) int { return strings.Compare(a.Alias, b.Alias) })
	return out, nil
}

// RecordPath expands a --record path for a session (server.md §2.10): a
// leading "~/" becomes home; an existing directory gets the pattern
// "%d %t session %i.dprec"; %d is the date (yyyy-MM-dd), %t the time
// (HH.mm.ss), %i the session id and %a its alias or, without one, its id.
// The directory is created, and the name made unique like drawpile-srv's
// ("name (1).dprec", …).
func RecordPath(pattern, home string, now time.Time, id, alias string) (string, error) {
	if pattern == "" {
		return "", errors.New("sessionfile: empty recording path")
	}
	if rest, ok := strings.CutPrefix(pattern, "~/"); ok {
		pattern = filepath.Join(home, rest)
	}
	if st, err := os.Stat(pattern); err == nil && st.IsDir() {
		pattern = filepath.Join(pattern, "%d %t session %i.dprec")
	}
	if alias == "" {
		alias = id
	}
	path := strings.NewReplacer("%d", now.Format("2006-01-02"), "%t", now.Format("15.04.05"),
		"%i", id, "%a", alias).Replace(pattern)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("recording directory: %w", err)
	}
	return uniquePath(path, ".dprec"), nil
}

// uniquePath mirrors drawpile-srv's makeFilenameUnique: if path exists, try
// "base (1).ext", "base (2).ext", ….
func uniquePath(path, ext string) string {
	if _, err := os.Stat(path); err != nil {
		return path
	}
	dir, name := filepath.Split(path)
	base, e := name, ext[1:]
	if i := strings.LastIndex(strings.ToLower(name), ext); i > 0 {
		base, e = name[:i], name[i+1:]
	}
	for n := 1; ; n++ {
		p := filepath.Join(dir, fmt.Sprintf("%s (%d).%s", base, n, e))
		if _, err := os.Stat(p); err != nil {
			return p
		}
	}
}

// ServerRecordingHeader returns the header drawpile-srv writes on --record
// recordings: {"version":…,"server-recording":"true"}.
func ServerRecordingHeader(version string) protocol.RecordingHeader {
	h := protocol.NewRecordingHeader(protocol.HeaderVersion, protocol.ProtocolVersion, "server-recording", "true")
	if version != "" {
		h.Set(protocol.HeaderVersion, version)
	}
	return h
}

package store

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Proxy room codes (a Drawbridge extension): an operator's short code for
// a session on an upstream Drawpile server, used by the bridge's proxy
// mode (/join?room=CODE). The store keeps only code → target text; the
// bridge validates targets (syntax, upstream allowlist).
//
//	database mode   table drawbridge_proxyrooms(code, target), created on
//	                first use; drawpile-srv ignores tables it does not know
//	config file     section [proxyRooms], lines CODE=host[:port]/session;
//	                read-only like the rest of the file (ErrReadOnly)
//	memory          ErrUnsupported: the caller keeps rooms in memory

// ProxyRoom is a stored room code.
type ProxyRoom struct {
	Code   string // as entered; codes compare case-insensitively
	Target string // host[:port]/session
}

// Bounds of stored rooms (validated before anything is written).
const (
	maxProxyRoomCode   = 64
	maxProxyRoomTarget = 512
	maxProxyRooms      = 10000
)

// checkProxyRoom validates the shape the store relies on: one line, no
// '=' in the code, bounded lengths.
func checkProxyRoom(code, target string) error {
	switch {
	case code == "" || len(code) > maxProxyRoomCode || strings.ContainsAny(code, "= \t\r\n[]#"):
		return fmt.Errorf("%w: room code %q", ErrInvalid, code)
	case target == "" || len(target) > maxProxyRoomTarget || strings.ContainsAny(target, " \t\r\n"):
		return fmt.Errorf("%w: room target %q", ErrInvalid, target)
	}
	return nil
}

// ProxyRooms returns the stored room codes, sorted by code.
func (s *Store) ProxyRooms() ([]ProxyRoom, error) {
	var rooms []ProxyRoom
	var err error
	switch s.mode {
	case ModeDatabase:
		rooms, err = s.db.proxyRooms()
	case ModeConfigFile:
		rooms, err = readConfigProxyRooms(s.path)
	default:
		return nil, ErrUnsupported
	}
	sort.Slice(rooms, func(i, j int) bool { return strings.ToLower(rooms[i].Code) < strings.ToLower(rooms[j].Code) })
	return rooms, err
}

// SetProxyRoom adds or replaces the room code (case-insensitive match).
func (s *Store) SetProxyRoom(code, target string) error {
	if err := checkProxyRoom(code, target); err != nil {
		return err
	}
	switch s.mode {
	case ModeDatabase:
		return s.db.setProxyRoom(code, target)
	case ModeConfigFile:
		return ErrReadOnly
	}
	return ErrUnsupported
}

// DeleteProxyRoom removes the room code; ErrNotFound if there is none.
func (s *Store) DeleteProxyRoom(code string) error {
	switch s.mode {
	case ModeDatabase:
		return s.db.deleteProxyRoom(code)
	case ModeConfigFile:
		return ErrReadOnly
	}
	return ErrUnsupported
}

const proxyRoomsTable = `create table if not exists drawbridge_proxyrooms (
	code text primary key collate nocase,
	target text not null
)`

func (d *dbBackend) proxyRooms() ([]ProxyRoom, error) {
	if _, err := d.db.Exec(proxyRoomsTable); err != nil {
		return nil, d.wrap("create drawbridge_proxyrooms", err)
	}
	rows, err := d.db.Query("select code, target from drawbridge_proxyrooms limit ?", maxProxyRooms)
	if err != nil {
		return nil, d.wrap("read drawbridge_proxyrooms", err)
	}
	defer rows.Close()
	var out []ProxyRoom
	for rows.Next() {
		var code, target any
		if err := rows.Scan(&code, &target); err != nil {
			return nil, d.wrap("read drawbridge_proxyrooms", err)
		}
		out = append(out, ProxyRoom{Code: asString(code), Target: asString(target)})
	}
	return out, d.wrap("read drawbridge_proxyrooms", rows.Err())
}

func (d *dbBackend) setProxyRoom(code, target string) error {
	if _, err := d.db.Exec(proxyRoomsTable); err != nil {
		return d.wrap("create drawbridge_proxyrooms", err)
	}
	_, err := d.db.Exec("insert into drawbridge_proxyrooms (code, target) values (?, ?) on conflict(code) do update set code = excluded.code, target = excluded.target", code, target)
	return d.wrap("write drawbridge_proxyrooms", err)
}

func (d *dbBackend) deleteProxyRoom(code string) error {
	if _, err := d.db.Exec(proxyRoomsTable); err != nil {
		return d.wrap("create drawbridge_proxyrooms", err)
	}
	res, err := d.db.Exec("delete from drawbridge_proxyrooms where code = ?", code)
	if err != nil {
		return d.wrap("delete drawbridge_proxyrooms", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return ErrNotFound
	}
	return nil
}

// readConfigProxyRooms reads the [proxyRooms] section of the config file
// (the rest of the file is the fileBackend's). Malformed lines are
// skipped; the bridge reports targets it cannot use.
func readConfigProxyRooms(path string) ([]ProxyRoom, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("store: read %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("store: read %s: %w", path, err)
	}
	if st.Size() > maxConfigFileSize {
		return nil, fmt.Errorf("store: %s is larger than %d bytes", path, maxConfigFileSize)
	}
	data := make([]byte, 0, st.Size())
	buf := bytes.NewBuffer(data)
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, fmt.Errorf("store: read %s: %w", path, err)
	}
	var out []ProxyRoom
	in := false
	sc := bufio.NewScanner(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\xef\xbb\xbf"))))
	sc.Buffer(make([]byte, 0, 4096), maxConfigFileSize)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			in = strings.EqualFold(line, "[proxyrooms]")
			continue
		}
		if !in || len(out) >= maxProxyRooms {
			continue
		}
		code, target, ok := strings.Cut(line, "=")
		code, target = strings.TrimSpace(code), strings.TrimSpace(target)
		if !ok || checkProxyRoom(code, target) != nil {
			continue
		}
		out = append(out, ProxyRoom{Code: code, Target: target})
	}
	return out, sc.Err()
}

package webui

import (
	"net/url"
	"strings"
)

// MaxRoomCode bounds the length of a room code accepted from user input.
const MaxRoomCode = 32

// ParseRoomLink extracts the room code and the optional password from what
// a user typed or pasted into the join box: a bare code ("k7qx2m"), a path
// ("/r/K7QX2M") or a link ("https://bridge.example/r/K7QX2M#secret"). The
// code is upper-cased and may contain only letters, digits, '-' and '_';
// anything else yields "". The password is the URL fragment, unescaped.
func ParseRoomLink(s string) (code, password string) {
	s = strings.TrimSpace(s)
	if len(s) > 2048 {
		return "", ""
	}
	if i := strings.IndexByte(s, '#'); i >= 0 {
		password, s = s[i+1:], s[:i]
		if p, err := url.PathUnescape(password); err == nil {
			password = p
		}
	}
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndex(s, "/r/"); i >= 0 {
		s = s[i+3:]
	} else if strings.Contains(s, "/") {
		return "", ""
	}
	s = strings.TrimSuffix(s, "/")
	if s == "" || len(s) > MaxRoomCode {
		return "", ""
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "", ""
		}
	}
	return strings.ToUpper(s), password
}

// RoomCode is ParseRoomLink without the password.
func RoomCode(s string) string {
	c, _ := ParseRoomLink(s)
	return c
}

// ValidSystemID reports whether s is a Drawpile system id: 32 hex digits
// (servers reject other forms).
func ValidSystemID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return true
}

// SystemIDFrom formats 16 random bytes as a system id.
func SystemIDFrom(b [16]byte) string {
	const hex = "0123456789abcdef"
	out := make([]byte, 32)
	for i, v := range b {
		out[2*i], out[2*i+1] = hex[v>>4], hex[v&15]
	}
	return string(out)
}

// FragmentPassword decodes a password carried in a URL fragment (the part
// after '#', which never reaches the server).
func FragmentPassword(fragment string) string {
	if p, err := url.PathUnescape(fragment); err == nil {
		return p
	}
	return fragment
}

package webui

import (
	"sort"
	"strings"
)

// User is one participant as the client knows them.
type User struct {
	ID      uint8
	Name    string
	Op      bool // session operator (SessionOwner list)
	Trusted bool // TrustedUsers list
	Locked  bool // UserACL list: their drawing is ignored
	Muted   bool // sessionconf "muted" list: their chat is dropped
	// Cursor is the last MovePointer position in canvas pixels; CursorTick
	// the game tick it arrived (0 = never).
	Cursor     Vec
	CursorTick int
	// Laser is true while a laser trail is on; LaserColor its colour.
	Laser      bool
	LaserColor Color
}

// Role returns "op", "trusted" or "".
func (u User) Role() string {
	switch {
	case u.Op:
		return "op"
	case u.Trusted:
		return "trusted"
	}
	return ""
}

// Users tracks the participants of a session from the Join, Leave,
// SessionOwner, TrustedUsers, UserACL, MovePointer and LaserTrail messages
// (the caller decodes them). The zero value is empty and ready.
type Users struct {
	m map[uint8]*User
	// Version increases on every change of the list or a role, so the UI
	// redraws the list only when needed (cursor moves do not count).
	Version int
}

func (us *Users) get(id uint8) *User {
	if us.m == nil {
		us.m = map[uint8]*User{}
	}
	u := us.m[id]
	if u == nil {
		u = &User{ID: id}
		us.m[id] = u
	}
	return u
}

// Join records a user joining (or a rejoin under the same id).
func (us *Users) Join(id uint8, name string) {
	u := us.get(id)
	*u = User{ID: id, Name: name, Op: u.Op, Trusted: u.Trusted, Locked: u.Locked, Muted: u.Muted}
	us.Version++
}

// Leave removes a user.
func (us *Users) Leave(id uint8) {
	if _, ok := us.m[id]; ok {
		delete(us.m, id)
		us.Version++
	}
}

// SetOps, SetTrusted and SetLocked replace the role lists.
func (us *Users) SetOps(ids []uint8)     { us.setFlag(ids, func(u *User, on bool) { u.Op = on }) }
func (us *Users) SetTrusted(ids []uint8) { us.setFlag(ids, func(u *User, on bool) { u.Trusted = on }) }
func (us *Users) SetLocked(ids []uint8)  { us.setFlag(ids, func(u *User, on bool) { u.Locked = on }) }
func (us *Users) SetMuted(ids []uint8)   { us.setFlag(ids, func(u *User, on bool) { u.Muted = on }) }

func (us *Users) setFlag(ids []uint8, set func(*User, bool)) {
	in := map[uint8]bool{}
	for _, id := range ids {
		in[id] = true
	}
	for _, u := range us.m {
		set(u, in[u.ID])
	}
	us.Version++
}

// Move records a MovePointer (x, y in quarter pixels) at tick.
func (us *Users) Move(id uint8, x, y int32, tick int) {
	if u, ok := us.m[id]; ok {
		u.Cursor, u.CursorTick = Vec{float64(x) / 4, float64(y) / 4}, tick
	}
}

// SetLaser turns a user's laser trail on (persistence ≠ 0) or off.
func (us *Users) SetLaser(id uint8, on bool, c Color) {
	if u, ok := us.m[id]; ok {
		u.Laser, u.LaserColor = on, c
	}
}

// Name returns the user's name, or "user N" when unknown.
func (us *Users) Name(id uint8) string {
	if u, ok := us.m[id]; ok && u.Name != "" {
		return u.Name
	}
	return "user " + itoa(int(id))
}

// List returns the users sorted by name (case-insensitive), then id.
func (us *Users) List() []User {
	out := make([]User, 0, len(us.m))
	for _, u := range us.m {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := strings.ToLower(out[i].Name), strings.ToLower(out[j].Name)
		if a != b {
			return a < b
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Cursors returns the users whose cursor moved within the last maxAge
// ticks before now, excluding self.
func (us *Users) Cursors(self uint8, now, maxAge int) []User {
	var out []User
	for _, u := range us.m {
		if u.ID != self && u.CursorTick > 0 && now-u.CursorTick <= maxAge {
			out = append(out, *u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [4]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

package bridge

// Proxy room codes editable at run time (admin API /api/proxyrooms, see
// internal/admin/proxyrooms.go). Rooms come from --proxy-room (fixed) and
// from the configuration store: the database (read-write), the config
// file's [proxyRooms] section (read-only) or, without either, memory
// (lost at restart). Every room's upstream must be on the --upstream
// allowlist, checked when it is added and when stored rooms are loaded.

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"drawbridge/internal/admin"
	"drawbridge/internal/store"
	"drawbridge/internal/wsproxy"
	"drawbridge/internal/wsproxy/links"
)

// Sources of rooms (admin.ProxyRoom.Source).
const (
	RoomSourceCLI    = "cli"
	RoomSourceMemory = "memory"
)

// RoomStore persists rooms; *store.Store implements it.
type RoomStore interface {
	ProxyRooms() ([]store.ProxyRoom, error)
	SetProxyRoom(code, target string) error
	DeleteProxyRoom(code string) error
	Mode() store.Mode
}

var _ RoomStore = (*store.Store)(nil)

// roomEntry is a room and where it is defined.
type roomEntry struct {
	links.Room
	source string
}

// room returns the room with this code (case-insensitive).
func (h *ProxyHandler) room(code string) (links.Room, bool) {
	h.roomsMu.RLock()
	defer h.roomsMu.RUnlock()
	e, ok := h.rooms[strings.ToLower(code)]
	return e.Room, ok
}

// parseRoomTarget validates code=target against the syntax and the
// allowlist.
func (h *ProxyHandler) parseRoomTarget(code, target string) (links.Room, error) {
	rm, err := links.ParseRoom(code + "=" + target)
	if err != nil || strings.ContainsRune(code, '=') {
		return links.Room{}, fmt.Errorf("%w: %v", admin.ErrProxyRoomInvalid, err)
	}
	rm.Link.Password = "" // never stored nor echoed
	t := wsproxy.Target{Host: rm.Link.Host, Port: rm.Link.Port}
	if !h.proxy.Allows(t) {
		return links.Room{}, fmt.Errorf("%w: %s is not an allowed upstream (--upstream)", admin.ErrProxyRoomInvalid, t)
	}
	return rm, nil
}

// roomTarget is the canonical stored form of a room's target.
func roomTarget(l links.Link) string { return l.HostPort() + "/" + l.SessionTarget() }

// loadStoredRooms adds the rooms of st (nil: none, memory only). A stored
// room that is invalid, off the allowlist or shadowed by --proxy-room is
// skipped with a warning.
func (h *ProxyHandler) loadStoredRooms(st RoomStore) {
	if st == nil {
		return
	}
	stored, err := st.ProxyRooms()
	if errors.Is(err, store.ErrUnsupported) {
		return // memory mode
	}
	h.persist = st
	if err != nil {
		h.logger.Error("proxy rooms: cannot read the stored rooms", "err", err)
		return
	}
	h.roomsMu.Lock()
	defer h.roomsMu.Unlock()
	for _, sr := range stored {
		rm, err := h.parseRoomTarget(sr.Code, sr.Target)
		if err != nil {
			h.logger.Warn("proxy rooms: skipping a stored room", "code", sr.Code, "target", sr.Target, "err", err)
			continue
		}
		code := strings.ToLower(rm.Code)
		if h.cli[code] {
			h.logger.Warn("proxy rooms: stored room shadowed by --proxy-room", "code", sr.Code)
			continue
		}
		h.rooms[code] = roomEntry{Room: rm, source: st.Mode().String()}
	}
}

func proxyRoomInfo(e roomEntry) admin.ProxyRoom {
	return admin.ProxyRoom{Code: e.Code, Target: roomTarget(e.Link), Host: e.Link.Host, Port: e.Link.Port,
		Session: e.Link.SessionTarget(), Source: e.source}
}

// Rooms lists every room, sorted by code.
func (h *ProxyHandler) Rooms() []admin.ProxyRoom {
	h.roomsMu.RLock()
	out := make([]admin.ProxyRoom, 0, len(h.rooms))
	for _, e := range h.rooms {
		out = append(out, proxyRoomInfo(e))
	}
	h.roomsMu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Code) < strings.ToLower(out[j].Code) })
	return out
}

// PutRoom adds or replaces a room, persisting it first when a store is
// attached. Rooms from --proxy-room cannot be replaced.
func (h *ProxyHandler) PutRoom(code, target string) (admin.ProxyRoom, error) {
	rm, err := h.parseRoomTarget(code, target)
	if err != nil {
		return admin.ProxyRoom{}, err
	}
	key := strings.ToLower(rm.Code)
	h.roomsMu.Lock()
	defer h.roomsMu.Unlock()
	if h.cli[key] {
		return admin.ProxyRoom{}, fmt.Errorf("%w: %s", admin.ErrProxyRoomFixed, rm.Code)
	}
	src := RoomSourceMemory
	if h.persist != nil {
		if err := h.persist.SetProxyRoom(rm.Code, roomTarget(rm.Link)); err != nil {
			return admin.ProxyRoom{}, err
		}
		src = h.persist.Mode().String()
	}
	e := roomEntry{Room: rm, source: src}
	h.rooms[key] = e
	return proxyRoomInfo(e), nil
}

// DeleteRoom removes a room (not one from --proxy-room). Relays already
// running through it are not interrupted.
func (h *ProxyHandler) DeleteRoom(code string) error {
	key := strings.ToLower(code)
	h.roomsMu.Lock()
	defer h.roomsMu.Unlock()
	if h.cli[key] {
		return fmt.Errorf("%w: %s", admin.ErrProxyRoomFixed, code)
	}
	e, ok := h.rooms[key]
	if !ok {
		return admin.ErrProxyRoomNotFound
	}
	if h.persist != nil {
		if err := h.persist.DeleteProxyRoom(e.Code); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	delete(h.rooms, key)
	return nil
}

// proxyRoomsAPI gives the admin API the rooms of the bridge's mounted
// proxy handler (looked up per call: the admin listener starts first).
type proxyRoomsAPI struct{ b *Bridge }

func (p proxyRoomsAPI) handler() (*ProxyHandler, error) {
	h := p.b.proxy.Load()
	if h == nil {
		return nil, admin.ErrProxyDisabled
	}
	return h, nil
}

func (p proxyRoomsAPI) ProxyRooms() ([]admin.ProxyRoom, error) {
	h, err := p.handler()
	if err != nil {
		return []admin.ProxyRoom{}, nil
	}
	return h.Rooms(), nil
}

func (p proxyRoomsAPI) PutProxyRoom(code, target string) (admin.ProxyRoom, error) {
	h, err := p.handler()
	if err != nil {
		return admin.ProxyRoom{}, err
	}
	return h.PutRoom(code, target)
}

func (p proxyRoomsAPI) DeleteProxyRoom(code string) error {
	h, err := p.handler()
	if err != nil {
		return err
	}
	return h.DeleteRoom(code)
}

package session

// This file holds drawpile-srv's session policies that cut across the
// login and the session code (server.md §1.2 settings 33, 43, 46, 53, 55,
// §4.5, §4.9): ghost moderators, password-dependent browser access,
// session-less connection cleanup, host name matching and encrypted ban
// export.

import (
	"bytes"
	"compress/zlib"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strings"
	"time"

	"golang.org/x/crypto/nacl/secretbox"

	"drawbridge/protocol"
)

// setSess makes s (nil = none) c's session and records when c was left
// without one (SessionLessClientLingerTime).
func (c *Client) setSess(s *Session) {
	if s != nil {
		c.sessionless.Store(0)
	} else if c.sess.Load() != nil {
		c.sessionless.Store(time.Now().UnixNano())
	}
	c.sess.Store(s)
}

// sessionLessKickMsg is the kicker name of a session-less cleanup kick, as
// drawpile-srv words it.
const sessionLessKickMsg = "the server (lingering without session)"

// kickSessionLess disconnects the connections that have been without a
// session for SessionLessClientLingerTime at now (server.md §2.6). It is
// called by the cleanup goroutine.
func (srv *Server) kickSessionLess(now time.Time) {
	linger := srv.settings().SessionLessClientLingerTime
	if linger <= 0 {
		return
	}
	srv.mu.Lock()
	var kick []*Client
	for c := range srv.clients {
		since := c.sessionless.Load()
		if since != 0 && c.sess.Load() == nil && now.Sub(time.Unix(0, since)) >= linger {
			kick = append(kick, c)
		}
	}
	srv.mu.Unlock()
	for _, c := range kick {
		if c.isClosing() {
			continue
		}
		c.Logger().Info("kicking connection without a session", "linger", linger)
		c.disconnect(disconnectKick, sessionLessKickMsg)
	}
}

// normalizeHost is the form host names are compared in: trimmed, lower
// case, without a trailing dot. drawpile-srv compares the IDNA (punycode)
// form case-insensitively; we have no IDNA table, so an internationalized
// name matches only when both sides use the same form (both punycode, or
// both Unicode, compared with Unicode case folding via strings.ToLower).
func normalizeHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
}

// isGhost reports whether c joined as a ghost moderator (§4.9). The login
// grants GHOST only to moderators while enableGhosts is on.
func (c *Client) isGhost() bool { return c.flags["GHOST"] && c.flags["MOD"] }

// ghostModeMessage is what a ghost is told when it joins (upstream text).
const ghostModeMessage = "GHOST MODE. Your presence is not overtly announced, chat messages are treated as server alerts. " +
	"You are not hidden though, users can see your presence in the event log and taking administrative actions will show your name in chat."

// presentCountLocked is the number of members that are not ghosts.
func (s *Session) presentCountLocked() int {
	n := 0
	for _, u := range s.users {
		if !u.isGhost() {
			n++
		}
	}
	return n
}

// effectivelyEmptyLocked: no member other than ghosts.
func (s *Session) effectivelyEmptyLocked() bool { return s.presentCountLocked() == 0 }

// nonGhostOpLocked reports whether a member other than a ghost is an
// operator (drawpile-srv's ensureOperatorExists ignores ghosts).
func (s *Session) nonGhostOpLocked() bool {
	for _, u := range s.users {
		if u.op && !u.isGhost() {
			return true
		}
	}
	return false
}

// kickWebUsersLocked disconnects the browser users (except by, moderators
// and users who came with an invite) after the password of a
// password-dependent web session was removed. by may be nil (admin).
func (s *Session) kickWebUsersLocked(by *Client) {
	var kick []*Client
	for _, u := range s.users {
		if u != by && !u.flags["MOD"] && u.info.Browser && !u.viaInvite {
			kick = append(kick, u)
		}
	}
	if len(kick) == 0 {
		return
	}
	byName := "a server administrator"
	var p map[string]any
	if by != nil {
		byName, p = by.name, map[string]any{"by": by.name}
	}
	s.noticeLocked(protocol.ReplyAlert, "kickwebusers", "Session password removed by "+byName+
		". This server doesn't allow web browsers in public sessions, they will be disconnected.", p)
	msg := "Web browser clients are only allowed on sessions with a password, but " + byName + " removed it."
	for _, u := range kick {
		u.disconnect(disconnectShutdown, msg)
		s.detachLocked(u, nil)
	}
}

func banImpExError(msg, key string) protocol.Frame {
	return jsonFrame(protocol.BanImpEx{Type: protocol.ReplyBanImpEx, Error: msg, T: key})
}

// banExportLocked serializes the ban list: JSON {v:1,l:[…]} (§4.5).
func (s *Session) banExportJSONLocked() []byte {
	ex := banExport{V: 1, L: []banExportItem{}}
	for _, b := range s.bans {
		ex.L = append(ex.L, banExportItem{U: b.Name, I: b.Addr, A: b.AuthID, S: b.SID, B: b.By})
	}
	js, _ := json.Marshal(ex)
	return js
}

// qCompress compresses like Qt's qCompress: u32 BE length, then zlib.
func qCompress(data []byte) []byte {
	var buf bytes.Buffer
	_ = binary.Write(&buf, binary.BigEndian, uint32(len(data)))
	zw := zlib.NewWriter(&buf)
	_, _ = zw.Write(data)
	_ = zw.Close()
	return buf.Bytes()
}

// maxBanImport bounds the decompressed size of an imported ban list.
const maxBanImport = 1 << 20

var errBadBanData = errors.New("invalid ban list data")

// qUncompress reverses qCompress, refusing more than maxBanImport bytes.
func qUncompress(raw []byte) ([]byte, error) {
	if len(raw) < 4 {
		return nil, errBadBanData
	}
	n := binary.BigEndian.Uint32(raw)
	if n > maxBanImport {
		return nil, errBadBanData
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw[4:]))
	if err != nil {
		return nil, errBadBanData
	}
	out, err := io.ReadAll(io.LimitReader(zr, int64(n)+1))
	if err != nil || len(out) != int(n) {
		return nil, errBadBanData
	}
	return out, nil
}

// encryptBans seals compressed ban data with key: "c<nonce b64>:<box b64>",
// the box being libsodium crypto_secretbox_easy's layout (tag, ciphertext).
func encryptBans(key *[32]byte, compressed []byte) (string, error) {
	var nonce [24]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return "", err
	}
	box := secretbox.Seal(nil, compressed, &nonce, key)
	return "c" + base64.StdEncoding.EncodeToString(nonce[:]) + ":" + base64.StdEncoding.EncodeToString(box), nil
}

var (
	plainBansRE = regexp.MustCompile(`^p([a-zA-Z0-9+/=]+)$`)
	cryptBansRE = regexp.MustCompile(`^c([a-zA-Z0-9+/=]+):([a-zA-Z0-9+/=]+)$`)
)

// decodeBanImport splits import data into nonce (nil for plain data) and
// payload, as drawpile-srv's decodeBanImport.
func decodeBanImport(in string) (nonce *[24]byte, payload []byte, ok bool) {
	if m := plainBansRE.FindStringSubmatch(in); m != nil {
		p, err := base64.StdEncoding.DecodeString(m[1])
		return nil, p, err == nil && len(p) > 0
	}
	m := cryptBansRE.FindStringSubmatch(in)
	if m == nil {
		return nil, nil, false
	}
	n, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil || len(n) != 24 {
		return nil, nil, false
	}
	p, err := base64.StdEncoding.DecodeString(m[2])
	if err != nil || len(p) < secretbox.Overhead {
		return nil, nil, false
	}
	nonce = new([24]byte)
	copy(nonce[:], n)
	return nonce, p, true
}

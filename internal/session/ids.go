package session

import (
	"crypto/rand"
	"encoding/binary"
	"regexp"
	"strings"
	"time"
)

// crockford is the ULID alphabet (Crockford base32), lowercase as
// drawpile-srv writes session ids.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// newULID returns a 26-character ULID: 48-bit millisecond time then 80
// random bits, big-endian, 5 bits per character.
func newULID(now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	b[0], b[1], b[2], b[3], b[4], b[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	_, _ = rand.Read(b[6:])
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var out [26]byte
	// 128 bits in 26 chars: the first char carries the top 3 bits.
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

var (
	ulidRE  = regexp.MustCompile(`^[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$`)
	uuidRE  = regexp.MustCompile(`^\{?[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}\}?$`)
	aliasRE = regexp.MustCompile(`^[A-Za-z0-9-]{1,32}$`)
)

// validAlias: 1–32 of [A-Za-z0-9-], not itself a UUID or ULID (§4.9).
func validAlias(a string) bool {
	return aliasRE.MatchString(a) && !ulidRE.MatchString(a) && !uuidRE.MatchString(a)
}

// roomCodeAlphabet has no look-alikes: no 0/O, 1/I/L.
const roomCodeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// RoomCodeLen is the length of room codes.
const RoomCodeLen = 6

// newRoomCode returns a random room code (uniqueness is the caller's job).
func newRoomCode() string {
	var b [RoomCodeLen]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = roomCodeAlphabet[int(b[i])%len(roomCodeAlphabet)]
	}
	return string(b[:])
}

// normalizeRoomCode upper-cases s and reports whether it has the shape of
// a room code.
func normalizeRoomCode(s string) (string, bool) {
	if len(s) != RoomCodeLen {
		return "", false
	}
	s = strings.ToUpper(s)
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(roomCodeAlphabet, rune(s[i])) {
			return "", false
		}
	}
	return s, true
}

// inviteAlphabet is the ULID alphabet, upper case, used for invite secrets.
const inviteAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

func newInviteSecret() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = inviteAlphabet[b[i]&31]
	}
	return string(b[:])
}

package sessionfile

// The spectator secret record (Drawbridge extension).
//
//	WATCHSECRET <secret>
//
// drawpile-srv's journal reader (FiledSession::load) warns about an
// unknown record and skips it, so a journal with this record stays
// loadable by drawpile-srv; the secret is simply not used there.

import "errors"

var errBadWatchSecret = errors.New("sessionfile: bad spectator secret")

// WatchSecretLen is the length of a spectator secret.
const WatchSecretLen = 12

// ValidWatchSecret reports whether s has the shape of a spectator secret:
// WatchSecretLen characters of [a-z0-9].
func ValidWatchSecret(s string) bool {
	if len(s) != WatchSecretLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// WatchSecret returns the journaled spectator secret ("" = none).
func (f *File) WatchSecret() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state.WatchSecret
}

// SetWatchSecret journals the spectator secret (a new one replaces the
// old one at the next load). It must satisfy ValidWatchSecret.
func (f *File) SetWatchSecret(secret string) error {
	if !ValidWatchSecret(secret) {
		return errBadWatchSecret
	}
	return f.update(func(s *State) bool { return s.WatchSecret != secret },
		func() []byte { return appendRecord(nil, "WATCHSECRET", secret) })
}

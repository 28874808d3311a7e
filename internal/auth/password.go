package auth

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Password hash formats understood by drawpile-srv (server.md §1.3). A hash
// is stored as text; the prefix up to the first ';' names the algorithm.
//
//	plain;<password>
//	s+sha1;<salt hex>;<hex(sha1(salt ‖ utf8 password))>
//	pbkdf2;1;<salt base64>;<base64(PBKDF2-HMAC-SHA512, 20000 rounds, 64 bytes)>
//	sodium;$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt b64>$<hash b64>
//	*<anything>   disabled: never matches (for accounts: a banned name)
//
// The empty hash means "no password": only the empty password matches it.
const (
	prefixPlain  = "plain;"
	prefixSHA1   = "s+sha1;"
	prefixPBKDF2 = "pbkdf2;"
	prefixSodium = "sodium;"

	pbkdf2Iterations = 20000
	pbkdf2KeyLen     = 64
	saltLen          = 32 // bytes of random salt for s+sha1 and pbkdf2

	// sodiumStrBytes is libsodium's crypto_pwhash_STRBYTES: the encoded
	// argon2 string (with its NUL) is shorter than this.
	sodiumStrBytes = 128
)

// Argon2Params are the cost parameters of an argon2id hash.
type Argon2Params struct {
	Time    uint32 // passes (libsodium "opslimit")
	Memory  uint32 // KiB (libsodium "memlimit" / 1024)
	Threads uint8  // lanes; libsodium always uses 1
	SaltLen int    // bytes
	KeyLen  int    // bytes
}

// InteractiveArgon2 are libsodium's crypto_pwhash_*_INTERACTIVE limits
// (opslimit 2, memlimit 64 MiB) with its fixed 16-byte salt and 32-byte
// output: what drawpile-srv's crypto_pwhash_str produces.
var InteractiveArgon2 = Argon2Params{Time: 2, Memory: 64 * 1024, Threads: 1, SaltLen: 16, KeyLen: 32}

// Limits applied to argon2 strings before any memory is allocated. They
// admit everything libsodium's "sensitive" preset produces (1 GiB, 4 passes)
// and reject absurd parameters from a hostile or corrupt hash.
const (
	maxArgon2Memory  = 1 << 20 // KiB = 1 GiB
	maxArgon2Time    = 32
	maxArgon2Threads = 64
	maxArgon2Salt    = 64
	maxArgon2Key     = 128
)

// ErrEmptyPassword is returned by HashPassword for the empty password; an
// empty password is stored as the empty hash.
var ErrEmptyPassword = errors.New("auth: empty password")

// HashError reports a malformed password hash.
type HashError struct {
	Reason string
}

func (e *HashError) Error() string { return "auth: bad password hash: " + e.Reason }

// IsValidHash reports whether hash is in a format CheckPassword can verify,
// with drawpile-srv's rules: "*…" is valid (disabled), "plain;" needs a
// non-empty password, "s+sha1;" exactly two ';', "pbkdf2;" exactly three,
// "sodium;" a non-empty string shorter than libsodium's maximum. The empty
// hash is not "valid" (it means no password at all).
func IsValidHash(hash string) bool {
	switch {
	case strings.HasPrefix(hash, "*"):
		return true
	case strings.HasPrefix(hash, prefixPlain):
		return len(hash) > len(prefixPlain)
	case strings.HasPrefix(hash, prefixSHA1):
		return strings.Count(hash, ";") == 2
	case strings.HasPrefix(hash, prefixPBKDF2):
		return strings.Count(hash, ";") == 3
	case strings.HasPrefix(hash, prefixSodium):
		return len(hash) > len(prefixSodium) && len(hash) < len(prefixSodium)+sodiumStrBytes
	}
	return false
}

// IsDisabledHash reports whether the hash starts with '*' (never matches; a
// banned account name in the [users] section or an admin-disabled password).
func IsDisabledHash(hash string) bool { return strings.HasPrefix(hash, "*") }

// CheckPassword reports whether password matches hash. The empty password
// matches the empty hash; a disabled ("*…"), malformed or unsupported hash
// never matches. Comparisons of derived keys are constant-time.
func CheckPassword(password, hash string) bool {
	if password == "" && hash == "" {
		return true
	}
	if !IsValidHash(hash) || IsDisabledHash(hash) {
		return false
	}
	switch {
	case strings.HasPrefix(hash, prefixPlain):
		return subtle.ConstantTimeCompare([]byte(password), []byte(hash[len(prefixPlain):])) == 1
	case strings.HasPrefix(hash, prefixSHA1):
		parts := strings.Split(hash, ";")
		salt, err1 := hex.DecodeString(parts[1])
		want, err2 := hex.DecodeString(parts[2])
		if err1 != nil || err2 != nil {
			return false
		}
		got := saltedSHA1(password, salt)
		return subtle.ConstantTimeCompare(got, want) == 1
	case strings.HasPrefix(hash, prefixPBKDF2):
		parts := strings.Split(hash, ";")
		if parts[1] != "1" {
			return false
		}
		salt, err1 := DecodeBase64Lenient(parts[2])
		want, err2 := DecodeBase64Lenient(parts[3])
		if err1 != nil || err2 != nil || len(want) == 0 {
			return false
		}
		got, err := pbkdf2.Key(sha512.New, password, salt, pbkdf2Iterations, pbkdf2KeyLen)
		if err != nil {
			return false
		}
		return subtle.ConstantTimeCompare(got, want) == 1
	case strings.HasPrefix(hash, prefixSodium):
		ok, err := verifyArgon2String(password, hash[len(prefixSodium):])
		return err == nil && ok
	}
	return false
}

// HashPassword returns a new "sodium;" argon2id hash of password with
// libsodium's interactive limits, the format drawpile-srv writes when built
// with libsodium. The empty password has no hash (ErrEmptyPassword).
func HashPassword(password string) (string, error) {
	return HashPasswordArgon2(password, InteractiveArgon2)
}

// HashPasswordArgon2 is HashPassword with explicit cost parameters (tests
// and benchmarks use cheap ones; production uses InteractiveArgon2).
func HashPasswordArgon2(password string, p Argon2Params) (string, error) {
	if password == "" {
		return "", ErrEmptyPassword
	}
	if err := p.validate(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: read random salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(p.KeyLen))
	return prefixSodium + encodeArgon2String("argon2id", p, salt, key), nil
}

// HashPasswordPlain returns a "plain;" hash (cleartext, as upstream's
// PLAINTEXT algorithm).
func HashPasswordPlain(password string) (string, error) {
	if password == "" {
		return "", ErrEmptyPassword
	}
	return prefixPlain + password, nil
}

// HashPasswordPBKDF2 returns a "pbkdf2;1;" hash with a fresh 32-byte salt.
func HashPasswordPBKDF2(password string) (string, error) {
	if password == "" {
		return "", ErrEmptyPassword
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: read random salt: %w", err)
	}
	key, err := pbkdf2.Key(sha512.New, password, salt, pbkdf2Iterations, pbkdf2KeyLen)
	if err != nil {
		return "", fmt.Errorf("auth: pbkdf2: %w", err)
	}
	return prefixPBKDF2 + "1;" + base64.StdEncoding.EncodeToString(salt) + ";" + base64.StdEncoding.EncodeToString(key), nil
}

// HashPasswordSHA1 returns a deprecated "s+sha1;" hash with a fresh 32-byte
// salt. Only for tests and interoperability; new hashes should be argon2id.
func HashPasswordSHA1(password string) (string, error) {
	if password == "" {
		return "", ErrEmptyPassword
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: read random salt: %w", err)
	}
	return prefixSHA1 + hex.EncodeToString(salt) + ";" + hex.EncodeToString(saltedSHA1(password, salt)), nil
}

func saltedSHA1(password string, salt []byte) []byte {
	h := sha1.New()
	h.Write(salt)
	h.Write([]byte(password))
	return h.Sum(nil)
}

func (p Argon2Params) validate() error {
	switch {
	case p.Time < 1 || p.Time > maxArgon2Time:
		return &HashError{Reason: "argon2 time out of range"}
	case p.Memory < 8*uint32(max(p.Threads, 1)) || p.Memory > maxArgon2Memory:
		return &HashError{Reason: "argon2 memory out of range"}
	case p.Threads < 1 || p.Threads > maxArgon2Threads:
		return &HashError{Reason: "argon2 parallelism out of range"}
	case p.SaltLen < 8 || p.SaltLen > maxArgon2Salt:
		return &HashError{Reason: "argon2 salt length out of range"}
	case p.KeyLen < 16 || p.KeyLen > maxArgon2Key:
		return &HashError{Reason: "argon2 hash length out of range"}
	}
	return nil
}

// argon2B64 is the PHC string encoding used by libsodium: standard alphabet,
// no padding.
var argon2B64 = base64.RawStdEncoding

func encodeArgon2String(alg string, p Argon2Params, salt, key []byte) string {
	return fmt.Sprintf("$%s$v=19$m=%d,t=%d,p=%d$%s$%s", alg, p.Memory, p.Time, p.Threads,
		argon2B64.EncodeToString(salt), argon2B64.EncodeToString(key))
}

// parseArgon2String decodes a libsodium crypto_pwhash_str string
// ("$argon2id$v=19$m=65536,t=2,p=1$salt$hash", or "$argon2i$…", which
// libsodium's verifier also accepts). Parameters are range-checked before
// anything is allocated for them.
func parseArgon2String(s string) (alg string, p Argon2Params, salt, key []byte, err error) {
	fields := strings.Split(s, "$")
	// "", alg, "v=19", "m=..,t=..,p=..", salt, hash
	if len(fields) != 6 || fields[0] != "" {
		return "", p, nil, nil, &HashError{Reason: "argon2 string has wrong number of fields"}
	}
	alg = fields[1]
	if alg != "argon2id" && alg != "argon2i" {
		return "", p, nil, nil, &HashError{Reason: "unsupported argon2 variant " + strconv.Quote(alg)}
	}
	if fields[2] != "v=19" {
		return "", p, nil, nil, &HashError{Reason: "unsupported argon2 version"}
	}
	var haveM, haveT, haveP bool
	for _, kv := range strings.Split(fields[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return "", p, nil, nil, &HashError{Reason: "bad argon2 parameter"}
		}
		n, perr := strconv.ParseUint(v, 10, 32)
		if perr != nil {
			return "", p, nil, nil, &HashError{Reason: "bad argon2 parameter " + k}
		}
		switch k {
		case "m":
			p.Memory, haveM = uint32(n), true
		case "t":
			p.Time, haveT = uint32(n), true
		case "p":
			if n > 255 {
				return "", p, nil, nil, &HashError{Reason: "argon2 parallelism out of range"}
			}
			p.Threads, haveP = uint8(n), true
		default:
			return "", p, nil, nil, &HashError{Reason: "unknown argon2 parameter " + strconv.Quote(k)}
		}
	}
	if !haveM || !haveT || !haveP {
		return "", p, nil, nil, &HashError{Reason: "missing argon2 parameter"}
	}
	if len(fields[4]) > argon2B64.EncodedLen(maxArgon2Salt) || len(fields[5]) > argon2B64.EncodedLen(maxArgon2Key) {
		return "", p, nil, nil, &HashError{Reason: "argon2 salt or hash too long"}
	}
	salt, err1 := argon2B64.DecodeString(fields[4])
	key, err2 := argon2B64.DecodeString(fields[5])
	if err1 != nil || err2 != nil {
		return "", p, nil, nil, &HashError{Reason: "bad argon2 base64"}
	}
	p.SaltLen, p.KeyLen = len(salt), len(key)
	if err := p.validate(); err != nil {
		return "", p, nil, nil, err
	}
	return alg, p, salt, key, nil
}

func verifyArgon2String(password, s string) (bool, error) {
	alg, p, salt, want, err := parseArgon2String(s)
	if err != nil {
		return false, err
	}
	var got []byte
	if alg == "argon2id" {
		got = argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(p.KeyLen))
	} else {
		got = argon2.Key([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(p.KeyLen))
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// DecodeBase64Lenient decodes standard or URL-safe base64 with or without
// padding and ignoring surrounding whitespace, the way Qt's
// QByteArray::fromBase64 accepts what drawpile tools produce.
func DecodeBase64Lenient(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

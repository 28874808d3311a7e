package auth

import (
	"errors"
	"strings"
	"testing"
)

// Vectors produced outside Go, so the verifier is checked against a second
// implementation:
//   - sodium: libsodium 1.0.18 crypto_pwhash_str / crypto_pwhash_argon2i_str
//     called through Python ctypes (ops/mem as in each string).
//   - s+sha1: Python hashlib.sha1(salt + b"sha1pass"), salt 00112233…eeff.
//   - pbkdf2: Python hashlib.pbkdf2_hmac("sha512", b"pbk", bytes(range(32)),
//     20000, 64), base64.
const (
	sodiumInteractive = "sodium;$argon2id$v=19$m=65536,t=2,p=1$P2qHdMf1d5yy/aPtJpxYSg$SWVqw96f0c6OaZ9KyNkqP7VmryZbUiIrXRlyGVpMYvI"                                       // "sodiumpass"
	sodiumSmall       = "sodium;$argon2id$v=19$m=8192,t=1,p=1$u4U5l85Xms1yKvgWmV2edg$gs2jY/PCzkjFIl5qaxEeLkelfbXGmU4h7jplV4Rzjmc"                                        // "hunter2"
	sodiumUnicode     = "sodium;$argon2id$v=19$m=2048,t=3,p=1$3ddRVBff34PJJfxr35N5LA$6DOE2rVC08FUAplOK3jGBNWrsv4bqUyG6x/Jr0ZqHak"                                        // "pässwörd"
	sodiumArgon2i     = "sodium;$argon2i$v=19$m=2048,t=3,p=1$QQHy1bP5ChhIaOsPqqdWxQ$0g8BxFwRVAc4mByyin7Sj61sp3QbNDIP++NDcIXj5Do"                                         // "legacy"
	sha1Vector        = "s+sha1;00112233445566778899aabbccddeeff;e969ec06fe4e7f9a506d5af6c0a9d2d4ff142fba"                                                               // "sha1pass"
	pbkdf2Vector      = "pbkdf2;1;AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=;5ZnkCADEe07LGLo1Bbk75pgGl1hxOgd3lBrPdyOLTk9F0gQWBMBZoiV+s9oeb8rNPtTaD0omtoYDfDW1oSybzw==" // "pbk"
)

// cheapArgon2 keeps tests fast; the interactive parameters are exercised
// by TestHashPasswordDefault once.
var cheapArgon2 = Argon2Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestCheckPassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		password string
		hash     string
		match    bool
		valid    bool
	}{
		{"blank", "", "", true, false},
		{"blank password vs hash", "", "plain;x", false, true},
		{"password vs blank hash", "x", "", false, false},
		{"blocked", "pass", "*", false, true},
		{"blocked plain", "pass", "*plain;pass", false, true},
		{"unsupported", "nosuchthing", "invalid hash", false, false},
		{"plain", "plainpassword", "plain;plainpassword", true, true},
		{"plain wrong", "plainpassword", "plain;wrong", false, true},
		{"plain empty", "", "plain;", false, false},
		{"plain with semicolon", "a;b", "plain;a;b", true, true},
		{"sha1", "sha1pass", sha1Vector, true, true},
		{"sha1 wrong", "sha1pas", sha1Vector, false, true},
		{"sha1 uppercase hex", "sha1pass", strings.ToUpper(sha1Vector[:7]) + strings.ToUpper(sha1Vector[7:]), false, false},
		{"sha1 upper digest", "sha1pass", "s+sha1;00112233445566778899AABBCCDDEEFF;E969EC06FE4E7F9A506D5AF6C0A9D2D4FF142FBA", true, true},
		{"sha1 too many parts", "sha1pass", sha1Vector + ";x", false, false},
		{"sha1 bad hex", "sha1pass", "s+sha1;zz;e969", false, true},
		{"pbkdf2", "pbk", pbkdf2Vector, true, true},
		{"pbkdf2 wrong", "pbkx", pbkdf2Vector, false, true},
		{"pbkdf2 unpadded", "pbk", strings.ReplaceAll(pbkdf2Vector, "=", ""), true, true},
		{"pbkdf2 version 2", "pbk", strings.Replace(pbkdf2Vector, ";1;", ";2;", 1), false, true},
		{"pbkdf2 parts", "pbk", "pbkdf2;1;abc", false, false},
		{"sodium small", "hunter2", sodiumSmall, true, true},
		{"sodium small wrong", "hunter3", sodiumSmall, false, true},
		{"sodium unicode", "pässwörd", sodiumUnicode, true, true},
		{"sodium unicode nfd", "pa\u0308sswörd", sodiumUnicode, false, true},
		{"sodium argon2i", "legacy", sodiumArgon2i, true, true},
		{"sodium empty", "x", "sodium;", false, false},
		{"sodium garbage", "x", "sodium;garbage", false, true},
		{"sodium huge memory", "x", "sodium;$argon2id$v=19$m=4294967295,t=2,p=1$P2qHdMf1d5yy/aPtJpxYSg$SWVqw96f0c6OaZ9KyNkqP7VmryZbUiIrXRlyGVpMYvI", false, true},
		{"sodium version 16", "hunter2", strings.Replace(sodiumSmall, "v=19", "v=16", 1), false, true},
		{"sodium too long", "x", "sodium;" + strings.Repeat("a", 128), false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := CheckPassword(tc.password, tc.hash); got != tc.match {
				t.Errorf("CheckPassword(%q, %q) = %v, want %v", tc.password, tc.hash, got, tc.match)
			}
			if got := IsValidHash(tc.hash); got != tc.valid {
				t.Errorf("IsValidHash(%q) = %v, want %v", tc.hash, got, tc.valid)
			}
		})
	}
}

func TestCheckPasswordInteractiveVector(t *testing.T) {
	t.Parallel()
	// 64 MiB argon2id, exactly what drawpile-srv stores.
	if !CheckPassword("sodiumpass", sodiumInteractive) {
		t.Error("libsodium interactive hash did not verify")
	}
}

func TestHashPasswordRoundTrip(t *testing.T) {
	t.Parallel()
	hashers := []struct {
		name   string
		prefix string
		hash   func(string) (string, error)
	}{
		{"argon2", "sodium;$argon2id$v=19$m=64,t=1,p=1$", func(p string) (string, error) { return HashPasswordArgon2(p, cheapArgon2) }},
		{"plain", "plain;", HashPasswordPlain},
		{"pbkdf2", "pbkdf2;1;", HashPasswordPBKDF2},
		{"sha1", "s+sha1;", HashPasswordSHA1},
	}
	for _, h := range hashers {
		t.Run(h.name, func(t *testing.T) {
			t.Parallel()
			hash, err := h.hash("correct horse")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(hash, h.prefix) {
				t.Errorf("hash %q lacks prefix %q", hash, h.prefix)
			}
			if !IsValidHash(hash) {
				t.Errorf("IsValidHash(%q) = false", hash)
			}
			if !CheckPassword("correct horse", hash) {
				t.Errorf("own hash %q does not verify", hash)
			}
			if CheckPassword("correct horsf", hash) {
				t.Errorf("wrong password verifies against %q", hash)
			}
			if CheckPassword("correct horse", "*"+hash) {
				t.Errorf("disabled hash verifies")
			}
			again, _ := h.hash("correct horse")
			if h.name != "plain" && again == hash {
				t.Errorf("two hashes identical: salt not random")
			}
			if _, err := h.hash(""); !errors.Is(err, ErrEmptyPassword) {
				t.Errorf("empty password: err = %v, want ErrEmptyPassword", err)
			}
		})
	}
}

func TestHashPasswordDefault(t *testing.T) {
	t.Parallel()
	hash, err := HashPassword("pw")
	if err != nil {
		t.Fatal(err)
	}
	// libsodium's interactive limits: 64 MiB, 2 passes, 1 lane; 16-byte
	// salt (22 base64 chars) and 32-byte hash (43 chars).
	const prefix = "sodium;$argon2id$v=19$m=65536,t=2,p=1$"
	if !strings.HasPrefix(hash, prefix) || len(hash) != len(prefix)+22+1+43 {
		t.Fatalf("hash = %q, want libsodium interactive argon2id string", hash)
	}
	if !CheckPassword("pw", hash) {
		t.Error("default hash does not verify")
	}
}

func TestParseArgon2StringRejects(t *testing.T) {
	t.Parallel()
	bad := []string{
		"",
		"$argon2d$v=19$m=64,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=64,t=0,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=64,t=1,p=0$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=64,t=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=64,t=1,p=1,x=2$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=64,t=1,p=1$AAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=64,t=1,p=1$!!!!!!!!!!!!!!!!!!!!!!$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=99999999,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$" + strings.Repeat("A", 400),
	}
	for _, s := range bad {
		var he *HashError
		if _, _, _, _, err := parseArgon2String(s); !errors.As(err, &he) {
			t.Errorf("parseArgon2String(%q) err = %v, want *HashError", s, err)
		}
	}
}

func FuzzCheckPassword(f *testing.F) {
	for _, s := range []string{sodiumSmall, sha1Vector, pbkdf2Vector, "plain;x", "*", "", "sodium;$argon2id$v=19$m=64,t=1,p=1$$"} {
		f.Add("pw", s)
	}
	f.Fuzz(func(t *testing.T, pw, hash string) {
		// Bound cost: the fuzzer must not spend its time in argon2.
		if strings.Contains(hash, "argon2") && len(hash) > 0 {
			if _, p, _, _, err := parseArgon2String(strings.TrimPrefix(hash, "sodium;")); err == nil && p.Memory*p.Time > 1<<14 {
				return
			}
		}
		CheckPassword(pw, hash) // must not panic
		IsValidHash(hash)
	})
}

func BenchmarkCheckPasswordInteractive(b *testing.B) {
	for b.Loop() {
		CheckPassword("sodiumpass", sodiumInteractive)
	}
}

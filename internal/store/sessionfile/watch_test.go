package sessionfile

import (
	"strings"
	"testing"
)

func TestWatchSecretRecord(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, journal, want string
		problems            int
	}{
		{"one", "WATCHSECRET abcdefgh2345\n", "abcdefgh2345", 0},
		{"last wins", "WATCHSECRET abcdefgh2345\nWATCHSECRET zzzzzzzzzzzz\n", "zzzzzzzzzzzz", 0},
		{"too short", "WATCHSECRET abc\n", "", 1},
		{"bad characters", "WATCHSECRET ABCDEFGH2345\n", "", 1},
		{"bad keeps old", "WATCHSECRET abcdefgh2345\nWATCHSECRET ../../etc/pw\n", "abcdefgh2345", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, problems, err := ParseJournal(strings.NewReader(tc.journal))
			if err != nil || len(problems) != tc.problems || st.WatchSecret != tc.want {
				t.Fatalf("got %q, %v, %v; want %q with %d problems", st.WatchSecret, problems, err, tc.want, tc.problems)
			}
		})
	}
	st := NewState()
	st.WatchSecret = "abcdefgh2345"
	got, problems, err := ParseJournal(strings.NewReader(string(st.AppendJournal(nil))))
	if err != nil || len(problems) != 0 || got.WatchSecret != st.WatchSecret {
		t.Fatalf("compaction lost the secret: %q %v %v", got.WatchSecret, problems, err)
	}
}

func TestSetWatchSecret(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f, err := Create(dir, testID, Meta{}, Options{Fsync: FsyncNever})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.SetWatchSecret("bad"); err == nil {
		t.Fatal("accepted a malformed secret")
	}
	if err := f.SetWatchSecret("abcdefgh2345"); err != nil {
		t.Fatal(err)
	}
	if f.WatchSecret() != "abcdefgh2345" {
		t.Fatalf("WatchSecret = %q", f.WatchSecret())
	}
}

package sessionfile

import (
	"reflect"
	"strings"
	"testing"
)

// journalFixture follows drawpile-srv's journal format byte by byte (as
// FiledHistory writes it; see server.md §2.9).
const journalFixture = `FILE 01HQZX3V9G5S1W2Y3Z4A5B6C7D.dprec
ALIAS test
FOUNDER me!
PASSWORD plain;pass
OPWORD s+sha1;abcd;0123456789abcdef0123456789abcdef01234567
MAXUSERS 200
MAXUSERS 11
TITLE Hello world
# a comment

FLAGS persistent preserveChat nsfm
BAN 1 troll%20user%20with%20a%20long%20%5C%20%22name%7D%25%5B ::ffff:192.168.0.100  op 
BAN 2 test ::ffff:192.168.0.101  op 
BAN 3 test3 ::ffff:192.168.0.102 trololo op 012345689abcdef
UNBAN 2
ANNOUNCE http://example.com/
ANNOUNCE http://example.com/2/
UNANNOUNCE http://example.com/2/
USER 1 u1
USER 2 u%202
OP u1
OP u2
OP u3
OP u4
DEOP u1
TRUST t1
TRUST t2
TRUST t3
UNTRUST t1
AUTHNAME n1 Some%20User
AUTHNAME n2 Some%20Other%20User
AUTHNAME n2 Some%20Other%20User%20Part%202
CATCHUP 1000007
INV ABCDEFGH 2024-01-02T03:04:05Z 5,trust,op alice%20b
INV IJKLMNOP 2024-01-02T03:04:06Z 1
USV ABCDEFGH 0123456789abcdef0123456789abcdef bob
USV ABCDEFGH fedcba9876543210fedcba9876543210 ?
UNV IJKLMNOP
ARCHIVE 1
LIMIT 5000000
AUTORESET 20000000
`

func wantFixtureState() State {
	return State{
		File: "01HQZX3V9G5S1W2Y3Z4A5B6C7D.dprec", FileCount: 1,
		Alias: "test", Founder: "me!", Title: "Hello world",
		Password: "plain;pass", Opword: "s+sha1;abcd;0123456789abcdef0123456789abcdef01234567",
		MaxUsers: 11, AutoReset: 20000000, Archive: ArchiveOn, SizeLimit: 5000000,
		Flags: Persistent | PreserveChat | Nsfm,
		Bans: []Ban{
			{ID: 1, Name: `troll user with a long \ "name}%[`, IP: "::ffff:192.168.0.100", BannedBy: "op"},
			{ID: 3, Name: "test3", IP: "::ffff:192.168.0.102", AuthID: "trololo", BannedBy: "op", SID: "012345689abcdef"},
		},
		Announce:  []string{"http://example.com/"},
		Users:     []UserID{{1, "u1"}, {2, "u 2"}},
		Ops:       []string{"u2", "u3", "u4"},
		Trusted:   []string{"t2", "t3"},
		AuthNames: map[string]string{"n1": "Some User", "n2": "Some Other User Part 2"},
		AuthOrder: []string{"n1", "n2"},
		Catchup:   1000007,
		Invites: []Invite{{Secret: "ABCDEFGH", CreatedAt: "2024-01-02T03:04:05Z", MaxUses: 5, Trust: true, Op: true, Creator: "alice b",
			Uses: []InviteUse{{"0123456789abcdef0123456789abcdef", "bob"}, {"fedcba9876543210fedcba9876543210", ""}}}},
	}
}

func TestParseJournalFixture(t *testing.T) {
	t.Parallel()
	s, problems, err := ParseJournal(strings.NewReader(journalFixture))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("problem: %v", p)
	}
	if want := wantFixtureState(); !reflect.DeepEqual(s, want) {
		t.Errorf("state\n got %+v\nwant %+v", s, want)
	}
}

func TestParseJournalRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		journal  string
		check    func(State) bool
		problems int
	}{
		{"later flags override", "FLAGS persistent nsfm\nFLAGS nsfm\n", func(s State) bool { return s.Flags == Nsfm }, 0},
		{"maxusers clamped high", "MAXUSERS 999\n", func(s State) bool { return s.MaxUsers == 254 }, 0},
		{"maxusers clamped low", "MAXUSERS x\n", func(s State) bool { return s.MaxUsers == 1 }, 0},
		{"default maxusers", "FOUNDER a\n", func(s State) bool { return s.MaxUsers == 254 && s.Catchup == InitialCatchupKey }, 0},
		{"archive default", "ARCHIVE 1\nARCHIVE\n", func(s State) bool { return s.Archive == ArchiveDefault }, 0},
		{"archive off", "ARCHIVE 0\n", func(s State) bool { return s.Archive == ArchiveOff }, 0},
		{"bad archive", "ARCHIVE 7\n", func(s State) bool { return s.Archive == ArchiveDefault }, 1},
		{"limit clamped", "LIMIT 99999999999\n", func(s State) bool { return s.SizeLimit == maxSizeLimit }, 0},
		{"alias twice", "ALIAS a\nALIAS b\n", func(s State) bool { return s.Alias == "a" }, 1},
		{"unknown record", "BOGUS 1\nTITLE t\n", func(s State) bool { return s.Title == "t" }, 1},
		{"unknown flag kept others", "FLAGS nsfm sparkly\n", func(s State) bool { return s.Flags == Nsfm }, 1},
		{"short ban", "BAN 1 a b\n", func(s State) bool { return len(s.Bans) == 0 }, 1},
		{"incomplete last line", "TITLE a\nTITLE bro", func(s State) bool { return s.Title == "a" }, 1},
		{"crlf", "TITLE a b \r\n", func(s State) bool { return s.Title == "a b" }, 0},
		{"cleared password", "PASSWORD x\nPASSWORD \n", func(s State) bool { return s.Password == "" }, 0},
		{"catchup clamped", "CATCHUP 0\n", func(s State) bool { return s.Catchup == MinCatchupKey }, 0},
		{"file path rejected", "FILE ../etc/passwd\n", func(s State) bool { return s.File == "" }, 1},
		{"usv without invite", "USV X k n\n", func(s State) bool { return len(s.Invites) == 0 }, 1},
		{"binary garbage", "\x00\xff\xfe\n", func(s State) bool { return s.File == "" }, 1},
		{"line too long", strings.Repeat("x", maxJournalLine+10) + "\nTITLE t\n", func(s State) bool { return s.Title == "t" }, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, problems, err := ParseJournal(strings.NewReader(tc.journal))
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(s) {
				t.Errorf("state %+v", s)
			}
			if len(problems) != tc.problems {
				t.Errorf("%d problems, want %d: %v", len(problems), tc.problems, problems)
			}
		})
	}
}

func TestJournalCompactRoundTrip(t *testing.T) {
	t.Parallel()
	want := wantFixtureState()
	data := want.AppendJournal(nil)
	got, problems, err := ParseJournal(strings.NewReader(string(data)))
	if err != nil || len(problems) != 0 {
		t.Fatalf("%v %v\n%s", err, problems, data)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip\n got %+v\nwant %+v\njournal:\n%s", got, want, data)
	}
}

func TestPercentEncoding(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, enc string }{
		{"abc-._~XYZ09", "abc-._~XYZ09"},
		{"a b", "a%20b"},
		{`\"}%[`, "%5C%22%7D%25%5B"},
		{"é", "%C3%A9"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := percentEncode(tc.in); got != tc.enc {
			t.Errorf("encode %q = %q, want %q", tc.in, got, tc.enc)
		}
		if got := percentDecode(tc.enc); got != tc.in {
			t.Errorf("decode %q = %q, want %q", tc.enc, got, tc.in)
		}
	}
	if got := percentDecode("100%zz%4"); got != "100%zz%4" {
		t.Errorf("malformed kept: %q", got)
	}
}

func FuzzParseJournal(f *testing.F) {
	f.Add(journalFixture)
	f.Add("FILE a.dprec\nBAN 1 % % % %\nINV a b ,op\nUSV a b c\n")
	f.Fuzz(func(t *testing.T, journal string) {
		if strings.Contains(journal, "\r") {
			return // a CR inside a record becomes a space when written back
		}
		s, _, err := ParseJournal(strings.NewReader(journal))
		if err != nil {
			t.Fatal(err)
		}
		// The compacted journal of any replayed state replays to the same
		// state (FileCount aside).
		data := s.AppendJournal(nil)
		again, problems, err := ParseJournal(strings.NewReader(string(data)))
		if err != nil {
			t.Fatal(err)
		}
		if s.File != "" {
			s.FileCount = 1
		}
		if !reflect.DeepEqual(normalize(again), normalize(s)) {
			t.Fatalf("compaction changed the state (%v)\n got %+v\nwant %+v\n%s", problems, again, s, data)
		}
	})
}

// normalize makes empty collections nil so that DeepEqual compares content.
func normalize(s State) State {
	s = s.Clone()
	if len(s.Bans) == 0 {
		s.Bans = nil
	}
	if len(s.Announce) == 0 {
		s.Announce = nil
	}
	if len(s.Users) == 0 {
		s.Users = nil
	}
	if len(s.Ops) == 0 {
		s.Ops = nil
	}
	if len(s.Trusted) == 0 {
		s.Trusted = nil
	}
	if len(s.AuthOrder) == 0 {
		s.AuthOrder = nil
	}
	if len(s.AuthNames) == 0 {
		s.AuthNames = nil
	}
	if len(s.Invites) == 0 {
		s.Invites = nil
	}
	for i := range s.Invites {
		if len(s.Invites[i].Uses) == 0 {
			s.Invites[i].Uses = nil
		}
	}
	return s
}

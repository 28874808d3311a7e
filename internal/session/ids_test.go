package session

import (
	"strings"
	"testing"
	"time"
)

func TestULID(t *testing.T) {
	t.Parallel()
	now := time.UnixMilli(1795278698000)
	a, b := newULID(now), newULID(now)
	if len(a) != 26 || a == b {
		t.Fatalf("ULIDs %q %q", a, b)
	}
	if !ulidRE.MatchString(a) || a != strings.ToLower(a) {
		t.Fatalf("%q is not a lower-case ULID", a)
	}
	if a[:10] != b[:10] {
		t.Errorf("same millisecond, different time prefix: %q %q", a, b)
	}
	if later := newULID(now.Add(time.Hour)); later[:10] <= a[:10] {
		t.Errorf("ULIDs do not sort by time: %q then %q", a, later)
	}
}

func TestAliasRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		alias string
		ok    bool
	}{
		{"conformance", true},
		{"my-room-2", true},
		{"", false},
		{strings.Repeat("a", 33), false},
		{"with space", false},
		{"01m7zf5xvtskf3wh9zn4y4g8dy", false},           // a ULID
		{"123e4567-e89b-12d3-a456-426614174000", false}, // a UUID
	}
	for _, tt := range tests {
		if got := validAlias(tt.alias); got != tt.ok {
			t.Errorf("validAlias(%q) = %v", tt.alias, got)
		}
	}
}

func TestRoomCodes(t *testing.T) {
	t.Parallel()
	for range 1000 {
		c := newRoomCode()
		if len(c) != RoomCodeLen || strings.ContainsAny(c, "01ILO") {
			t.Fatalf("bad room code %q", c)
		}
		if n, ok := normalizeRoomCode(strings.ToLower(c)); !ok || n != c {
			t.Fatalf("normalize(%q) = %q %v", c, n, ok)
		}
	}
	for _, bad := range []string{"ABCDE", "ABCDEFG", "ABCDE0", "ABCDEI", "ABC-EF"} {
		if _, ok := normalizeRoomCode(bad); ok {
			t.Errorf("%q accepted as a room code", bad)
		}
	}
}

func TestParseSizeAndProtocol(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"1024": 1024, "15mb": 15 << 20, "1.5 KB": 1536, "2GB": 2 << 30} {
		if got, ok := parseSize(in); !ok || got != want {
			t.Errorf("parseSize(%q) = %d %v", in, got, ok)
		}
	}
	if _, ok := parseSize("lots"); ok {
		t.Error("parseSize accepted garbage")
	}
	if ns, s, ma, mi, ok := parseProtocol("dp:4.25.1"); !ok || ns != "dp" || s != 4 || ma != 25 || mi != 1 {
		t.Errorf("parseProtocol: %s %d %d %d %v", ns, s, ma, mi, ok)
	}
	for _, bad := range []string{"4.25", "dp:4.25", "DP:4.25.1", "dp:a.b.c"} {
		if _, _, _, _, ok := parseProtocol(bad); ok {
			t.Errorf("parseProtocol(%q) accepted", bad)
		}
	}
	if start, pos, id, ok := parseHidx("1795278698:11:01m7zf"); !ok || start != 1795278698 || pos != 11 || id != "01m7zf" {
		t.Errorf("parseHidx: %d %d %q %v", start, pos, id, ok)
	}
}

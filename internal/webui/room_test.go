package webui

import (
	"strings"
	"testing"
)

func TestParseRoomLink(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, code, pw string
	}{
		{"K7QX2M", "K7QX2M", ""},
		{"  k7qx2m ", "K7QX2M", ""},
		{"/r/K7QX2M", "K7QX2M", ""},
		{"https://bridge.example/r/K7QX2M#secret", "K7QX2M", "secret"},
		{"https://bridge.example/r/K7QX2M/?x=1#a%20b", "K7QX2M", "a b"},
		{"https://bridge.example/other", "", ""},
		{"K7 QX", "", ""},
		{"<script>", "", ""},
		{"", "", ""},
		{strings.Repeat("A", MaxRoomCode+1), "", ""},
		{"/r/", "", ""},
	}
	for _, tc := range tests {
		code, pw := ParseRoomLink(tc.in)
		if code != tc.code || pw != tc.pw {
			t.Errorf("ParseRoomLink(%q) = %q, %q; want %q, %q", tc.in, code, pw, tc.code, tc.pw)
		}
	}
}

func TestSystemID(t *testing.T) {
	t.Parallel()
	id := SystemIDFrom([16]byte{0x01, 0xab, 0xff})
	if id != "01abff"+strings.Repeat("0", 26) || !ValidSystemID(id) {
		t.Errorf("SystemIDFrom = %q", id)
	}
	for _, bad := range []string{"", "xyz", strings.Repeat("g", 32), strings.Repeat("a", 31)} {
		if ValidSystemID(bad) {
			t.Errorf("ValidSystemID(%q) = true", bad)
		}
	}
}

func TestFragmentPassword(t *testing.T) {
	for in, want := range map[string]string{"secret": "secret", "a%20b": "a b", "50%": "50%", "": ""} {
		if got := FragmentPassword(in); got != want {
			t.Errorf("FragmentPassword(%q) = %q, want %q", in, got, want)
		}
	}
}

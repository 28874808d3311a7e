package webui

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSessionList(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		codes   []string
		wantErr bool
	}{
		{"empty", `{"sessions":[]}`, nil, false},
		{"missing", `{}`, nil, false},
		{"two", `{"sessions":[{"id":"a","code":"k7qx2m","title":"A"},{"id":"b","code":"ZZ9","title":"B","nsfm":true}]}`, []string{"K7QX2M", "ZZ9"}, false},
		{"bad code dropped", `{"sessions":[{"id":"a","code":"../x"},{"id":"b","code":""},{"id":"c","code":"OK1"}]}`, []string{"OK1"}, false},
		{"not json", `<html>`, nil, true},
		{"wrong type", `{"sessions":{}}`, nil, true},
		{"too large", `{"sessions":[` + strings.Repeat(" ", MaxSessionList) + `]}`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSessionList([]byte(tc.in))
			if tc.wantErr {
				if !errors.Is(err, ErrSessionList) {
					t.Fatalf("err = %v, want ErrSessionList", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var codes []string
			for _, s := range got {
				codes = append(codes, s.Code)
			}
			if strings.Join(codes, ",") != strings.Join(tc.codes, ",") {
				t.Errorf("codes %v, want %v", codes, tc.codes)
			}
		})
	}
}

func TestVisibleSessions(t *testing.T) {
	list := []ListedSession{{Code: "A"}, {Code: "B", Nsfm: true}, {Code: "C"}}
	if got := VisibleSessions(list, false); len(got) != 2 || got[0].Code != "A" || got[1].Code != "C" {
		t.Errorf("NSFM hidden: %+v", got)
	}
	if got := VisibleSessions(list, true); len(got) != 3 {
		t.Errorf("NSFM shown: %+v", got)
	}
	if n := HiddenNSFM(list); n != 1 {
		t.Errorf("HiddenNSFM = %d", n)
	}
}

func TestListedSessionLabels(t *testing.T) {
	tests := []struct {
		s            ListedSession
		title, users string
	}{
		{ListedSession{Title: "T", Alias: "a", Code: "C", Users: 2, MaxUsers: 10}, "T", "2 / 10"},
		{ListedSession{Alias: "a", Code: "C", Users: 1}, "a", "1"},
		{ListedSession{Code: "C"}, "Room C", "0"},
	}
	for _, tc := range tests {
		if got := tc.s.DisplayTitle(); got != tc.title {
			t.Errorf("DisplayTitle(%+v) = %q, want %q", tc.s, got, tc.title)
		}
		if got := tc.s.UserCount(); got != tc.users {
			t.Errorf("UserCount(%+v) = %q, want %q", tc.s, got, tc.users)
		}
	}
}

func FuzzParseSessionList(f *testing.F) {
	f.Add([]byte(`{"sessions":[{"id":"a","code":"k7qx2m"}]}`))
	f.Add([]byte(`{"sessions":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseSessionList(data)
		if err != nil {
			return
		}
		for _, s := range l {
			if RoomCode(s.Code) != s.Code {
				t.Fatalf("unnormalized code %q", s.Code)
			}
		}
	})
}

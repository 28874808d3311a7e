package links

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		want     Link
	}{
		{"drawpile url", "drawpile://example.com/myroom", Link{Host: "example.com", Port: 27750, Session: "myroom"}},
		{"drawpile url with port, invite, password, w", "drawpile://Example.COM:27751/01J8ZK5H8N2M:ab12cd34?p=s%20ecret&w",
			Link{Host: "example.com", Port: 27751, Session: "01J8ZK5H8N2M", Invite: "ab12cd34", Password: "s ecret", PreferWebSockets: true}},
		{"drawpile url ipv6", "drawpile://[2001:db8::1]:9000/room", Link{Host: "2001:db8::1", Port: 9000, Session: "room"}},
		{"invite link", "https://drawpile.net/invites/pub.example.org:27800/room-1:XYZ9?v1&w&web&nsfm#pass%23word",
			Link{Host: "pub.example.org", Port: 27800, Session: "room-1", Invite: "XYZ9", Password: "pass#word", Web: true, PreferWebSockets: true}},
		{"invite link without web", "https://drawpile.net/invites/pub.example.org/room?v1", Link{Host: "pub.example.org", Port: 27750, Session: "room"}},
		{"web client link", "https://web.drawpile.net/?host=draw.example&session=abc:inv&v1#pw",
			Link{Host: "draw.example", Port: 27750, Session: "abc", Invite: "inv", Password: "pw", Web: true}},
		{"bridge join link with port", "http://bridge.local:8080/join?host=10.0.0.5&port=27751&session=room",
			Link{Host: "10.0.0.5", Port: 27751, Session: "room", Web: true}},
		{"user name ignored", "drawpile://alice@example.com/room", Link{Host: "example.com", Port: 27750, Session: "room"}},
		{"bare", "  draw.example:1234/room  ", Link{Host: "draw.example", Port: 1234, Session: "room"}},
		{"trailing slash", "drawpile://draw.example/room/", Link{Host: "draw.example", Port: 27750, Session: "room"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"",
		"example.com",                            // no session
		"drawpile://example.com/",                // empty session
		"drawpile://example.com:0/room",          // port 0
		"drawpile://example.com:65536/room",      // port too big
		"drawpile://exa mple.com/room",           // bad host
		"drawpile://example.com/ro%2Fom",         // bad session chars
		"drawpile://example.com/room:bad!invite", // bad invite
		"https://web.drawpile.net/?host=drawpile.net&session=x", // refused like Drawpile's loader
		"https://example.com/some/page",                         // not a session link
		"ftp://example.com/room",                                // scheme
		"drawpile://[2001:db8::1/room",                          // unclosed bracket
		"drawpile://example.com/" + string(make([]byte, 65)),
	} {
		if l, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", in, l)
		} else if le := (*Error)(nil); !errors.As(err, &le) {
			t.Errorf("Parse(%q): error %T, want *Error", in, err)
		}
	}
}

func TestLinkForms(t *testing.T) {
	t.Parallel()
	l := Link{Host: "2001:db8::1", Port: 9000, Session: "room", Invite: "inv", Password: "a b#c"}
	if got, want := l.DrawpileURL(), "drawpile://[2001:db8::1]:9000/room:inv?p=a+b%23c"; got != want {
		t.Errorf("DrawpileURL = %q, want %q", got, want)
	}
	if got, want := l.JoinPath(), "/join?host=2001%3Adb8%3A%3A1&port=9000&session=room%3Ainv#a%20b%23c"; got != want {
		t.Errorf("JoinPath = %q, want %q", got, want)
	}
	d := Link{Host: "example.com", Port: DefaultPort, Session: "r"}
	if got, want := d.DrawpileURL(), "drawpile://example.com/r"; got != want {
		t.Errorf("DrawpileURL = %q, want %q", got, want)
	}
	if got, want := d.JoinPath(), "/join?host=example.com&session=r"; got != want {
		t.Errorf("JoinPath = %q, want %q", got, want)
	}
}

func TestParseRoom(t *testing.T) {
	t.Parallel()
	r, err := ParseRoom("SKETCH=draw.example:27751/room")
	if err != nil {
		t.Fatal(err)
	}
	if r.Code != "SKETCH" || r.Link != (Link{Host: "draw.example", Port: 27751, Session: "room"}) {
		t.Errorf("ParseRoom = %+v", r)
	}
	for _, bad := range []string{"noequals", "=draw.example/room", "bad code=draw.example/room", "A=draw.example"} {
		if _, err := ParseRoom(bad); err == nil {
			t.Errorf("ParseRoom(%q) succeeded", bad)
		}
	}
}

// FuzzParse: no input panics, and a parsed link survives the round trip
// through its drawpile:// and /join forms.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"drawpile://example.com/myroom",
		"drawpile://[::1]:1/a:b?p=x&w",
		"https://drawpile.net/invites/h:1/s:i?web#p",
		"https://web.drawpile.net/?host=h&session=s",
		"h.example/s",
		"drawpile://%zz/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := Parse(s)
		if err != nil {
			return
		}
		back, err := Parse(l.DrawpileURL())
		if err != nil {
			t.Fatalf("Parse(%q) = %+v, but its drawpile URL %q does not parse: %v", s, l, l.DrawpileURL(), err)
		}
		l.Web, l.PreferWebSockets = false, false
		if back != l {
			t.Fatalf("round trip of %q: %+v became %+v", s, l, back)
		}
		join, err := Parse("http://bridge" + l.JoinPath())
		if err != nil {
			t.Fatalf("join path %q does not parse: %v", l.JoinPath(), err)
		}
		join.Web = false
		if join != l {
			t.Fatalf("join round trip of %q: %+v became %+v", s, l, join)
		}
	})
}

package wsproxy

import (
	"log/slog"
	"testing"

	"drawbridge/protocol"
)

// FuzzLoginInspection: no login-phase message from either side panics
// the relay's inspection, and whatever it forwards is a valid frame.
func FuzzLoginInspection(f *testing.F) {
	for _, s := range []string{
		`{"type":"login","message":"Welcome","sessions":[{"id":"a","alias":"b","allowWeb":false},{"id":"c"}]}`,
		`{"type":"login","message":"Session ended","remove":["b"]}`,
		`{"type":"result","message":"Client info OK!","cinfo":{"browser":false}}`,
		`{"type":"result","lookup":"join","session":{"id":"a","allowWeb":true}}`,
		`{"type":"result","state":"identOk","flags":["WEB","HOST"]}`,
		`{"type":"result","state":"join","join":{"id":"a","user":3}}`,
		`{"cmd":"cinfo","args":["h",{"s":"0"}]}`,
		`{"cmd":"lookup","args":["a:secret"]}`,
		`{"cmd":"join","args":["a"],"kwargs":{"password":"x"}}`,
		`{"cmd":"host","kwargs":{}}`,
		`{"type":"result","cinfo":null,"lookup":"join","session":[]}`,
		`null`, `[]`, `{`,
	} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, payload []byte, fromUpstream bool) {
		if len(payload) > protocol.MaxPayload {
			return
		}
		fr, err := protocol.NewFrame(protocol.TypeServerCommand, 0, payload)
		if err != nil {
			return
		}
		r := &relay{t: Target{Host: "up.example", Port: DefaultPort}, browser: true, log: slog.New(slog.DiscardHandler)}
		r.login.init()
		// Feed a session list first so join checks have something to find.
		list, _ := protocol.NewFrame(0, 0, []byte(`{"type":"login","sessions":[{"id":"a","allowWeb":false}]}`))
		r.fromUpstream(list)
		var out protocol.Frame
		var e *Error
		if fromUpstream {
			out, e = r.fromUpstream(fr)
		} else {
			out, e = r.fromBrowser(fr)
		}
		if e != nil {
			if e.Code == "" || e.Message == "" {
				t.Fatalf("refusal without code or message: %+v", e)
			}
			return
		}
		if _, err := protocol.ParseFrame(out); err != nil {
			t.Fatalf("forwarded an invalid frame: %v", err)
		}
	})
}

// FuzzParseTarget: parsing never panics and a parsed target re-parses to
// itself from its Addr.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"example.com", "example.com:1", "[::1]:27750", "10.0.0.1", "bad host", "[::1", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseTarget(s)
		if err != nil {
			return
		}
		back, err := ParseTarget(tg.Addr())
		if err != nil || back != tg {
			t.Fatalf("ParseTarget(%q) = %+v; its Addr %q parses to %+v, %v", s, tg, tg.Addr(), back, err)
		}
	})
}

package protocol

import (
	"encoding/json"
	"errors"
	"testing"
)

func ptr[T any](v T) *T { return &v }

// TestMarshalQtMatchesTranscripts encodes typed replies and compares them
// byte for byte with drawpile-srv 2.3 output recorded in
// shared/vectors/transcripts (copied here literally).
func TestMarshalQtMatchesTranscripts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"greeting", Greeting{
			Type: ReplyLogin, Version: 4, Message: "Drawpile server 2.3.1-beta.1-127-g5e085d081-dirty",
			Flags:   []string{"MULTI", "AVATAR", "MBANIMPEX", "LOOKUP", "CINFO"},
			Methods: map[string]LoginMethod{"guest": {Actions: []string{"join", "host"}}},
		}, `{"flags":["MULTI","AVATAR","MBANIMPEX","LOOKUP","CINFO"],"message":"Drawpile server 2.3.1-beta.1-127-g5e085d081-dirty","methods":{"guest":{"actions":["join","host"]}},"type":"login","version":4}`},
		{"cinfo", Result{Type: ReplyResult, Message: "Client info OK!", CInfo: &CInfoResult{}},
			`{"cinfo":{"browser":false},"message":"Client info OK!","type":"result"}`},
		{"identOk", Result{Type: ReplyResult, Message: "Guest login OK!", State: "identOk", Flags: []string{"WEB", "HOST", "WEBHOST", "WEBSESSION"}, Ident: "Alice", Guest: ptr(true)},
			`{"flags":["WEB","HOST","WEBHOST","WEBSESSION"],"guest":true,"ident":"Alice","message":"Guest login OK!","state":"identOk","type":"result"}`},
		{"welcome", SessionList{Type: ReplyLogin, Message: "Welcome", Sessions: []SessionDesc{}},
			`{"message":"Welcome","sessions":[],"type":"login"}`},
		{"host result", Result{Type: ReplyResult, Message: "Starting new session!", State: "host", Join: &JoinInfo{Flags: []string{"SKIP"}, ID: "conformance", UniqueID: "01m7zf5xvtskf3wh9zn4y4g8dy", User: 1}},
			`{"join":{"authId":"","flags":["SKIP"],"id":"conformance","uniqueId":"01m7zf5xvtskf3wh9zn4y4g8dy","user":1},"message":"Starting new session!","state":"host","type":"result"}`},
		{"join result", Result{Type: ReplyResult, Message: "Joining a session!", State: "join", Join: &JoinInfo{Flags: []string{"SKIP"}, ID: "conformance", UniqueID: "01m7zf5xvtskf3wh9zn4y4g8dy", User: 2, Skip: ptr(false)}},
			`{"join":{"authId":"","flags":["SKIP"],"id":"conformance","skip":false,"uniqueId":"01m7zf5xvtskf3wh9zn4y4g8dy","user":2},"message":"Joining a session!","state":"join","type":"result"}`},
		{"new session", SessionList{Type: ReplyLogin, Message: "New session", Sessions: []SessionDesc{{
			Alias: "conformance", Founder: "Alice", ID: "01m7zf5xvtskf3wh9zn4y4g8dy", MaxUserCount: 254,
			Protocol: "dp:4.25.1", Size: 455, StartTime: "2026-11-21T16:31:38Z"}}},
			`{"message":"New session","sessions":[{"activeDrawingUserCount":0,"alias":"conformance","allowWeb":false,"authOnly":false,"autotitle":false,"closed":false,"founder":"Alice","hasPassword":false,"id":"01m7zf5xvtskf3wh9zn4y4g8dy","idleOverride":false,"invites":false,"maxUserCount":254,"nsfm":false,"persistent":false,"protocol":"dp:4.25.1","size":455,"startTime":"2026-11-21T16:31:38Z","title":"","unlisted":false,"userCount":0}],"type":"login"}`},
		{"error", ErrorReply{Type: ReplyError, Code: "badPassword", Message: "Incorrect password"},
			`{"code":"badPassword","message":"Incorrect password","type":"error"}`},
		{"cmd error", ErrorReply{Type: ReplyError, Message: "sessionconf: Not a session owner"},
			`{"message":"sessionconf: Not a session owner","type":"error"}`},
		{"catchup", CatchUp{Type: ReplyCatchUp, Count: 12, Key: 1000000}, `{"count":12,"key":1000000,"type":"catchup"}`},
		{"caughtup", CaughtUp{Type: ReplyCaughtUp, Key: 1000000, HIdx: "1795278698:11:01m7zf5xvtskf3wh9zn4y4g8dy"},
			`{"hidx":"1795278698:11:01m7zf5xvtskf3wh9zn4y4g8dy","key":1000000,"type":"caughtup"}`},
		{"status", Status{Type: ReplyStatus, Size: 1083, HidStar: "1795278698:10:01m7zf5xvtskf3wh9zn4y4g8dy"},
			`{"hid*":"1795278698:10:01m7zf5xvtskf3wh9zn4y4g8dy","size":1083,"type":"status"}`},
		{"partial sessionconf", SessionConf{Type: ReplySessionConf, Config: map[string]any{"banlist": []any{}}},
			`{"config":{"banlist":[]},"type":"sessionconf"}`},
		{"full sessionconf", SessionConf{Type: ReplySessionConf, HIdx: "1795278698:36:01m7zf5xvtskf3wh9zn4y4g8dy", Config: &SessionConfig{
			AllowIdleOverride: true, AllowWeb: true, HasPassword: true, Invites: true, MaxSize: 103809024, MaxUserCount: 254,
			ResetThreshold: 15728640, ResetThresholdBase: 1083, Title: "Renamed conformance session"}},
			`{"config":{"allowIdleOverride":true,"allowWeb":true,"authOnly":false,"autotitle":false,"closed":null,"deputies":false,"forceNsfm":false,"hasOpword":false,"hasPassword":true,"idleOverride":false,"idleTimeLimit":0,"invites":true,"maxSize":103809024,"maxUserCount":254,"nsfm":false,"persistent":false,"preferWebSockets":false,"preserveChat":false,"resetThreshold":15728640,"resetThresholdBase":1083,"resetThresholdMin":0,"title":"Renamed conformance session"},"hidx":"1795278698:36:01m7zf5xvtskf3wh9zn4y4g8dy","type":"sessionconf"}`},
		{"kick msg", Notice{Type: ReplyMsg, T: "kick", P: map[string]any{"target": "Bob", "by": "Alice"}, Message: "Bob kicked by Alice"},
			`{"P":{"by":"Alice","target":"Bob"},"T":"kick","message":"Bob kicked by Alice","type":"msg"}`},
		{"log", LogEntry{Type: ReplyLog, Level: "Info", Message: "Kicked by Alice", Timestamp: "2026-11-21T16:32:27Z", Topic: "Kick", User: "2;Bob"},
			`{"level":"Info","message":"Kicked by Alice","timestamp":"2026-11-21T16:32:27Z","topic":"Kick","type":"log","user":"2;Bob"}`},
		{"no html escaping", Notice{Type: ReplyMsg, Message: "a <b> & c"}, `{"message":"a <b> & c","type":"msg"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := MarshalQt(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestParseCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		wantErr bool
		check   func(t *testing.T, c Command)
	}{
		{name: "ident", in: `{"args":["Alice"],"cmd":"ident"}`, check: func(t *testing.T, c Command) {
			if s, ok := c.StringArg(0); !ok || s != "Alice" || c.Cmd != "ident" {
				t.Errorf("got %+v", c)
			}
		}},
		{name: "kwargs", in: `{"cmd":"host","kwargs":{"user_id":1,"alias":"x","nsfm":false}}`, check: func(t *testing.T, c Command) {
			if n, ok := c.KwInt("user_id"); !ok || n != 1 {
				t.Errorf("user_id = %d %v", n, ok)
			}
			if b, ok := c.KwBool("nsfm"); !ok || b {
				t.Errorf("nsfm = %v %v", b, ok)
			}
			if _, ok := c.KwString("user_id"); ok {
				t.Error("user_id read as string")
			}
			if _, ok := c.KwInt("alias"); ok {
				t.Error("alias read as int")
			}
		}},
		{name: "int arg", in: `{"cmd":"kick-user","args":[2]}`, check: func(t *testing.T, c Command) {
			if n, ok := c.IntArg(0); !ok || n != 2 {
				t.Errorf("got %d %v", n, ok)
			}
			if _, ok := c.IntArg(1); ok {
				t.Error("arg 1 exists")
			}
		}},
		{name: "fraction is not int", in: `{"cmd":"x","args":[2.5]}`, check: func(t *testing.T, c Command) {
			if _, ok := c.IntArg(0); ok {
				t.Error("2.5 read as int")
			}
		}},
		{name: "array", in: `[1,2]`, wantErr: true},
		{name: "string", in: `"cmd"`, wantErr: true},
		{name: "null", in: `null`, wantErr: true},
		{name: "garbage", in: `{"cmd":`, wantErr: true},
		{name: "no cmd", in: `{"args":[]}`, wantErr: true},
		{name: "numeric cmd", in: `{"cmd":5}`, wantErr: true},
		{name: "args object", in: `{"cmd":"x","args":{}}`, wantErr: true},
		{name: "kwargs array", in: `{"cmd":"x","kwargs":[]}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := ParseCommand([]byte(tt.in))
			if tt.wantErr {
				var ce *CommandError
				if !errors.As(err, &ce) {
					t.Fatalf("err = %v, want *CommandError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestCommandRoundTrip(t *testing.T) {
	t.Parallel()
	c, err := NewCommand("join", []any{"conformance"}, map[string]any{"password": "secret123", "s": "0a1b"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"args":["conformance"],"cmd":"join","kwargs":{"password":"secret123","s":"0a1b"}}`; string(b) != want {
		t.Fatalf("got %s want %s", b, want)
	}
	f, err := c.Frame()
	if err != nil {
		t.Fatal(err)
	}
	if f.Type() != 0 || f.Ctx() != 0 || string(f.Payload()) != string(b) {
		t.Fatalf("bad frame %v", f)
	}
	back, err := ParseCommand(f.Payload())
	if err != nil {
		t.Fatal(err)
	}
	if pw, _ := back.KwString("password"); pw != "secret123" || back.Cmd != "join" {
		t.Fatalf("round trip: %+v", back)
	}
}

func TestParseReply(t *testing.T) {
	t.Parallel()
	r, err := ParseReply([]byte(`{"code":"badPassword","message":"Incorrect password","type":"error"}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Type != ReplyError || r.Code != "badPassword" || r.Message != "Incorrect password" {
		t.Fatalf("got %+v", r)
	}
	var e ErrorReply
	if err := r.Decode(&e); err != nil || e.Code != "badPassword" {
		t.Fatalf("decode: %v %+v", err, e)
	}
	for _, bad := range []string{`[]`, `{"message":"x"}`, `{"type":1}`, `x`} {
		if _, err := ParseReply([]byte(bad)); err == nil {
			t.Errorf("ParseReply(%s) succeeded", bad)
		}
	}
	big := Notice{Type: ReplyMsg, Message: string(make([]byte, MaxPayload))}
	if _, err := JSONFrame(big); !errors.Is(err, ErrJSONTooLarge) {
		t.Errorf("oversized JSON: err = %v", err)
	}
	_ = json.RawMessage(nil)
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{`{"args":["Alice"],"cmd":"ident"}`, `{"cmd":"x","kwargs":{"a":[1,{"b":null}]}}`, `[]`, `{}`, `{"cmd":"a","args":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCommand(b)
		if err != nil {
			return
		}
		out, err := c.Marshal()
		if err != nil {
			t.Fatalf("marshal parsed command: %v", err)
		}
		c2, err := ParseCommand(out)
		if err != nil || c2.Cmd != c.Cmd || len(c2.Args) != len(c.Args) || len(c2.Kwargs) != len(c.Kwargs) {
			t.Fatalf("round trip changed the command: %v %+v %+v", err, c, c2)
		}
	})
}

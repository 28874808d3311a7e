package client_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"drawbridge/internal/client"
	"drawbridge/protocol"
)

// record is one line of a transcript (testdata/transcripts/README.md).
type record struct {
	File      string `json:"-"`
	Idx       int    `json:"-"` // position in the whole story
	Seq       int    `json:"seq"`
	Conn      string `json:"conn"`
	Transport string `json:"transport"`
	Dir       string `json:"dir"`
	Event     string `json:"event"`
	Type      int    `json:"type"`
	Ctx       int    `json:"ctx"`
	Raw       string `json:"raw"`
	Hex       string `json:"hex"`
}

func (r record) String() string { return fmt.Sprintf("%s#%d(%s)", r.File, r.Seq, r.Conn) }

// payload returns the record's payload bytes.
func (r record) payload(t testing.TB) []byte {
	if r.Type == 0 {
		return []byte(r.Raw)
	}
	b, err := hex.DecodeString(r.Hex)
	if err != nil {
		t.Fatalf("%v: bad hex: %v", r, err)
	}
	return b
}

func (r record) frame(t *testing.T) protocol.Frame {
	f, err := protocol.NewFrame(protocol.Type(r.Type), uint8(r.Ctx), r.payload(t))
	if err != nil {
		t.Fatalf("%v: %v", r, err)
	}
	return f
}

func (r record) json(t *testing.T) map[string]any {
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Raw), &m); err != nil {
		t.Fatalf("%v: bad json: %v", r, err)
	}
	return m
}

// loadStory reads every transcript in order. The transcripts form one
// story: the "host" and "guest" connections of 01 and 02 live on through
// 03–11.
func loadStory(t testing.TB) []record {
	t.Helper()
	files, err := filepath.Glob("testdata/transcripts/*.jsonl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	sort.Strings(files)
	var out []record
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var r record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			r.File = filepath.Base(name)
			r.Idx = len(out)
			out = append(out, r)
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// byConn splits a story into per-connection scripts, in order of first
// appearance.
func byConn(story []record) (names []string, scripts map[string][]record) {
	scripts = map[string][]record{}
	for _, r := range story {
		if _, ok := scripts[r.Conn]; !ok {
			names = append(names, r.Conn)
		}
		scripts[r.Conn] = append(scripts[r.Conn], r)
	}
	return names, scripts
}

// TestTranscriptClientSide replays the server side of every recorded
// connection from a fake server while the client performs the client side
// through its API: every message the client sends must equal the recorded
// one (JSON compared as values, binary byte for byte), every server message
// must come out of Recv unchanged, and the client's catch-up and history
// position tracking must agree with what the server reported.
//
// WebSocket connections of the transcripts are replayed over TCP framing
// here (the client is transport-agnostic); wsconn has its own tests.
func TestTranscriptClientSide(t *testing.T) {
	story := loadStory(t)
	names, scripts := byConn(story)
	if len(names) < 10 {
		t.Fatalf("only %d connections in the transcripts", len(names))
	}
	for _, name := range names {
		script := scripts[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			var wg sync.WaitGroup
			defer wg.Wait() // also after a t.Fatal in driveClient, which closes the client
			wg.Add(1)
			go func() {
				defer wg.Done()
				fakeServer(ctx, t, ln, script)
			}()
			driveClient(ctx, t, ln.Addr().String(), script)
		})
	}
}

// fakeServer accepts one connection and plays script: it writes s2c
// records and checks that c2s records arrive as recorded.
func fakeServer(ctx context.Context, t *testing.T, ln net.Listener, script []record) {
	conn, err := ln.Accept()
	if err != nil {
		t.Errorf("accept: %v", err)
		return
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	rd := protocol.NewReader(bufio.NewReader(conn))
	for _, r := range script {
		switch {
		case r.Dir == "s2c":
			if _, err := conn.Write(r.frame(t)); err != nil {
				t.Errorf("%v: write: %v", r, err)
				return
			}
		case r.Dir == "c2s":
			f, err := rd.ReadFrame()
			if err != nil {
				t.Errorf("%v: server expected a message, read: %v", r, err)
				return
			}
			compareSent(t, r, f)
		case r.Event == "closed" || r.Event == "ws-close":
			return
		case r.Event == "client-close":
			if f, err := rd.ReadFrame(); err != io.EOF {
				t.Errorf("%v: want EOF after client close, got %v %v", r, f, err)
			}
			return
		}
	}
}

func compareSent(t *testing.T, want record, got protocol.Frame) {
	t.Helper()
	if int(got.Type()) != want.Type || int(got.Ctx()) != want.Ctx {
		t.Errorf("%v: client sent type %d ctx %d, recorded type %d ctx %d (%s)", want, got.Type(), got.Ctx(), want.Type, want.Ctx, got.Payload())
		return
	}
	if want.Type != 0 {
		if !reflect.DeepEqual(got.Payload(), want.payload(t)) {
			t.Errorf("%v: payload\n got %x\nwant %x", want, got.Payload(), want.payload(t))
		}
		return
	}
	var g any
	if err := json.Unmarshal(got.Payload(), &g); err != nil {
		t.Errorf("%v: client sent invalid JSON %q", want, got.Payload())
		return
	}
	if w := any(want.json(t)); !reflect.DeepEqual(g, w) {
		t.Errorf("%v: client sent\n %s\nrecorded\n %s", want, got.Payload(), want.Raw)
	}
}

// driveClient performs the client side of script with the client API.
func driveClient(ctx context.Context, t *testing.T, addr string, script []record) {
	var c *client.Client
	loggedIn := false
	catchupKey := -1
	consumed := -1 // story index of the last s2c record read by a login call
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for i, r := range script {
		switch {
		case r.Event == "connect":
			tr, err := client.DialTCP(ctx, addr)
			if err != nil {
				t.Fatal(err)
			}
			c = client.New(tr, client.Options{Info: infoFromScript(t, script)})
			g, err := c.ReadGreeting(ctx)
			if err != nil {
				t.Fatalf("%v: greeting: %v", r, err)
			}
			if !c.HasFlag("LOOKUP") || g.Methods["guest"].Actions == nil {
				t.Errorf("%v: greeting not understood: %+v", r, g)
			}
		case r.Event == "client-close":
			if err := c.Close(); err != nil {
				t.Errorf("%v: close: %v", r, err)
			}
			return
		case r.Event == "closed":
			if _, err := c.Recv(ctx); err != io.EOF {
				t.Errorf("%v: want io.EOF after the server closed, got %v", r, err)
			}
			return
		case r.Dir == "c2s":
			reply := outcome(script[i+1:])
			if !loggedIn && reply != nil {
				consumed = reply.Idx // login calls read their own reply
			}
			if done := sendRecorded(ctx, t, c, r, reply); done {
				loggedIn = true
			}
		case r.Dir == "s2c" && (loggedIn && r.Idx > consumed || r.Type == 1):
			receiveRecorded(ctx, t, c, r, &catchupKey)
		}
	}
}

// outcome returns the server's reply to a c2s record: the first result or
// error before the next c2s record.
func outcome(rest []record) *record {
	for i, r := range rest {
		if r.Dir == "c2s" {
			return nil
		}
		if r.Dir == "s2c" && r.Type == 0 {
			var m struct{ Type string }
			json.Unmarshal([]byte(r.Raw), &m)
			if m.Type == "result" || m.Type == "error" {
				return &rest[i]
			}
		}
	}
	return nil
}

func infoFromScript(t *testing.T, script []record) client.ClientInfo {
	for _, r := range script {
		if r.Dir != "c2s" || r.Type != 0 {
			continue
		}
		var cmd struct {
			Cmd  string
			Args []json.RawMessage
		}
		json.Unmarshal([]byte(r.Raw), &cmd)
		if cmd.Cmd != "cinfo" || len(cmd.Args) != 2 {
			continue
		}
		var m map[string]string
		if err := json.Unmarshal(cmd.Args[1], &m); err != nil {
			t.Fatal(err)
		}
		return client.ClientInfo{AppVersion: m["app_version"], ProtocolVersion: m["protocol_version"],
			QtVersion: m["qt_version"], OS: m["os"], SystemID: m["s"], MachineID: m["m"], Capabilities: m["capabilities"]}
	}
	return client.DefaultClientInfo("00000000000000000000000000000001")
}

// sendRecorded performs one c2s record through the API and checks the
// call's outcome against the recorded reply. It reports whether the client
// is now in a session.
func sendRecorded(ctx context.Context, t *testing.T, c *client.Client, r record, reply *record) (inSession bool) {
	t.Helper()
	if r.Type != 0 {
		if err := c.Send(ctx, protocol.Type(r.Type), r.payload(t)); err != nil {
			t.Fatalf("%v: send: %v", r, err)
		}
		return c.UserID() != 0
	}
	var cmd struct {
		Cmd    string
		Args   []any
		Kwargs map[string]json.RawMessage
	}
	if err := json.Unmarshal([]byte(r.Raw), &cmd); err != nil {
		t.Fatal(err)
	}
	str := func(k string) string {
		var s string
		json.Unmarshal(cmd.Kwargs[k], &s)
		return s
	}
	flag := func(k string) bool {
		var b bool
		json.Unmarshal(cmd.Kwargs[k], &b)
		return b
	}
	var wantErr, wantState string
	var wantUser int
	if reply != nil {
		var m struct {
			Type, Code, State string
			Join              *struct{ User int }
		}
		json.Unmarshal([]byte(reply.Raw), &m)
		if m.Type == "error" {
			wantErr = m.Code
		}
		wantState = m.State
		if m.Join != nil {
			wantUser = m.Join.User
		}
	}
	check := func(err error) {
		t.Helper()
		if wantErr == "" && err != nil {
			t.Fatalf("%v: %s: unexpected error %v", r, cmd.Cmd, err)
		}
		if wantErr != "" && client.ErrorCode(err) != wantErr {
			t.Fatalf("%v: %s: want server error %q, got %v", r, cmd.Cmd, wantErr, err)
		}
	}
	switch cmd.Cmd {
	case "cinfo":
		_, err := c.ClientInfo(ctx, cmd.Args[0].(string))
		check(err)
	case "lookup":
		if len(cmd.Args) > 0 {
			_, err := c.LookupJoin(ctx, cmd.Args[0].(string))
			check(err)
		} else {
			check(c.LookupHost(ctx, client.HostLookup{Alias: str("alias"), NSFM: flag("nsfm"), Password: flag("password")}))
		}
	case "ident":
		o := client.IdentOptions{Name: cmd.Args[0].(string), Intent: str("intent")}
		if len(cmd.Args) > 1 {
			o.Password = cmd.Args[1].(string)
		}
		res, err := c.Ident(ctx, o)
		check(err)
		if err == nil && res.State != wantState {
			t.Fatalf("%v: ident state %q, recorded %q", r, res.State, wantState)
		}
		if err == nil && len(c.Sessions()) == 0 && r.File >= "07" {
			t.Errorf("%v: session list not parsed", r)
		}
	case "host":
		var uid int
		json.Unmarshal(cmd.Kwargs["user_id"], &uid)
		j, err := c.Host(ctx, client.HostOptions{Protocol: str("protocol"), UserID: uid, Alias: str("alias"), Password: str("password")})
		check(err)
		if err == nil {
			if j.User != wantUser || !slices.Contains(j.Flags, "SKIP") || !c.CaughtUp() {
				t.Errorf("%v: host result %+v (caught up %v), recorded user %d", r, j, c.CaughtUp(), wantUser)
			}
			return true
		}
	case "join":
		j, err := c.Join(ctx, client.JoinOptions{Session: cmd.Args[0].(string), Password: str("password"), Hidx: str("hidx")})
		check(err)
		if err == nil {
			if j.User != wantUser || c.CaughtUp() {
				t.Errorf("%v: join result %+v (caught up %v), recorded user %d", r, j, c.CaughtUp(), wantUser)
			}
			return true
		}
	case "sessionconf":
		var sc client.SessionConf
		b, _ := json.Marshal(cmd.Kwargs)
		if err := json.Unmarshal(b, &sc); err != nil {
			t.Fatal(err)
		}
		check(c.SessionConf(ctx, sc))
	case "init-complete":
		check(c.InitComplete(ctx))
	case "kick-user":
		check(c.Kick(ctx, int(cmd.Args[0].(float64)), flag("ban")))
	default:
		t.Fatalf("%v: driver does not know command %q", r, cmd.Cmd)
	}
	return c.UserID() != 0
}

// receiveRecorded reads one message with Recv and compares it with r.
func receiveRecorded(ctx context.Context, t *testing.T, c *client.Client, r record, catchupKey *int) {
	t.Helper()
	predicted := c.ResumeHidx()
	wasCaughtUp := c.CaughtUp()
	m, err := c.Recv(ctx)
	if r.Type == 1 {
		var de *client.DisconnectError
		p := r.payload(t)
		if !errors.As(err, &de) || de.Reason != p[0] || de.Message != string(p[1:]) {
			t.Fatalf("%v: want Disconnect %d %q, got %v", r, p[0], p[1:], err)
		}
		return
	}
	if err != nil {
		t.Fatalf("%v: recv: %v", r, err)
	}
	if int(m.Frame.Type()) != r.Type || int(m.Frame.Ctx()) != r.Ctx || string(m.Frame.Payload()) != string(r.payload(t)) {
		t.Fatalf("%v: received %v %q, recorded type %d ctx %d", r, m.Frame, m.Frame.Payload(), r.Type, r.Ctx)
	}
	if r.Type != 0 {
		return
	}
	if m.Reply == nil {
		t.Fatalf("%v: ServerCommand without parsed reply", r)
	}
	switch m.Reply.Type {
	case "status":
		// The server's own position must match the client's count.
		if m.Reply.HidStar != "" && predicted != "" && predicted != m.Reply.HidStar {
			t.Errorf("%v: client counted history position %s, server says %s", r, predicted, m.Reply.HidStar)
		}
		if m.Reply.HidStar != "" && c.ResumeHidx() != m.Reply.HidStar {
			t.Errorf("%v: ResumeHidx %q after status %q", r, c.ResumeHidx(), m.Reply.HidStar)
		}
	case "catchup":
		*catchupKey = m.Reply.Key
		if c.CaughtUp() {
			t.Errorf("%v: caught up right after catchup", r)
		}
	case "caughtup":
		got, count := c.CatchupProgress()
		if !wasCaughtUp && c.CaughtUp() && got != count+1 {
			// count excludes the caughtup marker itself (last index − first index).
			t.Errorf("%v: caught up after %d history messages, catchup announced %d", r, got, count)
		}
		if !wasCaughtUp && *catchupKey == m.Reply.Key && !c.CaughtUp() {
			t.Errorf("%v: not caught up after the caughtup with key %d", r, m.Reply.Key)
		}
		if !m.History || c.ResumeHidx() != m.Reply.Hidx {
			t.Errorf("%v: caughtup: history %v, ResumeHidx %q", r, m.History, c.ResumeHidx())
		}
	}
}

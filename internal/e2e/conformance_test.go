package e2e

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"drawbridge/internal/client"
	"drawbridge/protocol"
)

// record is one line of a drawpile-srv transcript
// (testdata/transcripts/README.md).
type record struct {
	File      string  `json:"-"`
	Seq       int     `json:"seq"`
	Conn      string  `json:"conn"`
	Transport string  `json:"transport"`
	Dir       string  `json:"dir"`
	Event     string  `json:"event"`
	Origin    *string `json:"origin"`
	Type      int     `json:"type"`
	Ctx       int     `json:"ctx"`
	Raw       string  `json:"raw"`
	Hex       string  `json:"hex"`
}

func (r record) String() string { return fmt.Sprintf("%s#%d(%s)", r.File, r.Seq, r.Conn) }

func (r record) payload() []byte {
	if r.Type == 0 {
		return []byte(r.Raw)
	}
	b, err := hex.DecodeString(r.Hex)
	if err != nil {
		panic(fmt.Sprintf("%v: bad hex in testdata: %v", r, err))
	}
	return b
}

// jsonType returns the "type" of a recorded server JSON message.
func (r record) jsonType() string {
	var m struct{ Type string }
	json.Unmarshal([]byte(r.Raw), &m)
	return m.Type
}

// loadTranscripts reads all transcripts in order; together they are one
// story (the host and guest of 01 and 02 stay connected through 11).
func loadTranscripts(t *testing.T) []record {
	t.Helper()
	files, err := filepath.Glob("testdata/transcripts/*.jsonl")
	if err != nil || len(files) < 11 {
		t.Fatalf("transcripts missing (%d files): %v", len(files), err)
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
			r.File = strings.TrimSuffix(filepath.Base(name), ".jsonl")
			out = append(out, r)
		}
		f.Close()
	}
	return out
}

// ignored reports server messages that are not compared because their
// presence depends on timing or on log policy: session log entries and the
// periodic status with "hid*".
func ignored(typ int, raw []byte) bool {
	if typ != 0 {
		return false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	var t string
	json.Unmarshal(m["type"], &t)
	if t == "log" {
		return true
	}
	_, hid := m["hid*"]
	return t == "status" && hid
}

// replayConn is one transcript connection replayed against the bridge.
type replayConn struct {
	name    string
	tr      client.Transport
	k       kind
	closed  bool     // closed by us or by the bridge
	dead    bool     // unusable after a read error
	pending []record // expected server messages not yet received
}

// TestTranscriptConformance replays the client side of every transcript
// against the bridge, in the recorded order, and compares the replies with
// the recorded drawpile-srv replies: message type, JSON "type", "state",
// "code" and the set of fields (recursively), plus the values that do not
// vary between runs (see valueKeys). Ids, timestamps, keys, hidx and server
// message texts are compared by shape only; user ids are mapped from the
// recorded ones to the ones the bridge assigned.
//
// After each client action the expected replies of every connection are
// awaited. History messages must arrive in the recorded order; direct
// notices (sessionconf lists, msg, …) may come in a different order among
// themselves, since only their presence matters to clients. Session log
// entries and the periodic status with "hid*" are not compared.
func TestTranscriptConformance(t *testing.T) {
	e := newEnv(t)
	story := loadTranscripts(t)
	var order []*replayConn
	conns := map[string]*replayConn{}
	users := map[int]int{} // recorded user id → bridge user id
	mapUser := func(id int) int {
		if v, ok := users[id]; ok {
			return v
		}
		return id
	}
	flush := func() {
		for _, c := range order {
			awaitPending(t, e, c, users, mapUser)
		}
	}
	file := ""
	for _, r := range story {
		if r.File != file {
			flush()
			file = r.File
			t.Logf("--- %s", file)
		}
		c := conns[r.Conn]
		if r.Dir != "s2c" {
			flush()
		}
		switch {
		case r.Event == "connect":
			k := tcp
			if r.Transport == "ws" {
				k = ws
				if r.Origin != nil {
					k = browser
				}
			}
			c = &replayConn{name: r.Conn, tr: e.transport(k), k: k}
			conns[r.Conn] = c
			order = append(order, c)
		case r.Event == "client-close":
			c.tr.Close()
			c.closed = true
		case r.Event == "closed" || r.Event == "ws-close":
			if c.closed || c.dead {
				continue
			}
			c.closed = true
			ctx, cancel := context.WithTimeout(e.ctx, 3*time.Second)
			f, err := readCompared(ctx, c.tr)
			cancel()
			if err != io.EOF {
				t.Errorf("%v: want the bridge to close the connection, got %v %v", r, f, err)
			}
		case r.Dir == "c2s":
			if c.dead {
				continue
			}
			f := c2sFrame(t, r, mapUser)
			if err := c.tr.WriteFrame(e.ctx, f); err != nil {
				t.Errorf("%v: send: %v", r, err)
				c.dead = true
			}
		case r.Dir == "s2c":
			if !ignored(r.Type, r.payload()) {
				c.pending = append(c.pending, r)
			}
		}
	}
	flush()
}

// kindOf classifies a server message for matching: the message type, the
// JSON type, the result state and the sessionconf member names.
func kindOf(typ int, payload []byte) string {
	if typ != 0 {
		return strconv.Itoa(typ)
	}
	var m struct {
		Type, State string
		Config      map[string]json.RawMessage
	}
	json.Unmarshal(payload, &m)
	keys := make([]string, 0, len(m.Config))
	for k := range m.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return m.Type + "/" + m.State + "/" + strings.Join(keys, ",")
}

// isHistory reports whether a server message is a history entry (whose
// order is the same for everyone).
func isHistory(typ int, payload []byte) bool {
	if typ == 0 {
		k := kindOf(typ, payload)
		full := strings.HasPrefix(k, "sessionconf/") && strings.Contains(k, "title")
		return full || strings.HasPrefix(k, "caughtup/") || strings.HasPrefix(k, "sstart/")
	}
	return typ >= 32 && typ != 38 && typ != 39
}

// awaitPending reads c's expected messages and compares them.
func awaitPending(t *testing.T, e *env, c *replayConn, users map[int]int, mapUser func(int) int) {
	t.Helper()
	for len(c.pending) > 0 && !c.dead {
		ctx, cancel := context.WithTimeout(e.ctx, 3*time.Second)
		f, err := readCompared(ctx, c.tr)
		cancel()
		if err != nil {
			var missing []string
			for _, r := range c.pending {
				missing = append(missing, fmt.Sprintf("%v %s", r, describe(r)))
			}
			t.Errorf("%s: read: %v; never received:\n  %s", c.name, err, strings.Join(missing, "\n  "))
			c.pending = nil
			if c.k != tcp || !errors.Is(err, context.DeadlineExceeded) {
				c.dead = true // a WebSocket read cancelled by ctx closes the connection
			}
			return
		}
		kind, hist := kindOf(int(f.Type()), f.Payload()), isHistory(int(f.Type()), f.Payload())
		match := -1
		for i, r := range c.pending {
			if kindOf(r.Type, r.payload()) == kind {
				match = i
				break
			}
		}
		if match < 0 {
			t.Errorf("%s: unexpected message from the bridge: %v %q (waiting for %v %s)", c.name, f, f.Payload(), c.pending[0], describe(c.pending[0]))
			continue
		}
		if hist {
			for _, r := range c.pending[:match] {
				if isHistory(r.Type, r.payload()) {
					t.Errorf("%s: history out of order: got %v %q before %v %s", c.name, f, f.Payload(), r, describe(r))
					break
				}
			}
		}
		compareReply(t, c.pending[match], f, users, mapUser)
		c.pending = append(c.pending[:match], c.pending[match+1:]...)
	}
}

// readCompared reads the next server message that is not ignored.
func readCompared(ctx context.Context, tr client.Transport) (protocol.Frame, error) {
	for {
		f, err := tr.ReadFrame(ctx)
		if err != nil {
			return nil, err
		}
		if ignored(int(f.Type()), f.Payload()) {
			continue
		}
		return f.Clone(), nil
	}
}

func describe(r record) string {
	if r.Type == 0 {
		return r.Raw
	}
	return fmt.Sprintf("type %d ctx %d %s", r.Type, r.Ctx, r.Hex)
}

// c2sFrame builds the frame to send for a recorded client message, with
// recorded user ids mapped to the bridge's.
func c2sFrame(t *testing.T, r record, mapUser func(int) int) protocol.Frame {
	p := r.payload()
	ctx := uint8(mapUser(r.Ctx))
	if r.Type == 0 {
		ctx = 0
		var cmd map[string]any
		if err := json.Unmarshal(p, &cmd); err != nil {
			t.Fatalf("%v: %v", r, err)
		}
		if cmd["cmd"] == "kick-user" {
			args := cmd["args"].([]any)
			if id, ok := args[0].(float64); ok {
				args[0] = mapUser(int(id))
			}
			var err error
			if p, err = json.Marshal(cmd); err != nil {
				t.Fatal(err)
			}
		}
	}
	return frame(t, protocol.Type(r.Type), ctx, p)
}

// valueKeys are JSON members whose values must equal the recorded ones:
// they follow from the scenario, not from the run.
var valueKeys = map[string]bool{
	"type": true, "state": true, "code": true, "lookup": true, "T": true, "P": true,
	"browser": true, "guest": true, "ident": true, "reason": true, "version": true,
	"alias": true, "founder": true, "title": true, "protocol": true, "hasPassword": true,
	"allowWeb": true, "nsfm": true, "persistent": true, "preserveChat": true,
	"maxUserCount": true, "authOnly": true, "deputies": true, "hasOpword": true,
	"closed": true, "autotitle": true, "invites": true, "unlisted": true,
}

// setKeys are arrays compared as sets (the server builds them from hash
// sets, so their order varies).
var setKeys = map[string]bool{"flags": true, "actions": true}

func compareReply(t *testing.T, want record, got protocol.Frame, users map[int]int, mapUser func(int) int) {
	t.Helper()
	if int(got.Type()) != want.Type {
		t.Errorf("%v: bridge sent type %d %q, recorded %s", want, got.Type(), got.Payload(), describe(want))
		return
	}
	wp, gp := want.payload(), got.Payload()
	switch {
	case want.Type == 0:
		var w, g any
		if err := json.Unmarshal(wp, &w); err != nil {
			t.Fatalf("%v: %v", want, err)
		}
		if err := json.Unmarshal(gp, &g); err != nil {
			t.Errorf("%v: bridge sent invalid JSON %q", want, gp)
			return
		}
		if diffs := shapeDiff("", w, g); len(diffs) > 0 {
			t.Errorf("%v: JSON differs from drawpile-srv:\n  %s\n bridge: %s\n record: %s", want, strings.Join(diffs, "\n  "), gp, wp)
		}
		learnUser(w, g, users)
	case want.Type == 34 || want.Type == 36 || want.Type == 68: // user id lists
		m := make([]byte, len(wp))
		for i, id := range wp {
			m[i] = byte(mapUser(int(id)))
		}
		if !sameSet(m, gp) {
			t.Errorf("%v: user list %v, want %v (recorded %v)", want, gp, m, wp)
		}
	default:
		if string(wp) != string(gp) {
			t.Errorf("%v: payload\n bridge %x\n record %x", want, gp, wp)
		}
	}
	if want.Type != 0 && int(got.Ctx()) != mapUser(want.Ctx) {
		t.Errorf("%v: ctx %d, want %d (recorded %d)", want, got.Ctx(), mapUser(want.Ctx), want.Ctx)
	}
}

// learnUser maps the recorded user id of a host/join result to the
// bridge's.
func learnUser(w, g any, users map[int]int) {
	wj, _ := w.(map[string]any)["join"].(map[string]any)
	gm, _ := g.(map[string]any)
	if wj == nil || gm == nil {
		return
	}
	gj, _ := gm["join"].(map[string]any)
	if gj == nil {
		return
	}
	wu, ok1 := wj["user"].(float64)
	gu, ok2 := gj["user"].(float64)
	if ok1 && ok2 {
		users[int(wu)] = int(gu)
	}
}

func sameSet(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	x := append([]byte(nil), a...)
	y := append([]byte(nil), b...)
	sort.Slice(x, func(i, j int) bool { return x[i] < x[j] })
	sort.Slice(y, func(i, j int) bool { return y[i] < y[j] })
	return string(x) == string(y)
}

// shapeDiff compares want and got: same member names at every level, same
// JSON kinds, equal values for valueKeys, equal sets for setKeys.
func shapeDiff(path string, want, got any) []string {
	var diffs []string
	key := path[strings.LastIndex(path, ".")+1:]
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: object expected, got %T", path, got)}
		}
		for k := range w {
			if _, ok := g[k]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s.%s: missing", path, k))
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s.%s: not in drawpile-srv's reply", path, k))
			}
		}
		if valueKeys[key] && !reflect.DeepEqual(w, g) {
			return append(diffs, fmt.Sprintf("%s: %v, want %v", path, g, w))
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if gv, ok := g[k]; ok {
				diffs = append(diffs, shapeDiff(path+"."+k, w[k], gv)...)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: array expected, got %T", path, got)}
		}
		if setKeys[key] {
			ws, gs := fmt.Sprint(sortedStrings(w)), fmt.Sprint(sortedStrings(g))
			if ws != gs {
				diffs = append(diffs, fmt.Sprintf("%s: %s, want %s", path, gs, ws))
			}
			return diffs
		}
		if len(w) != len(g) {
			return append(diffs, fmt.Sprintf("%s: %d elements, want %d", path, len(g), len(w)))
		}
		for i := range w {
			diffs = append(diffs, shapeDiff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
	default:
		if fmt.Sprintf("%T", want) != fmt.Sprintf("%T", got) {
			return []string{fmt.Sprintf("%s: %T %v, want %T", path, got, got, want)}
		}
		if valueKeys[key] && !reflect.DeepEqual(want, got) {
			diffs = append(diffs, fmt.Sprintf("%s: %v, want %v", path, got, want))
		}
	}
	return diffs
}

func sortedStrings(a []any) []string {
	s := make([]string, len(a))
	for i, v := range a {
		s[i] = fmt.Sprint(v)
	}
	sort.Strings(s)
	return s
}

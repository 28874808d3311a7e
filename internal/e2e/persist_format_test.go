package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"drawbridge/internal/bridge"
	"drawbridge/internal/client"
	"drawbridge/protocol"
)

// legacyID is the session id of the drawpile-srv style fixture.
const legacyID = "01HZY8QGZ8M3K2V9T5W4X6R7AB"

// writeLegacySession writes a session directory as drawpile-srv leaves it
// (server.md §2.9): a journal with metadata records and a recording
// whose last user never left (the server was killed).
func writeLegacySession(t *testing.T, dir string) []protocol.Frame {
	t.Helper()
	journal := strings.Join([]string{
		"# written by hand after drawpile-srv's FiledHistory",
		"FILE " + legacyID + ".dprec",
		"ALIAS legacy",
		"FOUNDER oldhost",
		"TITLE Made by drawpile-srv",
		"PASSWORD plain;letmein",
		"MAXUSERS 10",
		"FLAGS persistent nsfm",
		"BAN 1 evil ::ffff:10.0.0.9  oldhost",
		"USER 3 oldhost",
		"CATCHUP 1000005",
		"NOSUCHRECORD is skipped with a warning",
		"",
	}, "\n")
	if err := os.WriteFile(filepath.Join(dir, legacyID+".session"), []byte(journal), 0o644); err != nil {
		t.Fatal(err)
	}
	frames := []protocol.Frame{frame(t, 32, 3, append([]byte{0, 7}, "oldhost"...))}
	frames = append(frames, snapshot(t, 3)...)
	frames = append(frames, frame(t, 35, 3, append([]byte{0, 0}, "hello from the past"...)))
	rec, err := protocol.AppendRecordingPrefix(nil, protocol.NewRecordingHeader("version", "dp:4.25.1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		rec = append(rec, f...)
	}
	if err := os.WriteFile(filepath.Join(dir, legacyID+".dprec"), rec, 0o644); err != nil {
		t.Fatal(err)
	}
	return frames
}

// TestLegacySessionDirectory: a session directory in drawpile-srv's format
// loads in the bridge with its metadata (password, bans, alias) and
// history, repaired like upstream (a Leave for the user still joined), and
// sessions the bridge creates are written in the same format.
func TestLegacySessionDirectory(t *testing.T) {
	dir := t.TempDir()
	want := writeLegacySession(t, dir)
	e := newEnv(t, func(c *bridge.Config) { c.Persist.SessionsDir = dir })

	if _, err := e.joinOpts("bob", tcp, client.JoinOptions{Session: "legacy", Password: "wrong"}); client.ErrorCode(err) != client.CodeBadPassword {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := e.joinOpts("evil", tcp, client.JoinOptions{Session: "legacy", Password: "letmein"}); client.ErrorCode(err) != "banned" {
		t.Errorf("banned name: %v, want banned", err)
	}
	c, got := e.join("bob", tcp, "legacy", "letmein")
	if c.JoinInfo().ID != "legacy" || c.JoinInfo().UniqueID != legacyID {
		t.Errorf("join info %+v", c.JoinInfo())
	}
	var hist []protocol.Frame
	for _, r := range got {
		if r.History && r.Type != 0 {
			f, _ := protocol.NewFrame(r.Type, r.Ctx, []byte(r.Payload))
			hist = append(hist, f)
		}
	}
	if len(hist) < len(want)+1 {
		t.Fatalf("caught up on %d messages, want at least %d", len(hist), len(want)+1)
	}
	for i, f := range want {
		if !bytes.Equal(hist[i], f) {
			t.Fatalf("history message %d = % x, want % x", i, []byte(hist[i]), []byte(f))
		}
	}
	if l := hist[len(want)]; l.Type() != 33 || l.Ctx() != 3 {
		t.Errorf("message after the recorded history = type %d ctx %d, want the synthetic Leave of user 3", l.Type(), l.Ctx())
	}

	// A session hosted on the bridge is written in the same format.
	h := e.host("carol", tcp, client.HostOptions{Alias: "newone"})
	id := h.JoinInfo().UniqueID
	j, err := os.ReadFile(filepath.Join(dir, id+".session"))
	if err != nil {
		t.Fatalf("journal of a new session: %v", err)
	}
	for _, line := range []string{"FILE " + id + ".dprec\n", "ALIAS newone\n", "FOUNDER carol\n", "USER 1 carol\n"} {
		if !strings.Contains(string(j), line) {
			t.Errorf("journal lacks %q:\n%s", line, j)
		}
	}
	rec, err := os.ReadFile(filepath.Join(dir, id+".dprec"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(rec, []byte("DPREC\x00")) || !bytes.Contains(rec[:64], []byte(`"version":"dp:4.25.1"`)) {
		t.Errorf("recording header %q", rec[:min(len(rec), 64)])
	}
	// Its history so far is in the recording, in TCP framing after the header.
	for _, f := range snapshot(t, h.UserID()) {
		if !bytes.Contains(rec, f) {
			t.Errorf("recording lacks the host's snapshot message type %d", f.Type())
		}
	}
}

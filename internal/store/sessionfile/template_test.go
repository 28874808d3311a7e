package sessionfile

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A dptxt template as in drawpile-srv's own template test.
const dptxtTemplate = "!version=dp:4.25.1\n" +
	"!maxUserCount=1\n" +
	"!founder=tester\n" +
	"!password=plain;qwerty123\n" +
	"!title=Test\n" +
	"!nsfm=false\n" +
	"!persistent=yes\n" +
	"!allowWeb=TRUE\n" +
	"\n" +
	"1 resize {\"bottom\":3000,\"left\":0,\"right\":3000,\"top\":0}\n" +
	"1 layertreecreate {\"fill\":\"#00000000\",\"id\":257,\"source\":0,\"target\":0,\"title\":\"background\"}\n"

func TestTemplates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "test.dptxt", dptxtTemplate)
	writeFile(t, dir, "empty.dptxt", "")
	writeFile(t, dir, "bad_alias.dptxt", dptxtTemplate)
	writeFile(t, dir, "old.dptxt", strings.Replace(dptxtTemplate, "4.25.1", "4.24.0", 1))
	writeFile(t, dir, "notes.txt", "not a template")
	// A binary template with JSON-typed header values.
	resize := frame(t, 129, 1, string(make([]byte, 16)))
	bin := buildRecording(`{"version":"dp:4.25.1","maxUserCount":300,"nsfm":1,"unlisted":true,"deputies":"false","title":"Binary","opword":"secret","announce":"https://lists.example/"}`, resize)
	writeFile(t, dir, "bin-1.dprec", string(bin))
	writeFile(t, dir, "bin-1.dptxt", dptxtTemplate) // same alias: the first file wins

	var logs syncBuffer
	ts, err := ScanTemplates(dir, testLogger(t, &logs))
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[0].Alias != "bin-1" || ts[1].Alias != "test" {
		t.Fatalf("templates %v", ts)
	}
	for _, want := range []string{"empty.dptxt", "bad_alias.dptxt", "old.dptxt", "bin-1.dptxt"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log does not mention %s:\n%s", want, logs.String())
		}
	}

	txt := ts[1]
	if txt.Founder != "tester" || txt.Title != "Test" || txt.MaxUsers != 1 || txt.Password != "plain;qwerty123" ||
		txt.Flags != Persistent|AllowWeb || !txt.Text || txt.Version != "dp:4.25.1" {
		t.Errorf("dptxt template %+v", txt)
	}
	frames, err := txt.Frames()
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 2 || frames[0].Type() != 129 || frames[1].Type() != 162 || frames[0].Ctx() != 1 {
		t.Errorf("frames %v", frames)
	}
	// resize: top, right, bottom, left as i32 BE.
	if want := []byte{0, 0, 0, 0, 0, 0, 0x0b, 0xb8, 0, 0, 0x0b, 0xb8, 0, 0, 0, 0}; !bytes.Equal(frames[0].Payload(), want) {
		t.Errorf("resize payload %x", frames[0].Payload())
	}
	s := txt.JournalState()
	if s.Founder != "tester" || s.Password != "plain;qwerty123" || s.MaxUsers != 1 || s.Flags != Persistent|AllowWeb {
		t.Errorf("journal state %+v", s)
	}

	b := ts[0]
	if b.Text || b.Title != "Binary" || b.MaxUsers != 255 || b.Flags != Nsfm|Unlisted || b.Founder != "-" || b.Announce != "https://lists.example/" {
		t.Errorf("binary template %+v", b)
	}
	if PasswordIsHash(b.Opword) || b.JournalState().Opword != "" {
		t.Error("plain opword taken for a hash")
	}
	if s := b.JournalState(); s.MaxUsers != 254 || len(s.Announce) != 1 {
		t.Errorf("journal state %+v", s)
	}
	frames, err = b.Frames()
	if err != nil || len(frames) != 1 || !bytes.Equal(frames[0], resize) {
		t.Errorf("binary frames %v %v", frames, err)
	}

	// A session created from the template takes its state.
	f, err := Create(dir, "01HQZX3V9G5S1W2Y3Z4A5B6C7E", Meta{Alias: txt.Alias, Founder: txt.Founder}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.SetJournal(txt.JournalState()); err != nil {
		t.Fatal(err)
	}
	if err := f.AppendHistory(frames...); err != nil {
		t.Fatal(err)
	}
	if st := f.State(); st.Title != "Test" || st.Alias != "test" || st.MaxUsers != 1 {
		t.Errorf("session state %+v", st)
	}
}

func TestValidAlias(t *testing.T) {
	t.Parallel()
	for alias, ok := range map[string]bool{
		"abc-123": true, "abc_1": false, "": false, strings.Repeat("a", 32): true, strings.Repeat("a", 33): false,
		"01HQZX3V9G5S1W2Y3Z4A5B6C7D":           false, // a ULID
		"123e4567-e89b-12d3-a456-426614174000": false, // a UUID
		"my-session":                           true,
	} {
		if ValidAlias(alias) != ok {
			t.Errorf("ValidAlias(%q) = %v", alias, !ok)
		}
	}
}

func TestRecordPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.Local)
	got, err := RecordPath(dir, "", now, "ID1", "")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "2026-03-04 05.06.07 session ID1.dprec"); got != want {
		t.Errorf("directory pattern: %q, want %q", got, want)
	}
	writeFile(t, dir, "2026-03-04 05.06.07 session ID1.dprec", "x")
	if got, _ := RecordPath(dir, "", now, "ID1", ""); got != filepath.Join(dir, "2026-03-04 05.06.07 session ID1 (1).dprec") {
		t.Errorf("unique name: %q", got)
	}
	got, err = RecordPath("~/rec/%a/%i-%d.dprec", dir, now, "ID1", "alias")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "rec", "alias", "ID1-2026-03-04.dprec"); got != want {
		t.Errorf("placeholders: %q, want %q", got, want)
	}
	if st, err := os.Stat(filepath.Join(dir, "rec", "alias")); err != nil || !st.IsDir() {
		t.Errorf("directory not created: %v", err)
	}
	if h := ServerRecordingHeader("dp:4.24.0").String(); h != `{"version":"dp:4.24.0","server-recording":"true"}` {
		t.Errorf("server recording header %s", h)
	}
}

package sessionfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"drawbridge/protocol"
)

const testID = "01HQZX3V9G5S1W2Y3Z4A5B6C7D"

func frame(t testing.TB, typ protocol.Type, ctx uint8, payload string) protocol.Frame {
	t.Helper()
	f, err := protocol.NewFrame(typ, ctx, []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// testLogger logs to the test output and, if buf is not nil, to buf.
func testLogger(t *testing.T, buf *syncBuffer) *slog.Logger {
	var w interface{ Write([]byte) (int, error) } = t.Output()
	if buf != nil {
		w = multiWriter{t.Output(), buf}
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type multiWriter []interface{ Write([]byte) (int, error) }

func (m multiWriter) Write(p []byte) (int, error) {
	for _, w := range m {
		w.Write(p)
	}
	return len(p), nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func framesEqual(t *testing.T, got, want []protocol.Frame) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d frames, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("frame %d = %x, want %x", i, []byte(got[i]), []byte(want[i]))
		}
	}
}

func TestCreateAppendReopen(t *testing.T) {
	t.Parallel()
	for _, policy := range []FsyncPolicy{FsyncBatch, FsyncAlways, FsyncNever} {
		t.Run(policy.String(), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			opts := Options{Fsync: policy, Logger: testLogger(t, nil)}
			f, err := Create(dir, testID, Meta{Alias: "test", Founder: "me!"}, opts)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Create(dir, testID, Meta{}, opts); !errors.Is(err, ErrExists) {
				t.Errorf("second Create: %v, want ErrExists", err)
			}
			hist := []protocol.Frame{
				frame(t, protocol.TypeJoin, 1, "\x00\x05alice"),
				frame(t, 0, 0, `{"type":"sessionconf"}`),
				frame(t, 128, 1, ""),
				frame(t, 200, 1, strings.Repeat("x", 1000)),
				frame(t, protocol.TypeLeave, 1, ""),
			}
			if err := f.AppendHistory(hist[:2]...); err != nil {
				t.Fatal(err)
			}
			if err := f.AppendHistory(hist[2:]...); err != nil {
				t.Fatal(err)
			}
			if err := f.AppendHistory(protocol.Frame{0, 9, 1, 1}); err == nil {
				t.Error("malformed frame accepted")
			}
			steps := []error{
				f.SetTitle("Hello\nworld "), f.SetFlags(Persistent | Nsfm), f.SetMaxUsers(11),
				f.SetPasswordHash("plain;pass"), f.SetOp("u1", true), f.SetTrusted("t1", true),
				f.RememberUser(3, "carol d"), f.SetAuthName("n1", "Some User"),
				f.SetArchive(ArchiveOff), f.SetSizeLimit(1 << 40), f.SetAutoReset(123),
				f.AddAnnouncement("http://example.com/"),
				f.AddInvite(Invite{Secret: "ABCDEFGH", CreatedAt: "2024-01-02T03:04:05Z", MaxUses: 2, Op: true}),
				f.UseInvite("ABCDEFGH", "0123", "dave"),
			}
			if id, err := f.AddBan(Ban{Name: "troll x", IP: "::ffff:10.0.0.1", BannedBy: "op"}); err != nil || id != 1 {
				t.Errorf("AddBan = %d, %v", id, err)
			}
			if k, err := f.NextCatchupKey(); err != nil || k != InitialCatchupKey {
				t.Errorf("NextCatchupKey = %d, %v", k, err)
			}
			if err := errors.Join(steps...); err != nil {
				t.Fatal(err)
			}
			before := f.State()
			if before.Title != "Hello world" || before.MaxUsers != 11 || before.SizeLimit != maxSizeLimit {
				t.Errorf("state %+v", before)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if err := f.AppendHistory(hist[0]); !errors.Is(err, ErrClosed) {
				t.Errorf("append after close: %v", err)
			}

			g, rec, err := Open(dir, testID, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			if rec.TruncatedAt != -1 || len(rec.Leaves) != 0 {
				t.Errorf("recovery %+v on a clean file", rec)
			}
			if got := g.State(); !reflect.DeepEqual(normalize(got), normalize(before)) {
				t.Errorf("reloaded state\n got %+v\nwant %+v", got, before)
			}
			got, err := g.Frames()
			if err != nil {
				t.Fatal(err)
			}
			framesEqual(t, got, hist)
			if g.Version() != DefaultVersion || g.Len() != 5 {
				t.Errorf("version %q len %d", g.Version(), g.Len())
			}
			var size int64
			for _, h := range hist {
				size += int64(len(h))
			}
			if g.Size() != size {
				t.Errorf("size %d, want %d", g.Size(), size)
			}
			// The recording is a .dprec with Drawpile's server header.
			b, err := os.ReadFile(filepath.Join(dir, testID+".dprec"))
			if err != nil {
				t.Fatal(err)
			}
			if want := "DPREC\x00\x00\x17{\"version\":\"dp:4.25.1\"}"; !strings.HasPrefix(string(b), want) {
				t.Errorf("recording starts %q", b[:min(len(b), 40)])
			}
		})
	}
}

// buildRecording writes a .dprec by hand: magic, u16 BE header length,
// JSON header, frames.
func buildRecording(header string, frames ...protocol.Frame) []byte {
	b := []byte("DPREC\x00")
	b = binary.BigEndian.AppendUint16(b, uint16(len(header)))
	b = append(b, header...)
	for _, f := range frames {
		b = append(b, f...)
	}
	return b
}

// TestDrawpileFixture loads a session directory laid out exactly as
// drawpile-srv leaves it after a crash: the journal switched to an _r2
// recording, whose last message is cut off and in which user 2 and 7
// never left.
func TestDrawpileFixture(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	hist := []protocol.Frame{
		frame(t, protocol.TypeJoin, 1, "\x01\x05alice"),
		frame(t, protocol.TypeJoin, 2, "\x00\x03bob"),
		frame(t, protocol.TypeJoin, 7, "\x00\x03eve"),
		frame(t, 0, 0, `{"type":"caughtup","key":1000000}`),
		frame(t, 200, 2, "draw"),
		frame(t, protocol.TypeLeave, 1, ""),
	}
	partial := frame(t, 200, 2, "cut off here")
	rec := buildRecording(`{"version":"dp:4.25.1"}`, hist...)
	full := len(rec)
	rec = append(rec, partial[:7]...)
	journal := "FILE " + testID + ".dprec\nALIAS fixture\nFOUNDER alice\nTITLE Fixture\nFLAGS persistent\nFILE " + testID + "_r2.dprec\nMAXUSERS 5\n"
	writeFile(t, dir, testID+".session", journal)
	writeFile(t, dir, testID+"_r2.dprec", string(rec))
	writeFile(t, dir, testID+".dprec", "old generation, not read")

	var logs syncBuffer
	f, recov, err := Open(dir, testID, Options{Logger: testLogger(t, &logs)})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if recov.TruncatedAt != int64(full) || recov.DroppedBytes != 7 || !slices.Equal(recov.Leaves, []uint8{2, 7}) {
		t.Errorf("recovery %+v, want truncation at %d and leaves [2 7]", recov, full)
	}
	want := append(slices.Clone(hist), frame(t, protocol.TypeLeave, 2, ""), frame(t, protocol.TypeLeave, 7, ""))
	got, err := f.Frames()
	if err != nil {
		t.Fatal(err)
	}
	framesEqual(t, got, want)
	s := f.State()
	if s.Alias != "fixture" || s.Title != "Fixture" || s.Flags != Persistent || s.MaxUsers != 5 || s.File != testID+"_r2.dprec" || s.FileCount != 2 {
		t.Errorf("state %+v", s)
	}
	if !strings.Contains(logs.String(), testID+"_r2.dprec") || !strings.Contains(logs.String(), "truncated") {
		t.Errorf("no log line naming the truncated file:\n%s", logs.String())
	}
	// The repair is on disk: the file is whole messages plus the leaves.
	b, _ := os.ReadFile(filepath.Join(dir, testID+"_r2.dprec"))
	if len(b) != full+2*protocol.HeaderLen {
		t.Errorf("repaired file has %d bytes, want %d", len(b), full+8)
	}
	// A new append goes after the leaves, and the next reset is _r3.
	if err := f.AppendHistory(frame(t, 201, 3, "more")); err != nil {
		t.Fatal(err)
	}
	if err := f.Reset(frame(t, 128, 1, "")); err != nil {
		t.Fatal(err)
	}
	if s := f.State(); s.File != testID+"_r3.dprec" {
		t.Errorf("after reset File = %q", s.File)
	}
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestResetAndArchive(t *testing.T) {
	t.Parallel()
	for _, archive := range []bool{false, true} {
		t.Run(map[bool]string{false: "delete", true: "archive"}[archive], func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			opts := Options{ArchiveByDefault: archive, Logger: testLogger(t, nil)}
			f, err := Create(dir, testID, Meta{Founder: "me"}, opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.AppendHistory(frame(t, 200, 1, "old")); err != nil {
				t.Fatal(err)
			}
			if err := f.SetThumbnail([]byte("png")); err != nil {
				t.Fatal(err)
			}
			image := []protocol.Frame{frame(t, protocol.TypeJoin, 1, "\x00\x01a"), frame(t, 200, 1, "image")}
			if err := f.Reset(image...); err != nil {
				t.Fatal(err)
			}
			if err := f.AppendHistory(frame(t, 200, 1, "after")); err != nil {
				t.Fatal(err)
			}
			_, oldErr := os.Stat(filepath.Join(dir, testID+".dprec"))
			_, archErr := os.Stat(filepath.Join(dir, testID+".dprec.archived"))
			if archive != (archErr == nil) || oldErr == nil {
				t.Errorf("old recording: stat %v, archived %v", oldErr, archErr)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			g, rec, err := Open(dir, testID, opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := g.Frames()
			if err != nil {
				t.Fatal(err)
			}
			// The joined user gets a synthetic leave on reload.
			framesEqual(t, got, append(slices.Clone(image), frame(t, 200, 1, "after"), frame(t, protocol.TypeLeave, 1, "")))
			if !slices.Equal(rec.Leaves, []uint8{1}) {
				t.Errorf("leaves %v", rec.Leaves)
			}
			if th, _, err := g.Thumbnail(); err != nil || string(th) != "png" {
				t.Errorf("thumbnail %q %v", th, err)
			}
			if g.Archived() != archive {
				t.Errorf("Archived = %v", g.Archived())
			}
			if err := g.Terminate(); err != nil {
				t.Fatal(err)
			}
			names := dirNames(t, dir)
			want := []string{}
			if archive {
				want = []string{testID + ".dprec.archived", testID + ".session.archived", testID + ".thumbnail.archived", testID + "_r2.dprec.archived"}
			}
			if !slices.Equal(names, want) {
				t.Errorf("files after terminate: %v, want %v", names, want)
			}
		})
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

func TestArchiveOverride(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f, err := Create(dir, testID, Meta{Founder: "me"}, Options{ArchiveByDefault: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetArchive(ArchiveOff); err != nil {
		t.Fatal(err)
	}
	if err := f.Terminate(); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("ARCHIVE 0 left %v", names)
	}
}

func TestCompact(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := Options{Fsync: FsyncAlways}
	f, err := Create(dir, testID, Meta{Alias: "a", Founder: "me"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.AppendHistory(frame(t, 200, 1, "x")); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		f.SetMaxUsers(2 + i)
		f.SetOp("u", i%2 == 0)
	}
	f.SetTitle("t")
	if err := f.Reset(frame(t, 200, 1, "y")); err != nil {
		t.Fatal(err)
	}
	before := f.State()
	jpath := filepath.Join(dir, JournalName(testID))
	long, _ := os.ReadFile(jpath)
	if err := f.Compact(); err != nil {
		t.Fatal(err)
	}
	short, _ := os.ReadFile(jpath)
	if len(short) >= len(long)/4 {
		t.Errorf("compacted journal %d bytes, was %d", len(short), len(long))
	}
	// Appends go to the new journal.
	if err := f.SetTitle("after compaction"); err != nil {
		t.Fatal(err)
	}
	before.Title = "after compaction"
	f.Close()
	g, _, err := Open(dir, testID, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	got := g.State()
	before.FileCount = 1
	if !reflect.DeepEqual(normalize(got), normalize(before)) {
		t.Errorf("after compaction\n got %+v\nwant %+v\n%s", got, before, short)
	}
	// The next reset still gets a fresh name.
	if err := g.Reset(frame(t, 200, 1, "z")); err != nil {
		t.Fatal(err)
	}
	if s := g.State(); s.File != testID+"_r3.dprec" {
		t.Errorf("File = %q", s.File)
	}
}

func TestLoadDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := []protocol.Frame{frame(t, 200, 1, "good")}
	mk := func(id, journal string, rec []byte) {
		writeFile(t, dir, id+".session", journal)
		if rec != nil {
			writeFile(t, dir, id+".dprec", string(rec))
		}
	}
	header := `{"version":"dp:4.25.1"}`
	mk("aaa-good", "FILE aaa-good.dprec\nTITLE Good\n", buildRecording(header, good...))
	mk("bbb-badline", "FILE bbb-badline.dprec\nTITLE Still loads\nFROBNICATE 12\n", buildRecording(header, good...))
	mk("ccc-truncated", "FILE ccc-truncated.dprec\n", append(buildRecording(header, good...), 0, 9, 200))
	mk("ddd-garbage", "FILE ddd-garbage.dprec\n", []byte("this is not a recording"))
	mk("eee-nofile", "\x00\x01\x02 garbage journal\n", nil)
	mk("fff-empty", "FILE fff-empty.dprec\n", buildRecording(header))
	mk("ggg-missing", "FILE ggg-missing.dprec\n", nil)
	mk("hhh-oldversion", "FILE hhh-oldversion.dprec\n", buildRecording(`{"version":"dp:3.0.0"}`, good...))
	writeFile(t, dir, "iii.session.archived", "FILE x\n")
	writeFile(t, dir, "README", "not a session")
	unreadable := filepath.Join(dir, "jjj-unreadable.session")
	writeFile(t, dir, "jjj-unreadable.session", "FILE jjj.dprec\n")
	os.Chmod(unreadable, 0)
	defer os.Chmod(unreadable, 0o644)

	var logs syncBuffer
	loaded, err := LoadDir(dir, testLogger(t, &logs), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, l := range loaded {
		ids = append(ids, l.ID)
		got, err := l.File.Frames()
		if err != nil {
			t.Fatal(err)
		}
		framesEqual(t, got, good)
		l.File.Close()
	}
	if want := []string{"aaa-good", "bbb-badline", "ccc-truncated"}; !slices.Equal(ids, want) {
		t.Errorf("loaded %v, want %v", ids, want)
	}
	if loaded[1].File.State().Title != "Still loads" {
		t.Errorf("bad-line session state %+v", loaded[1].File.State())
	}
	out := logs.String()
	for _, want := range []string{
		"bbb-badline.session", "line=3", // the corrupt journal line, by file and line
		"ccc-truncated.dprec",  // the repaired recording
		"ddd-garbage.dprec",    // skipped: garbage recording
		"eee-nofile.session",   // skipped: no FILE record
		"fff-empty",            // skipped: empty history
		"ggg-missing.dprec",    // skipped: recording missing
		"hhh-oldversion.dprec", // skipped: incompatible version
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log does not mention %q:\n%s", want, out)
		}
	}
	if os.Getuid() != 0 && !strings.Contains(out, "jjj-unreadable.session") {
		t.Errorf("log does not mention the unreadable journal:\n%s", out)
	}
	// Nothing that could not be read was deleted or changed.
	for _, name := range []string{"ddd-garbage.dprec", "ddd-garbage.session", "eee-nofile.session", "fff-empty.dprec", "ggg-missing.session", "hhh-oldversion.dprec", "iii.session.archived", "README"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "ddd-garbage.dprec")); string(b) != "this is not a recording" {
		t.Errorf("garbage recording changed: %q", b)
	}
}

func TestValidIDAndNames(t *testing.T) {
	t.Parallel()
	for id, ok := range map[string]bool{testID: true, "abc-123": true, "": false, "a.b": false, "../x": false, "a b": false, "a/b": false} {
		if ValidID(id) != ok {
			t.Errorf("ValidID(%q) = %v", id, !ok)
		}
	}
	if _, err := Create(t.TempDir(), "../evil", Meta{}, Options{}); !errors.Is(err, ErrBadID) {
		t.Errorf("Create with bad id: %v", err)
	}
	for name, n := range map[string]int{testID + ".dprec": 1, testID + "_r7.dprec": 7, testID + "_r12 (2).dprec": 12, "other.dprec": 0} {
		if got := recordingNumber(testID, name); got != n {
			t.Errorf("recordingNumber(%q) = %d, want %d", name, got, n)
		}
	}
	for _, s := range []string{"batch", "always", "never"} {
		p, err := ParseFsyncPolicy(s)
		if err != nil || p.String() != s {
			t.Errorf("ParseFsyncPolicy(%q) = %v, %v", s, p, err)
		}
	}
	if _, err := ParseFsyncPolicy("sometimes"); err == nil {
		t.Error("bad policy accepted")
	}
}

func TestBlocksAndConcurrentReads(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f, err := Create(dir, testID, Meta{Founder: "me"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	payload := strings.Repeat("p", 60000)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a reader racing the appends (run with -race)
		defer wg.Done()
		for range 20 {
			for fr, err := range f.History() {
				if err != nil {
					t.Error(err)
					return
				}
				if fr.Type() != 200 {
					t.Errorf("frame %v", fr)
				}
			}
		}
	}()
	for range 40 {
		if err := f.AppendHistory(frame(t, 200, 1, payload)); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	blocks := f.Blocks()
	if len(blocks) < 3 {
		t.Fatalf("%d blocks for %d bytes", len(blocks), f.Size())
	}
	var n int64
	for i, b := range blocks {
		if b.First != n {
			t.Errorf("block %d first %d, want %d", i, b.First, n)
		}
		if i < len(blocks)-1 && b.Size <= maxBlockSize {
			t.Errorf("block %d closed at %d bytes", i, b.Size)
		}
		frames, err := f.ReadBlock(i)
		if err != nil || len(frames) != b.Count {
			t.Fatalf("block %d: %d frames, %v", i, len(frames), err)
		}
		n += int64(b.Count)
	}
	if n != 40 || f.Len() != 40 {
		t.Errorf("%d messages in blocks, Len %d", n, f.Len())
	}
}

func BenchmarkAppendHistory(b *testing.B) {
	for _, policy := range []FsyncPolicy{FsyncNever, FsyncBatch, FsyncAlways} {
		b.Run(policy.String(), func(b *testing.B) {
			f, err := Create(b.TempDir(), testID, Meta{Founder: "bench"}, Options{Fsync: policy})
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			fr := frame(b, 148, 1, strings.Repeat("d", 200)) // a typical dab message
			b.SetBytes(int64(len(fr)))
			b.ReportAllocs()
			for b.Loop() {
				if err := f.AppendHistory(fr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package sessionfile

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"drawbridge/protocol"
)

func TestStreamReset(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := Options{Logger: testLogger(t, nil)}
	f, err := Create(dir, testID, Meta{Founder: "me"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	a, b := frame(t, 200, 1, "a"), frame(t, 200, 1, "b")
	if err := f.AppendHistory(a, b); err != nil {
		t.Fatal(err)
	}
	forkAt := f.Size() + int64(protocol.RecordingPrefixLen+len(`{"version":"dp:4.25.1"}`))
	join := frame(t, protocol.TypeJoin, 1, "\x00\x01x")
	sr, err := f.BeginStreamReset(join)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.BeginStreamReset(); !errors.Is(err, ErrStreamReset) {
		t.Errorf("second BeginStreamReset: %v", err)
	}
	c := frame(t, 200, 2, "c, after the fork")
	if err := f.AppendHistory(c); err != nil {
		t.Fatal(err)
	}
	i1, i2 := frame(t, 201, 1, "image 1"), frame(t, 202, 1, "image 2")
	if err := sr.Append(i1, i2); err != nil {
		t.Fatal(err)
	}
	d := frame(t, 200, 2, "d")
	if err := f.AppendHistory(d); err != nil {
		t.Fatal(err)
	}
	if sr.ImageLen() != 3 || sr.ImageSize() != int64(len(join)+len(i1)+len(i2)) || sr.ForkedSize() != int64(len(c)+len(d)) {
		t.Errorf("image %d msgs %d bytes, forked %d bytes", sr.ImageLen(), sr.ImageSize(), sr.ForkedSize())
	}
	// Until resolved, the session's history is the old one.
	got, _ := f.Frames()
	framesEqual(t, got, []protocol.Frame{a, b, c, d})
	if err := sr.Resolve(); err != nil {
		t.Fatal(err)
	}
	want := []protocol.Frame{join, i1, i2, c, d}
	got, _ = f.Frames()
	framesEqual(t, got, want)
	e := frame(t, 200, 2, "e")
	if err := f.AppendHistory(e); err != nil {
		t.Fatal(err)
	}
	want = append(want, e)
	if s := f.State(); s.File != testID+"_r2.dprec" {
		t.Errorf("File = %q", s.File)
	}
	if _, err := os.Stat(filepath.Join(dir, testID+".dprec")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("old recording still there: %v", err)
	}
	if err := sr.Resolve(); !errors.Is(err, ErrStreamReset) {
		t.Errorf("second Resolve: %v", err)
	}
	f.Close()

	// The new file carries drawpile-srv's streamfork header.
	rf, err := os.Open(filepath.Join(dir, testID+"_r2.dprec"))
	if err != nil {
		t.Fatal(err)
	}
	rr, err := protocol.NewRecordingReader(bufio.NewReader(rf))
	rf.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rr.Header().String(), `{"version":"dp:4.25.1","streamfork":`+strconv.FormatInt(forkAt, 10)+`}`; got != want {
		t.Errorf("header %s, want %s", got, want)
	}
	g, rec, err := Open(dir, testID, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	got, _ = g.Frames()
	framesEqual(t, got, append(want, frame(t, protocol.TypeLeave, 1, "")))
	if !slices.Equal(rec.Leaves, []uint8{1}) {
		t.Errorf("leaves %v", rec.Leaves)
	}
}

func TestStreamResetDiscard(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f, err := Create(dir, testID, Meta{Founder: "me"}, Options{Fsync: FsyncNever})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a := frame(t, 200, 1, "a")
	f.AppendHistory(a)
	sr, err := f.BeginStreamReset()
	if err != nil {
		t.Fatal(err)
	}
	sr.Append(frame(t, 201, 1, "image"))
	if err := sr.Discard(); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{testID + ".dprec", testID + ".session"}) {
		t.Errorf("files %v", names)
	}
	if err := sr.Append(a); !errors.Is(err, ErrStreamReset) {
		t.Errorf("Append after Discard: %v", err)
	}
	// A classic reset during a streamed reset abandons the stream.
	sr2, err := f.BeginStreamReset()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Reset(a); err != nil {
		t.Fatal(err)
	}
	if err := sr2.Resolve(); !errors.Is(err, ErrStreamReset) {
		t.Errorf("Resolve after Reset: %v", err)
	}
	if names := dirNames(t, dir); len(names) != 2 {
		t.Errorf("files %v", names)
	}
	got, _ := f.Frames()
	framesEqual(t, got, []protocol.Frame{a})
}

package session

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"drawbridge/internal/store/sessionfile"
	"drawbridge/protocol"
)

// newFileServer returns a server whose sessions live in dir.
func newFileServer(t *testing.T, dir string, mod func(*Settings), cfg FileConfig) (*Server, int) {
	t.Helper()
	srv := newTestServer(t, mod)
	cfg.Dir = dir
	cfg.Options.Fsync = sessionfile.FsyncNever // no background syncer: works in synctest bubbles
	n, err := srv.EnableFiles(cfg)
	if err != nil {
		t.Fatalf("EnableFiles: %v", err)
	}
	return srv, n
}

func shutdown(t *testing.T, srv *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// memHistory returns a copy of s's in-memory history.
func memHistory(s *Session) []protocol.Frame {
	s.lock()
	defer s.mu.Unlock()
	out := make([]protocol.Frame, len(s.hist))
	for i, e := range s.hist {
		out[i] = e.f.Clone()
	}
	return out
}

// fileHistory reads the live session's recording.
func fileHistory(t *testing.T, s *Session) []protocol.Frame {
	t.Helper()
	frames, err := s.file.Frames()
	if err != nil {
		t.Fatal(err)
	}
	return frames
}

func sameFrames(a, b []protocol.Frame) bool {
	return slices.EqualFunc(a, b, func(x, y protocol.Frame) bool { return bytes.Equal(x, y) })
}

func sessionFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestFileBackedHistoryMatchesMemory: every message in the in-memory
// history (what clients are sent) is in the recording, in order, byte for
// byte, while the session runs; journal metadata follows sessionconf.
func TestFileBackedHistoryMatchesMemory(t *testing.T) {
	dir := t.TempDir()
	srv, n := newFileServer(t, dir, func(st *Settings) { st.Persistence = true }, FileConfig{})
	if n != 0 {
		t.Fatalf("restored %d sessions from an empty dir", n)
	}
	host := connect(t, srv, ConnInfo{})
	host.host("alice", map[string]any{"alias": "mysession", "password": "secret"})
	s := srv.Lookup("mysession")
	if s == nil {
		t.Fatal("session not found")
	}
	host.send("sessionconf", nil, map[string]any{"persistent": true, "maxUserCount": 7, "title": "Persisted"})
	for i := range 50 {
		if err := host.sendFrame(130, 1, []byte{byte(i), 1, 2, 3}); err != nil {
			t.Fatal(err)
		}
	}
	guest := connect(t, srv, ConnInfo{})
	guest.join("bob", "mysession", map[string]any{"password": "secret"})
	if err := guest.sendFrame(35, 0, []byte{0, 0, 'h', 'i'}); err != nil { // chat
		t.Fatal(err)
	}
	mem := memHistory(s)
	disk := fileHistory(t, s)
	if !sameFrames(mem, disk) {
		t.Fatalf("file history (%d messages) differs from memory (%d)", len(disk), len(mem))
	}
	st := s.file.State()
	if st.Title != "Persisted" || st.MaxUsers != 7 || st.Flags&sessionfile.Persistent == 0 || st.Alias != "mysession" || st.Founder != "alice" {
		t.Errorf("journal state = title %q max %d flags %v alias %q founder %q", st.Title, st.MaxUsers, st.Flags, st.Alias, st.Founder)
	}
	if st.Password == "" || strings.Contains(st.Password, "secret") {
		t.Errorf("journal password = %q, want a hash", st.Password)
	}
	if id, ok := st.UserIDFor("bob"); !ok || id != guest.c.id {
		t.Errorf("journal USER bob = %d %v, want %d", id, ok, guest.c.id)
	}
	shutdown(t, srv)
	if names := sessionFiles(t, dir); !slices.Contains(names, s.ID()+".session") || !slices.Contains(names, s.ID()+".dprec") {
		t.Fatalf("graceful shutdown must keep the files, dir has %v", names)
	}
}

// TestFileBackedRestart: a restarted server restores the session with its
// metadata and history; a new client catches up on all of it.
func TestFileBackedRestart(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		srv, _ := newFileServer(t, dir, func(st *Settings) { st.Persistence = true }, FileConfig{})
		host := connect(t, srv, ConnInfo{})
		host.host("alice", map[string]any{"alias": "keep", "password": "pw1"})
		host.send("sessionconf", nil, map[string]any{"persistent": true, "title": "Kept", "nsfm": true})
		for i := range 20 {
			if err := host.sendFrame(130, 1, []byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
		}
		old := srv.Lookup("keep")
		id := old.ID()
		before := memHistory(old)
		shutdown(t, srv)

		srv2, n := newFileServer(t, dir, func(st *Settings) { st.Persistence = true }, FileConfig{})
		defer shutdown(t, srv2)
		if n != 1 {
			t.Fatalf("restored %d sessions, want 1", n)
		}
		s := srv2.Lookup("keep")
		if s == nil || s.ID() != id {
			t.Fatalf("restored session = %v, want id %s", s, id)
		}
		d := s.Desc()
		if d.Title != "Kept" || !d.Persistent || !d.Nsfm || !d.HasPassword || d.Founder != "alice" {
			t.Errorf("restored desc = %+v", d)
		}
		if n := len(memHistory(s)); n != 0 {
			t.Errorf("restored session holds %d messages in memory before anyone joined", n)
		}
		after := fileHistory(t, s)
		if len(after) < len(before) || !sameFrames(after[:len(before)], before) {
			t.Fatalf("restored history does not start with the old history (%d vs %d messages)", len(after), len(before))
		}
		for _, f := range after[len(before):] { // only the synthetic Leaves may follow
			if f.Type() != typeLeave {
				t.Errorf("unexpected message type %d after the old history", f.Type())
			}
		}

		bob := connect(t, srv2, ConnInfo{})
		bob.join("bob", "keep", map[string]any{"password": "wrong"})
		if s.Desc().UserCount != 0 {
			t.Fatal("joined with a wrong password")
		}
		bob2 := connect(t, srv2, ConnInfo{})
		bob2.join("bob", "keep", map[string]any{"password": "pw1"})
		if s.Desc().UserCount != 1 {
			t.Fatal("cannot join the restored session with its password")
		}
		// bob2 receives every old history message, in order.
		synctest.Wait()
		if got := historyFrames(bob2.conn.take()); !containsRun(got, before) {
			t.Fatalf("joiner did not receive the restored history (got %d frames)", len(got))
		}
	})
}

// historyFrames returns a snapshot of the non-JSON frames a fake
// connection received.
func historyFrames(fs []protocol.Frame) []protocol.Frame {
	var out []protocol.Frame
	for _, f := range fs {
		if f.Type() != 0 {
			out = append(out, f)
		}
	}
	return out
}

// containsRun reports whether the non-JSON frames of want appear in got in
// order, as one run.
func containsRun(got, want []protocol.Frame) bool {
	w := historyFrames(want)
	if len(w) == 0 {
		return true
	}
	for i := range got {
		if len(got)-i < len(w) {
			return false
		}
		if sameFrames(got[i:i+len(w)], w) {
			return true
		}
	}
	return false
}

// TestFileBackedTermination: a non-persistent session whose last user
// leaves is terminated and its files deleted (or archived).
func TestFileBackedTermination(t *testing.T) {
	for _, archive := range []bool{false, true} {
		t.Run(map[bool]string{false: "delete", true: "archive"}[archive], func(t *testing.T) {
			dir := t.TempDir()
			srv, _ := newFileServer(t, dir, nil, FileConfig{Options: sessionfile.Options{ArchiveByDefault: archive}})
			defer shutdown(t, srv)
			host := connect(t, srv, ConnInfo{})
			host.host("alice", nil)
			id := host.c.Session().ID()
			host.c.Close()
			if srv.Lookup(id) != nil {
				t.Fatal("session still live")
			}
			names := sessionFiles(t, dir)
			for _, n := range names {
				if !archive || !strings.HasSuffix(n, ".archived") {
					t.Errorf("file %s left behind", n)
				}
			}
			if archive && !slices.Contains(names, id+".session.archived") {
				t.Errorf("archive: files = %v", names)
			}
		})
	}
}

// TestFileBackedEmptyReaped: a restored non-persistent session nobody
// rejoins is ended after the linger time and its files deleted; a
// persistent one stays.
func TestFileBackedEmptyReaped(t *testing.T) {
	dir := t.TempDir()
	var persistentID, tempID string
	{
		srv, _ := newFileServer(t, dir, func(st *Settings) { st.Persistence = true }, FileConfig{})
		a := connect(t, srv, ConnInfo{})
		a.host("alice", map[string]any{"alias": "p"})
		a.send("sessionconf", nil, map[string]any{"persistent": true})
		b := connect(t, srv, ConnInfo{})
		b.host("bob", map[string]any{"alias": "t"})
		persistentID, tempID = srv.Lookup("p").ID(), srv.Lookup("t").ID()
		shutdown(t, srv)
	}
	synctest.Test(t, func(t *testing.T) {
		srv, n := newFileServer(t, dir, func(st *Settings) { st.EmptySessionLingerTime = time.Minute }, FileConfig{})
		if n != 2 {
			t.Fatalf("restored %d, want 2", n)
		}
		time.Sleep(59 * time.Second)
		synctest.Wait()
		if srv.Lookup(tempID) == nil {
			t.Fatal("non-persistent session reaped before the linger time")
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if srv.Lookup(tempID) != nil {
			t.Fatal("non-persistent empty session not reaped")
		}
		if srv.Lookup(persistentID) == nil {
			t.Fatal("persistent session reaped")
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		srv.Shutdown(ctx)
	})
	names := sessionFiles(t, dir)
	if slices.Contains(names, tempID+".session") || !slices.Contains(names, persistentID+".session") {
		t.Errorf("files after reaping: %v", names)
	}
}

// TestFileBackedBadFilesSkipped: an unreadable session is logged and
// skipped, its files kept; the good one loads.
func TestFileBackedBadFilesSkipped(t *testing.T) {
	dir := t.TempDir()
	{
		srv, _ := newFileServer(t, dir, func(st *Settings) { st.Persistence = true }, FileConfig{})
		a := connect(t, srv, ConnInfo{})
		a.host("alice", map[string]any{"alias": "good"})
		a.send("sessionconf", nil, map[string]any{"persistent": true})
		shutdown(t, srv)
	}
	bad := filepath.Join(dir, "01BADBADBADBADBADBADBADBAD.session")
	if err := os.WriteFile(bad, []byte("FILE missing.dprec\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	srv := NewServer(Options{Settings: DefaultSettings(), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	defer shutdown(t, srv)
	n, err := srv.EnableFiles(FileConfig{Dir: dir, Options: sessionfile.Options{Fsync: sessionfile.FsyncNever}})
	if err != nil || n != 1 {
		t.Fatalf("EnableFiles = %d, %v; want 1 session", n, err)
	}
	if srv.Lookup("good") == nil {
		t.Error("good session not restored")
	}
	if !strings.Contains(logs.String(), bad) {
		t.Errorf("log does not name %s:\n%s", bad, logs.String())
	}
	if _, err := os.Stat(bad); err != nil {
		t.Errorf("unreadable session file was removed: %v", err)
	}
}

// TestFileBackedReset: a reset starts a new recording holding exactly the
// new history.
func TestFileBackedReset(t *testing.T) {
	dir := t.TempDir()
	srv, _ := newFileServer(t, dir, nil, FileConfig{})
	defer shutdown(t, srv)
	host := connect(t, srv, ConnInfo{})
	host.host("alice", nil)
	s := host.c.Session()
	for i := range 10 {
		host.sendFrame(130, 1, []byte{byte(i)})
	}
	host.send("reset-session", nil, nil)
	host.send("init-begin", nil, nil)
	host.sendFrame(129, 1, make([]byte, 16))
	host.send("init-complete", nil, nil)
	host.sendFrame(130, 1, []byte{42})
	st := s.file.State()
	if !strings.Contains(st.File, "_r") {
		t.Errorf("recording after reset = %q, want an _rN file", st.File)
	}
	if mem, disk := memHistory(s), fileHistory(t, s); !sameFrames(mem, disk) {
		t.Errorf("after reset: file has %d messages, memory %d", len(disk), len(mem))
	}
}

// TestAppendAllocs: persisting a relayed message allocates nothing.
func TestAppendAllocs(t *testing.T) {
	dir := t.TempDir()
	f, err := sessionfile.Create(dir, "allocs", sessionfile.Meta{}, sessionfile.Options{Fsync: sessionfile.FsyncNever})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := &Session{file: f}
	fr := mustFrame(130, 1, []byte{1, 2, 3, 4})
	if n := testing.AllocsPerRun(100, func() { s.persistLocked(fr) }); n != 0 {
		t.Errorf("persistLocked allocates %v times per message", n)
	}
}

// A dptxt template (header keys of server.md §2.10) with two messages.
const testTemplate = "!version=dp:4.25.1\n" +
	"!maxUserCount=5\n" +
	"!founder=tester\n" +
	"!password=plain;qwerty123\n" +
	"!title=From a template\n" +
	"!persistent=false\n" +
	"\n" +
	"1 resize {\"bottom\":300,\"left\":0,\"right\":300,\"top\":0}\n" +
	"1 layertreecreate {\"fill\":\"#00000000\",\"id\":257,\"source\":0,\"target\":0,\"title\":\"background\"}\n"

// TestTemplates: joining (or looking up) a template's alias instantiates a
// session with the template's settings and messages, file-backed; once it
// ends the template is available again, under a new session id.
func TestTemplates(t *testing.T) {
	dir, tdir := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(tdir, "tpl.dptxt"), []byte(testTemplate), 0o644); err != nil {
		t.Fatal(err)
	}
	resize := mustFrame(129, 1, make([]byte, 16))
	bin, err := protocol.AppendRecordingPrefix(nil, protocol.NewRecordingHeader("version", "dp:4.25.1", "title", "Binary", "persistent", "true"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tdir, "bin.dprec"), append(bin, resize...), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, _ := newFileServer(t, dir, nil, FileConfig{Templates: tdir})
	defer shutdown(t, srv)

	if srv.Lookup("nosuch") != nil {
		t.Fatal("lookup of an unknown alias found a session")
	}
	bad := connect(t, srv, ConnInfo{})
	bad.join("mallory", "tpl", map[string]any{"password": "wrong"})
	s := srv.Lookup("tpl")
	if s == nil {
		t.Fatal("template not instantiated")
	}
	if d := s.Desc(); d.UserCount != 0 || d.Title != "From a template" || d.MaxUserCount != 5 || !d.HasPassword || d.Founder != "tester" || d.Persistent {
		t.Errorf("template session desc %+v", d)
	}
	hist := memHistory(s)
	if len(hist) != 2 || hist[0].Type() != 129 {
		t.Fatalf("template history = %d messages", len(hist))
	}
	if disk := fileHistory(t, s); !sameFrames(disk, hist) {
		t.Errorf("template session recording has %d messages, want %d", len(disk), len(hist))
	}
	if st := s.file.State(); st.Title != "From a template" || st.Alias != "tpl" {
		t.Errorf("template session journal %+v", st)
	}
	a := connect(t, srv, ConnInfo{})
	a.join("alice", "tpl", map[string]any{"password": "qwerty123"})
	if s.Desc().UserCount != 1 {
		t.Fatal("cannot join the template session with the template password")
	}
	first := s.ID()
	a.c.Close() // last user of a non-persistent session: it ends
	if srv.Lookup(first) != nil {
		t.Fatal("template session did not end")
	}
	s2 := srv.Lookup("TPL")
	if s2 == nil || s2.ID() == first {
		t.Fatalf("template not available again after its session ended (%v)", s2)
	}

	b := srv.Lookup("bin")
	if b == nil {
		t.Fatal(".dprec template not instantiated")
	}
	if d := b.Desc(); d.Title != "Binary" || !d.Persistent {
		t.Errorf(".dprec template desc %+v", d)
	}
	if h := memHistory(b); len(h) != 1 || !bytes.Equal(h[0], resize) {
		t.Errorf(".dprec template history %v", h)
	}
}

// TestRecordPath: --record writes a server recording (header with
// server-recording) of the whole history, named by the placeholders.
func TestRecordPath(t *testing.T) {
	dir, rdir := t.TempDir(), t.TempDir()
	srv, _ := newFileServer(t, dir, nil, FileConfig{Record: filepath.Join(rdir, "rec-%a-%i-%d.dprec")})
	host := connect(t, srv, ConnInfo{})
	host.host("alice", map[string]any{"alias": "recorded"})
	for i := range 5 {
		host.sendFrame(130, 1, []byte{byte(i)})
	}
	s := host.c.Session()
	want := memHistory(s)
	id := s.ID()
	shutdown(t, srv)

	matches, _ := filepath.Glob(filepath.Join(rdir, "rec-recorded-"+id+"-"+time.Now().Format("2006")+"-*.dprec"))
	if len(matches) != 1 {
		t.Fatalf("recordings %v in %v", matches, sessionFiles(t, rdir))
	}
	f, err := os.Open(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rr, err := protocol.NewRecordingReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := rr.Header().Get("server-recording"); v != "true" {
		t.Errorf("header %s lacks server-recording", rr.Header())
	}
	var got []protocol.Frame
	for {
		fr, err := rr.ReadFrame()
		if err != nil {
			break
		}
		got = append(got, fr.Clone())
	}
	if !sameFrames(got, want) {
		t.Errorf("recording has %d messages, history %d", len(got), len(want))
	}
}

// memBytes returns the bytes of history s holds in memory.
func memBytes(s *Session) (n int64) {
	s.lock()
	defer s.mu.Unlock()
	for _, e := range s.hist {
		n += int64(len(e.f))
	}
	return n
}

// TestFileBackedMemoryBounded: a file-backed session keeps only what its
// connected clients still need in memory, whatever the total history
// size; a late joiner catches up on the whole history from the file.
func TestFileBackedMemoryBounded(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		srv, _ := newFileServer(t, dir, nil, FileConfig{})
		host := connect(t, srv, ConnInfo{})
		host.host("alice", nil)
		s := host.c.Session()
		payload := make([]byte, 60000)
		const total = 16 << 20
		for i := range total / len(payload) {
			payload[0] = byte(i)
			if err := host.sendFrame(130, 1, payload); err != nil {
				t.Fatal(err)
			}
			if i%8 == 0 {
				synctest.Wait() // the host's writer keeps up
				host.conn.take()
			}
		}
		synctest.Wait()
		if mem := memBytes(s); mem > 3*trimBytes {
			t.Errorf("session holds %d bytes of history in memory after %d bytes appended", mem, total)
		}
		want, err := s.file.Frames()
		if err != nil {
			t.Fatal(err)
		}
		bob := connect(t, srv, ConnInfo{})
		bob.join("bob", s.ID(), nil)
		synctest.Wait()
		got := historyFrames(bob.conn.take())
		if !containsRun(got, want) {
			t.Errorf("late joiner got %d messages, not the %d of the history in order", len(got), len(want))
		}
		if mem := memBytes(s); mem > 3*trimBytes {
			t.Errorf("after the catch-up, %d bytes of history in memory", mem)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		srv.Shutdown(ctx)
	})
}

// TestTemplateListed: templates appear in the session list with a
// pre-assigned id; joining by that id instantiates the session under it;
// a live session shadows its template.
func TestTemplateListed(t *testing.T) {
	tdir := t.TempDir()
	if err := os.WriteFile(filepath.Join(tdir, "tpl.dptxt"), []byte(testTemplate), 0o644); err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		srv, _ := newFileServer(t, t.TempDir(), nil, FileConfig{Templates: tdir})
		listed := func() map[string]string {
			x := connect(t, srv, ConnInfo{})
			x.cinfo()
			x.send("ident", []any{"watcher"}, nil)
			synctest.Wait()
			ids := map[string]string{}
			for _, r := range jsonReplies(t, x.conn.take()) {
				if r.str("message") != "Welcome" {
					continue
				}
				list, _ := r["sessions"].([]any)
				for _, e := range list {
					d, _ := e.(map[string]any)
					alias, _ := d["alias"].(string)
					id, _ := d["id"].(string)
					ids[alias] = id
				}
			}
			x.c.Close()
			return ids
		}
		ids := listed()
		id := ids["tpl"]
		if id == "" {
			t.Fatalf("template not in the session list: %v", ids)
		}
		a := connect(t, srv, ConnInfo{})
		a.join("alice", id, map[string]any{"password": "qwerty123"})
		s := srv.Lookup("tpl")
		if s == nil || s.ID() != id || s.Desc().UserCount != 1 {
			t.Fatalf("joining the listed id %s: session %v", id, s)
		}
		if ids := listed(); ids["tpl"] != id {
			t.Errorf("list with the live session: %v, want only the live session %s", ids, id)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		srv.Shutdown(ctx)
	})
}

// BenchmarkPersistAppend measures the hot-path cost of a file-backed
// session: one write(2) per relayed message, fsync batched.
func BenchmarkPersistAppend(b *testing.B) {
	f, err := sessionfile.Create(b.TempDir(), "bench", sessionfile.Meta{}, sessionfile.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	s := &Session{file: f}
	fr := mustFrame(148, 1, make([]byte, 100))
	b.SetBytes(int64(len(fr)))
	b.ReportAllocs()
	for b.Loop() {
		s.persistLocked(fr)
	}
}

// TestAdminInvitesJournaled: invites created and removed through the admin
// API reach the journal at once, not at the next join or leave.
func TestAdminInvitesJournaled(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		srv, _ := newFileServer(t, dir, nil, FileConfig{})
		defer shutdown(t, srv)
		host := connect(t, srv, ConnInfo{})
		host.host("alice", map[string]any{"alias": "inv"})
		s := srv.Lookup("inv")
		journal := func() sessionfile.State {
			t.Helper()
			f, err := os.Open(filepath.Join(dir, sessionfile.JournalName(s.ID())))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, _, err := sessionfile.ParseJournal(f)
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
		inv, err := s.CreateInvite(3, true, false)
		if err != nil {
			t.Fatal(err)
		}
		if st := journal(); len(st.Invites) != 1 || st.Invites[0].Secret != inv.Secret {
			t.Fatalf("journal invites after create: %+v", st.Invites)
		}
		if err := s.RemoveInvite(inv.Secret); err != nil {
			t.Fatal(err)
		}
		if st := journal(); len(st.Invites) != 0 {
			t.Fatalf("journal invites after remove: %+v", st.Invites)
		}
	})
}

// Package sessionfile stores file-backed sessions in drawpile-srv's on-disk
// format (server.md §2.6–2.9), so a --sessions directory written by
// drawpile-srv loads here and vice versa:
//
//	<id>.session           append-only text journal, one "KEYWORD params" record per line
//	<id>.dprec             history recording (protocol.md §7.1), header {"version":"dp:4.x.y"}
//	<id>_r<N>.dprec        the recording after the (N−1)th reset (named by the journal's FILE record)
//	<id>.thumbnail         latest thumbnail bytes
//	*.archived             the above, renamed on termination in archive mode
//
// It owns files: creating, appending, crash recovery (a truncated trailing
// message is dropped, synthetic Leave messages are appended for users
// still joined, as upstream), resets, compaction, termination. It does not
// own session semantics: what goes into the history and which journal
// records to write are the session server's decisions.
//
// Durability is stronger than upstream's (which flushes its recording
// every 30 s): AppendHistory writes the frames with one write(2) on an
// unbuffered file before it returns, so once it returns the bytes are in
// the kernel and survive the process being killed; the FsyncPolicy decides
// when they are forced to stable storage. Journal records are single
// appended lines (a crash can only cut the last line, which the reader
// drops); compaction and thumbnails are written atomically (temporary file,
// fsync, rename).
//
// Use: Create starts a new session's files, Open (or LoadDir at startup)
// loads existing ones; AppendHistory before a message is sent to anyone;
// the Set*/Add*/Remove* methods or SetJournal (a whole State at once) for
// journal records; Reset for a classic reset, BeginStreamReset/Resolve for
// a streamed one; History/ReadBlock/Blocks to read history on demand;
// Close at shutdown (files kept), Terminate when the session ends (files
// deleted or archived).
//
// Goroutines: a File in FsyncBatch mode owns one background goroutine that
// fsyncs dirty files, started by Create/Open and stopped by Close or
// Terminate. Every File method is safe for concurrent use (one mutex,
// File.mu, guards all mutable state; the syncer takes it only to pick up
// the files to sync).
package sessionfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"drawbridge/protocol"
)

// FsyncPolicy says when appended data is forced to stable storage.
type FsyncPolicy int

const (
	// FsyncBatch (the zero value, the default) fsyncs in the background
	// within Options.BatchInterval (default 50 ms, at most 100 ms) of an
	// append.
	FsyncBatch FsyncPolicy = iota
	// FsyncAlways fsyncs before AppendHistory and journal updates return.
	FsyncAlways
	// FsyncNever leaves flushing to the operating system. Data still
	// survives a killed process, not a power loss.
	FsyncNever
)

// ParseFsyncPolicy parses "batch", "always" or "never".
func ParseFsyncPolicy(s string) (FsyncPolicy, error) {
	switch s {
	case "batch", "":
		return FsyncBatch, nil
	case "always":
		return FsyncAlways, nil
	case "never":
		return FsyncNever, nil
	}
	return 0, fmt.Errorf("sessionfile: unknown fsync policy %q (want batch, always or never)", s)
}

func (p FsyncPolicy) String() string {
	switch p {
	case FsyncAlways:
		return "always"
	case FsyncNever:
		return "never"
	}
	return "batch"
}

// Options configure a File. The zero value is valid.
type Options struct {
	Fsync FsyncPolicy
	// BatchInterval bounds the delay of FsyncBatch; 0 means 50 ms, values
	// above 100 ms are lowered to 100 ms.
	BatchInterval time.Duration
	// ArchiveByDefault is the server's archive setting, used for sessions
	// whose journal says ArchiveDefault.
	ArchiveByDefault bool
	// Logger receives recovery and journal warnings; nil discards them.
	Logger *slog.Logger
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

func (o Options) interval() time.Duration {
	switch {
	case o.BatchInterval <= 0:
		return 50 * time.Millisecond
	case o.BatchInterval > 100*time.Millisecond:
		return 100 * time.Millisecond
	}
	return o.BatchInterval
}

// Errors returned by Create, Open and the File methods.
var (
	ErrExists      = errors.New("sessionfile: session files already exist")
	ErrBadID       = errors.New("sessionfile: invalid session id")
	ErrNoRecording = errors.New("sessionfile: journal names no recording file")
	ErrEmpty       = errors.New("sessionfile: session history is empty")
	ErrVersion     = errors.New("sessionfile: recording has an incompatible protocol version")
	ErrClosed      = errors.New("sessionfile: file is closed")
)

// DefaultVersion is the recording version written when none is given.
const DefaultVersion = "dp:4.25.1"

// maxBlockSize: a history block is closed when its size goes above this
// (drawpile-srv: 0xffff × 10).
const maxBlockSize = 0xffff * 10

// Block is a run of consecutive history messages in the current
// recording: Offset and Size in bytes within the file, First the index of
// its first message (0 = the first message of the current recording).
type Block struct {
	Offset int64
	Size   int64
	First  int64
	Count  int
}

// Recovery reports what Open repaired.
type Recovery struct {
	// TruncatedAt is the file offset where a partial trailing message was
	// cut off, or -1.
	TruncatedAt  int64
	DroppedBytes int64
	// Leaves lists the user ids for which a Leave message was appended.
	Leaves []uint8
}

// File is one open file-backed session.
type File struct {
	dir, id string
	opts    Options      // immutable after construction
	log     *slog.Logger // immutable after construction

	mu        sync.Mutex // guards everything below
	closed    bool
	state     State
	journal   *os.File     // O_WRONLY|O_APPEND
	rec       *os.File     // current recording, written with WriteAt at end
	version   string       // recording header version
	headerEnd int64        // offset of the first message
	end       int64        // offset after the last message
	blocks    []Block      // never empty while open
	scratch   []byte       // reused write buffer
	dirty     bool         // appended since the last sync (FsyncBatch)
	stream    *StreamReset // streamed reset in progress, or nil

	kick chan struct{} // FsyncBatch: buffered(1) "something is dirty"
	done chan struct{} // closed by Close to stop the syncer
	wg   sync.WaitGroup
}

// JournalName returns the journal file name of a session.
func JournalName(id string) string { return id + ".session" }

// ThumbnailName returns the thumbnail file name of a session.
func ThumbnailName(id string) string { return id + ".thumbnail" }

// ValidID reports whether id can name session files: non-empty, at most
// 128 bytes, no dots, path separators, spaces or control characters
// (drawpile-srv derives the id from the journal name up to its first dot).
func ValidID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range []byte(id) {
		if c <= ' ' || c == '.' || c == '/' || c == '\\' || c == 0x7f {
			return false
		}
	}
	return true
}

// Meta is what a new session's journal starts with.
type Meta struct {
	Version string // protocol version for the recording header; "" = DefaultVersion
	Alias   string
	Founder string
}

// Create starts the files of a new session: the journal (FILE, ALIAS and
// FOUNDER records) and an empty recording. It fails with ErrExists if the
// journal exists.
func Create(dir, id string, meta Meta, opts Options) (*File, error) {
	if !ValidID(id) {
		return nil, fmt.Errorf("create session %q: %w", id, ErrBadID)
	}
	if meta.Version == "" {
		meta.Version = DefaultVersion
	}
	if _, err := parseVersion(meta.Version); err != nil {
		return nil, fmt.Errorf("create session %s: %w", id, err)
	}
	jpath := filepath.Join(dir, JournalName(id))
	journal, err := os.OpenFile(jpath, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("create session %s: %w", id, ErrExists)
		}
		return nil, fmt.Errorf("create session %s: %w", id, err)
	}
	f := newFile(dir, id, opts)
	f.journal = journal
	f.state = NewState()
	f.version = meta.Version
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.startRecording(nil); err != nil {
		journal.Close()
		os.Remove(jpath)
		return nil, fmt.Errorf("create session %s: %w", id, err)
	}
	var lines []byte
	lines = appendRecord(lines, "FILE", f.state.File)
	f.state.File = "" // re-applied below
	f.state.FileCount = 0
	if meta.Alias != "" {
		lines = appendRecord(lines, "ALIAS", meta.Alias)
	}
	lines = appendRecord(lines, "FOUNDER", meta.Founder)
	if err := f.writeJournal(lines, true); err != nil {
		f.rec.Close()
		os.Remove(filepath.Join(dir, f.recName()))
		journal.Close()
		os.Remove(jpath)
		return nil, fmt.Errorf("create session %s: %w", id, err)
	}
	if opts.Fsync != FsyncNever {
		syncDir(dir)
	}
	f.start()
	return f, nil
}

func newFile(dir, id string, opts Options) *File {
	return &File{dir: dir, id: id, opts: opts, log: opts.logger().With("session", id)}
}

// start launches the batch syncer (FsyncBatch only).
func (f *File) start() {
	if f.opts.Fsync != FsyncBatch {
		return
	}
	f.kick = make(chan struct{}, 1)
	f.done = make(chan struct{})
	f.wg.Add(1)
	go f.syncLoop()
}

// Open loads an existing session: it replays the journal (logging and
// skipping bad lines), opens the current recording, drops a truncated
// trailing message and appends Leave messages for users still joined.
func Open(dir, id string, opts Options) (*File, *Recovery, error) {
	if !ValidID(id) {
		return nil, nil, fmt.Errorf("open session %q: %w", id, ErrBadID)
	}
	jpath := filepath.Join(dir, JournalName(id))
	f := newFile(dir, id, opts)
	jr, err := os.Open(jpath)
	if err != nil {
		return nil, nil, fmt.Errorf("open session %s: %w", id, err)
	}
	state, problems, err := ParseJournal(jr)
	jr.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("read journal %s: %w", jpath, err)
	}
	logProblems(f.log, jpath, problems)
	if state.File == "" {
		return nil, nil, fmt.Errorf("open session %s: %w", jpath, ErrNoRecording)
	}
	f.state = state
	f.journal, err = os.OpenFile(jpath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open session %s: %w", id, err)
	}
	rec, err := f.recover()
	if err != nil {
		f.journal.Close()
		if f.rec != nil {
			f.rec.Close()
		}
		return nil, nil, fmt.Errorf("open session %s: %w", id, err)
	}
	f.start()
	return f, rec, nil
}

func (f *File) recName() string { return f.state.File }

func (f *File) recPath() string { return filepath.Join(f.dir, f.state.File) }

// recover scans the current recording, builds the block index and repairs
// the tail. Called before the File is shared.
func (f *File) recover() (*Recovery, error) {
	path := f.recPath()
	rf, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	f.rec = rf
	rr, err := protocol.NewRecordingReader(bufio.NewReaderSize(io.NewSectionReader(rf, 0, 1<<62), 256<<10))
	if err != nil {
		return nil, fmt.Errorf("recording %s: %w", path, err)
	}
	f.version = rr.Header().Version()
	if _, err := parseVersion(f.version); err != nil {
		return nil, fmt.Errorf("recording %s: %w", path, err)
	}
	f.headerEnd = rr.Offset()
	f.blocks = []Block{{Offset: f.headerEnd}}
	joined := map[uint8]bool{}
	recov := &Recovery{TruncatedAt: -1}
	for {
		fr, err := rr.ReadFrame()
		if err == io.EOF {
			break
		}
		if errors.Is(err, protocol.ErrTruncated) {
			off := rr.Offset()
			st, serr := rf.Stat()
			if serr != nil {
				return nil, serr
			}
			recov.TruncatedAt, recov.DroppedBytes = off, st.Size()-off
			f.log.Warn("session recording truncated: dropping partial message", "file", path, "offset", off, "bytes", recov.DroppedBytes)
			if err := rf.Truncate(off); err != nil {
				return nil, fmt.Errorf("truncate %s: %w", path, err)
			}
			break
		}
		if err != nil {
			return nil, fmt.Errorf("recording %s: %w", path, err)
		}
		f.addToIndex(int64(len(fr)))
		switch fr.Type() {
		case protocol.TypeJoin:
			joined[fr.Ctx()] = true
		case protocol.TypeLeave:
			delete(joined, fr.Ctx())
		}
	}
	f.end = f.headerEnd + f.historySize()
	// There are no users in a session that was just loaded.
	var leaves []byte
	for id := range 256 {
		if joined[uint8(id)] {
			recov.Leaves = append(recov.Leaves, uint8(id))
			leaves, _ = protocol.AppendFrame(leaves, protocol.TypeLeave, uint8(id), nil)
		}
	}
	if len(leaves) > 0 {
		users := make([]int, len(recov.Leaves))
		for i, u := range recov.Leaves {
			users[i] = int(u)
		}
		f.log.Info("session recording: appending leave messages for users still joined", "file", path, "users", users)
		if _, err := rf.WriteAt(leaves, f.end); err != nil {
			return nil, fmt.Errorf("append leaves to %s: %w", path, err)
		}
		for range recov.Leaves {
			f.addToIndex(protocol.HeaderLen)
		}
		f.end += int64(len(leaves))
	}
	if f.count() == 0 {
		return nil, fmt.Errorf("recording %s: %w", path, ErrEmpty)
	}
	if (len(leaves) > 0 || recov.TruncatedAt >= 0) && f.opts.Fsync != FsyncNever {
		if err := rf.Sync(); err != nil {
			return nil, fmt.Errorf("sync %s: %w", path, err)
		}
	}
	return recov, nil
}

// parseVersion checks "ns:server.major.minor" with server version 4, the
// server protocol this package's framing belongs to.
func parseVersion(v string) ([3]int, error) {
	var out [3]int
	_, rest, ok := strings.Cut(v, ":")
	parts := strings.Split(rest, ".")
	if !ok || len(parts) != 3 {
		return out, fmt.Errorf("%w: %q", ErrVersion, v)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return out, fmt.Errorf("%w: %q", ErrVersion, v)
		}
		out[i] = n
	}
	if out[0] != 4 {
		return out, fmt.Errorf("%w: %q (server version %d, want 4)", ErrVersion, v, out[0])
	}
	return out, nil
}

// addToIndex accounts one message of n bytes appended at the end.
func (f *File) addToIndex(n int64) {
	b := &f.blocks[len(f.blocks)-1]
	if b.Size > maxBlockSize {
		f.blocks = append(f.blocks, Block{Offset: b.Offset + b.Size, First: b.First + int64(b.Count)})
		b = &f.blocks[len(f.blocks)-1]
	}
	b.Size += n
	b.Count++
}

func (f *File) count() int64 {
	b := f.blocks[len(f.blocks)-1]
	return b.First + int64(b.Count)
}

func (f *File) historySize() int64 {
	b := f.blocks[len(f.blocks)-1]
	return b.Offset + b.Size - f.headerEnd
}

// ID returns the session id.
func (f *File) ID() string { return f.id }

// Version returns the protocol version in the recording header.
func (f *File) Version() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.version
}

// State returns a copy of the journal state.
func (f *File) State() State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state.Clone()
}

// Len returns the number of messages in the current recording.
func (f *File) Len() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count()
}

// Size returns the byte size of the messages in the current recording
// (headers included, recording header excluded), the session's history
// size as drawpile-srv counts it after a load.
func (f *File) Size() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.historySize()
}

// Blocks returns the block index of the current recording.
func (f *File) Blocks() []Block {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.blocks)
}

// AppendHistory appends frames to the recording in one write. When it
// returns nil the bytes are in the operating system (they survive the
// process being killed) and, with FsyncAlways, on stable storage. On error
// nothing was appended.
func (f *File) AppendHistory(frames ...protocol.Frame) error {
	total := 0
	for _, fr := range frames {
		if _, err := protocol.ParseFrame(fr); err != nil {
			return fmt.Errorf("append history: %w", err)
		}
		total += len(fr)
	}
	if total == 0 {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	buf := f.scratch[:0]
	for _, fr := range frames {
		buf = append(buf, fr...)
	}
	if cap(buf) <= 1<<20 {
		f.scratch = buf // keep modest buffers for reuse
	}
	if _, err := f.rec.WriteAt(buf, f.end); err != nil {
		if terr := f.rec.Truncate(f.end); terr != nil {
			f.log.Error("session recording: cannot undo a failed append", "file", f.recPath(), "err", terr)
		}
		return fmt.Errorf("append history to %s: %w", f.recPath(), err)
	}
	f.end += int64(total)
	for _, fr := range frames {
		f.addToIndex(int64(len(fr)))
	}
	return f.synced(f.rec)
}

// synced applies the fsync policy after a write to file. Called with mu held.
func (f *File) synced(file *os.File) error {
	switch f.opts.Fsync {
	case FsyncAlways:
		if err := file.Sync(); err != nil {
			return fmt.Errorf("sync %s: %w", file.Name(), err)
		}
	case FsyncBatch:
		f.dirty = true
		select {
		case f.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// syncLoop is the FsyncBatch goroutine: it fsyncs the recording and the
// journal at most once per interval while appends keep coming, so data is
// on disk within about one interval (plus the fsync time) of its append.
func (f *File) syncLoop() {
	defer f.wg.Done()
	interval := f.opts.interval()
	for {
		select {
		case <-f.done:
			return
		case <-f.kick:
		}
		start := time.Now()
		f.syncDirty()
		t := time.NewTimer(max(interval-time.Since(start), 0))
		select {
		case <-f.done:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// syncDirty fsyncs the current files if anything was written.
func (f *File) syncDirty() {
	f.mu.Lock()
	if !f.dirty || f.closed {
		f.mu.Unlock()
		return
	}
	f.dirty = false
	rec, journal := f.rec, f.journal
	f.mu.Unlock()
	// Sync outside the lock so appends are not stalled. A file closed
	// meanwhile (Reset, Close) was synced by whoever closed it.
	if err := rec.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
		f.log.Error("session recording: fsync failed", "file", rec.Name(), "err", err)
	}
	if err := journal.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
		f.log.Error("session journal: fsync failed", "file", journal.Name(), "err", err)
	}
}

// Sync forces everything written so far to stable storage, whatever the
// policy.
func (f *File) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	f.dirty = false
	if err := f.rec.Sync(); err != nil {
		return err
	}
	return f.journal.Sync()
}

// History iterates over the messages of the current recording in order,
// reading one block at a time (memory: one block). Frames alias a block
// buffer: Clone them to keep them past the next iteration. The iteration
// covers the messages present when it reaches each block.
func (f *File) History() iter.Seq2[protocol.Frame, error] {
	return func(yield func(protocol.Frame, error) bool) {
		for i := 0; ; i++ {
			frames, err := f.ReadBlock(i)
			if errors.Is(err, errNoBlock) {
				return
			}
			if err != nil {
				yield(nil, err)
				return
			}
			for _, fr := range frames {
				if !yield(fr, nil) {
					return
				}
			}
		}
	}
}

var errNoBlock = errors.New("sessionfile: no such block")

// ReadBlock reads the messages of block i of the current recording (see
// Blocks). The frames share one freshly allocated buffer.
func (f *File) ReadBlock(i int) ([]protocol.Frame, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, ErrClosed
	}
	if i < 0 || i >= len(f.blocks) {
		return nil, errNoBlock
	}
	b := f.blocks[i]
	buf := make([]byte, b.Size)
	if _, err := f.rec.ReadAt(buf, b.Offset); err != nil {
		return nil, fmt.Errorf("read history block %d of %s: %w", i, f.recPath(), err)
	}
	frames := make([]protocol.Frame, 0, b.Count)
	for len(buf) > 0 {
		if len(buf) < protocol.HeaderLen {
			return nil, fmt.Errorf("read history block %d of %s: partial message", i, f.recPath())
		}
		n := protocol.HeaderLen + protocol.Frame(buf).PayloadLen()
		if n > len(buf) {
			return nil, fmt.Errorf("read history block %d of %s: partial message", i, f.recPath())
		}
		frames = append(frames, protocol.Frame(buf[:n:n]))
		buf = buf[n:]
	}
	return frames, nil
}

// Frames reads the whole current history into memory (cloned frames). For
// tests and small sessions; servers should use ReadBlock or History.
func (f *File) Frames() ([]protocol.Frame, error) {
	var out []protocol.Frame
	for fr, err := range f.History() {
		if err != nil {
			return nil, err
		}
		out = append(out, fr)
	}
	return out, nil
}

// Reset replaces the history: it writes newHistory into a new recording
// (<id>_r<N>.dprec), makes it durable, switches the journal's FILE record
// to it and then removes the old recording, or renames it to *.archived in
// archive mode. A crash at any point leaves either the old or the new
// history current. Block indexes restart at 0.
func (f *File) Reset(newHistory ...protocol.Frame) error {
	for _, fr := range newHistory {
		if _, err := protocol.ParseFrame(fr); err != nil {
			return fmt.Errorf("reset history: %w", err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	if f.stream != nil {
		f.stream.discard()
	}
	old, oldPath := f.rec, f.recPath()
	oldState := f.state
	if err := f.startRecording(newHistory); err != nil {
		f.state = oldState
		return fmt.Errorf("reset history: %w", err)
	}
	newName := f.state.File
	f.state.File, f.state.FileCount = oldState.File, oldState.FileCount
	if err := f.writeJournal(appendRecord(nil, "FILE", newName), true); err != nil && f.state.File != newName {
		// The record was not written, the journal still names the old
		// recording: keep using it.
		newRec := f.rec
		f.rec = old
		newRec.Close()
		os.Remove(filepath.Join(f.dir, newName))
		f.rescan()
		return fmt.Errorf("reset history: %w", err)
	} else if err != nil {
		// Written but not synced: the new recording is current either way.
		f.log.Error("session journal: reset not synced", "file", f.journal.Name(), "err", err)
	}
	if f.opts.Fsync != FsyncNever {
		old.Sync()
	}
	old.Close()
	f.removeOrArchive(oldPath)
	return nil
}

// rescan rebuilds the block index from the current recording (after a
// failed reset or a streamed reset). Called with mu held.
func (f *File) rescan() {
	f.blocks = nil
	rr, err := protocol.NewRecordingReader(bufio.NewReader(io.NewSectionReader(f.rec, 0, 1<<62)))
	if err != nil {
		f.log.Error("session recording: cannot index", "file", f.recPath(), "err", err)
		f.blocks = []Block{{Offset: f.end}}
		return
	}
	f.headerEnd = rr.Offset()
	f.blocks = []Block{{Offset: f.headerEnd}}
	for {
		fr, err := rr.ReadFrame()
		if err != nil {
			break
		}
		f.addToIndex(int64(len(fr)))
	}
	f.end = f.headerEnd + f.historySize()
}

// startRecording creates the next recording file holding frames and makes
// it current (f.rec, f.state.File/FileCount, index). Called with mu held.
func (f *File) startRecording(frames []protocol.Frame) error {
	name, rf, err := f.createRecording()
	if err != nil {
		return err
	}
	hdr := protocol.NewRecordingHeader(protocol.HeaderVersion, f.version)
	buf, err := protocol.AppendRecordingPrefix(nil, hdr)
	if err != nil {
		rf.Close()
		os.Remove(rf.Name())
		return err
	}
	headerEnd := int64(len(buf))
	for _, fr := range frames {
		buf = append(buf, fr...)
	}
	if _, err := rf.WriteAt(buf, 0); err != nil {
		rf.Close()
		os.Remove(rf.Name())
		return err
	}
	if f.opts.Fsync != FsyncNever {
		if err := rf.Sync(); err != nil {
			rf.Close()
			os.Remove(rf.Name())
			return err
		}
		syncDir(f.dir)
	}
	f.rec = rf
	f.state.File = name
	f.state.FileCount = max(f.state.FileCount+1, recordingNumber(f.id, name))
	f.headerEnd = headerEnd
	f.blocks = []Block{{Offset: headerEnd}}
	for _, fr := range frames {
		f.addToIndex(int64(len(fr)))
	}
	f.end = int64(len(buf))
	return nil
}

// createRecording creates the next recording file, named like
// drawpile-srv's: <id>.dprec for the first, <id>_r<N>.dprec after, with
// " (k)" added if the name is taken. Called with mu held.
func (f *File) createRecording() (string, *os.File, error) {
	n := f.state.FileCount + 1
	if k := recordingNumber(f.id, f.state.File); k >= n {
		n = k + 1
	}
	if f.stream != nil {
		n = max(n, recordingNumber(f.id, f.stream.name)+1)
	}
	base := f.id
	if n > 1 {
		base = fmt.Sprintf("%s_r%d", f.id, n)
	}
	for i := 0; ; i++ {
		name := base + ".dprec"
		if i > 0 {
			name = fmt.Sprintf("%s (%d).dprec", base, i)
		}
		rf, err := os.OpenFile(filepath.Join(f.dir, name), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			return name, rf, nil
		}
		if !errors.Is(err, os.ErrExist) || i > 1000 {
			return "", nil, err
		}
	}
}

// recordingNumber returns N of "<id>_rN.dprec" (or "<id>_rN (k).dprec"),
// 1 for "<id>.dprec", 0 otherwise.
func recordingNumber(id, name string) int {
	rest, ok := strings.CutPrefix(name, id)
	if !ok {
		return 0
	}
	if strings.HasPrefix(rest, ".dprec") || strings.HasPrefix(rest, " (") {
		return 1
	}
	rest, ok = strings.CutPrefix(rest, "_r")
	if !ok {
		return 0
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	n, _ := strconv.Atoi(rest[:i])
	return n
}

// writeJournal appends complete records with one write and applies them
// to the state by replaying them, so the state always equals what a reload
// would produce. durable forces an fsync (unless FsyncNever). Called with
// mu held.
func (f *File) writeJournal(lines []byte, durable bool) error {
	if _, err := f.journal.Write(lines); err != nil {
		return fmt.Errorf("write journal %s: %w", f.journal.Name(), err)
	}
	for line := range strings.Lines(string(lines)) {
		if reason := f.state.apply([]byte(strings.TrimSuffix(line, "\n"))); reason != "" {
			f.log.Warn("session journal: record not applied", "file", f.journal.Name(), "reason", reason, "text", line)
		}
	}
	if durable && f.opts.Fsync != FsyncNever {
		if err := f.journal.Sync(); err != nil {
			return fmt.Errorf("sync journal %s: %w", f.journal.Name(), err)
		}
		return nil
	}
	return f.synced(f.journal)
}

// record writes one journal record. Called without mu.
func (f *File) record(lines []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	return f.writeJournal(lines, false)
}

// update writes a record only when changed(state) is true.
func (f *File) update(changed func(*State) bool, line func() []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	if !changed(&f.state) {
		return nil
	}
	return f.writeJournal(line(), false)
}

// SetFounder records the founder's name.
func (f *File) SetFounder(name string) error {
	name = oneLine(name)
	return f.update(func(s *State) bool { return s.Founder != name },
		func() []byte { return appendRecord(nil, "FOUNDER", name) })
}

// SetTitle records the title (line breaks become spaces, surrounding
// whitespace is dropped, as a reload would).
func (f *File) SetTitle(title string) error {
	title = oneLine(title)
	return f.update(func(s *State) bool { return s.Title != title },
		func() []byte { return appendRecord(nil, "TITLE", title) })
}

// SetPasswordHash records the session password hash ("" = no password).
func (f *File) SetPasswordHash(hash string) error {
	hash = oneLine(hash)
	return f.update(func(s *State) bool { return s.Password != hash },
		func() []byte { return appendRecord(nil, "PASSWORD", hash) })
}

// SetOpwordHash records the operator password hash ("" = none).
func (f *File) SetOpwordHash(hash string) error {
	hash = oneLine(hash)
	return f.update(func(s *State) bool { return s.Opword != hash },
		func() []byte { return appendRecord(nil, "OPWORD", hash) })
}

// SetMaxUsers records the user limit, clamped to 1–254.
func (f *File) SetMaxUsers(n int) error {
	n = min(max(n, 1), 254)
	return f.update(func(s *State) bool { return s.MaxUsers != n },
		func() []byte { return appendRecord(nil, "MAXUSERS", strconv.Itoa(n)) })
}

// SetAutoReset records the autoreset threshold in bytes.
func (f *File) SetAutoReset(bytes uint64) error {
	return f.update(func(s *State) bool { return s.AutoReset != bytes },
		func() []byte { return appendRecord(nil, "AUTORESET", strconv.FormatUint(bytes, 10)) })
}

// SetArchive records the archive override.
func (f *File) SetArchive(m ArchiveMode) error {
	if m < ArchiveDefault || m > ArchiveOn {
		return fmt.Errorf("sessionfile: bad archive mode %d", m)
	}
	return f.update(func(s *State) bool { return s.Archive != m },
		func() []byte { return archiveRecord(nil, m) })
}

// SetSizeLimit records the override size limit in bytes (0 = default),
// clamped to 2^31−1.
func (f *File) SetSizeLimit(bytes uint64) error {
	bytes = min(bytes, maxSizeLimit)
	return f.update(func(s *State) bool { return s.SizeLimit != bytes },
		func() []byte { return appendRecord(nil, "LIMIT", strconv.FormatUint(bytes, 10)) })
}

// SetFlags records the session flags.
func (f *File) SetFlags(fl Flags) error {
	return f.update(func(s *State) bool { return s.Flags != fl },
		func() []byte { return appendRecord(nil, "FLAGS", fl.String()) })
}

// AddBan records a ban. A zero ID is replaced by one more than the largest
// id in the list; the id used is returned.
func (f *File) AddBan(b Ban) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, ErrClosed
	}
	if b.ID <= 0 {
		b.ID = 1
		for _, o := range f.state.Bans {
			b.ID = max(b.ID, o.ID+1)
		}
	}
	return b.ID, f.writeJournal(banRecord(nil, b), false)
}

// RemoveBan records the removal of ban id.
func (f *File) RemoveBan(id int) error {
	return f.update(func(s *State) bool { return slices.ContainsFunc(s.Bans, func(b Ban) bool { return b.ID == id }) },
		func() []byte { return appendRecord(nil, "UNBAN", strconv.Itoa(id)) })
}

// AddAnnouncement records a list-server URL.
func (f *File) AddAnnouncement(url string) error {
	url = oneLine(url)
	return f.update(func(s *State) bool { return !slices.Contains(s.Announce, url) },
		func() []byte { return appendRecord(nil, "ANNOUNCE", url) })
}

// RemoveAnnouncement removes a list-server URL.
func (f *File) RemoveAnnouncement(url string) error {
	url = oneLine(url)
	return f.update(func(s *State) bool { return slices.Contains(s.Announce, url) },
		func() []byte { return appendRecord(nil, "UNANNOUNCE", url) })
}

// RememberUser records that name had user id (drawpile-srv journals every
// join).
func (f *File) RememberUser(id uint8, name string) error {
	if id == 0 || id == 255 {
		return fmt.Errorf("sessionfile: bad user id %d", id)
	}
	return f.record(userRecord(nil, UserID{ID: id, Name: name}))
}

// SetOp records whether authID is a remembered operator.
func (f *File) SetOp(authID string, op bool) error {
	authID = oneLine(authID)
	if authID == "" {
		return nil
	}
	return f.update(func(s *State) bool { return s.IsOp(authID) != op },
		func() []byte { return appendRecord(nil, map[bool]string{true: "OP", false: "DEOP"}[op], authID) })
}

// SetTrusted records whether authID is a remembered trusted user.
func (f *File) SetTrusted(authID string, trusted bool) error {
	authID = oneLine(authID)
	if authID == "" {
		return nil
	}
	return f.update(func(s *State) bool { return s.IsTrusted(authID) != trusted },
		func() []byte {
			return appendRecord(nil, map[bool]string{true: "TRUST", false: "UNTRUST"}[trusted], authID)
		})
}

// SetAuthName records the display name of an authenticated user.
func (f *File) SetAuthName(authID, name string) error {
	if authID == "" || name == "" {
		return nil
	}
	return f.update(func(s *State) bool { cur, ok := s.AuthNames[authID]; return !ok || cur != name },
		func() []byte { return authNameRecord(nil, authID, name) })
}

// NextCatchupKey returns the next catch-up key and records its successor
// (keys wrap from 999999999 to 1).
func (f *File) NextCatchupKey() (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, ErrClosed
	}
	k := f.state.Catchup
	next := k + 1
	if k >= MaxCatchupKey {
		next = MinCatchupKey
	}
	return k, f.writeJournal(appendRecord(nil, "CATCHUP", strconv.Itoa(next)), false)
}

// AddInvite records an invite (its Uses are ignored; see UseInvite).
func (f *File) AddInvite(inv Invite) error {
	if token(inv.Secret) == "" {
		return errors.New("sessionfile: invite without a secret")
	}
	inv.Uses = nil
	return f.record(inviteRecord(nil, inv))
}

// RemoveInvite records the removal of an invite.
func (f *File) RemoveInvite(secret string) error {
	secret = token(secret)
	return f.update(func(s *State) bool {
		return slices.ContainsFunc(s.Invites, func(i Invite) bool { return i.Secret == secret })
	},
		func() []byte { return appendRecord(nil, "UNV", secret) })
}

// UseInvite records that clientKey used the invite under name.
func (f *File) UseInvite(secret, clientKey, name string) error {
	secret = token(secret)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	if !slices.ContainsFunc(f.state.Invites, func(i Invite) bool { return i.Secret == secret }) {
		return fmt.Errorf("sessionfile: no invite %q", secret)
	}
	return f.writeJournal(inviteUseRecord(nil, secret, InviteUse{ClientKey: clientKey, Name: name}), false)
}

// Compact atomically replaces the journal with the minimal journal of the
// current state (temporary file, fsync, rename, directory fsync).
func (f *File) Compact() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	path := f.journal.Name()
	data := f.state.AppendJournal(nil)
	if err := writeAtomic(path, data, f.opts.Fsync != FsyncNever); err != nil {
		return fmt.Errorf("compact journal: %w", err)
	}
	nj, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("compact journal: %w", err)
	}
	f.journal.Close()
	f.journal = nj
	return nil
}

// writeAtomic replaces path with data: temporary file in the same
// directory, fsync, rename, directory fsync.
func writeAtomic(path string, data []byte, durable bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if durable {
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			return err
		}
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if durable {
		syncDir(filepath.Dir(path))
	}
	return nil
}

// syncDir fsyncs a directory so that created and renamed entries survive a
// power loss. Errors are ignored: some filesystems do not support it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// SetThumbnail atomically replaces the thumbnail file; an empty thumbnail
// removes it.
func (f *File) SetThumbnail(data []byte) error {
	path := filepath.Join(f.dir, ThumbnailName(f.id))
	if len(data) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	return writeAtomic(path, data, f.opts.Fsync != FsyncNever)
}

// Thumbnail returns the thumbnail bytes and their modification time, or
// (nil, zero time, nil) if there is none.
func (f *File) Thumbnail() ([]byte, time.Time, error) {
	path := filepath.Join(f.dir, ThumbnailName(f.id))
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	var mtime time.Time
	if st, err := os.Stat(path); err == nil {
		mtime = st.ModTime()
	}
	return data, mtime, nil
}

// Close stops the syncer, makes everything durable (unless FsyncNever) and
// closes the files, keeping them (server shutdown: the session loads again
// on the next start).
func (f *File) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	if f.stream != nil {
		f.stream.discard()
	}
	f.mu.Unlock()
	f.stop()
	var errs []error
	if f.opts.Fsync != FsyncNever {
		errs = append(errs, f.rec.Sync(), f.journal.Sync())
	}
	errs = append(errs, f.rec.Close(), f.journal.Close())
	return errors.Join(errs...)
}

func (f *File) stop() {
	if f.done != nil {
		close(f.done)
		f.wg.Wait()
	}
}

// Terminate closes the session and deletes its files (journal, recording,
// thumbnail), or renames them to *.archived when the session's archive mode
// (or, for ArchiveDefault, Options.ArchiveByDefault) says so.
func (f *File) Terminate() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return ErrClosed
	}
	f.closed = true
	if f.stream != nil {
		f.stream.discard()
	}
	f.mu.Unlock()
	f.stop()
	f.rec.Close()
	f.journal.Close()
	var errs []error
	errs = append(errs, f.removeOrArchive(f.journal.Name()), f.removeOrArchive(f.recPath()))
	if _, err := os.Stat(filepath.Join(f.dir, ThumbnailName(f.id))); err == nil {
		errs = append(errs, f.removeOrArchive(filepath.Join(f.dir, ThumbnailName(f.id))))
	}
	if f.opts.Fsync != FsyncNever {
		syncDir(f.dir)
	}
	return errors.Join(errs...)
}

// Archived reports whether terminating the session archives its files.
func (f *File) Archived() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.shouldArchive()
}

func (f *File) shouldArchive() bool {
	switch f.state.Archive {
	case ArchiveOn:
		return true
	case ArchiveOff:
		return false
	}
	return f.opts.ArchiveByDefault
}

// removeOrArchive deletes path or renames it to path+".archived".
func (f *File) removeOrArchive(path string) error {
	var err error
	if f.shouldArchive() {
		err = os.Rename(path, path+".archived")
	} else {
		err = os.Remove(path)
	}
	if err != nil {
		f.log.Warn("session files: cannot remove or archive", "file", path, "err", err)
	}
	return err
}

package sessionfile

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"drawbridge/protocol"
)

// StreamReset is a streamed reset in progress (protocol.md §5.5, server.md
// §2.9): the reset image is written into the next recording file while the
// session keeps appending to the current one. Resolve then copies every
// message appended after the fork point into the new file and switches the
// journal to it, as drawpile-srv does. The new file's header carries
// "streamfork": the fork offset in the old recording.
//
// A StreamReset is used from the goroutine that owns the session's reset
// flow; its methods take the File's mutex.
type StreamReset struct {
	f         *File
	rec       *os.File // guarded by f.mu
	name      string
	fork      int64 // offset in the old recording where forked messages start
	headerEnd int64
	end       int64
	count     int
	done      bool
}

// ErrStreamReset is returned when a streamed reset is already in progress,
// or was resolved or discarded.
var ErrStreamReset = errors.New("sessionfile: streamed reset not in progress or already running")

// BeginStreamReset starts a streamed reset forked at the current end of the
// history. serverState (Join, SessionOwner, TrustedUsers … as the server
// seeds the image) is written first.
func (f *File) BeginStreamReset(serverState ...protocol.Frame) (*StreamReset, error) {
	for _, fr := range serverState {
		if _, err := protocol.ParseFrame(fr); err != nil {
			return nil, fmt.Errorf("begin stream reset: %w", err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, ErrClosed
	}
	if f.stream != nil {
		return nil, ErrStreamReset
	}
	hdr := protocol.NewRecordingHeader(protocol.HeaderVersion, f.version)
	if err := hdr.SetJSON("streamfork", strconv.FormatInt(f.end, 10)); err != nil {
		return nil, err
	}
	name, rf, err := f.createRecording()
	if err != nil {
		return nil, fmt.Errorf("begin stream reset: %w", err)
	}
	buf, err := protocol.AppendRecordingPrefix(nil, hdr)
	if err != nil {
		rf.Close()
		os.Remove(rf.Name())
		return nil, err
	}
	headerEnd := int64(len(buf))
	for _, fr := range serverState {
		buf = append(buf, fr...)
	}
	if _, err := rf.WriteAt(buf, 0); err != nil {
		rf.Close()
		os.Remove(rf.Name())
		return nil, fmt.Errorf("begin stream reset: %w", err)
	}
	r := &StreamReset{f: f, rec: rf, name: name, fork: f.end, headerEnd: headerEnd, end: int64(len(buf)), count: len(serverState)}
	f.stream = r
	return r, nil
}

// Append adds reset-image frames to the new recording.
func (r *StreamReset) Append(frames ...protocol.Frame) error {
	var buf []byte
	for _, fr := range frames {
		if _, err := protocol.ParseFrame(fr); err != nil {
			return fmt.Errorf("stream reset: %w", err)
		}
		buf = append(buf, fr...)
	}
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	if r.done || r.f.closed {
		return ErrStreamReset
	}
	if _, err := r.rec.WriteAt(buf, r.end); err != nil {
		r.rec.Truncate(r.end)
		return fmt.Errorf("stream reset: %w", err)
	}
	r.end += int64(len(buf))
	r.count += len(frames)
	return nil
}

// ImageSize returns the bytes of the image written so far (server state
// included), and ImageLen its message count.
func (r *StreamReset) ImageSize() int64 {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	return r.end - r.headerEnd
}

// ImageLen returns the number of messages in the image so far.
func (r *StreamReset) ImageLen() int {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	return r.count
}

// ForkedSize returns the bytes appended to the session since the fork: with
// ImageSize, the size of the history after Resolve.
func (r *StreamReset) ForkedSize() int64 {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	return r.f.end - r.fork
}

// Resolve completes the reset: the messages appended since the fork are
// copied after the image, the new recording is made durable, the journal
// switches to it and the old recording is removed or archived. The new
// history is image + forked messages; block indexes restart at 0.
func (r *StreamReset) Resolve() error {
	f := r.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.done || f.closed {
		return ErrStreamReset
	}
	r.done = true
	f.stream = nil
	fail := func(err error) error {
		r.rec.Close()
		os.Remove(r.rec.Name())
		return fmt.Errorf("resolve stream reset: %w", err)
	}
	oldPath := f.recPath()
	forked := make([]byte, f.end-r.fork)
	if _, err := f.rec.ReadAt(forked, r.fork); err != nil {
		return fail(err)
	}
	if _, err := r.rec.WriteAt(forked, r.end); err != nil {
		return fail(err)
	}
	if f.opts.Fsync != FsyncNever {
		if err := r.rec.Sync(); err != nil {
			return fail(err)
		}
		syncDir(f.dir)
	}
	if err := f.writeJournal(appendRecord(nil, "FILE", r.name), true); err != nil && f.state.File != r.name {
		return fail(err)
	} else if err != nil {
		f.log.Error("session journal: stream reset not synced", "file", f.journal.Name(), "err", err)
	}
	old := f.rec
	f.rec = r.rec
	f.rescan()
	if f.opts.Fsync != FsyncNever {
		old.Sync()
	}
	old.Close()
	f.removeOrArchive(oldPath)
	return nil
}

// Discard abandons the streamed reset and deletes its file.
func (r *StreamReset) Discard() error {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	return r.discard()
}

// discard is Discard with f.mu held.
func (r *StreamReset) discard() error {
	if r.done {
		return nil
	}
	r.done = true
	if r.f.stream == r {
		r.f.stream = nil
	}
	r.rec.Close()
	return os.Remove(r.rec.Name())
}

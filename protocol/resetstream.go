package protocol

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
)

// Streamed reset (protocol.md §3.6, §5.5).
//
// A streamed reset image is a sequence of TCP frames (4-byte headers,
// §1.1), concatenated and compressed as ONE zlib stream (RFC 1950, level 9,
// header 78 DA; the negotiation name "gzip1" notwithstanding, it is not
// gzip). The compressed bytes are cut into consecutive chunks of at most
// MaxPayload bytes, each carried as the payload of a ResetStream (39)
// message:
//
//	ResetStream #1: zlib bytes [0, 65535)
//	ResetStream #2: zlib bytes [65535, 131070)
//	…
//	ResetStream #n: the rest, ending with the zlib trailer
//
// Drawpile's producer sends its chunks with ctx 0 (the server stamps the
// sender) and its consumer requires the zlib stream to end exactly after
// the last complete frame ("Leftover data from inflate" otherwise).

// ResetStreamBuilder compresses reset-image frames into ResetStream
// messages as Drawpile's DP_ResetStreamProducer does. Not safe for
// concurrent use; the zero value is not usable, see NewResetStreamBuilder.
type ResetStreamBuilder struct {
	zw      *zlib.Writer
	chunker resetChunker
	image   int64 // uncompressed bytes pushed
	done    bool
}

// resetChunker cuts the compressed stream into ResetStream frames.
type resetChunker struct {
	cur    []byte  // payload being filled, < MaxPayload bytes
	frames []Frame // complete messages not yet taken
}

func (c *resetChunker) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if c.cur == nil {
			c.cur = make([]byte, 0, MaxPayload)
		}
		k := min(len(p), MaxPayload-len(c.cur))
		c.cur = append(c.cur, p[:k]...)
		p = p[k:]
		if len(c.cur) == MaxPayload {
			c.flush()
		}
	}
	return n, nil
}

func (c *resetChunker) flush() {
	if len(c.cur) == 0 {
		return
	}
	f, _ := NewFrame(TypeResetStream, 0, c.cur) // len ≤ MaxPayload by construction
	c.frames = append(c.frames, f)
	c.cur = c.cur[:0]
}

// NewResetStreamBuilder returns a builder for one reset image.
func NewResetStreamBuilder() *ResetStreamBuilder {
	b := &ResetStreamBuilder{}
	b.zw, _ = zlib.NewWriterLevel(&b.chunker, zlib.BestCompression) // level 9 is valid
	return b
}

// Push appends one frame of the reset image. f must be a well-formed frame.
func (b *ResetStreamBuilder) Push(f Frame) error {
	if b.done {
		return errors.New("protocol: reset stream already finished")
	}
	if _, err := ParseFrame(f); err != nil {
		return err
	}
	if _, err := b.zw.Write(f); err != nil { // the chunker never fails
		return err
	}
	b.image += int64(len(f))
	return nil
}

// ImageSize returns the uncompressed size of the frames pushed so far.
func (b *ResetStreamBuilder) ImageSize() int64 { return b.image }

// Take returns the ResetStream messages completed so far (each carrying
// exactly MaxPayload bytes) and forgets them; the caller owns the frames.
// Use it to send a large reset image while it is still being built.
func (b *ResetStreamBuilder) Take() []Frame {
	fs := b.chunker.frames
	b.chunker.frames = nil
	return fs
}

// Finish ends the zlib stream and returns every ResetStream message not yet
// taken, including the final, shorter one.
func (b *ResetStreamBuilder) Finish() ([]Frame, error) {
	if b.done {
		return nil, errors.New("protocol: reset stream already finished")
	}
	b.done = true
	if err := b.zw.Close(); err != nil {
		return nil, err
	}
	b.chunker.flush()
	return b.Take(), nil
}

// BuildResetStream compresses a whole reset image into ResetStream
// messages (ctx 0).
func BuildResetStream(frames []Frame) ([]Frame, error) {
	b := NewResetStreamBuilder()
	for _, f := range frames {
		if err := b.Push(f); err != nil {
			return nil, err
		}
	}
	return b.Finish()
}

// ResetStreamError reports a malformed streamed reset.
type ResetStreamError struct {
	Reason string
	Err    error // underlying zlib or framing error, if any
}

func (e *ResetStreamError) Error() string {
	if e.Err != nil {
		return "protocol: bad reset stream: " + e.Reason + ": " + e.Err.Error()
	}
	return "protocol: bad reset stream: " + e.Reason
}

func (e *ResetStreamError) Unwrap() error { return e.Err }

// ResetStreamParser collects the payloads of ResetStream messages and
// decompresses them into frames at Finish.
//
// Limits: the compressed bytes are kept until Finish (at most maxCompressed)
// and the decompressed image may not exceed maxImage bytes; decompression
// is streamed, so memory beyond the compressed data is one frame buffer.
// (Go's inflater cannot pause for more input without a goroutine, so
// frames are produced at Finish rather than as chunks arrive.) Not safe for
// concurrent use.
type ResetStreamParser struct {
	maxCompressed int64
	maxImage      int64
	data          []byte
	chunks        int
}

// NewResetStreamParser returns a parser. Limits ≤ 0 mean no limit.
func NewResetStreamParser(maxCompressed, maxImage int64) *ResetStreamParser {
	return &ResetStreamParser{maxCompressed: maxCompressed, maxImage: maxImage}
}

// Push adds the payload of one ResetStream message (copied). It fails once
// the compressed total exceeds maxCompressed.
func (p *ResetStreamParser) Push(payload []byte) error {
	if p.maxCompressed > 0 && int64(len(p.data))+int64(len(payload)) > p.maxCompressed {
		return &ResetStreamError{Reason: fmt.Sprintf("compressed data exceeds %d bytes", p.maxCompressed)}
	}
	p.data = append(p.data, payload...)
	p.chunks++
	return nil
}

// Chunks returns the number of payloads pushed.
func (p *ResetStreamParser) Chunks() int { return p.chunks }

// CompressedSize returns the number of compressed bytes pushed.
func (p *ResetStreamParser) CompressedSize() int64 { return int64(len(p.data)) }

// Finish decompresses the stream and calls fn for each frame in order. The
// Frame passed to fn is valid only during the call (Clone it to keep it).
// An error from fn stops parsing and is returned as is. The zlib stream must
// be complete, its checksum correct, and it must end exactly at a frame
// boundary; it returns the number of frames delivered.
func (p *ResetStreamParser) Finish(fn func(Frame) error) (int, error) {
	br := bytes.NewReader(p.data) // an io.ByteReader: the inflater reads no further than the zlib trailer
	zr, err := zlib.NewReader(br)
	if err != nil {
		return 0, &ResetStreamError{Reason: "bad zlib header", Err: err}
	}
	var src io.Reader = zr
	if p.maxImage > 0 {
		src = io.LimitReader(zr, p.maxImage+1)
	}
	fr := NewReader(src)
	n := 0
	for {
		f, err := fr.ReadFrame()
		if err == io.EOF {
			break
		}
		if err != nil {
			if p.maxImage > 0 && fr.Offset() > p.maxImage-HeaderLen {
				return n, &ResetStreamError{Reason: fmt.Sprintf("reset image exceeds %d bytes", p.maxImage)}
			}
			return n, &ResetStreamError{Reason: fmt.Sprintf("after %d frames", n), Err: err}
		}
		if p.maxImage > 0 && fr.Offset() > p.maxImage {
			return n, &ResetStreamError{Reason: fmt.Sprintf("reset image exceeds %d bytes", p.maxImage)}
		}
		if err := fn(f); err != nil {
			return n, err
		}
		n++
	}
	// io.EOF from the zlib reader means the checksum was verified; data
	// after the zlib trailer is rejected like Drawpile's leftover check.
	if br.Len() != 0 {
		return n, &ResetStreamError{Reason: fmt.Sprintf("%d bytes after the end of the zlib stream", br.Len())}
	}
	return n, nil
}

// ParseResetStream decompresses the payloads of a sequence of ResetStream
// messages (given as frames, whose type must be ResetStream) into cloned
// frames. maxImage ≤ 0 means no limit.
func ParseResetStream(msgs []Frame, maxImage int64) ([]Frame, error) {
	p := NewResetStreamParser(0, maxImage)
	for i, m := range msgs {
		if _, err := ParseFrame(m); err != nil {
			return nil, err
		}
		if m.Type() != TypeResetStream {
			return nil, &ResetStreamError{Reason: fmt.Sprintf("message %d has type %d, not ResetStream", i, m.Type())}
		}
		if err := p.Push(m.Payload()); err != nil {
			return nil, err
		}
	}
	var out []Frame
	_, err := p.Finish(func(f Frame) error {
		out = append(out, f.Clone())
		return nil
	})
	return out, err
}

package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Wire limits (protocol.md §1.1).
const (
	// HeaderLen is the size of the TCP/recording header:
	//
	//	offset 0  u16 BE  payload length N (header excluded)
	//	offset 2  u8      message type
	//	offset 3  u8      context id (user id; 0 = server)
	HeaderLen = 4
	// WSHeaderLen is the size of the WebSocket header: type, context id.
	// The length is carried by the WebSocket message itself.
	WSHeaderLen = 2
	// MaxPayload is the largest payload any message may carry.
	MaxPayload = 65535
	// MaxFrame is the largest TCP frame: header plus maximum payload.
	MaxFrame = HeaderLen + MaxPayload
)

// Frame is one message in TCP/recording framing: a 4-byte header followed by
// the payload. A Frame is the opaque form of a message: relays, history and
// recordings keep frames as they are and never decode them.
//
// Invariant: len(f) >= HeaderLen and len(f) == HeaderLen + f.PayloadLen().
// A Frame returned by a Reader is only valid until the next read; Clone it
// to keep it.
type Frame []byte

// Type returns the message type id.
func (f Frame) Type() Type { return Type(f[2]) }

// Ctx returns the context id (the sending user; 0 = server).
func (f Frame) Ctx() uint8 { return f[3] }

// PayloadLen returns the payload length from the header.
func (f Frame) PayloadLen() int { return int(binary.BigEndian.Uint16(f[0:2])) }

// Payload returns the payload bytes (aliasing f).
func (f Frame) Payload() []byte { return f[HeaderLen:] }

// WS returns the WebSocket form of the frame (type, ctx, payload), aliasing f:
// the WebSocket form is the TCP form without its 2-byte length.
func (f Frame) WS() []byte { return f[2:] }

// SetCtx rewrites the context id in place (the server stamps every client
// message with the sender's id).
func (f Frame) SetCtx(ctx uint8) { f[3] = ctx }

// Clone returns a copy of f that does not alias any reader buffer.
func (f Frame) Clone() Frame { return append(Frame(nil), f...) }

// String describes the frame for logs and test failures.
func (f Frame) String() string {
	if len(f) < HeaderLen {
		return fmt.Sprintf("Frame(invalid, %d bytes)", len(f))
	}
	return fmt.Sprintf("Frame(type=%d ctx=%d len=%d)", f.Type(), f.Ctx(), f.PayloadLen())
}

// AppendFrame appends a TCP frame with the given header fields and payload to
// dst and returns the extended slice.
func AppendFrame(dst []byte, t Type, ctx uint8, payload []byte) ([]byte, error) {
	if len(payload) > MaxPayload {
		return dst, &FrameError{Type: t, Reason: fmt.Sprintf("payload of %d bytes exceeds %d", len(payload), MaxPayload)}
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(payload)))
	dst = append(dst, byte(t), ctx)
	return append(dst, payload...), nil
}

// NewFrame returns a freshly allocated frame.
func NewFrame(t Type, ctx uint8, payload []byte) (Frame, error) {
	b, err := AppendFrame(make([]byte, 0, HeaderLen+len(payload)), t, ctx, payload)
	return Frame(b), err
}

// FrameFromWS converts one WebSocket message (type, ctx, payload) into a
// newly allocated TCP frame.
func FrameFromWS(ws []byte) (Frame, error) {
	if len(ws) < WSHeaderLen {
		return nil, &FrameError{Reason: fmt.Sprintf("websocket message of %d bytes is shorter than its 2-byte header", len(ws))}
	}
	return NewFrame(Type(ws[0]), ws[1], ws[WSHeaderLen:])
}

// ParseFrame checks that b holds exactly one TCP frame and returns it
// (aliasing b).
func ParseFrame(b []byte) (Frame, error) {
	if len(b) < HeaderLen {
		return nil, &FrameError{Reason: fmt.Sprintf("frame of %d bytes is shorter than its header", len(b))}
	}
	f := Frame(b)
	if n := f.PayloadLen(); n != len(b)-HeaderLen {
		return nil, &FrameError{Type: f.Type(), Reason: fmt.Sprintf("header says %d payload bytes, have %d", n, len(b)-HeaderLen)}
	}
	return f, nil
}

// FrameError reports a framing problem (as opposed to a payload that does not
// decode, which is a *DecodeError).
type FrameError struct {
	Type   Type
	Offset int64 // byte offset in the stream where the bad frame starts, or -1 if unknown
	Reason string
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("protocol: bad frame (type %d): %s", e.Type, e.Reason)
}

// Reader reads TCP-framed messages from a byte stream (a TCP connection, a
// recording body, an inflated ResetStream).
//
// Memory: the reader owns one buffer that grows to the largest frame seen,
// never beyond MaxFrame; a header is validated before its payload is read.
// Not safe for concurrent use.
type Reader struct {
	r   io.Reader
	buf []byte
	off int64           // stream offset of the next frame
	hdr [HeaderLen]byte // header scratch space, kept here so reads do not allocate
}

// NewReader returns a Reader reading from r. Wrap r in a bufio.Reader when it
// is a socket or a file: the Reader issues two reads per frame.
func NewReader(r io.Reader) *Reader { return &Reader{r: r} }

// Offset returns the stream offset of the next frame.
func (r *Reader) Offset() int64 { return r.off }

// ReadFrame reads the next frame. The returned Frame aliases the reader's
// buffer and is valid until the next call. At a clean end of stream it
// returns io.EOF; a stream that ends inside a frame returns
// io.ErrUnexpectedEOF wrapped in a *FrameError.
func (r *Reader) ReadFrame() (Frame, error) {
	hdr := r.hdr[:]
	if _, err := io.ReadFull(r.r, hdr); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, r.truncated(0, err)
	}
	n := int(binary.BigEndian.Uint16(hdr[0:2])) // ≤ MaxPayload by construction
	if cap(r.buf) < HeaderLen+n {
		r.buf = make([]byte, HeaderLen+n, growCap(cap(r.buf), HeaderLen+n))
	}
	f := r.buf[:HeaderLen+n]
	copy(f, hdr)
	if _, err := io.ReadFull(r.r, f[HeaderLen:]); err != nil {
		return nil, r.truncated(Type(hdr[2]), err)
	}
	r.off += int64(len(f))
	return Frame(f), nil
}

func (r *Reader) truncated(t Type, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &FrameError{Type: t, Offset: r.off, Reason: "stream ends inside a frame: " + io.ErrUnexpectedEOF.Error()}
	}
	return fmt.Errorf("read frame: %w", err)
}

// growCap doubles the buffer capacity up to MaxFrame so that a stream of
// slowly growing frames does not reallocate every time.
func growCap(have, need int) int {
	c := max(have*2, 1024)
	for c < need {
		c *= 2
	}
	return min(max(c, need), MaxFrame)
}

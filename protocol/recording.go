package protocol

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"unicode/utf8"
)

// Binary recording (.dprec) layout (protocol.md §7.1):
//
//	offset 0    6 bytes  magic "DPREC\x00"
//	offset 6    u16 BE   metadata length M, 1 ≤ M ≤ 65535
//	offset 8    M bytes  metadata: a UTF-8 JSON object, no terminator
//	offset 8+M  …        messages, each a TCP frame (4-byte header), until EOF
//
// Drawpile writes the metadata with parson's compact serializer: no
// whitespace, keys in insertion order, '/' escaped as "\/", control
// characters as \u00xx, non-ASCII raw.
const (
	// RecordingMagic starts every .dprec file.
	RecordingMagic = "DPREC\x00"
	// RecordingPrefixLen is the size of magic plus metadata length.
	RecordingPrefixLen = 8 // len(RecordingMagic) + 2
	// MaxRecordingHeader is the largest metadata JSON a .dprec can hold.
	MaxRecordingHeader = math.MaxUint16
)

// Recording header keys written by Drawpile (protocol.md §7.1, server.md
// §2.10).
const (
	HeaderVersion       = "version"       // protocol version, selects the payload layout
	HeaderWriter        = "writer"        // writing application
	HeaderWriterVersion = "writerversion" // writing application's version
	HeaderType          = "type"          // "recording" or "template"
)

// ErrTruncated is matched (errors.Is) by the error a RecordingReader returns
// when the file ends inside a message or inside the header. Crash recovery
// drops such a trailing partial message: see RecordingReader.Offset.
var ErrTruncated = errors.New("protocol: recording is truncated")

// RecordingError reports a malformed recording. Offset is the byte offset in
// the file where the problem starts (for a truncated message: where the
// partial message begins, i.e. the length a repaired file must be cut to).
type RecordingError struct {
	Offset    int64
	Reason    string
	Truncated bool // the input ended early; errors.Is(err, ErrTruncated)
}

func (e *RecordingError) Error() string {
	return fmt.Sprintf("protocol: bad recording at offset %d: %s", e.Offset, e.Reason)
}

// Is makes errors.Is(err, ErrTruncated) true for truncation errors.
func (e *RecordingError) Is(target error) bool { return target == ErrTruncated && e.Truncated }

// RecordingHeader is the metadata of a .dprec: a JSON object whose members
// keep their order. Reading and re-writing an unmodified header reproduces
// its bytes exactly (the original bytes are kept); after a Set the header is
// re-serialized compactly, untouched members keep their original text and new
// string values are escaped the way Drawpile's writer (parson) escapes them.
//
// The zero value is an empty header ("{}"). A RecordingHeader is a value that
// shares nothing mutable with its copies' readers except through Set, which
// copies on write; it is not safe for concurrent Set.
type RecordingHeader struct {
	members []headerMember
	raw     []byte // original bytes; nil once modified or when built by hand
}

type headerMember struct {
	key      string // decoded key
	rawKey   string // key as JSON text, including quotes
	rawValue string // value as JSON text
	value    string // decoded value for strings; rawValue otherwise
	isString bool
}

// NewRecordingHeader returns a header with the given string members, in
// order: NewRecordingHeader("version", "dp:4.25.1", "writer", "drawbridge").
// A trailing odd argument is ignored.
func NewRecordingHeader(kv ...string) RecordingHeader {
	var h RecordingHeader
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// ParseRecordingHeader parses metadata JSON. It must be a JSON object; its
// members keep their order and duplicates are kept as they are (Get returns
// the first).
func ParseRecordingHeader(b []byte) (RecordingHeader, error) {
	if len(b) > MaxRecordingHeader {
		return RecordingHeader{}, &RecordingError{Offset: RecordingPrefixLen, Reason: fmt.Sprintf("metadata of %d bytes exceeds %d", len(b), MaxRecordingHeader)}
	}
	if !json.Valid(b) {
		return RecordingHeader{}, &RecordingError{Offset: RecordingPrefixLen, Reason: "metadata is not valid JSON"}
	}
	s := jsonScanner{b: b}
	s.space()
	if !s.eat('{') {
		return RecordingHeader{}, &RecordingError{Offset: RecordingPrefixLen, Reason: "metadata is not a JSON object"}
	}
	h := RecordingHeader{raw: append([]byte(nil), b...)}
	s.space()
	if s.eat('}') {
		return h, nil
	}
	for {
		s.space()
		rawKey := s.value()
		s.space()
		s.eat(':')
		s.space()
		rawValue := s.value()
		var key string
		if err := json.Unmarshal(rawKey, &key); err != nil {
			return RecordingHeader{}, &RecordingError{Offset: RecordingPrefixLen, Reason: "bad metadata key: " + err.Error()}
		}
		m := headerMember{key: key, rawKey: string(rawKey), rawValue: string(rawValue), value: string(rawValue)}
		if len(rawValue) > 0 && rawValue[0] == '"' {
			if err := json.Unmarshal(rawValue, &m.value); err != nil {
				return RecordingHeader{}, &RecordingError{Offset: RecordingPrefixLen, Reason: "bad metadata value: " + err.Error()}
			}
			m.isString = true
		}
		h.members = append(h.members, m)
		s.space()
		if s.eat(',') {
			continue
		}
		break // json.Valid guarantees '}'
	}
	return h, nil
}

// Version returns the "version" member (the protocol version, e.g.
// "dp:4.25.1"), or "" if there is none.
func (h RecordingHeader) Version() string {
	v, _ := h.Get(HeaderVersion)
	return v
}

// Get returns the value of key. String values are returned decoded; other
// JSON values (numbers, booleans, null, arrays, objects) as their JSON text.
func (h RecordingHeader) Get(key string) (string, bool) {
	for _, m := range h.members {
		if m.key == key {
			return m.value, true
		}
	}
	return "", false
}

// IsString reports whether key is present with a JSON string value.
func (h RecordingHeader) IsString(key string) bool {
	for _, m := range h.members {
		if m.key == key {
			return m.isString
		}
	}
	return false
}

// Set sets key to the string value, replacing the first existing member of
// that name in place or appending a new member at the end.
func (h *RecordingHeader) Set(key, value string) {
	h.replace(headerMember{key: key, rawKey: parsonQuote(key), rawValue: parsonQuote(value), value: value, isString: true})
}

// replace puts m in place of the first member with its key, or appends it.
func (h *RecordingHeader) replace(m headerMember) {
	key := m.key
	members := make([]headerMember, 0, len(h.members)+1) // copy on write: copies of h stay unchanged
	replaced := false
	for _, old := range h.members {
		if !replaced && old.key == key {
			old = m
			replaced = true
		}
		members = append(members, old)
	}
	if !replaced {
		members = append(members, m)
	}
	h.members = members
	h.raw = nil
}

// SetJSON sets key to a raw JSON value (a number, boolean, null, array or
// object; e.g. drawpile-srv's "streamfork" offset is a number), replacing
// the first existing member of that name in place or appending it. raw must
// be valid JSON.
func (h *RecordingHeader) SetJSON(key, raw string) error {
	raw = string(bytes.TrimSpace([]byte(raw)))
	if !json.Valid([]byte(raw)) {
		return fmt.Errorf("protocol: header value for %q is not valid JSON", key)
	}
	m := headerMember{key: key, rawKey: parsonQuote(key), rawValue: raw, value: raw}
	if len(raw) > 0 && raw[0] == '"' {
		json.Unmarshal([]byte(raw), &m.value) // valid JSON string by the check above
		m.isString = true
	}
	h.replace(m)
	return nil
}

// Delete removes every member named key.
func (h *RecordingHeader) Delete(key string) {
	members := make([]headerMember, 0, len(h.members))
	for _, m := range h.members {
		if m.key != key {
			members = append(members, m)
		}
	}
	if len(members) != len(h.members) {
		h.members = members
		h.raw = nil
	}
}

// Len returns the number of members.
func (h RecordingHeader) Len() int { return len(h.members) }

// Keys returns the member names in order.
func (h RecordingHeader) Keys() []string {
	keys := make([]string, len(h.members))
	for i, m := range h.members {
		keys[i] = m.key
	}
	return keys
}

// All iterates over the members in order, with values as Get returns them.
func (h RecordingHeader) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, m := range h.members {
			if !yield(m.key, m.value) {
				return
			}
		}
	}
}

// Bytes returns the metadata JSON: the original bytes if the header was
// parsed and not modified since, else the compact serialization.
func (h RecordingHeader) Bytes() []byte {
	if h.raw != nil {
		return append([]byte(nil), h.raw...)
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range h.members {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m.rawKey)
		b.WriteByte(':')
		b.WriteString(m.rawValue)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// String returns the metadata JSON.
func (h RecordingHeader) String() string { return string(h.Bytes()) }

// parsonQuote quotes s as parson's json_serialize_string does: '"' and '\\'
// backslash-escaped, '/' as "\/", \b \f \n \r \t, other control characters
// as \u00xx (lowercase hex), everything else (including non-ASCII) raw.
// Invalid UTF-8 is replaced by U+FFFD so the output is always valid JSON.
func parsonQuote(s string) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = append(b, "\uFFFD"...)
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
			continue
		}
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '/':
			b = append(b, '\\', '/')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			} else {
				b = append(b, c)
			}
		}
		i++
	}
	return string(append(b, '"'))
}

// jsonScanner splits already-validated JSON into raw member texts.
type jsonScanner struct {
	b []byte
	i int
}

func (s *jsonScanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

func (s *jsonScanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// value returns the raw text of the JSON value at the cursor. The input is
// known to be valid JSON, so only strings and nesting need care.
func (s *jsonScanner) value() []byte {
	start := s.i
	if s.i >= len(s.b) {
		return nil
	}
	switch s.b[s.i] {
	case '"':
		s.skipString()
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				s.skipString()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.i++
			if depth == 0 {
				break
			}
		}
	default: // number, true, false, null
		for s.i < len(s.b) && !bytes.ContainsRune([]byte(",}] \t\n\r"), rune(s.b[s.i])) {
			s.i++
		}
	}
	return s.b[start:s.i]
}

// skipString moves the cursor past the string starting at the cursor.
func (s *jsonScanner) skipString() {
	s.i++ // opening quote
	for s.i < len(s.b) && s.b[s.i] != '"' {
		if s.b[s.i] == '\\' {
			s.i++
		}
		s.i++
	}
	s.i = min(s.i+1, len(s.b)) // closing quote
}

// RecordingReader reads a .dprec file: the header at construction, then one
// frame per ReadFrame. Memory: one header buffer (≤ 64 KiB) and one frame
// buffer (≤ MaxFrame). Not safe for concurrent use.
type RecordingReader struct {
	hdr RecordingHeader
	fr  *Reader
	off int64 // file offset of the message body start
}

// NewRecordingReader reads and validates the magic and header from r. r is
// read in small pieces; wrap files in a bufio.Reader.
func NewRecordingReader(r io.Reader) (*RecordingReader, error) {
	var prefix [RecordingPrefixLen]byte
	if n, err := io.ReadFull(r, prefix[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			if !bytes.HasPrefix([]byte(RecordingMagic), prefix[:min(n, len(RecordingMagic))]) {
				return nil, &RecordingError{Offset: 0, Reason: "not a .dprec file (bad magic)"}
			}
			return nil, &RecordingError{Offset: int64(n), Reason: "file ends inside the header", Truncated: true}
		}
		return nil, fmt.Errorf("read recording header: %w", err)
	}
	if string(prefix[:len(RecordingMagic)]) != RecordingMagic {
		return nil, &RecordingError{Offset: 0, Reason: "not a .dprec file (bad magic)"}
	}
	m := int(binary.BigEndian.Uint16(prefix[len(RecordingMagic):])) // ≤ 65535 by construction
	if m == 0 {
		return nil, &RecordingError{Offset: int64(len(RecordingMagic)), Reason: "metadata length is 0"}
	}
	meta := make([]byte, m)
	if n, err := io.ReadFull(r, meta); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, &RecordingError{Offset: int64(RecordingPrefixLen + n), Reason: fmt.Sprintf("file ends inside the %d-byte metadata", m), Truncated: true}
		}
		return nil, fmt.Errorf("read recording header: %w", err)
	}
	hdr, err := ParseRecordingHeader(meta)
	if err != nil {
		return nil, err
	}
	return &RecordingReader{hdr: hdr, fr: NewReader(r), off: int64(RecordingPrefixLen + m)}, nil
}

// Header returns the recording's metadata.
func (r *RecordingReader) Header() RecordingHeader { return r.hdr }

// Offset returns the file offset of the next message: after an error
// matching ErrTruncated, the length to which the file must be cut to drop
// the partial trailing message.
func (r *RecordingReader) Offset() int64 { return r.off + r.fr.Offset() }

// ReadFrame returns the next message. The Frame aliases an internal buffer
// valid until the next call (Clone it to keep it). It returns io.EOF at a
// clean end of file and a *RecordingError matching ErrTruncated when the
// file ends inside a message.
func (r *RecordingReader) ReadFrame() (Frame, error) {
	f, err := r.fr.ReadFrame()
	if err == nil || err == io.EOF {
		return f, err
	}
	var fe *FrameError
	if errors.As(err, &fe) {
		return nil, &RecordingError{Offset: r.Offset(), Reason: "file ends inside a message", Truncated: true}
	}
	return nil, fmt.Errorf("read recording: %w", err)
}

// RecordingWriter writes a .dprec file. Frames are buffered; call Flush to
// push them to the underlying writer. Not safe for concurrent use.
type RecordingWriter struct {
	w *bufio.Writer
}

// NewRecordingWriter writes the magic and h to w and returns a writer for
// the messages. The header must serialize to 1–65535 bytes.
func NewRecordingWriter(w io.Writer, h RecordingHeader) (*RecordingWriter, error) {
	meta := h.Bytes()
	if len(meta) > MaxRecordingHeader {
		return nil, &RecordingError{Offset: RecordingPrefixLen, Reason: fmt.Sprintf("metadata of %d bytes exceeds %d", len(meta), MaxRecordingHeader)}
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(RecordingMagic)
	bw.Write(binary.BigEndian.AppendUint16(nil, uint16(len(meta))))
	if _, err := bw.Write(meta); err != nil {
		return nil, fmt.Errorf("write recording header: %w", err)
	}
	return &RecordingWriter{w: bw}, nil
}

// AppendRecordingPrefix appends the magic, metadata length and metadata of
// h to dst (for callers that manage their own file writes).
func AppendRecordingPrefix(dst []byte, h RecordingHeader) ([]byte, error) {
	meta := h.Bytes()
	if len(meta) > MaxRecordingHeader {
		return dst, &RecordingError{Offset: RecordingPrefixLen, Reason: fmt.Sprintf("metadata of %d bytes exceeds %d", len(meta), MaxRecordingHeader)}
	}
	dst = append(dst, RecordingMagic...)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(meta)))
	return append(dst, meta...), nil
}

// WriteFrame buffers one message. f must be a well-formed frame.
func (w *RecordingWriter) WriteFrame(f Frame) error {
	if _, err := ParseFrame(f); err != nil {
		return err
	}
	if _, err := w.w.Write(f); err != nil {
		return fmt.Errorf("write recording: %w", err)
	}
	return nil
}

// Flush writes buffered data to the underlying writer.
func (w *RecordingWriter) Flush() error {
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("flush recording: %w", err)
	}
	return nil
}

package protocol

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// The .dptxt text recording format, 2.3 JSON-body syntax (protocol.md §7.2):
//
//	!version=dp:4.25.1                 header lines: !key=value
//	# comment                          ignored, like blank lines
//	3 classicdabs {"color":"#000000",…,"_":[{"x":0,…}]}
//	3 undopoint                        messages without fields have no body
//
// The writer reproduces Drawpile's text writer byte for byte: keys sorted by
// name with the dabs array "_" last; named flags, bytes and vectors omitted
// when empty; integers, bools and strings always written; colours #rrggbb
// when opaque, else #aarrggbb; scaled fields as decimals with trailing zeros
// removed; blend modes by name; enums as numbers. Text recordings are always
// in the dp:4.25.1 layout.

// HeaderField is one metadata entry of a recording header, in file order.
type HeaderField struct {
	Key, Value string
}

// TextError reports a dptxt line that does not parse.
type TextError struct {
	Line   int // 1-based line number
	Reason string
}

func (e *TextError) Error() string {
	return fmt.Sprintf("protocol: dptxt line %d: %s", e.Line, e.Reason)
}

// maxTextLine bounds one dptxt line: the largest message (65535 payload
// bytes as JSON-escaped text or thousands of dabs) stays well below it.
const maxTextLine = 8 << 20

// TextReader reads a .dptxt recording: first the header, then messages.
// Not safe for concurrent use.
type TextReader struct {
	sc         *bufio.Scanner
	line       int
	header     []HeaderField
	headerDone bool
	pending    string // first message line, read while looking for the header's end
	hasPending bool
	err        error
}

// NewTextReader returns a reader for a .dptxt stream.
func NewTextReader(r io.Reader) *TextReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxTextLine)
	return &TextReader{sc: sc}
}

func (r *TextReader) next() (string, bool, error) {
	if !r.sc.Scan() {
		if err := r.sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				return "", false, &TextError{Line: r.line + 1, Reason: "line too long"}
			}
			return "", false, fmt.Errorf("read dptxt: %w", err)
		}
		return "", false, nil
	}
	r.line++
	return r.sc.Text(), true, nil
}

// Header reads (once) and returns the header fields in file order.
func (r *TextReader) Header() ([]HeaderField, error) {
	if r.headerDone {
		return r.header, r.err
	}
	r.headerDone = true
	for {
		line, ok, err := r.next()
		if err != nil {
			r.err = err
			return r.header, err
		}
		if !ok {
			return r.header, nil
		}
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' {
			continue
		}
		if t[0] != '!' {
			r.pending, r.hasPending = line, true
			return r.header, nil
		}
		k, v, found := strings.Cut(t[1:], "=")
		if !found {
			r.err = &TextError{Line: r.line, Reason: "header line without '='"}
			return r.header, r.err
		}
		r.header = append(r.header, HeaderField{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
	}
}

// ReadMessage returns the next message and its context id; io.EOF at the
// end of the input. Errors other than io.EOF are *TextError or read errors.
func (r *TextReader) ReadMessage() (ctx uint8, m Message, err error) {
	if _, err := r.Header(); err != nil {
		return 0, nil, err
	}
	for {
		var line string
		if r.hasPending {
			line, r.hasPending = r.pending, false
		} else {
			var ok bool
			line, ok, err = r.next()
			if err != nil {
				return 0, nil, err
			}
			if !ok {
				return 0, nil, io.EOF
			}
		}
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' {
			continue
		}
		return parseTextLine(t, r.line)
	}
}

// ParseTextMessage parses one dptxt message line ("3 undopoint").
func ParseTextMessage(line string) (ctx uint8, m Message, err error) {
	return parseTextLine(strings.TrimSpace(line), 1)
}

func parseTextLine(t string, lineNo int) (uint8, Message, error) {
	fail := func(format string, a ...any) (uint8, Message, error) {
		return 0, nil, &TextError{Line: lineNo, Reason: fmt.Sprintf(format, a...)}
	}
	i := strings.IndexAny(t, " \t")
	if i < 0 {
		return fail("message line without a name")
	}
	ctx, err := strconv.ParseUint(t[:i], 10, 8)
	if err != nil {
		return fail("bad context id %q", t[:i])
	}
	rest := strings.TrimLeft(t[i:], " \t")
	name, body := rest, ""
	if j := strings.IndexAny(rest, " \t"); j >= 0 {
		name, body = rest[:j], strings.TrimSpace(rest[j:])
	}
	typ, ok := TypeByTextName(name)
	if !ok {
		return fail("unknown message name %q", name)
	}
	o := &textObject{line: lineNo, typ: typ, state: &textState{}}
	if body != "" {
		if body[0] != '{' {
			return fail("message body is not a JSON object")
		}
		d := json.NewDecoder(strings.NewReader(body))
		d.UseNumber()
		if err := d.Decode(&o.m); err != nil {
			return fail("message body: %v", err)
		}
		if d.More() {
			return fail("trailing data after the message body")
		}
		if _, err := d.Token(); err != io.EOF {
			return fail("trailing data after the message body")
		}
	}
	m := parseKnownText(typ, o)
	if o.state.err != nil {
		return 0, nil, o.state.err
	}
	return uint8(ctx), m, nil
}

// textState is the error shared by one message's objects.
type textState struct{ err error }

// textObject is one parsed JSON object of a message body (or a dab).
// Accessors return zero for missing keys and record the first error.
type textObject struct {
	m     map[string]any
	line  int
	typ   Type
	state *textState
}

func (o *textObject) fail(key, format string, a ...any) {
	if o.state.err == nil {
		o.state.err = &TextError{Line: o.line, Reason: fmt.Sprintf("%s.%s: %s", o.typ.TextName(), key, fmt.Sprintf(format, a...))}
	}
}

// number returns the key as a float64 and an exact int64 when integral.
func (o *textObject) number(key string) (f float64, i int64, isInt, ok bool) {
	v, present := o.m[key]
	if !present || v == nil {
		return 0, 0, true, false
	}
	n, isNum := v.(json.Number)
	if !isNum {
		o.fail(key, "want a number, have %T", v)
		return 0, 0, false, false
	}
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return float64(i), i, true, true
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		o.fail(key, "bad number %s", n)
		return 0, 0, false, false
	}
	return f, 0, false, true
}

func (o *textObject) integer(key string, lo, hi int64) int64 {
	f, i, isInt, ok := o.number(key)
	if !ok {
		return 0
	}
	if !isInt {
		if f != math.Trunc(f) || f < math.MinInt64 || f > math.MaxInt64 {
			o.fail(key, "want an integer, have %v", f)
			return 0
		}
		i = int64(f)
	}
	if i < lo || i > hi {
		o.fail(key, "value %d out of range %d–%d", i, lo, hi)
		return 0
	}
	return i
}

func (o *textObject) uint(key string, bits int) uint64 {
	return uint64(o.integer(key, 0, 1<<bits-1))
}

func (o *textObject) int(key string, bits int) int64 {
	return o.integer(key, -1<<(bits-1), 1<<(bits-1)-1)
}

// scaled reads a decimal written as raw/scale and returns the raw value,
// rounded half away from zero.
func (o *textObject) scaled(key string, scale, bits int, signed bool) int64 {
	f, _, _, ok := o.number(key)
	if !ok {
		return 0
	}
	lo, hi := int64(0), int64(1)<<bits-1
	if signed {
		lo, hi = -1<<(bits-1), 1<<(bits-1)-1
	}
	r := math.Round(f * float64(scale))
	if r < float64(lo) || r > float64(hi) {
		o.fail(key, "value %v out of range", f)
		return 0
	}
	return int64(r)
}

func (o *textObject) bool(key string) bool {
	v, present := o.m[key]
	if !present || v == nil {
		return false
	}
	switch v := v.(type) {
	case bool:
		return v
	case json.Number:
		return v != "0"
	}
	o.fail(key, "want a bool, have %T", v)
	return false
}

func (o *textObject) flags(key string, names []string) uint8 {
	v, present := o.m[key]
	if !present || v == nil {
		return 0
	}
	switch v := v.(type) {
	case json.Number:
		return uint8(o.uint(key, 8))
	case []any:
		var bits uint8
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				o.fail(key, "flag is %T, want a string", e)
				return 0
			}
			for i, n := range names {
				if n == s {
					bits |= 1 << i
				}
			}
			// Unknown flag names are ignored, as Drawpile's reader does.
		}
		return bits
	}
	o.fail(key, "want an array of flag names, have %T", v)
	return 0
}

func (o *textObject) str(key string) string {
	v, present := o.m[key]
	if !present || v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		o.fail(key, "want a string, have %T", v)
	}
	return s
}

func (o *textObject) color(key string) uint32 {
	s := o.str(key)
	if s == "" {
		return 0
	}
	if s[0] != '#' || (len(s) != 7 && len(s) != 9) {
		o.fail(key, "bad colour %q", s)
		return 0
	}
	c, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil {
		o.fail(key, "bad colour %q", s)
		return 0
	}
	if len(s) == 7 {
		c |= 0xFF000000
	}
	return uint32(c)
}

func (o *textObject) blend(key string) uint8 {
	v, present := o.m[key]
	if !present || v == nil {
		return BlendNormal
	}
	if _, isNum := v.(json.Number); isNum {
		return uint8(o.uint(key, 8))
	}
	if mode, ok := BlendByName(o.str(key)); ok {
		return mode
	}
	return BlendNormal // unknown names read as Normal, like Drawpile
}

func (o *textObject) bytes(key string) []byte {
	s := o.str(key)
	if s == "" {
		return nil
	}
	if base64.StdEncoding.DecodedLen(len(s)) > MaxPayload+3 {
		o.fail(key, "base64 value too long")
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		o.fail(key, "bad base64: %v", err)
		return nil
	}
	return cloneBytes(b)
}

func (o *textObject) array(key string) []any {
	v, present := o.m[key]
	if !present || v == nil {
		return nil
	}
	a, ok := v.([]any)
	if !ok {
		o.fail(key, "want an array, have %T", v)
		return nil
	}
	if len(a) > MaxPayload {
		o.fail(key, "array of %d elements is too long", len(a))
		return nil
	}
	return a
}

func textInts[T uint8 | uint16 | uint32 | int32](o *textObject, key string, lo, hi int64) []T {
	a := o.array(key)
	if len(a) == 0 {
		return nil
	}
	out := make([]T, len(a))
	tmp := &textObject{line: o.line, typ: o.typ, state: o.state, m: map[string]any{}}
	for i, e := range a {
		tmp.m[key] = e
		out[i] = T(tmp.integer(key, lo, hi))
	}
	return out
}

func (o *textObject) u8s(key string) []uint8   { return textInts[uint8](o, key, 0, math.MaxUint8) }
func (o *textObject) u16s(key string) []uint16 { return textInts[uint16](o, key, 0, math.MaxUint16) }
func (o *textObject) u32s(key string) []uint32 { return textInts[uint32](o, key, 0, math.MaxUint32) }
func (o *textObject) i32s(key string) []int32 {
	return textInts[int32](o, key, math.MinInt32, math.MaxInt32)
}

func (o *textObject) objects(key string) []*textObject {
	a := o.array(key)
	out := make([]*textObject, 0, len(a))
	for _, e := range a {
		m, ok := e.(map[string]any)
		if !ok {
			o.fail(key, "element is %T, want an object", e)
			return nil
		}
		out = append(out, &textObject{m: m, line: o.line, typ: o.typ, state: o.state})
	}
	return out
}

// textBody appends the JSON body of one message.
type textBody struct {
	b        []byte
	first    bool // no key written yet in the current object
	open     bool // the message body's '{' has been written
	firstDab bool
}

// begin starts a message body. The opening brace is written lazily with the
// first key, so a message whose fields are all omitted (empty lists, no
// flags) has no body at all, like a message without fields.
func (w *textBody) begin() { w.first, w.open = true, false }

func (w *textBody) end() {
	if w.open {
		w.b = append(w.b, '}')
	}
}

func (w *textBody) key(k string) {
	switch {
	case !w.open:
		w.b = append(w.b, ' ', '{')
		w.open = true
	case !w.first:
		w.b = append(w.b, ',')
	}
	w.first = false
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

func (w *textBody) uint(k string, v uint64) { w.key(k); w.b = strconv.AppendUint(w.b, v, 10) }
func (w *textBody) int(k string, v int64)   { w.key(k); w.b = strconv.AppendInt(w.b, v, 10) }

// scaled writes raw/scale with up to 8 decimals, trailing zeros and a
// trailing point removed.
func (w *textBody) scaled(k string, raw int64, scale int) {
	w.key(k)
	w.b = appendDecimal(w.b, float64(raw)/float64(scale))
}

func appendDecimal(b []byte, f float64) []byte {
	start := len(b)
	b = strconv.AppendFloat(b, f, 'f', 8, 64)
	if bytes.IndexByte(b[start:], '.') >= 0 {
		b = bytes.TrimRight(b, "0")
		b = bytes.TrimSuffix(b, []byte("."))
	}
	if string(b[start:]) == "-0" {
		b = append(b[:start], '0')
	}
	return b
}

func (w *textBody) bool(k string, v bool) { w.key(k); w.b = strconv.AppendBool(w.b, v) }

func (w *textBody) flags(k string, v uint8, names []string) {
	if v == 0 {
		return
	}
	w.key(k)
	w.b = append(w.b, '[')
	n := 0
	for i, name := range names {
		if v&(1<<i) != 0 {
			if n > 0 {
				w.b = append(w.b, ',')
			}
			w.b = appendJSONString(w.b, name)
			n++
		}
	}
	w.b = append(w.b, ']')
}

func (w *textBody) color(k string, c uint32) {
	const hex = "0123456789abcdef"
	w.key(k)
	w.b = append(w.b, '"', '#')
	shift := 24
	if c>>24 == 0xFF {
		shift = 16
	}
	for ; shift >= 0; shift -= 8 {
		x := byte(c >> shift)
		w.b = append(w.b, hex[x>>4], hex[x&0xF])
	}
	w.b = append(w.b, '"')
}

func (w *textBody) blend(k string, mode uint8) {
	w.key(k)
	w.b = appendJSONString(w.b, BlendName(mode))
}

func (w *textBody) str(k, s string) { w.key(k); w.b = appendJSONString(w.b, s) }

func (w *textBody) bytes(k string, v []byte) {
	if len(v) == 0 {
		return
	}
	w.key(k)
	w.b = append(w.b, '"')
	w.b = base64.StdEncoding.AppendEncode(w.b, v)
	w.b = append(w.b, '"')
}

func appendTextInts[T uint8 | uint16 | uint32 | int32](w *textBody, k string, v []T) {
	if len(v) == 0 {
		return
	}
	w.key(k)
	w.b = append(w.b, '[')
	for i, x := range v {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = strconv.AppendInt(w.b, int64(x), 10)
	}
	w.b = append(w.b, ']')
}

func (w *textBody) u8s(k string, v []uint8)   { appendTextInts(w, k, v) }
func (w *textBody) u16s(k string, v []uint16) { appendTextInts(w, k, v) }
func (w *textBody) u32s(k string, v []uint32) { appendTextInts(w, k, v) }
func (w *textBody) i32s(k string, v []int32)  { appendTextInts(w, k, v) }

// dabs writes the "_" array; it is omitted when there are no dabs.
func textDabs[D any, P interface {
	*D
	writeText(*textBody)
}](w *textBody, dabs []D) {
	if len(dabs) == 0 {
		return
	}
	w.key("_")
	w.b = append(w.b, '[')
	w.firstDab = true
	for i := range dabs {
		P(&dabs[i]).writeText(w)
	}
	w.b = append(w.b, ']')
}

func (w *textBody) beginSub() {
	if !w.firstDab {
		w.b = append(w.b, ',')
	}
	w.firstDab = false
	w.b = append(w.b, '{')
	w.first = true
}

func (w *textBody) endSub() { w.b = append(w.b, '}'); w.first = false }

// appendJSONString writes s as a JSON string the way Drawpile's text writer
// does: \" \\ \b \f \n \r \t, \u00xx for other control characters,
// everything else (including non-ASCII and '/') raw. Invalid UTF-8 is
// written as is.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
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
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			} else {
				b = append(b, c)
			}
		}
	}
	return append(b, '"')
}

// AppendText appends one dptxt message line ("3 undopoint\n") for m. Opaque
// messages have no text form and return an error.
func AppendText(dst []byte, ctx uint8, m Message) ([]byte, error) {
	if m == nil {
		return dst, &EncodeError{Reason: "nil message"}
	}
	t := m.MessageType()
	if !t.Known() {
		return dst, &EncodeError{Type: t, Reason: "message type has no dptxt form"}
	}
	w := textBody{b: dst}
	w.b = strconv.AppendUint(w.b, uint64(ctx), 10)
	w.b = append(w.b, ' ')
	w.b = append(w.b, t.TextName()...)
	if !writeKnownText(&w, m) {
		return dst, &EncodeError{Type: t, Reason: fmt.Sprintf("unsupported message value %T", m)}
	}
	return append(w.b, '\n'), nil
}

// TextWriter writes a .dptxt recording. Call WriteHeader once, then
// WriteMessage for each message, then Flush. Not safe for concurrent use.
type TextWriter struct {
	w   *bufio.Writer
	buf []byte
}

// NewTextWriter returns a writer producing dptxt on w.
func NewTextWriter(w io.Writer) *TextWriter {
	return &TextWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

// WriteHeader writes the header lines (!key=value) in the given order.
func (w *TextWriter) WriteHeader(h []HeaderField) error {
	for _, f := range h {
		if strings.ContainsAny(f.Key, "=\n") || strings.Contains(f.Value, "\n") {
			return &EncodeError{Reason: fmt.Sprintf("header field %q cannot be written as a dptxt header line", f.Key)}
		}
		w.buf = append(w.buf[:0], '!')
		w.buf = append(w.buf, f.Key...)
		w.buf = append(w.buf, '=')
		w.buf = append(w.buf, f.Value...)
		w.buf = append(w.buf, '\n')
		if _, err := w.w.Write(w.buf); err != nil {
			return fmt.Errorf("write dptxt: %w", err)
		}
	}
	return nil
}

// WriteMessage writes one message line.
func (w *TextWriter) WriteMessage(ctx uint8, m Message) error {
	var err error
	w.buf, err = AppendText(w.buf[:0], ctx, m)
	if err != nil {
		return err
	}
	if _, err := w.w.Write(w.buf); err != nil {
		return fmt.Errorf("write dptxt: %w", err)
	}
	return nil
}

// Flush writes buffered data to the underlying writer.
func (w *TextWriter) Flush() error {
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("write dptxt: %w", err)
	}
	return nil
}

// TextHeader converts a .dprec header into dptxt header fields, in order.
// String values are kept; other JSON values are written the way Drawpile's
// text writer prints them: null, true, false, numbers with six decimals
// ("%f"); arrays and objects as their JSON text.
func TextHeader(h RecordingHeader) []HeaderField {
	out := make([]HeaderField, 0, h.Len())
	for k, v := range h.All() {
		if !h.IsString(k) {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				v = strconv.FormatFloat(f, 'f', 6, 64)
			}
		}
		out = append(out, HeaderField{Key: k, Value: v})
	}
	return out
}

// RecordingHeaderFromText converts dptxt header fields into a .dprec header;
// every value becomes a JSON string, as in Drawpile's converter.
func RecordingHeaderFromText(fields []HeaderField) RecordingHeader {
	var h RecordingHeader
	for _, f := range fields {
		h.Set(f.Key, f.Value)
	}
	return h
}

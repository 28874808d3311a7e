package protocol

import (
	"errors"
	"fmt"
	"strconv"
)

// Protocol versions (protocol.md §1.5).
const (
	// ProtocolVersion is the current protocol, spoken by Drawpile 2.3.
	ProtocolVersion = "dp:4.25.1"
	// CompatVersion is the Drawpile 2.2 protocol that 2.3 still speaks in
	// compatibility mode.
	CompatVersion = "dp:4.24.0"
)

// Layout selects the payload layouts of one session or recording.
type Layout uint8

const (
	// Layout425 is the dp:4.25.1 layout (current): u24 layer ids with the
	// owner in the low byte.
	Layout425 Layout = iota
	// Layout424 is the dp:4.24.0 compat layout (Drawpile 2.2): u16 ids with
	// the owner in the high byte, no dab flags, narrower dab sizes, and no
	// 4.25-only message types (protocol.md §3.3).
	Layout424
)

// String returns the protocol version of the layout.
func (l Layout) String() string {
	switch l {
	case Layout425:
		return ProtocolVersion
	case Layout424:
		return CompatVersion
	}
	return "Layout(" + strconv.Itoa(int(l)) + ")"
}

// LayoutFor returns the layout for a session or recording protocol version;
// ok is false for versions this package cannot decode.
func LayoutFor(version string) (Layout, bool) {
	switch version {
	case ProtocolVersion:
		return Layout425, true
	case CompatVersion:
		return Layout424, true
	}
	return Layout425, false
}

// Message is one typed protocol message. Every message struct in this
// package implements it with a value receiver; pointers to them are accepted
// by the encoders too. Opaque holds types this package does not decode.
type Message interface {
	MessageType() Type
}

// Opaque is a message of a type ≥ 64 that this package does not know (or
// that is reserved). It round-trips byte-exact: a relay never needs to
// understand it.
type Opaque struct {
	T       Type
	Payload []byte
}

// MessageType returns o.T.
func (o Opaque) MessageType() Type { return o.T }

// category of a type id range.
type category uint8

const (
	catControl category = iota
	catServerMeta
	catClientMeta
	catCommand
)

// typeInfo describes one type id; the zero value is an unassigned id.
type typeInfo struct {
	name, text     string
	cat            category
	known          bool // has a typed message
	reserved       bool
	incompatible   bool // not sendable to dp:4.24.0 peers
	fixed          bool // fixed payload length
	minLen, maxLen int  // dp:4.25.1 payload length range
}

// String returns the protocol.md name of the type ("DrawDabsClassic"), or
// "Type(N)" for unassigned ids.
func (t Type) String() string {
	if n := typeInfos[t].name; n != "" {
		return n
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// TextName returns the dptxt name of the type ("classicdabs"), or "" for
// reserved and unassigned ids.
func (t Type) TextName() string { return typeInfos[t].text }

// Known reports whether t has a typed message in this package.
func (t Type) Known() bool { return typeInfos[t].known }

// Reserved reports whether t is a reserved id (never valid as a typed
// message; relayed opaquely when ≥ 64).
func (t Type) Reserved() bool { return typeInfos[t].reserved }

// InLayout reports whether a message of type t may be sent in layout l.
// Unknown types ≥ 64 are relayed opaquely in every layout.
func (t Type) InLayout(l Layout) bool {
	return l != Layout424 || !typeInfos[t].incompatible
}

// PayloadLimits returns the dp:4.25.1 payload length range of a known type.
func (t Type) PayloadLimits() (minLen, maxLen int, ok bool) {
	ti := &typeInfos[t]
	return ti.minLen, ti.maxLen, ti.known
}

var textNames = func() map[string]Type {
	m := make(map[string]Type, len(typeInfos))
	for i := range typeInfos {
		if ti := &typeInfos[i]; ti.known {
			m[ti.text] = Type(i)
		}
	}
	return m
}()

// TypeByTextName returns the type with the given dptxt name. Reserved and
// unknown names return false.
func TypeByTextName(name string) (Type, bool) {
	t, ok := textNames[name]
	return t, ok
}

// DecodeError reports a payload that does not decode. It never wraps
// another error.
type DecodeError struct {
	Type   Type
	Offset int // byte offset in the payload where decoding failed
	Reason string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("protocol: decode %v (type %d): %s at payload offset %d", e.Type, uint8(e.Type), e.Reason, e.Offset)
}

// EncodeError reports a message whose field values cannot be encoded
// (a list too long for the payload limit, a u24 field above 0xFFFFFF).
type EncodeError struct {
	Type   Type
	Reason string
}

func (e *EncodeError) Error() string {
	return fmt.Sprintf("protocol: encode %v (type %d): %s", e.Type, uint8(e.Type), e.Reason)
}

// ErrNotInLayout is matched (errors.Is) by the *LayoutError returned when a
// message type cannot be used in a layout: a 4.25-only type for a dp:4.24.0
// peer.
var ErrNotInLayout = errors.New("protocol: message type not available in this protocol version")

// LayoutError reports a message type that does not exist in a layout.
type LayoutError struct {
	Type   Type
	Layout Layout
}

func (e *LayoutError) Error() string {
	return fmt.Sprintf("protocol: %v (type %d) cannot be sent to a %v peer", e.Type, uint8(e.Type), e.Layout)
}

// Is makes errors.Is(err, ErrNotInLayout) true.
func (e *LayoutError) Is(target error) bool { return target == ErrNotInLayout }

// Decode decodes one frame in layout l. See DecodePayload.
func Decode(f Frame, l Layout) (Message, error) {
	if len(f) < HeaderLen {
		return nil, &DecodeError{Reason: fmt.Sprintf("frame of %d bytes is shorter than its header", len(f))}
	}
	return DecodePayload(f.Type(), f.Payload(), l)
}

// DecodePayload decodes the payload of a message of type t in layout l.
//
// Known types decode to their struct (a value, never a pointer); the result
// does not alias payload. Unknown and reserved types ≥ 64 decode to Opaque
// (with a copy of the payload). Unknown or reserved types < 64, payloads of
// the wrong length and 4.25-only types in Layout424 return a *DecodeError.
// DecodePayload never panics and validates lengths before allocating.
func DecodePayload(t Type, payload []byte, l Layout) (Message, error) {
	ti := &typeInfos[t]
	if !ti.known {
		if t < FirstClientMeta {
			reason := "unknown message type"
			if ti.reserved {
				reason = "reserved message type"
			}
			return nil, &DecodeError{Type: t, Reason: reason}
		}
		return Opaque{T: t, Payload: cloneBytes(payload)}, nil
	}
	if l == Layout424 && ti.incompatible {
		return nil, &DecodeError{Type: t, Reason: "message type does not exist in " + CompatVersion}
	}
	if len(payload) > MaxPayload {
		return nil, &DecodeError{Type: t, Offset: MaxPayload, Reason: "payload exceeds the protocol maximum"}
	}
	return decodeKnown(t, payload, l)
}

// AppendPayload appends the payload of m in layout l (no header).
func AppendPayload(dst []byte, m Message, l Layout) ([]byte, error) {
	if m == nil {
		return dst, &EncodeError{Reason: "nil message"}
	}
	t := m.MessageType()
	if !t.InLayout(l) {
		return dst, &LayoutError{Type: t, Layout: l}
	}
	switch o := m.(type) {
	case Opaque:
		return append(dst, o.Payload...), nil
	case *Opaque:
		return append(dst, o.Payload...), nil
	}
	out, err, ok := appendKnownPayload(dst, m, l)
	if !ok {
		return dst, &EncodeError{Type: t, Reason: fmt.Sprintf("unsupported message value %T", m)}
	}
	if err != nil {
		return dst, err
	}
	return out, nil
}

// AppendMessage appends m as a TCP/recording frame (4-byte header, context
// id ctx) in layout l and returns the extended slice. On error dst is
// returned unchanged (same length). Encoding a 4.25-only type for Layout424
// returns a *LayoutError (errors.Is ErrNotInLayout).
func AppendMessage(dst []byte, ctx uint8, m Message, l Layout) ([]byte, error) {
	start := len(dst)
	if m == nil {
		return dst, &EncodeError{Reason: "nil message"}
	}
	t := m.MessageType()
	b := append(dst, 0, 0, byte(t), ctx)
	b, err := AppendPayload(b, m, l)
	if err != nil {
		return dst[:start], err
	}
	n := len(b) - start - HeaderLen
	if n > MaxPayload {
		return dst[:start], &EncodeError{Type: t, Reason: fmt.Sprintf("payload of %d bytes exceeds %d", n, MaxPayload)}
	}
	b[start] = byte(n >> 8)
	b[start+1] = byte(n)
	return b, nil
}

// EncodeFrame returns m as a newly allocated TCP frame.
func EncodeFrame(ctx uint8, m Message, l Layout) (Frame, error) {
	b, err := AppendMessage(nil, ctx, m, l)
	if err != nil {
		return nil, err
	}
	return Frame(b), nil
}

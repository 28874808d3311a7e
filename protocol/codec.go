package protocol

import (
	"encoding/binary"
	"fmt"
)

// Field codec helpers used by messages_gen.go. All payload integers are big
// endian (protocol.md §2). Callers check lengths before calling the readers.

const maxU24 = 0xFFFFFF

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
func be24(b []byte) uint32 { _ = b[2]; return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]) }
func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

func appendU16(b []byte, v uint16) []byte { return append(b, byte(v>>8), byte(v)) }
func appendU24(b []byte, v uint32) []byte { return append(b, byte(v>>16), byte(v>>8), byte(v)) }
func appendU32(b []byte, v uint32) []byte {
	return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// cloneBytes copies b; empty input gives nil so that decoded messages
// compare equal regardless of where they came from.
func cloneBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

func decodeU16s(p []byte) []uint16 {
	if len(p) < 2 {
		return nil
	}
	out := make([]uint16, len(p)/2)
	for i := range out {
		out[i] = be16(p[2*i:])
	}
	return out
}

func decodeU16sSwapped(p []byte) []uint16 {
	out := decodeU16s(p)
	for i, v := range out {
		out[i] = swap16(v)
	}
	return out
}

func decodeU32s(p []byte) []uint32 {
	if len(p) < 4 {
		return nil
	}
	out := make([]uint32, len(p)/4)
	for i := range out {
		out[i] = be32(p[4*i:])
	}
	return out
}

func decodeI32s(p []byte) []int32 {
	if len(p) < 4 {
		return nil
	}
	out := make([]int32, len(p)/4)
	for i := range out {
		out[i] = int32(be32(p[4*i:]))
	}
	return out
}

func appendU16s(b []byte, v []uint16) []byte {
	for _, x := range v {
		b = appendU16(b, x)
	}
	return b
}

func appendU16sSwapped(b []byte, v []uint16) []byte {
	for _, x := range v {
		b = appendU16(b, swap16(x))
	}
	return b
}

func appendU32s(b []byte, v []uint32) []byte {
	for _, x := range v {
		b = appendU32(b, x)
	}
	return b
}

func appendI32s(b []byte, v []int32) []byte {
	for _, x := range v {
		b = appendU32(b, uint32(x))
	}
	return b
}

// Id conversions between dp:4.25 and dp:4.24 (protocol.md §3.3).
//
//	4.25 layer id (u24):        element<<8 | owner     (owner in the low byte)
//	4.24 layer id (u16):        owner<<8 | element     (owner in the high byte)
//	4.25 annotation/track (u16) element<<8 | owner
//	4.24 annotation/track (u16) owner<<8 | element
//
// Converting takes the low 16 bits and swaps the two bytes; elements above
// 255 are not representable in 4.24.

func swap16(v uint16) uint16 { return v<<8 | v>>8 }

// layerTo424 converts a 4.25 layer id to its 4.24 form.
func layerTo424(id uint32) uint16 { return swap16(uint16(id)) }

// layerFrom424 converts a 4.24 layer id to its 4.25 form.
func layerFrom424(id uint16) uint32 { return uint32(swap16(id)) }

// dabFlagsFrom424 derives the paint mode of a dp:4.24 draw-dabs message, which
// has no flags field: in 2.2 a non-zero colour alpha meant "indirect with
// this opacity".
func dabFlagsFrom424(color uint32) uint8 {
	if color&0xFF000000 != 0 {
		return PaintModeIndirectSoft
	}
	return PaintModeDirect
}

// KeyFrameLayerAttributes.layer_flags in 4.24: pairs of u16 (4.24 layer id,
// flags) instead of u32 flags<<24 | layer.
func decodeLayerFlagPairs424(p []byte) []uint32 {
	if len(p) < 4 {
		return nil
	}
	out := make([]uint32, len(p)/4)
	for i := range out {
		q := p[4*i:]
		out[i] = layerFrom424(be16(q)) | uint32(be16(q[2:])&0xFF)<<24
	}
	return out
}

func appendLayerFlagPairs424(b []byte, v []uint32) []byte {
	for _, x := range v {
		b = appendU16(b, layerTo424(x&maxU24))
		b = appendU16(b, uint16(x>>24))
	}
	return b
}

func lengthError(t Type, n, minLen, maxLen int) error {
	if minLen == maxLen {
		return &DecodeError{Type: t, Offset: min(n, minLen), Reason: fmt.Sprintf("payload is %d bytes, want %d", n, minLen)}
	}
	return &DecodeError{Type: t, Offset: min(n, maxLen), Reason: fmt.Sprintf("payload is %d bytes, want %d–%d", n, minLen, maxLen)}
}

// checkTail validates a payload of fixed bytes followed by n elements of
// elem bytes each, minN ≤ n ≤ maxN.
func checkTail(t Type, p []byte, fixed, elem, minN, maxN int) error {
	if len(p) < fixed+minN*elem || len(p) > fixed+maxN*elem {
		return lengthError(t, len(p), fixed+minN*elem, fixed+maxN*elem)
	}
	if (len(p)-fixed)%elem != 0 {
		return &DecodeError{Type: t, Offset: len(p) - (len(p)-fixed)%elem,
			Reason: fmt.Sprintf("%d trailing bytes are not a multiple of the %d-byte element", len(p)-fixed, elem)}
	}
	return nil
}

func prefixError(t Type, off int, field string, n int) error {
	return &DecodeError{Type: t, Offset: off, Reason: fmt.Sprintf("%s of %d bytes overruns the payload", field, n)}
}

func countError(t Type, field string, n, minN, maxN int) error {
	return &EncodeError{Type: t, Reason: fmt.Sprintf("%s has %d elements, want %d–%d", field, n, minN, maxN)}
}

func rangeError(t Type, field string, v uint64) error {
	return &EncodeError{Type: t, Reason: fmt.Sprintf("%s value %d does not fit in 24 bits", field, v)}
}

package canvas

import "unsafe"

// Packed-lane helpers for the Normal kernels. A Pixel15 is four uint16 in
// B, G, R, A order, i.e. the little-endian uint64 B | G<<16 | R<<32 | A<<48
// (both amd64 and wasm are little-endian; the layout is asserted below).
// Splitting it into two 32-bit lanes (B,R) and (G,A) lets one 64-bit
// multiply do two channels: each lane product is at most 2^15·2^15 = 2^30
// and a sum of two such products stays below 2^31, so lanes never carry
// into each other, and after >>15 the 16-bit results are masked out.

const laneMask = 0x0000FFFF0000FFFF

var _ = [1]struct{}{}[unsafe.Sizeof(Pixel15{})-8] // Pixel15 must be exactly 8 bytes

func pixelsAsU64(p []Pixel15) []uint64 {
	if len(p) == 0 {
		return nil
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(&p[0])), len(p))
}

package webp

import "math/bits"

// Token kinds of the entropy-coded pixel stream.
const (
	tokLiteral = iota // argb is the pixel
	tokCache          // argb is the colour cache index
	tokCopy           // copy length pixels from distance code dist
)

type token struct {
	kind   uint8
	length uint16 // tokCopy: 1…maxCopy
	argb   uint32
	dist   uint32 // tokCopy: distance code (1–120 short codes, else d+120)
}

const (
	numLengthCodes = 24
	numDistCodes   = 40
	maxCopy        = 4096
	minCopy        = 3
	// maxDistance keeps d+120 within the largest value 40 distance
	// prefix codes can express (1<<20).
	maxDistance = 1<<20 - 120
	hashBits    = 15
	maxChain    = 24
)

// findCopies turns pix into literals and backward references with a
// greedy hash-chain search (hashing pairs of pixels). The distances to
// the left and upper neighbours are tried first: they have the shortest
// codes and win ties.
func findCopies(pix []uint32, width int) []token {
	n := len(pix)
	toks := make([]token, 0, n/4+16)
	head := make([]int32, 1<<hashBits)
	for i := range head {
		head[i] = -1
	}
	prev := make([]int32, n)
	hash := func(i int) uint32 {
		return (pix[i]*0x9e3779b1 ^ pix[i+1]*0x85ebca6b) >> (32 - hashBits)
	}
	insert := func(i int) {
		if i+1 < n {
			h := hash(i)
			prev[i] = head[h]
			head[h] = int32(i)
		}
	}
	matchLen := func(j, i int) int {
		limit := min(maxCopy, n-i)
		k := 0
		for k < limit && pix[j+k] == pix[i+k] {
			k++
		}
		return k
	}
	for i := 0; i < n; {
		bestLen, bestDist := 0, 0
		for _, d := range [2]int{1, width} {
			if d <= i {
				if l := matchLen(i-d, i); l > bestLen {
					bestLen, bestDist = l, d
				}
			}
		}
		if i+1 < n && bestLen < maxCopy {
			for j, steps := head[hash(i)], 0; j >= 0 && steps < maxChain && i-int(j) <= maxDistance; j, steps = prev[j], steps+1 {
				if l := matchLen(int(j), i); l > bestLen {
					bestLen, bestDist = l, i-int(j)
				}
			}
		}
		if bestLen >= minCopy {
			toks = append(toks, token{kind: tokCopy, length: uint16(bestLen), dist: distanceCode(bestDist, width)})
			for k := range bestLen {
				insert(i + k)
			}
			i += bestLen
			continue
		}
		toks = append(toks, token{kind: tokLiteral, argb: pix[i]})
		insert(i)
		i++
	}
	return toks
}

// distanceCode maps a pixel distance to its code: the first few entries
// of the specification's neighbourhood table (code 1 = (0,1), the pixel
// above; 2 = (1,0), the left one; 3 = (1,1); 4 = (-1,1)), otherwise
// d+120.
func distanceCode(d, width int) uint32 {
	switch d {
	case width:
		return 1
	case 1:
		return 2
	case width + 1:
		return 3
	case width - 1:
		return 4
	}
	return uint32(d + 120)
}

// prefixEncode splits a length or distance code value v ≥ 1 into its
// prefix symbol and extra bits (RFC 9649, section 5.2.2): values 1–4 are
// symbols 0–3; otherwise, with n = v-1 and h its highest set bit, the
// symbol is 2h plus the bit below h, and the h-1 bits below that follow.
func prefixEncode(v int) (sym int, nExtra uint, extra uint32) {
	if v <= 4 {
		return v - 1, 0, 0
	}
	n := v - 1
	h := bits.Len(uint(n)) - 1
	return 2*h + (n>>(h-1))&1, uint(h - 1), uint32(n & (1<<(h-1) - 1))
}

// applyCache rewrites literals that are in a colour cache of 1<<cacheBits
// entries as cache references, updating the cache with every pixel the
// decoder produces (copies included), as the decoder does. Entries never
// written are not referenced, so nothing depends on how a decoder
// initialises its cache.
func applyCache(toks []token, pix []uint32, cacheBits uint) []token {
	out := make([]token, len(toks))
	cache := make([]uint32, 1<<cacheBits)
	set := make([]bool, 1<<cacheBits)
	shift := 32 - cacheBits
	pos := 0
	for i, t := range toks {
		out[i] = t
		switch t.kind {
		case tokLiteral:
			h := (t.argb * 0x1e35a7bd) >> shift
			if set[h] && cache[h] == t.argb {
				out[i] = token{kind: tokCache, argb: h}
			}
			cache[h], set[h] = t.argb, true
			pos++
		case tokCopy:
			for _, p := range pix[pos : pos+int(t.length)] {
				h := (p * 0x1e35a7bd) >> shift
				cache[h], set[h] = p, true
			}
			pos += int(t.length)
		}
	}
	return out
}

// writeEntropyImage writes an entropy-coded image: colour cache info,
// for the main image the meta-prefix flag (0: one group of codes), the
// five prefix codes and the pixels. It tries a few colour cache sizes and
// keeps the smallest result.
func writeEntropyImage(w *bitWriter, pix []uint32, width, height int, mainImage bool) {
	toks := findCopies(pix, width)
	var best *bitWriter
	for _, cacheBits := range []uint{0, 4, 8, 10} {
		if cacheBits > 0 && len(pix) < 64 {
			break
		}
		t := toks
		if cacheBits > 0 {
			t = applyCache(toks, pix, cacheBits)
		}
		bw := &bitWriter{}
		if cacheBits > 0 {
			bw.write(1, 1)
			bw.write(uint32(cacheBits), 4)
		} else {
			bw.write(0, 1)
		}
		if mainImage {
			bw.write(0, 1) // no meta prefix codes
		}
		writeTokens(bw, t, 1<<cacheBits&^1)
		if best == nil || len(bw.buf)*8+int(bw.nbits) < len(best.buf)*8+int(best.nbits) {
			best = bw
		}
	}
	for _, b := range best.buf {
		w.write(uint32(b), 8)
	}
	w.write(uint32(best.acc), best.nbits)
}

// writeTokens writes the five prefix codes (green+length+cache, red,
// blue, alpha, distance) for toks and then toks themselves.
func writeTokens(w *bitWriter, toks []token, cacheSize int) {
	green := make([]uint32, 256+numLengthCodes+cacheSize)
	var red, blue, alpha [256]uint32
	var dist [numDistCodes]uint32
	for _, t := range toks {
		switch t.kind {
		case tokLiteral:
			green[t.argb>>8&0xff]++
			red[t.argb>>16&0xff]++
			blue[t.argb&0xff]++
			alpha[t.argb>>24]++
		case tokCache:
			green[256+numLengthCodes+int(t.argb)]++
		case tokCopy:
			l, _, _ := prefixEncode(int(t.length))
			green[256+l]++
			d, _, _ := prefixEncode(int(t.dist))
			dist[d]++
		}
	}
	gc := writePrefixCode(w, green)
	rc := writePrefixCode(w, red[:])
	bc := writePrefixCode(w, blue[:])
	ac := writePrefixCode(w, alpha[:])
	dc := writePrefixCode(w, dist[:])
	for _, t := range toks {
		switch t.kind {
		case tokLiteral:
			gc.put(w, int(t.argb>>8&0xff))
			rc.put(w, int(t.argb>>16&0xff))
			bc.put(w, int(t.argb&0xff))
			ac.put(w, int(t.argb>>24))
		case tokCache:
			gc.put(w, 256+numLengthCodes+int(t.argb))
		case tokCopy:
			l, n, e := prefixEncode(int(t.length))
			gc.put(w, 256+l)
			w.write(e, n)
			d, n, e := prefixEncode(int(t.dist))
			dc.put(w, d)
			w.write(e, n)
		}
	}
}

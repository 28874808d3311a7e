package webp

import (
	"slices"
)

// prefixCode is a canonical prefix code over an alphabet: lengths[s] is
// the code length of symbol s in bits (0 = unused) and codes[s] its code,
// stored bit-reversed so it can be written LSB-first.
type prefixCode struct {
	lengths []uint8
	codes   []uint16
}

// put writes symbol s. A code with a single used symbol has length 0 and
// writes nothing, which is what decoders expect of it.
func (c *prefixCode) put(w *bitWriter, s int) {
	w.write(uint32(c.codes[s]), uint(c.lengths[s]))
}

// huffNode is a leaf (sym ≥ 0) or an inner node of a Huffman tree.
type huffNode struct {
	weight      uint64
	sym         int
	left, right int32
}

// codeLengths returns code lengths (≤ maxLen) for the symbol counts. When
// at least one symbol is used the result is a complete code with at least
// two non-zero lengths: a lone used symbol gets a partner of length 1 so
// every decoder can build the code. All zero counts give all zero lengths.
//
// Length limiting: a plain Huffman tree is built; if it is too deep,
// every count is raised to a floor that doubles on each retry, which
// flattens the tree and still yields a complete (Huffman) code.
func codeLengths(counts []uint32, maxLen int) []uint8 {
	lengths := make([]uint8, len(counts))
	var used []int
	for s, c := range counts {
		if c > 0 {
			used = append(used, s)
		}
	}
	switch len(used) {
	case 0:
		return lengths
	case 1:
		lengths[used[0]] = 1
		if used[0] == 0 {
			lengths[1] = 1
		} else {
			lengths[0] = 1
		}
		return lengths
	}
	nodes := make([]huffNode, 0, 2*len(used))
	depth := make([]uint8, 0, 2*len(used))
	for floor := uint64(0); ; floor = max(1, floor*2) {
		nodes = nodes[:0]
		for _, s := range used {
			nodes = append(nodes, huffNode{weight: max(uint64(counts[s]), floor), sym: s, left: -1, right: -1})
		}
		slices.SortStableFunc(nodes, func(a, b huffNode) int {
			if a.weight != b.weight {
				if a.weight < b.weight {
					return -1
				}
				return 1
			}
			return a.sym - b.sym
		})
		// Two-queue construction: leaves are sorted, merged nodes are
		// created in non-decreasing weight order, so the two lightest
		// nodes are always at the heads of the two queues.
		nLeaves := len(nodes)
		li, mi := 0, nLeaves
		pick := func() int {
			if li < nLeaves && (mi >= len(nodes) || nodes[li].weight <= nodes[mi].weight) {
				li++
				return li - 1
			}
			mi++
			return mi - 1
		}
		for len(nodes) < 2*nLeaves-1 {
			a := pick()
			b := pick()
			nodes = append(nodes, huffNode{weight: nodes[a].weight + nodes[b].weight, sym: -1, left: int32(a), right: int32(b)})
		}
		// Depths from the root (the last node) downwards: children always
		// have smaller indices than their parent.
		depth = depth[:len(nodes)]
		depth[len(nodes)-1] = 0
		deepest := 0
		for i := len(nodes) - 1; i >= 0; i-- {
			n := nodes[i]
			if n.sym >= 0 {
				lengths[n.sym] = depth[i]
				deepest = max(deepest, int(depth[i]))
				continue
			}
			depth[n.left] = depth[i] + 1
			depth[n.right] = depth[i] + 1
		}
		if deepest <= maxLen {
			return lengths
		}
	}
}

// newPrefixCode assigns canonical codes to lengths (shorter codes first,
// ties by symbol value), as the decoder does.
func newPrefixCode(lengths []uint8) *prefixCode {
	var blCount [16]uint16
	for _, l := range lengths {
		if l > 0 {
			blCount[l]++
		}
	}
	var next [16]uint16
	code := uint16(0)
	for l := 1; l < 16; l++ {
		code = (code + blCount[l-1]) << 1
		if l == 1 {
			code = 0
		}
		next[l] = code
	}
	c := &prefixCode{lengths: lengths, codes: make([]uint16, len(lengths))}
	for s, l := range lengths {
		if l == 0 {
			continue
		}
		c.codes[s] = reverseBits(next[l], l)
		next[l]++
	}
	return c
}

func reverseBits(v uint16, n uint8) uint16 {
	var r uint16
	for range n {
		r = r<<1 | v&1
		v >>= 1
	}
	return r
}

// codeLengthOrder is the order in which the code-length code's own code
// lengths are written (RFC 9649, section 3.7.2.1.2).
var codeLengthOrder = [19]int{17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}

// writePrefixCode builds a code for counts, writes its description and
// returns it for writing symbols.
func writePrefixCode(w *bitWriter, counts []uint32) *prefixCode {
	var used []int
	for s, c := range counts {
		if c > 0 {
			used = append(used, s)
			if len(used) > 2 {
				break
			}
		}
	}
	if len(used) == 0 {
		used = []int{0} // nothing to code: a one-symbol code of 0 bits
	}
	if len(used) <= 2 && used[len(used)-1] < 256 {
		// Simple code: 1, number of symbols - 1, then the symbols; the
		// first one takes 1 bit if it is 0 or 1, else 8 bits.
		w.write(1, 1)
		w.write(uint32(len(used)-1), 1)
		if used[0] < 2 {
			w.write(0, 1)
			w.write(uint32(used[0]), 1)
		} else {
			w.write(1, 1)
			w.write(uint32(used[0]), 8)
		}
		if len(used) == 2 {
			w.write(uint32(used[1]), 8)
		}
		lengths := make([]uint8, len(counts))
		if len(used) == 2 {
			lengths[used[0]], lengths[used[1]] = 1, 1
		}
		return newPrefixCode(lengths)
	}
	lengths := codeLengths(counts, 15)
	writeNormalLengths(w, lengths)
	return newPrefixCode(lengths)
}

// clToken is one symbol of the code-length code with its extra bits.
type clToken struct {
	sym   uint8
	extra uint8
}

// writeNormalLengths writes lengths as a "normal" code: the code-length
// code (itself Huffman-coded, lengths ≤ 7) and the run-length-coded
// lengths. Symbols 0–15 are literal lengths, 16 repeats the previous
// non-zero length 3–6 times (2 extra bits), 17 writes 3–10 zeros (3
// bits) and 18 writes 11–138 zeros (7 bits).
func writeNormalLengths(w *bitWriter, lengths []uint8) {
	tokens := make([]clToken, 0, len(lengths))
	prev := uint8(8) // the decoder's initial "previous non-zero length"
	for i := 0; i < len(lengths); {
		l := lengths[i]
		run := 1
		for i+run < len(lengths) && lengths[i+run] == l {
			run++
		}
		i += run
		if l == 0 {
			for run > 0 {
				switch {
				case run >= 11:
					n := min(run, 138)
					tokens = append(tokens, clToken{18, uint8(n - 11)})
					run -= n
				case run >= 3:
					tokens = append(tokens, clToken{17, uint8(run - 3)})
					run = 0
				default:
					tokens = append(tokens, clToken{0, 0})
					run--
				}
			}
			continue
		}
		if prev != l {
			tokens = append(tokens, clToken{l, 0})
			prev = l
			run--
		}
		for run > 0 {
			if run >= 3 {
				n := min(run, 6)
				tokens = append(tokens, clToken{16, uint8(n - 3)})
				run -= n
			} else {
				tokens = append(tokens, clToken{l, 0})
				run--
			}
		}
	}
	var counts [19]uint32
	for _, t := range tokens {
		counts[t.sym]++
	}
	clLengths := codeLengths(counts[:], 7)
	clCode := newPrefixCode(clLengths)
	n := 19
	for n > 4 && clLengths[codeLengthOrder[n-1]] == 0 {
		n--
	}
	w.write(0, 1) // normal code
	w.write(uint32(n-4), 4)
	for _, s := range codeLengthOrder[:n] {
		w.write(uint32(clLengths[s]), 3)
	}
	w.write(0, 1) // max_symbol not used: every length is coded
	for _, t := range tokens {
		clCode.put(w, int(t.sym))
		switch t.sym {
		case 16:
			w.write(uint32(t.extra), 2)
		case 17:
			w.write(uint32(t.extra), 3)
		case 18:
			w.write(uint32(t.extra), 7)
		}
	}
}

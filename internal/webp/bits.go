package webp

// bitWriter accumulates bits least-significant first, as VP8L wants.
type bitWriter struct {
	buf   []byte
	acc   uint64
	nbits uint
}

// write appends the low n bits of v (n ≤ 32).
func (w *bitWriter) write(v uint32, n uint) {
	w.acc |= uint64(v&(1<<n-1)) << w.nbits
	w.nbits += n
	for w.nbits >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.nbits -= 8
	}
}

// bytes flushes the partial byte (zero-padded) and returns the stream.
func (w *bitWriter) bytes() []byte {
	if w.nbits > 0 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc, w.nbits = 0, 0
	}
	return w.buf
}

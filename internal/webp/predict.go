package webp

import "math/bits"

// Pixels here are 0xAARRGGBB words; every predictor works on the four
// 8-bit channels independently (RFC 9649, section 4.1).

// avg2 is the per-channel floor((a+b)/2): a+b = (a^b) + 2(a&b), and
// masking with 0xfe before the shift keeps each channel's low bit from
// leaking into the channel below.
func avg2(a, b uint32) uint32 {
	return ((a^b)&0xfefefefe)>>1 + a&b
}

// subPixels is the per-channel a-b mod 256, all four channels at once
// (the borrow-free SWAR subtraction from Hacker's Delight, 2-18): setting
// each channel's top bit in a and clearing it in b keeps any borrow from
// crossing into the next channel, and the xor puts the right top bit
// back (a's top bit minus b's).
func subPixels(a, b uint32) uint32 {
	const h = 0x80808080
	return ((a | h) - (b &^ h)) ^ ((a ^ ^b) & h)
}

func clamp255(v int32) uint32 {
	return uint32(min(max(v, 0), 255))
}

func ch(p uint32, s uint) int32 { return int32(p >> s & 0xff) }

// selectPred returns L or T, whichever is closer (Manhattan distance
// over the channels) to the gradient estimate L+T-TL.
func selectPred(l, t, tl uint32) uint32 {
	var pl, pt int32
	for s := uint(0); s < 32; s += 8 {
		pl += abs32(ch(t, s) - ch(tl, s)) // |estimate - L|
		pt += abs32(ch(l, s) - ch(tl, s)) // |estimate - T|
	}
	if pl < pt {
		return l
	}
	return t
}

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

// clampAddSubtractFull is the per-channel clamp(a+b-c).
func clampAddSubtractFull(a, b, c uint32) uint32 {
	var r uint32
	for s := uint(0); s < 32; s += 8 {
		r |= clamp255(ch(a, s)+ch(b, s)-ch(c, s)) << s
	}
	return r
}

// clampAddSubtractHalf is the per-channel clamp(a + (a-b)/2), the
// division truncating toward zero as in the specification's C.
func clampAddSubtractHalf(a, b uint32) uint32 {
	var r uint32
	for s := uint(0); s < 32; s += 8 {
		r |= clamp255(ch(a, s)+(ch(a, s)-ch(b, s))/2) << s
	}
	return r
}

// predict returns the prediction of mode (0–13) for the pixel at index i
// of a width-wide image, which must not be in the top row or the left
// column. The top-right neighbour of a pixel in the rightmost column is
// the leftmost pixel of its own row, which is exactly index i-width+1.
func predict(mode uint8, pix []uint32, i, width int) uint32 {
	l, t := pix[i-1], pix[i-width]
	switch mode {
	case 0:
		return 0xff000000
	case 1:
		return l
	case 2:
		return t
	case 3:
		return pix[i-width+1]
	case 4:
		return pix[i-width-1]
	case 5:
		return avg2(avg2(l, pix[i-width+1]), t)
	case 6:
		return avg2(l, pix[i-width-1])
	case 7:
		return avg2(l, t)
	case 8:
		return avg2(pix[i-width-1], t)
	case 9:
		return avg2(t, pix[i-width+1])
	case 10:
		return avg2(avg2(l, pix[i-width-1]), avg2(t, pix[i-width+1]))
	case 11:
		return selectPred(l, t, pix[i-width-1])
	case 12:
		return clampAddSubtractFull(l, t, pix[i-width-1])
	default:
		return clampAddSubtractHalf(avg2(l, t), pix[i-width-1])
	}
}

const numModes = 14

// residualCost is a cheap size estimate of a residual: the sum over the
// channels of costTable[byte].
func residualCost(r uint32) int {
	return int(costTable[r&0xff]) + int(costTable[r>>8&0xff]) + int(costTable[r>>16&0xff]) + int(costTable[r>>24])
}

// costTable[v] approximates the bits a residual byte v costs: the bit
// length of its distance from zero, read as a signed byte (a log scale
// picked the better mode more often than the plain distance did on the
// canvas renders in testdata).
var costTable = func() (t [256]uint8) {
	for v := range 256 {
		t[v] = uint8(bits.Len(uint(min(v, 256-v))))
	}
	return t
}()

// choosePredictors picks, for each (1<<bits)-sized block, the mode with
// the smallest total residual cost. It returns the modes in row-major
// block order and the block grid's size.
func choosePredictors(pix []uint32, width, height int, bits uint) (modes []uint8, bw, bh int) {
	bw = (width + 1<<bits - 1) >> bits
	bh = (height + 1<<bits - 1) >> bits
	modes = make([]uint8, bw*bh)
	for by := range bh {
		for bx := range bw {
			x0, y0 := max(bx<<bits, 1), max(by<<bits, 1)
			x1, y1 := min((bx+1)<<bits, width), min((by+1)<<bits, height)
			if x0 >= x1 || y0 >= y1 {
				modes[by*bw+bx] = 1 // only border pixels: the mode is unused
				continue
			}
			var cost [numModes]int
			for y := y0; y < y1; y++ {
				for x := x0; x < x1; x++ {
					i := y*width + x
					p := pix[i]
					l, t, tl, tr := pix[i-1], pix[i-width], pix[i-width-1], pix[i-width+1]
					// The 14 predictions of predict, with the neighbours
					// loaded once.
					preds := [numModes]uint32{
						0xff000000, l, t, tr, tl,
						avg2(avg2(l, tr), t), avg2(l, tl), avg2(l, t), avg2(tl, t), avg2(t, tr),
						avg2(avg2(l, tl), avg2(t, tr)), selectPred(l, t, tl),
						clampAddSubtractFull(l, t, tl), clampAddSubtractHalf(avg2(l, t), tl),
					}
					for m, q := range preds {
						cost[m] += residualCost(subPixels(p, q))
					}
				}
			}
			best := uint8(0)
			for m := range uint8(numModes) {
				if cost[m] < cost[best] {
					best = m
				}
			}
			modes[by*bw+bx] = best
		}
	}
	return modes, bw, bh
}

// applyPredictors returns the residuals: each pixel minus its prediction.
// The top-left pixel is predicted as opaque black, the rest of the top
// row by L, the rest of the left column by T, everything else by its
// block's mode.
func applyPredictors(pix []uint32, width, height int, modes []uint8, bw int, bits uint) []uint32 {
	res := make([]uint32, len(pix))
	for y := range height {
		for x := range width {
			i := y*width + x
			var pred uint32
			switch {
			case x == 0 && y == 0:
				pred = 0xff000000
			case y == 0:
				pred = pix[i-1]
			case x == 0:
				pred = pix[i-width]
			default:
				pred = predict(modes[(y>>bits)*bw+x>>bits], pix, i, width)
			}
			res[i] = subPixels(pix[i], pred)
		}
	}
	return res
}

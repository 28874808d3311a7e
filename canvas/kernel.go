package canvas

// Row and tile kernels: fast paths for the common modes over plain slices,
// falling back to the per-pixel reference functions of blend.go. Every fast
// path is tested against the reference (kernel_test.go).

// blendTile composites src onto dst in pixel context (DP_blend_tile) with
// layer opacity O (0..One).
func blendTile(dst, src *[TilePixels]Pixel15, O uint32, mode BlendMode) {
	blendPixels(dst[:], src[:], O, mode)
}

// blendPixels is DP_blend_pixels over equally long slices.
func blendPixels(dst, src []Pixel15, O uint32, mode BlendMode) {
	src = src[:len(dst)]
	switch modeTable[mode].fam {
	case famNormal:
		// c = (d·k + s·O) >> 15 with k = One − s.a·O >> 15; no overflow in
		// uint32: both products ≤ 2^30.
		if O == One {
			for i, s := range src {
				if s.A == 0 {
					continue
				}
				if s.A == One {
					dst[i] = s
					continue
				}
				d := &dst[i]
				k := One - uint32(s.A)
				d.B = uint16((uint32(d.B)*k + uint32(s.B)<<15) >> 15)
				d.G = uint16((uint32(d.G)*k + uint32(s.G)<<15) >> 15)
				d.R = uint16((uint32(d.R)*k + uint32(s.R)<<15) >> 15)
				d.A = uint16((uint32(d.A)*k + uint32(s.A)<<15) >> 15)
			}
			return
		}
		for i, s := range src {
			if s.A == 0 {
				continue
			}
			d := &dst[i]
			k := One - (uint32(s.A)*O)>>15
			d.B = uint16((uint32(d.B)*k + uint32(s.B)*O) >> 15)
			d.G = uint16((uint32(d.G)*k + uint32(s.G)*O) >> 15)
			d.R = uint16((uint32(d.R)*k + uint32(s.R)*O) >> 15)
			d.A = uint16((uint32(d.A)*k + uint32(s.A)*O) >> 15)
		}
	case famErase:
		for i, s := range src {
			if s.A == 0 {
				continue
			}
			d := &dst[i]
			k := One - (uint32(s.A)*O)>>15
			d.B = uint16((uint32(d.B) * k) >> 15)
			d.G = uint16((uint32(d.G) * k) >> 15)
			d.R = uint16((uint32(d.R) * k) >> 15)
			d.A = uint16((uint32(d.A) * k) >> 15)
		}
	case famNone:
	default:
		for i := range dst {
			dst[i] = blendPixel(dst[i], src[i], mode, O)
		}
	}
}

// blendMask applies a brush mask in mask context (DP_blend_mask): dst and
// mask are equally long rows; src is the unpremultiplied brush colour.
func blendMask(dst []Pixel15, src upixel15, mode BlendMode, mask []uint16, O uint32) {
	mask = mask[:len(dst)]
	dst = dst[:len(mask)]
	switch modeTable[mode].fam {
	case famNormal:
		full := Pixel15{uint16(src.b), uint16(src.g), uint16(src.r), One}
		d64 := pixelsAsU64(dst)
		srcBR := uint64(src.b) | uint64(src.r)<<32
		srcGA := uint64(src.g) | uint64(One)<<32
		for i, m := range mask {
			if m == 0 {
				continue
			}
			o := (uint32(m) * O) >> 15
			if o == One { // k = 0: the brush colour replaces the pixel exactly
				dst[i] = full
				continue
			}
			k := uint64(One - o)
			o64 := uint64(o)
			p := d64[i]
			br := (((p & laneMask) * k) + srcBR*o64) >> 15 & laneMask
			ga := ((((p >> 16) & laneMask) * k) + srcGA*o64) >> 15 & laneMask
			d64[i] = br | ga<<16
		}
	case famErase:
		for i, m := range mask {
			if m == 0 {
				continue
			}
			k := One - (uint32(m)*O)>>15
			d := &dst[i]
			d.B = uint16((uint32(d.B) * k) >> 15)
			d.G = uint16((uint32(d.G) * k) >> 15)
			d.R = uint16((uint32(d.R) * k) >> 15)
			d.A = uint16((uint32(d.A) * k) >> 15)
		}
	case famNone:
	default:
		for i, m := range mask {
			dst[i] = blendMaskPixel(dst[i], src, mode, uint32(m), O)
		}
	}
}

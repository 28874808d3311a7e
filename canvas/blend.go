package canvas

// Per-pixel blend formulas in both contexts (engine.md §2.2, §2.3).
//
// The generic functions below are the reference implementation: one pixel
// at a time, arithmetic in uint64 ("fix") and int64 exactly like the C
// engine's Fix15 (uint_fast32_t, 64-bit on x86-64 Linux, which is the
// reference platform), so even out-of-range intermediates wrap the same way.
// The row kernels in kernel.go are fast paths for the common modes and are
// tested against these functions.

type fix = uint64

// composite function kinds for the separable and non-separable families.
const (
	cNone = iota
	cMultiply
	cDivide
	cBurn
	cDodge
	cDarken
	cLighten
	cSubtract
	cAdd
	cScreen
	cOverlay
	cHardLight
	cSoftLight
	cLinearBurn
	cLinearLight
	cVividLight
	cPinLight
	cDifference
	// non-separable
	cHue
	cSaturation
	cLuminosity
	cColor
	cDarkerColor
	cLighterColor
	// SAI with opacity argument
	cLinearBurnSAI
	cLinearLightSAI
	cBurnSAI
	cVividLightSAI
	cHardMixSAI
)

// mode families
const (
	famNone = iota
	famNormal
	famRecolor
	famErase
	famBehind
	famReplace
	famNormalEraser
	famCompareSoft
	famCompare
	famColorErase
	famSep         // separable, alpha preserving
	famSepAlpha    // separable or non-separable, alpha affecting
	famSAI         // SAI, alpha preserving
	famSAIAlpha    // SAI, alpha affecting
	famMarker      // 39, 40
	famMarkerAlpha // 77
	famMarkerWash  // 78
	famGreater     // 41
	famGreaterWash // 42
	famGreaterA    // 79
	famGreaterAW   // 80
	famLightToAlpha
	famDarkToAlpha
	famFloat // pigment and OKLAB (floatmodes.go)
)

type modeInfo struct {
	fam  uint8
	comp uint8
}

var modeTable [256]modeInfo

func init() {
	base := map[BlendMode]uint8{
		2: cMultiply, 3: cDivide, 4: cBurn, 5: cDodge, 6: cDarken, 7: cLighten, 8: cSubtract,
		9: cAdd, 13: cScreen, 16: cOverlay, 17: cHardLight, 18: cSoftLight, 19: cLinearBurn,
		20: cLinearLight, 27: cVividLight, 28: cPinLight, 29: cDifference,
		21: cHue, 22: cSaturation, 23: cLuminosity, 24: cColor, 30: cDarkerColor, 31: cLighterColor,
	}
	sai := map[BlendMode]uint8{
		15: cAdd, 35: cDodge, 38: cDifference,
		32: cLinearBurnSAI, 33: cLinearLightSAI, 34: cBurnSAI, 36: cVividLightSAI, 37: cHardMixSAI,
	}
	for m, c := range base {
		modeTable[m] = modeInfo{famSep, c}
	}
	for m, c := range sai {
		modeTable[m] = modeInfo{famSAI, c}
	}
	for i, b := range alphaBase {
		m := 46 + i
		if c, ok := base[b]; ok {
			modeTable[m] = modeInfo{famSepAlpha, c}
		} else if c, ok := sai[b]; ok {
			modeTable[m] = modeInfo{famSAIAlpha, c}
		}
	}
	set := func(f uint8, ids ...BlendMode) {
		for _, id := range ids {
			modeTable[id] = modeInfo{fam: f}
		}
	}
	set(famNormal, ModeNormal)
	set(famRecolor, ModeRecolor)
	set(famErase, ModeErase, ModeErasePreserve)
	set(famBehind, ModeBehind, ModeBehindPreserve)
	set(famReplace, ModeReplace)
	set(famNormalEraser, ModeNormalAndEraser)
	set(famCompareSoft, ModeCompareDensitySoft)
	set(famCompare, ModeCompareDensity)
	set(famColorErase, ModeColorErase, ModeColorErasePreserve)
	set(famMarker, ModeMarker, ModeMarkerWash)
	set(famMarkerAlpha, ModeMarkerAlpha)
	set(famMarkerWash, ModeMarkerAlphaWash)
	set(famGreater, ModeGreater)
	set(famGreaterWash, ModeGreaterWash)
	set(famGreaterA, ModeGreaterAlpha)
	set(famGreaterAW, ModeGreaterAlphaWash)
	set(famLightToAlpha, ModeLightToAlpha, ModeLightToAlphaPreserve)
	set(famDarkToAlpha, ModeDarkToAlpha, ModeDarkToAlphaPreserve)
	set(famFloat, ModePigment, ModePigmentAlpha, ModePigmentAndEraser,
		ModeOklabNormal, ModeOklabRecolor, ModeOklabNormalAndEraser)
}

// --- fixed-point helpers on fix (uint64) ---

func fmul(a, b fix) fix          { return (a * b) >> 15 }
func fsp(a1, a2, b1, b2 fix) fix { return (a1*a2 + b1*b2) >> 15 }
func fcl(x fix) fix              { return min(x, One) }
func fdiv(a, b fix) fix {
	if b == 0 { // C would trap; only reachable with pathological input (§10.2 item 11)
		return 0
	}
	return (a << 15) / b
}
func fcdiv(a, b fix) fix { return fcl(fdiv(a, b)) }
func flerp(a, b, k fix) fix {
	if a < b {
		return a + fmul(b-a, k)
	}
	return b + fmul(a-b, One-k)
}
func iclamp(x int64) fix {
	if x < 0 {
		return 0
	}
	if x > One {
		return One
	}
	return fix(x)
}

// fsqrt is fix15_sqrt: Babylonian square root seeded from a table.
func fsqrt(x fix) fix {
	if x == 0 || x == One {
		return x
	}
	s := x << 1
	n := sqrtSeed[s>>12]
	for range 15 {
		old := n
		n += (s << 16) / n
		n >>= 1
		if n == old || (n > old && n-1 == old) || (n < old && n+1 == old) {
			break
		}
	}
	return n >> 1
}

var sqrtSeed = [16]fix{16383, 23169, 28376, 32767, 36634, 40131, 43346, 46339,
	49151, 51809, 54338, 56754, 59072, 61302, 63453, 65535}

// Luminance weights (int)(0.11·ONE), (int)(0.59·ONE), (int)(0.3·ONE).
const lumB, lumG, lumR = 3604, 19333, 9830

type bgr struct{ b, g, r fix }

func lum(c bgr) fix { return (lumB*c.b + lumG*c.g + lumR*c.r) / One }

func clipColor(b, g, r int64) bgr {
	l := (lumB*b + lumG*g + lumR*r) / One
	n := min(b, g, r)
	x := max(b, g, r)
	if n < 0 {
		b = l + ((b-l)*l)/(l-n)
		g = l + ((g-l)*l)/(l-n)
		r = l + ((r-l)*l)/(l-n)
	}
	if x > One {
		b = l + ((b-l)*(One-l))/(x-l)
		g = l + ((g-l)*(One-l))/(x-l)
		r = l + ((r-l)*(One-l))/(x-l)
	}
	return bgr{fix(b), fix(g), fix(r)}
}

func setLum(c bgr, l fix) bgr {
	d := int64(l) - int64(lum(c))
	return clipColor(int64(c.b)+d, int64(c.g)+d, int64(c.r)+d)
}

func sat(c bgr) fix { return max(c.b, c.g, c.r) - min(c.b, c.g, c.r) }

func setSat(c bgr, s fix) bgr {
	v := [3]fix{c.b, c.g, c.r}
	mx, md, mn := 0, 1, 2
	if v[mx] < v[md] {
		mx, md = md, mx
	}
	if v[mx] < v[mn] {
		mx, mn = mn, mx
	}
	if v[md] < v[mn] {
		md, mn = mn, md
	}
	if v[mx] > v[mn] {
		v[md] = ((v[md] - v[mn]) * s) / (v[mx] - v[mn])
		v[mx] = s
	} else {
		v[md], v[mx] = 0, 0
	}
	v[mn] = 0
	return bgr{v[0], v[1], v[2]}
}

func compBurn(a, b fix) fix  { return iclamp(One - int64((One-a)*32769/(b+1))) }
func compDodge(a, b fix) fix { return fcl(a * 32769 / (32769 - b)) }
func compScreen(a, b fix) fix {
	return One - fmul(One-a, One-b)
}
func compHardLight(a, b fix) fix {
	b2 := b * 2
	if b2 <= One {
		return fmul(a, b2)
	}
	return compScreen(a, b2-One)
}

// comp applies separable composite function k to backdrop a and source b
// (o is the opacity argument of the SAI functions).
func comp(k uint8, a, b, o fix) fix {
	switch k {
	case cMultiply:
		return fmul(a, b)
	case cDivide:
		return fcl((a*32769 + b/2) / (b + 1))
	case cBurn:
		return compBurn(a, b)
	case cDodge:
		return compDodge(a, b)
	case cDarken:
		return min(a, b)
	case cLighten:
		return max(a, b)
	case cSubtract:
		if b < a {
			return a - b
		}
		return 0
	case cAdd:
		return fcl(a + b)
	case cScreen:
		return compScreen(a, b)
	case cHardLight:
		return compHardLight(a, b)
	case cOverlay:
		return compHardLight(b, a)
	case cSoftLight:
		b2 := b * 2
		if b2 <= One {
			return a - fmul(fmul(One-b2, a), One-a)
		}
		var d fix
		if a4 := a * 4; a4 <= One {
			sq := fmul(a, a)
			d = a4 + 16*fmul(sq, a) - 12*sq
		} else {
			d = fsqrt(a)
		}
		return a + fmul(b2-One, d-a)
	case cLinearBurn:
		if c := a + b; c > One {
			return c - One
		}
		return 0
	case cLinearLight:
		if c := a + 2*b; c > One {
			return fcl(c - One)
		}
		return 0
	case cVividLight:
		b2 := b * 2
		if b2 <= One {
			return compBurn(a, b2)
		}
		return compDodge(a, b2-One)
	case cPinLight:
		b2 := b * 2
		if b2 <= One {
			return min(a, b2)
		}
		return max(a, b2-One)
	case cDifference:
		if a < b {
			return b - a
		}
		return a - b
	case cLinearBurnSAI:
		return linearBurnSAI(a, b, o)
	case cLinearLightSAI:
		return linearBurnSAI(a, b*2, o)
	case cBurnSAI:
		if o == One && b == 0 {
			return 0
		}
		return One - fcdiv(One-a, One-o+b)
	case cVividLightSAI:
		if b == One {
			return One
		}
		b2 := b * 2
		if b2 <= o {
			if c := o - b2; c < One {
				return One - fcdiv(One-a, One-c)
			}
			return 0
		}
		return fcdiv(a, One+o-b2)
	case cHardMixSAI:
		if o == One {
			return One
		}
		if c := a + b; c >= o {
			return fcdiv(c-o, One-o)
		}
		return 0
	}
	return a
}

func linearBurnSAI(a, b, o fix) fix {
	if c := a + b; c > o {
		return fcl(c - o)
	}
	return 0
}

// compBGR applies composite function k to a whole colour (non-separable
// functions need all three channels).
func compBGR(k uint8, a, b bgr, o fix) bgr {
	switch k {
	case cHue:
		return setLum(setSat(b, sat(a)), lum(a))
	case cSaturation:
		return setLum(setSat(a, sat(b)), lum(a))
	case cLuminosity:
		return setLum(a, lum(b))
	case cColor:
		return setLum(b, lum(a))
	case cDarkerColor:
		if lum(b) < lum(a) {
			return b
		}
		return a
	case cLighterColor:
		if lum(b) > lum(a) {
			return b
		}
		return a
	}
	return bgr{comp(k, a.b, b.b, o), comp(k, a.g, b.g, o), comp(k, a.r, b.r, o)}
}

func ubgr(p Pixel15) bgr {
	b, g, r := unpremPixel(p)
	return bgr{fix(b), fix(g), fix(r)}
}

// premU premultiplies truncated-to-uint16 channels by a (from_ubgra).
func premU(c bgr, a fix) Pixel15 {
	return premPixel(uint32(uint16(c.b)), uint32(uint16(c.g)), uint32(uint16(c.r)), uint32(uint16(a)))
}

// sourceOver composites an unpremultiplied colour s with alpha sa over d.
func sourceOver(d Pixel15, s bgr, sa fix) Pixel15 {
	as1 := One - sa
	return Pixel15{
		uint16(fcl(fsp(sa, s.b, as1, fix(d.B)))),
		uint16(fcl(fsp(sa, s.g, as1, fix(d.G)))),
		uint16(fcl(fsp(sa, s.r, as1, fix(d.R)))),
		uint16(fcl(sa + fmul(fix(d.A), as1))),
	}
}

func bgrMul(c bgr, a fix) bgr {
	if a == One {
		return c
	}
	if a == 0 {
		return bgr{}
	}
	return bgr{fmul(c.b, a), fmul(c.g, a), fmul(c.r, a)}
}

// colorErase is the double-precision GIMP colour erase (engine.md §2.3);
// all inputs in 0..1.
func colorErase(sb, sg, sr, sa, ub, ug, ur, ua float64) Pixel15 {
	need := func(s, u float64) float64 {
		switch {
		case s < 0.0001:
			return u
		case u > s:
			return (u - s) / (1.0 - s)
		case u < s:
			return (s - u) / s
		}
		return 0
	}
	ar, ag, ab := need(sr, ur), need(sg, ug), need(sb, ub)
	var a float64
	if ar > ag {
		if ar > ab {
			a = ar
		} else {
			a = ab
		}
	} else if ag > ab {
		a = ag
	} else {
		a = ab
	}
	a = (1.0 - sa) + (a * sa)
	if a >= 0.0001 {
		ur = (ur-sr)/a + sr
		ug = (ug-sg)/a + sg
		ub = (ub-sb)/a + sb
		a *= ua
	}
	return premPixel(uint32(d2u16(ub*32768)), uint32(d2u16(ug*32768)), uint32(d2u16(ur*32768)), uint32(d2u16(a*32768)))
}

// d2u16 is C's (uint16_t) cast of a double in range (truncation); out of
// range values are clamped instead of being undefined behaviour.
func d2u16(x float64) uint16 {
	if !(x > 0) {
		return 0
	}
	if x >= 65535 {
		return 65535
	}
	return uint16(x)
}

// blendMaskPixel is the mask context (DP_blend_mask) for one pixel: d is the
// premultiplied destination, src the unpremultiplied brush colour, m the
// mask value and O the opacity (both 0..One).
func blendMaskPixel(d Pixel15, src upixel15, mode BlendMode, m, O uint32) Pixel15 {
	mi := modeTable[mode]
	M, Of := fix(m), fix(O)
	sb, sg, sr, sA := fix(src.b), fix(src.g), fix(src.r), fix(src.a)
	db, dg, dr, da := fix(d.B), fix(d.G), fix(d.R), fix(d.A)
	switch mi.fam {
	case famNormal:
		o := fmul(M, Of)
		k := One - o
		return Pixel15{uint16(fsp(db, k, sb, o)), uint16(fsp(dg, k, sg, o)), uint16(fsp(dr, k, sr, o)), uint16(fsp(da, k, One, o))}
	case famRecolor:
		o := fmul(M, Of)
		w := fmul(da, o)
		k := One - o
		return Pixel15{uint16(fsp(db, k, sb, w)), uint16(fsp(dg, k, sg, w)), uint16(fsp(dr, k, sr, w)), d.A}
	case famErase:
		k := One - fmul(M, Of)
		return Pixel15{uint16(fmul(db, k)), uint16(fmul(dg, k)), uint16(fmul(dr, k)), uint16(fmul(da, k))}
	case famBehind:
		t := fmul(One-da, fmul(M, Of))
		return Pixel15{uint16(db + fmul(sb, t)), uint16(dg + fmul(sg, t)), uint16(dr + fmul(sr, t)), uint16(da + t)}
	case famReplace:
		o := fmul(M, Of)
		return Pixel15{uint16(fmul(sb, o)), uint16(fmul(sg, o)), uint16(fmul(sr, o)), uint16(o)}
	case famNormalEraser:
		o := fmul(M, Of)
		pa := fmul(o, sA)
		pb := One - o
		return Pixel15{uint16(fsp(pa, sb, pb, db)), uint16(fsp(pa, sg, pb, dg)), uint16(fsp(pa, sr, pb, dr)), uint16(pa + (pb*da)/One)}
	case famCompareSoft:
		if t := fmul(M, Of); da < t {
			return premPixel(src.b, src.g, src.r, uint32(t))
		}
		return d
	case famCompare:
		if M != 0 && da < Of {
			return premPixel(src.b, src.g, src.r, uint32(da+fmul(M, Of-da)))
		}
		return d
	case famColorErase:
		o := fmul(M, Of)
		if o == 0 {
			return d
		}
		u := ubgr(d)
		return colorErase(float64(sb)/32768, float64(sg)/32768, float64(sr)/32768, float64(o)/32768,
			float64(u.b)/32768, float64(u.g)/32768, float64(u.r)/32768, float64(da)/32768)
	case famSep:
		if da == 0 {
			return d
		}
		o := fmul(M, Of)
		o1 := One - o
		cb := ubgr(d)
		cr := compBGR(mi.comp, cb, bgr{sb, sg, sr}, 0)
		return premU(bgr{fsp(o1, cb.b, o, cr.b), fsp(o1, cb.g, o, cr.g), fsp(o1, cb.r, o, cr.r)}, da)
	case famSepAlpha:
		if M == 0 {
			return d
		}
		cb := ubgr(d)
		cs := bgr{sb, sg, sr}
		cr := compBGR(mi.comp, cb, cs, 0)
		ab1 := One - da
		return sourceOver(d, bgr{fsp(ab1, cs.b, da, cr.b), fsp(ab1, cs.g, da, cr.g), fsp(ab1, cs.r, da, cr.r)}, fmul(M, Of))
	case famSAI:
		if M == 0 || da == 0 {
			return d
		}
		ucs := bgr{sb, sg, sr}
		if Of != One {
			ucs = bgr{fmul(sb, Of), fmul(sg, Of), fmul(sr, Of)}
		}
		cb := ubgr(d)
		cs := bgrMul(ucs, M)
		aso := fmul(M, Of)
		return premU(bgr{comp(mi.comp, cb.b, cs.b, aso), comp(mi.comp, cb.g, cs.g, aso), comp(mi.comp, cb.r, cs.r, aso)}, da)
	case famSAIAlpha:
		if M == 0 {
			return d
		}
		ucs := bgr{sb, sg, sr}
		if Of != One {
			ucs = bgr{fmul(sb, Of), fmul(sg, Of), fmul(sr, Of)}
		}
		if da == 0 {
			if M == One {
				return Pixel15{uint16(ucs.b), uint16(ucs.g), uint16(ucs.r), uint16(Of)}
			}
			return Pixel15{uint16(fmul(ucs.b, M)), uint16(fmul(ucs.g, M)), uint16(fmul(ucs.r, M)), uint16(fmul(Of, M))}
		}
		cb := ubgr(d)
		cs := bgrMul(ucs, M)
		aso := fmul(M, Of)
		return saiAlpha(mi.comp, cb, cs, da, aso)
	case famMarker:
		if M == 0 || da == 0 {
			return d
		}
		cb := ubgr(d)
		k := fcdiv(fmul(M, Of), da)
		return premU(bgr{flerp(cb.b, sb, k), flerp(cb.g, sg, k), flerp(cb.r, sr, k)}, da)
	case famMarkerAlpha:
		if M == 0 {
			return d
		}
		t := fmul(M, Of)
		if da == 0 {
			return premPixel(src.b, src.g, src.r, uint32(t))
		}
		cb := ubgr(d)
		k := fcdiv(t, da)
		return premU(bgr{flerp(cb.b, sb, k), flerp(cb.g, sg, k), flerp(cb.r, sr, k)}, max(da, t))
	case famMarkerWash:
		if M == 0 {
			return d
		}
		if da == 0 {
			return premPixel(src.b, src.g, src.r, uint32(fmul(M, Of)))
		}
		ar := da
		if da < Of {
			ar = da + fmul(M, Of-da)
		}
		cb := ubgr(d)
		k := fcdiv(fmul(M, Of), da)
		return premU(bgr{flerp(cb.b, sb, k), flerp(cb.g, sg, k), flerp(cb.r, sr, k)}, ar)
	case famGreater:
		t := fmul(M, Of)
		if t != 0 && da != 0 && da < t {
			return premU(greater(d, bgr{sb, sg, sr}, t), da)
		}
		return d
	case famGreaterA:
		t := fmul(M, Of)
		if t == 0 {
			return d
		}
		if da == 0 {
			return premPixel(src.b, src.g, src.r, uint32(t))
		}
		if da < t {
			return premU(greater(d, bgr{sb, sg, sr}, t), t)
		}
		return d
	case famGreaterWash:
		if M != 0 && da != 0 && da < Of {
			ar := da + fmul(M, Of-da)
			return premU(greater(d, bgr{sb, sg, sr}, ar), da)
		}
		return d
	case famGreaterAW:
		if M == 0 {
			return d
		}
		if da == 0 {
			return premPixel(src.b, src.g, src.r, uint32(fmul(M, Of)))
		}
		if da < Of {
			ar := da + fmul(M, Of-da)
			return premU(greater(d, bgr{sb, sg, sr}, ar), ar)
		}
		return d
	case famLightToAlpha, famDarkToAlpha:
		return toAlpha(d, mi.fam == famDarkToAlpha, fmul(M, Of))
	case famFloat:
		return floatMaskPixel(d, src, mode, m, O)
	}
	return d
}

func saiAlpha(k uint8, cb, cs bgr, ab, aso fix) Pixel15 {
	return Pixel15{
		uint16(flerp(cs.b, comp(k, cb.b, cs.b, aso), ab)),
		uint16(flerp(cs.g, comp(k, cb.g, cs.g, aso), ab)),
		uint16(flerp(cs.r, comp(k, cb.r, cs.r, aso), ab)),
		uint16(aso + fmul(ab, One-aso)),
	}
}

func toAlpha(d Pixel15, dark bool, o fix) Pixel15 {
	q := ubgr(d)
	if dark {
		q = bgr{One - q.b, One - q.g, One - q.r}
	}
	k := One - fmul(lum(q), o)
	return Pixel15{uint16(fmul(fix(d.B), k)), uint16(fmul(fix(d.G), k)), uint16(fmul(fix(d.R), k)), uint16(fmul(fix(d.A), k))}
}

// greater is the helper G(X) of the Greater family (engine.md §2.3); it
// returns unpremultiplied channels.
func greater(d Pixel15, s bgr, x fix) bgr {
	da := fix(d.A)
	ad := float32(int64(x)-int64(da)) / 32768
	wa := fix(float15(1 / (1 + expf(40*ad))))
	a := fsp(da, wa, x, One-wa)
	f := One - fcdiv(One-a, One-da)
	return bgr{
		fcdiv(flerp(fix(d.B), s.b, f), a),
		fcdiv(flerp(fix(d.G), s.g, f), a),
		fcdiv(flerp(fix(d.R), s.r, f), a),
	}
}

// float15 is (uint16)(v·32768 + 0.5f).
func float15(v float32) uint16 {
	x := v*32768 + 0.5
	if !(x > 0) {
		return 0
	}
	if x >= 65535 {
		return 65535
	}
	return uint16(x)
}

// blendPixel is the pixel context (DP_blend_pixels) for one pixel: d and s
// premultiplied, O the layer opacity.
func blendPixel(d, s Pixel15, mode BlendMode, O uint32) Pixel15 {
	mi := modeTable[mode]
	Of := fix(O)
	db, dg, dr, da := fix(d.B), fix(d.G), fix(d.R), fix(d.A)
	sb, sg, sr, sa := fix(s.B), fix(s.G), fix(s.R), fix(s.A)
	switch mi.fam {
	case famNormal:
		k := One - fmul(sa, Of)
		return Pixel15{uint16(fsp(db, k, sb, Of)), uint16(fsp(dg, k, sg, Of)), uint16(fsp(dr, k, sr, Of)), uint16(fsp(da, k, sa, Of))}
	case famRecolor:
		w := fmul(da, Of)
		k := One - fmul(sa, Of)
		return Pixel15{uint16(fsp(db, k, sb, w)), uint16(fsp(dg, k, sg, w)), uint16(fsp(dr, k, sr, w)), d.A}
	case famErase:
		k := One - fmul(sa, Of)
		return Pixel15{uint16(fmul(db, k)), uint16(fmul(dg, k)), uint16(fmul(dr, k)), uint16(fmul(da, k))}
	case famBehind:
		t := fmul(One-da, Of)
		return Pixel15{uint16(db + fmul(sb, t)), uint16(dg + fmul(sg, t)), uint16(dr + fmul(sr, t)), uint16(da + fmul(sa, t))}
	case famReplace:
		return Pixel15{uint16(fmul(sb, Of)), uint16(fmul(sg, Of)), uint16(fmul(sr, Of)), uint16(fmul(sa, Of))}
	case famColorErase:
		u := ubgr(d)
		c := ubgr(s)
		o := float64(O) / 32768
		return colorErase(float64(c.b)/32768, float64(c.g)/32768, float64(c.r)/32768, float64(sa)/32768*o,
			float64(u.b)/32768, float64(u.g)/32768, float64(u.r)/32768, float64(da)/32768)
	case famSep:
		if da == 0 {
			return d
		}
		cb := ubgr(d)
		cr := compBGR(mi.comp, cb, ubgr(s), 0)
		o := fmul(sa, Of)
		o1 := One - o
		return premU(bgr{fsp(o1, cb.b, o, cr.b), fsp(o1, cb.g, o, cr.g), fsp(o1, cb.r, o, cr.r)}, da)
	case famSepAlpha:
		if sa == 0 {
			return d
		}
		cb := ubgr(d)
		cs := ubgr(s)
		cr := compBGR(mi.comp, cb, cs, 0)
		ab1 := One - da
		return sourceOver(d, bgr{fsp(ab1, cs.b, da, cr.b), fsp(ab1, cs.g, da, cr.g), fsp(ab1, cs.r, da, cr.r)}, fmul(sa, Of))
	case famSAI:
		if da == 0 || sa == 0 {
			return d
		}
		cb := ubgr(d)
		cs := bgr{sb, sg, sr}
		if Of != One {
			cs = bgr{fmul(sb, Of), fmul(sg, Of), fmul(sr, Of)}
		}
		aso := fmul(sa, Of)
		return premU(bgr{comp(mi.comp, cb.b, cs.b, aso), comp(mi.comp, cb.g, cs.g, aso), comp(mi.comp, cb.r, cs.r, aso)}, da)
	case famSAIAlpha:
		if sa == 0 {
			return d
		}
		if da == 0 {
			if Of == One {
				return s
			}
			return Pixel15{uint16(fmul(sb, Of)), uint16(fmul(sg, Of)), uint16(fmul(sr, Of)), uint16(fmul(sa, Of))}
		}
		cb := ubgr(d)
		cs := bgr{sb, sg, sr}
		if Of != One {
			cs = bgr{fmul(sb, Of), fmul(sg, Of), fmul(sr, Of)}
		}
		return saiAlpha(mi.comp, cb, cs, da, fmul(sa, Of))
	case famMarker:
		if sa == 0 || da == 0 {
			return d
		}
		cb, cs := ubgr(d), ubgr(s)
		k := fcdiv(fmul(sa, Of), da)
		return premU(bgr{flerp(cb.b, cs.b, k), flerp(cb.g, cs.g, k), flerp(cb.r, cs.r, k)}, da)
	case famMarkerAlpha, famMarkerWash:
		if sa == 0 {
			return d
		}
		cs := ubgr(s)
		if da == 0 {
			if Of == One {
				return s
			}
			return premU(cs, fmul(sa, Of))
		}
		ar := da
		if da < Of {
			ar = da + fmul(sa, Of-da)
		}
		cb := ubgr(d)
		k := fcdiv(fmul(sa, Of), da)
		return premU(bgr{flerp(cb.b, cs.b, k), flerp(cb.g, cs.g, k), flerp(cb.r, cs.r, k)}, ar)
	case famGreater, famGreaterWash:
		if sa == 0 || da == 0 {
			return d
		}
		if t := fmul(sa, Of); da < t {
			return premU(greater(d, ubgr(s), t), da)
		}
		return d
	case famGreaterA, famGreaterAW:
		if sa == 0 {
			return d
		}
		t := fmul(sa, Of)
		cs := ubgr(s)
		if da == 0 {
			if Of == One {
				return s
			}
			return premU(cs, t)
		}
		if da < t {
			return premU(greater(d, cs, t), t)
		}
		return d
	case famLightToAlpha, famDarkToAlpha:
		return toAlpha(d, mi.fam == famDarkToAlpha, Of)
	case famFloat:
		return floatPixel(d, s, mode, O)
	}
	return d
}

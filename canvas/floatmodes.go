package canvas

import "math"

// Float-space blend modes: Pigment (MyPaint spectral WGM mixing, 43, 81,
// 82) and OKLAB (88, 89, 90), engine.md §2.3. These follow the C scalar
// code operation by operation in float32; every product is wrapped in an
// explicit float32 conversion so the Go compiler cannot fuse it into an FMA
// (the x86-64 reference is built without FMA).

type bgrf struct{ b, g, r float32 }

// Constants computed at run time from float32 operands, as the C compiler
// folds them (1.0f - 0.001f, 1.0f / 2.4f, 1.0f / 3.0f).
var (
	f32one     float32 = 1
	wgmEpsilon float32 = 0.001
	wgmOffset          = f32one - wgmEpsilon
	f32two4    float32 = 2.4
	invGamma           = f32one / f32two4
	f32three   float32 = 3
	oneThird           = f32one / f32three
	f32bit15   float32 = One
)

func fastlog2(x float32) float32 {
	vx := math.Float32bits(x)
	mx := math.Float32frombits((vx & 0x007FFFFF) | 0x3f000000)
	y := float32(vx)
	y = float32(y * 1.1920928955078125e-7)
	return float32(float32(y-124.22551499)-float32(1.498030302*mx)) - float32(1.72587999/float32(0.3520887068+mx))
}

func fastpow2(p float32) float32 {
	var offset float32
	if p < 0 {
		offset = 1
	}
	clipp := p
	if p < -126 {
		clipp = -126
	}
	w := int32(clipp)
	z := float32(clipp-float32(w)) + offset
	v := float32(float32(1<<23) * float32(float32(float32(clipp+121.2740575)+float32(27.7280233/float32(4.84252568-z)))-float32(1.49012907*z)))
	return math.Float32frombits(f2u32(v))
}

// f2u32 is C's (uint32_t) cast of a float (truncation; out of range
// saturates instead of being undefined).
func f2u32(f float32) uint32 {
	if !(f > 0) {
		return 0
	}
	if f >= 4294967295 {
		return 4294967295
	}
	return uint32(f)
}

func fastpow(x, p float32) float32 { return fastpow2(float32(p * fastlog2(x))) }

func srgbToLinear(x float32) float32 {
	if x < 0.04045 {
		return x / 12.92
	}
	return fastpow(float32(x+0.055)/1.055, 2.4)
}

func linearToSRGB(x float32) float32 {
	if x < 0.0031308 {
		return float32(x * 12.92)
	}
	return float32(fastpow(x, invGamma)*1.055) - 0.055
}

func clampf(x float32) float32 {
	if x < 0 {
		return 0
	}
	if x > 1 {
		return 1
	}
	return x
}

var spectralB = [10]float32{0.537052150373386, 0.546646402401469, 0.575501819073983, 0.258778829633924, 0.041709923751716, 0.012662638828324, 0.007485593127390, 0.006766900622462, 0.006699764779016, 0.006676219883241}
var spectralG = [10]float32{0.002854127435775, 0.003917589679914, 0.012132151699187, 0.748259205918013, 1.000000000000000, 0.865695937531795, 0.037477469241101, 0.022816789725717, 0.021747419446456, 0.021384940572308}
var spectralR = [10]float32{0.009281362787953, 0.009732627042016, 0.011254252737167, 0.015105578649573, 0.024797924177217, 0.083622585502406, 0.977865045723212, 1.000000000000000, 0.999961046144372, 0.999999992756822}
var tMatrixB = [10]float32{0.339475473216284, 0.635401374177222, 0.771520797089589, 0.113222640692379, -0.055251113343776, -0.048222578468680, -0.012966666339586, -0.001523814504223, -0.000094718948810, -0.000051604594741}
var tMatrixG = [10]float32{-0.032601672674412, -0.061021043498478, -0.052490001018404, 0.206659098273522, 0.572496335158169, 0.317837248815438, -0.021216624031211, -0.019387668756117, -0.001521339050858, -0.000835181622534}
var tMatrixR = [10]float32{0.026595621243689, 0.049779426257903, 0.022449850859496, -0.218453689278271, -0.256894883201278, 0.445881722194840, 0.772365886289756, 0.194498761382537, 0.014038157587820, 0.007687264480513}

type spectral [10]float32

func rgbToSpectral(c bgrf) spectral {
	b := float32(srgbToLinear(c.b)*wgmOffset) + wgmEpsilon
	g := float32(srgbToLinear(c.g)*wgmOffset) + wgmEpsilon
	r := float32(srgbToLinear(c.r)*wgmOffset) + wgmEpsilon
	var s spectral
	for i := range s {
		s[i] = float32(float32(spectralB[i]*b)+float32(spectralG[i]*g)) + float32(spectralR[i]*r)
	}
	return s
}

func pixel15ToSpectral(p Pixel15) spectral {
	a := float32(p.A)
	return rgbToSpectral(bgrf{float32(p.B) / a, float32(p.G) / a, float32(p.R) / a})
}

func spectralToRGB(s *spectral) bgrf {
	dot := func(t *[10]float32) float32 {
		v := float32(t[0] * s[0])
		for i := 1; i < 10; i++ {
			v = v + float32(t[i]*s[i])
		}
		return v
	}
	b, g, r := dot(&tMatrixB), dot(&tMatrixG), dot(&tMatrixR)
	return bgrf{
		clampf(linearToSRGB((b - wgmEpsilon) / wgmOffset)),
		clampf(linearToSRGB((g - wgmEpsilon) / wgmOffset)),
		clampf(linearToSRGB((r - wgmEpsilon) / wgmOffset)),
	}
}

func mixSpectralChannels(a *spectral, b *spectral, facA, facB float32) {
	for i := range b {
		b[i] = float32(fastpow(a[i], facA) * fastpow(b[i], facB))
	}
}

func mixSpectral(dp Pixel15, a *spectral, ab, aso fix) spectral {
	facA := float32(aso) / float32(aso+(One-aso)*ab/One)
	facB := 1 - facA
	sb := pixel15ToSpectral(dp)
	mixSpectralChannels(a, &sb, facA, facB)
	return sb
}

func assignPreserve(d Pixel15, cr bgrf) Pixel15 {
	ar := 0.5 + float32(d.A)
	d.B = f2u16(float32(cr.b * ar))
	d.G = f2u16(float32(cr.g * ar))
	d.R = f2u16(float32(cr.r * ar))
	return d
}

func assignAlpha(ab, aso fix, cr bgrf) Pixel15 {
	arf := float32(fcl(aso + fmul(ab, One-aso)))
	ar := 0.5 + arf
	return Pixel15{f2u16(float32(cr.b * ar)), f2u16(float32(cr.g * ar)), f2u16(float32(cr.r * ar)), f2u16(arf)}
}

// --- OKLAB ---

type lab struct{ L, a, b float32 }

func fastcbrt(x float32) float32 {
	if x == 0 {
		return 0
	}
	const signMask = 0x80000000
	i := math.Float32bits(x)
	sign := i & signMask
	i &^= signMask
	absX := math.Float32frombits(i)
	i = f2u32(float32(float32(i)*oneThird)) + 0x2a51067f
	u := math.Float32frombits(i)
	y3 := float32(float32(u*u) * u)
	u = float32(u*float32(y3+float32(2*absX))) / float32(float32(2*y3)+absX)
	return math.Float32frombits(math.Float32bits(u) | sign)
}

func linearToOklab(c bgrf) lab {
	l := float32(float32(float32(0.4122214708*c.r)+float32(0.5363325363*c.g)) + float32(0.0514459929*c.b))
	m := float32(float32(float32(0.2119034982*c.r)+float32(0.6806995451*c.g)) + float32(0.1073969566*c.b))
	s := float32(float32(float32(0.0883024619*c.r)+float32(0.2817188376*c.g)) + float32(0.6299787005*c.b))
	l_ := fastcbrt(l+0.0037930732552754493) - 0.15595420054924858
	m_ := fastcbrt(m+0.0037930732552754493) - 0.15595420054924858
	s_ := fastcbrt(s+0.0037930732552754493) - 0.15595420054924858
	return lab{
		L: float32(float32(0.2104542553*l_)+float32(0.7936177850*m_)) - float32(0.0040720468*s_),
		a: float32(float32(1.9779984951*l_)-float32(2.4285922050*m_)) + float32(0.4505937099*s_),
		b: float32(float32(0.0259040371*l_)+float32(0.7827717662*m_)) - float32(0.8086757660*s_),
	}
}

func oklabToLinear(c lab) bgrf {
	l_ := float32(float32(c.L+float32(0.3963377774*c.a))+float32(0.2158037573*c.b)) + 0.15595420054924858
	m_ := float32(float32(c.L-float32(0.1055613458*c.a))-float32(0.0638541728*c.b)) + 0.15595420054924858
	s_ := float32(float32(c.L-float32(0.0894841775*c.a))-float32(1.2914855480*c.b)) + 0.15595420054924858
	l := float32(float32(l_*l_)*l_) - 0.0037930732552754493
	m := float32(float32(m_*m_)*m_) - 0.0037930732552754493
	s := float32(float32(s_*s_)*s_) - 0.0037930732552754493
	return bgrf{
		r: float32(float32(4.0767416621*l)-float32(3.3077115913*m)) + float32(0.2309699292*s),
		g: float32(float32(-1.2684380046*l)+float32(2.6097574011*m)) - float32(0.3413193965*s),
		b: float32(float32(-0.0041960863*l)-float32(0.7034186147*m)) + float32(1.7076147010*s),
	}
}

func mixOklab(dst, src lab, ab, aso fix) bgrf {
	dstA := float32(ab) / f32bit15
	alpha := float32(aso) / f32bit15
	mixA := alpha + float32(dstA*(1-alpha))
	blend := alpha / mixA
	nb := 1 - blend
	m := lab{
		float32(src.L*blend) + float32(dst.L*nb),
		float32(src.a*blend) + float32(dst.a*nb),
		float32(src.b*blend) + float32(dst.b*nb),
	}
	rgb := oklabToLinear(m)
	return bgrf{clampf(linearToSRGB(rgb.b)), clampf(linearToSRGB(rgb.g)), clampf(linearToSRGB(rgb.r))}
}

func chanToLinear(c, a fix) float32 {
	return srgbToLinear(float32(c*One/a) / f32bit15)
}

func unpremToLinear(p Pixel15, a fix) bgrf {
	return bgrf{chanToLinear(fix(p.B), a), chanToLinear(fix(p.G), a), chanToLinear(fix(p.R), a)}
}

func srcOklab(b, g, r uint32) lab {
	return linearToOklab(bgrf{srgbToLinear(float32(b) / f32bit15), srgbToLinear(float32(g) / f32bit15), srgbToLinear(float32(r) / f32bit15)})
}

func srcSpectral(b, g, r uint32) spectral {
	return rgbToSpectral(bgrf{float32(b) / f32bit15, float32(g) / f32bit15, float32(r) / f32bit15})
}

// floatMaskPixel is the mask context of the float-space modes.
func floatMaskPixel(d Pixel15, src upixel15, mode BlendMode, m, O uint32) Pixel15 {
	as, of := fix(m), fix(O)
	cs := bgr{fix(src.b), fix(src.g), fix(src.r)}
	switch mode {
	case ModePigment, ModeOklabRecolor: // preserve
		if d.A == 0 || as == 0 {
			return d
		}
		if as == One && of == One {
			ab := fix(d.A)
			d.B, d.G, d.R = uint16(fmul(cs.b, ab)), uint16(fmul(cs.g, ab)), uint16(fmul(cs.r, ab))
			return d
		}
		ab := fix(d.A)
		aso := fmul(as, of)
		var cr bgrf
		if mode == ModePigment {
			spec := srcSpectral(src.b, src.g, src.r)
			mixed := mixSpectral(d, &spec, ab, aso)
			cr = spectralToRGB(&mixed)
		} else {
			cr = mixOklab(linearToOklab(unpremToLinear(d, ab)), srcOklab(src.b, src.g, src.r), ab, aso)
		}
		return assignPreserve(d, cr)
	case ModePigmentAlpha, ModeOklabNormal:
		if as == 0 {
			return d
		}
		if d.A == 0 {
			aso := fmul(as, of)
			return Pixel15{uint16(fmul(cs.b, aso)), uint16(fmul(cs.g, aso)), uint16(fmul(cs.r, aso)), uint16(aso)}
		}
		if as == One && of == One {
			return Pixel15{uint16(src.b), uint16(src.g), uint16(src.r), One}
		}
		ab := fix(d.A)
		aso := fmul(as, of)
		var cr bgrf
		if mode == ModePigmentAlpha {
			spec := srcSpectral(src.b, src.g, src.r)
			mixed := mixSpectral(d, &spec, ab, aso)
			cr = spectralToRGB(&mixed)
		} else {
			cr = mixOklab(linearToOklab(unpremToLinear(d, ab)), srcOklab(src.b, src.g, src.r), ab, aso)
		}
		return assignAlpha(ab, aso, cr)
	case ModeOklabNormalAndEraser:
		ea := fix(src.a)
		ca := fix(d.A)
		opaA := fmul(as, of)
		opaB := One - opaA
		opaA2 := fmul(opaA, ea)
		opaOut := opaA2 + fmul(opaB, ca)
		var cr bgr
		if ca == 0 {
			cr = bgr{fmul(opaA2, cs.b), fmul(opaA2, cs.g), fmul(opaA2, cs.r)}
		} else {
			dl := linearToOklab(unpremToLinear(d, ca))
			s := mixOklab(dl, srcOklab(src.b, src.g, src.r), ca, opaA2)
			of := float32(opaOut)
			cr = bgr{fix(f2u32(float32(s.b * of))), fix(f2u32(float32(s.g * of))), fix(f2u32(float32(s.r * of)))}
		}
		return Pixel15{uint16(cr.b), uint16(cr.g), uint16(cr.r), uint16(opaOut)}
	case ModePigmentAndEraser:
		if of < 150 {
			of = 150
		}
		ea := fix(src.a)
		cb := d
		ca := fix(cb.A)
		opaA := fmul(as, of)
		opaB := One - opaA
		opaA2 := fmul(opaA, ea)
		opaOut := opaA2 + fmul(opaB, ca)
		abf := float32(cb.A)
		sf := clampf(spectralBlendFactor(abf / f32bit15))
		af := 1 - sf
		var cr bgr
		if af != 0 {
			cr = bgr{fsp(opaA2, cs.b, opaB, fix(cb.B)), fsp(opaA2, cs.g, opaB, fix(cb.G)), fsp(opaA2, cs.r, opaB, fix(cb.R))}
		}
		if sf != 0 && ca != 0 {
			sa := srcSpectral(src.b, src.g, src.r)
			sb := rgbToSpectral(bgrf{float32(cb.B) / abf, float32(cb.G) / abf, float32(cb.R) / abf})
			facA := float32(float32(opaA)/float32(opaA+fmul(opaB, ca))) * float32(float32(ea)/f32bit15)
			facB := 1 - facA
			mixSpectralChannels(&sa, &sb, facA, facB)
			s := spectralToRGB(&sb)
			of := float32(opaOut)
			cr.b = fix(f2u32(float32(af*float32(cr.b)) + float32(float32(sf*s.b)*of)))
			cr.g = fix(f2u32(float32(af*float32(cr.g)) + float32(float32(sf*s.g)*of)))
			cr.r = fix(f2u32(float32(af*float32(cr.r)) + float32(float32(sf*s.r)*of)))
		}
		return Pixel15{uint16(cr.b), uint16(cr.g), uint16(cr.r), uint16(opaOut)}
	}
	return d
}

func spectralBlendFactor(x float32) float32 {
	b := float32(x*8) - 3
	return 0.5 + b/(1+float32(float32(math.Abs(float64(b)))*1.65))
}

// floatPixel is the pixel context of the float-space modes.
func floatPixel(d, s Pixel15, mode BlendMode, O uint32) Pixel15 {
	of := fix(O)
	blend := func(ab, as, aso fix) bgrf {
		if mode == ModePigment || mode == ModePigmentAlpha {
			sa := pixel15ToSpectral(s)
			mixed := mixSpectral(d, &sa, ab, aso)
			return spectralToRGB(&mixed)
		}
		return mixOklab(linearToOklab(unpremToLinear(d, ab)), linearToOklab(unpremToLinear(s, as)), ab, aso)
	}
	switch mode {
	case ModePigment, ModeOklabRecolor:
		if d.A == 0 || s.A == 0 {
			return d
		}
		if s.A == One && of == One {
			if d.A == One {
				d.B, d.G, d.R = s.B, s.G, s.R
				return d
			}
			ab := fix(d.A)
			d.B, d.G, d.R = uint16(fmul(fix(s.B), ab)), uint16(fmul(fix(s.G), ab)), uint16(fmul(fix(s.R), ab))
			return d
		}
		ab, as := fix(d.A), fix(s.A)
		return assignPreserve(d, blend(ab, as, fmul(as, of)))
	case ModePigmentAlpha, ModeOklabNormal:
		if s.A == 0 {
			return d
		}
		if d.A == 0 {
			if of == One {
				return s
			}
			return Pixel15{uint16(fmul(fix(s.B), of)), uint16(fmul(fix(s.G), of)), uint16(fmul(fix(s.R), of)), uint16(fmul(fix(s.A), of))}
		}
		if s.A == One && of == One {
			return s
		}
		ab, as := fix(d.A), fix(s.A)
		aso := fmul(as, of)
		return assignAlpha(ab, aso, blend(ab, as, aso))
	}
	return d // 82 and 90 have no pixel-context formula
}

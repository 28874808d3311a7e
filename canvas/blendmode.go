package canvas

// BlendMode is a Drawpile blend mode id (engine.md §2.1). Ids not listed
// below are unknown: every operation treats them as a silent no-op.
type BlendMode uint8

// Blend mode ids (engine.md §2.1, protocol.md §3.8).
const (
	ModeErase                   BlendMode = 0
	ModeNormal                  BlendMode = 1
	ModeMultiply                BlendMode = 2
	ModeDivide                  BlendMode = 3
	ModeBurn                    BlendMode = 4
	ModeDodge                   BlendMode = 5
	ModeDarken                  BlendMode = 6
	ModeLighten                 BlendMode = 7
	ModeSubtract                BlendMode = 8
	ModeAdd                     BlendMode = 9
	ModeRecolor                 BlendMode = 10
	ModeBehind                  BlendMode = 11
	ModeColorErase              BlendMode = 12
	ModeScreen                  BlendMode = 13
	ModeNormalAndEraser         BlendMode = 14
	ModeLuminosityShineSAI      BlendMode = 15
	ModeOverlay                 BlendMode = 16
	ModeHardLight               BlendMode = 17
	ModeSoftLight               BlendMode = 18
	ModeLinearBurn              BlendMode = 19
	ModeLinearLight             BlendMode = 20
	ModeHue                     BlendMode = 21
	ModeSaturation              BlendMode = 22
	ModeLuminosity              BlendMode = 23
	ModeColor                   BlendMode = 24
	ModeCompareDensitySoft      BlendMode = 25
	ModeCompareDensity          BlendMode = 26
	ModeVividLight              BlendMode = 27
	ModePinLight                BlendMode = 28
	ModeDifference              BlendMode = 29
	ModeDarkerColor             BlendMode = 30
	ModeLighterColor            BlendMode = 31
	ModeShadeSAI                BlendMode = 32
	ModeShadeShineSAI           BlendMode = 33
	ModeBurnSAI                 BlendMode = 34
	ModeDodgeSAI                BlendMode = 35
	ModeBurnDodgeSAI            BlendMode = 36
	ModeHardMixSAI              BlendMode = 37
	ModeDifferenceSAI           BlendMode = 38
	ModeMarker                  BlendMode = 39
	ModeMarkerWash              BlendMode = 40
	ModeGreater                 BlendMode = 41
	ModeGreaterWash             BlendMode = 42
	ModePigment                 BlendMode = 43
	ModeLightToAlpha            BlendMode = 44
	ModeDarkToAlpha             BlendMode = 45
	ModeMultiplyAlpha           BlendMode = 46
	ModeLuminosityShineSAIAlpha BlendMode = 55
	ModeMarkerAlpha             BlendMode = 77
	ModeMarkerAlphaWash         BlendMode = 78
	ModeGreaterAlpha            BlendMode = 79
	ModeGreaterAlphaWash        BlendMode = 80
	ModePigmentAlpha            BlendMode = 81
	ModePigmentAndEraser        BlendMode = 82
	ModeErasePreserve           BlendMode = 83
	ModeBehindPreserve          BlendMode = 84
	ModeColorErasePreserve      BlendMode = 85
	ModeLightToAlphaPreserve    BlendMode = 86
	ModeDarkToAlphaPreserve     BlendMode = 87
	ModeOklabNormal             BlendMode = 88
	ModeOklabRecolor            BlendMode = 89
	ModeOklabNormalAndEraser    BlendMode = 90
	ModeCompatLocalMatch        BlendMode = 253
	ModeReplace                 BlendMode = 255
)

// mode flags (engine.md §2.1 "flags" column).
const (
	flagLayer    = 1 << iota // L: valid as a layer blend mode
	flagBrush                // B: valid for brushes and fills
	flagBlank                // bb: can blend onto a blank (absent) tile
	flagIncrease             // +: can increase opacity
	flagDecrease             // -: can decrease opacity
	flagPreserve             // P: alpha preserving
)

var modeFlags [256]uint8

func init() {
	const lb = flagLayer | flagBrush
	set := func(f uint8, ids ...int) {
		for _, id := range ids {
			modeFlags[id] = f
		}
	}
	set(lb|flagDecrease, 0, 83, 44, 45, 86, 87)
	set(lb|flagBlank|flagIncrease, 1, 88)
	set(lb|flagPreserve, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
		27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 89)
	set(flagBrush|flagBlank|flagIncrease, 11, 84, 25, 26)
	set(flagBrush|flagDecrease, 12, 85)
	set(flagBrush|flagBlank|flagIncrease|flagDecrease, 14, 82, 90, 255)
	for id := 46; id <= 81; id++ {
		modeFlags[id] = lb | flagBlank | flagIncrease
	}
}

// ValidForBrush reports whether m may be used for dabs and fills.
func (m BlendMode) ValidForBrush() bool { return modeFlags[m]&flagBrush != 0 }

// ValidForLayer reports whether m is a layer compositing mode.
func (m BlendMode) ValidForLayer() bool { return modeFlags[m]&flagLayer != 0 }

// BlendsOntoBlank reports whether m can put paint on a transparent pixel
// (decides whether an absent tile is created).
func (m BlendMode) BlendsOntoBlank() bool { return modeFlags[m]&flagBlank != 0 }

// DecreasesOpacity reports whether m can make pixels more transparent.
func (m BlendMode) DecreasesOpacity() bool { return modeFlags[m]&flagDecrease != 0 }

// clipMode returns the alpha-preserving member of m's clip pair
// (DP_blend_mode_clip(m, true)); other modes are returned unchanged.
func clipMode(m BlendMode) BlendMode {
	switch {
	case m == ModeNormal:
		return ModeRecolor
	case m == ModeErase:
		return ModeErasePreserve
	case m == ModeBehind:
		return ModeBehindPreserve
	case m == ModeColorErase:
		return ModeColorErasePreserve
	case m == ModeLightToAlpha:
		return ModeLightToAlphaPreserve
	case m == ModeDarkToAlpha:
		return ModeDarkToAlphaPreserve
	case m == ModeOklabNormal:
		return ModeOklabRecolor
	case m >= 46 && m <= 81:
		return alphaBase[m-46]
	}
	return m
}

// unclipMode is the inverse of clipMode: the alpha-affecting member.
func unclipMode(m BlendMode) BlendMode {
	switch m {
	case ModeRecolor:
		return ModeNormal
	case ModeErasePreserve:
		return ModeErase
	case ModeBehindPreserve:
		return ModeBehind
	case ModeColorErasePreserve:
		return ModeColorErase
	case ModeLightToAlphaPreserve:
		return ModeLightToAlpha
	case ModeDarkToAlphaPreserve:
		return ModeDarkToAlpha
	case ModeOklabRecolor:
		return ModeOklabNormal
	}
	for i, b := range alphaBase {
		if b == m {
			return BlendMode(46 + i)
		}
	}
	return m
}

// alphaBase maps the alpha-affecting modes 46..81 to their alpha-preserving
// counterparts.
var alphaBase = [36]BlendMode{
	2, 3, 4, 5, 6, 7, 8, 9, 13, // 46..54
	15,                 // 55
	16, 17, 18, 19, 20, // 56..60
	21, 22, 23, 24, // 61..64
	27, 28, 29, // 65..67
	30, 31, // 68..69
	32, 33, 34, // 70..72
	35,     // 73
	36, 37, // 74..75
	38,     // 76
	39, 40, // 77..78 (marker family has its own formulas)
	41, 42, // 79..80
	43, // 81
}

package protocol

// Blend modes (protocol.md §3.8): the u8 value of blendmode fields (layer
// blend, PutImage/FillRect mode, dab mode). The constant names follow
// Drawpile's; BlendName gives the dptxt name.
const (
	BlendErase                   uint8 = 0   // svg:dst-out
	BlendNormal                  uint8 = 1   // svg:src-over
	BlendMultiply                uint8 = 2   // svg:multiply
	BlendDivide                  uint8 = 3   // krita:divide
	BlendBurn                    uint8 = 4   // svg:color-burn
	BlendDodge                   uint8 = 5   // svg:color-dodge
	BlendDarken                  uint8 = 6   // svg:darken
	BlendLighten                 uint8 = 7   // svg:lighten
	BlendSubtract                uint8 = 8   // krita:subtract
	BlendAdd                     uint8 = 9   // svg:plus
	BlendRecolor                 uint8 = 10  // svg:src-atop
	BlendBehind                  uint8 = 11  // svg:dst-over
	BlendColorErase              uint8 = 12  // -dp-cerase
	BlendScreen                  uint8 = 13  // svg:screen
	BlendNormalAndEraser         uint8 = 14  // -dp-normal-and-eraser
	BlendLuminosityShineSai      uint8 = 15  // krita:luminosity_sai
	BlendOverlay                 uint8 = 16  // svg:overlay
	BlendHardLight               uint8 = 17  // svg:hard-light
	BlendSoftLight               uint8 = 18  // svg:soft-light
	BlendLinearBurn              uint8 = 19  // krita:linear_burn
	BlendLinearLight             uint8 = 20  // krita:linear light
	BlendHue                     uint8 = 21  // svg:hue
	BlendSaturation              uint8 = 22  // svg:saturation
	BlendLuminosity              uint8 = 23  // svg:luminosity
	BlendColor                   uint8 = 24  // svg:color
	BlendCompareDensitySoft      uint8 = 25  // -dp-compare-density-soft
	BlendCompareDensity          uint8 = 26  // -dp-compare-density
	BlendVividLight              uint8 = 27  // krita:vivid_light
	BlendPinLight                uint8 = 28  // krita:pin_light
	BlendDifference              uint8 = 29  // svg:difference
	BlendDarkerColor             uint8 = 30  // krita:darker color
	BlendLighterColor            uint8 = 31  // krita:lighter color
	BlendShadeSai                uint8 = 32  // krita:shade_sai
	BlendShadeShineSai           uint8 = 33  // krita:shade_shine_sai
	BlendBurnSai                 uint8 = 34  // krita:burn_sai
	BlendDodgeSai                uint8 = 35  // krita:dodge_sai
	BlendBurnDodgeSai            uint8 = 36  // krita:burn_dodge_sai
	BlendHardMixSai              uint8 = 37  // krita:hard_mix_sai
	BlendDifferenceSai           uint8 = 38  // krita:difference_sai
	BlendMarker                  uint8 = 39  // -dp-marker
	BlendMarkerWash              uint8 = 40  // -dp-marker-wash
	BlendGreater                 uint8 = 41  // -dp-greater
	BlendGreaterWash             uint8 = 42  // -dp-greater-wash
	BlendPigment                 uint8 = 43  // -dp-pigment
	BlendLightToAlpha            uint8 = 44  // -dp-light-to-alpha
	BlendDarkToAlpha             uint8 = 45  // -dp-dark-to-alpha
	BlendMultiplyAlpha           uint8 = 46  // -dp-multiply-alpha
	BlendDivideAlpha             uint8 = 47  // -dp-divide-alpha
	BlendBurnAlpha               uint8 = 48  // -dp-burn-alpha
	BlendDodgeAlpha              uint8 = 49  // -dp-dodge-alpha
	BlendDarkenAlpha             uint8 = 50  // -dp-darken-alpha
	BlendLightenAlpha            uint8 = 51  // -dp-lighten-alpha
	BlendSubtractAlpha           uint8 = 52  // -dp-subtract-alpha
	BlendAddAlpha                uint8 = 53  // -dp-add-alpha
	BlendScreenAlpha             uint8 = 54  // -dp-screen-alpha
	BlendLuminosityShineSaiAlpha uint8 = 55  // -dp-luminosity-shine-sai-alpha
	BlendOverlayAlpha            uint8 = 56  // -dp-overlay-alpha
	BlendHardLightAlpha          uint8 = 57  // -dp-hard-light-alpha
	BlendSoftLightAlpha          uint8 = 58  // -dp-soft-light-alpha
	BlendLinearBurnAlpha         uint8 = 59  // -dp-linear-burn-alpha
	BlendLinearLightAlpha        uint8 = 60  // -dp-linear-light-alpha
	BlendHueAlpha                uint8 = 61  // -dp-hue-alpha
	BlendSaturationAlpha         uint8 = 62  // -dp-saturation-alpha
	BlendLuminosityAlpha         uint8 = 63  // -dp-luminosity-alpha
	BlendColorAlpha              uint8 = 64  // -dp-color-alpha
	BlendVividLightAlpha         uint8 = 65  // -dp-vivid-light-alpha
	BlendPinLightAlpha           uint8 = 66  // -dp-pin-light-alpha
	BlendDifferenceAlpha         uint8 = 67  // -dp-difference-alpha
	BlendDarkerColorAlpha        uint8 = 68  // -dp-darker-color-alpha
	BlendLighterColorAlpha       uint8 = 69  // -dp-lighter-color-alpha
	BlendShadeSaiAlpha           uint8 = 70  // -dp-shade-sai-alpha
	BlendShadeShineSaiAlpha      uint8 = 71  // -dp-shade-shine-sai-alpha
	BlendBurnSaiAlpha            uint8 = 72  // -dp-burn-sai-alpha
	BlendDodgeSaiAlpha           uint8 = 73  // -dp-dodge-sai-alpha
	BlendBurnDodgeSaiAlpha       uint8 = 74  // -dp-burn-dodge-sai-alpha
	BlendHardMixSaiAlpha         uint8 = 75  // -dp-hard-mix-sai-alpha
	BlendDifferenceSaiAlpha      uint8 = 76  // -dp-difference-sai-alpha
	BlendMarkerAlpha             uint8 = 77  // -dp-marker-alpha
	BlendMarkerAlphaWash         uint8 = 78  // -dp-marker-alpha-wash
	BlendGreaterAlpha            uint8 = 79  // krita:greater
	BlendGreaterAlphaWash        uint8 = 80  // -dp-greater-alpha-wash
	BlendPigmentAlpha            uint8 = 81  // mypaint:spectral-wgm
	BlendPigmentAndEraser        uint8 = 82  // -dp-pigment-and-eraser
	BlendErasePreserve           uint8 = 83  // -dp-erase-preserve
	BlendBehindPreserve          uint8 = 84  // -dp-behind-preserve
	BlendColorErasePreserve      uint8 = 85  // -dp-cerase-preserve
	BlendLightToAlphaPreserve    uint8 = 86  // -dp-light-to-alpha-preserve
	BlendDarkToAlphaPreserve     uint8 = 87  // -dp-dark-to-alpha-preserve
	BlendOklabNormal             uint8 = 88  // -dp-oklab-normal
	BlendOklabRecolor            uint8 = 89  // -dp-oklab-recolor
	BlendOklabNormalAndEraser    uint8 = 90  // -dp-oklab-normal-and-eraser
	BlendReplace                 uint8 = 255 // -dp-replace
	// BlendLocalMatchHack marks a PutImage that is a disguised LocalMatch
	// (protocol.md §3.4); it is not a real blend mode.
	BlendLocalMatchHack uint8 = 252
)

// blendNames maps blend mode numbers to dptxt names; "" = unknown.
var blendNames = [256]string{
	0:   "svg:dst-out",
	1:   "svg:src-over",
	2:   "svg:multiply",
	3:   "krita:divide",
	4:   "svg:color-burn",
	5:   "svg:color-dodge",
	6:   "svg:darken",
	7:   "svg:lighten",
	8:   "krita:subtract",
	9:   "svg:plus",
	10:  "svg:src-atop",
	11:  "svg:dst-over",
	12:  "-dp-cerase",
	13:  "svg:screen",
	14:  "-dp-normal-and-eraser",
	15:  "krita:luminosity_sai",
	16:  "svg:overlay",
	17:  "svg:hard-light",
	18:  "svg:soft-light",
	19:  "krita:linear_burn",
	20:  "krita:linear light",
	21:  "svg:hue",
	22:  "svg:saturation",
	23:  "svg:luminosity",
	24:  "svg:color",
	25:  "-dp-compare-density-soft",
	26:  "-dp-compare-density",
	27:  "krita:vivid_light",
	28:  "krita:pin_light",
	29:  "svg:difference",
	30:  "krita:darker color",
	31:  "krita:lighter color",
	32:  "krita:shade_sai",
	33:  "krita:shade_shine_sai",
	34:  "krita:burn_sai",
	35:  "krita:dodge_sai",
	36:  "krita:burn_dodge_sai",
	37:  "krita:hard_mix_sai",
	38:  "krita:difference_sai",
	39:  "-dp-marker",
	40:  "-dp-marker-wash",
	41:  "-dp-greater",
	42:  "-dp-greater-wash",
	43:  "-dp-pigment",
	44:  "-dp-light-to-alpha",
	45:  "-dp-dark-to-alpha",
	46:  "-dp-multiply-alpha",
	47:  "-dp-divide-alpha",
	48:  "-dp-burn-alpha",
	49:  "-dp-dodge-alpha",
	50:  "-dp-darken-alpha",
	51:  "-dp-lighten-alpha",
	52:  "-dp-subtract-alpha",
	53:  "-dp-add-alpha",
	54:  "-dp-screen-alpha",
	55:  "-dp-luminosity-shine-sai-alpha",
	56:  "-dp-overlay-alpha",
	57:  "-dp-hard-light-alpha",
	58:  "-dp-soft-light-alpha",
	59:  "-dp-linear-burn-alpha",
	60:  "-dp-linear-light-alpha",
	61:  "-dp-hue-alpha",
	62:  "-dp-saturation-alpha",
	63:  "-dp-luminosity-alpha",
	64:  "-dp-color-alpha",
	65:  "-dp-vivid-light-alpha",
	66:  "-dp-pin-light-alpha",
	67:  "-dp-difference-alpha",
	68:  "-dp-darker-color-alpha",
	69:  "-dp-lighter-color-alpha",
	70:  "-dp-shade-sai-alpha",
	71:  "-dp-shade-shine-sai-alpha",
	72:  "-dp-burn-sai-alpha",
	73:  "-dp-dodge-sai-alpha",
	74:  "-dp-burn-dodge-sai-alpha",
	75:  "-dp-hard-mix-sai-alpha",
	76:  "-dp-difference-sai-alpha",
	77:  "-dp-marker-alpha",
	78:  "-dp-marker-alpha-wash",
	79:  "krita:greater",
	80:  "-dp-greater-alpha-wash",
	81:  "mypaint:spectral-wgm",
	82:  "-dp-pigment-and-eraser",
	83:  "-dp-erase-preserve",
	84:  "-dp-behind-preserve",
	85:  "-dp-cerase-preserve",
	86:  "-dp-light-to-alpha-preserve",
	87:  "-dp-dark-to-alpha-preserve",
	88:  "-dp-oklab-normal",
	89:  "-dp-oklab-recolor",
	90:  "-dp-oklab-normal-and-eraser",
	255: "-dp-replace",
}

var blendByName = func() map[string]uint8 {
	m := make(map[string]uint8, 96)
	for i, n := range blendNames {
		if n != "" {
			m[n] = uint8(i)
		}
	}
	return m
}()

// BlendName returns the dptxt name of a blend mode, "-dp-unknown" for
// numbers without one (Drawpile's text writer does the same).
func BlendName(mode uint8) string {
	if n := blendNames[mode]; n != "" {
		return n
	}
	return "-dp-unknown"
}

// BlendByName returns the blend mode with the given dptxt name; ok is false
// for unknown names (Drawpile's reader then uses BlendNormal).
func BlendByName(name string) (mode uint8, ok bool) {
	mode, ok = blendByName[name]
	return mode, ok
}

// BlendTo424 maps a blend mode to the nearest mode Drawpile 2.2 knows, as
// 2.3 does when it talks to a dp:4.24.0 peer (protocol.md §3.8). Modes
// 0–24, 252 and 255 are kept.
func BlendTo424(mode uint8) uint8 {
	switch {
	case mode <= 24, mode == BlendLocalMatchHack, mode == BlendReplace:
		return mode
	case mode == 25 || mode == 26 || (mode >= 65 && mode <= 82) || mode == 88 || mode == 90:
		return BlendNormal
	case (mode >= 27 && mode <= 43) || mode == 89:
		return BlendRecolor
	case mode == 44 || mode == 45 || mode == 83 || mode == 86 || mode == 87:
		return BlendErase
	case mode == 84:
		return BlendBehind
	case mode == 85:
		return BlendColorErase
	case mode >= 46 && mode <= 64:
		return alphaBase[mode-46]
	}
	return BlendNormal
}

// alphaBase maps the "alpha" modes 46–64 to their base modes.
var alphaBase = [...]uint8{
	BlendMultiply, BlendDivide, BlendBurn, BlendDodge, BlendDarken, BlendLighten,
	BlendSubtract, BlendAdd, BlendScreen, BlendLuminosityShineSai, BlendOverlay,
	BlendHardLight, BlendSoftLight, BlendLinearBurn, BlendLinearLight, BlendHue,
	BlendSaturation, BlendLuminosity, BlendColor,
}

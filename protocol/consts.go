package protocol

// Field values of §3.2 that are plain numbers in dptxt (the named flags and
// enums are generated from the spec into messages_gen.go).

// Paint modes: bits 0–1 of the flags of DrawDabsClassic, DrawDabsPixel,
// DrawDabsPixelSquare and DrawDabsMyPaintBlend (protocol.md §3.2).
const (
	PaintModeDirect         uint8 = 0
	PaintModeIndirectWash   uint8 = 1
	PaintModeIndirectSoft   uint8 = 2
	PaintModeIndirectNormal uint8 = 3
	// PaintModeMask selects the paint mode bits of a dabs flags byte.
	PaintModeMask uint8 = 0x03
	// DabsMaskSelectionMask (bits 3–5): n ≠ 0 masks with selection 127+n.
	DabsMaskSelectionMask  uint8 = 0x38
	DabsMaskSelectionShift       = 3
	// DabsFloodSelectionMask (bits 6–7): n ≠ 0 floods selection 191+n.
	DabsFloodSelectionMask  uint8 = 0xC0
	DabsFloodSelectionShift       = 6
)

// DrawDabsMyPaint.Flags colour space (bits 0–1) and DrawDabsMyPaint.Mode bits.
const (
	MyPaintColorSpaceMask    uint8 = 0x03
	MyPaintColorSpacePigment uint8 = 1
	MyPaintColorSpaceOKLab   uint8 = 2
	// MyPaintModeIndirect: if set, the low 2 bits of Mode pick the mode
	// (0 direct normal-and-eraser, 1 indirect Normal, 2 indirect Recolor,
	// 3 indirect Erase); if clear, Mode is the posterize colour count.
	MyPaintModeIndirect uint8 = 0x80
)

// LayerACL.Flags (protocol.md §3.2).
const (
	// LayerACLTierMask selects the access tier (bits 0–1): 0 operators,
	// 1 +trusted, 2 +registered, 3 everyone.
	LayerACLTierMask      uint8 = 0x03
	LayerACLPropsLocked   uint8 = 0x20
	LayerACLMoveLocked    uint8 = 0x40
	LayerACLContentLocked uint8 = 0x80
)

// KeyFrameLayerAttributes.LayerFlags entries are flags<<24 | layer id.
const (
	KeyFrameLayerHidden   uint8 = 0x1
	KeyFrameLayerRevealed uint8 = 0x2
)

// Feature indices of FeatureAccessLevels.FeatureTiers (protocol.md §3.2).
const (
	FeaturePutImage         = 0
	FeatureRegionMove       = 1
	FeatureResize           = 2
	FeatureBackground       = 3
	FeatureEditLayers       = 4
	FeatureOwnLayers        = 5
	FeatureCreateAnnotation = 6
	FeatureLaser            = 7
	FeatureUndo             = 8
	FeatureSlowBrush        = 9 // pigment brushes; "metadata" in 2.2
	FeatureTimeline         = 10
	FeatureMyPaint          = 11
	FeatureCount            = 12
)

// Access tiers used by FeatureAccessLevels and LayerACL.
const (
	TierOperator      uint8 = 0
	TierTrusted       uint8 = 1
	TierAuthenticated uint8 = 2
	TierGuest         uint8 = 3
	// TierUnchanged in FeatureAccessLevels leaves a feature's tier as it is.
	TierUnchanged uint8 = 255
)

// FeatureLimits.Limits is flattened [limit][tier], four tiers per limit;
// -1 = unlimited, 0 = forbidden.
const (
	LimitBrushSize  = 0
	LimitLayerCount = 1
	LimitTiers      = 4
)

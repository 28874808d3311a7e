package protocol

// Compile-time guards against drift between the hand-written code and the
// generated catalogue (messages_gen.go): if the spec renumbers a type the
// hand-written code depends on, or a generated constant changes value,
// these array indexes go out of range and the package stops compiling.
func _() {
	var x [1]struct{}
	_ = x[TypeServerCommand-0]
	_ = x[TypePing-2]
	_ = x[TypeInternal-31]
	_ = x[TypeJoin-32]
	_ = x[TypeResetStream-39]
	_ = x[TypeInterval-64]
	_ = x[TypeFeatureLimits-77]
	_ = x[TypeUndoPoint-128]
	_ = x[TypePutImage-136]
	_ = x[TypeDrawDabsClassic-148]
	_ = x[TypeDrawDabsMyPaintBlend-152]
	_ = x[TypeLocalMatch-176]
	_ = x[TypeTransformRegionZstd-182]
	_ = x[TypeUndo-255]
	_ = x[FirstServerMeta-TypeJoin]
	_ = x[FirstClientMeta-TypeInterval]
	_ = x[FirstCommand-TypeUndoPoint]
	_ = x[PaintModeIndirectSoft-2]
	_ = x[BlendNormal-1]
	_ = x[BlendReplace-255]
	_ = x[len(typeInfos)-256]
}

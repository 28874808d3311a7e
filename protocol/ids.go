package protocol

// Element ids in the dp:4.25 meaning (protocol.md §3.3). Structs in this
// package always hold ids this way, whatever the session's layout.
//
//	layer id (u24):      element<<8 | owner     element 1..0x7FFF
//	selection layer:     0x800000 | selection<<8 | owner
//	annotation/track id: element<<8 | owner     (u16), element 1..255
//
// Layer id 0 means "none / all layers / root / canvas" depending on the
// message.

// SelectionLayerBit marks a layer id that names a selection pseudo-layer.
const SelectionLayerBit = 0x800000

// LayerID builds a layer id from its owner (context id) and element number.
func LayerID(owner uint8, element uint16) uint32 {
	return uint32(element&0x7FFF)<<8 | uint32(owner)
}

// LayerOwner returns the owner (context id) of a layer, annotation or track
// id.
func LayerOwner(id uint32) uint8 { return uint8(id) }

// LayerElement returns the element number of a layer id.
func LayerElement(id uint32) uint16 { return uint16(id>>8) & 0x7FFF }

// IsSelectionLayer reports whether id names a selection pseudo-layer.
func IsSelectionLayer(id uint32) bool { return id&SelectionLayerBit != 0 }

// SelectionLayerID builds the pseudo-layer id of a selection.
func SelectionLayerID(owner, selection uint8) uint32 {
	return SelectionLayerBit | uint32(selection&0x7F)<<8 | uint32(owner)
}

// SelectionOfLayer returns the selection id of a selection pseudo-layer.
func SelectionOfLayer(id uint32) uint8 { return uint8(id>>8) & 0x7F }

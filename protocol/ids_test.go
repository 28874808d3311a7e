package protocol

import "testing"

func TestIDs(t *testing.T) {
	t.Parallel()
	id := LayerID(3, 1)
	if id != 0x000103 || LayerOwner(id) != 3 || LayerElement(id) != 1 || IsSelectionLayer(id) {
		t.Fatalf("LayerID(3, 1) = %#x", id)
	}
	if LayerElement(LayerID(254, 0x7FFF)) != 0x7FFF {
		t.Fatal("max element")
	}
	s := SelectionLayerID(3, 1)
	if s != 0x800103 || !IsSelectionLayer(s) || SelectionOfLayer(s) != 1 || LayerOwner(s) != 3 {
		t.Fatalf("SelectionLayerID(3, 1) = %#x", s)
	}
	// 4.24 conversion swaps the owner into the high byte.
	if layerTo424(id) != 0x0301 || layerFrom424(0x0301) != id {
		t.Fatal("4.24 layer id conversion")
	}
}

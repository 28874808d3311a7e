package canvas

import (
	"encoding/binary"

	"drawbridge/protocol"
	"drawbridge/protocol/imagecodec"
)

// Apply applies one decoded protocol message sent by user ctx: canvas
// commands (types ≥ 128) go through the undo history; UndoPoint, Undo,
// UndoDepth, SoftReset and LocalChange (layer visibility) are handled;
// every other message is ignored (nil error).
//
// A command that fails validation returns a *CommandError (or a decode
// error) and leaves the canvas unchanged; it still counts for undo
// grouping, as in Drawpile. Callers replaying a session should log such
// errors and continue.
func (c *Canvas) Apply(ctx uint8, m protocol.Message) error {
	switch m := m.(type) {
	case protocol.UndoPoint:
		c.UndoPoint(ctx)
		return nil
	case protocol.Undo:
		return c.Undo(ctx, m.OverrideUser, m.Redo)
	case protocol.UndoDepth:
		c.SetUndoDepth(int(m.Depth))
		return nil
	case protocol.SoftReset:
		c.SoftReset()
		return nil
	case protocol.LocalChange:
		if m.Type == 0 && len(m.Body) == 5 {
			c.SetLayerHidden(binary.BigEndian.Uint32(m.Body)&0xffffff, m.Body[4] != 0)
		}
		return nil
	}
	if !m.MessageType().IsCommand() {
		return nil
	}
	cmd, syncSel := command(ctx, m)
	if cmd == nil {
		return nil
	}
	if syncSel { // never undone (engine.md §5.1)
		e := histEntry{ctx: ctx, syncSel: true, cmd: cmd}
		if c.hist.appendUndone {
			c.hist.appendUndone = false
			e.st = undoUndone
			c.hist.entries = append(c.hist.entries, e)
			return nil
		}
		c.hist.entries = append(c.hist.entries, e)
		return c.run(cmd)
	}
	return c.Do(ctx, cmd)
}

func failed(err error) Command { return func(*Canvas) error { return err } }

// tileFromCodec converts a decoded tile payload; clamp applies to pixel data.
func tileFromCodec(t imagecodec.Tile, clamp bool) *Tile {
	if t.Solid {
		return SolidTile(t.Color)
	}
	return TileFrom8(t.Pix, clamp)
}

// command converts a canvas command into a replayable Command. Payloads are
// decoded once, here.
func command(ctx uint8, m protocol.Message) (cmd Command, syncSel bool) {
	switch m := m.(type) {
	case protocol.CanvasResize:
		return func(c *Canvas) error { return c.Resize(m.Top, m.Right, m.Bottom, m.Left) }, false
	case protocol.CanvasBackground:
		t, err := imagecodec.DecodeTileDeflate(m.Image)
		if err != nil {
			return failed(err), false
		}
		tile := tileFromCodec(t, true)
		return func(c *Canvas) error { c.SetBackground(tile); return nil }, false
	case protocol.CanvasBackgroundZstd:
		t, err := imagecodec.DecodeTileZstd(m.Image)
		if err != nil {
			return failed(err), false
		}
		tile := tileFromCodec(t, true)
		return func(c *Canvas) error { c.SetBackground(tile); return nil }, false
	case protocol.LayerTreeCreate:
		return func(c *Canvas) error {
			return c.LayerTreeCreate(m.ID, m.Source, m.Target, m.Fill, m.Flags&1 != 0, m.Flags&2 != 0, m.Title)
		}, false
	case protocol.LayerAttributes:
		return func(c *Canvas) error {
			return c.LayerAttributes(m.ID, m.Sublayer, m.Flags&protocol.LayerAttrCensor != 0,
				m.Flags&protocol.LayerAttrIsolated != 0, m.Flags&protocol.LayerAttrClip != 0, m.Opacity, BlendMode(m.Blend))
		}, false
	case protocol.LayerRetitle:
		return func(c *Canvas) error { return c.LayerRetitle(m.ID, m.Title) }, false
	case protocol.LayerTreeMove:
		return func(c *Canvas) error { return c.LayerTreeMove(m.Layer, m.Parent, m.Sibling) }, false
	case protocol.LayerTreeDelete:
		return func(c *Canvas) error { return c.LayerTreeDelete(m.ID, m.MergeTo) }, false
	case protocol.PutImage:
		if BlendMode(m.Mode) == ModeCompatLocalMatch || m.Mode == 252 {
			return nil, false
		}
		pix, err := imagecodec.DecodeImageDeflate(m.Image, int(m.W), int(m.H))
		if err != nil {
			return failed(err), false
		}
		clampPremultiplied(pix)
		return func(c *Canvas) error { return c.PutImage(m.Layer, BlendMode(m.Mode), m.X, m.Y, m.W, m.H, pix) }, false
	case protocol.PutImageZstd:
		pix, err := imagecodec.DecodeImageZstd(m.Image, int(m.W), int(m.H))
		if err != nil {
			return failed(err), false
		}
		return func(c *Canvas) error { return c.PutImage(m.Layer, BlendMode(m.Mode), m.X, m.Y, m.W, m.H, pix) }, false
	case protocol.FillRect:
		return func(c *Canvas) error { return c.FillRect(m.Layer, BlendMode(m.Mode), m.X, m.Y, m.W, m.H, m.Color) }, false
	case protocol.PutTile:
		t, err := imagecodec.DecodeTileDeflate(m.Image)
		if err != nil {
			return failed(err), false
		}
		tile := tileFromCodec(t, true)
		return func(c *Canvas) error { return c.PutTile(m.Layer, m.Sublayer, m.Col, m.Row, m.Repeat, tile) }, false
	case protocol.PutTileZstd:
		t, err := imagecodec.DecodeTileZstd(m.Image)
		if err != nil {
			return failed(err), false
		}
		tile := tileFromCodec(t, true)
		return func(c *Canvas) error { return c.PutTile(m.Layer, m.Sublayer, m.Col, m.Row, m.Repeat, tile) }, false
	case protocol.DrawDabsClassic:
		return func(c *Canvas) error {
			return c.DrawDabsClassic(ctx, m.Flags, m.Layer, m.X, m.Y, m.Color, BlendMode(m.Mode), m.Dabs)
		}, false
	case protocol.DrawDabsPixel:
		return func(c *Canvas) error {
			return c.DrawDabsPixel(ctx, false, m.Flags, m.Layer, m.X, m.Y, m.Color, BlendMode(m.Mode), m.Dabs)
		}, false
	case protocol.DrawDabsPixelSquare:
		return func(c *Canvas) error {
			return c.DrawDabsPixel(ctx, true, m.Flags, m.Layer, m.X, m.Y, m.Color, BlendMode(m.Mode), m.Dabs)
		}, false
	case protocol.DrawDabsMyPaint:
		return func(c *Canvas) error {
			return c.DrawDabsMyPaint(ctx, m.Flags, m.Layer, m.X, m.Y, m.Color, m.LockAlpha, m.Colorize, m.Posterize, m.Mode, m.Dabs)
		}, false
	case protocol.DrawDabsMyPaintBlend:
		dabs := make([]MyPaintDab, len(m.Dabs))
		for i, d := range m.Dabs {
			dabs[i] = MyPaintDab(d)
		}
		return func(c *Canvas) error {
			return c.DrawDabsMyPaintBlend(ctx, m.Flags, m.Layer, m.X, m.Y, m.Color, BlendMode(m.Mode), dabs)
		}, false
	case protocol.PenUp:
		return func(c *Canvas) error { return c.PenUp(ctx, m.Layer) }, false
	case protocol.AnnotationCreate:
		return func(c *Canvas) error { return c.AnnotationCreate(m.ID, m.X, m.Y, m.W, m.H) }, false
	case protocol.AnnotationReshape:
		return func(c *Canvas) error { return c.AnnotationReshape(m.ID, m.X, m.Y, m.W, m.H) }, false
	case protocol.AnnotationEdit:
		return func(c *Canvas) error { return c.AnnotationEdit(m.ID, m.Bg, m.Flags, m.Text) }, false
	case protocol.AnnotationDelete:
		return func(c *Canvas) error { return c.AnnotationDelete(m.ID) }, false
	case protocol.MoveRect:
		return moveRect(m.Layer, m.Source, m.Sx, m.Sy, m.Tx, m.Ty, m.W, m.H, m.Blend, m.Opacity, m.Mask, imagecodec.DecodeMaskDeflate), false
	case protocol.MoveRectZstd:
		return moveRect(m.Layer, m.Source, m.Sx, m.Sy, m.Tx, m.Ty, m.W, m.H, m.Blend, m.Opacity, m.Mask, imagecodec.DecodeMaskZstd), false
	case protocol.TransformRegion:
		return transformRegion(m.Layer, m.Source, m.Bx, m.By, m.Bw, m.Bh,
			[8]int32{m.X1, m.Y1, m.X2, m.Y2, m.X3, m.Y3, m.X4, m.Y4}, m.Mode, m.Blend, m.Opacity, m.Mask, imagecodec.DecodeMaskDeflate), false
	case protocol.TransformRegionZstd:
		return transformRegion(m.Layer, m.Source, m.Bx, m.By, m.Bw, m.Bh,
			[8]int32{m.X1, m.Y1, m.X2, m.Y2, m.X3, m.Y3, m.X4, m.Y4}, m.Mode, m.Blend, m.Opacity, m.Mask, imagecodec.DecodeMaskZstd), false
	case protocol.SyncSelectionTile:
		kind, mask, err := imagecodec.DecodeSelectionTile(m.Mask)
		if err != nil {
			return failed(err), true
		}
		var k SelectionTileKind
		switch kind {
		case imagecodec.SelectionTileBlank:
			k = SelectionBlank
		case imagecodec.SelectionTileOpaque:
			k = SelectionOpaque
		default:
			k = SelectionMask
		}
		return func(c *Canvas) error { return c.SyncSelectionTile(m.User, m.SelectionID, m.Col, m.Row, k, mask) }, true
	case protocol.TrackCreate:
		return func(c *Canvas) error { return c.TrackCreate(m.ID, m.InsertID, m.SourceID, m.Title) }, false
	case protocol.TrackRetitle:
		return func(c *Canvas) error { return c.TrackRetitle(m.ID, m.Title) }, false
	case protocol.TrackDelete:
		return func(c *Canvas) error { return c.TrackDelete(m.ID) }, false
	case protocol.TrackOrder:
		return func(c *Canvas) error { return c.TrackOrder(m.Tracks) }, false
	case protocol.KeyFrameSet:
		return func(c *Canvas) error {
			return c.KeyFrameSet(m.TrackID, m.FrameIndex, m.SourceID, m.SourceIndex, m.Source)
		}, false
	case protocol.KeyFrameRetitle:
		return func(c *Canvas) error { return c.KeyFrameRetitle(m.TrackID, m.FrameIndex, m.Title) }, false
	case protocol.KeyFrameLayerAttributes:
		return func(c *Canvas) error { return c.KeyFrameLayerAttributes(m.TrackID, m.FrameIndex, m.LayerFlags) }, false
	case protocol.KeyFrameDelete:
		return func(c *Canvas) error {
			return c.KeyFrameDelete(m.TrackID, m.FrameIndex, m.MoveTrackID, m.MoveFrameIndex)
		}, false
	case protocol.LocalMatch:
		return func(*Canvas) error { return nil }, false
	case protocol.SetMetadataInt:
		return func(c *Canvas) error { return c.SetMetadataInt(m.Field, m.Value) }, false
	}
	// Not implemented (SelectionPut/SelectionClear are local-only, LocalMatch
	// has no effect): recorded in history as a no-op so undo grouping stays
	// right.
	t := m.MessageType()
	return func(*Canvas) error { return cmdErr(t.String(), "not implemented") }, false
}

func moveRect(layer, source uint32, sx, sy, tx, ty, w, h int32, blend, opacity uint8, maskData []byte,
	decode func([]byte, int, int) ([]byte, error)) Command {
	var mask []byte
	if len(maskData) > 0 {
		if w <= 0 || h <= 0 {
			return failed(cmdErr("MoveRect", "selection is empty"))
		}
		var err error
		if mask, err = decode(maskData, int(w), int(h)); err != nil {
			return failed(err)
		}
	}
	return func(c *Canvas) error {
		return c.MoveRect(layer, source, sx, sy, tx, ty, w, h, BlendMode(blend), opacity, mask)
	}
}

func transformRegion(layer, source uint32, bx, by, bw, bh int32, q [8]int32, mode, blend, opacity uint8, maskData []byte,
	decode func([]byte, int, int) ([]byte, error)) Command {
	var mask []byte
	if len(maskData) > 0 {
		if bw <= 0 || bh <= 0 {
			return failed(cmdErr("TransformRegion", "selection is empty"))
		}
		var err error
		if mask, err = decode(maskData, int(bw), int(bh)); err != nil {
			return failed(err)
		}
	}
	return func(c *Canvas) error {
		return c.TransformRegion(layer, source, bx, by, bw, bh, q, mode, BlendMode(blend), opacity, mask)
	}
}

// clampPremultiplied clamps colour channels to alpha (DP_pixels8_clamp).
func clampPremultiplied(pix []byte) {
	for i := 0; i+3 < len(pix); i += 4 {
		a := pix[i+3]
		pix[i] = min(pix[i], a)
		pix[i+1] = min(pix[i+1], a)
		pix[i+2] = min(pix[i+2], a)
	}
}

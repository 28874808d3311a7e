package canvas

import (
	"drawbridge/protocol"
	"drawbridge/protocol/imagecodec"
)

// Snapshot returns the messages that recreate the current canvas state — a
// "reset image" as Drawpile builds it (engine.md §6.3, snapshots.c) — for
// resetting a session or seeding a joining client. All messages are meant
// to be sent with the context id of the user performing the reset. With
// compat set, the messages use the dp:4.24 forms (deflate PutTile and
// CanvasBackground, no 4.25-only metadata fields or selections).
//
// The snapshot holds the current state only (no undo history). Tiles are
// 8-bit, so a canvas rebuilt from it is the 15→8→15 quantized state, exactly
// as in Drawpile.
func (c *Canvas) Snapshot(compat bool) ([]protocol.Message, error) {
	s := c.st
	var out []protocol.Message
	out = append(out, protocol.UndoDepth{Depth: uint8(c.hist.limit)})
	if s.w <= 0 || s.h <= 0 {
		return out, nil
	}
	out = append(out, protocol.CanvasResize{Top: 0, Right: int32(s.w), Bottom: int32(s.h), Left: 0})
	meta := func(field uint8, v, def int32) {
		if v != def {
			out = append(out, protocol.SetMetadataInt{Field: field, Value: v})
		}
	}
	d := defaultMetadata()
	meta(protocol.MetadataDpix, s.meta.DpiX, d.DpiX)
	meta(protocol.MetadataDpiy, s.meta.DpiY, d.DpiY)
	meta(protocol.MetadataFramerate, s.meta.Framerate, d.Framerate)
	meta(protocol.MetadataFrameCount, s.meta.FrameCount, d.FrameCount)
	if !compat {
		meta(protocol.MetadataFramerateFraction, s.meta.FramerateFraction, d.FramerateFraction)
		meta(protocol.MetadataFrameRangeFirst, s.meta.FrameRangeFirst, d.FrameRangeFirst)
		meta(protocol.MetadataFrameRangeLast, s.meta.FrameRangeLast, d.FrameRangeLast)
		meta(protocol.MetadataFrameRangeLast, s.meta.FrameRangeLast, d.FrameRangeLast) // emitted twice, as Drawpile does
		meta(protocol.MetadataOffsetX, int32(s.offX), 0)
		meta(protocol.MetadataOffsetY, int32(s.offY), 0)
	}
	if s.bg != nil {
		img, err := encodeTile(s.bg, compat)
		if err != nil {
			return nil, err
		}
		if compat {
			out = append(out, protocol.CanvasBackground{Image: img})
		} else {
			out = append(out, protocol.CanvasBackgroundZstd{Image: img})
		}
	}
	var err error
	out, err = c.snapshotLayers(out, s.root, 0, compat)
	if err != nil {
		return nil, err
	}
	if !compat {
		xt := s.xtiles()
		for key, sel := range s.selections {
			for i, t := range sel {
				if t == nil {
					continue
				}
				var mask []byte
				if t == opaqueSelTile {
					mask = []byte{0}
				} else {
					a := make([]byte, TilePixels)
					for j, p := range t.Px {
						a[j] = Conv15To8(p.A)
					}
					if mask, err = imagecodec.EncodeSelectionTile(a); err != nil {
						return nil, err
					}
				}
				out = append(out, protocol.SyncSelectionTile{User: uint8(key >> 8), SelectionID: uint8(key),
					Col: uint16(i % xt), Row: uint16(i / xt), Mask: mask})
			}
		}
	}
	for _, a := range s.annotations {
		out = append(out, protocol.AnnotationCreate{ID: a.ID, X: a.X, Y: a.Y, W: a.W, H: a.H})
		flags := a.Flags & 0x1
		if a.Flags&0x6 != 0 { // bottom alignment is written as center (quirk)
			flags |= 0x2
		}
		out = append(out, protocol.AnnotationEdit{ID: a.ID, Bg: a.Background, Flags: flags, Text: a.Text})
	}
	tracks := s.timeline.Tracks
	for i := len(tracks) - 1; i >= 0; i-- {
		t := tracks[i]
		out = append(out, protocol.TrackCreate{ID: t.ID, Title: t.Title})
		for _, kf := range t.KeyFrames {
			out = append(out, protocol.KeyFrameSet{TrackID: t.ID, FrameIndex: kf.Frame, SourceID: kf.LayerID, Source: protocol.KeyFrameSourceLayer})
			if kf.Title != "" {
				out = append(out, protocol.KeyFrameRetitle{TrackID: t.ID, FrameIndex: kf.Frame, Title: kf.Title})
			}
			if len(kf.Layers) > 0 {
				out = append(out, protocol.KeyFrameLayerAttributes{TrackID: t.ID, FrameIndex: kf.Frame, LayerFlags: kf.Layers})
			}
		}
	}
	return out, nil
}

func (c *Canvas) snapshotLayers(out []protocol.Message, list []*Layer, parent uint32, compat bool) ([]protocol.Message, error) {
	var err error
	for _, l := range list {
		var fill uint32
		var fillPixel Pixel15
		if !l.Group {
			if p, ok := layerFill(l.tiles); ok {
				fillPixel = p
				b, g, r := unpremPixel(p)
				fill = uint32(Conv15To8(p.A))<<24 | uint32(Conv15To8(uint16(r)))<<16 | uint32(Conv15To8(uint16(g)))<<8 | uint32(Conv15To8(uint16(b)))
			}
		}
		var flags uint8
		if parent != 0 {
			flags |= protocol.LayerTreeCreateInto
		}
		if l.Group {
			flags |= protocol.LayerTreeCreateGroup
		}
		out = append(out, protocol.LayerTreeCreate{ID: l.ID, Target: parent, Fill: fill, Flags: flags, Title: l.Title})
		out = append(out, layerAttrs(l.ID, 0, l.Censored, l.Group && l.Isolated, l.Clip, l.Opacity, l.Blend))
		if l.Group {
			if out, err = c.snapshotLayers(out, l.Children, l.ID, compat); err != nil {
				return nil, err
			}
			continue
		}
		if fill == 0 {
			fillPixel = Pixel15{}
		}
		if out, err = c.snapshotTiles(out, l.tiles, l.ID, 0, fillPixel, compat); err != nil {
			return nil, err
		}
		for _, sub := range l.subs {
			if sub.id <= 0 || sub.id > 255 {
				continue
			}
			out = append(out, layerAttrs(l.ID, uint8(sub.id), false, false, false, sub.opacity, sub.blend))
			if out, err = c.snapshotTiles(out, sub.tiles, l.ID, uint8(sub.id), Pixel15{}, compat); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func layerAttrs(id uint32, sub uint8, censored, isolated, clip bool, opacity uint16, blend BlendMode) protocol.LayerAttributes {
	var f uint8
	if censored {
		f |= protocol.LayerAttrCensor
	}
	if isolated {
		f |= protocol.LayerAttrIsolated
	}
	if clip {
		f |= protocol.LayerAttrClip
	}
	return protocol.LayerAttributes{ID: id, Sublayer: sub, Flags: f, Opacity: Conv15To8(opacity), Blend: uint8(blend)}
}

// solidPixel reports whether every pixel of t is the same.
func solidPixel(t *Tile) (Pixel15, bool) {
	if t == nil {
		return Pixel15{}, true
	}
	p := t.Px[0]
	for _, q := range t.Px[1:] {
		if q != p {
			return Pixel15{}, false
		}
	}
	return p, true
}

// layerFill is layer_fill: a non-transparent solid colour used by more than
// half of the tiles (at most 8 candidates are tracked).
func layerFill(tiles []*Tile) (Pixel15, bool) {
	threshold := (len(tiles) + 1) / 2
	var pixels [8]Pixel15
	var counts [8]int
	used, blanks := 0, 0
	for _, t := range tiles {
		p, ok := solidPixel(t)
		if ok && t != nil && p.A != 0 {
			j := 0
			for j < used && pixels[j] != p {
				j++
			}
			switch {
			case j < used:
				counts[j]++
				if counts[j] > threshold {
					return p, true
				}
			case used < len(pixels):
				pixels[used], counts[used] = p, 1
				used++
			default:
				return Pixel15{}, false
			}
		} else {
			blanks++
			if blanks > threshold {
				return Pixel15{}, false
			}
		}
	}
	return Pixel15{}, false
}

func tilesEqual(a, b *Tile) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil {
		return false
	}
	return a.Px == b.Px
}

func (c *Canvas) snapshotTiles(out []protocol.Message, tiles []*Tile, layer uint32, sub uint8, fill Pixel15, compat bool) ([]protocol.Message, error) {
	xt := c.st.xtiles()
	blank := func(t *Tile) bool {
		if fill.A == 0 {
			return t == nil
		}
		p, ok := solidPixel(t)
		return t != nil && ok && p == fill
	}
	flush := func(start, run int) error {
		img, err := encodeTile(tiles[start], compat)
		if err != nil {
			return err
		}
		for ; run > 0; run -= 65536 {
			rep := uint16(min(run-1, 65535))
			col, row := uint16(start%xt), uint16(start/xt)
			if compat {
				out = append(out, protocol.PutTile{Layer: layer, Sublayer: sub, Col: col, Row: row, Repeat: rep, Image: img})
			} else {
				out = append(out, protocol.PutTileZstd{Layer: layer, Sublayer: sub, Col: col, Row: row, Repeat: rep, Image: img})
			}
			start += 65536
		}
		return nil
	}
	run, start := 0, 0
	for i, t := range tiles {
		if !blank(t) {
			if run != 0 {
				if tilesEqual(tiles[start], t) {
					run++
					continue
				}
				if err := flush(start, run); err != nil {
					return nil, err
				}
			}
			run, start = 1, i
		} else if run != 0 {
			if err := flush(start, run); err != nil {
				return nil, err
			}
			run = 0
		}
	}
	if run != 0 {
		if err := flush(start, run); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// encodeTile encodes a tile for PutTile / CanvasBackground: a solid tile as
// its unpremultiplied 8-bit colour, otherwise the premultiplied pixels
// converted 15→8.
func encodeTile(t *Tile, compat bool) ([]byte, error) {
	var ct imagecodec.Tile
	if p, ok := solidPixel(t); ok {
		b, g, r := unpremPixel(p)
		ct = imagecodec.Tile{Solid: true, Color: uint32(Conv15To8(p.A))<<24 | uint32(Conv15To8(uint16(r)))<<16 |
			uint32(Conv15To8(uint16(g)))<<8 | uint32(Conv15To8(uint16(b)))}
	} else {
		pix := make([]byte, TilePixels*4)
		for i, p := range t.Px {
			pix[i*4], pix[i*4+1], pix[i*4+2], pix[i*4+3] = Conv15To8(p.B), Conv15To8(p.G), Conv15To8(p.R), Conv15To8(p.A)
		}
		ct = imagecodec.Tile{Pix: pix}
	}
	if compat {
		return imagecodec.EncodeTileDeflate(ct)
	}
	return imagecodec.EncodeTileZstd(ct)
}

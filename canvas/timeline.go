package canvas

import "slices"

// Timeline commands (engine.md §3.4). They only matter for frame views and
// animation export; normal flattening ignores them. Kept as data.

func (c *Canvas) trackIndex(id uint16) int {
	for i, t := range c.st.timeline.Tracks {
		if t.ID == id {
			return i
		}
	}
	return -1
}

// TrackCreate inserts a track after insertID (0 = at index 0), copying
// sourceID's key frames if non-zero.
func (c *Canvas) TrackCreate(id, insertID, sourceID uint16, title string) error {
	const op = "TrackCreate"
	tl := &c.st.timeline
	if id == 0 || c.trackIndex(id) >= 0 {
		return cmdErr(op, "bad track id %#x", id)
	}
	at := 0
	if insertID != 0 {
		i := c.trackIndex(insertID)
		if i < 0 {
			return cmdErr(op, "insert track %#x not found", insertID)
		}
		at = i + 1
	}
	t := Track{ID: id, Title: title}
	if sourceID != 0 {
		i := c.trackIndex(sourceID)
		if i < 0 {
			return cmdErr(op, "source track %#x not found", sourceID)
		}
		t.KeyFrames = append([]KeyFrame(nil), tl.Tracks[i].KeyFrames...)
	}
	tl.Tracks = slices.Insert(tl.Tracks, at, t)
	return nil
}

// TrackRetitle renames a track.
func (c *Canvas) TrackRetitle(id uint16, title string) error {
	i := c.trackIndex(id)
	if i < 0 {
		return cmdErr("TrackRetitle", "track %#x not found", id)
	}
	c.st.timeline.Tracks[i].Title = title
	return nil
}

// TrackDelete removes a track.
func (c *Canvas) TrackDelete(id uint16) error {
	i := c.trackIndex(id)
	if i < 0 {
		return cmdErr("TrackDelete", "track %#x not found", id)
	}
	c.st.timeline.Tracks = slices.Delete(c.st.timeline.Tracks, i, i+1)
	return nil
}

// TrackOrder reorders tracks; unknown and duplicate ids are ignored, tracks
// not mentioned keep their relative order at the end.
func (c *Canvas) TrackOrder(ids []uint16) error {
	old := c.st.timeline.Tracks
	used := make([]bool, len(old))
	out := make([]Track, 0, len(old))
	for _, id := range ids {
		if i := c.trackIndex(id); i >= 0 && !used[i] {
			used[i] = true
			out = append(out, old[i])
		}
	}
	for i, t := range old {
		if !used[i] {
			out = append(out, t)
		}
	}
	c.st.timeline.Tracks = out
	return nil
}

func (t *Track) frameIndex(f uint16) int {
	for i, kf := range t.KeyFrames {
		if kf.Frame == f {
			return i
		}
	}
	return -1
}

// KeyFrameSet sets a key frame from a layer (source 0; layer 0 = empty key
// frame) or copies another key frame (source 1: sourceID is a track).
func (c *Canvas) KeyFrameSet(trackID, frame uint16, sourceID uint32, sourceIndex uint16, source uint8) error {
	const op = "KeyFrameSet"
	ti := c.trackIndex(trackID)
	if ti < 0 {
		return cmdErr(op, "track %#x not found", trackID)
	}
	if int32(frame) >= c.st.meta.FrameCount {
		return cmdErr(op, "frame %d beyond frame count", frame)
	}
	kf := KeyFrame{Frame: frame}
	switch source {
	case 0:
		kf.LayerID = sourceID
	case 1:
		si := c.trackIndex(uint16(sourceID))
		if si < 0 {
			return cmdErr(op, "source track %#x not found", sourceID)
		}
		fi := c.st.timeline.Tracks[si].frameIndex(sourceIndex)
		if fi < 0 {
			return cmdErr(op, "source key frame not found")
		}
		kf = c.st.timeline.Tracks[si].KeyFrames[fi]
		kf.Layers = append([]uint32(nil), kf.Layers...)
		kf.Frame = frame
	default:
		return cmdErr(op, "unknown source %d", source)
	}
	t := &c.st.timeline.Tracks[ti]
	if i := t.frameIndex(frame); i >= 0 {
		t.KeyFrames[i] = kf
		return nil
	}
	i, _ := slices.BinarySearchFunc(t.KeyFrames, frame, func(k KeyFrame, f uint16) int { return int(k.Frame) - int(f) })
	t.KeyFrames = slices.Insert(t.KeyFrames, i, kf)
	return nil
}

func (c *Canvas) keyFrame(op string, trackID, frame uint16) (*KeyFrame, error) {
	ti := c.trackIndex(trackID)
	if ti < 0 {
		return nil, cmdErr(op, "track %#x not found", trackID)
	}
	t := &c.st.timeline.Tracks[ti]
	fi := t.frameIndex(frame)
	if fi < 0 {
		return nil, cmdErr(op, "key frame %d not found", frame)
	}
	return &t.KeyFrames[fi], nil
}

// KeyFrameRetitle sets a key frame's title.
func (c *Canvas) KeyFrameRetitle(trackID, frame uint16, title string) error {
	kf, err := c.keyFrame("KeyFrameRetitle", trackID, frame)
	if err != nil {
		return err
	}
	kf.Title = title
	return nil
}

// KeyFrameLayerAttributes sets a key frame's per-layer hidden/revealed flags.
func (c *Canvas) KeyFrameLayerAttributes(trackID, frame uint16, layers []uint32) error {
	kf, err := c.keyFrame("KeyFrameLayerAttributes", trackID, frame)
	if err != nil {
		return err
	}
	kf.Layers = append([]uint32(nil), layers...)
	return nil
}

// KeyFrameDelete deletes a key frame, or moves it to (moveTrack, moveFrame)
// when moveTrack is non-zero.
func (c *Canvas) KeyFrameDelete(trackID, frame, moveTrack, moveFrame uint16) error {
	const op = "KeyFrameDelete"
	kf, err := c.keyFrame(op, trackID, frame)
	if err != nil {
		return err
	}
	moved := *kf
	t := &c.st.timeline.Tracks[c.trackIndex(trackID)]
	i := t.frameIndex(frame)
	t.KeyFrames = slices.Delete(t.KeyFrames, i, i+1)
	if moveTrack == 0 {
		return nil
	}
	mi := c.trackIndex(moveTrack)
	if mi < 0 || int32(moveFrame) >= c.st.meta.FrameCount {
		return cmdErr(op, "bad move target")
	}
	mt := &c.st.timeline.Tracks[mi]
	moved.Frame = moveFrame
	if j := mt.frameIndex(moveFrame); j >= 0 {
		mt.KeyFrames[j] = moved
		return nil
	}
	j, _ := slices.BinarySearchFunc(mt.KeyFrames, moveFrame, func(k KeyFrame, f uint16) int { return int(k.Frame) - int(f) })
	mt.KeyFrames = slices.Insert(mt.KeyFrames, j, moved)
	return nil
}

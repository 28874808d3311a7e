package canvas

// Annotation is a text box on the canvas (engine.md §3.3). The engine never
// rasterizes annotations; they are kept as data for clients.
type Annotation struct {
	ID         uint16
	X, Y       int32
	W, H       uint16
	Background uint32 // 0xAARRGGBB
	Flags      uint8  // 0x1 protect, 0x2 valign center, 0x4 valign bottom, 0x8 alias, 0x10 rasterize
	Text       string
}

// Metadata is the document metadata set by SetMetadataInt (engine.md §3.4).
type Metadata struct {
	DpiX, DpiY        int32
	Framerate         int32
	FramerateFraction int32
	FrameCount        int32
	FrameRangeFirst   int32
	FrameRangeLast    int32
	OffsetX, OffsetY  int32
}

func defaultMetadata() Metadata {
	return Metadata{DpiX: 72, DpiY: 72, Framerate: 24, FrameCount: 24, FrameRangeFirst: -1, FrameRangeLast: -1}
}

// Track is an animation timeline track.
type Track struct {
	ID        uint16
	Title     string
	KeyFrames []KeyFrame
}

// KeyFrame shows a layer (or nothing, LayerID 0) from its frame index on.
type KeyFrame struct {
	Frame   uint16
	LayerID uint32
	Title   string
	Layers  []uint32 // layer id in the low 24 bits, flags (0x1 hidden, 0x2 revealed) in the top 8
}

// Timeline holds the animation tracks (top track first).
type Timeline struct {
	Tracks []Track
}

func (t Timeline) clone() Timeline {
	if t.Tracks == nil {
		return t
	}
	n := Timeline{Tracks: make([]Track, len(t.Tracks))}
	for i, tr := range t.Tracks {
		n.Tracks[i] = tr
		n.Tracks[i].KeyFrames = append([]KeyFrame(nil), tr.KeyFrames...)
	}
	return n
}

// Annotations returns the canvas annotations (read-only).
func (c *Canvas) Annotations() []Annotation { return c.st.annotations }

// Metadata returns the document metadata.
func (c *Canvas) Metadata() Metadata {
	m := c.st.meta
	m.OffsetX, m.OffsetY = int32(c.st.offX), int32(c.st.offY)
	return m
}

// Timeline returns the animation timeline (read-only).
func (c *Canvas) Timeline() Timeline { return c.st.timeline }

func (c *Canvas) findAnnotation(id uint16) int {
	for i, a := range c.st.annotations {
		if a.ID == id {
			return i
		}
	}
	return -1
}

// AnnotationCreate adds an empty annotation.
func (c *Canvas) AnnotationCreate(id uint16, x, y int32, w, h uint16) error {
	if c.findAnnotation(id) >= 0 {
		return cmdErr("AnnotationCreate", "id %#x exists", id)
	}
	c.st.annotations = append(c.st.annotations, Annotation{ID: id, X: x, Y: y, W: w, H: h})
	return nil
}

// AnnotationReshape moves and resizes an annotation.
func (c *Canvas) AnnotationReshape(id uint16, x, y int32, w, h uint16) error {
	i := c.findAnnotation(id)
	if i < 0 {
		return cmdErr("AnnotationReshape", "id %#x not found", id)
	}
	a := &c.st.annotations[i]
	a.X, a.Y, a.W, a.H = x, y, w, h
	return nil
}

// AnnotationEdit sets an annotation's background, flags and text.
func (c *Canvas) AnnotationEdit(id uint16, bg uint32, flags uint8, text string) error {
	i := c.findAnnotation(id)
	if i < 0 {
		return cmdErr("AnnotationEdit", "id %#x not found", id)
	}
	a := &c.st.annotations[i]
	a.Background, a.Flags, a.Text = bg, flags, text
	return nil
}

// AnnotationDelete removes an annotation.
func (c *Canvas) AnnotationDelete(id uint16) error {
	i := c.findAnnotation(id)
	if i < 0 {
		return cmdErr("AnnotationDelete", "id %#x not found", id)
	}
	c.st.annotations = append(c.st.annotations[:i:i], c.st.annotations[i+1:]...)
	return nil
}

// SetMetadataInt sets one metadata field (engine.md §3.4).
func (c *Canvas) SetMetadataInt(field uint8, v int32) error {
	m := &c.st.meta
	switch field {
	case 0:
		m.DpiX = v
	case 1:
		m.DpiY = v
	case 2:
		m.Framerate = v
	case 3:
		m.FrameCount = v
		for i := range c.st.timeline.Tracks {
			tr := &c.st.timeline.Tracks[i]
			kept := tr.KeyFrames[:0:0]
			for _, kf := range tr.KeyFrames {
				if int32(kf.Frame) < v {
					kept = append(kept, kf)
				}
			}
			tr.KeyFrames = kept
		}
	case 4:
		m.FramerateFraction = v
	case 5:
		m.FrameRangeFirst = v
	case 6:
		m.FrameRangeLast = v
	case 7:
		m.OffsetX = v
		c.st.offX = int(v)
	case 8:
		m.OffsetY = v
		c.st.offY = int(v)
	default:
		return cmdErr("SetMetadataInt", "unknown field %d", field)
	}
	return nil
}

// SetLayerHidden sets the local (not shared, not undoable) visibility of a
// layer, as LocalChange type 0 does.
func (c *Canvas) SetLayerHidden(id uint32, hidden bool) {
	if hidden {
		c.hidden[id] = true
	} else {
		delete(c.hidden, id)
	}
	c.markAllDirty()
}

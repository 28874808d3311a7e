package canvas

import "testing"

// newTestCanvas returns a 128×128 canvas with an opaque white background
// and one layer (id 0x101).
func newTestCanvas(t *testing.T) *Canvas {
	t.Helper()
	c := New()
	must(t, c.Do(1, func(c *Canvas) error { return c.Resize(0, 128, 128, 0) }))
	must(t, c.Do(1, func(c *Canvas) error { c.SetBackground(SolidTile(0xffffffff)); return nil }))
	must(t, c.Do(1, func(c *Canvas) error { return c.LayerTreeCreate(0x101, 0, 0, 0, false, false, "L") }))
	return c
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func fill(ctx uint8, x uint32, color uint32) Command {
	return func(c *Canvas) error { return c.FillRect(0x101, ModeNormal, x, 0, 10, 10, color) }
}

func pixelAt(c *Canvas, x, y int) Pixel15 {
	var buf [TilePixels]Pixel15
	xt := c.st.xtiles()
	c.FlattenTile(&buf, (y/TileSize)*xt+x/TileSize)
	return buf[(y%TileSize)*TileSize+x%TileSize]
}

var white = Pixel15{One, One, One, One}

func TestUndoRedo(t *testing.T) {
	t.Parallel()
	c := newTestCanvas(t)
	red := pixelFromARGB(0xffff0000)
	c.UndoPoint(1)
	must(t, c.Do(1, fill(1, 0, 0xffff0000)))
	c.UndoPoint(2)
	must(t, c.Do(2, fill(2, 20, 0xffff0000)))
	if pixelAt(c, 5, 5) != red || pixelAt(c, 25, 5) != red {
		t.Fatal("fills not drawn")
	}
	must(t, c.Undo(1, 0, false)) // user 1 undoes its own fill only
	if pixelAt(c, 5, 5) != white || pixelAt(c, 25, 5) != red {
		t.Fatalf("after undo: %v %v", pixelAt(c, 5, 5), pixelAt(c, 25, 5))
	}
	if err := c.Undo(1, 0, false); err == nil {
		t.Fatal("second undo by user 1 should fail (nothing left)")
	}
	must(t, c.Undo(1, 0, true))
	if pixelAt(c, 5, 5) != red {
		t.Fatal("redo did not restore")
	}
	// operator undo for user 2
	must(t, c.Undo(3, 2, false))
	if pixelAt(c, 25, 5) != white {
		t.Fatal("override undo failed")
	}
}

func TestUndoNewActionKillsRedo(t *testing.T) {
	t.Parallel()
	c := newTestCanvas(t)
	c.UndoPoint(1)
	must(t, c.Do(1, fill(1, 0, 0xffff0000)))
	must(t, c.Undo(1, 0, false))
	c.UndoPoint(1)
	must(t, c.Do(1, fill(1, 20, 0xff00ff00)))
	if err := c.Undo(1, 0, true); err == nil {
		t.Fatal("redo after a new action should fail")
	}
	if pixelAt(c, 5, 5) != white {
		t.Fatal("undone fill came back")
	}
}

func TestUndoDepthLimit(t *testing.T) {
	t.Parallel()
	c := newTestCanvas(t)
	c.SetUndoDepth(3)
	for i := range 5 {
		c.UndoPoint(1)
		must(t, c.Do(1, fill(1, uint32(i*20), 0xffff0000)))
	}
	n := 0
	for c.Undo(1, 0, false) == nil {
		n++
	}
	if n != 3 { // as in render case 118: depth 3 reaches the last 3 undo points
		t.Fatalf("undid %d steps with depth 3", n)
	}
	if pixelAt(c, 5, 5) == white {
		t.Fatal("the oldest fill must be out of undo reach")
	}
}

func TestDirtyTiles(t *testing.T) {
	t.Parallel()
	c := newTestCanvas(t)
	if _, all := c.TakeDirtyTiles(); !all {
		t.Fatal("first call must report everything")
	}
	must(t, c.Do(1, func(c *Canvas) error { return c.FillRect(0x101, ModeNormal, 70, 70, 5, 5, 0xff000000) }))
	tiles, all := c.TakeDirtyTiles()
	if all || len(tiles) != 1 || tiles[0] != 3 {
		t.Fatalf("got %v %v, want [3]", tiles, all)
	}
	if tiles, all := c.TakeDirtyTiles(); all || len(tiles) != 0 {
		t.Fatalf("second call: %v %v", tiles, all)
	}
}

// Worked example of engine.md §4.3: classic dab size 1536, hardness 128,
// at (41, 42) quarter pixels; alpha of row y = 10, x = 6..14.
func TestClassicDabExample(t *testing.T) {
	t.Parallel()
	c := New()
	must(t, c.Resize(0, 64, 64, 0))
	must(t, c.LayerTreeCreate(0x101, 0, 0, 0, false, false, "L"))
	must(t, c.DrawDabsClassic(1, 0, 0x101, 41, 42, 0xff000000, ModeNormal, []ClassicDab{{Size: 1536, Hardness: 128, Opacity: 255}}))
	want := []uint16{553, 5539, 18320, 27981, 30467, 23932, 12189, 1660, 0}
	l := c.st.root[0]
	for i, w := range want {
		if got := l.tiles[0].Px[10*TileSize+6+i].A; got != w {
			t.Errorf("x=%d: alpha %d, want %d", 6+i, got, w)
		}
	}
}

func TestTimelineData(t *testing.T) {
	t.Parallel()
	c := newTestCanvas(t)
	must(t, c.TrackCreate(0x101, 0, 0, "A"))
	must(t, c.TrackCreate(0x201, 0x101, 0, "B"))
	must(t, c.KeyFrameSet(0x101, 3, 0x101, 0, 0))
	must(t, c.KeyFrameSet(0x101, 1, 0, 0, 0))
	must(t, c.KeyFrameSet(0x201, 0, 0x101, 3, 1)) // copy of A's frame 3
	if err := c.KeyFrameSet(0x101, 24, 0x101, 0, 0); err == nil {
		t.Error("key frame beyond the frame count must fail")
	}
	must(t, c.TrackOrder([]uint16{0x201, 0x999, 0x201}))
	tl := c.Timeline()
	if len(tl.Tracks) != 2 || tl.Tracks[0].ID != 0x201 || tl.Tracks[1].ID != 0x101 {
		t.Fatalf("track order %+v", tl.Tracks)
	}
	if kf := tl.Tracks[1].KeyFrames; len(kf) != 2 || kf[0].Frame != 1 || kf[1].Frame != 3 || kf[1].LayerID != 0x101 {
		t.Fatalf("key frames %+v", kf)
	}
	if kf := tl.Tracks[0].KeyFrames; len(kf) != 1 || kf[0].LayerID != 0x101 {
		t.Fatalf("copied key frame %+v", kf)
	}
	must(t, c.KeyFrameDelete(0x101, 3, 0x201, 5))
	if kf := c.Timeline().Tracks[0].KeyFrames; len(kf) != 2 || kf[1].Frame != 5 {
		t.Fatalf("moved key frame %+v", kf)
	}
}

// Copying a group renumbers its children top-down, depth first, after the
// new group's element id, skipping element ids of that context in use.
func TestLayerTreeCreateCopyGroup(t *testing.T) {
	t.Parallel()
	c := newTestCanvas(t) // has layer 0x101
	must(t, c.LayerTreeCreate(0x201, 0, 0, 0, true, false, "G"))
	must(t, c.LayerTreeCreate(0x301, 0, 0x201, 0, false, true, "bottom"))
	must(t, c.LayerTreeCreate(0x401, 0, 0x201, 0, true, true, "sub"))
	must(t, c.LayerTreeCreate(0x501, 0, 0x401, 0, false, true, "in sub"))
	must(t, c.LayerTreeCreate(0x601, 0x201, 0, 0, false, false, "copy"))
	cp, _, _ := findLayer(c.st.root, 0x601)
	if cp == nil || !cp.Group || len(cp.Children) != 2 {
		t.Fatalf("copy: %+v", cp)
	}
	// top child ("sub") first: 0x701, its child 0x801, then "bottom" 0x901
	if got := []uint32{cp.Children[1].ID, cp.Children[1].Children[0].ID, cp.Children[0].ID}; got[0] != 0x701 || got[1] != 0x801 || got[2] != 0x901 {
		t.Fatalf("ids %x", got)
	}
}

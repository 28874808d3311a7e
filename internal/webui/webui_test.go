package webui

import (
	"errors"
	"image"
	"math"
	"testing"
)

func near(a, b, eps float64) bool { return math.Abs(a-b) <= eps }

func nearVec(a, b Vec) bool { return near(a.X, b.X, 1e-9) && near(a.Y, b.Y, 1e-9) }

func TestViewRoundTrip(t *testing.T) {
	t.Parallel()
	views := map[string]View{
		"identity": NewView(),
		"zoomed":   {Zoom: 2.5, Pan: Vec{10, -20}},
		"rotated":  {Zoom: 0.5, Rotation: 1.1, Pan: Vec{300, 200}},
		"mirrored": {Zoom: 3, Rotation: -2.5, Mirror: true, Pan: Vec{-7, 9}},
	}
	for name, v := range views {
		t.Run(name, func(t *testing.T) {
			for _, p := range []Vec{{0, 0}, {1, 0}, {123.5, -77}, {4000, 3000}} {
				if got := v.ToCanvas(v.ToScreen(p)); !nearVec(got, p) {
					t.Errorf("ToCanvas(ToScreen(%v)) = %v", p, got)
				}
			}
		})
	}
	// Hand-derived: zoom 2, rotation 90°, pan (100,0): canvas x axis goes
	// down the screen, y axis goes left. (1,0) → (100, 2); (0,1) → (98, 0).
	v := View{Zoom: 2, Rotation: math.Pi / 2, Pan: Vec{100, 0}}
	if got := v.ToScreen(Vec{1, 0}); !near(got.X, 100, 1e-9) || !near(got.Y, 2, 1e-9) {
		t.Errorf("rotated (1,0) = %v, want (100,2)", got)
	}
	if got := v.ToScreen(Vec{0, 1}); !near(got.X, 98, 1e-9) || !near(got.Y, 0, 1e-9) {
		t.Errorf("rotated (0,1) = %v, want (98,0)", got)
	}
	// Mirror negates canvas x.
	m := View{Zoom: 1, Mirror: true, Pan: Vec{50, 0}}
	if got := m.ToScreen(Vec{10, 5}); !nearVec(got, Vec{40, 5}) {
		t.Errorf("mirrored (10,5) = %v, want (40,5)", got)
	}
}

func TestViewAnchoredOps(t *testing.T) {
	t.Parallel()
	v := View{Zoom: 1.3, Rotation: 0.4, Pan: Vec{20, 30}}
	s := Vec{400, 250}
	c := v.ToCanvas(s)
	v.ZoomAt(s, 3)
	if !nearVec(v.ToScreen(c), s) || !near(v.Zoom, 3.9, 1e-9) {
		t.Errorf("ZoomAt moved the anchor or zoom wrong: %v, zoom %v", v.ToScreen(c), v.Zoom)
	}
	v.RotateAt(s, 1)
	if !nearVec(v.ToScreen(c), s) {
		t.Error("RotateAt moved the anchor")
	}
	v.SetMirror(s, true)
	if !nearVec(v.ToScreen(c), s) || !v.Mirror {
		t.Error("SetMirror moved the anchor")
	}
	v.ZoomAt(s, 1e9)
	if v.Zoom != MaxZoom {
		t.Errorf("zoom not clamped: %v", v.Zoom)
	}
	v.ZoomAt(s, math.NaN())
	v.ZoomAt(s, -1)
	if v.Zoom != MaxZoom {
		t.Errorf("bad factor changed zoom: %v", v.Zoom)
	}
}

func TestViewFit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		cw, ch, sw, sh   float64
		rot              float64
		wantZoom         float64
		wantCentreScreen Vec
	}{
		{"large canvas", 4000, 3000, 800, 600, 0, 0.2, Vec{400, 300}},
		{"small canvas stays 100%", 100, 100, 800, 600, 0, 1, Vec{400, 300}},
		// Rotated 90°: the 4000×3000 canvas's bounding box is 3000×4000,
		// so the height limits: 600/4000.
		{"rotated", 4000, 3000, 800, 600, math.Pi / 2, 0.15, Vec{400, 300}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := View{Zoom: 1, Rotation: tc.rot}
			v.Fit(tc.cw, tc.ch, tc.sw, tc.sh, 0)
			if !near(v.Zoom, tc.wantZoom, 1e-9) {
				t.Errorf("zoom = %v, want %v", v.Zoom, tc.wantZoom)
			}
			if got := v.ToScreen(Vec{tc.cw / 2, tc.ch / 2}); !near(got.X, tc.wantCentreScreen.X, 1e-6) || !near(got.Y, tc.wantCentreScreen.Y, 1e-6) {
				t.Errorf("centre at %v, want %v", got, tc.wantCentreScreen)
			}
		})
	}
}

func TestPinch(t *testing.T) {
	t.Parallel()
	v := NewView()
	a0, b0 := Vec{100, 100}, Vec{200, 100}
	ca, cb := v.ToCanvas(a0), v.ToCanvas(b0)
	// Spread to twice the distance and rotate 90° about the midpoint, then
	// move: the canvas points under the fingers follow them.
	a1, b1 := Vec{300, 200}, Vec{300, 400}
	v.Pinch(a0, b0, a1, b1, true)
	if !near(v.Zoom, 2, 1e-9) || !near(v.Rotation, math.Pi/2, 1e-9) {
		t.Fatalf("zoom %v rotation %v, want 2 and π/2", v.Zoom, v.Rotation)
	}
	if !nearVec(v.ToScreen(ca), a1) || !nearVec(v.ToScreen(cb), b1) {
		t.Errorf("fingers lost their canvas points: %v %v", v.ToScreen(ca), v.ToScreen(cb))
	}
	// Degenerate: both fingers on one point only pans.
	w := NewView()
	w.Pinch(Vec{5, 5}, Vec{5, 5}, Vec{15, 25}, Vec{15, 25}, true)
	if w.Zoom != 1 || w.Rotation != 0 || !nearVec(w.Pan, Vec{10, 20}) {
		t.Errorf("degenerate pinch = %+v", w)
	}
}

func TestCurve(t *testing.T) {
	t.Parallel()
	if Linear.Eval(0.3) != 0.3 || Linear.Eval(-1) != 0 || Linear.Eval(2) != 1 || Linear.Eval(math.NaN()) != 0 {
		t.Error("identity curve wrong")
	}
	soft, err := NewCurve(Vec{0, 0}, Vec{0.5, 0.2}, Vec{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	if soft.Eval(0) != 0 || soft.Eval(1) != 1 || !near(soft.Eval(0.5), 0.2, 1e-12) {
		t.Errorf("curve misses its points: %v %v %v", soft.Eval(0), soft.Eval(0.5), soft.Eval(1))
	}
	prev := -1.0
	for i := 0; i <= 1000; i++ {
		y := soft.Eval(float64(i) / 1000)
		if y < prev-1e-12 || y < 0 || y > 1 {
			t.Fatalf("curve not monotone in [0,1] at %d: %v after %v", i, y, prev)
		}
		prev = y
	}
	// A plateau stays flat (no overshoot between equal points).
	flat, err := NewCurve(Vec{0, 0}, Vec{0.3, 0.6}, Vec{0.7, 0.6}, Vec{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []float64{0.35, 0.5, 0.65} {
		if !near(flat.Eval(x), 0.6, 1e-12) {
			t.Errorf("plateau at %v = %v", x, flat.Eval(x))
		}
	}
	// Unsorted input is fine; a clamped start holds below the first point.
	c, err := NewCurve(Vec{1, 1}, Vec{0.2, 0.1})
	if err != nil || c.Eval(0.1) != 0.1 {
		t.Errorf("unsorted/clamped curve: %v %v", err, c.Eval(0.1))
	}
	for name, pts := range map[string][]Vec{
		"one point":  {{0, 0}},
		"outside":    {{0, 0}, {1, 1.5}},
		"duplicate":  {{0.5, 0}, {0.5, 1}},
		"nan":        {{0, 0}, {math.NaN(), 1}},
		"too many":   make([]Vec, MaxCurvePoints+1),
		"no points":  nil,
		"negative x": {{-0.1, 0}, {1, 1}},
	} {
		if _, err := NewCurve(pts...); !errors.Is(err, ErrCurve) {
			t.Errorf("%s: err = %v, want ErrCurve", name, err)
		}
	}
}

func TestStrokerSpacing(t *testing.T) {
	t.Parallel()
	b := Brush{Size: 10, Opacity: 1, Hardness: 1, Spacing: 0.5, Color: Color{A: 255}}
	var s Stroker
	dabs := s.Begin(b, Sample{Pos: Vec{0, 0}, Pressure: 1}, nil)
	// 5 px spacing along 23 px: dabs at 0, 5, 10, 15, 20; 3 px carried.
	dabs = s.Move(Sample{Pos: Vec{23, 0}, Pressure: 1}, dabs)
	want := []float64{0, 5, 10, 15, 20}
	if len(dabs) != len(want) {
		t.Fatalf("got %d dabs, want %d: %+v", len(dabs), len(want), dabs)
	}
	for i, d := range dabs {
		if !near(d.X, want[i], 1e-9) || d.Y != 0 || d.Size != 10 {
			t.Errorf("dab %d = %+v, want x=%v size 10", i, d, want[i])
		}
	}
	// The carried 3 px make the next dab land at 25.
	dabs = s.Move(Sample{Pos: Vec{27, 0}, Pressure: 1}, dabs[:0])
	if len(dabs) != 1 || !near(dabs[0].X, 25, 1e-9) {
		t.Errorf("after carry: %+v, want one dab at 25", dabs)
	}
	s.End()
	if dabs := s.Move(Sample{Pos: Vec{100, 0}}, nil); len(dabs) != 0 || s.Active() {
		t.Error("Move after End produced dabs")
	}
}

func TestStrokerPressure(t *testing.T) {
	t.Parallel()
	half, _ := NewCurve(Vec{0, 0}, Vec{1, 0.5})
	b := Brush{Size: 20, Opacity: 0.8, Spacing: 0.1, PressureSize: true, PressureOpacity: true, OpacityCurve: half}
	var s Stroker
	dabs := s.Begin(b, Sample{Pos: Vec{0, 0}, Pressure: 0.5}, nil)
	// size 20·0.5 = 10 (linear size curve); opacity 0.8·(0.5·0.5) = 0.2.
	if d := dabs[0]; !near(d.Size, 10, 1e-9) || !near(d.Opacity, 0.2, 1e-9) {
		t.Errorf("first dab = %+v, want size 10 opacity 0.2", d)
	}
	dabs = s.Move(Sample{Pos: Vec{100, 0}, Pressure: 1}, dabs[:0])
	for i := 1; i < len(dabs); i++ {
		if dabs[i].Size < dabs[i-1].Size {
			t.Fatalf("size decreased while pressure rose: %v then %v", dabs[i-1].Size, dabs[i].Size)
		}
	}
	// Zero pressure still paints a 1 px dab (Drawpile's minimum).
	dabs = s.Begin(b, Sample{Pressure: 0}, nil)
	if dabs[0].Size != 1 {
		t.Errorf("zero-pressure size = %v", dabs[0].Size)
	}
	// A huge jump is bounded.
	b.Size, b.Spacing = 1, 0.01
	s.Begin(b, Sample{}, nil)
	if n := len(s.Move(Sample{Pos: Vec{1e9, 0}, Pressure: 1}, nil)); n > maxDabsPerSegment {
		t.Errorf("%d dabs for one segment", n)
	}
}

func TestColor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Color
		hex  string
	}{
		{"#ff8000", Color{255, 128, 0, 255}, "#ff8000"},
		{"0a0b0c", Color{10, 11, 12, 255}, "#0a0b0c"},
		{"#abc", Color{0xaa, 0xbb, 0xcc, 255}, "#aabbcc"},
		{"#11223380", Color{0x11, 0x22, 0x33, 0x80}, "#11223380"},
	}
	for _, tc := range tests {
		got, err := ParseHex(tc.in)
		if err != nil || got != tc.want || got.Hex() != tc.hex {
			t.Errorf("ParseHex(%q) = %v, %v (hex %s), want %v %s", tc.in, got, err, got.Hex(), tc.want, tc.hex)
		}
	}
	for _, bad := range []string{"", "#12", "#gggggg", "#12345", "+1234567"} {
		if _, err := ParseHex(bad); !errors.Is(err, ErrColor) {
			t.Errorf("ParseHex(%q) err = %v", bad, err)
		}
	}
	if got := (Color{0x12, 0x34, 0x56, 0xff}).ARGB(); got != 0xff123456 {
		t.Errorf("ARGB = %#x", got)
	}
	for _, c := range []Color{{255, 0, 0, 255}, {0, 255, 0, 255}, {12, 200, 99, 255}, {0, 0, 0, 255}, {255, 255, 255, 255}, {128, 128, 128, 255}} {
		h, s, v := c.HSV()
		if got := FromHSV(h, s, v); got != c {
			t.Errorf("HSV round trip of %v = %v (h %v s %v v %v)", c, got, h, s, v)
		}
	}
	if h, s, v := (Color{0, 0, 255, 255}).HSV(); h != 240 || s != 1 || v != 1 {
		t.Errorf("blue HSV = %v %v %v", h, s, v)
	}
	var r RecentColors
	r.Max = 3
	for _, c := range []Color{{1, 0, 0, 255}, {2, 0, 0, 255}, {1, 0, 0, 255}, {3, 0, 0, 255}, {4, 0, 0, 255}} {
		r.Push(c)
	}
	got := r.List()
	if len(got) != 3 || got[0].R != 4 || got[1].R != 3 || got[2].R != 1 {
		t.Errorf("recent = %v, want R 4,3,1", got)
	}
}

func TestRaster(t *testing.T) {
	t.Parallel()
	if _, err := NewRaster(0, 10, Color{}); !errors.Is(err, ErrRasterSize) {
		t.Errorf("zero width: %v", err)
	}
	if _, err := NewRaster(MaxRasterSide, MaxRasterSide, Color{}); !errors.Is(err, ErrRasterSize) {
		t.Errorf("too many pixels: %v", err)
	}
	r, err := NewRaster(64, 32, Color{255, 255, 255, 255})
	if err != nil {
		t.Fatal(err)
	}
	if d := r.TakeDirty(); d != r.Bounds() {
		t.Errorf("initial dirty = %v", d)
	}
	if d := r.TakeDirty(); !d.Empty() {
		t.Errorf("dirty after take = %v", d)
	}
	// A hard opaque red dab of diameter 10 at (20.5,16.5) colours its
	// centre pixel fully and leaves pixels beyond the radius white.
	r.DrawDab(Dab{X: 20.5, Y: 16.5, Size: 10, Opacity: 1, Hardness: 1}, Color{255, 0, 0, 255}, SoftRound, false)
	if got := r.At(20, 16); got != (Color{255, 0, 0, 255}) {
		t.Errorf("centre = %v", got)
	}
	if got := r.At(27, 16); got != (Color{255, 255, 255, 255}) {
		t.Errorf("outside = %v", got)
	}
	d := r.TakeDirty()
	if !image.Pt(20, 16).In(d) || d.Dx() > 13 {
		t.Errorf("dirty = %v", d)
	}
	// Half-opacity black over white: source alpha round(255·0.5) = 128,
	// so 255·(1 − 128/255) = 127.
	r.DrawDab(Dab{X: 50.5, Y: 10.5, Size: 4, Opacity: 0.5, Hardness: 1}, Color{0, 0, 0, 255}, SoftRound, false)
	if got := r.At(50, 10); got != (Color{127, 127, 127, 255}) {
		t.Errorf("half black = %v, want 127 grey", got)
	}
	// Soft falloff: halfway between the hard core and the edge gets half
	// coverage. Radius 10, hardness 0.5: pixel 17's centre (17.5) is 7.5
	// from x=10, coverage (1−0.75)/(1−0.5) = 0.5 → 127 as above.
	r2, _ := NewRaster(40, 40, Color{255, 255, 255, 255})
	r2.DrawDab(Dab{X: 10, Y: 20.5, Size: 20, Opacity: 1, Hardness: 0.5}, Color{0, 0, 0, 255}, SoftRound, false)
	if got := r2.At(17, 20); got != (Color{127, 127, 127, 255}) {
		t.Errorf("falloff pixel = %v, want 127 grey", got)
	}
	// Erasing makes pixels transparent.
	r2.DrawDab(Dab{X: 10.5, Y: 20.5, Size: 4, Opacity: 1, Hardness: 1}, Color{A: 255}, SoftRound, true)
	if got := r2.At(10, 20); got.A != 0 {
		t.Errorf("erased pixel = %v", got)
	}
	// Pixel brush of size 1 covers exactly one pixel.
	r3, _ := NewRaster(8, 8, Color{255, 255, 255, 255})
	r3.TakeDirty()
	r3.DrawDab(Dab{X: 3.2, Y: 4.7, Size: 1, Opacity: 1}, Color{0, 0, 255, 255}, Pixel, false)
	n := 0
	for y := range 8 {
		for x := range 8 {
			if r3.At(x, y).R == 0 {
				n++
			}
		}
	}
	if n != 1 || r3.At(3, 4) != (Color{0, 0, 255, 255}) {
		t.Errorf("pixel brush painted %d pixels; (3,4) = %v", n, r3.At(3, 4))
	}
	// Dabs outside or invalid are ignored.
	r3.DrawDab(Dab{X: -100, Y: 4, Size: 4, Opacity: 1}, Color{A: 255}, SoftRound, false)
	r3.DrawDab(Dab{X: math.NaN(), Y: 4, Size: 4, Opacity: 1}, Color{A: 255}, SoftRound, false)
	// Only the pixel dab's box (floor(3.2−0.5)…ceil(3.2+0.5)+1) is dirty.
	if d := r3.TakeDirty(); d != image.Rect(2, 4, 5, 7) {
		t.Errorf("dirty after ignored dabs = %v", d)
	}
	buf := r3.CopyRect(image.Rect(3, 4, 5, 5), nil)
	if len(buf) != 8 || buf[2] != 255 || buf[0] != 0 || buf[4] != 255 {
		t.Errorf("CopyRect = %v", buf)
	}
}

func TestControllerMouseAndPen(t *testing.T) {
	t.Parallel()
	c := NewController()
	c.View = View{Zoom: 2, Pan: Vec{10, 10}}
	var acts []Action
	acts = c.Handle(PointerEvent{ID: 1, Kind: Pen, Phase: Down, Pos: Vec{30, 50}, Pressure: 0.3}, acts)
	acts = c.Handle(PointerEvent{ID: 2, Kind: Mouse, Phase: Down, Pos: Vec{0, 0}}, acts) // ignored: one gesture at a time
	acts = c.Handle(PointerEvent{ID: 1, Kind: Pen, Phase: Move, Pos: Vec{50, 50}, Pressure: 0.6}, acts)
	acts = c.Handle(PointerEvent{ID: 1, Kind: Pen, Phase: Up, Pos: Vec{50, 50}}, acts)
	want := []Action{
		{Kind: StrokeBegin, Pos: Vec{10, 20}, Pressure: 0.3},
		{Kind: StrokeMove, Pos: Vec{20, 20}, Pressure: 0.6},
		{Kind: StrokeEnd, Pos: Vec{20, 20}},
	}
	if len(acts) != len(want) {
		t.Fatalf("actions = %+v", acts)
	}
	for i := range want {
		if acts[i] != want[i] {
			t.Errorf("action %d = %+v, want %+v", i, acts[i], want[i])
		}
	}
	// The pen's eraser end erases; a mouse paints at full pressure.
	acts = c.Handle(PointerEvent{ID: 3, Kind: Pen, Phase: Down, Button: ButtonEraser, Buttons: BitsEraser, Pressure: 0.5}, nil)
	if !acts[0].Eraser {
		t.Error("eraser end did not erase")
	}
	c.Handle(PointerEvent{ID: 3, Kind: Pen, Phase: Up}, nil)
	acts = c.Handle(PointerEvent{ID: 4, Kind: Mouse, Phase: Down, Pressure: 0.5}, nil)
	if acts[0].Pressure != 1 || acts[0].Eraser {
		t.Errorf("mouse stroke = %+v", acts[0])
	}
	c.Handle(PointerEvent{ID: 4, Kind: Mouse, Phase: Up}, nil)
	// Middle drag pans.
	c.Handle(PointerEvent{ID: 5, Kind: Mouse, Phase: Down, Button: ButtonMiddle, Pos: Vec{100, 100}}, nil)
	acts = c.Handle(PointerEvent{ID: 5, Kind: Mouse, Phase: Move, Pos: Vec{130, 90}}, nil)
	c.Handle(PointerEvent{ID: 5, Kind: Mouse, Phase: Up}, nil)
	if len(acts) != 1 || acts[0].Kind != ViewChanged || !nearVec(c.View.Pan, Vec{40, 0}) {
		t.Errorf("pan: %+v, view %+v", acts, c.View)
	}
	// The picker picks.
	c.Tool = ToolPicker
	acts = c.Handle(PointerEvent{ID: 6, Kind: Mouse, Phase: Down, Pos: Vec{40, 0}}, nil)
	if len(acts) != 1 || acts[0].Kind != Pick || !nearVec(acts[0].Pos, Vec{0, 0}) {
		t.Errorf("pick: %+v", acts)
	}
	// Wheel zooms about the cursor.
	before := c.View.ToCanvas(Vec{200, 100})
	acts = c.Wheel(Vec{200, 100}, -300, nil)
	if len(acts) != 1 || !near(c.View.Zoom, 4, 1e-9) || !nearVec(c.View.ToCanvas(Vec{200, 100}), before) {
		t.Errorf("wheel: zoom %v", c.View.Zoom)
	}
}

func TestControllerTouch(t *testing.T) {
	t.Parallel()
	c := NewController()
	var acts []Action
	acts = c.Handle(PointerEvent{ID: 10, Kind: Touch, Phase: Down, Pos: Vec{10, 10}, Pressure: 0.5}, acts)
	acts = c.Handle(PointerEvent{ID: 10, Kind: Touch, Phase: Move, Pos: Vec{20, 10}, Pressure: 0.5}, acts)
	if len(acts) != 2 || acts[0].Kind != StrokeBegin || acts[0].Pressure != 1 || acts[1].Kind != StrokeMove {
		t.Fatalf("one finger should draw: %+v", acts)
	}
	// A second finger ends the stroke and pinches.
	acts = c.Handle(PointerEvent{ID: 11, Kind: Touch, Phase: Down, Pos: Vec{120, 10}}, acts[:0])
	if len(acts) != 1 || acts[0].Kind != StrokeEnd || c.Stroking() {
		t.Fatalf("second finger: %+v", acts)
	}
	acts = c.Handle(PointerEvent{ID: 11, Kind: Touch, Phase: Move, Pos: Vec{220, 10}}, acts[:0])
	if len(acts) != 1 || acts[0].Kind != ViewChanged || !near(c.View.Zoom, 2, 1e-9) {
		t.Fatalf("pinch: %+v zoom %v", acts, c.View.Zoom)
	}
	// Lifting one finger does not resume drawing with the other.
	c.Handle(PointerEvent{ID: 11, Kind: Touch, Phase: Up}, nil)
	if acts := c.Handle(PointerEvent{ID: 10, Kind: Touch, Phase: Move, Pos: Vec{30, 30}}, nil); len(acts) != 0 {
		t.Errorf("remaining finger acted: %+v", acts)
	}
	c.Handle(PointerEvent{ID: 10, Kind: Touch, Phase: Up}, nil)
	// After all fingers are up, a new touch draws again.
	if acts := c.Handle(PointerEvent{ID: 12, Kind: Touch, Phase: Down}, nil); len(acts) != 1 || acts[0].Kind != StrokeBegin {
		t.Errorf("new touch: %+v", acts)
	}
}

func FuzzController(f *testing.F) {
	f.Add(uint8(0), uint8(0), 1, 10.0, 10.0, 0.5, 0, 0)
	f.Add(uint8(2), uint8(1), 3, -1e308, 5.0, 2.0, 5, 32)
	f.Fuzz(func(t *testing.T, kind, phase uint8, id int, x, y, p float64, button, buttons int) {
		c := NewController()
		for i := range 3 {
			c.Handle(PointerEvent{ID: id + i%2, Kind: PointerKind(kind % 3), Phase: Phase((int(phase) + i) % 4), Pos: Vec{x, y}, Pressure: p, Button: button, Buttons: buttons}, nil)
		}
		c.Wheel(Vec{x, y}, p, nil)
		if !(c.View.Zoom >= MinZoom && c.View.Zoom <= MaxZoom) {
			t.Fatalf("zoom out of range: %v", c.View.Zoom)
		}
	})
}

func BenchmarkDrawDabSoft32(b *testing.B) {
	r, err := NewRaster(512, 512, Color{255, 255, 255, 255})
	if err != nil {
		b.Fatal(err)
	}
	d := Dab{X: 256.3, Y: 256.7, Size: 32, Opacity: 0.5, Hardness: 0.6}
	for b.Loop() {
		r.DrawDab(d, Color{10, 20, 30, 255}, SoftRound, false)
	}
}

func BenchmarkStroker(b *testing.B) {
	var s Stroker
	brush := DefaultBrush()
	var dabs []Dab
	for b.Loop() {
		dabs = s.Begin(brush, Sample{Pos: Vec{0, 0}, Pressure: 0.5}, dabs[:0])
		for i := 1; i <= 100; i++ {
			dabs = s.Move(Sample{Pos: Vec{float64(i) * 3, float64(i)}, Pressure: 0.5 + float64(i)/200}, dabs[:0])
		}
		s.End()
	}
}

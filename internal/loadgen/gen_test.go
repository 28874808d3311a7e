package loadgen

import (
	"bytes"
	"testing"

	"drawbridge/protocol"
)

func genFrames(t testing.TB, seed uint64, bot int, ctx uint8, n int, opts GenOptions) []protocol.Frame {
	t.Helper()
	g := NewGenerator(seed, bot, opts)
	out := make([]protocol.Frame, 0, n)
	for range n {
		b, err := g.Next(nil, ctx)
		if err != nil {
			t.Fatalf("next: %v", err)
		}
		out = append(out, b)
	}
	return out
}

func TestGeneratorDeterministic(t *testing.T) {
	a := genFrames(t, 42, 3, 5, 3000, GenOptions{})
	b := genFrames(t, 42, 3, 5, 3000, GenOptions{})
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("message %d differs between two generators with the same seed:\n%x\n%x", i, a[i], b[i])
		}
	}
	for _, tc := range []struct {
		name      string
		seed      uint64
		bot       int
		sameFirst bool
	}{
		{"other seed", 43, 3, true},
		{"other bot", 42, 4, true},
	} {
		c := genFrames(t, tc.seed, tc.bot, 5, 3000, GenOptions{})
		same := 0
		for i := range a {
			if bytes.Equal(a[i], c[i]) {
				same++
			}
		}
		// UndoPoints are identical everywhere; dab messages must not be.
		if same > len(a)/4 {
			t.Errorf("%s: %d of %d messages identical", tc.name, same, len(a))
		}
	}
}

// TestGeneratorStrokes decodes what a generator produces and checks that
// it looks like drawing: own layer first, UndoPoint … dabs … PenUp
// strokes, occasional Undo, a mix of brush sizes, and size and opacity
// that vary with pressure inside a stroke.
func TestGeneratorStrokes(t *testing.T) {
	const ctx = 9
	frames := genFrames(t, 1, 0, ctx, 5000, GenOptions{})
	var undos, strokes int
	sizes := map[uint32]bool{}
	inStroke := false
	var strokeSizes, strokeOpac map[uint32]bool
	varying := 0
	for i, f := range frames {
		if f.Ctx() != ctx {
			t.Fatalf("message %d has ctx %d", i, f.Ctx())
		}
		m, err := protocol.Decode(f, protocol.Layout425)
		if err != nil {
			t.Fatalf("message %d does not decode: %v (%x)", i, err, f)
		}
		switch m := m.(type) {
		case protocol.LayerTreeCreate:
			if i != 0 || m.ID != LayerID(ctx) || m.ID&0xFF != ctx {
				t.Fatalf("message %d: unexpected %+v", i, m)
			}
		case protocol.UndoPoint:
			if inStroke {
				t.Fatalf("message %d: UndoPoint inside a stroke", i)
			}
			inStroke = true
			strokes++
			strokeSizes, strokeOpac = map[uint32]bool{}, map[uint32]bool{}
		case protocol.DrawDabsClassic:
			if !inStroke || m.Layer != LayerID(ctx) || len(m.Dabs) < 3 || len(m.Dabs) > 13 {
				t.Fatalf("message %d: bad dabs message (in stroke %v): %+v", i, inStroke, m)
			}
			if m.X < 0 || m.Y < 0 || m.X >= 1920*4 || m.Y >= 1080*4 {
				t.Fatalf("message %d: start (%d,%d) outside the canvas", i, m.X, m.Y)
			}
			for _, d := range m.Dabs {
				if d.Size == 0 || d.Opacity == 0 {
					t.Fatalf("message %d: invisible dab %+v", i, d)
				}
				sizes[d.Size>>8] = true
				strokeSizes[d.Size] = true
				strokeOpac[uint32(d.Opacity)] = true
			}
		case protocol.PenUp:
			if !inStroke || m.Layer != LayerID(ctx) {
				t.Fatalf("message %d: PenUp outside a stroke", i)
			}
			inStroke = false
			if len(strokeSizes) > 3 && len(strokeOpac) > 3 {
				varying++
			}
		case protocol.Undo:
			if inStroke || m.OverrideUser != 0 || m.Redo {
				t.Fatalf("message %d: bad undo %+v", i, m)
			}
			undos++
		default:
			t.Fatalf("message %d: unexpected %T", i, m)
		}
	}
	if strokes < 100 {
		t.Errorf("%d strokes in %d messages", strokes, len(frames))
	}
	if undos == 0 || undos > strokes/5 {
		t.Errorf("%d undos for %d strokes, want occasional ones", undos, strokes)
	}
	if len(sizes) < 20 {
		t.Errorf("only %d distinct dab diameters", len(sizes))
	}
	if varying < strokes*3/4 {
		t.Errorf("only %d of %d strokes vary size and opacity", varying, strokes)
	}
}

func TestGeneratorFill(t *testing.T) {
	frames := genFrames(t, 1, 0, 1, 500, GenOptions{Fill: true})
	var bytes int
	for _, f := range frames {
		bytes += len(f)
		if _, err := protocol.Decode(f, protocol.Layout425); err != nil {
			t.Fatalf("decode: %v", err)
		}
	}
	if avg := bytes / len(frames); avg < 300 {
		t.Errorf("fill messages average %d bytes, want large ones", avg)
	}
}

func TestGeneratorCompatLayout(t *testing.T) {
	for i, f := range genFrames(t, 5, 1, 3, 500, GenOptions{Layout: protocol.Layout424}) {
		if _, err := protocol.Decode(f, protocol.Layout424); err != nil {
			t.Fatalf("message %d does not decode as 4.24: %v", i, err)
		}
	}
}

func BenchmarkGenerator(b *testing.B) {
	g := NewGenerator(1, 0, GenOptions{})
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		var err error
		buf, err = g.Next(buf[:0], 1)
		if err != nil {
			b.Fatal(err)
		}
		n += len(buf)
	}
	b.SetBytes(int64(n / max(b.N, 1)))
}

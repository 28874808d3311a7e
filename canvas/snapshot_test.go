package canvas

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"drawbridge/protocol"
)

// TestSnapshotRoundTrip rebuilds every render case from its snapshot (sent
// through the wire encoding) and compares the layer tree and the image. The
// snapshot is 8-bit, so pixels may move by the 15→8→15 quantization: at
// most a small channel difference is allowed.
func TestSnapshotRoundTrip(t *testing.T) {
	cases, _ := filepath.Glob("testdata/render/*.dprec")
	for _, compat := range []bool{false, true} {
		layout := protocol.Layout425
		if compat {
			layout = protocol.Layout424
		}
		worst := 0
		for _, path := range cases {
			name := strings.TrimSuffix(filepath.Base(path), ".dprec")
			c := loadRecording(t, path)
			msgs, err := c.Snapshot(compat)
			if err != nil {
				t.Fatalf("%s: snapshot: %v", name, err)
			}
			r := New()
			for _, m := range msgs {
				f, err := protocol.EncodeFrame(1, m, layout)
				if err != nil {
					t.Fatalf("%s: encode %T: %v", name, m, err)
				}
				dm, err := protocol.Decode(f, layout)
				if err != nil {
					t.Fatalf("%s: decode %T: %v", name, m, err)
				}
				if err := r.Apply(1, dm); err != nil {
					t.Fatalf("%s: apply %T: %v", name, dm, err)
				}
			}
			for id := range c.hidden {
				r.SetLayerHidden(id, true)
			}
			if got, want := layerSummary(r.Layers()), layerSummary(c.Layers()); got != want {
				if !compat || !strings.Contains(want, "clip") {
					t.Errorf("%s (compat %v): layers\n%s\nwant\n%s", name, compat, got, want)
				}
				continue
			}
			mx, _ := diffImages(r.Render(RenderOptions{Checkerboard: true}), c.Render(RenderOptions{Checkerboard: true}))
			worst = max(worst, mx)
			if mx > 2 {
				t.Errorf("%s (compat %v): snapshot renders with max diff %d", name, compat, mx)
			}
		}
		t.Logf("compat %v: worst channel difference %d", compat, worst)
	}
}

func layerSummary(list []*Layer) string {
	var sb strings.Builder
	var walk func([]*Layer, string)
	walk = func(list []*Layer, indent string) {
		for _, l := range list {
			sb.WriteString(indent)
			sb.WriteString(l.Title)
			sb.WriteString(" ")
			sb.WriteString(strings.Join([]string{
				strconv.Itoa(int(l.ID)), strconv.Itoa(int(Conv15To8(l.Opacity))), strconv.Itoa(int(l.Blend)),
			}, ","))
			if l.Censored {
				sb.WriteString(" censored")
			}
			if l.Group && l.Isolated {
				sb.WriteString(" isolated")
			}
			if l.Clip {
				sb.WriteString(" clip")
			}
			sb.WriteString("\n")
			walk(l.Children, indent+"  ")
		}
	}
	walk(list, "")
	return sb.String()
}

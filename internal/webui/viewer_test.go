package webui

import (
	"math"
	"testing"
	"time"
)

func TestParseViewerURL(t *testing.T) {
	tests := []struct {
		path, query string
		ok          bool
		want        ViewerOptions
	}{
		{"/watch/abc_DEF-1", "", true, ViewerOptions{Mode: ModeWatch, Secret: "abc_DEF-1", Fit: "contain", Cursors: true, Laser: true, Chat: true}},
		{"/embed/s3cret", "bg=transparent&fit=contain&cursors=off&laser=on&chat=off&delay=0s", true,
			ViewerOptions{Mode: ModeEmbed, Secret: "s3cret", Transparent: true, Fit: "contain", Laser: true}},
		{"/embed/s3cret/", "", true, ViewerOptions{Mode: ModeEmbed, Secret: "s3cret", Fit: "contain", Cursors: true, Laser: true}},
		{"/embed/x", "fit=cover&chat=on&delay=30", true, ViewerOptions{Mode: ModeEmbed, Secret: "x", Fit: "cover", Cursors: true, Laser: true, Chat: true, Delay: 30 * time.Second}},
		{"/watch/x", "delay=1m30s&cursors=bogus", true, ViewerOptions{Mode: ModeWatch, Secret: "x", Fit: "contain", Cursors: true, Laser: true, Chat: true, Delay: 90 * time.Second}},
		{"/watch/x", "delay=10m", true, ViewerOptions{Mode: ModeWatch, Secret: "x", Fit: "contain", Cursors: true, Laser: true, Chat: true}},
		{"/watch/x", "delay=-1&fit=stretch&%zz", true, ViewerOptions{Mode: ModeWatch, Secret: "x", Fit: "contain", Cursors: true, Laser: true, Chat: true}},
		{"/watch/", "", false, ViewerOptions{}},
		{"/watch/a/b", "", false, ViewerOptions{}},
		{"/watch/a%20b", "", false, ViewerOptions{}},
		{"/r/ABC", "", false, ViewerOptions{}},
		{"/", "", false, ViewerOptions{}},
	}
	for _, tc := range tests {
		got, ok := ParseViewerURL(tc.path, tc.query)
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseViewerURL(%q, %q) = %+v, %v; want %+v, %v", tc.path, tc.query, got, ok, tc.want, tc.ok)
		}
	}
}

func TestViewerWSPath(t *testing.T) {
	o := ViewerOptions{Secret: "abc"}
	if p := o.WSPath(); p != "/watch/abc/ws" {
		t.Errorf("WSPath = %q", p)
	}
	o.Delay = 1500 * time.Millisecond
	if p := o.WSPath(); p != "/watch/abc/ws?delay=1.5" {
		t.Errorf("WSPath = %q", p)
	}
}

func TestCatchup(t *testing.T) {
	var c Catchup
	c.Message() // before a catchup: not counted
	if c.Percent() != 0 || c.Active {
		t.Fatalf("%+v", c)
	}
	c.Notice("catchup", 4)
	c.Message()
	if p := c.Percent(); p != 25 {
		t.Errorf("percent %d, want 25", p)
	}
	for range 10 {
		c.Message()
	}
	if p := c.Percent(); p != 100 || c.CaughtUp {
		t.Errorf("percent %d (caught up %v): capped at 100, not done before caughtup", p, c.CaughtUp)
	}
	c.Notice("caughtup", 0)
	if !c.CaughtUp || c.Active || c.Percent() != 100 {
		t.Errorf("%+v", c)
	}
	c.Notice("reset", 0)
	if c.CaughtUp || !c.Active || c.Percent() != 0 {
		t.Errorf("after reset %+v", c)
	}
	c.Notice("catchup", -3)
	if c.Of != 0 {
		t.Errorf("negative count kept: %+v", c)
	}
}

func FuzzParseViewerURL(f *testing.F) {
	f.Add("/embed/abc", "bg=transparent&delay=5s")
	f.Fuzz(func(t *testing.T, path, query string) {
		o, ok := ParseViewerURL(path, query)
		if !ok {
			return
		}
		if !validSecret(o.Secret) || o.Delay < 0 || o.Delay > MaxWatchDelay || (o.Fit != "contain" && o.Fit != "cover") {
			t.Fatalf("bad options %+v", o)
		}
	})
}

func TestFitFrame(t *testing.T) {
	tests := []struct {
		cover           bool
		zoom            float64
		corner, farEdge Vec // screen positions of canvas (0,0) and (200,100)
	}{
		{false, 4, Vec{0, 100}, Vec{800, 500}},  // contain: width-limited, letterboxed
		{true, 6, Vec{-200, 0}, Vec{1000, 600}}, // cover: height-limited, cropped
	}
	for _, tc := range tests {
		var v View
		v.Zoom = 1
		v.FitFrame(200, 100, 800, 600, tc.cover)
		if math.Abs(v.Zoom-tc.zoom) > 1e-9 {
			t.Errorf("cover=%v: zoom %v, want %v", tc.cover, v.Zoom, tc.zoom)
		}
		if p := v.ToScreen(Vec{0, 0}); p.Sub(tc.corner).Len() > 1e-6 {
			t.Errorf("cover=%v: corner at %v, want %v", tc.cover, p, tc.corner)
		}
		if p := v.ToScreen(Vec{200, 100}); p.Sub(tc.farEdge).Len() > 1e-6 {
			t.Errorf("cover=%v: far corner at %v, want %v", tc.cover, p, tc.farEdge)
		}
	}
}

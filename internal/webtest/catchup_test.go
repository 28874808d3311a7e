package webtest

import (
	"context"
	"fmt"
	"image/color"
	"math/rand/v2"
	"testing"
	"time"

	"drawbridge/protocol"
	"drawbridge/protocol/imagecodec"
)

// bigHistory is the size of the history TestClientCatchupProgress makes
// the page download: a desktop-class session.
const bigHistory = 15 << 20

// TestClientCatchupProgress joins a session with a 15 MB history (a Go
// bot draws incompressible PutImage tiles): the page shows
// the catch-up progress bar advancing, then hides it and shows the canvas
// as the history paints it.
func TestClientCatchupProgress(t *testing.T) {
	dir := buildClient(t)
	b := startBridge(t)
	bot, _, code, _ := hostOn(t, b, "bighistory", "")
	s := b.Server().Lookup(code)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// 120×128 random opaque pixels compress to ~61 KB (under the 64 KiB
	// message limit). A few such images are tiled over the 640×480 canvas
	// (a 5×4 grid of cells, the last row cut off) until the history holds
	// 15 MB. Compressing once per image keeps the race-instrumented test
	// fast; the history stays incompressible message by message.
	const tw, th, cells, images = 120, 128, 20, 8
	rng := rand.New(rand.NewPCG(1, 2))
	var pix [images][]byte
	var enc [images][]byte
	for i := range images {
		pix[i] = make([]byte, tw*th*4)
		for j := 0; j < len(pix[i]); j += 4 {
			v := rng.Uint32()
			pix[i][j], pix[i][j+1], pix[i][j+2], pix[i][j+3] = byte(v), byte(v>>8), byte(v>>16), 255 // BGRA
		}
		var err error
		if enc[i], err = imagecodec.EncodeImageDeflate(pix[i], tw, th); err != nil {
			t.Fatal(err)
		}
	}
	cellX := func(c int) int { return c % 5 * tw }
	cellY := func(c int) int { return c / 5 * th }
	upStart := time.Now()
	sent, n := 0, 0
	last := make([]int, cells) // image last drawn into each cell
	for sent < bigHistory {
		c, img := n%cells, n%images
		m := protocol.PutImage{Layer: protocol.LayerID(1, 1), Mode: protocol.BlendNormal,
			X: uint32(cellX(c)), Y: uint32(cellY(c)), W: tw, H: th, Image: enc[img]}
		f, err := protocol.EncodeFrame(1, m, protocol.Layout425)
		if err != nil {
			t.Fatal(err)
		}
		if err := bot.SendFrame(ctx, f); err != nil {
			t.Fatal(err)
		}
		last[c] = img
		sent += len(f)
		n++
	}
	waitServer(t, "the history to reach 15 MB", func() bool { return s.Desc().Size >= bigHistory })
	t.Logf("history: %d PutImage messages, %d bytes, uploaded in %v", n, s.Desc().Size, time.Since(upStart).Round(time.Millisecond))
	// want is the canvas colour at (x, y): the last image drawn into its
	// cell, or the white background outside the grid.
	want := func(x, y int) color.NRGBA {
		c := x/tw + y/th*5
		if x >= 5*tw || c >= cells {
			return color.NRGBA{255, 255, 255, 255}
		}
		p := pix[last[c]][((y-cellY(c))*tw+(x-cellX(c)))*4:]
		return color.NRGBA{p[2], p[1], p[0], p[3]}
	}

	base := serveWithBridge(t, dir, b)
	br := Start(t, Options{Width: 1024, Height: 768})
	p := br.NewPage(t)
	if err := p.Navigate(base + "/r/" + code); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.__drawbridge && window.__drawbridge.page === 'name'"); err != nil {
		t.Fatalf("%v\nconsole:\n%s", err, p.ConsoleText())
	}
	// Record every value the progress bar shows.
	if err := p.Exec(`window.__progress = [];
		const bar = document.getElementById('catchup');
		new MutationObserver(() => { if (!bar.hidden) window.__progress.push(bar.value); })
			.observe(bar, {attributes: true, attributeFilter: ['value', 'hidden']});
		document.getElementById('name-input').value = 'catcher';
		document.getElementById('name-ok').click();`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	frames0, _ := Eval[int](p, "window.__drawbridge.frames")
	updates0, _ := Eval[int](p, "window.__drawbridge.updates")
	if err := p.WaitTrueFor("window.__drawbridge.session === 'connected' && document.getElementById('catchup').hidden", 90*time.Second); err != nil {
		st, _ := Eval[string](p, "document.getElementById('status').textContent")
		t.Fatalf("catch-up did not finish (status %q): %v\nconsole:\n%s", st, err, p.ConsoleText())
	}
	took := time.Since(start)
	frames1, _ := Eval[int](p, "window.__drawbridge.frames")
	updates1, _ := Eval[int](p, "window.__drawbridge.updates")
	work, _ := Eval[[]float64](p, "window.__drawbridge.work()")
	sum, peak := 0.0, 0.0
	for _, w := range work[max(0, len(work)-(frames1-frames0)):] {
		sum += w
		peak = max(peak, w)
	}
	t.Logf("catch-up of %d bytes took %v (join to connected): %d frames, %d updates, frame work %.0f ms in all (max %.1f ms)",
		s.Desc().Size, took.Round(time.Millisecond), frames1-frames0, updates1-updates0, sum, peak)
	progress, err := Eval[[]float64](p, "window.__progress")
	if err != nil {
		t.Fatal(err)
	}
	mid := 0
	for i, v := range progress {
		if v > 0 && v < 100 {
			mid++
		}
		if i > 0 && v < progress[i-1] {
			t.Errorf("progress went back from %v to %v", progress[i-1], v)
		}
	}
	if mid < 3 {
		t.Errorf("progress bar showed %v: want it to advance through several values below 100", progress)
	}
	// The canvas shows the last image of every cell.
	if err := p.WaitTrue("window.__drawbridge.canvasSize[0] === 640"); err != nil {
		t.Fatal(err)
	}
	for y := 5; y < 480; y += 97 {
		for x := 5; x < 640; x += 101 {
			wc := want(x, y)
			expr := fmt.Sprintf("window.__drawbridge.pixel(%d, %d).join() === '%d,%d,%d,%d'", x, y, wc.R, wc.G, wc.B, wc.A)
			if err := p.WaitTrue(expr); err != nil {
				got, _ := Eval[[]int](p, fmt.Sprintf("window.__drawbridge.pixel(%d, %d)", x, y))
				t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, got, wc)
			}
		}
	}
	p.CheckNoPanic(t)
}

// BenchmarkClientCatchupDabs joins a session whose 15 MB history is made
// of small stroke messages (40 classic dabs each, ~60,000 messages, like
// a long Drawpile session), where the client's per-message costs show
// rather than PutImage decompression. It reports the join-to-connected
// time. Run with -benchtime 1x; each iteration joins with a fresh page.
func BenchmarkClientCatchupDabs(b *testing.B) {
	t := b
	dir := buildClient(t)
	br := startBridge(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	bot := hostBot(b, br, "dabhistory", "", "dab history", []protocol.Message{
		protocol.CanvasResize{Right: 640, Bottom: 480},
		protocol.LayerTreeCreate{ID: protocol.LayerID(1, 1), Fill: 0xffffffff, Title: "Background"},
	})
	drainBot(bot)
	s := br.Server().Lookup("dabhistory")
	code := s.Code()
	rng := rand.New(rand.NewPCG(3, 4))
	n := 0
	for s.Desc().Size < bigHistory {
		m := protocol.DrawDabsClassic{Layer: protocol.LayerID(1, 1), X: int32(rng.IntN(640 * 4)), Y: int32(rng.IntN(480 * 4)),
			Color: 0xff000000 | rng.Uint32()&0xffffff, Mode: protocol.BlendNormal}
		for range 40 {
			m.Dabs = append(m.Dabs, protocol.ClassicDab{X: int8(rng.IntN(17) - 8), Y: int8(rng.IntN(17) - 8),
				Size: uint32(256 * (2 + rng.IntN(12))), Hardness: 200, Opacity: 180})
		}
		f, err := protocol.EncodeFrame(1, m, protocol.Layout425)
		if err != nil {
			b.Fatal(err)
		}
		if err := bot.SendFrame(ctx, f); err != nil {
			b.Fatal(err)
		}
		n++
		if n%2000 == 0 { // let the server keep up with the bot
			for s.Desc().Size < int64(n)*int64(len(f))/2 {
				time.Sleep(time.Millisecond)
			}
		}
	}
	b.Logf("history: %d stroke messages, %d bytes", n, s.Desc().Size)
	base := serveWithBridge(t, dir, br)
	bw := Start(t, Options{Width: 1024, Height: 768})
	var total time.Duration
	for b.Loop() {
		p := bw.NewPage(t)
		if err := p.Navigate(base + "/r/" + code); err != nil {
			b.Fatal(err)
		}
		if err := p.WaitTrue("window.__drawbridge && window.__drawbridge.page === 'name'"); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := p.Exec(`document.getElementById('name-input').value = 'catcher'; document.getElementById('name-ok').click();`); err != nil {
			b.Fatal(err)
		}
		frames0, _ := Eval[int](p, "window.__drawbridge.frames")
		updates0, _ := Eval[int](p, "window.__drawbridge.updates")
		if err := p.WaitTrueFor("window.__drawbridge.session === 'connected'", 300*time.Second); err != nil {
			b.Fatalf("catch-up did not finish: %v", err)
		}
		took := time.Since(start)
		total += took
		frames1, _ := Eval[int](p, "window.__drawbridge.frames")
		updates1, _ := Eval[int](p, "window.__drawbridge.updates")
		work, _ := Eval[[]float64](p, "window.__drawbridge.work()")
		sum := 0.0
		for _, w := range work[max(0, len(work)-(frames1-frames0)):] {
			sum += w
		}
		b.Logf("join took %v: %d frames, %d updates, frame work %.0f ms (last %d frames)", took.Round(time.Millisecond),
			frames1-frames0, updates1-updates0, sum, min(len(work), frames1-frames0))
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/join")
}

package webtest

import (
	"context"
	"encoding/base64"
	"fmt"
	"sync"
	"testing"
	"time"

	"drawbridge/protocol"
)

// TestClientPredictsOwnStrokes draws a pen stroke while another user (the
// bot) floods the same tiles with fills and crossing strokes, so the
// server interleaves the bot's messages with the page's before the page
// sees its echoes (engine.md §5.2, local fork). Each segment of the
// page's stroke must be on the canvas one update after its input (own
// strokes are shown on top of what others drew meanwhile), and once
// everything has arrived the page's canvas — and a second page's — must
// equal the bot's replay of the server's order, also after an undo made
// while the flood goes on.
func TestClientPredictsOwnStrokes(t *testing.T) {
	dir := buildClient(t)
	b, bot, msgs, code, rp := hostSession(t)
	base := serveWithBridge(t, dir, b)
	br := Start(t, Options{Width: 1024, Height: 768})
	join := func(name string) *Page {
		p := br.NewPage(t)
		if err := p.Navigate(base + "/r/" + code); err != nil {
			t.Fatal(err)
		}
		if err := p.WaitTrue("window.__drawbridge && window.__drawbridge.page === 'name'"); err != nil {
			t.Fatalf("%v\nconsole:\n%s", err, p.ConsoleText())
		}
		if err := p.Exec(fmt.Sprintf(`document.getElementById('name-input').value = %q; document.getElementById('name-ok').click()`, name)); err != nil {
			t.Fatal(err)
		}
		if err := p.WaitTrue("window.__drawbridge.session === 'connected'"); err != nil {
			t.Fatalf("%s not connected: %v\nconsole:\n%s", name, err, p.ConsoleText())
		}
		return p
	}
	p := join("painter")
	viewer := join("viewer")
	uid, err := Eval[int](p, "window.__drawbridge.userID")
	if err != nil {
		t.Fatal(err)
	}

	// The bot's flood: fills just above and below the stroke's row (the
	// same tiles) and vertical strokes crossing it, each its own undo
	// unit, in a light orange the page's black stroke is told apart from.
	layer := protocol.LayerID(1, 1)
	var flood []protocol.Frame
	for i := range 40 {
		x := 150 + 100*(i%4)
		ms := []protocol.Message{
			protocol.UndoPoint{},
			protocol.FillRect{Layer: layer, Mode: protocol.BlendNormal, X: uint32(60 + 10*i), Y: 200, W: 80, H: 25,
				Color: 0xffc08040 + uint32(i)},
			protocol.FillRect{Layer: layer, Mode: protocol.BlendNormal, X: uint32(60 + 10*i), Y: 255, W: 80, H: 25,
				Color: 0xffc0a040 + uint32(i)},
		}
		d := protocol.DrawDabsClassic{Layer: layer, X: int32(x * 4), Y: 180 * 4, Color: 0xffd09060, Mode: protocol.BlendNormal}
		for range 24 {
			d.Dabs = append(d.Dabs, protocol.ClassicDab{Y: 20, Size: 6 * 256, Hardness: 255, Opacity: 200})
		}
		ms = append(ms, d, protocol.PenUp{})
		for _, m := range ms {
			f, err := protocol.EncodeFrame(1, m, protocol.Layout425)
			if err != nil {
				t.Fatal(err)
			}
			flood = append(flood, f)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	floodFor := func(stop <-chan struct{}) {
		wg.Add(1)
		go func() { // owned by this test; ends at stop (or after 3000 frames)
			defer wg.Done()
			for n := range 3000 {
				f := flood[n%len(flood)]
				select {
				case <-stop:
					return
				case <-time.After(4 * time.Millisecond):
				}
				if err := bot.SendFrame(ctx, f); err != nil {
					return
				}
			}
		}()
	}

	stop := make(chan struct{})
	floodFor(stop)
	sync := nextUpdate(p)
	const step = 40.0
	pts := canvasLine(t, p, 100.0, 500, step, 240, 0.8)
	events := 0
	sameFrame := func() error {
		if err := sync(); err != nil {
			return err
		}
		events++
		// events: the hover, the press (point 0), then the moves; from
		// the first move on, the segment just drawn must be on the canvas.
		if i := events - 2; i >= 1 && i < len(pts) {
			// Just behind the pen, and clear of the bot's crossing strokes
			// (x = 150, 250, …), which may legitimately cover ours once
			// it is echoed.
			x := 100 + step*float64(i) - 4
			px, err := Eval[[]int](p, fmt.Sprintf("window.__drawbridge.pixel(%v, 240)", x))
			if err != nil {
				return err
			}
			if px[0] > 100 {
				t.Errorf("own stroke at x=%v not on the canvas one update after its input: pixel %v", x, px)
			}
		}
		return nil
	}
	if err := p.PointerStroke(Stroke{Type: Pen, Points: pts}, sameFrame); err != nil {
		t.Fatal(err)
	}
	// The server interleaved: in the order everyone receives (the bot's
	// copy), bot messages sit between the page's stroke messages.
	between, seenOwn := 0, false
	waitBot(t, msgs, "the page's pen-up", func(m botMsg) bool {
		switch {
		case int(m.ctx) == uid && m.typ == protocol.TypeDrawDabsClassic:
			seenOwn = true
		case m.ctx == 1 && seenOwn:
			between++
		}
		return m.typ == protocol.TypePenUp && int(m.ctx) == uid
	})
	if between == 0 {
		t.Error("no bot message between the page's stroke messages: the test did not interleave")
	}
	t.Logf("%d bot messages interleaved with the page's stroke", between)

	// Undo the page's stroke while the bot keeps drawing.
	if err := p.Exec(`document.getElementById('undo').click()`); err != nil {
		t.Fatal(err)
	}
	waitBot(t, msgs, "the page's undo", func(m botMsg) bool {
		u, ok := m.msg.(protocol.Undo)
		return ok && int(m.ctx) == uid && !u.Redo
	})
	close(stop)
	wg.Wait()

	// Both pages settle on the bot's render of the server's order.
	for _, pg := range []struct {
		p    *Page
		name string
	}{{p, "painter"}, {viewer, "viewer"}} {
		if err := settlePNG(t, pg.p, rp); err != nil {
			t.Errorf("%s canvas never equalled the replay of the session: %v", pg.name, err)
		}
		pg.p.CheckNoPanic(t)
	}
}

// settlePNG waits until the page's canvas equals the bot's replay of the
// session, byte for byte as PNG (both may still be receiving messages).
func settlePNG(t *testing.T, p *Page, rp *replay) error {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		want := rp.png(t)
		got, err := Eval[string](p, "window.__drawbridge.canvasPNG()")
		if err != nil {
			return err
		}
		if got == base64.StdEncoding.EncodeToString(want) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still different after 20 s")
		}
		time.Sleep(300 * time.Millisecond)
	}
}

package webtest

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"drawbridge/internal/client"
	"drawbridge/internal/webui"
	"drawbridge/protocol"
)

// joinPage opens a page on the room, enters name and waits until it is
// connected; it returns the page and its context id.
func joinPage(t *testing.T, br *Browser, base, code, name string) (*Page, int) {
	t.Helper()
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
	uid, err := Eval[int](p, "window.__drawbridge.userID")
	if err != nil {
		t.Fatal(err)
	}
	return p, uid
}

// layerNames is the page's layers panel, top first.
const layerNames = `Array.from(document.querySelectorAll('#layers li .name')).map(e => e.textContent.trim()).join('|')`

// sendBot sends m from the bot (context 1).
func sendBot(t *testing.T, bot *client.Client, m protocol.Message) {
	t.Helper()
	f, err := protocol.EncodeFrame(1, m, protocol.Layout425)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := bot.SendFrame(ctx, f); err != nil {
		t.Fatal(err)
	}
}

// samePNG checks that the page's canvas equals the bot's replay of the
// session, byte for byte as PNG.
func samePNG(t *testing.T, p *Page, rp *replay, who string) {
	t.Helper()
	want := base64.StdEncoding.EncodeToString(rp.png(t))
	got, err := Eval[string](p, "window.__drawbridge.canvasPNG()")
	if err != nil || got != want {
		t.Errorf("%s canvas differs from the replay of the session (err %v)", who, err)
	}
}

// TestLayersPanel: a guest page adds its own layer, draws on it, changes
// its blend mode and moves it down with the panel's buttons and by drag
// and drop; the bot and a second page get each change, and both pages'
// canvases equal the bot's render. Then it locks its layer from the panel
// (LayerACL), and drawing on it — or on the bot's layer locked by the
// bot — is refused in the page with a visible reason and nothing is sent.
func TestLayersPanel(t *testing.T) {
	dir := buildClient(t)
	b, bot, msgs, code, rp := hostSession(t)
	base := serveWithBridge(t, dir, b)
	start := time.Now()
	br := Start(t, Options{Width: 1024, Height: 768})
	p, uid := joinPage(t, br, base, code, "painter")
	other, _ := joinPage(t, br, base, code, "other")
	bg := protocol.LayerID(1, 1)
	t.Logf("pages joined after %v", time.Since(start).Round(time.Millisecond))

	// A guest may not edit the operator's layer: its controls are off
	// with the reason as their title.
	if err := p.WaitTrue(`document.getElementById('layer-blend').disabled && document.getElementById('layer-up').disabled &&
		document.getElementById('layer-blend').title === 'You may only edit your own layers'`); err != nil {
		title, _ := Eval[string](p, "document.getElementById('layer-blend').title")
		t.Errorf("controls for the bot's layer not disabled (title %q): %v", title, err)
	}

	if err := p.Exec(`document.getElementById('layer-add').click()`); err != nil {
		t.Fatal(err)
	}
	own := waitBot(t, msgs, "the page's new layer", func(m botMsg) bool {
		return m.typ == protocol.TypeLayerTreeCreate && int(m.ctx) == uid
	}).msg.(protocol.LayerTreeCreate).ID
	if err := p.WaitTrue(fmt.Sprintf(`window.__drawbridge.layer === %d && %s === 'Layer 2|Background' && !document.getElementById('layer-blend').disabled`, own, layerNames)); err != nil {
		names, _ := Eval[string](p, layerNames)
		t.Fatalf("own layer not selected and editable (panel %q): %v", names, err)
	}
	// A red stroke on the own layer, then Multiply.
	if err := p.Exec(`document.getElementById('color').value = '#ff0000'; document.getElementById('color').dispatchEvent(new Event('input'))`); err != nil {
		t.Fatal(err)
	}
	sync := nextUpdate(p)
	if err := p.PointerStroke(Stroke{Type: Pen, Points: canvasLine(t, p, 100, 300, 40, 200, 1)}, sync); err != nil {
		t.Fatal(err)
	}
	waitBot(t, msgs, "the page's pen-up", func(m botMsg) bool { return m.typ == protocol.TypePenUp && int(m.ctx) == uid })
	if err := p.Exec(`const s = document.getElementById('layer-blend'); s.value = '2'; s.dispatchEvent(new Event('change'))`); err != nil {
		t.Fatal(err)
	}
	attr := waitBot(t, msgs, "the blend mode", func(m botMsg) bool {
		return m.typ == protocol.TypeLayerAttributes && int(m.ctx) == uid
	}).msg.(protocol.LayerAttributes)
	if attr.ID != own || attr.Blend != 2 || attr.Opacity != 255 {
		t.Errorf("LayerAttributes = %+v, want Multiply (2) at full opacity on %#x", attr, own)
	}
	if err := p.WaitTrue(`document.getElementById('layer-blend').value === '2'`); err != nil {
		t.Error(err)
	}
	// Move it down with the button: below the (opaque) background.
	if err := p.Exec(`document.getElementById('layer-down').click()`); err != nil {
		t.Fatal(err)
	}
	mv := waitBot(t, msgs, "the layer move", func(m botMsg) bool {
		return m.typ == protocol.TypeLayerTreeMove && int(m.ctx) == uid
	}).msg.(protocol.LayerTreeMove)
	if mv != (protocol.LayerTreeMove{Layer: own, Parent: 0, Sibling: bg}) {
		t.Errorf("LayerTreeMove = %+v, want layer %#x below %#x in the root", mv, own, bg)
	}
	for _, pg := range []*Page{p, other} {
		if err := pg.WaitTrue(layerNames + ` === 'Background|Layer 2'`); err != nil {
			names, _ := Eval[string](pg, layerNames)
			t.Errorf("panel after the move %q: %v", names, err)
		}
	}
	if err := p.WaitTrue(`document.getElementById('layer-down').disabled && !document.getElementById('layer-up').disabled`); err != nil {
		t.Errorf("move buttons at the bottom: %v", err)
	}
	// The stroke is under the white background now.
	if err := p.WaitTrue("window.__drawbridge.pixel(200, 200).join() === '255,255,255,255'"); err != nil {
		px, _ := Eval[[]int](p, "window.__drawbridge.pixel(200, 200)")
		t.Errorf("stroke still visible after moving its layer down: %v", px)
	}
	samePNG(t, p, rp, "page")
	if err := other.WaitTrue("window.__drawbridge.pixel(200, 200).join() === '255,255,255,255'"); err != nil {
		t.Error(err)
	}
	samePNG(t, other, rp, "other page")

	// Drag and drop it back on top (drop on the upper half of Background).
	if err := p.Exec(`(() => {
		const items = document.querySelectorAll('#layers li');
		const dt = new DataTransfer();
		items[1].dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: dt}));
		const r = items[0].getBoundingClientRect();
		items[0].dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: dt, clientX: r.left + 5, clientY: r.top + 2}));
	})()`); err != nil {
		t.Fatal(err)
	}
	mv = waitBot(t, msgs, "the dragged layer move", func(m botMsg) bool {
		return m.typ == protocol.TypeLayerTreeMove && int(m.ctx) == uid
	}).msg.(protocol.LayerTreeMove)
	if mv != (protocol.LayerTreeMove{Layer: own}) {
		t.Errorf("LayerTreeMove = %+v, want layer %#x on top of the root", mv, own)
	}
	// Multiply red over white: red.
	for _, pg := range []*Page{p, other} {
		if err := pg.WaitTrue(layerNames + ` === 'Layer 2|Background' && window.__drawbridge.pixel(200, 200).join() === '255,0,0,255'`); err != nil {
			names, _ := Eval[string](pg, layerNames)
			px, _ := Eval[[]int](pg, "window.__drawbridge.pixel(200, 200)")
			t.Errorf("after the drop: panel %q, pixel %v: %v", names, px, err)
		}
	}
	samePNG(t, p, rp, "page")
	samePNG(t, other, rp, "other page")
	shot(t, p, "layers-panel")
	t.Logf("blend and moves done after %v", time.Since(start).Round(time.Millisecond))

	// The owner locks its layer from the panel; drawing on it is refused.
	if err := p.Exec(`document.querySelector('#layers li.active button.layer-lock').click()`); err != nil {
		t.Fatal(err)
	}
	acl := waitBot(t, msgs, "the layer lock", func(m botMsg) bool {
		return m.typ == protocol.TypeLayerACL && int(m.ctx) == uid
	}).msg.(protocol.LayerACL)
	if acl.ID != own || acl.Flags != 0x83 || len(acl.Exclusive) != 0 {
		t.Errorf("LayerACL = %+v, want content lock (0x83) of %#x", acl, own)
	}
	if err := p.WaitTrue(`document.querySelector('#layers li.active').classList.contains('locked')`); err != nil {
		t.Errorf("lock not shown in the panel: %v", err)
	}
	if err := other.WaitTrue(`document.querySelector('#layers li.locked') !== null`); err != nil {
		t.Errorf("lock not shown on the other page: %v", err)
	}
	refused := func(what, reason string) {
		t.Helper()
		dabs, err := Eval[int](p, "window.__drawbridge.dabs")
		if err != nil {
			t.Fatal(err)
		}
		if err := p.PointerStroke(Stroke{Type: Pen, Points: canvasLine(t, p, 150, 250, 50, 300, 1)}, sync); err != nil {
			t.Fatal(err)
		}
		if err := p.WaitTrue(fmt.Sprintf(`!document.getElementById('toast').hidden && document.getElementById('toast').textContent === %q`, reason)); err != nil {
			msg, _ := Eval[string](p, "document.getElementById('toast').textContent")
			t.Errorf("%s: no refusal shown (toast %q): %v", what, msg, err)
		}
		if n, _ := Eval[int](p, "window.__drawbridge.dabs"); n != dabs {
			t.Errorf("%s: the page painted %d dabs", what, n-dabs)
		}
		// Nothing was sent: the chat line sent after the stroke is the
		// next message from the page.
		marker := "after " + what
		if err := p.Exec(fmt.Sprintf(`document.getElementById('chat-input').value = %q; document.getElementById('chat-form').requestSubmit()`, marker)); err != nil {
			t.Fatal(err)
		}
		timeout := time.After(60 * time.Second)
		for done := false; !done; {
			select {
			case m := <-msgs:
				if int(m.ctx) != uid || m.typ == protocol.TypeMovePointer {
					continue
				}
				if c, ok := m.msg.(protocol.Chat); !ok || c.Message != marker {
					t.Errorf("%s: the page sent %v (%+v) before the marker chat", what, m.typ, m.msg)
				}
				done = true
			case <-timeout:
				status, _ := Eval[string](p, "document.getElementById('status').textContent + ' | ' + document.getElementById('chat-log').textContent")
				t.Fatalf("%s: the marker chat did not arrive (page: %q)\nconsole:\n%s", what, status, p.ConsoleText())
			}
		}
	}
	refused("own locked layer", string(webui.ErrLayerLocked))
	t.Logf("own lock done after %v", time.Since(start).Round(time.Millisecond))
	shot(t, p, "layers-locked")

	// The bot (operator) locks its background; the page selects it and
	// is refused too, and the bot's canvas lock stops everything.
	sendBot(t, bot, protocol.LayerACL{ID: bg, Flags: 0x80 | 3})
	if err := p.WaitTrue(`document.querySelectorAll('#layers li.locked').length === 2`); err != nil {
		t.Errorf("the bot's lock is not shown: %v", err)
	}
	if err := p.Exec(`document.querySelectorAll('#layers li')[1].click()`); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue(fmt.Sprintf(`window.__drawbridge.layer === %d`, bg)); err != nil {
		t.Fatal(err)
	}
	refused("the bot's locked layer", string(webui.ErrLayerLocked))
	sendBot(t, bot, protocol.LayerACL{ID: 0, Flags: 0x80})
	if err := p.WaitTrue(`!document.getElementById('canvas-locked').hidden && document.getElementById('layer-add').disabled`); err != nil {
		t.Errorf("canvas lock not shown: %v", err)
	}
	refused("the locked canvas", string(webui.ErrCanvasLocked))
	t.Logf("locks done after %v", time.Since(start).Round(time.Millisecond))
	samePNG(t, p, rp, "page")
	p.CheckNoPanic(t)
	other.CheckNoPanic(t)
}

// TestPixelBrushOnTheWire: the pixel brushes send DrawDabsPixel (round)
// and DrawDabsPixelSquare (square) with whole-pixel positions and sizes,
// and the page's canvas (its local prediction) equals the bot's render of
// what it received.
func TestPixelBrushOnTheWire(t *testing.T) {
	dir := buildClient(t)
	b, _, msgs, code, rp := hostSession(t)
	base := serveWithBridge(t, dir, b)
	br := Start(t, Options{Width: 1024, Height: 768})
	p, uid := joinPage(t, br, base, code, "pixels")
	sync := nextUpdate(p)
	for i, tc := range []struct {
		tool string
		typ  protocol.Type
		y    float64
	}{
		{"pixel", protocol.TypeDrawDabsPixel, 150},
		{"pixel-square", protocol.TypeDrawDabsPixelSquare, 250},
	} {
		if err := p.Exec(fmt.Sprintf(`{ document.querySelector('button[data-tool=%q]').click();
			const s = document.getElementById('size'); s.value = '7'; s.dispatchEvent(new Event('input')); }`, tc.tool)); err != nil {
			t.Fatal(err)
		}
		if err := p.WaitTrue(fmt.Sprintf(`document.querySelector('button[data-tool=%q]').classList.contains('active')`, tc.tool)); err != nil {
			t.Fatal(err)
		}
		if err := p.PointerStroke(Stroke{Type: Pen, Points: canvasLine(t, p, 100, 400, 30, tc.y, 1)}, sync); err != nil {
			t.Fatal(err)
		}
		var got []protocol.Message
		waitBot(t, msgs, fmt.Sprintf("stroke %d's pen-up", i), func(m botMsg) bool {
			if int(m.ctx) != uid {
				return false
			}
			switch m.typ {
			case protocol.TypeDrawDabsClassic, protocol.TypeDrawDabsPixel, protocol.TypeDrawDabsPixelSquare:
				got = append(got, m.msg)
			}
			return m.typ == protocol.TypePenUp
		})
		if len(got) == 0 {
			t.Fatalf("%s: no dabs", tc.tool)
		}
		for j, m := range got {
			if m.MessageType() != tc.typ {
				t.Errorf("%s sent %v, want %v", tc.tool, m.MessageType(), tc.typ)
				continue
			}
			var x, y int32
			var dabs []protocol.PixelDab
			switch d := m.(type) {
			case protocol.DrawDabsPixel:
				x, y, dabs = d.X, d.Y, d.Dabs
			case protocol.DrawDabsPixelSquare:
				x, y, dabs = d.X, d.Y, d.Dabs
			}
			if j == 0 && (x < 95 || x > 105) || y < int32(tc.y)-1 || y > int32(tc.y) {
				t.Errorf("%s: first dab at %d,%d, want about 100,%v", tc.tool, x, y, tc.y)
			}
			for _, d := range dabs {
				if d.Size != 7 || d.Opacity != 255 {
					t.Errorf("%s: dab %+v, want size 7 at full opacity", tc.tool, d)
				}
			}
		}
	}
	if err := p.WaitTrue("window.__drawbridge.pixel(250, 150)[3] === 255 && window.__drawbridge.pixel(250, 150)[0] < 50"); err != nil {
		px, _ := Eval[[]int](p, "window.__drawbridge.pixel(250, 150)")
		t.Errorf("pixel stroke not on the page: %v", px)
	}
	samePNG(t, p, rp, "page")
	p.CheckNoPanic(t)
}

// TestHostUnlisted: a session hosted from the page with "Unlisted" is
// not in the bridge's public list (GET /api/sessions) but is joinable by
// its code; one hosted "Listed" is in the list.
func TestHostUnlisted(t *testing.T) {
	dir := buildClient(t)
	b := startBridge(t)
	base := serveWithBridge(t, dir, b)
	br := Start(t, Options{Width: 1024, Height: 768})
	host := func(title, alias string, unlisted bool) *Page {
		p := br.NewPage(t)
		if err := p.Navigate(base + "/"); err != nil {
			t.Fatal(err)
		}
		if err := p.WaitTrue("window.__drawbridge && window.__drawbridge.page === 'landing'"); err != nil {
			t.Fatal(err)
		}
		if err := p.Exec(fmt.Sprintf(`document.getElementById('host-open').click();
			document.getElementById('host-name').value = 'hoster';
			document.getElementById('host-title').value = %q;
			document.getElementById('host-alias').value = %q;
			document.getElementById(%q).checked = true;
			document.getElementById('host-width').value = '100';
			document.getElementById('host-height').value = '100';`, title, alias, map[bool]string{true: "host-unlisted", false: "host-listed"}[unlisted])); err != nil {
			t.Fatal(err)
		}
		if unlisted {
			shot(t, p, "host-dialog-unlisted")
		}
		if err := p.Exec(`document.getElementById('host-ok').click()`); err != nil {
			t.Fatal(err)
		}
		if err := p.WaitTrue("window.__drawbridge.session === 'connected' && document.getElementById('invite-code').textContent !== ''"); err != nil {
			msg, _ := Eval[string](p, "document.getElementById('error').textContent")
			t.Fatalf("hosting failed (error %q): %v", msg, err)
		}
		return p
	}
	host("listed room", "listedroom", false)
	host("secret room", "secretroom", true)
	s := b.Server().Lookup("secretroom")
	if s == nil {
		t.Fatal("unlisted session not found by its alias")
	}
	waitServer(t, "the session unlisted", func() bool { return s.Desc().Unlisted })
	if l := b.Server().Lookup("listedroom"); l == nil || l.Desc().Unlisted {
		t.Error("the listed session is unlisted")
	}
	resp, err := http.Get("http://" + b.HTTPAddr() + "/api/sessions")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/sessions: %d %v", resp.StatusCode, err)
	}
	list, err := webui.ParseSessionList(body)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, e := range list {
		titles = append(titles, e.Title)
	}
	if got := strings.Join(titles, "|"); got != "listed room" {
		t.Errorf("public list %q, want only the listed room", got)
	}
	// Still joinable by its code.
	p, _ := joinPage(t, br, base, s.Code(), "guest")
	p.CheckNoPanic(t)
}

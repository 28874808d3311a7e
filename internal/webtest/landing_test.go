package webtest

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"drawbridge/canvas"
	"drawbridge/internal/bridge"
	"drawbridge/internal/client"
	"drawbridge/protocol"
)

// hostNSFM makes a Go bot host an NSFM-tagged session with the alias and
// title on b.
func hostNSFM(t *testing.T, b *bridge.Bridge, alias, title string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := client.DialTCP(ctx, b.TCPAddr())
	if err != nil {
		t.Fatal(err)
	}
	bot := client.New(conn, client.Options{Info: client.DefaultClientInfo("00112233445566778899aabbccddeeff")})
	t.Cleanup(func() { bot.Close() })
	if _, err := bot.Login(ctx, client.LoginOptions{
		Ident: client.IdentOptions{Name: "nsfmbot"},
		Host: &client.HostOptions{Alias: alias, Web: client.Ptr(true),
			Config: &client.SessionConf{Title: &title, NSFM: client.Ptr(true), AllowWeb: client.Ptr(true)}},
	}); err != nil {
		t.Fatalf("nsfm bot host: %v", err)
	}
	f, err := protocol.EncodeFrame(1, protocol.CanvasResize{Right: 64, Bottom: 64}, protocol.Layout425)
	if err != nil {
		t.Fatal(err)
	}
	if err := bot.Initialize(ctx, []protocol.Frame{f}); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			if _, err := bot.Recv(context.Background()); err != nil {
				return
			}
		}
	}()
}

// joinBot joins the session id as a Go bot and replays what it receives.
func joinBot(t *testing.T, b *bridge.Bridge, session, password, name string) (*client.Client, <-chan botMsg, *replay) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := client.DialTCP(ctx, b.TCPAddr())
	if err != nil {
		t.Fatal(err)
	}
	bot := client.New(conn, client.Options{Info: client.DefaultClientInfo("ffeeddccbbaa99887766554433221100")})
	t.Cleanup(func() { bot.Close() })
	if _, err := bot.Login(ctx, client.LoginOptions{Ident: client.IdentOptions{Name: name},
		Join: &client.JoinOptions{Session: session, Password: password}}); err != nil {
		t.Fatalf("bot join: %v", err)
	}
	rp := &replay{c: canvas.New()}
	msgs := readBot(bot, rp)
	return bot, msgs, rp
}

// waitServer polls cond (server-side state) until it holds.
func waitServer(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestClientLandingHostOptionsMute covers the landing page's session list
// (password lock, NSFM hidden until asked for, click to join), hosting
// with options (alias, NSFM, password), the operator's mute action and
// settings dialog, and the PNG download, whose bytes must equal the
// canvas engine's render of the session history (what `dptool render`
// writes) as replayed by a Go bot.
func TestClientLandingHostOptionsMute(t *testing.T) {
	dir := buildClient(t)
	b := startBridge(t)
	_, _, lockedCode, _ := hostOn(t, b, "lockedroom", "secret")
	hostNSFM(t, b, "nsfmroom", "Adult room")
	base := serveWithBridge(t, dir, b)
	br := Start(t, Options{Width: 1024, Height: 768})
	p := br.NewPage(t)
	if err := p.Navigate(base + "/"); err != nil {
		t.Fatal(err)
	}

	// The list shows the listed session with a lock; NSFM is hidden.
	if err := p.WaitTrue(`document.querySelectorAll('#sessions li').length === 1`); err != nil {
		txt, _ := Eval[string](p, "document.getElementById('landing').textContent")
		t.Fatalf("session list not shown (%q): %v\nconsole:\n%s", txt, err, p.ConsoleText())
	}
	txt, err := Eval[string](p, "document.getElementById('sessions').textContent")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(txt, "webtest session") || !strings.Contains(txt, "password") || strings.Contains(txt, "Adult") {
		t.Errorf("session list %q: want the locked session only", txt)
	}
	if err := p.Exec(`document.getElementById('show-nsfm').click()`); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue(`document.querySelectorAll('#sessions li').length === 2 && document.getElementById('sessions').textContent.includes('Adult room')`); err != nil {
		t.Errorf("NSFM toggle does not show the NSFM session: %v", err)
	}
	shot(t, p, "landing-sessions")
	if *screenshots != "" {
		if err := p.SetViewport(390, 844, true); err != nil {
			t.Fatal(err)
		}
		shot(t, p, "landing-phone")
		if err := p.SetViewport(1024, 768, false); err != nil {
			t.Fatal(err)
		}
	}
	// Click to join: the page goes to the room link and asks for a name.
	if err := p.Exec(fmt.Sprintf(`document.querySelector('#sessions button[data-code=%q]').click()`, lockedCode)); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue(fmt.Sprintf(`location.pathname === '/r/%s' && window.__drawbridge && window.__drawbridge.page === 'name'`, lockedCode)); err != nil {
		path, _ := Eval[string](p, "location.pathname")
		t.Fatalf("click on the session did not open its room (at %q): %v", path, err)
	}

	// Host with options.
	if err := p.Navigate(base + "/"); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.__drawbridge && window.__drawbridge.page === 'landing'"); err != nil {
		t.Fatal(err)
	}
	if err := p.Exec(`document.getElementById('host-open').click();
		document.getElementById('host-name').value = 'hoster';
		document.getElementById('host-title').value = 'options test';
		document.getElementById('host-alias').value = 'hostopts';
		document.getElementById('host-password').value = 'pw1';
		document.getElementById('host-nsfm').checked = true;
		document.getElementById('host-width').value = '200';
		document.getElementById('host-height').value = '150';`); err != nil {
		t.Fatal(err)
	}
	shot(t, p, "host-dialog-options")
	if err := p.Exec(`document.getElementById('host-ok').click()`); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.__drawbridge.session === 'connected' && document.getElementById('invite-code').textContent !== ''"); err != nil {
		msg, _ := Eval[string](p, "document.getElementById('error').textContent")
		t.Fatalf("hosting failed (error %q): %v\nconsole:\n%s", msg, err, p.ConsoleText())
	}
	s := b.Server().Lookup("hostopts")
	if s == nil {
		t.Fatal("the alias does not name the hosted session")
	}
	waitServer(t, "the host's session settings", func() bool {
		d := s.Desc()
		return d.Title == "options test" && d.Nsfm
	})
	if d := s.Desc(); !d.HasPassword || !d.AllowWeb || d.Alias != "hostopts" {
		t.Errorf("hosted session %+v: want password, web allowed, alias hostopts", d)
	}
	if code, _ := Eval[string](p, "document.getElementById('invite-code').textContent"); code != s.Code() {
		t.Errorf("invite shows code %q, want %q", code, s.Code())
	}
	// The invite link is only copied, never shown.
	if err := p.Exec(`document.getElementById('copy-link').click()`); err != nil {
		t.Fatal(err)
	}
	// Headless Chromium refuses clipboard writes; either message is fine,
	// the link itself must never appear.
	if err := p.WaitTrue(`document.getElementById('invite-copied').textContent !== ''`); err != nil {
		t.Error(err)
	}
	if inv, _ := Eval[string](p, "document.getElementById('invite').textContent"); strings.Contains(inv, "/r/") || strings.Contains(inv, "http") {
		t.Errorf("invite panel text %q shows the link", inv)
	}
	shot(t, p, "hosted-invite-copied")

	// A bot joins with the password; the host mutes it from the user list.
	_, msgs, rp := joinBot(t, b, s.ID(), "pw1", "joiner")
	if err := p.WaitTrue(`document.querySelector('#users button[data-act="mute"]') !== null`); err != nil {
		list, _ := Eval[string](p, "document.getElementById('users').textContent")
		t.Fatalf("no mute action in the user list %q: %v", list, err)
	}
	if err := p.Exec(`document.querySelector('#users button[data-act="mute"]').click()`); err != nil {
		t.Fatal(err)
	}
	waitServer(t, "the bot muted", func() bool {
		for _, u := range s.Users() {
			if u.Name == "joiner" {
				return u.Muted
			}
		}
		return false
	})
	if err := p.WaitTrue(`document.querySelector('#users button[data-act="unmute"]') !== null && document.getElementById('users').textContent.includes('muted')`); err != nil {
		t.Errorf("user list does not show the mute: %v", err)
	}

	// Session settings dialog (operators).
	if err := p.WaitTrue(`!document.getElementById('settings-open').hidden`); err != nil {
		t.Fatalf("no settings button for the operator: %v", err)
	}
	if err := p.Exec(`document.getElementById('settings-open').click()`); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue(`!document.getElementById('settings-dialog').hidden && document.getElementById('set-title').value === 'options test' && document.getElementById('set-nsfm').checked`); err != nil {
		t.Fatalf("settings dialog not filled from the session: %v", err)
	}
	shot(t, p, "session-settings")
	if err := p.Exec(`document.getElementById('set-title').value = 'renamed';
		document.getElementById('set-maxusers').value = '5';
		document.getElementById('set-nopassword').checked = true;
		document.getElementById('settings-ok').click()`); err != nil {
		t.Fatal(err)
	}
	waitServer(t, "the new settings", func() bool {
		d := s.Desc()
		return d.Title == "renamed" && d.MaxUserCount == 5 && !d.HasPassword
	})

	// Draw, then download the PNG: its bytes equal the bot's render.
	sync := nextUpdate(p)
	pts := canvasLine(t, p, 30.0, 170, 35, 75, 0.8)
	// Input to pixel: the press is on the canvas (the raster Draw uploads)
	// as soon as the Update that handled it has run, i.e. in the same frame.
	events := 0
	sameFrame := func() error {
		if err := sync(); err != nil {
			return err
		}
		events++
		if events == 2 { // the hover, then the press
			px, err := Eval[[]int](p, "window.__drawbridge.pixel(30, 75)")
			if err != nil {
				return err
			}
			if px[0] > 128 {
				t.Errorf("own dab not on the canvas one update after the press: pixel %v", px)
			}
		}
		return nil
	}
	if err := p.PointerStroke(Stroke{Type: Pen, Points: pts}, sameFrame); err != nil {
		t.Fatal(err)
	}
	waitBot(t, msgs, "the host's pen-up", func(m botMsg) bool { return m.typ == protocol.TypePenUp })
	if err := p.Exec(`window.__dl = null; window.__dlName = null;
		const orig = URL.createObjectURL.bind(URL);
		URL.createObjectURL = (blob) => {
			blob.arrayBuffer().then((a) => {
				const u = new Uint8Array(a); let s = '';
				for (let i = 0; i < u.length; i++) s += String.fromCharCode(u[i]);
				window.__dl = btoa(s);
			});
			return orig(blob);
		};
		document.addEventListener('click', (e) => { if (e.target.download) { window.__dlName = e.target.download; e.preventDefault(); } }, true);
		document.getElementById('download').click();`); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.__dl !== null"); err != nil {
		t.Fatalf("no download: %v", err)
	}
	got, err := Eval[string](p, "window.__dl")
	if err != nil {
		t.Fatal(err)
	}
	if name, _ := Eval[string](p, "window.__dlName"); !strings.HasSuffix(name, ".png") {
		t.Errorf("download name %q", name)
	}
	want := base64.StdEncoding.EncodeToString(rp.png(t))
	if got != want {
		t.Errorf("downloaded PNG (%d base64 bytes) differs from the render of the session history (%d)", len(got), len(want))
	}
	p.CheckNoPanic(t)
}

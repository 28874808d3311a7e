package webtest

import (
	"strings"
	"testing"
)

// TestClientSpectatorLink: the host of a session (an operator) opens
// "Spectator link" from the side panel; the dialog gets the session's
// secret from the server, shows the links masked until asked, builds the
// embed link from the ticked options, and "New link…" replaces the secret
// on the server.
func TestClientSpectatorLink(t *testing.T) {
	dir := buildClient(t)
	b := startBridge(t)
	base := serveWithBridge(t, dir, b)
	br := Start(t, Options{Width: 1024, Height: 768})
	p := br.NewPage(t)
	if err := p.Navigate(base + "/"); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.__drawbridge && window.__drawbridge.page === 'landing'"); err != nil {
		t.Fatalf("%v\nconsole:\n%s", err, p.ConsoleText())
	}
	if err := p.Exec(`document.getElementById('host-open').click();
		document.getElementById('host-name').value = 'streamer';
		document.getElementById('host-title').value = 'stream';
		document.getElementById('host-ok').click();`); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.__drawbridge.session === 'connected' && document.getElementById('invite-code').textContent !== ''"); err != nil {
		t.Fatalf("hosting failed: %v\nconsole:\n%s", err, p.ConsoleText())
	}
	code, err := Eval[string](p, "document.getElementById('invite-code').textContent")
	if err != nil {
		t.Fatal(err)
	}
	s := b.Server().Lookup(code)
	if s == nil {
		t.Fatalf("room %q unknown", code)
	}
	if err := p.WaitTrue(`(() => { const b = document.getElementById('spectator-open'); return b !== null && !b.hidden; })()`); err != nil {
		t.Fatalf("no Spectator link button for the operator: %v", err)
	}
	if err := p.Exec(`document.getElementById('invite-close').click(); document.getElementById('spectator-open').click()`); err != nil {
		t.Fatal(err)
	}
	secretJS := `(document.getElementById('spectator-dialog').dataset.secret || '')`
	if err := p.WaitTrue(secretJS + ` !== ''`); err != nil {
		st, _ := Eval[string](p, "document.getElementById('spec-status').textContent")
		t.Fatalf("no secret from the server (status %q): %v\nconsole:\n%s", st, err, p.ConsoleText())
	}
	secret, _ := Eval[string](p, secretJS)
	if secret != s.WatchSecret() {
		t.Fatalf("dialog secret %q, session's %q", secret, s.WatchSecret())
	}
	text := func(id string) string {
		t.Helper()
		v, err := Eval[string](p, "document.getElementById('"+id+"').textContent")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if w := text("spec-watch"); strings.Contains(w, secret) {
		t.Errorf("the watch link is on screen before Show links: %q", w)
	}
	shot(t, p, "spectator-link")
	if err := p.Exec(`document.getElementById('spec-reveal').click();
		document.getElementById('spec-cursors').click();
		const d = document.getElementById('spec-delay'); d.value = '10'; d.dispatchEvent(new Event('input'));`); err != nil {
		t.Fatal(err)
	}
	if w := text("spec-watch"); w != base+"/watch/"+secret {
		t.Errorf("watch link %q, want %q", w, base+"/watch/"+secret)
	}
	if e := text("spec-embed"); e != base+"/embed/"+secret+"?bg=transparent&cursors=off&delay=10s" {
		t.Errorf("embed link %q", e)
	}
	// The links are small text, never headline size.
	if px, err := Eval[float64](p, "parseFloat(getComputedStyle(document.getElementById('spec-embed')).fontSize)"); err != nil || px > 14 {
		t.Errorf("embed link font size %v px (%v)", px, err)
	}

	if err := p.Exec(`window.confirm = () => true; document.getElementById('spec-rotate').click()`); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue(secretJS + ` !== '` + secret + `'`); err != nil {
		t.Fatalf("rotation did not reach the dialog: %v", err)
	}
	rotated, _ := Eval[string](p, secretJS)
	if rotated != s.WatchSecret() || b.Server().LookupWatch(secret) != nil {
		t.Fatalf("after rotation: dialog %q, session %q, old secret still valid: %v", rotated, s.WatchSecret(), b.Server().LookupWatch(secret) != nil)
	}
	if st := text("spec-status"); !strings.Contains(st, "old links") {
		t.Errorf("status after rotation %q", st)
	}
	p.CheckNoPanic(t)
}

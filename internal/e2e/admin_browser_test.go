package e2e

import (
	"errors"
	"strconv"
	"testing"

	"drawbridge/internal/client"
	"drawbridge/internal/webtest"
)

// TestAdminPageInBrowser drives the built-in admin page in headless
// Chromium: it signs in, lists a live session with its user count, and
// kicks a real user.
func TestAdminPageInBrowser(t *testing.T) {
	e := newAdminEnv(t, "admin", "pa:ss")
	e.login("alice", client.LoginOptions{Host: &client.HostOptions{Alias: "browsertest",
		Config: &client.SessionConf{Title: client.Ptr("Browser test session")}}})
	bob := e.login("bob", client.LoginOptions{Join: &client.JoinOptions{Session: "browsertest"}})

	b := webtest.Start(t, webtest.Options{Width: 1200, Height: 900})
	p := b.NewPage(t)
	if err := p.Navigate(e.base + "/"); err != nil {
		t.Fatal(err)
	}
	// Not signed in yet: the login form shows and no data is visible.
	if err := p.WaitTrue(`!document.querySelector('#login').hidden`); err != nil {
		t.Fatalf("login form: %v\n%s", err, p.ConsoleText())
	}
	// A wrong password keeps the form up with an error.
	signIn := func(user, pass string) error {
		return p.Exec(`(() => {
			document.querySelector('#login-user').value = ` + strconv.Quote(user) + `;
			document.querySelector('#login-pass').value = ` + strconv.Quote(pass) + `;
			document.querySelector('#login-submit').click();
		})()`)
	}
	if err := signIn("admin", "wrong"); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue(`!document.querySelector('#error').hidden && !document.querySelector('#login').hidden`); err != nil {
		t.Fatalf("wrong password not reported: %v", err)
	}
	if err := signIn("admin", "pa:ss"); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue(`document.body.dataset.ready === '1' && document.querySelector('#status-list dd')`); err != nil {
		t.Fatalf("status page: %v\n%s", err, p.ConsoleText())
	}

	// Sessions tab: the live session with its user count.
	if err := p.Exec(`document.querySelector('nav button[data-tab=sessions]').click()`); err != nil {
		t.Fatal(err)
	}
	row := `[...document.querySelectorAll('#sessions-table tbody tr')].find(tr => tr.textContent.includes('Browser test session'))`
	if err := p.WaitTrue(row + `?.querySelector('.user-count').textContent.startsWith('2 /')`); err != nil {
		t.Fatalf("session not listed with 2 users: %v\n%s", err, p.ConsoleText())
	}
	if err := p.Exec(row + `.click()`); err != nil {
		t.Fatal(err)
	}
	bobRow := `document.querySelector('#sd-users tbody tr[data-user="bob"]')`
	if err := p.WaitTrue(bobRow); err != nil {
		t.Fatalf("session detail without bob: %v", err)
	}
	// Kick is a two-step button: arm it, then confirm.
	if err := p.Exec(bobRow + `.querySelector('button.kick').click()`); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue(bobRow + `.querySelector('button.kick').classList.contains('confirm')`); err != nil {
		t.Fatal(err)
	}
	if err := p.Exec(bobRow + `.querySelector('button.kick').click()`); err != nil {
		t.Fatal(err)
	}
	var de *client.DisconnectError
	if err := e.untilDisconnected(bob); !errors.As(err, &de) || de.Reason != client.ReasonKick {
		t.Fatalf("bob: %v, want a kick", err)
	}
	if err := p.WaitTrue(`!` + bobRow + ` && document.querySelector('#sd-users tbody tr[data-user="alice"]')`); err != nil {
		t.Fatalf("page still lists bob: %v", err)
	}
	if err := p.WaitTrue(row + `?.querySelector('.user-count').textContent.startsWith('1 /')`); err != nil {
		t.Fatalf("user count not updated: %v", err)
	}
	p.CheckNoPanic(t)
}

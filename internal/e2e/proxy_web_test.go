package e2e

import (
	"fmt"
	"testing"

	"drawbridge/internal/bridge"
	"drawbridge/internal/client"
	"drawbridge/internal/session"
	"drawbridge/internal/wsproxy"
)

// TestProxyHonoursAllowWeb: the upstream sees the proxy as a TCP app
// client, so the relay applies the upstream's browser rules itself: a
// browser may not join a session whose description says allowWeb:false
// (noWebJoin, and the join never reaches the upstream), unless it looked
// the session up with an invite the upstream accepted; a non-browser
// client through the same proxy joins like any app client.
func TestProxyHonoursAllowWeb(t *testing.T) {
	t.Parallel()
	up := newEnv(t)
	alice := up.hostDirect("Alice", "noweb", nil)
	if err := alice.SessionConf(up.ctx, client.SessionConf{AllowWeb: client.Ptr(false)}); err != nil {
		t.Fatal(err)
	}
	up.sync(alice)
	p := newProxy(t, up, bridge.ProxyConfig{Upstreams: []string{up.tcpAddr}})
	path := upstreamPath(up.tcpAddr)

	// A browser is refused.
	web := p.dialProxy(t, path, true)
	if err := loginErr(p, web, "Webby", "noweb"); client.ErrorCode(err) != wsproxy.CodeNoWebJoin {
		t.Errorf("browser join of an allowWeb:false session: %v, want %s", err, wsproxy.CodeNoWebJoin)
	}
	// Without lookup the relay cannot check, so it refuses too.
	blind := p.dialProxy(t, path, true)
	_, err := blind.Login(up.ctx, client.LoginOptions{NoLookup: true, Ident: client.IdentOptions{Name: "Blind"}, Join: &client.JoinOptions{Session: "noweb"}})
	if client.ErrorCode(err) != wsproxy.CodeNoWebJoin {
		t.Errorf("browser join without lookup: %v, want %s", err, wsproxy.CodeNoWebJoin)
	}
	// The upstream never saw either of them join.
	for _, r := range up.sync(alice) {
		if r.Type == 32 { // Join
			t.Errorf("a refused browser reached the session: %v", r)
		}
	}

	// An app client (no Origin) through the proxy is not a browser.
	app := p.dialProxy(t, path, false)
	if err := loginErr(p, app, "App", "noweb"); err != nil {
		t.Errorf("non-browser join through the proxy: %v", err)
	}
	if app.Browser() {
		t.Errorf("non-browser client told browser=true")
	}

	// An invite accepted by the upstream lets a browser in, as upstream.
	if err := alice.InviteCreate(up.ctx, 1, false, false); err != nil {
		t.Fatal(err)
	}
	rs := up.until(alice, "invitecreated", reply("invitecreated"))
	secret := rs[len(rs)-1].Reply.Secret
	invited := p.dialProxy(t, path, true)
	if err := loginErr(p, invited, "Invited", "noweb:"+secret); err != nil {
		t.Errorf("browser join with an invite: %v", err)
	}
}

// TestProxyBrowserFlags: on an upstream that does not grant guests the
// WEB flag, a browser's ident is refused (webNotAllowed); where guests may
// not host from the web (no WEBHOST), a browser's host is refused
// (unauthorizedHost) while an app client through the same proxy may host.
func TestProxyBrowserFlags(t *testing.T) {
	t.Parallel()
	noWeb := newEnv(t, withSettings(func(s *session.Settings) { s.AllowGuestWeb = false }))
	noWebHost := newEnv(t, withSettings(func(s *session.Settings) { s.AllowGuestWebHosts = false }))
	noWeb.hostDirect("Alice", "any", nil)
	p := newProxy(t, noWeb, bridge.ProxyConfig{Upstreams: []string{noWeb.tcpAddr, noWebHost.tcpAddr}})

	c := p.dialProxy(t, upstreamPath(noWeb.tcpAddr), true)
	if err := loginErr(p, c, "Webby", "any"); client.ErrorCode(err) != wsproxy.CodeWebNotAllowed {
		t.Errorf("browser ident without WEB: %v, want %s", err, wsproxy.CodeWebNotAllowed)
	}

	hostAs := func(browser bool) error {
		c := p.dialProxy(t, upstreamPath(noWebHost.tcpAddr), browser)
		_, err := c.Login(p.ctx, client.LoginOptions{Ident: client.IdentOptions{Name: "Hosty"}, Host: &client.HostOptions{Alias: fmt.Sprint("h", browser)}})
		return err
	}
	if err := hostAs(true); client.ErrorCode(err) != wsproxy.CodeUnauthorizedHost {
		t.Errorf("browser host without WEBHOST: %v, want %s", err, wsproxy.CodeUnauthorizedHost)
	}
	if err := hostAs(false); err != nil {
		t.Errorf("app client host through the proxy: %v", err)
	}
}

//go:build js

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"syscall/js"
	"time"
)

// proxyTarget is the JSON of the bridge's GET /api/proxy/resolve
// (internal/bridge/proxy.go).
type proxyTarget struct {
	Host    string `json:"host"`
	Port    int    `json:"port"`
	Session string `json:"session"`
	Invite  string `json:"invite"`
	Room    string `json:"room"`
	WS      string `json:"ws"`
	Error   string `json:"error"`
	Code    string `json:"code"`
}

// resolveProxy asks the bridge where /join?QUERY leads; query is the page's
// query string without '?'.
func resolveProxy(ctx context.Context, query string) (*proxyTarget, error) {
	resp, err := await(ctx, js.Global().Call("fetch", "/api/proxy/resolve?"+query, map[string]any{"cache": "no-store"}))
	if err != nil {
		return nil, fmt.Errorf("the bridge is unreachable (%v)", err)
	}
	status := resp.Get("status").Int()
	text, err := await(ctx, resp.Call("text"))
	if err != nil {
		return nil, err
	}
	var pt proxyTarget
	if err := json.Unmarshal([]byte(text.String()), &pt); err != nil {
		return nil, fmt.Errorf("this bridge does not relay to other servers (HTTP %d)", status)
	}
	if status != 200 || pt.Error != "" {
		if pt.Error == "" {
			pt.Error = fmt.Sprintf("HTTP %d", status)
		}
		return nil, errors.New(pt.Error)
	}
	if pt.WS == "" || pt.WS[0] != '/' {
		return nil, errors.New("the bridge gave no relay address")
	}
	if pt.Session == "" {
		return nil, errors.New("the link names no session to join")
	}
	return &pt, nil
}

// startProxy starts the network goroutine of a proxied join (/join?…).
func (g *Game) startProxy(name, query, password string) {
	if g.netCancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.netCancel = cancel
	go runProxy(ctx, g.logger, name, query, password, g.pwc, g.netc)
}

// runProxy is the network goroutine of /join?host=H&port=P&session=S: the
// bridge resolves the upstream (checking its allowlist), then the page
// joins through the bridge's relay WebSocket like any session. The
// upstream's session protocol is learnt from its session list at login.
func runProxy(ctx context.Context, logger *slog.Logger, name, query, password string, pwc <-chan string, out chan<- netEvent) {
	start := time.Now()
	send := sender(ctx, out)
	send(netEvent{status: "Looking up the server…"})
	pt, err := resolveProxy(ctx, query)
	if err != nil {
		send(netEvent{err: err})
		return
	}
	if password == "" && pt.Invite != "" {
		password = pt.Invite
	}
	title := fmt.Sprintf("%s on %s", pt.Session, pt.Host)
	logger.Info("proxy target", "host", pt.Host, "port", pt.Port, "session", pt.Session, "elapsed", time.Since(start))
	runJoin(ctx, logger, start, name, password, target{ws: wsOrigin() + pt.WS, session: pt.Session, title: title, code: pt.Room}, pwc, send)
}

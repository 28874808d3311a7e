//go:build js

package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"syscall/js"
	"time"

	"drawbridge/internal/client"
	"drawbridge/internal/webui"
	"drawbridge/protocol"
)

// roomInfo is the JSON of the bridge's GET /api/rooms/{code}.
type roomInfo struct {
	ID          string `json:"id"`
	Code        string `json:"code"`
	Title       string `json:"title"`
	Protocol    string `json:"protocol"`
	HasPassword bool   `json:"hasPassword"`
	AllowWeb    bool   `json:"allowWeb"`
}

// joined is sent once after a successful login.
type joined struct {
	c      *client.Client
	userID uint8
	layout protocol.Layout
	title  string
	code   string // room code ("" when unknown)
	host   bool   // this page hosts the session (no catch-up)
	// reconnect is set on a join after a lost connection; resumed when the
	// server continues after our history index (else it replays it all).
	reconnect, resumed bool
	// snapshot is the initial canvas a host uploaded; the server does not
	// echo an upload to its uploader, so it is applied locally.
	snapshot []protocol.Message
	// readOnly is a spectator stream: c is nil and nothing is sent.
	readOnly bool
}

// inFrame is one session message for Update.
type inFrame struct {
	f        protocol.Frame // owned by the receiver
	from     string         // user name of the frame's context (chat)
	caughtUp bool           // catch-up finished with this message
	got, of  int            // catch-up progress
	// conf is the config object of a sessionconf ServerCommand (full in
	// the history, partial such as "muted" outside it), else nil.
	conf map[string]json.RawMessage
	// reset: the session's history is replaced ({"type":"reset",
	// "state":"reset"}); a new catch-up follows.
	reset bool
}

// await waits for a JavaScript promise.
func await(ctx context.Context, p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	var then, catch js.Func
	then = js.FuncOf(func(this js.Value, args []js.Value) any {
		ch <- result{v: args[0]}
		return nil
	})
	catch = js.FuncOf(func(this js.Value, args []js.Value) any {
		ch <- result{err: errors.New(args[0].Call("toString").String())}
		return nil
	})
	defer then.Release()
	defer catch.Release()
	p.Call("then", then).Call("catch", catch)
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return js.Undefined(), ctx.Err()
	}
}

// lookupRoom asks the bridge which session a room code names.
func lookupRoom(ctx context.Context, code string) (*roomInfo, error) {
	resp, err := await(ctx, js.Global().Call("fetch", "/api/rooms/"+code, map[string]any{"cache": "no-store"}))
	if err != nil {
		return nil, fmt.Errorf("the server is unreachable (%v)", err)
	}
	status := resp.Get("status").Int()
	if status == 404 {
		return nil, fmt.Errorf("room %s does not exist (or the session has ended)", code)
	}
	if status != 200 {
		return nil, fmt.Errorf("room lookup failed: HTTP %d", status)
	}
	text, err := await(ctx, resp.Call("text"))
	if err != nil {
		return nil, err
	}
	var ri roomInfo
	if err := json.Unmarshal([]byte(text.String()), &ri); err != nil {
		return nil, fmt.Errorf("room lookup: %w", err)
	}
	return &ri, nil
}

// wsURL is the bridge's WebSocket endpoint on the page's own origin.
func wsURL() string { return wsOrigin() + "/ws" }

// wsOrigin is ws://host or wss://host of the page.
func wsOrigin() string {
	loc := js.Global().Get("location")
	scheme := "ws:"
	if loc.Get("protocol").String() == "https:" {
		scheme = "wss:"
	}
	return scheme + "//" + loc.Get("host").String()
}

// target is a session to join and how to reach it.
type target struct {
	ws      string // WebSocket URL
	session string // id or alias to join
	title   string
	code    string // room code ("" when unknown)
	// layout is the session's message layout; hasLayout false means
	// "unknown before login" (proxied upstreams): it is then taken from
	// the session list the server sent during login.
	layout    protocol.Layout
	hasLayout bool
	// needPassword: the session is known to have a password.
	needPassword bool
}

// runSession is the network goroutine of /r/CODE: it looks the room up,
// then joins it (runJoin). It ends when ctx is cancelled or the connection
// fails; a failure is sent as a netEvent with err set (which ends the
// session view, not the page).
func runSession(ctx context.Context, logger *slog.Logger, name, room, password string, pwc <-chan string, out chan<- netEvent) {
	start := time.Now()
	send := sender(ctx, out)
	send(netEvent{status: "Looking up room " + room + "…"})
	ri, err := lookupRoom(ctx, room)
	if err != nil {
		send(netEvent{err: err})
		return
	}
	if !ri.AllowWeb {
		send(netEvent{err: fmt.Errorf("this session does not allow web browsers")})
		return
	}
	layout, ok := protocol.LayoutFor(ri.Protocol)
	if !ok {
		send(netEvent{err: fmt.Errorf("the session uses protocol %s, which this client does not speak", ri.Protocol)})
		return
	}
	logger.Info("room found", "room", room, "session", ri.ID, "elapsed", time.Since(start))
	runJoin(ctx, logger, start, name, password, target{ws: wsURL(), session: ri.ID, title: ri.Title, code: ri.Code,
		layout: layout, hasLayout: true, needPassword: ri.HasPassword}, pwc, send)
}

// sender returns a function that hands an event to Update, false when ctx
// ended first.
func sender(ctx context.Context, out chan<- netEvent) func(netEvent) bool {
	return func(ev netEvent) bool {
		select {
		case out <- ev:
			return true
		case <-ctx.Done():
			return false
		}
	}
}

// runJoin joins tg and pumps its messages to Update. It asks for the
// password through the page (reading it from pwc) when the session is
// known to need one, or when the server refused an empty one. After a
// dropped connection it reconnects with the history index (hidx) so the
// server resumes where we were; login failures and a server's Disconnect
// are final.
func runJoin(ctx context.Context, logger *slog.Logger, start time.Time, name, password string, tg target, pwc <-chan string, send func(netEvent) bool) {
	fail := func(err error) { send(netEvent{err: err}) }
	askPassword := func() bool {
		if !send(netEvent{needPassword: true}) {
			return false
		}
		select {
		case password = <-pwc:
			return true
		case <-ctx.Done():
			return false
		}
	}
	if tg.needPassword && password == "" && !askPassword() {
		return
	}
	var hidx string
	backoff := time.Second
	for attempt := 0; ; attempt++ {
		if attempt == 0 {
			send(netEvent{status: "Connecting…"})
		}
		c, ji, err := joinOnce(ctx, tg.ws, name, tg.session, password, hidx)
		if err != nil {
			var se *client.ServerError
			if attempt == 0 && password == "" && errors.As(err, &se) && se.Code == "badPassword" {
				// The session has a password we did not know of.
				if !askPassword() {
					return
				}
				attempt = -1
				continue
			}
			if attempt == 0 || errors.As(err, &se) {
				fail(loginError(err))
				return
			}
			if !send(netEvent{status: "Connection lost · reconnecting in " + backoff.String() + "…"}) || !sleepCtx(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, 15*time.Second)
			continue
		}
		backoff = time.Second
		if !tg.hasLayout {
			tg.layout, tg.hasLayout = protocol.Layout425, true
			if si, ok := c.Session(ji.ID); ok {
				l, ok := protocol.LayoutFor(si.Protocol)
				if !ok {
					c.Close()
					fail(fmt.Errorf("the session uses protocol %s, which this client does not speak", si.Protocol))
					return
				}
				tg.layout = l
				if tg.title == "" || si.Title != "" {
					tg.title = si.Title
				}
			}
		}
		resumed := ji.Skip != nil && *ji.Skip
		logger.Info("joined", "user", c.UserID(), "attempt", attempt, "resumed", resumed, "elapsed", time.Since(start))
		if !send(netEvent{joined: &joined{c: c, userID: c.UserID(), layout: tg.layout, title: tg.title, code: tg.code,
			reconnect: attempt > 0, resumed: resumed}}) {
			c.Close()
			return
		}
		err = pump(ctx, logger, c, start, send)
		hidx = c.ResumeHidx()
		c.Close()
		if ctx.Err() != nil {
			return
		}
		var de *client.DisconnectError
		if errors.As(err, &de) {
			if de.Message != "" {
				fail(errors.New(de.Message))
			} else {
				fail(errors.New("the server closed the session"))
			}
			return
		}
		logger.Warn("connection lost", "err", err)
		if !send(netEvent{status: "Connection lost · reconnecting…"}) {
			return
		}
	}
}

// joinOnce dials the WebSocket at url and joins the session.
func joinOnce(ctx context.Context, url, name, session, password, hidx string) (*client.Client, *client.JoinInfo, error) {
	dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	conn, err := dialWS(dctx, url)
	cancel()
	if err != nil {
		return nil, nil, fmt.Errorf("the server is unreachable: %w", err)
	}
	c := client.New(conn, client.Options{Info: client.DefaultClientInfo(systemID())})
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ji, err := c.Login(lctx, client.LoginOptions{
		HostName: js.Global().Get("location").Get("hostname").String(),
		Ident:    client.IdentOptions{Name: name},
		Join:     &client.JoinOptions{Session: session, Password: password, Hidx: hidx},
	})
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, ji, nil
}

// sleepCtx waits d or until ctx ends; false means ctx ended.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// pump reads session messages and hands them to Update until the
// connection ends; it returns why (nil when ctx or Update went away).
func pump(ctx context.Context, logger *slog.Logger, c *client.Client, start time.Time, send func(netEvent) bool) error {
	caughtUp := false
	for {
		m, err := c.Recv(ctx)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("the connection closed")
			}
			return err
		}
		in := &inFrame{f: m.Frame.Clone(), caughtUp: c.CaughtUp()}
		if in.caughtUp && !caughtUp {
			caughtUp = true
			logger.Info("caught up", "elapsed", time.Since(start))
		}
		in.got, in.of = c.CatchupProgress()
		if m.Frame.Type() == protocol.TypeChat {
			in.from = c.Users()[m.Frame.Ctx()]
		}
		if r := m.Reply; r != nil {
			switch {
			case r.Type == "sessionconf":
				in.conf = r.Config
			case r.Type == "reset" && r.State == "reset":
				in.reset = true
			}
		}
		if !send(netEvent{frame: in}) {
			return nil
		}
	}
}

// hostOptions are the host dialog's fields.
type hostOptions struct {
	Title, Password, Alias string
	NSFM, Unlisted         bool
	Persistent, AllowWeb   bool
	Width, Height          int
	Background             webui.Color
}

// runHost is the network goroutine of a session hosted from this page:
// it logs in with host, sends the initial canvas (size, a background
// layer filled with the background colour, and an empty "Layer 1"),
// looks up the room code and then pumps messages like runSession. The
// server does not echo the upload to its uploader, so the snapshot travels
// to Update in the joined event and is applied there.
func runHost(ctx context.Context, logger *slog.Logger, name string, ho hostOptions, out chan<- netEvent) {
	start := time.Now()
	send := func(ev netEvent) bool {
		select {
		case out <- ev:
			return true
		case <-ctx.Done():
			return false
		}
	}
	fail := func(err error) { send(netEvent{err: err}) }
	if ho.Width < 1 || ho.Height < 1 || ho.Width > webui.MaxRasterSide || ho.Height > webui.MaxRasterSide || ho.Width*ho.Height > webui.MaxRasterPixels {
		fail(fmt.Errorf("canvas size %dx%d is out of range (up to %d pixels a side)", ho.Width, ho.Height, webui.MaxRasterSide))
		return
	}
	send(netEvent{status: "Connecting…"})
	dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	conn, err := dialWS(dctx, wsURL())
	cancel()
	if err != nil {
		fail(fmt.Errorf("the server is unreachable: %w", err))
		return
	}
	defer conn.Close()
	c := client.New(conn, client.Options{Info: client.DefaultClientInfo(systemID())})
	yes := true
	// Unlisting and persistence are subject to the server's rules
	// (moderators, unlistedHostPolicy, the persistence setting): the
	// server ignores what it does not allow.
	conf := &client.SessionConf{AllowWeb: &ho.AllowWeb, NSFM: &ho.NSFM, Unlisted: &ho.Unlisted, Persistent: &ho.Persistent}
	if ho.Title != "" {
		conf.Title = &ho.Title
	}
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	ji, err := c.Login(lctx, client.LoginOptions{
		HostName: js.Global().Get("location").Get("hostname").String(),
		Ident:    client.IdentOptions{Name: name},
		Host:     &client.HostOptions{Alias: ho.Alias, Password: ho.Password, Web: &yes, Config: conf},
	})
	cancel()
	if err != nil {
		fail(loginError(err))
		return
	}
	uid := c.UserID()
	bg := ho.Background.ARGB() | 0xff000000
	snapshot := []protocol.Message{
		protocol.CanvasResize{Right: int32(ho.Width), Bottom: int32(ho.Height)},
		protocol.LayerTreeCreate{ID: protocol.LayerID(uid, 1), Fill: bg, Title: "Background"},
		protocol.LayerTreeCreate{ID: protocol.LayerID(uid, 2), Target: protocol.LayerID(uid, 1), Title: "Layer 1"},
	}
	var frames []protocol.Frame
	for _, m := range snapshot {
		f, err := protocol.EncodeFrame(uid, m, protocol.Layout425)
		if err != nil {
			fail(err)
			return
		}
		frames = append(frames, f)
	}
	ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = c.Initialize(ictx, frames)
	cancel()
	if err != nil {
		fail(fmt.Errorf("send the initial canvas: %w", err))
		return
	}
	code := ""
	if ri, err := lookupRoom(ctx, ji.ID); err == nil {
		code = ri.Code
	}
	logger.Info("hosting", "session", ji.ID, "code", code, "elapsed", time.Since(start))
	if !send(netEvent{joined: &joined{c: c, userID: uid, layout: protocol.Layout425, title: ho.Title, code: code, host: true, snapshot: snapshot}}) {
		return
	}
	if err := pump(ctx, logger, c, start, send); err != nil && ctx.Err() == nil {
		var de *client.DisconnectError
		if errors.As(err, &de) && de.Message != "" {
			err = errors.New(de.Message)
		}
		fail(err)
	}
}

// sidKey is the localStorage key of this browser's system id.
const sidKey = "drawbridge.sid"

// systemID returns the browser's persistent system id (32 hex digits, as
// Drawpile servers require), creating it on first use.
func systemID() string {
	ls := js.Global().Get("localStorage")
	if ls.Truthy() {
		if v := ls.Call("getItem", sidKey); v.Truthy() && webui.ValidSystemID(v.String()) {
			return v.String()
		}
	}
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	id := webui.SystemIDFrom(b)
	if ls.Truthy() {
		ls.Call("setItem", sidKey, id)
	}
	return id
}

// loginError turns login failures into messages for people.
func loginError(err error) error {
	var se *client.ServerError
	if errors.As(err, &se) {
		switch se.Code {
		case "badPassword":
			return errors.New("wrong password")
		case "sessionFull":
			return errors.New("the session is full")
		case "banned":
			return errors.New("you are banned from this session")
		case "noWeb", "webNotAllowed":
			return errors.New("this session does not allow web browsers")
		case "notFound", "noSession":
			return errors.New("the session is gone")
		}
		if se.Message != "" {
			return errors.New(se.Message)
		}
	}
	return err
}

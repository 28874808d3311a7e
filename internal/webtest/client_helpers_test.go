package webtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"drawbridge/internal/bridge"
	"drawbridge/internal/client"
	"drawbridge/protocol"
)

// nextUpdate returns the sync function for Page.PointerStroke with the web
// client: it waits until the game loop has run one more Update after an
// event, so no synthesized input is merged or missed (browser-testing.md).
func nextUpdate(p *Page) func() error {
	return func() error {
		n, err := p.Counter("window.__drawbridge.updates")
		if err != nil {
			return err
		}
		return p.WaitAdvance("window.__drawbridge.updates", n, 1)
	}
}

// canvasLine returns pen points in screen coordinates along canvas row y,
// from canvas x0 to x1 (inclusive) every dx pixels, all at pressure.
func canvasLine(t *testing.T, p *Page, x0, x1, dx, y, pressure float64) []Point {
	t.Helper()
	var pts []Point
	for x := x0; x <= x1; x += dx {
		v, err := Eval[[]float64](p, fmt.Sprintf("window.__drawbridge.toScreen(%v, %v)", x, y))
		if err != nil {
			t.Fatal(err)
		}
		pts = append(pts, Point{X: v[0], Y: v[1], Pressure: pressure})
	}
	return pts
}

// hostBot makes a Go bot host a browser-enabled session on b over TCP with
// the alias, password (none when empty) and title, and initializes it with
// msgs sent as context id 1. The bot is closed when the test ends.
func hostBot(t testing.TB, b *bridge.Bridge, alias, password, title string, msgs []protocol.Message) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := client.DialTCP(ctx, b.TCPAddr())
	if err != nil {
		t.Fatal(err)
	}
	bot := client.New(conn, client.Options{Info: client.DefaultClientInfo("0123456789abcdef0123456789abcdef")})
	t.Cleanup(func() { bot.Close() })
	if _, err := bot.Login(ctx, client.LoginOptions{
		Ident: client.IdentOptions{Name: "bot"},
		Host: &client.HostOptions{Alias: alias, Password: password, Web: client.Ptr(true),
			Config: &client.SessionConf{Title: client.Ptr(title), AllowWeb: client.Ptr(true)}},
	}); err != nil {
		t.Fatalf("bot host: %v", err)
	}
	frames := make([]protocol.Frame, 0, len(msgs))
	for _, m := range msgs {
		f, err := protocol.EncodeFrame(1, m, protocol.Layout425)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
	if err := bot.Initialize(ctx, frames); err != nil {
		t.Fatalf("bot initialize: %v", err)
	}
	return bot
}

// drainBot reads and discards the bot's messages until it is closed.
func drainBot(bot *client.Client) {
	go func() {
		for {
			if _, err := bot.Recv(context.Background()); err != nil {
				return
			}
		}
	}()
}

// readBot starts the bot's reader: every message is applied to rp and
// offered on the returned channel (dropped when the channel is full). It
// ends when the bot is closed.
func readBot(bot *client.Client, rp *replay) <-chan botMsg {
	msgs := make(chan botMsg, 4096)
	go func() {
		for {
			m, err := bot.Recv(context.Background())
			if err != nil {
				return
			}
			dm, err := protocol.Decode(m.Frame, protocol.Layout425)
			if err != nil {
				continue
			}
			rp.apply(m.Frame.Ctx(), dm)
			select {
			case msgs <- botMsg{typ: m.Frame.Type(), ctx: m.Frame.Ctx(), msg: dm}:
			default:
			}
		}
	}()
	return msgs
}

//go:build js

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"drawbridge/internal/client"
	"drawbridge/internal/webui"
	"drawbridge/protocol"
)

// watchHello is the first message of the bridge's spectator stream
// (internal/bridge/watch.go).
type watchHello struct {
	Type     string  `json:"type"`
	ID       string  `json:"id"`
	Title    string  `json:"title"`
	Protocol string  `json:"protocol"`
	Delay    float64 `json:"delay"`
}

// startWatch starts the network goroutine of a spectator or embed page.
func (g *Game) startWatch(vo webui.ViewerOptions) {
	if g.netCancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.netCancel = cancel
	go runWatch(ctx, g.logger, vo, g.netc)
}

// runWatch is the network goroutine of a spectator page: it opens the
// bridge's spectator WebSocket (no login, nothing is ever sent), reads the
// hello, then hands every message to Update like pump does, following the
// catch-up for the progress bar. It ends when ctx ends or the stream does
// (the session ended, or the bridge dropped a slow viewer).
func runWatch(ctx context.Context, logger *slog.Logger, vo webui.ViewerOptions, out chan<- netEvent) {
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
	send(netEvent{status: "Connecting…"})
	dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	conn, err := dialWS(dctx, wsOrigin()+vo.WSPath())
	cancel()
	if err != nil {
		fail(fmt.Errorf("cannot watch this session (it may have ended): %w", err))
		return
	}
	defer conn.Close()
	f, err := conn.ReadFrame(ctx)
	if err != nil {
		fail(fmt.Errorf("cannot watch this session: %w", err))
		return
	}
	var hello watchHello
	if f.Type() != protocol.TypeServerCommand || json.Unmarshal(f.Payload(), &hello) != nil || hello.Type != "watch" {
		fail(errors.New("the server did not start a spectator stream"))
		return
	}
	layout, ok := protocol.LayoutFor(hello.Protocol)
	if !ok {
		fail(fmt.Errorf("the session uses protocol %s, which this client does not speak", hello.Protocol))
		return
	}
	logger.Info("watching", "session", hello.ID, "delay", hello.Delay, "elapsed", time.Since(start))
	if !send(netEvent{joined: &joined{layout: layout, title: hello.Title, readOnly: true}}) {
		return
	}
	var cu webui.Catchup
	for {
		f, err := conn.ReadFrame(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, io.EOF) {
				err = errors.New("the session ended")
			}
			fail(err)
			return
		}
		in := &inFrame{f: f}
		switch t := f.Type(); {
		case t == protocol.TypeServerCommand:
			r, err := client.ParseReply(f.Payload())
			if err != nil {
				continue
			}
			cu.Notice(r.Type, r.Count)
			switch {
			case r.Type == "sessionconf":
				in.conf = r.Config
			case r.Type == "reset" && r.State == "reset":
				in.reset = true
			}
		case t == protocol.TypeDisconnect:
			fail(errors.New("the session ended"))
			return
		case t < 32:
			continue // keepalives and pings: nothing to answer
		default:
			cu.Message()
		}
		if cu.CaughtUp && !in.caughtUp {
			in.caughtUp = true
		}
		in.got, in.of = cu.Got, cu.Of
		if !send(netEvent{frame: in}) {
			return
		}
	}
}

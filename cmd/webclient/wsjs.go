//go:build js

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall/js"

	"drawbridge/internal/client"
	"drawbridge/protocol"
)

// maxWSQueue bounds the frames buffered between the browser's WebSocket
// and the network goroutine (2^16 frames of up to 64 KiB is far more than
// one catch-up burst between two reads; over it the connection is closed
// rather than growing without limit).
const maxWSQueue = 1 << 16

// wsConn is a client.Transport over the browser's WebSocket API, in the
// 2-byte WebSocket framing (protocol.md §1.2, §6): one binary message per
// protocol message.
//
// Goroutines: the browser's event callbacks (onmessage, onclose) run on
// callback goroutines and only append to the queue under mu; ReadFrame is
// called by the network goroutine, WriteFrame by any goroutine.
type wsConn struct {
	ws js.Value // immutable after dial

	mu     sync.Mutex
	queue  []protocol.Frame // guarded by mu
	err    error            // guarded by mu: set once when closed
	notify chan struct{}    // capacity 1: "queue or err changed"

	funcs []js.Func
}

var _ client.Transport = (*wsConn)(nil)

// dialWS opens a WebSocket to url and waits until it is open.
func dialWS(ctx context.Context, url string) (*wsConn, error) {
	c := &wsConn{notify: make(chan struct{}, 1)}
	ws := js.Global().Get("WebSocket").New(url)
	ws.Set("binaryType", "arraybuffer")
	c.ws = ws
	opened := make(chan struct{})
	var once sync.Once
	c.on("open", func(js.Value) { once.Do(func() { close(opened) }) })
	c.on("message", func(e js.Value) {
		data := e.Get("data")
		if data.Type() != js.TypeObject || !data.InstanceOf(js.Global().Get("ArrayBuffer")) {
			c.fail(fmt.Errorf("websocket: non-binary message"))
			return
		}
		arr := js.Global().Get("Uint8Array").New(data)
		b := make([]byte, arr.Length())
		js.CopyBytesToGo(b, arr)
		f, err := protocol.FrameFromWS(b)
		if err != nil {
			c.fail(fmt.Errorf("websocket: %w", err))
			return
		}
		c.mu.Lock()
		if len(c.queue) >= maxWSQueue {
			c.mu.Unlock()
			c.fail(errors.New("websocket: receive queue full"))
			return
		}
		c.queue = append(c.queue, f)
		c.mu.Unlock()
		c.wake()
	})
	c.on("close", func(e js.Value) {
		code := e.Get("code").Int()
		if code == 1000 || code == 1001 {
			c.fail(io.EOF)
		} else {
			c.fail(fmt.Errorf("websocket closed (code %d): %s", code, e.Get("reason").String()))
		}
		once.Do(func() { close(opened) })
	})
	select {
	case <-opened:
	case <-ctx.Done():
		c.Close()
		return nil, ctx.Err()
	}
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", url, err)
	}
	return c, nil
}

func (c *wsConn) on(typ string, f func(js.Value)) {
	fn := js.FuncOf(func(this js.Value, args []js.Value) any {
		f(args[0])
		return nil
	})
	c.funcs = append(c.funcs, fn)
	c.ws.Call("addEventListener", typ, fn)
}

func (c *wsConn) wake() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

func (c *wsConn) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
	c.wake()
}

// ReadFrame returns the next frame in TCP framing; io.EOF after a normal
// close.
func (c *wsConn) ReadFrame(ctx context.Context) (protocol.Frame, error) {
	for {
		c.mu.Lock()
		if len(c.queue) > 0 {
			f := c.queue[0]
			c.queue[0] = nil
			c.queue = c.queue[1:]
			c.mu.Unlock()
			return f, nil
		}
		err := c.err
		c.mu.Unlock()
		if err != nil {
			return nil, err
		}
		select {
		case <-c.notify:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// WriteFrame sends one frame. The browser buffers sends; ctx is only
// checked before sending.
func (c *wsConn) WriteFrame(ctx context.Context, f protocol.Frame) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	if err != nil {
		return err
	}
	b := f.WS()
	arr := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(arr, b)
	c.ws.Call("send", arr)
	return nil
}

// Close closes the socket normally.
func (c *wsConn) Close() error {
	c.ws.Call("close", 1000)
	c.fail(io.EOF)
	return nil
}

// drop closes the socket as a network failure would (code 4000), for the
// test hook: the session then reconnects.
func (c *wsConn) drop() {
	c.ws.Call("close", 4000, "dropped by test hook")
}

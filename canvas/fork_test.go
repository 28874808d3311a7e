package canvas

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"drawbridge/protocol"
)

const (
	forkOwn    = 1
	forkRemote = 2
)

var forkLayer = protocol.LayerID(forkOwn, 1)

// forkSetup is the server history before the client starts drawing.
func forkSetup(depth uint8) []protocol.Message {
	return []protocol.Message{
		protocol.UndoDepth{Depth: depth},
		protocol.CanvasResize{Right: 150, Bottom: 100},
		protocol.LayerTreeCreate{ID: forkLayer, Fill: 0xffffffff, Title: "bg"},
	}
}

type forkEnvelope struct {
	ctx uint8
	m   protocol.Message
	f   protocol.Frame
}

func forkEnv(t *testing.T, ctx uint8, m protocol.Message) forkEnvelope {
	t.Helper()
	f, err := protocol.EncodeFrame(ctx, m, protocol.Layout425)
	if err != nil {
		t.Fatal(err)
	}
	return forkEnvelope{ctx: ctx, m: m, f: f}
}

// forkRandomMsg returns a command whose result depends on its order
// relative to other users' commands (overlapping strokes and fills in
// different colours), or an undo point / undo / redo.
func forkRandomMsg(r *rand.Rand, ctx uint8) protocol.Message {
	color := uint32(0xff000000) | r.Uint32()&0xffffff
	switch k := r.IntN(10); {
	case k == 0:
		return protocol.UndoPoint{}
	case k == 1:
		return protocol.Undo{Redo: r.IntN(3) == 0}
	case k < 4:
		return protocol.FillRect{Layer: forkLayer, Mode: protocol.BlendNormal, X: uint32(r.IntN(100)), Y: uint32(r.IntN(70)),
			W: uint32(1 + r.IntN(60)), H: uint32(1 + r.IntN(40)), Color: color}
	default:
		m := protocol.DrawDabsClassic{Layer: forkLayer, X: int32(r.IntN(150 * 4)), Y: int32(r.IntN(100 * 4)), Color: color, Mode: protocol.BlendNormal}
		for range 1 + r.IntN(6) {
			m.Dabs = append(m.Dabs, protocol.ClassicDab{X: int8(r.IntN(200) - 100), Y: int8(r.IntN(200) - 100),
				Size: uint32(256 * (2 + r.IntN(20))), Hardness: uint8(r.IntN(256)), Opacity: uint8(128 + r.IntN(128))})
		}
		return m
	}
}

// forkExpected renders a fresh canvas that applied msgs in order.
func forkExpected(t *testing.T, msgs []forkEnvelope) []byte {
	t.Helper()
	c := New()
	for _, e := range msgs {
		_ = c.Apply(e.ctx, e.m)
	}
	return c.Render(RenderOptions{}).Pix
}

// TestForkInterleaved simulates a server that interleaves our commands
// with another user's: after every event (and a Sync, as once per frame)
// the shown canvas must equal the server history so far plus our commands
// not yet echoed, and once everything is echoed it must be the
// authoritative canvas, undo history included.
func TestForkInterleaved(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		seed   uint64
		depth  uint8 // small depths truncate history (tile recycling) during forks
		noPool bool
		steps  int
	}{
		{"depth30", 1, 30, false, 160},
		{"depth3", 2, 3, false, 160},
		{"depth3-nopool", 3, 3, true, 120},
		{"depth5-bursty", 4, 5, false, 160},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(tc.seed, 7))
			ref := New()
			ref.noPool = tc.noPool
			view := New()
			view.noPool = tc.noPool
			var server []forkEnvelope // everything delivered, in order
			for _, m := range forkSetup(tc.depth) {
				e := forkEnv(t, forkOwn, m)
				server = append(server, e)
				_ = ref.Apply(e.ctx, e.m)
				_ = view.Apply(e.ctx, e.m)
			}
			f := NewFork(view)
			var sent []forkEnvelope // own commands the server has not delivered yet
			deliver := func(e forkEnvelope, wantEcho bool) {
				echo, _ := f.Remote(e.ctx, e.f, e.m)
				if echo != wantEcho {
					t.Fatalf("Remote(%T from %d) echo = %v, want %v", e.m, e.ctx, echo, wantEcho)
				}
				server = append(server, e)
				_ = ref.Apply(e.ctx, e.m)
			}
			for step := range tc.steps {
				switch k := r.IntN(10); {
				case k < 4: // we draw
					e := forkEnv(t, forkOwn, forkRandomMsg(r, forkOwn))
					_ = f.Local(e.ctx, e.f, e.m)
					sent = append(sent, e)
				case k < 7: // another user's command arrives
					deliver(forkEnv(t, forkRemote, forkRandomMsg(r, forkRemote)), false)
				default: // the server echoes ours
					n := 1
					if tc.name == "depth5-bursty" {
						n = 1 + r.IntN(4)
					}
					for ; n > 0 && len(sent) > 0; n-- {
						deliver(sent[0], true)
						sent = sent[1:]
					}
				}
				if f.Pending() != len(sent) {
					t.Fatalf("step %d: Pending = %d, want %d", step, f.Pending(), len(sent))
				}
				if r.IntN(3) > 0 {
					continue // several events per frame
				}
				f.Sync()
				want := forkExpected(t, append(append([]forkEnvelope(nil), server...), sent...))
				if got := view.Render(RenderOptions{}).Pix; !bytes.Equal(got, want) {
					t.Fatalf("step %d: shown canvas differs from server history + pending (%d pending)", step, len(sent))
				}
			}
			for len(sent) > 0 {
				deliver(sent[0], true)
				sent = sent[1:]
			}
			if f.Active() {
				t.Fatal("fork still active after every echo")
			}
			f.Sync()
			if !bytes.Equal(view.Render(RenderOptions{}).Pix, ref.Render(RenderOptions{}).Pix) {
				t.Fatal("canvas after the last echo differs from the authoritative canvas")
			}
			// The undo history is the server's too: the same undos give the
			// same pixels.
			for _, u := range []uint8{forkOwn, forkRemote, forkOwn} {
				ev, er := view.Apply(u, protocol.Undo{}), ref.Apply(u, protocol.Undo{})
				if (ev == nil) != (er == nil) {
					t.Fatalf("undo by %d: shown err %v, authoritative err %v", u, ev, er)
				}
			}
			if !bytes.Equal(view.Render(RenderOptions{}).Pix, ref.Render(RenderOptions{}).Pix) {
				t.Fatal("undo after the fork gives different pixels")
			}
			if f.Rebuilds == 0 {
				t.Error("no rebuild happened: the test did not interleave")
			}
		})
	}
}

// TestForkInOrderNoRebuild: echoes that arrive in order with nothing
// between them are not applied again and need no rebuild.
func TestForkInOrderNoRebuild(t *testing.T) {
	t.Parallel()
	c := New()
	for _, m := range forkSetup(30) {
		_ = c.Apply(forkOwn, m)
	}
	f := NewFork(c)
	r := rand.New(rand.NewPCG(9, 9))
	var sent []forkEnvelope
	for range 20 {
		e := forkEnv(t, forkOwn, forkRandomMsg(r, forkOwn))
		_ = f.Local(e.ctx, e.f, e.m)
		sent = append(sent, e)
	}
	before := c.Render(RenderOptions{}).Pix
	for _, e := range sent {
		if echo, _ := f.Remote(e.ctx, e.f, e.m); !echo {
			t.Fatalf("%T not recognised as echo", e.m)
		}
	}
	f.Sync()
	if f.Rebuilds != 0 || f.Active() {
		t.Errorf("rebuilds %d, active %v; want 0, false", f.Rebuilds, f.Active())
	}
	if !bytes.Equal(before, c.Render(RenderOptions{}).Pix) {
		t.Error("pixels changed when the echoes arrived")
	}
}

// TestForkMismatchAndDiscard: an own-context message that is not the
// predicted one, and Discard (session reset, lost commands), leave the
// authoritative state.
func TestForkMismatchAndDiscard(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"mismatch", "discard"} {
		t.Run(mode, func(t *testing.T) {
			c, ref := New(), New()
			var server []forkEnvelope
			for _, m := range forkSetup(30) {
				e := forkEnv(t, forkOwn, m)
				server = append(server, e)
				_ = c.Apply(e.ctx, e.m)
				_ = ref.Apply(e.ctx, e.m)
			}
			f := NewFork(c)
			a := forkEnv(t, forkOwn, protocol.FillRect{Layer: forkLayer, X: 10, Y: 10, W: 50, H: 50, Color: 0xffff0000})
			b := forkEnv(t, forkOwn, protocol.FillRect{Layer: forkLayer, X: 30, Y: 30, W: 50, H: 50, Color: 0xff00ff00})
			_ = f.Local(a.ctx, a.f, a.m)
			_ = f.Local(b.ctx, b.f, b.m)
			rem := forkEnv(t, forkRemote, protocol.FillRect{Layer: forkLayer, X: 20, Y: 20, W: 50, H: 50, Color: 0xff0000ff})
			if echo, _ := f.Remote(rem.ctx, rem.f, rem.m); echo {
				t.Fatal("remote message taken for an echo")
			}
			_ = ref.Apply(rem.ctx, rem.m)
			switch mode {
			case "mismatch":
				// The server delivers something else from our context.
				other := forkEnv(t, forkOwn, protocol.FillRect{Layer: forkLayer, X: 0, Y: 0, W: 5, H: 5, Color: 0xff000000})
				if echo, _ := f.Remote(other.ctx, other.f, other.m); echo {
					t.Fatal("mismatching message taken for an echo")
				}
				_ = ref.Apply(other.ctx, other.m)
				if f.Mismatches != 1 {
					t.Errorf("Mismatches = %d", f.Mismatches)
				}
			case "discard":
				f.Discard()
			}
			if f.Active() || f.Pending() != 0 {
				t.Fatal("fork not discarded")
			}
			f.Sync()
			if !bytes.Equal(c.Render(RenderOptions{}).Pix, ref.Render(RenderOptions{}).Pix) {
				t.Fatal("canvas is not the authoritative state")
			}
			// Late echoes of the discarded commands are ordinary messages.
			for _, e := range []forkEnvelope{a, b} {
				if echo, _ := f.Remote(e.ctx, e.f, e.m); echo {
					t.Fatal("echo after discard")
				}
				_ = ref.Apply(e.ctx, e.m)
			}
			if !bytes.Equal(c.Render(RenderOptions{}).Pix, ref.Render(RenderOptions{}).Pix) {
				t.Fatal("canvas differs after the late echoes")
			}
		})
	}
}

// TestForkDirtyTiles: a rebuild marks only the tiles that changed on
// screen.
func TestForkDirtyTiles(t *testing.T) {
	t.Parallel()
	c := New()
	for _, m := range forkSetup(30) {
		_ = c.Apply(forkOwn, m)
	}
	c.TakeDirtyTiles()
	f := NewFork(c)
	own := forkEnv(t, forkOwn, protocol.FillRect{Layer: forkLayer, X: 0, Y: 0, W: 10, H: 10, Color: 0xffff0000})
	_ = f.Local(own.ctx, own.f, own.m)
	c.TakeDirtyTiles()
	// A remote fill in tile 2 (x 128..150) forces a rebuild.
	rem := forkEnv(t, forkRemote, protocol.FillRect{Layer: forkLayer, X: 130, Y: 0, W: 10, H: 10, Color: 0xff0000ff})
	_, _ = f.Remote(rem.ctx, rem.f, rem.m)
	f.Sync()
	tiles, all := c.TakeDirtyTiles()
	if all || fmt.Sprint(tiles) != "[2]" {
		t.Errorf("dirty after rebuild = %v (all %v), want [2]", tiles, all)
	}
}

// TestForkDropped: our echo filtered out (we were locked meanwhile) takes
// our prediction away; others' filtered messages change nothing.
func TestForkDropped(t *testing.T) {
	t.Parallel()
	c := New()
	for _, m := range forkSetup(30) {
		_ = c.Apply(forkOwn, m)
	}
	want := c.Render(RenderOptions{}).Pix
	f := NewFork(c)
	own := forkEnv(t, forkOwn, protocol.FillRect{Layer: forkLayer, X: 0, Y: 0, W: 40, H: 40, Color: 0xffff0000})
	_ = f.Local(own.ctx, own.f, own.m)
	f.Dropped(forkRemote, protocol.TypeFillRect)
	f.Dropped(forkOwn, protocol.TypeLayerACL) // meta: never predicted
	if !f.Active() {
		t.Fatal("another user's filtered message, or an own meta message, ended the fork")
	}
	f.Dropped(forkOwn, protocol.TypeFillRect)
	f.Sync()
	if f.Active() || !bytes.Equal(c.Render(RenderOptions{}).Pix, want) {
		t.Fatal("filtered own echo still shown")
	}
}

// TestForkOwnMeta: own messages that are not commands (sent without
// Local: chat, ACL, pointer) pass a fork without touching it.
func TestForkOwnMeta(t *testing.T) {
	t.Parallel()
	c := New()
	for _, m := range forkSetup(30) {
		_ = c.Apply(forkOwn, m)
	}
	f := NewFork(c)
	own := forkEnv(t, forkOwn, protocol.FillRect{Layer: forkLayer, X: 0, Y: 0, W: 40, H: 40, Color: 0xffff0000})
	_ = f.Local(own.ctx, own.f, own.m)
	for _, m := range []protocol.Message{protocol.Chat{Message: "hi"}, protocol.MovePointer{X: 4, Y: 4}, protocol.LayerACL{ID: forkLayer}} {
		e := forkEnv(t, forkOwn, m)
		if echo, _ := f.Remote(e.ctx, e.f, e.m); echo || !f.Active() || f.Mismatches != 0 {
			t.Fatalf("%T: echo %v, active %v, mismatches %d", m, echo, f.Active(), f.Mismatches)
		}
	}
	if echo, _ := f.Remote(own.ctx, own.f, own.m); !echo || f.Active() || f.Rebuilds != 0 {
		t.Errorf("echo %v, active %v, rebuilds %d after the own meta messages", echo, f.Active(), f.Rebuilds)
	}
}

// BenchmarkFork measures what prediction costs per own stroke message on
// a 4000×3000 canvas with 20 layers: "direct" applies the message as
// before the fork existed, "echoed" forks, applies and takes the echo
// (a fork per message, the worst case: a clone of the document each), and
// "interleaved" has a remote message arrive before every echo (a rebuild
// per message).
func BenchmarkFork(b *testing.B) {
	setup := func(b *testing.B) *Canvas {
		c := New()
		_ = c.Apply(forkRemote, protocol.CanvasResize{Right: 4000, Bottom: 3000})
		for i := 1; i <= 20; i++ {
			_ = c.Apply(forkRemote, protocol.LayerTreeCreate{ID: protocol.LayerID(forkRemote, uint16(i)), Fill: 0xffffffff})
		}
		return c
	}
	layer := protocol.LayerID(forkRemote, 1)
	dabs := protocol.DrawDabsClassic{Layer: layer, X: 400 * 4, Y: 400 * 4, Color: 0xff336699, Mode: protocol.BlendNormal}
	for range 40 {
		dabs.Dabs = append(dabs.Dabs, protocol.ClassicDab{X: 12, Y: 3, Size: 20 * 256, Hardness: 200, Opacity: 128})
	}
	own := forkEnv(&testing.T{}, forkOwn, dabs)
	dabs.Y += 200 * 4
	remote := forkEnv(&testing.T{}, forkRemote, dabs)
	b.Run("direct", func(b *testing.B) {
		c := setup(b)
		for b.Loop() {
			_ = c.Apply(own.ctx, own.m)
		}
	})
	b.Run("echoed", func(b *testing.B) {
		f := NewFork(setup(b))
		for b.Loop() {
			_ = f.Local(own.ctx, own.f, own.m)
			_, _ = f.Remote(own.ctx, own.f, own.m)
		}
	})
	b.Run("interleaved", func(b *testing.B) {
		f := NewFork(setup(b))
		for b.Loop() {
			_ = f.Local(own.ctx, own.f, own.m)
			_, _ = f.Remote(remote.ctx, remote.f, remote.m)
			f.Sync()
			_, _ = f.Remote(own.ctx, own.f, own.m)
		}
	})
}

// FuzzFork drives the interleaving simulation of TestForkInterleaved from
// fuzz input: each byte picks an event (own command, remote command,
// echo, mismatching own message, discard, frame sync); at the end, after
// every echo, the shown canvas must be the authoritative one.
func FuzzFork(f *testing.F) {
	f.Add([]byte{0, 0, 1, 2, 2, 5, 0, 1, 1, 2, 5})
	f.Add([]byte{0, 1, 0, 1, 0, 3, 2, 2, 5, 4, 0, 2})
	f.Add([]byte{0, 0, 0, 4, 1, 2, 2, 2, 0, 5, 2})
	f.Fuzz(func(t *testing.T, events []byte) {
		if len(events) > 200 {
			events = events[:200]
		}
		r := rand.New(rand.NewPCG(uint64(len(events)), 1))
		ref, view := New(), New()
		for _, m := range forkSetup(4) {
			_ = ref.Apply(forkOwn, m)
			_ = view.Apply(forkOwn, m)
		}
		fk := NewFork(view)
		var sent []forkEnvelope // sent, not delivered by the server yet
		deliver := func(e forkEnvelope) {
			_, _ = fk.Remote(e.ctx, e.f, e.m)
			_ = ref.Apply(e.ctx, e.m)
		}
		for _, ev := range events {
			switch ev % 6 {
			case 0:
				e := forkEnv(t, forkOwn, forkRandomMsg(r, forkOwn))
				_ = fk.Local(e.ctx, e.f, e.m)
				sent = append(sent, e)
			case 1:
				deliver(forkEnv(t, forkRemote, forkRandomMsg(r, forkRemote)))
			case 2:
				if len(sent) > 0 {
					deliver(sent[0])
					sent = sent[1:]
				}
			case 3: // the server delivers an own message we did not predict
				deliver(forkEnv(t, forkOwn, forkRandomMsg(r, forkOwn)))
			case 4:
				fk.Discard()
			case 5:
				fk.Sync()
			}
		}
		for _, e := range sent {
			deliver(e)
		}
		fk.Discard() // late echoes may remain predicted after a discard
		fk.Sync()
		if !bytes.Equal(view.Render(RenderOptions{}).Pix, ref.Render(RenderOptions{}).Pix) {
			t.Fatal("shown canvas differs from the authoritative canvas")
		}
	})
}

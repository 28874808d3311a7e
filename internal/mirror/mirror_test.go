package mirror

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"drawbridge/canvas"
	"drawbridge/internal/session"
	"drawbridge/protocol"
	"drawbridge/protocol/imagecodec"
)

// chanSource is a Source fed by the test.
type chanSource struct {
	ch   chan []protocol.Frame
	next int64
	mu   sync.Mutex
	rst  bool
}

func newSource() *chanSource { return &chanSource{ch: make(chan []protocol.Frame, 64)} }

func (s *chanSource) Next(ctx context.Context, buf []protocol.Frame) ([]protocol.Frame, int64, bool, error) {
	select {
	case <-ctx.Done():
		return nil, 0, false, ctx.Err()
	case fs, ok := <-s.ch:
		if !ok {
			return nil, 0, false, session.ErrTapClosed
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		first, reset := s.next, s.rst
		s.next += int64(len(fs))
		s.rst = false
		return append(buf[:0], fs...), first, reset, nil
	}
}

func enc(t testing.TB, ctx uint8, m protocol.Message) protocol.Frame {
	t.Helper()
	f, err := protocol.EncodeFrame(ctx, m, protocol.Layout425)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// opaqueImage returns a w×h PutImage payload of random opaque pixels.
func opaqueImage(t testing.TB, rng *rand.Rand, w, h int) []byte {
	t.Helper()
	pix := make([]byte, 4*w*h)
	for i := 0; i < len(pix); i += 4 {
		v := rng.Uint32()
		pix[i], pix[i+1], pix[i+2], pix[i+3] = byte(v), byte(v>>8), byte(v>>16), 255
	}
	data, err := imagecodec.EncodeImageDeflate(pix, w, h)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// scene is a small two-user session: canvas, layers, fills, an image,
// an undo, and a layer lock that must make a later command of user 2 be
// dropped by every ACL filter.
func scene(t testing.TB, seed uint64) []protocol.Frame {
	rng := rand.New(rand.NewPCG(seed, 1))
	l1, l2 := protocol.LayerID(1, 1), protocol.LayerID(2, 1)
	return []protocol.Frame{
		enc(t, 1, protocol.Join{Name: "alice"}),
		enc(t, 0, protocol.SessionOwner{Users: []uint8{1}}),
		enc(t, 1, protocol.CanvasResize{Right: 200, Bottom: 150}),
		enc(t, 1, protocol.LayerTreeCreate{ID: l1, Fill: 0xffffffff, Title: "one"}),
		enc(t, 2, protocol.Join{Name: "bob"}),
		enc(t, 2, protocol.LayerTreeCreate{ID: l2, Title: "two"}),
		enc(t, 1, protocol.UndoPoint{}),
		enc(t, 1, protocol.FillRect{Layer: l1, Mode: 1, X: 10, Y: 10, W: 100, H: 50, Color: 0xff2060a0}),
		enc(t, 2, protocol.UndoPoint{}),
		enc(t, 2, protocol.PutImage{Layer: l2, Mode: 1, X: 70, Y: 40, W: 40, H: 30, Image: opaqueImage(t, rng, 40, 30)}),
		enc(t, 2, protocol.UndoPoint{}),
		enc(t, 2, protocol.FillRect{Layer: l2, Mode: 1, X: 0, Y: 0, W: 30, H: 30, Color: 0xff00ff00}),
		enc(t, 2, protocol.Undo{}),
		enc(t, 1, protocol.LayerACL{ID: l2, Flags: 0x80}), // op locks bob's layer
		enc(t, 2, protocol.UndoPoint{}),
		enc(t, 2, protocol.FillRect{Layer: l2, Mode: 1, X: 150, Y: 100, W: 40, H: 40, Color: 0xffff0000}), // dropped
		enc(t, 1, protocol.Chat{Message: "hello"}),
	}
}

// player replays a viewer stream like a client: ACL filter, canvas, and
// the reset notice clears both.
type player struct {
	cv    *canvas.Canvas
	acl   *canvas.ACL
	n     int
	undos int    // UndoPoints seen
	last  string // last chat text
}

func newPlayer() *player { return &player{cv: canvas.New(), acl: canvas.NewACL()} }

func (p *player) feed(t testing.TB, fs []protocol.Frame) {
	t.Helper()
	for _, f := range fs {
		p.n++
		if f.Type() == 0 {
			var r struct{ Type, State string }
			if err := json.Unmarshal(f.Payload(), &r); err != nil {
				t.Fatalf("bad JSON %q", f.Payload())
			}
			if r.Type == "reset" && r.State == "reset" {
				p.cv, p.acl = canvas.New(), canvas.NewACL()
			}
			continue
		}
		if f.Type() < 32 {
			continue
		}
		m, err := protocol.Decode(f, protocol.Layout425)
		if err != nil {
			t.Fatalf("decode %v: %v", f.Type(), err)
		}
		switch c := m.(type) {
		case protocol.Chat:
			p.last = c.Message
		case protocol.UndoPoint:
			p.undos++
		}
		if p.acl.Allow(f.Ctx(), m) {
			_ = p.cv.Apply(f.Ctx(), m)
		}
	}
}

func render(cv *canvas.Canvas) *image.NRGBA { return cv.Render(canvas.RenderOptions{}) }

func sameImage(t testing.TB, what string, got, want *image.NRGBA) {
	t.Helper()
	if got.Rect != want.Rect {
		t.Fatalf("%s: size %v, want %v", what, got.Rect, want.Rect)
	}
	if !bytes.Equal(got.Pix, want.Pix) {
		for i := range got.Pix {
			if got.Pix[i] != want.Pix[i] {
				px := i / 4
				t.Fatalf("%s: pixel (%d,%d) differs: %v, want %v", what, px%want.Rect.Dx(), px/want.Rect.Dx(),
					got.Pix[i&^3:i&^3+4], want.Pix[i&^3:i&^3+4])
			}
		}
	}
}

func testLogger(t *testing.T) *slog.Logger { return testLoggerTB(t) }

func testLoggerTB(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// readUntilChat reads v's stream until the chat text arrives.
func readUntilChat(t *testing.T, v *Viewer, p *player, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for p.last != text {
		fs, err := v.Next(ctx, nil)
		if err != nil {
			t.Fatalf("viewer Next: %v", err)
		}
		p.feed(t, fs)
	}
}

func TestViewersConverge(t *testing.T) {
	src := newSource()
	// SnapshotTail 100: a late viewer gets a fresh snapshot.
	m := New(src, Options{Logger: testLogger(t), IdleTimeout: -1, SnapshotTail: 100})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- m.Run(ctx) }()

	frames := scene(t, 1)
	ref := newPlayer()
	ref.feed(t, frames)
	want := render(ref.cv)

	early, err := m.Watch(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	pe := newPlayer()
	src.ch <- frames[:7]
	src.ch <- frames[7:]
	readUntilChat(t, early, pe, "hello")
	sameImage(t, "early viewer", render(pe.cv), want)

	// A late viewer starts from a snapshot, not from the history.
	late, err := m.Watch(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	more := []protocol.Frame{
		enc(t, 2, protocol.UndoPoint{}),
		enc(t, 2, protocol.FillRect{Layer: protocol.LayerID(2, 1), Mode: 1, X: 160, Y: 5, W: 20, H: 20, Color: 0xff0000ff}), // still locked: dropped
		enc(t, 1, protocol.UndoPoint{}),
		enc(t, 1, protocol.FillRect{Layer: protocol.LayerID(1, 1), Mode: 1, X: 120, Y: 90, W: 60, H: 40, Color: 0xff808000}),
		enc(t, 1, protocol.Chat{Message: "bye"}),
	}
	ref.feed(t, more)
	want = render(ref.cv)
	src.ch <- more
	pl := newPlayer()
	readUntilChat(t, late, pl, "bye")
	readUntilChat(t, early, pe, "bye")
	sameImage(t, "late viewer", render(pl.cv), want)
	sameImage(t, "early viewer", render(pe.cv), want)
	// The late viewer got a snapshot (no undo history) plus the tail.
	if pl.undos != 2 || pe.undos != 6 {
		t.Errorf("UndoPoints: late viewer %d (want 2), early viewer %d (want 6)", pl.undos, pe.undos)
	}
	if got := m.Viewers(); got != 2 {
		t.Errorf("Viewers = %d, want 2", got)
	}
	late.Close()
	if _, err := late.Next(ctx, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after Close = %v", err)
	}

	// The session ends: the early viewer gets the rest, then ErrClosed.
	src.ch <- []protocol.Frame{enc(t, 1, protocol.Chat{Message: "end"})}
	close(src.ch)
	if err := <-runErr; err != nil {
		t.Fatalf("Run = %v", err)
	}
	readUntilChat(t, early, pe, "end")
	if _, err := early.Next(ctx, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after the end = %v", err)
	}
	if _, err := m.Watch(ctx, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("Watch after the end = %v", err)
	}
}

func TestHistoryResetClearsViewers(t *testing.T) {
	src := newSource()
	m := New(src, Options{Logger: testLogger(t), IdleTimeout: -1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.Run(ctx)
	v, err := m.Watch(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	p := newPlayer()
	src.ch <- scene(t, 2)
	readUntilChat(t, v, p, "hello")
	// A classic reset: the history is replaced by a small image.
	img := []protocol.Frame{
		enc(t, 1, protocol.Join{Name: "alice"}),
		enc(t, 1, protocol.CanvasResize{Right: 64, Bottom: 64}),
		enc(t, 1, protocol.LayerTreeCreate{ID: protocol.LayerID(1, 1), Fill: 0xff112233, Title: "x"}),
		enc(t, 1, protocol.Chat{Message: "after"}),
	}
	src.mu.Lock()
	src.rst = true
	src.mu.Unlock()
	src.ch <- img
	readUntilChat(t, v, p, "after")
	ref := newPlayer()
	ref.feed(t, img)
	sameImage(t, "after reset", render(p.cv), render(ref.cv))
}

func TestDelayedViewer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newSource()
		m := New(src, Options{Logger: testLogger(t), IdleTimeout: -1})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go m.Run(ctx)
		frames := scene(t, 3)
		src.ch <- frames[:4]
		synctest.Wait()
		v, err := m.Watch(ctx, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		p := newPlayer()
		got := make(chan []protocol.Frame)
		go func() {
			for {
				fs, err := v.Next(ctx, nil)
				if err != nil {
					close(got)
					return
				}
				got <- fs
			}
		}()
		src.ch <- frames[4:] // arrives at t0
		synctest.Wait()
		// The snapshot (taken at t0) is held back 10 s.
		select {
		case <-got:
			t.Fatal("a 10 s delayed viewer got data at once")
		default:
		}
		time.Sleep(9 * time.Second)
		synctest.Wait()
		select {
		case <-got:
			t.Fatal("a 10 s delayed viewer got data after 9 s")
		default:
		}
		time.Sleep(2 * time.Second)
		for p.last != "hello" {
			fs, ok := <-got
			if !ok {
				t.Fatal("viewer ended")
			}
			p.feed(t, fs)
		}
		ref := newPlayer()
		ref.feed(t, frames)
		sameImage(t, "delayed viewer", render(p.cv), render(ref.cv))
		cancel()
		v.Close()
	})
}

func TestLaggingViewerIsDropped(t *testing.T) {
	src := newSource()
	m := New(src, Options{Logger: testLogger(t), IdleTimeout: -1, MaxLag: 10000})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.Run(ctx)
	v, err := m.Watch(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Next(ctx, nil); err != nil { // the snapshot
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	src.ch <- scene(t, 4)[:4]
	var big []protocol.Frame
	for range 4 {
		big = append(big, enc(t, 1, protocol.PutImage{Layer: protocol.LayerID(1, 1), Mode: 1, W: 64, H: 64, Image: opaqueImage(t, rng, 64, 64)}))
	}
	src.ch <- big
	// Wait until the mirror has logged everything.
	for {
		m.mu.Lock()
		n, g := m.logFirst+int64(len(m.log)), m.grew
		m.mu.Unlock()
		if n >= 8 {
			break
		}
		<-g
	}
	if _, err := v.Next(ctx, nil); !errors.Is(err, ErrLagging) {
		t.Fatalf("Next of a viewer 64 KiB behind = %v, want ErrLagging", err)
	}
}

// thumbnailScene runs a mirror (thumbnails 100 px) of scene(t, 5) and
// returns it once a viewer has seen the whole scene.
func thumbnailScene(t *testing.T) (*Mirror, context.Context) {
	t.Helper()
	src := newSource()
	m := New(src, Options{Logger: testLogger(t), IdleTimeout: -1, ThumbnailSize: 100})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go m.Run(ctx)
	v, err := m.Watch(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	src.ch <- scene(t, 5)
	readUntilChat(t, v, newPlayer(), "hello")
	return m, ctx
}

func TestThumbnail(t *testing.T) {
	m, ctx := thumbnailScene(t)
	b, _, err := m.Thumbnail(ctx)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds(); got.Dx() != 100 || got.Dy() != 75 {
		t.Fatalf("thumbnail %v, want 100×75 (200×150 scaled)", got)
	}
	// (5,5) maps to source (10..11, 10..11): the blue fill, opaque.
	if r, g, bl, a := img.At(5, 5).RGBA(); a>>8 != 255 || r>>8 != 0x20 || g>>8 != 0x60 || bl>>8 != 0xa0 {
		t.Errorf("thumbnail pixel (5,5) = %x %x %x %x, want 20 60 a0 ff", r>>8, g>>8, bl>>8, a>>8)
	}
}

func TestDownscaleKeepsTransparency(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 4, 2))
	// Left 2×2 block: one opaque red pixel and three transparent ones.
	copy(src.Pix[0:4], []byte{255, 0, 0, 255})
	got := downscale(src, 2, 1)
	// Premultiplied average: colour stays pure red, alpha 255/4 ≈ 64.
	if want := []byte{255, 0, 0, 64}; !bytes.Equal(got.Pix[0:4], want) {
		t.Errorf("left pixel %v, want %v", got.Pix[0:4], want)
	}
	if want := []byte{0, 0, 0, 0}; !bytes.Equal(got.Pix[4:8], want) {
		t.Errorf("right pixel %v, want %v", got.Pix[4:8], want)
	}
}

// sink records server-side reset images.
type sink struct {
	mu     sync.Mutex
	images map[int64][]protocol.Frame
	aborts []string
	got    chan int64
}

func (s *sink) CompleteServerReset(at int64, image []protocol.Frame) error {
	s.mu.Lock()
	s.images[at] = image
	s.mu.Unlock()
	s.got <- at
	return nil
}

func (s *sink) AbortServerReset(at int64, why string) {
	s.mu.Lock()
	s.aborts = append(s.aborts, why)
	s.mu.Unlock()
	s.got <- -at
}

// TestResetImageReproducesCanvas: the image built at a SoftReset marker,
// replayed by a fresh client (after the presence prefix the session adds),
// renders exactly like the canvas before the reset.
func TestResetImageReproducesCanvas(t *testing.T) {
	src := newSource()
	sk := &sink{images: map[int64][]protocol.Frame{}, got: make(chan int64, 4)}
	m := New(src, Options{Logger: testLogger(t), ResetSink: sk})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.Run(ctx)
	frames := scene(t, 6)
	at := int64(len(frames)) + 1
	m.RequestResetImage(at)
	src.ch <- append(frames, enc(t, 0, protocol.SoftReset{}), enc(t, 1, protocol.Chat{Message: "tail"}))
	if got := <-sk.got; got != at {
		t.Fatalf("reset answer for %d, want %d (aborts %v)", got, at, sk.aborts)
	}
	image := sk.images[at]
	for _, f := range image {
		if f.Type() < 64 && f.Type() != protocol.TypeChat {
			t.Fatalf("image holds message type %d", f.Type())
		}
		if f.Ctx() != 0 {
			t.Fatalf("image message %d has ctx %d", f.Type(), f.Ctx())
		}
	}
	ref := newPlayer()
	ref.feed(t, frames)
	// A joiner after the reset: Join and SessionOwner from the session,
	// then the image, then the tail — and bob, not an operator, still
	// cannot draw on his locked layer.
	p := newPlayer()
	p.feed(t, []protocol.Frame{frames[0], frames[4], frames[1]})
	p.feed(t, image)
	sameImage(t, "after server-side reset", render(p.cv), render(ref.cv))
	locked := []protocol.Frame{
		enc(t, 2, protocol.UndoPoint{}),
		enc(t, 2, protocol.FillRect{Layer: protocol.LayerID(2, 1), Mode: 1, X: 0, Y: 0, W: 200, H: 150, Color: 0xff000000}),
	}
	ref.feed(t, locked)
	p.feed(t, locked)
	sameImage(t, "locked layer after reset", render(p.cv), render(ref.cv))

	// A request for a marker the mirror already passed without a
	// snapshot is refused.
	m.RequestResetImage(3)
	if got := <-sk.got; got != -3 {
		t.Fatalf("stale request answered %d", got)
	}
}

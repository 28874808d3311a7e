package e2e

import (
	"math/rand/v2"
	"net/http"
	"testing"

	"drawbridge/internal/client"
	"drawbridge/protocol"
	"drawbridge/protocol/imagecodec"
)

// randomImage is a w×h PutImage payload of random opaque pixels (does not
// compress, so it grows the history quickly).
func randomImage(t testing.TB, rng *rand.Rand, w, h int) []byte {
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

// TestServerSideReset: with server-side resets on, the bridge compacts
// the history from its live canvas; a client joining afterwards renders
// exactly what the clients present before the reset render, and clients
// that were present keep drawing in sync.
func TestServerSideReset(t *testing.T) {
	e := newEnv(t)
	e.b.SetServerSideReset(true)
	alice := e.host("alice", tcp, client.HostOptions{})
	id := alice.JoinInfo().ID
	s := e.b.Server().Lookup(id)
	// Start the session's mirror now (the scan loop would within 2 s).
	wsrv := e.watchServer()
	resp, err := http.Get(wsrv.URL + "/api/sessions/" + id + "/thumbnail.png")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	ref := newCanvasPlayer()
	bob, err := e.joinOpts("bob", ws, client.JoinOptions{Session: id})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	layer := protocol.LayerID(alice.UserID(), 1)
	for i := range 40 {
		sendMsg(e.ctx, t, alice, protocol.UndoPoint{})
		sendMsg(e.ctx, t, alice, protocol.PutImage{Layer: layer, Mode: 1, X: uint32(i * 5), Y: uint32(i * 3), W: 48, H: 48,
			Image: randomImage(t, rng, 48, 48)})
		e.draw(alice, int32(i*4))
	}
	e.chat(alice, "before")
	clientUntil(e.ctx, t, bob, ref, "before")
	e.sync(alice)
	before := ref.render()
	sizeBefore := s.Desc().Size

	at, err := s.StartServerReset()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("server-side reset at history index %d, history %d bytes", at, sizeBefore)
	// The swap happens once every member was sent history past the
	// marker.
	e.chat(alice, "after")
	clientUntil(e.ctx, t, bob, ref, "after")
	e.sync(alice)
	eventually(t, "history compacted", func() bool { return s.Desc().Size < sizeBefore/2 })
	t.Logf("history after server-side reset: %d bytes (was %d)", s.Desc().Size, sizeBefore)

	carol, err := e.joinOpts("carol", browser, client.JoinOptions{Session: id})
	if err != nil {
		t.Fatal(err)
	}
	cp := newCanvasPlayer()
	clientUntil(e.ctx, t, carol, cp, "after")
	if cp.saw("before") {
		t.Error("the compacted history still holds chat from before the reset")
	}
	sameRender(t, "joiner after server-side reset", cp.render(), before)

	// Everyone keeps drawing in sync after the reset (undo included: the
	// SoftReset cut everybody's undo history at the same point).
	e.draw(alice, 100)
	sendMsg(e.ctx, t, alice, protocol.Undo{})
	sendMsg(e.ctx, t, alice, protocol.Undo{})
	e.draw(alice, 150)
	e.chat(alice, "end")
	clientUntil(e.ctx, t, bob, ref, "end")
	clientUntil(e.ctx, t, carol, cp, "end")
	// The reset image holds 8-bit tiles, so the joiner's pixels are the
	// 15→8→15 quantized ones (engine.md §6.3, as with any Drawpile reset):
	// strokes blended over them may differ by one 8-bit step.
	got, want := cp.render(), ref.render()
	if got.Rect != want.Rect {
		t.Fatalf("sizes %v vs %v", got.Rect, want.Rect)
	}
	for i := range got.Pix {
		if d := int(got.Pix[i]) - int(want.Pix[i]); d < -1 || d > 1 {
			px := i / 4
			t.Fatalf("joiner vs old member after the reset: pixel (%d,%d) = %v, want %v (±1)", px%want.Rect.Dx(), px/want.Rect.Dx(),
				got.Pix[i&^3:i&^3+4], want.Pix[i&^3:i&^3+4])
		}
	}
}

package protocol

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// readResetExample returns the ResetStream frame of
// testdata/recording/reset_stream_example.txt (hex, after a comment line).
func readResetExample(t testing.TB) Frame {
	t.Helper()
	b, err := os.ReadFile("testdata/recording/reset_stream_example.txt")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		raw, err := hex.DecodeString(line)
		if err != nil {
			t.Fatal(err)
		}
		f, err := ParseFrame(raw)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	t.Fatal("no frame in reset_stream_example.txt")
	return nil
}

// The example's content: resize (ctx 1), layertreecreate (ctx 1), fillrect
// (ctx 3), TCP hex from vectors.tsv.
const resetExampleContent = "0010810100000000000003200000025800000000" +
	"0015a20100010100000000000000000000004c617965722031" +
	"001889030001030100000000000000000000004000000020ff336699"

func TestParseResetStreamExample(t *testing.T) {
	t.Parallel()
	msg := readResetExample(t)
	if msg.Type() != TypeResetStream || msg.Ctx() != 0 {
		t.Fatalf("example frame %v", msg)
	}
	frames, err := ParseResetStream([]Frame{msg}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	for _, f := range frames {
		got = append(got, f...)
	}
	if want, _ := hex.DecodeString(resetExampleContent); !bytes.Equal(got, want) {
		t.Errorf("content %x\nwant    %x", got, want)
	}
	if len(frames) != 3 || frames[0].Type() != 129 || frames[1].Type() != 162 || frames[2].Type() != 137 {
		t.Errorf("frames %v", frames)
	}
}

func TestResetStreamRoundTrip(t *testing.T) {
	t.Parallel()
	// A large, poorly compressible image forces several chunks.
	var frames []Frame
	seed := uint32(1)
	for i := range 400 {
		payload := make([]byte, 1000+i)
		for j := range payload {
			seed = seed*1664525 + 1013904223
			payload[j] = byte(seed >> 24)
		}
		frames = append(frames, mustFrame(t, Type(128+i%100), uint8(i), payload))
	}
	frames = append(frames, mustFrame(t, 128, 1, nil))
	b := NewResetStreamBuilder()
	var msgs []Frame
	var image int64
	for i, f := range frames {
		if err := b.Push(f); err != nil {
			t.Fatal(err)
		}
		image += int64(len(f))
		if i%50 == 0 {
			msgs = append(msgs, b.Take()...)
		}
	}
	if b.ImageSize() != image {
		t.Errorf("ImageSize = %d, want %d", b.ImageSize(), image)
	}
	rest, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	msgs = append(msgs, rest...)
	if len(msgs) < 3 {
		t.Fatalf("%d chunks, want several", len(msgs))
	}
	for i, m := range msgs {
		if m.Type() != TypeResetStream || m.Ctx() != 0 {
			t.Errorf("chunk %d: %v", i, m)
		}
		if i < len(msgs)-1 && m.PayloadLen() != MaxPayload {
			t.Errorf("chunk %d has %d bytes; all but the last must be full", i, m.PayloadLen())
		}
	}
	if p := msgs[0].Payload(); p[0] != 0x78 || p[1] != 0xda {
		t.Errorf("zlib header %x, want 78da", p[:2])
	}
	got, err := ParseResetStream(msgs, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(frames) {
		t.Fatalf("%d frames, want %d", len(got), len(frames))
	}
	for i := range got {
		if !bytes.Equal(got[i], frames[i]) {
			t.Fatalf("frame %d differs", i)
		}
	}
	if _, err := b.Finish(); err == nil {
		t.Error("second Finish succeeded")
	}
}

func TestResetStreamErrors(t *testing.T) {
	t.Parallel()
	msg := readResetExample(t)
	payload := msg.Payload()
	whole, _ := hex.DecodeString(resetExampleContent)
	reframe := func(p []byte) []Frame { return []Frame{mustFrame(t, TypeResetStream, 0, p)} }
	tests := []struct {
		name     string
		msgs     []Frame
		maxImage int64
	}{
		{"empty", nil, 0},
		{"truncated stream", reframe(payload[:len(payload)-6]), 0},
		{"bad checksum", reframe(append(append([]byte(nil), payload[:len(payload)-1]...), payload[len(payload)-1]^1)), 0},
		{"trailing data", reframe(append(append([]byte(nil), payload...), 0)), 0},
		{"not zlib", reframe([]byte("hello")), 0},
		{"wrong type", []Frame{mustFrame(t, 35, 0, payload)}, 0},
		{"image too large", []Frame{msg}, int64(len(whole) - 1)},
		{"partial frame", rawStream(t, whole[:len(whole)-3]), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseResetStream(tc.msgs, tc.maxImage)
			if err == nil {
				t.Fatal("accepted")
			}
			var re *ResetStreamError
			if !errors.As(err, &re) {
				t.Errorf("err %v is not a *ResetStreamError", err)
			}
		})
	}
	// The exact limit is accepted.
	if _, err := ParseResetStream([]Frame{msg}, int64(len(whole))); err != nil {
		t.Errorf("image of exactly the limit: %v", err)
	}
}

// rawStream compresses arbitrary bytes (not necessarily whole frames) as one
// reset stream.
func rawStream(t testing.TB, content []byte) []Frame {
	t.Helper()
	b := NewResetStreamBuilder()
	b.zw.Write(content)
	msgs, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func TestResetStreamParserLimits(t *testing.T) {
	t.Parallel()
	p := NewResetStreamParser(10, 0)
	if err := p.Push(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	if err := p.Push([]byte{1}); err == nil {
		t.Error("compressed limit not enforced")
	}
	if p.Chunks() != 1 || p.CompressedSize() != 10 {
		t.Errorf("chunks %d size %d", p.Chunks(), p.CompressedSize())
	}
	// The callback's error stops parsing and is returned as is.
	stop := errors.New("stop")
	q := NewResetStreamParser(0, 0)
	q.Push(readResetExample(t).Payload())
	n, err := q.Finish(func(Frame) error { return stop })
	if err != stop || n != 0 {
		t.Errorf("Finish = %d, %v", n, err)
	}
}

func FuzzResetStreamParser(f *testing.F) {
	f.Add(readResetExample(f).Payload(), int64(0))
	f.Add([]byte{0x78, 0xda, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}, int64(10))
	f.Fuzz(func(t *testing.T, data []byte, maxImage int64) {
		p := NewResetStreamParser(1<<20, maxImage%(1<<20))
		if err := p.Push(data); err != nil {
			return
		}
		var frames []Frame
		if _, err := p.Finish(func(f Frame) error {
			frames = append(frames, f.Clone())
			return nil
		}); err != nil {
			return
		}
		// Whatever parses rebuilds into a stream that parses to the same frames.
		msgs, err := BuildResetStream(frames)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseResetStream(msgs, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != len(frames) {
			t.Fatalf("%d frames, want %d", len(again), len(frames))
		}
		for i := range again {
			if !bytes.Equal(again[i], frames[i]) {
				t.Fatalf("frame %d differs", i)
			}
		}
	})
}

func ExampleBuildResetStream() {
	resize, _ := NewFrame(129, 1, make([]byte, 16))
	undoPoint, _ := NewFrame(128, 1, nil)
	msgs, _ := BuildResetStream([]Frame{resize, undoPoint})
	fmt.Println(len(msgs), msgs[0].Type() == TypeResetStream)

	frames, _ := ParseResetStream(msgs, 0)
	for _, f := range frames {
		fmt.Println(f)
	}
	// Output:
	// 1 true
	// Frame(type=129 ctx=1 len=16)
	// Frame(type=128 ctx=1 len=0)
}

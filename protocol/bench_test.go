package protocol

import (
	"bytes"
	"io"
	"path/filepath"
	"testing"
)

// benchFrames returns a dabs-heavy realistic mix: every frame of the stroke
// and dab recordings in testdata/render (Drawpile-written).
func benchFrames(b *testing.B) []Frame {
	b.Helper()
	var frames []Frame
	for _, pat := range []string{"testdata/render/*stroke*.dprec", "testdata/render/*dabs*.dprec"} {
		paths, _ := filepath.Glob(pat)
		for _, p := range paths {
			frames = append(frames, readDprec(b, p).frames...)
		}
	}
	if len(frames) == 0 {
		b.Fatal("no benchmark recordings")
	}
	return frames
}

func frameBytes(frames []Frame) int {
	n := 0
	for _, f := range frames {
		n += len(f)
	}
	return n
}

// BenchmarkDecodeMix decodes the mix; one op = the whole mix.
func BenchmarkDecodeMix(b *testing.B) {
	frames := benchFrames(b)
	b.SetBytes(int64(frameBytes(frames)))
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range frames {
			if _, err := Decode(f, Layout425); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(frames))*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkEncodeMix encodes the decoded mix into a reused buffer.
func BenchmarkEncodeMix(b *testing.B) {
	frames := benchFrames(b)
	msgs := make([]Message, len(frames))
	for i, f := range frames {
		m, err := Decode(f, Layout425)
		if err != nil {
			b.Fatal(err)
		}
		msgs[i] = m
	}
	b.SetBytes(int64(frameBytes(frames)))
	b.ReportAllocs()
	buf := make([]byte, 0, MaxFrame)
	for b.Loop() {
		for i, m := range msgs {
			var err error
			if buf, err = AppendMessage(buf[:0], frames[i].Ctx(), m, Layout425); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(frames))*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkRelayOpaque is the relay hot path: read a TCP frame, stamp the
// context id, hand out its WebSocket form. One op = one message; target 0
// allocs/op.
func BenchmarkRelayOpaque(b *testing.B) {
	frames := benchFrames(b)
	var stream []byte
	for _, f := range frames {
		stream = append(stream, f...)
	}
	src := bytes.NewReader(stream)
	r := NewReader(src)
	b.SetBytes(int64(len(stream) / len(frames)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := r.ReadFrame()
		if err == io.EOF {
			src.Reset(stream)
			if f, err = r.ReadFrame(); err != nil {
				b.Fatal(err)
			}
		} else if err != nil {
			b.Fatal(err)
		}
		f.SetCtx(3)
		if _, err := io.Discard.Write(f.WS()); err != nil {
			b.Fatal(err)
		}
	}
}

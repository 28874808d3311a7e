package protocol

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
)

// FuzzDecode feeds every decoder (chosen by the type byte) arbitrary
// payloads in both layouts. A payload that decodes must re-encode, and
// decode → encode → decode must be stable.
func FuzzDecode(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add(v.tcp[2], v.tcp[HeaderLen:], false)
		if v.compat != nil {
			f.Add(v.compat[2], v.compat[HeaderLen:], true)
		}
	}
	for _, path := range []string{"testdata/render/054_classic_stroke_tile_borders.dprec", "testdata/render/043_putimagezstd_planar_delta.dprec"} {
		if _, err := os.Stat(path); err != nil {
			continue
		}
		c := readDprec(f, path)
		for i, fr := range c.frames {
			if i%7 == 0 {
				f.Add(byte(fr.Type()), []byte(fr.Payload()), false)
			}
		}
	}
	f.Fuzz(func(t *testing.T, typ byte, payload []byte, compat bool) {
		l := Layout425
		if compat {
			l = Layout424
		}
		m, err := DecodePayload(Type(typ), payload, l)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Type != Type(typ) || de.Offset < 0 || de.Offset > max(len(payload), MaxPayload) {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		if m.MessageType() != Type(typ) {
			t.Fatalf("MessageType %v, want %v", m.MessageType(), Type(typ))
		}
		b1, err := AppendMessage(nil, 1, m, l)
		if err != nil {
			t.Fatalf("decoded message does not encode: %v\n%#v", err, m)
		}
		m2, err := Decode(Frame(b1), l)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !reflect.DeepEqual(m, m2) && !compat {
			t.Fatalf("decode-encode-decode changed the message:\n%#v\n%#v", m, m2)
		}
		b2, err := AppendMessage(nil, 1, m2, l)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("encoding is not stable: %x / %x (%v)", b1, b2, err)
		}
		if !compat && len(payload) > 0 && !hasBoolField(m) && !bytes.Equal(b1[HeaderLen:], payload) {
			t.Fatalf("4.25 re-encoding differs:\n got %x\nwant %x", b1[HeaderLen:], payload)
		}
		// The text form, once normalised, is stable too.
		if Type(typ).Known() && !compat {
			textRoundTrip(t, m)
		}
	})
}

// hasBoolField reports whether m has a bool field: any non-zero byte decodes
// as true and re-encodes as 1.
func hasBoolField(m Message) bool {
	switch m.(type) {
	case Ping, Undo:
		return true
	}
	return false
}

// textRoundTrip checks that writing m as dptxt and reading it back is
// stable after one normalising round (text cannot carry unnamed flag bits or
// unnamed blend modes).
func textRoundTrip(t *testing.T, m Message) {
	t.Helper()
	line, err := AppendText(nil, 7, m)
	if err != nil {
		t.Fatalf("AppendText: %v", err)
	}
	ctx, m1, err := ParseTextMessage(string(line))
	if err != nil {
		t.Fatalf("text %q does not parse: %v", line, err)
	}
	if ctx != 7 {
		t.Fatalf("ctx %d", ctx)
	}
	line2, err := AppendText(nil, 7, m1)
	if err != nil {
		t.Fatal(err)
	}
	_, m2, err := ParseTextMessage(string(line2))
	if err != nil {
		t.Fatalf("text %q does not parse: %v", line2, err)
	}
	if !reflect.DeepEqual(m1, m2) {
		t.Fatalf("text round trip is unstable:\n%s%s", line, line2)
	}
}

// FuzzTextReader reads arbitrary dptxt. Whatever parses must write and
// re-parse to the same messages.
func FuzzTextReader(f *testing.F) {
	seeds := []string{"testdata/all_messages.dptxt", "testdata/render/001_canvas_resize_initial_blank.dptxt",
		"testdata/render/013_layer_hidden_localchange.dptxt"}
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
		for line := range strings.Lines(string(b)) {
			f.Add(line)
		}
	}
	f.Add("!version=dp:4.25.1\n# comment\n\n 1   resize   {\"top\":1.5}\n")
	f.Add("1 classicdabs {\"x\":-0.125,\"_\":[{\"size\":1e3}]}\n")
	f.Add("3 undopoint {}\n")
	f.Fuzz(func(t *testing.T, s string) {
		r := NewTextReader(strings.NewReader(s))
		if _, err := r.Header(); err != nil {
			return
		}
		for range 1000 {
			_, m, err := r.ReadMessage()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					var te *TextError
					if !errors.As(err, &te) {
						t.Fatalf("error %T %v", err, err)
					}
				}
				return
			}
			textRoundTrip(t, m)
		}
	})
}

// FuzzReader checks the frame reader on arbitrary streams: every frame it
// returns is well-formed, and it never returns more bytes than it read.
func FuzzReader(f *testing.F) {
	b, err := os.ReadFile("testdata/all_messages.dprec")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b[bytes.IndexByte(b, '}')+1:])
	f.Add([]byte{0, 1, 2})
	f.Add([]byte{0xff, 0xff, 0, 0})
	f.Fuzz(func(t *testing.T, stream []byte) {
		r := NewReader(bufio.NewReader(bytes.NewReader(stream)))
		total := 0
		for {
			fr, err := r.ReadFrame()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					var fe *FrameError
					if !errors.As(err, &fe) {
						t.Fatalf("error %T %v", err, err)
					}
				}
				break
			}
			if _, err := ParseFrame(fr); err != nil {
				t.Fatalf("reader returned a bad frame: %v", err)
			}
			total += len(fr)
			if total > len(stream) || !bytes.Equal(fr, stream[total-len(fr):total]) {
				t.Fatal("frame does not match the stream")
			}
		}
	})
}

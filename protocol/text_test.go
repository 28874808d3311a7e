package protocol

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// textPairs lists recordings that exist as both .dprec and .dptxt, written by
// Drawpile's own tools.
func textPairs(t testing.TB) []string {
	t.Helper()
	pairs := []string{"testdata/all_messages"}
	render, err := filepath.Glob("testdata/render/*.dptxt")
	if err != nil {
		t.Fatal(err)
	}
	if len(render) < 15 {
		t.Fatalf("only %d render pairs in testdata/render", len(render))
	}
	for _, p := range render {
		pairs = append(pairs, strings.TrimSuffix(p, ".dptxt"))
	}
	return pairs
}

func readDptxt(t testing.TB, path string) ([]HeaderField, []ctxMessage) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := NewTextReader(f)
	h, err := r.Header()
	if err != nil {
		t.Fatal(err)
	}
	var msgs []ctxMessage
	for {
		ctx, m, err := r.ReadMessage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		msgs = append(msgs, ctxMessage{ctx, m})
	}
	return h, msgs
}

// TestTextPairs checks, for every dprec/dptxt pair, that both parse to the
// same messages, that writing dptxt from the dprec reproduces the text file
// byte for byte, and that encoding the parsed text reproduces the dprec.
func TestTextPairs(t *testing.T) {
	t.Parallel()
	for _, base := range textPairs(t) {
		t.Run(filepath.Base(base), func(t *testing.T) {
			t.Parallel()
			bin := readDprec(t, base+".dprec")
			hdr, txt := readDptxt(t, base+".dptxt")
			if want := TextHeader(bin.header); !reflect.DeepEqual(hdr, want) {
				t.Errorf("header %v, want %v", hdr, want)
			}
			if len(txt) != len(bin.msgs) {
				t.Fatalf("%d text messages, %d binary", len(txt), len(bin.msgs))
			}
			for i := range txt {
				if !reflect.DeepEqual(txt[i], bin.msgs[i]) {
					t.Fatalf("message %d:\ntext   %#v\nbinary %#v", i, txt[i], bin.msgs[i])
				}
			}

			// dprec → dptxt, byte for byte.
			var out bytes.Buffer
			w := NewTextWriter(&out)
			if err := w.WriteHeader(TextHeader(bin.header)); err != nil {
				t.Fatal(err)
			}
			for _, cm := range bin.msgs {
				if err := w.WriteMessage(cm.ctx, cm.m); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(base + ".dptxt")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Fatalf("written dptxt differs from Drawpile's:\n%s", firstDiff(out.Bytes(), want))
			}

			// dptxt → dprec, byte for byte.
			var rec bytes.Buffer
			rw, err := NewRecordingWriter(&rec, RecordingHeaderFromText(hdr))
			if err != nil {
				t.Fatal(err)
			}
			for _, cm := range txt {
				f, err := EncodeFrame(cm.ctx, cm.m, Layout425)
				if err != nil {
					t.Fatal(err)
				}
				if err := rw.WriteFrame(f); err != nil {
					t.Fatal(err)
				}
			}
			if err := rw.Flush(); err != nil {
				t.Fatal(err)
			}
			wantRec, err := os.ReadFile(base + ".dprec")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(rec.Bytes(), wantRec) {
				i := 0
				for i < min(rec.Len(), len(wantRec)) && rec.Bytes()[i] == wantRec[i] {
					i++
				}
				t.Fatalf("written dprec differs from Drawpile's at byte %d (len %d vs %d)", i, rec.Len(), len(wantRec))
			}
		})
	}
}

// firstDiff describes the first differing line of two texts.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + a + "\nwant: " + b
		}
	}
	return "(no line differs)"
}

func TestAppendText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ctx  uint8
		m    Message
		want string
	}{
		{"no fields", 3, UndoPoint{}, "3 undopoint\n"},
		{"all fields omitted", 0, SessionOwner{}, "0 sessionowner\n"},
		{"empty string kept", 1, LayerRetitle{ID: 257}, `1 retitlelayer {"id":257,"title":""}` + "\n"},
		{"escapes", 1, Chat{Message: "a\"\\\b\f\n\r\t\x01\x1f/é"},
			`1 chat {"message":"a\"\\\b\f\n\r\t\u0001\u001f/é"}` + "\n"},
		{"flags in bit order", 2, Chat{Tflags: ChatTBypass, Oflags: ChatOPin | ChatOShout},
			`2 chat {"message":"","oflags":["shout","pin"],"tflags":["bypass"]}` + "\n"},
		{"translucent colour", 1, LaserTrail{Color: 0x0a0b0c0d}, `1 lasertrail {"color":"#0a0b0c0d","persistence":0}` + "\n"},
		{"unknown blend", 1, FillRect{Mode: 200, Color: 0xFF123456}, `1 fillrect {"color":"#123456","h":0,"layer":0,"mode":"-dp-unknown","w":0,"x":0,"y":0}` + "\n"},
		{"decimals", 1, DrawDabsClassic{X: -1, Y: 6, Color: 0, Dabs: []ClassicDab{{X: -128, Y: 127, Size: 1}}},
			`1 classicdabs {"color":"#00000000","flags":0,"layer":0,"mode":"svg:dst-out","x":-0.25,"y":1.5,"_":[{"x":-32,"y":31.75,"size":0.00390625,"hardness":0,"opacity":0}]}` + "\n"},
		{"pointer", 1, &Ping{IsPong: true}, `1 ping {"is_pong":true}` + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendText(nil, tc.ctx, tc.m)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("\n got %s\nwant %s", got, tc.want)
			}
		})
	}
	if _, err := AppendText(nil, 1, Opaque{T: 200}); err == nil {
		t.Error("Opaque has a text form")
	}
}

func TestParseText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line string
		want Message
	}{
		{"3 undopoint {}", UndoPoint{}},
		{"  7\t resize\t{\"top\":-5}  ", CanvasResize{Top: -5}},
		{`1 classicdabs {"x":0.125,"y":-0.125,"mode":"no-such-mode","_":[{"size":1.001953125}]}`,
			DrawDabsClassic{X: 1, Y: -1, Mode: BlendNormal, Dabs: []ClassicDab{{Size: 257}}}},
		{`1 join {"flags":["mod","nonsense"],"name":"x"}`, Join{Flags: JoinMod, Name: "x"}},
		{`1 lasertrail {"color":"#123456"}`, LaserTrail{Color: 0xFF123456}},
		{`1 layerattr {"blend":"-dp-replace","flags":["clip"]}`, LayerAttributes{Blend: BlendReplace, Flags: LayerAttrClip}},
		{`1 undo {"redo":true,"override_user":2.0}`, Undo{Redo: true, OverrideUser: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			_, m, err := ParseTextMessage(tc.line)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, tc.want) {
				t.Fatalf("got %#v\nwant %#v", m, tc.want)
			}
		})
	}
	for _, bad := range []string{
		"256 ping", "x ping", "1", "1 nosuch", "1 internal", "1 ping [1]", "1 ping {\"is_pong\":1} x",
		"1 ping {", `1 resize {"top":1.5}`, `1 resize {"top":"1"}`, `1 undo {"override_user":256}`,
		`1 background {"image":"***"}`, `1 lasertrail {"color":"red"}`, `1 sessionowner {"users":[1,-1]}`,
		`1 classicdabs {"_":[1]}`, `1 classicdabs {"x":1e300}`,
	} {
		if _, m, err := ParseTextMessage(bad); err == nil {
			t.Errorf("%q parsed as %#v", bad, m)
		} else if te := (*TextError)(nil); !errors.As(err, &te) {
			t.Errorf("%q: error %T", bad, err)
		}
	}
}

func TestTextHeader(t *testing.T) {
	t.Parallel()
	h, err := ParseRecordingHeader([]byte(`{"version":"dp:4.25.1","n":3,"b":true,"z":null,"s":"a b"}`))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := NewTextWriter(&out)
	if err := w.WriteHeader(TextHeader(h)); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "!version=dp:4.25.1\n!n=3.000000\n!b=true\n!z=null\n!s=a b\n"
	if out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
	r := NewTextReader(strings.NewReader("# c\n\n! version = dp:4.25.1 \n!e=\n1 ping {}\n!late=1\n"))
	fields, err := r.Header()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fields, []HeaderField{{"version", "dp:4.25.1"}, {"e", ""}}) {
		t.Fatalf("header %q", fields)
	}
	if _, _, err := r.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.ReadMessage(); err == nil {
		t.Fatal("header line after messages accepted")
	}
	if got := RecordingHeaderFromText(fields).String(); got != `{"version":"dp:4.25.1","e":""}` {
		t.Fatalf("RecordingHeaderFromText = %s", got)
	}
}

package protocol

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// vector is one row of testdata/vectors.tsv, produced by Drawpile's own
// message library (shared/vectors/protocol/README.md).
type vector struct {
	line     int
	name     string
	ctx      uint8
	tcp, ws  []byte
	compat   []byte // nil when the type cannot be sent to a 4.24 peer
	noCompat bool
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	f, err := os.Open("testdata/vectors.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []vector
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 5 {
			t.Fatalf("vectors.tsv:%d: %d columns", n, len(cols))
		}
		ctx, err := strconv.ParseUint(cols[1], 10, 8)
		if err != nil {
			t.Fatalf("vectors.tsv:%d: %v", n, err)
		}
		v := vector{line: n, name: cols[0], ctx: uint8(ctx)}
		dec := func(s string) []byte {
			b, err := hex.DecodeString(s)
			if err != nil {
				t.Fatalf("vectors.tsv:%d: %v", n, err)
			}
			return b
		}
		v.tcp, v.ws = dec(cols[2]), dec(cols[3])
		if cols[4] == "-" {
			v.noCompat = true
		} else {
			v.compat = dec(cols[4])
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 70 {
		t.Fatalf("only %d vectors", len(out))
	}
	return out
}

func TestVectors(t *testing.T) {
	t.Parallel()
	seen := map[Type]bool{}
	for _, v := range loadVectors(t) {
		t.Run(strconv.Itoa(v.line)+"_"+v.name, func(t *testing.T) {
			f, err := ParseFrame(v.tcp)
			if err != nil {
				t.Fatal(err)
			}
			if f.Type().TextName() != v.name || f.Ctx() != v.ctx {
				t.Fatalf("frame is %v ctx %d (%q), want %q ctx %d", f.Type(), f.Ctx(), f.Type().TextName(), v.name, v.ctx)
			}
			seen[f.Type()] = true
			m, err := Decode(f, Layout425)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if _, ok := m.(Opaque); ok {
				t.Fatalf("decoded as Opaque")
			}
			if m.MessageType() != f.Type() {
				t.Fatalf("MessageType %v, want %v", m.MessageType(), f.Type())
			}
			got, err := AppendMessage(nil, v.ctx, m, Layout425)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if !bytes.Equal(got, v.tcp) {
				t.Fatalf("re-encoded\n got %x\nwant %x", got, v.tcp)
			}
			// Pointers encode like values.
			p := reflect.New(reflect.TypeOf(m))
			p.Elem().Set(reflect.ValueOf(m))
			if got, err := AppendMessage(nil, v.ctx, p.Interface().(Message), Layout425); err != nil || !bytes.Equal(got, v.tcp) {
				t.Fatalf("pointer encode: %x, %v", got, err)
			}

			// WebSocket column.
			if !bytes.Equal(f.WS(), v.ws) {
				t.Fatalf("WS form %x, want %x", f.WS(), v.ws)
			}
			wf, err := FrameFromWS(v.ws)
			if err != nil || !bytes.Equal(wf, v.tcp) {
				t.Fatalf("FrameFromWS = %x, %v", wf, err)
			}

			// Compat column.
			_, err = AppendMessage(nil, v.ctx, m, Layout424)
			if v.noCompat {
				var le *LayoutError
				if !errors.Is(err, ErrNotInLayout) || !errors.As(err, &le) || le.Type != m.MessageType() {
					t.Fatalf("encode for 4.24: err %v, want ErrNotInLayout", err)
				}
				if m.MessageType().InLayout(Layout424) {
					t.Fatal("InLayout(Layout424) is true")
				}
				if _, err := DecodePayload(f.Type(), f.Payload(), Layout424); err == nil {
					t.Fatal("4.24 decode of an incompatible type succeeded")
				}
				return
			}
			got, err = AppendMessage(nil, v.ctx, m, Layout424)
			if err != nil {
				t.Fatalf("encode 4.24: %v", err)
			}
			if !bytes.Equal(got, v.compat) {
				t.Fatalf("4.25 → 4.24\n got %x\nwant %x", got, v.compat)
			}
			cf, err := ParseFrame(v.compat)
			if err != nil {
				t.Fatal(err)
			}
			cm, err := Decode(cf, Layout424)
			if err != nil {
				t.Fatalf("decode 4.24: %v", err)
			}
			got, err = AppendMessage(nil, v.ctx, cm, Layout424)
			if err != nil || !bytes.Equal(got, v.compat) {
				t.Fatalf("4.24 round trip\n got %x (%v)\nwant %x", got, err, v.compat)
			}
			if want := compatView(m); !reflect.DeepEqual(cm, want) {
				t.Fatalf("4.24 decode\n got %#v\nwant %#v", cm, want)
			}
		})
	}
	// Every known type has a vector.
	for i := range typeInfos {
		if Type(i).Known() && !seen[Type(i)] {
			t.Errorf("no vector for %v", Type(i))
		}
	}
}

// compatView returns what a dp:4.25 message turns into after a trip through
// the dp:4.24 layout: fields 4.24 lacks take their 4.24 defaults.
func compatView(m Message) Message {
	alpha := func(c uint32) uint8 {
		if c>>24 != 0 {
			return PaintModeIndirectSoft
		}
		return PaintModeDirect
	}
	switch m := m.(type) {
	case PenUp:
		m.Layer = 0
		return m
	case PutTile:
		m.User = 0
		return m
	case MoveRect:
		m.Blend, m.Opacity = BlendNormal, 255
		return m
	case TransformRegion:
		m.Blend, m.Opacity = BlendNormal, 255
		return m
	case DrawDabsClassic:
		m.Flags, m.Mode = alpha(m.Color), BlendTo424(m.Mode)
		m.Dabs = append([]ClassicDab(nil), m.Dabs...)
		for i := range m.Dabs {
			m.Dabs[i].Size &= 0xFFFF
		}
		return m
	case DrawDabsPixel:
		m.Flags, m.Mode = alpha(m.Color), BlendTo424(m.Mode)
		return m
	case DrawDabsPixelSquare:
		m.Flags, m.Mode = alpha(m.Color), BlendTo424(m.Mode)
		return m
	case DrawDabsMyPaint:
		m.Flags = 0
		return m
	case LayerACL:
		m.Flags &= 0x83
		return m
	case LayerAttributes:
		m.Flags &= 0x07
		return m
	case AnnotationEdit:
		m.Flags &= 0x07
		return m
	}
	return m
}

func TestCompatRecording(t *testing.T) {
	t.Parallel()
	all := readDprec(t, "testdata/all_messages.dprec")
	compat := readDprec(t, "testdata/compat_messages_v4240.dprec")
	if compat.layout != Layout424 || all.layout != Layout425 {
		t.Fatalf("layouts %v, %v", all.layout, compat.layout)
	}
	var want []ctxMessage
	for _, cm := range all.msgs {
		if cm.m.MessageType().InLayout(Layout424) {
			want = append(want, cm)
		}
	}
	if len(compat.msgs) != len(want) || len(want) != 62 {
		t.Fatalf("compat recording has %d messages, all_messages has %d compatible ones", len(compat.msgs), len(want))
	}
	for i, got := range compat.msgs {
		w := want[i]
		if got.ctx != w.ctx {
			t.Errorf("message %d: ctx %d, want %d", i, got.ctx, w.ctx)
		}
		if cv := compatView(w.m); !reflect.DeepEqual(got.m, cv) {
			t.Errorf("message %d:\n got %#v\nwant %#v", i, got.m, cv)
		}
		// And the 4.25 message encodes to exactly the recorded 4.24 bytes.
		b, err := AppendMessage(nil, w.ctx, w.m, Layout424)
		if err != nil || !bytes.Equal(b, compat.frames[i]) {
			t.Errorf("message %d: 4.24 encoding %x (%v), recorded %x", i, b, err, compat.frames[i])
		}
	}
}

type ctxMessage struct {
	ctx uint8
	m   Message
}

type dprecContent struct {
	header RecordingHeader
	layout Layout
	msgs   []ctxMessage
	frames []Frame
}

func readDprec(t testing.TB, path string) dprecContent {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := NewRecordingReader(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	c := dprecContent{header: r.Header()}
	l, ok := LayoutFor(c.header.Version())
	if !ok {
		t.Fatalf("%s: version %q", path, c.header.Version())
	}
	c.layout = l
	for {
		fr, err := r.ReadFrame()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("%s: %v", path, err)
		}
		m, err := Decode(fr, l)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		c.msgs = append(c.msgs, ctxMessage{fr.Ctx(), m})
		c.frames = append(c.frames, fr.Clone())
	}
	return c
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		t       Type
		payload string // hex
		l       Layout
	}{
		{"ping too long", TypePing, "0001", Layout425},
		{"ping empty", TypePing, "", Layout425},
		{"keepalive with payload", TypeKeepAlive, "00", Layout425},
		{"reserved internal", TypeInternal, "", Layout425},
		{"unassigned control", 5, "", Layout425},
		{"unassigned server meta", 40, "", Layout425},
		{"join name overruns", TypeJoin, "0305616c", Layout425},
		{"join too short", TypeJoin, "03", Layout425},
		{"dabs without a dab", TypeDrawDabsClassic, "0000010300000190000001940000000001", Layout425},
		{"dabs remainder", TypeDrawDabsClassic, "0000010300000190000001940000000001000000000a00ff80ff", Layout425},
		{"featurelimits short", TypeFeatureLimits, "ffffffff", Layout425},
		{"featurelimits in 4.24", TypeFeatureLimits, "ffffffff000000ff000000ff000000ff", Layout424},
		{"featureaccess empty", TypeFeatureAccessLevels, "", Layout425},
		{"sessionowner too long", TypeSessionOwner, strings.Repeat("01", 256), Layout425},
		{"trackorder odd", TypeTrackOrder, "010301", Layout425},
		{"penup 4.24 with payload", TypePenUp, "000000", Layout424},
		{"fillrect short", TypeFillRect, "00", Layout425},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := hex.DecodeString(tc.payload)
			m, err := DecodePayload(tc.t, p, tc.l)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("got %#v, %v; want a *DecodeError", m, err)
			}
			if de.Type != tc.t || de.Offset < 0 || de.Offset > len(p) {
				t.Fatalf("error %+v", de)
			}
		})
	}
}

func TestOpaque(t *testing.T) {
	t.Parallel()
	for _, typ := range []Type{67, 72, 73, 78, 127, 130, 145, 153, 183, 254} {
		payload := []byte{1, 2, 3, byte(typ)}
		m, err := DecodePayload(typ, payload, Layout425)
		if err != nil {
			t.Fatalf("%v: %v", typ, err)
		}
		o, ok := m.(Opaque)
		if !ok || o.T != typ || !bytes.Equal(o.Payload, payload) {
			t.Fatalf("%v: decoded %#v", typ, m)
		}
		for _, l := range []Layout{Layout425, Layout424} {
			b, err := AppendMessage(nil, 9, m, l)
			want := append([]byte{0, 4, byte(typ), 9}, payload...)
			if err != nil || !bytes.Equal(b, want) {
				t.Fatalf("%v: encoded %x, %v", typ, b, err)
			}
		}
		payload[0] = 99
		if o.Payload[0] == 99 {
			t.Fatal("Opaque aliases the input")
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		m    Message
		l    Layout
		want any
	}{
		{"no dabs", DrawDabsClassic{}, Layout425, new(*EncodeError)},
		{"u24 overflow", PenUp{Layer: 1 << 24}, Layout425, new(*EncodeError)},
		{"dab size overflow", DrawDabsMyPaintBlend{Dabs: []MyPaintBlendDab{{Size: 1 << 24}}}, Layout425, new(*EncodeError)},
		{"join name too long", Join{Name: strings.Repeat("x", 256)}, Layout425, new(*EncodeError)},
		{"too many users", SessionOwner{Users: make([]uint8, 256)}, Layout425, new(*EncodeError)},
		{"payload too long", ServerCommand{Msg: strings.Repeat("x", MaxPayload+1)}, Layout425, new(*EncodeError)},
		{"feature limits short", FeatureLimits{Limits: []int32{1}}, Layout425, new(*EncodeError)},
		{"selection for 4.24", SelectionClear{SelectionID: 1}, Layout424, new(*LayoutError)},
		{"nil", nil, Layout425, new(*EncodeError)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte{7}
			b, err := AppendMessage(dst, 1, tc.m, tc.l)
			if err == nil || !errors.As(err, tc.want) {
				t.Fatalf("err = %v, want %T", err, tc.want)
			}
			if len(b) != 1 {
				t.Fatalf("dst grew to %d bytes on error", len(b))
			}
		})
	}
}

func TestTypeNames(t *testing.T) {
	t.Parallel()
	for i := range 256 {
		typ := Type(i)
		if !typ.Known() {
			if _, ok := TypeByTextName(typ.TextName()); ok && typ.TextName() != "" {
				t.Errorf("%v has a text name", typ)
			}
			continue
		}
		got, ok := TypeByTextName(typ.TextName())
		if !ok || got != typ {
			t.Errorf("TypeByTextName(%q) = %v, %v", typ.TextName(), got, ok)
		}
	}
	if TypeDrawDabsClassic.String() != "DrawDabsClassic" || TypeUndo.TextName() != "undo" || Type(200).String() != "Type(200)" {
		t.Error("names")
	}
	if _, ok := TypeByTextName("newlayer"); ok {
		t.Error("old 2.1 name accepted")
	}
	for _, tc := range []struct {
		v  string
		l  Layout
		ok bool
	}{{"dp:4.25.1", Layout425, true}, {"dp:4.24.0", Layout424, true}, {"dp:4.21.2", Layout425, false}, {"", Layout425, false}} {
		if l, ok := LayoutFor(tc.v); l != tc.l || ok != tc.ok {
			t.Errorf("LayoutFor(%q) = %v, %v", tc.v, l, ok)
		}
	}
}

func TestBlendTo424(t *testing.T) {
	t.Parallel()
	tests := map[uint8]uint8{0: 0, 1: 1, 24: 24, 25: 1, 26: 1, 27: 10, 43: 10, 44: 0, 45: 0, 46: 2, 54: 13, 55: 15,
		64: 24, 65: 1, 82: 1, 83: 0, 84: 11, 85: 12, 86: 0, 87: 0, 88: 1, 89: 10, 90: 1, 252: 252, 255: 255}
	for in, want := range tests {
		if got := BlendTo424(in); got != want {
			t.Errorf("BlendTo424(%d) = %d, want %d", in, got, want)
		}
	}
	if BlendName(BlendMultiply) != "svg:multiply" || BlendName(200) != "-dp-unknown" {
		t.Error("BlendName")
	}
	if m, ok := BlendByName("-dp-replace"); !ok || m != BlendReplace {
		t.Error("BlendByName")
	}
}

package protocol_test

import (
	"bytes"
	"fmt"
	"os"

	"drawbridge/protocol"
)

func ExampleDecode() {
	// A Ping from vectors.tsv: length 1, type 2, ctx 0, is_pong 0.
	f, err := protocol.ParseFrame([]byte{0x00, 0x01, 0x02, 0x00, 0x00})
	if err != nil {
		panic(err)
	}
	m, err := protocol.Decode(f, protocol.Layout425)
	if err != nil {
		panic(err)
	}
	switch m := m.(type) {
	case protocol.Ping:
		fmt.Printf("%v from ctx %d, pong=%v\n", m.MessageType(), f.Ctx(), m.IsPong)
	}
	// Output: Ping from ctx 0, pong=false
}

func ExampleAppendMessage() {
	m := protocol.LayerACL{ID: 0x000103, Flags: 0xE1, Exclusive: []uint8{3}}
	b, err := protocol.AppendMessage(nil, 1, m, protocol.Layout425)
	if err != nil {
		panic(err)
	}
	fmt.Printf("4.25: % x\n", b)
	// The same message for a Drawpile 2.2 peer: owner-first u16 id, masked flags.
	b, err = protocol.AppendMessage(nil, 1, m, protocol.Layout424)
	if err != nil {
		panic(err)
	}
	fmt.Printf("4.24: % x\n", b)
	// Output:
	// 4.25: 00 05 45 01 00 01 03 e1 03
	// 4.24: 00 04 45 01 03 01 81 03
}

func ExampleTextWriter() {
	w := protocol.NewTextWriter(os.Stdout)
	_ = w.WriteHeader([]protocol.HeaderField{{Key: "version", Value: protocol.ProtocolVersion}})
	_ = w.WriteMessage(3, protocol.DrawDabsClassic{
		Layer: 0x000103, X: 400, Y: 404, Color: 0xFF000000, Mode: protocol.BlendNormal,
		Dabs: []protocol.ClassicDab{{X: 0, Y: 0, Size: 2560, Hardness: 255, Opacity: 128}},
	})
	_ = w.WriteMessage(3, protocol.UndoPoint{})
	_ = w.Flush()
	// Output:
	// !version=dp:4.25.1
	// 3 classicdabs {"color":"#000000","flags":0,"layer":259,"mode":"svg:src-over","x":100,"y":101,"_":[{"x":0,"y":0,"size":10,"hardness":255,"opacity":128}]}
	// 3 undopoint
}

func ExampleNewTextReader() {
	r := protocol.NewTextReader(bytes.NewReader([]byte("!version=dp:4.25.1\n1 resize {\"bottom\":600,\"right\":800}\n")))
	h, _ := r.Header()
	ctx, m, _ := r.ReadMessage()
	fmt.Println(h[0].Value, ctx, m)
	// Output: dp:4.25.1 1 {0 800 600 0}
}

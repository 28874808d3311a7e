package mirror

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"drawbridge/protocol"
)

// FuzzMirrorApply feeds arbitrary history (hostile clients write it) to a
// mirror: it must never panic, and whatever reset image it builds must
// decode and be accepted by a fresh client's ACL filter.
func FuzzMirrorApply(f *testing.F) {
	var seed []byte
	for _, fr := range scene(f, 1) {
		seed = append(seed, fr...)
	}
	f.Add(seed)
	f.Add([]byte{0, 0, 37, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		m := New(newSource(), Options{Logger: testLoggerTB(t)})
		r := protocol.NewReader(bytes.NewReader(data))
		var frames []protocol.Frame
		for len(frames) < 200 {
			fr, err := r.ReadFrame()
			if errors.Is(err, io.EOF) || err != nil {
				break
			}
			frames = append(frames, fr.Clone())
		}
		m.apply(batch{frames: frames})
		if m.cv.Width()*m.cv.Height() > 1<<22 {
			return // legal but too slow to snapshot at fuzzing speed
		}
		img, err := m.image(true)
		if err != nil {
			return // e.g. a canvas too large to snapshot in one message
		}
		p := newPlayer()
		p.feed(t, img)
	})
}

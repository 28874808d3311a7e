package loadgen

import (
	"context"
	"io"
	"testing"
)

func TestSelfCheck(t *testing.T) {
	res, err := SelfCheck(context.Background(), 20000)
	if err != nil {
		t.Fatal(err)
	}
	if !(res.GenNsPerMsg > 0 && res.RecvNsPerMsg > 0 && res.AvgFrameBytes > 4) {
		t.Fatalf("self-check %+v", res)
	}
	if _, err := SelfCheck(context.Background(), 0); err == nil {
		t.Fatal("zero messages accepted")
	}
}

// BenchmarkReceive is the per-message cost of a receiving bot: client
// frame handling, matching by order and latency accounting (no sockets).
func BenchmarkReceive(b *testing.B) {
	frames, err := sampleFrames(NewGenerator(1, 0, GenOptions{}), 7)
	if err != nil {
		b.Fatal(err)
	}
	bot := nullReceiver(frames, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	if err := bot.readLoop(); err != io.EOF {
		b.Fatal(err)
	}
	b.StopTimer()
	if bot.tracked.Load() != int64(b.N) || bot.mismatched != 0 {
		b.Fatalf("tracked %d of %d, mismatched %d", bot.tracked.Load(), b.N, bot.mismatched)
	}
}

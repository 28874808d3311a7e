package loadgen

import (
	"sync"
	"testing"
)

func TestStreamLookup(t *testing.T) {
	s := &stream{}
	for seq := uint32(0); seq < 10; seq++ {
		s.publish(seq, 148, int(seq)+20, int64(seq)*1000)
	}
	for _, tc := range []struct {
		name    string
		seq     uint32
		typ     uint8
		plen    int
		wantT   int64
		wantRes matchResult
	}{
		{"match", 3, 148, 23, 3000, matchOK},
		{"other length", 3, 148, 24, 0, matchMismatch},
		{"other type", 3, 128, 23, 0, matchMismatch},
		{"not yet sent", 10, 148, 30, 0, matchUnmatched},
		{"recycled", 3 + ringSize, 148, 23, 0, matchUnmatched},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, res := s.lookup(tc.seq, tc.typ, tc.plen)
			if got != tc.wantT || res != tc.wantRes {
				t.Fatalf("lookup = %d, %v; want %d, %v", got, res, tc.wantT, tc.wantRes)
			}
		})
	}
	// After the ring wrapped, the old sequence number is gone.
	s.publish(3+ringSize, 148, 23, 99)
	if _, res := s.lookup(3, 148, 23); res != matchUnmatched {
		t.Fatalf("recycled slot still matches the old message")
	}
}

func TestStreamFirstSeen(t *testing.T) {
	s := &stream{}
	if _, ok := s.firstSeen(5, 100); ok {
		t.Fatal("first arrival reported another receiver as earlier")
	}
	if first, ok := s.firstSeen(5, 150); !ok || first != 100 {
		t.Fatalf("second arrival: first = %d, %v; want 100", first, ok)
	}
	// Time 0 is a valid arrival time, not an empty slot.
	if _, ok := s.firstSeen(6, 0); ok {
		t.Fatal("arrival at t=0 not first")
	}
	if first, ok := s.firstSeen(6, 7); !ok || first != 0 {
		t.Fatalf("after t=0: first = %d, %v", first, ok)
	}
	// A newer message in the same slot replaces an older one…
	if _, ok := s.firstSeen(5+ringSize, 300); ok {
		t.Fatal("newer message in a reused slot not first")
	}
	// …and a receiver still at the old one cannot tell.
	if _, ok := s.firstSeen(5, 400); ok {
		t.Fatal("old message matched a reused slot")
	}
}

func TestStreamFirstSeenConcurrent(t *testing.T) {
	s := &stream{}
	const receivers, msgs = 8, 2000
	firsts := make([]int, receivers)
	var wg sync.WaitGroup
	for r := range receivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := uint32(0); seq < msgs; seq++ {
				if _, ok := s.firstSeen(seq, int64(seq)*10+int64(r)); !ok {
					firsts[r]++
				}
			}
		}()
	}
	wg.Wait()
	total := 0
	for _, n := range firsts {
		total += n
	}
	if total != msgs {
		t.Fatalf("%d first arrivals for %d messages", total, msgs)
	}
}

package loadgen

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBucketBounds(t *testing.T) {
	for i := 0; i < histBuckets-1; i++ {
		u := bucketUpper(i)
		if got := bucketOf(u); got != i {
			t.Fatalf("bucketOf(bucketUpper(%d)=%d) = %d", i, u, got)
		}
		if got := bucketOf(u + 1); got != i+1 {
			t.Fatalf("bucketOf(%d) = %d, want %d", u+1, got, i+1)
		}
	}
	if got := bucketOf(1 << 62); got != histBuckets-1 {
		t.Fatalf("huge value in bucket %d", got)
	}
}

func TestHistogramQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		gen  func() int64
	}{
		{"uniform µs", func() int64 { return 1000 + rng.Int64N(1_000_000) }},
		{"exponential ms", func() int64 { return int64(rng.ExpFloat64()*2e6) + 1 }},
		{"small exact", func() int64 { return 1 + rng.Int64N(31) }},
		{"constant", func() int64 { return 123456 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h Histogram
			vals := make([]int64, 20000)
			for i := range vals {
				vals[i] = tc.gen()
				h.Add(vals[i])
			}
			slices.Sort(vals)
			prev := int64(0)
			for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
				got := h.Quantile(q)
				idx := max(int(float64(len(vals))*q+0.999999)-1, 0)
				want := vals[idx]
				if d := float64(got-want) / float64(want); d < -0.04 || d > 0.04 {
					t.Errorf("q%v = %d, exact %d (%.1f%% off)", q, got, want, 100*d)
				}
				if got < prev {
					t.Errorf("q%v = %d below the previous quantile %d", q, got, prev)
				}
				prev = got
			}
			if h.Quantile(1) != vals[len(vals)-1] || h.Stats().MinMs != ms(vals[0]) {
				t.Errorf("min/max not exact")
			}
		})
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b, all Histogram
	for i := int64(1); i < 5000; i++ {
		v := i * 997 % 100000
		all.Add(v)
		if i%2 == 0 {
			a.Add(v)
		} else {
			b.Add(v)
		}
	}
	a.Merge(&b)
	a.Merge(nil)
	if a != all {
		t.Fatalf("merged histogram differs from the direct one")
	}
	var empty Histogram
	if s := empty.Stats(); s != (LatencyStats{}) || empty.Quantile(0.5) != 0 {
		t.Fatalf("empty histogram stats %+v", s)
	}
	empty.Add(-5) // clamped, not a panic
	if empty.Stats().MinMs <= 0 {
		t.Fatalf("non-positive value recorded as %v", empty.Stats().MinMs)
	}
}

func BenchmarkHistogramAdd(b *testing.B) {
	var h Histogram
	v := int64(12345)
	for b.Loop() {
		h.Add(v)
		v = v*1103515245 + 12345&0xFFFFFFF
	}
}

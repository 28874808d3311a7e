package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// Histogram is a log-linear latency histogram: values below 32 ns are
// exact, above that each power of two is split into 32 buckets, so a
// reported percentile is within 1/32 (3.1 %) of the true value. Values are
// nanoseconds; anything ≥ 2^41 ns (about 36 minutes) lands in the last
// bucket. The exact minimum and maximum are kept as well.
//
// A Histogram is owned by one goroutine; merge finished ones with Merge.
type Histogram struct {
	counts   [histBuckets]uint32
	n        uint64
	min, max int64
	sum      float64
}

const (
	histSubBits = 5
	histSub     = 1 << histSubBits // buckets per power of two
	histMaxExp  = 41
	histBuckets = (histMaxExp-histSubBits+1)*histSub + histSub
)

// bucketOf maps a value ≥ 1 to its bucket index.
func bucketOf(v int64) int {
	if v < histSub {
		return int(v)
	}
	e := bits.Len64(uint64(v)) - 1 // v in [2^e, 2^(e+1))
	if e > histMaxExp {
		return histBuckets - 1
	}
	sub := int(uint64(v)>>(e-histSubBits)) & (histSub - 1)
	return (e-histSubBits+1)*histSub + sub
}

// bucketUpper returns the largest value that falls into bucket i.
func bucketUpper(i int) int64 {
	if i < histSub {
		return int64(i)
	}
	e := i/histSub + histSubBits - 1
	sub := int64(i % histSub)
	lo := (histSub + sub) << (e - histSubBits)
	return lo + int64(1)<<(e-histSubBits) - 1
}

// Add records one value; values ≤ 0 are recorded as 1 ns (they cannot
// happen with a monotonic clock, but a histogram must not index with them).
func (h *Histogram) Add(v int64) {
	if v < 1 {
		v = 1
	}
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
	h.counts[bucketOf(v)]++
}

// Count returns the number of recorded values.
func (h *Histogram) Count() uint64 { return h.n }

// Merge adds o's values to h.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.n == 0 {
		return
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
	for i, c := range o.counts {
		h.counts[i] += c
	}
}

// Quantile returns the value at quantile q (0..1): the upper bound of the
// bucket holding it, clamped to [min, max]. It is monotonic in q.
func (h *Histogram) Quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += uint64(c)
		if seen >= rank {
			return min(max(bucketUpper(i), h.min), h.max)
		}
	}
	return h.max
}

// LatencyStats is the JSON form of a Histogram, in milliseconds.
type LatencyStats struct {
	Count  uint64  `json:"count"`
	MinMs  float64 `json:"min_ms"`
	MeanMs float64 `json:"mean_ms"`
	P50Ms  float64 `json:"p50_ms"`
	P90Ms  float64 `json:"p90_ms"`
	P99Ms  float64 `json:"p99_ms"`
	MaxMs  float64 `json:"max_ms"`
}

func ms(ns int64) float64 { return float64(ns) / float64(time.Millisecond) }

// Stats summarises h.
func (h *Histogram) Stats() LatencyStats {
	if h.n == 0 {
		return LatencyStats{}
	}
	return LatencyStats{
		Count:  h.n,
		MinMs:  ms(h.min),
		MeanMs: h.sum / float64(h.n) / float64(time.Millisecond),
		P50Ms:  ms(h.Quantile(0.50)),
		P90Ms:  ms(h.Quantile(0.90)),
		P99Ms:  ms(h.Quantile(0.99)),
		MaxMs:  ms(h.max),
	}
}

// Package metrics is a small Prometheus registry: counters, gauges and
// histograms, optionally with labels, written in the Prometheus text
// exposition format (version 0.0.4). It owns no HTTP routes; the bridge
// mounts Registry.WriteTo behind its admin access rules.
//
// All types are safe for concurrent use. Updates on the hot path are single
// atomic operations; label lookups take a read lock on the vector.
package metrics

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Registry holds metric families in registration order.
type Registry struct {
	mu       sync.Mutex // guards families
	families []family
}

// family is one metric name with its help text and type.
type family interface {
	name() string
	write(w *strings.Builder)
}

func (r *Registry) add(f family) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, have := range r.families {
		if have.name() == f.name() {
			panic("metrics: duplicate metric " + f.name()) // programming error at start-up
		}
	}
	r.families = append(r.families, f)
}

// WriteTo writes every metric in the text exposition format.
func (r *Registry) WriteTo(w io.Writer) (int64, error) {
	r.mu.Lock()
	fams := append([]family(nil), r.families...)
	r.mu.Unlock()
	var b strings.Builder
	for _, f := range fams {
		f.write(&b)
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// ContentType is the HTTP Content-Type of WriteTo's output.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Counter is a monotonically increasing integer.
type Counter struct{ v atomic.Uint64 }

// Inc adds one; Add adds n.
func (c *Counter) Inc()         { c.v.Add(1) }
func (c *Counter) Add(n uint64) { c.v.Add(n) }

// Value returns the current count.
func (c *Counter) Value() uint64 { return c.v.Load() }

// Gauge is a value that goes up and down.
type Gauge struct{ bits atomic.Uint64 }

// Set sets the gauge; Add adds d (which may be negative).
func (g *Gauge) Set(v float64) { g.bits.Store(math.Float64bits(v)) }
func (g *Gauge) Add(d float64) {
	for {
		old := g.bits.Load()
		if g.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+d)) {
			return
		}
	}
}

// Value returns the current value.
func (g *Gauge) Value() float64 { return math.Float64frombits(g.bits.Load()) }

// Histogram counts observations into cumulative buckets.
type Histogram struct {
	bounds  []float64       // immutable after construction, ascending
	counts  []atomic.Uint64 // per bucket (non-cumulative); last = +Inf
	sumBits atomic.Uint64
	count   atomic.Uint64
}

func newHistogram(bounds []float64) *Histogram {
	b := append([]float64(nil), bounds...)
	sort.Float64s(b)
	return &Histogram{bounds: b, counts: make([]atomic.Uint64, len(b)+1)}
}

// Observe records one value.
func (h *Histogram) Observe(v float64) {
	i := sort.SearchFloat64s(h.bounds, v) // first bound >= v
	h.counts[i].Add(1)
	h.count.Add(1)
	for {
		old := h.sumBits.Load()
		if h.sumBits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// Count returns the number of observations.
func (h *Histogram) Count() uint64 { return h.count.Load() }

// DefaultSeconds are histogram bounds for durations from 1 ms to 1 min.
var DefaultSeconds = []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60}

// NewCounter registers a counter without labels.
func (r *Registry) NewCounter(name, help string) *Counter {
	return r.NewCounterVec(name, help).With()
}

// NewGauge registers a gauge without labels.
func (r *Registry) NewGauge(name, help string) *Gauge {
	return r.NewGaugeVec(name, help).With()
}

// NewGaugeFunc registers a gauge whose value is read from f at scrape time.
func (r *Registry) NewGaugeFunc(name, help string, f func() float64) {
	r.add(&funcFamily{n: name, help: help, f: f})
}

// NewHistogram registers a histogram without labels.
func (r *Registry) NewHistogram(name, help string, bounds []float64) *Histogram {
	return r.NewHistogramVec(name, help, bounds).With()
}

// vec is a family of one metric kind keyed by label values.
type vec[M any] struct {
	n, help, kind string
	labels        []string // immutable after construction
	mk            func() *M
	writeOne      func(b *strings.Builder, name, labels string, m *M)

	mu     sync.RWMutex // guards series
	series map[string]*M
	keys   []string // label strings in creation order
}

func (v *vec[M]) name() string { return v.n }

// With returns the series for the given label values (in the order the
// labels were declared), creating it on first use.
func (v *vec[M]) With(values ...string) *M {
	if len(values) != len(v.labels) {
		panic(fmt.Sprintf("metrics: %s takes %d label values, got %d", v.n, len(v.labels), len(values)))
	}
	key := labelString(v.labels, values)
	v.mu.RLock()
	m := v.series[key]
	v.mu.RUnlock()
	if m != nil {
		return m
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if m = v.series[key]; m == nil {
		m = v.mk()
		v.series[key] = m
		v.keys = append(v.keys, key)
	}
	return m
}

func (v *vec[M]) write(b *strings.Builder) {
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", v.n, escapeHelp(v.help), v.n, v.kind)
	v.mu.RLock()
	defer v.mu.RUnlock()
	for _, k := range v.keys {
		v.writeOne(b, v.n, k, v.series[k])
	}
}

// CounterVec, GaugeVec and HistogramVec are labelled families.
type (
	CounterVec   = vec[Counter]
	GaugeVec     = vec[Gauge]
	HistogramVec = vec[Histogram]
)

// NewCounterVec registers a counter family with the given label names.
func (r *Registry) NewCounterVec(name, help string, labels ...string) *CounterVec {
	v := &CounterVec{n: name, help: help, kind: "counter", labels: labels, series: map[string]*Counter{},
		mk: func() *Counter { return new(Counter) },
		writeOne: func(b *strings.Builder, name, l string, c *Counter) {
			fmt.Fprintf(b, "%s%s %d\n", name, braces(l), c.Value())
		}}
	r.add(v)
	return v
}

// NewGaugeVec registers a gauge family with the given label names.
func (r *Registry) NewGaugeVec(name, help string, labels ...string) *GaugeVec {
	v := &GaugeVec{n: name, help: help, kind: "gauge", labels: labels, series: map[string]*Gauge{},
		mk: func() *Gauge { return new(Gauge) },
		writeOne: func(b *strings.Builder, name, l string, g *Gauge) {
			fmt.Fprintf(b, "%s%s %s\n", name, braces(l), formatFloat(g.Value()))
		}}
	r.add(v)
	return v
}

// NewHistogramVec registers a histogram family with the given bucket bounds
// and label names.
func (r *Registry) NewHistogramVec(name, help string, bounds []float64, labels ...string) *HistogramVec {
	v := &HistogramVec{n: name, help: help, kind: "histogram", labels: labels, series: map[string]*Histogram{},
		mk: func() *Histogram { return newHistogram(bounds) },
		writeOne: func(b *strings.Builder, name, l string, h *Histogram) {
			var cum uint64
			for i, bound := range h.bounds {
				cum += h.counts[i].Load()
				fmt.Fprintf(b, "%s_bucket%s %d\n", name, braces(joinLabels(l, `le="`+formatFloat(bound)+`"`)), cum)
			}
			cum += h.counts[len(h.bounds)].Load()
			fmt.Fprintf(b, "%s_bucket%s %d\n", name, braces(joinLabels(l, `le="+Inf"`)), cum)
			fmt.Fprintf(b, "%s_sum%s %s\n", name, braces(l), formatFloat(math.Float64frombits(h.sumBits.Load())))
			fmt.Fprintf(b, "%s_count%s %d\n", name, braces(l), cum)
		}}
	r.add(v)
	return v
}

type funcFamily struct {
	n, help string
	f       func() float64
}

func (f *funcFamily) name() string { return f.n }
func (f *funcFamily) write(b *strings.Builder) {
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %s\n", f.n, escapeHelp(f.help), f.n, f.n, formatFloat(f.f()))
}

func labelString(names, values []string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + `="` + escapeLabel(values[i]) + `"`
	}
	return strings.Join(parts, ",")
}

func joinLabels(a, b string) string {
	if a == "" {
		return b
	}
	return a + "," + b
}

func braces(l string) string {
	if l == "" {
		return ""
	}
	return "{" + l + "}"
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

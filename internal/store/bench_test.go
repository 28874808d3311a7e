package store

import (
	"context"
	"net/netip"
	"testing"
)

func benchStores(b *testing.B) map[string]*Store {
	dir := b.TempDir()
	out := map[string]*Store{}
	for name, opts := range map[string]Options{"memory": {}, "database": {Database: dir + "/b.db"}} {
		s, err := Open(context.Background(), opts)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		out[name] = s
	}
	return out
}

// BenchmarkSettings measures the cached snapshot read sessions do often.
func BenchmarkSettings(b *testing.B) {
	for name, s := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				_ = s.Settings()
			}
		})
	}
}

// BenchmarkCheckIP measures a ban check at connect time.
func BenchmarkCheckIP(b *testing.B) {
	addr := netip.MustParseAddr("203.0.113.50")
	for name, s := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				s.CheckIP(addr)
			}
		})
	}
}

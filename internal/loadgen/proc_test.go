package loadgen

import (
	"os"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want time.Duration
		ok   bool
	}{
		{"plain", "1234 (bridge) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 100 0 0", 3 * time.Second, true},
		{"name with spaces and parens", "77 (a (b) c) R 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 0 0", 100 * time.Millisecond, true},
		{"no paren", "77 bridge R 1", 0, false},
		{"short", "77 (x) R 1 2 3", 0, false},
		{"negative", "77 (x) R 1 1 1 0 -1 0 0 0 0 0 -7 3 0", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tc.in))
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("parseStatCPU = %v, %v; want %v, ok=%v", got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestParseStatusMem(t *testing.T) {
	rss, hwm := parseStatusMem([]byte("Name:\tbridge\nVmHWM:\t  20480 kB\nVmRSS:\t   10240 kB\nThreads: 8\n"))
	if rss != 10240 || hwm != 20480 {
		t.Fatalf("rss %d hwm %d", rss, hwm)
	}
	rss, hwm = parseStatusMem([]byte("garbage\nVmRSS:\n"))
	if rss != 0 || hwm != 0 {
		t.Fatalf("garbage gave rss %d hwm %d", rss, hwm)
	}
}

func TestProcSamplerSelf(t *testing.T) {
	p := startProcSampler(os.Getpid())
	rep := p.stop(time.Second)
	if rep.Error != "" || rep.PeakRSSKB <= 0 || rep.VmHWMKB < rep.PeakRSSKB/2 || rep.CPUSeconds < 0 {
		t.Fatalf("self sample %+v", rep)
	}
	p = startProcSampler(-1)
	if rep := p.stop(time.Second); rep.Error == "" {
		t.Fatalf("sampling a missing process did not fail: %+v", rep)
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("1234 (bridge) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 100 0 0"))
	f.Add([]byte("VmRSS:\t 1 kB\nVmHWM: 2 kB"))
	f.Add([]byte(")))"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, err := parseStatCPU(b); err == nil && d < 0 {
			t.Fatalf("negative cpu time %v", d)
		}
		parseStatusMem(b)
	})
}

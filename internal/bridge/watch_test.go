package bridge

import (
	"testing"
	"time"
)

func TestParseDelay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "", want: 0},
		{in: "0s", want: 0},
		{in: "30s", want: 30 * time.Second},
		{in: "1m", want: time.Minute},
		{in: "2.5", want: 2500 * time.Millisecond},
		{in: "120", want: 2 * time.Minute},
		{in: "121s", bad: true},
		{in: "-1s", bad: true},
		{in: "NaN", bad: true},
		{in: "1h", bad: true},
		{in: "soon", bad: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseDelay(tc.in)
			if tc.bad {
				if err == nil {
					t.Fatalf("parseDelay(%q) = %v, want an error", tc.in, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseDelay(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

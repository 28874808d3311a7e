package canvas

import "math"

// expf approximates C's expf for the Greater modes. Go's math.Exp rounded to
// float32 differs from glibc's expf by 1 ulp for 10 of the 32769 inputs the
// engine can produce (engine.md §10.1); see KNOWN_DIFFERENCES.md.
func expf(x float32) float32 { return float32(math.Exp(float64(x))) }

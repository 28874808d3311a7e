//go:build race

package canvas

// raceEnabled lets the long replay test skip under the race detector: the
// engine is single-goroutine, and the replay would take minutes.
const raceEnabled = true

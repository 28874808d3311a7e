//go:build !race

package canvas

const raceEnabled = false

package webui

import "math"

// Adaptive smoothing of remote strokes. A remote user's stroke segments
// arrive in bursts whose spacing depends on their client, their network
// and ours: a steady stream (one segment per frame) needs no delay, while
// segments that arrive in clumps every 100 ms must be spread over about six
// frames to look like motion (client.md §4: smoothed at display rate, and
// adaptive so slow strokes do not stall). Arrivals measures each user's
// burst spacing and its variation and turns them into a delay in frames.

// MaxSmoothDelay bounds the smoothing delay in frames.
const MaxSmoothDelay = 8

// Tunables of the estimator, in ticks (Update calls, 60 per second).
const (
	// strokePause: a gap longer than this between a user's bursts is a
	// pause between strokes, not jitter, and is not measured.
	strokePause = 30
	// activeFor: users who sent nothing for this long do not count.
	activeFor = 120
	// ewmaWeight: the estimates move by 1/8 of each new sample.
	ewmaWeight = 1.0 / 8
)

// Arrivals estimates per remote user how bursty their stroke messages
// arrive. The zero value is ready; not safe for concurrent use.
type Arrivals struct {
	users [256]arrival
}

type arrival struct {
	last     int // tick of the last burst; valid when seen
	seen     bool
	measured bool
	gap      float64 // mean ticks between bursts within strokes
	dev      float64 // mean absolute deviation of the gap
}

// Observe records a stroke message of user arriving at tick. Messages in
// the same tick form one burst.
func (a *Arrivals) Observe(user uint8, tick int) {
	u := &a.users[user]
	if !u.seen {
		u.seen, u.last = true, tick
		return
	}
	g := tick - u.last
	if g <= 0 {
		return // same burst (or a clock going backwards)
	}
	u.last = tick
	if g > strokePause {
		return
	}
	x := float64(g)
	if !u.measured {
		u.measured, u.gap, u.dev = true, x, 0
		return
	}
	u.dev += (math.Abs(x-u.gap) - u.dev) * ewmaWeight
	u.gap += (x - u.gap) * ewmaWeight
}

// UserDelay returns the smoothing delay for one user in frames
// (0..MaxSmoothDelay): enough to cover the usual gap between their bursts
// plus twice its variation, minus the frame the burst arrives in.
func (a *Arrivals) UserDelay(user uint8) int {
	u := &a.users[user]
	if !u.measured {
		return 0
	}
	// A tenth of a frame of residual estimate does not cost a frame.
	d := int(math.Ceil(u.gap+2*u.dev-0.1)) - 1
	return min(max(d, 0), MaxSmoothDelay)
}

// Delay returns the delay for the stroke queue at tick: the largest delay
// of the users who sent strokes within the last activeFor ticks.
func (a *Arrivals) Delay(tick int) int {
	d := 0
	for i := range a.users {
		u := &a.users[i]
		if u.measured && tick-u.last <= activeFor {
			d = max(d, a.UserDelay(uint8(i)))
		}
	}
	return d
}

// Forget drops the estimate of a user (who left).
func (a *Arrivals) Forget(user uint8) { a.users[user] = arrival{} }

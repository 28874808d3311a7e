package webui

import "testing"

func TestArrivalsDelay(t *testing.T) {
	t.Parallel()
	// Each pattern lists the ticks at which one user's stroke messages
	// arrive; want is the delay after it.
	every := func(step, n int) []int {
		var ts []int
		for i := range n {
			ts = append(ts, 100+i*step)
		}
		return ts
	}
	jittery := func() []int {
		// Alternating 2- and 8-tick gaps (mean 5, deviation 3).
		var ts []int
		tick := 100
		for i := range 200 {
			ts = append(ts, tick)
			if i%2 == 0 {
				tick += 2
			} else {
				tick += 8
			}
		}
		return ts
	}
	tests := []struct {
		name  string
		ticks []int
		want  int
	}{
		{"nothing yet", nil, 0},
		{"one burst", []int{5}, 0},
		{"every frame", every(1, 100), 0},
		{"same-tick bursts every frame", []int{1, 1, 1, 2, 2, 3, 3, 3, 4, 5, 6, 7}, 0},
		{"every other frame", every(2, 100), 1},
		{"every 6 frames (100 ms packets)", every(6, 100), 5},
		{"jittery", jittery(), 8}, // ceil(5+2*3)-1 = 10, capped
		{"pauses between strokes are not jitter", append(every(1, 50), every(1, 50)[49]+200, every(1, 50)[49]+201), 0},
		{"slow sender capped", every(20, 50), MaxSmoothDelay},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var a Arrivals
			last := 0
			for _, tick := range tc.ticks {
				a.Observe(7, tick)
				last = tick
			}
			if got := a.UserDelay(7); got != tc.want {
				t.Errorf("UserDelay = %d, want %d (gap %.2f dev %.2f)", got, tc.want, a.users[7].gap, a.users[7].dev)
			}
			if got := a.Delay(last); got != tc.want {
				t.Errorf("Delay = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestArrivalsAdapts(t *testing.T) {
	t.Parallel()
	var a Arrivals
	tick := 0
	for range 100 { // bursty: every 6 ticks
		a.Observe(1, tick)
		tick += 6
	}
	if d := a.UserDelay(1); d < 4 {
		t.Fatalf("bursty delay %d", d)
	}
	for range 100 { // the network got better: every tick
		a.Observe(1, tick)
		tick++
	}
	if d := a.UserDelay(1); d != 0 {
		t.Errorf("delay after the stream became steady = %d, want 0", d)
	}
}

func TestArrivalsSeveralUsers(t *testing.T) {
	t.Parallel()
	var a Arrivals
	for i := range 100 {
		a.Observe(1, i)   // steady
		a.Observe(2, i*3) // every 3 ticks
	}
	if d := a.Delay(297); d != 2 {
		t.Errorf("Delay with a steady and a 3-tick user = %d, want 2", d)
	}
	// User 2 stops; after activeFor ticks only user 1 counts.
	if d := a.Delay(297 + activeFor + 1); d != 0 {
		t.Errorf("Delay after user 2 went quiet = %d, want 0", d)
	}
	a.Forget(1)
	if d := a.UserDelay(1); d != 0 {
		t.Errorf("forgotten user delay %d", d)
	}
}

package webui

// Smoother spreads bursts of remote stroke messages over a few frames, as
// Drawpile's client smooths incoming strokes (it buffers them and drains
// on a 60 Hz timer): a network packet that carries 100 ms of someone's
// stroke is shown as motion, not as a jump. Each Take returns
// ceil(len/Frames) items, so a burst drains within about Frames ticks and a
// steady stream is not delayed by more than that. Order is kept: callers
// Flush before handling any message that must not overtake the queue.
//
// The client sets Frames every tick from Arrivals (the delay adapts to how
// bursty the drawers' messages arrive); the zero value (Frames 0) means 4
// frames. Not safe for concurrent use.
type Smoother[T any] struct {
	Frames int
	q      []T
}

// Push queues an item.
func (s *Smoother[T]) Push(v T) { s.q = append(s.q, v) }

// Len returns the number of queued items.
func (s *Smoother[T]) Len() int { return len(s.q) }

// Take removes and returns this tick's share of the queue, oldest first.
// The returned slice is valid until the next Push.
func (s *Smoother[T]) Take() []T {
	f := s.Frames
	if f <= 0 {
		f = 4
	}
	n := (len(s.q) + f - 1) / f
	return s.take(n)
}

// Flush removes and returns everything queued.
func (s *Smoother[T]) Flush() []T { return s.take(len(s.q)) }

func (s *Smoother[T]) take(n int) []T {
	if n == 0 {
		return nil
	}
	out := make([]T, n)
	copy(out, s.q[:n])
	clear(s.q[:n])
	s.q = append(s.q[:0], s.q[n:]...)
	return out
}

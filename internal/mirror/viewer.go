package mirror

import (
	"context"
	"time"

	"drawbridge/protocol"
)

// Viewer is one spectator's cursor into the mirror's log. One goroutine
// calls Next; Close may be called from any goroutine.
type Viewer struct {
	m     *Mirror       // immutable
	delay time.Duration // immutable

	// Guarded by m.mu.
	snap   *snap // the snapshot still to send (nil once sent)
	cursor int64 // next log position (valid once snap is nil)
	closed bool
}

// Watch registers a viewer whose stream is delayed by delay (clamped to
// [0, Options.MaxDelay]). The stream starts with a catch-up header
// ({"type":"catchup"}), a reset image of the canvas and a caughtup
// marker (key 1), then continues with the history after that image, as a
// joining Drawpile client receives it. Watch waits (bounded by ctx) for a
// fresh snapshot when the newest one is too old.
func (m *Mirror) Watch(ctx context.Context, delay time.Duration) (*Viewer, error) {
	delay = min(max(delay, 0), m.opts.MaxDelay)
	v := &Viewer{m: m, delay: delay}
	asked := false
	for {
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			return nil, ErrClosed
		}
		if s := m.pickLocked(delay, asked); s != nil {
			v.snap = s
			v.cursor = s.pos
			m.viewers[v] = struct{}{}
			m.mu.Unlock()
			return v, nil
		}
		m.snapReq = true
		made := m.snapMade
		m.mu.Unlock()
		asked = true
		m.poke()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-made:
		}
	}
}

// pickLocked chooses the snapshot a new viewer starts from, or nil when a
// fresh one is needed. After asking once, any snapshot made since is
// taken (so a busy session cannot starve a viewer).
func (m *Mirror) pickLocked(delay time.Duration, asked bool) *snap {
	n := len(m.snaps)
	if n == 0 {
		return nil
	}
	if delay > 0 {
		// The newest snapshot at least delay old; else the oldest one
		// (Next then holds it back until it is delay old).
		cut := time.Now().Add(-delay)
		best := m.snaps[0]
		for _, s := range m.snaps {
			if !s.at.After(cut) {
				best = s
			}
		}
		return best
	}
	newest := m.snaps[n-1]
	if asked || m.cum-m.offsetLocked(newest.pos) <= m.opts.SnapshotTail {
		return newest
	}
	return nil
}

// Close unregisters the viewer; a blocked Next returns ErrClosed.
func (v *Viewer) Close() {
	m := v.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if v.closed {
		return
	}
	v.closed = true
	delete(m.viewers, v)
	close(m.grew) // wake v's Next
	m.grew = make(chan struct{})
}

// Next returns the next batch of the viewer's stream (appended to
// buf[:0]), waiting until messages are due (received at least delay ago).
// Frames are shared and immutable. It returns ErrClosed once the viewer is
// closed or the mirror stopped and its log is exhausted, ErrLagging when
// the viewer fell more than Options.MaxLag bytes behind (it is then
// closed), or ctx's error.
func (v *Viewer) Next(ctx context.Context, buf []protocol.Frame) ([]protocol.Frame, error) {
	m := v.m
	out := buf[:0]
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		var wait time.Duration = -1
		m.mu.Lock()
		if v.closed {
			m.mu.Unlock()
			return out, ErrClosed
		}
		now := time.Now()
		grew := m.grew
		if s := v.snap; s != nil {
			if due := s.at.Add(v.delay); !due.After(now) {
				v.snap = nil
				v.cursor = s.pos
				out = append(out, s.frames...)
				m.mu.Unlock()
				return out, nil
			} else {
				wait = due.Sub(now)
			}
		} else {
			if lag := m.cum - m.offsetLocked(v.cursor); lag > m.opts.MaxLag {
				v.closed = true
				delete(m.viewers, v)
				m.mu.Unlock()
				return out, ErrLagging
			}
			if v.cursor < m.logFirst {
				v.closed = true // cannot happen: trim respects cursors
				delete(m.viewers, v)
				m.mu.Unlock()
				return out, ErrLagging
			}
			bytes := 0
			end := m.logFirst + int64(len(m.log))
			for v.cursor < end && bytes < m.opts.BatchBytes {
				e := m.log[v.cursor-m.logFirst]
				if due := e.at.Add(v.delay); due.After(now) {
					wait = due.Sub(now)
					break
				}
				out = append(out, e.f)
				bytes += len(e.f)
				v.cursor++
			}
			if len(out) > 0 {
				m.mu.Unlock()
				return out, nil
			}
			if m.closed && v.cursor >= end {
				v.closed = true
				delete(m.viewers, v)
				m.mu.Unlock()
				return out, ErrClosed
			}
		}
		m.mu.Unlock()
		var timeC <-chan time.Time
		if wait >= 0 {
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			timeC = timer.C
		}
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-grew:
		case <-timeC:
		}
	}
}

// Viewers returns the number of registered viewers.
func (m *Mirror) Viewers() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.viewers)
}

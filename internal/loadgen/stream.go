package loadgen

import "sync/atomic"

// ringSize is how many recent messages of one sender a receiver can match
// (a power of two ≤ 2^20). A receiver more than ringSize messages of one
// sender behind the sender (or behind the first receiver, for lag) loses
// those samples; they are counted as unmatched.
const (
	ringSize = 4096
	ringMask = ringSize - 1
	tagBits  = 20 // sequence bits kept in a first-seen slot
	tagMask  = 1<<tagBits - 1
	timeBits = 64 - tagBits // ns since the run's epoch: 2^44 ns ≈ 4.9 h
	timeMask = 1<<timeBits - 1
)

// stream is what one drawer publishes about the messages it sent after the
// start barrier, for the receivers of its session to match by order.
//
// Writers: the drawer's sender goroutine writes meta/sendT (slot by slot,
// before sending) and sent. Readers: every receiver of the session, after
// the start barrier. All fields are atomics; a receiver validates a slot
// by re-reading meta (seqlock style).
type stream struct {
	ctx  uint8 // immutable after registration
	sent atomic.Int64
	// meta[i] = seq<<32 | type<<16 | payload length, for seq ≡ i (mod ringSize).
	meta [ringSize]atomic.Uint64
	// sendT[i] = send time of that message (ns since the epoch).
	sendT [ringSize]atomic.Int64
	// first[i] = (seq & tagMask)<<timeBits | (arrival time + 1) at the
	// first receiver; 0 = empty.
	first [ringSize]atomic.Uint64
}

func packMeta(seq uint32, typ uint8, plen int) uint64 {
	return uint64(seq)<<32 | uint64(typ)<<16 | uint64(plen&0xFFFF)
}

// publish records message seq before it is written to the socket.
func (s *stream) publish(seq uint32, typ uint8, plen int, now int64) {
	i := seq & ringMask
	s.sendT[i].Store(now)
	s.meta[i].Store(packMeta(seq, typ, plen))
}

// matchResult says what a receiver learnt about one message.
type matchResult uint8

const (
	matchOK        matchResult = iota
	matchUnmatched             // slot already reused or not yet written
	matchMismatch              // same sequence number, different type or length: order broken
)

// lookup returns the send time of message seq if the slot still holds it
// and its type and length agree with what arrived.
func (s *stream) lookup(seq uint32, typ uint8, plen int) (int64, matchResult) {
	i := seq & ringMask
	m := s.meta[i].Load()
	if uint32(m>>32) != seq {
		return 0, matchUnmatched
	}
	t := s.sendT[i].Load()
	if s.meta[i].Load() != m {
		return 0, matchUnmatched
	}
	if m != packMeta(seq, typ, plen) {
		return 0, matchMismatch
	}
	return t, matchOK
}

// firstSeen registers an arrival of message seq at time now. It returns
// the arrival time at the first receiver and true if another receiver was
// earlier; false if this receiver is the first (or too far behind to tell).
func (s *stream) firstSeen(seq uint32, now int64) (int64, bool) {
	i := seq & ringMask
	tag := uint64(seq & tagMask)
	mine := tag<<timeBits | uint64(now+1)&timeMask
	for {
		f := s.first[i].Load()
		if f != 0 && f>>timeBits == tag {
			return int64(f&timeMask) - 1, true
		}
		if f != 0 {
			// The slot holds another sequence number: older ones are
			// replaced, newer ones mean this receiver is far behind.
			if d := (tag - f>>timeBits) & tagMask; d >= 1<<(tagBits-1) {
				return 0, false
			}
		}
		if s.first[i].CompareAndSwap(f, mine) {
			return 0, false
		}
	}
}

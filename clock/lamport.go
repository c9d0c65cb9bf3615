package clock

import (
	"math"
	"strconv"
	"sync/atomic"
)

// LamportTime is a reading of a Lamport clock: a count of events, with no
// relation to physical time. It is not a Timestamp and not an MVCC revision.
// The zero LamportTime is "no event yet" and precedes every ticked time.
type LamportTime uint64

// MaxLamportTime is the largest LamportTime. A Lamport clock that reaches it
// stays there (see Lamport).
const MaxLamportTime = LamportTime(math.MaxUint64)

// String formats t as a decimal number.
func (t LamportTime) String() string { return strconv.FormatUint(uint64(t), 10) }

// Lamport is a Lamport logical clock (Lamport 1978). Every local event calls
// Tick; every received message calls Witness with the sender's time. If event
// a happened before event b then time(a) < time(b); the converse does not
// hold, so equal or ordered times say nothing about concurrency.
//
// The zero value is a clock at time 0, ready to use. A Lamport is safe for
// concurrent use and must not be copied after first use.
//
// Saturation: the clock never wraps around. Once it reaches MaxLamportTime
// (2^64-1 ticks, or sooner if a peer sends that time), Tick and Witness keep
// returning MaxLamportTime, so later events are no longer strictly ordered.
// Wrapping to 0 instead would order every later event before every earlier
// one.
type Lamport struct {
	t atomic.Uint64 // its noCopy makes go vet report copies of a Lamport
}

// Now returns the current time without advancing the clock.
func (l *Lamport) Now() LamportTime { return LamportTime(l.t.Load()) }

// Tick advances the clock for a local event (including sending a message) and
// returns the event's time, which is greater than every time this clock
// returned before, unless the clock is saturated.
func (l *Lamport) Tick() LamportTime {
	for {
		cur := l.t.Load()
		if cur == math.MaxUint64 {
			return MaxLamportTime
		}
		if l.t.CompareAndSwap(cur, cur+1) {
			return LamportTime(cur + 1)
		}
	}
}

// Witness applies the receive rule for a message stamped remote: the clock
// moves to max(local, remote) + 1, and that time, greater than both, is
// returned as the time of the receive event.
func (l *Lamport) Witness(remote LamportTime) LamportTime {
	for {
		cur := l.t.Load()
		next := max(cur, uint64(remote))
		if next != math.MaxUint64 {
			next++
		}
		if l.t.CompareAndSwap(cur, next) {
			return LamportTime(next)
		}
	}
}

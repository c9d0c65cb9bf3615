package partition

import (
	"math"
	"sync/atomic"
)

// load holds a range's counters. The totals are atomic so that Record
// needs no lock; the rates and last* are written only by Table.Tick under
// the table's lock.
type load struct {
	reads, writes, bytes atomic.Uint64

	readRate, writeRate, byteRate atomicFloat

	// last* are the totals at the previous tick (under Table.mu).
	lastReads, lastWrites, lastBytes uint64
	// sample marks, during one Tick, the ranges that keep a finder (under
	// Table.mu).
	sample bool

	// finder samples split keys while the range is hot; nil otherwise.
	finder atomic.Pointer[finder]
}

// tick folds the operations counted since the previous tick into the
// moving averages: rate = decay*rate + (1-decay)*count. A steady count of c
// a tick converges to a rate of c.
func (l *load) tick(decay float64) {
	fold := func(total *atomic.Uint64, last *uint64, rate *atomicFloat) {
		now := total.Load()
		count := now - *last
		*last = now
		rate.store(decay*rate.load() + (1-decay)*float64(count))
	}
	fold(&l.reads, &l.lastReads, &l.readRate)
	fold(&l.writes, &l.lastWrites, &l.writeRate)
	fold(&l.bytes, &l.lastBytes, &l.byteRate)
}

// opsRate is the recent rate of reads plus writes.
func (l *load) opsRate() float64 { return l.readRate.load() + l.writeRate.load() }

// inherit adds the counters of a retired range into l (used by Merge; both
// under Table.mu). Operations recorded on the retired range after this are
// lost.
func (l *load) inherit(from *load) {
	r, w, b := from.reads.Load(), from.writes.Load(), from.bytes.Load()
	l.reads.Add(r)
	l.writes.Add(w)
	l.bytes.Add(b)
	// Counts after from's last tick are new load for l's next tick.
	l.lastReads += from.lastReads
	l.lastWrites += from.lastWrites
	l.lastBytes += from.lastBytes
	l.readRate.store(l.readRate.load() + from.readRate.load())
	l.writeRate.store(l.writeRate.load() + from.writeRate.load())
	l.byteRate.store(l.byteRate.load() + from.byteRate.load())
}

// atomicFloat is a float64 that can be read while another goroutine
// stores it.
type atomicFloat struct{ bits atomic.Uint64 }

func (f *atomicFloat) load() float64   { return math.Float64frombits(f.bits.Load()) }
func (f *atomicFloat) store(v float64) { f.bits.Store(math.Float64bits(v)) }

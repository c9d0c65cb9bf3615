package partition

import (
	"bytes"
	"fmt"
)

// RangeID names a range. A Table allocates IDs in increasing order and
// never reuses one: Split and Merge retire their input ranges and create
// new ones, so an ID always denotes the same [Start, End).
type RangeID uint64

// Range is a contiguous span [Start, End) of the keyspace, with its load
// counters. Its bounds never change; its counters are safe for concurrent
// use.
type Range struct {
	id RangeID
	// start is inclusive; empty for the first range.
	start []byte
	// end is exclusive; nil for the last range, which is unbounded.
	// Never empty otherwise (split keys are longer than the empty key).
	end  []byte
	load load
}

func newRange(id RangeID, start, end []byte) *Range {
	return &Range{id: id, start: start, end: end}
}

// ID returns the range's identifier.
func (r *Range) ID() RangeID { return r.id }

// Start returns the inclusive lower bound; empty for the first range. The
// caller must not modify it.
func (r *Range) Start() []byte { return r.start }

// End returns the exclusive upper bound, or nil for the last range, which
// has no upper bound. The caller must not modify it.
func (r *Range) End() []byte { return r.end }

// Contains reports whether Start <= key < End.
func (r *Range) Contains(key []byte) bool {
	return bytes.Compare(r.start, key) <= 0 && (r.end == nil || bytes.Compare(key, r.end) < 0)
}

// String formats the range as `r<ID>["start", "end")`, with +inf for an
// unbounded end.
func (r *Range) String() string {
	if r.end == nil {
		return fmt.Sprintf("r%d[%q, +inf)", r.id, r.start)
	}
	return fmt.Sprintf("r%d[%q, %q)", r.id, r.start, r.end)
}

// Op is the kind of operation Record counts.
type Op uint8

const (
	// OpRead is a read of one key.
	OpRead Op = iota + 1
	// OpWrite is a write (put or delete) of one key.
	OpWrite
)

// String returns "read" or "write".
func (o Op) String() string {
	switch o {
	case OpRead:
		return "read"
	case OpWrite:
		return "write"
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// Record counts one operation of kind op on key, which moved size bytes.
// It takes no lock unless the range is hot, when it also offers key to the
// range's split-key sampler. An op other than OpRead or OpWrite, or a
// negative size, is a programming error and panics.
//
// Record on a range that a split or merge has retired is counted nowhere
// that matters: look the range up again for every operation rather than
// keeping a *Range.
func (r *Range) Record(op Op, key []byte, size int) {
	if size < 0 {
		panic(fmt.Sprintf("partition: Record with negative size %d", size))
	}
	switch op {
	case OpRead:
		r.load.reads.Add(1)
	case OpWrite:
		r.load.writes.Add(1)
	default:
		panic(fmt.Sprintf("partition: Record with invalid %v", op))
	}
	r.load.bytes.Add(uint64(size))
	if f := r.load.finder.Load(); f != nil {
		f.observe(key)
	}
}

// Load returns the range's counters and recent rates.
func (r *Range) Load() Load {
	return Load{
		Reads:         r.load.reads.Load(),
		Writes:        r.load.writes.Load(),
		Bytes:         r.load.bytes.Load(),
		ReadsPerTick:  r.load.readRate.load(),
		WritesPerTick: r.load.writeRate.load(),
		BytesPerTick:  r.load.byteRate.load(),
	}
}

// Load is a range's load: counts since the range was created (a merged
// range starts with the sum of its inputs, a split half with zero) and
// recent rates per tick, which are exponentially weighted moving averages
// updated by Table.Tick.
type Load struct {
	// Reads, Writes and Bytes are counted since the range was created.
	Reads, Writes, Bytes uint64
	// ReadsPerTick, WritesPerTick and BytesPerTick are the recent rates.
	ReadsPerTick, WritesPerTick, BytesPerTick float64
}

// OpsPerTick is the recent rate of operations, reads plus writes: the
// measure that decides whether a range is hot.
func (l Load) OpsPerTick() float64 { return l.ReadsPerTick + l.WritesPerTick }

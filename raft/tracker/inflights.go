package tracker

import "fmt"

type inflight struct {
	index uint64 // last entry index of the message
	bytes uint64 // payload bytes of the message
}

// Inflights is a bounded FIFO of the append messages sent to a follower and
// not yet acknowledged. It is full when it holds MaxCount messages or at
// least MaxBytes bytes.
type Inflights struct {
	buf      []inflight // ring buffer, grown lazily up to maxCount
	start    int
	count    int
	bytes    uint64
	maxCount int
	maxBytes uint64
}

// NewInflights returns a window of at most maxCount messages and maxBytes
// bytes. Both must be positive.
func NewInflights(maxCount int, maxBytes uint64) *Inflights {
	if maxCount <= 0 || maxBytes == 0 {
		panic(fmt.Sprintf("tracker: inflights limits must be positive (count %d, bytes %d)", maxCount, maxBytes))
	}
	return &Inflights{maxCount: maxCount, maxBytes: maxBytes}
}

// Clone returns an independent copy.
func (in *Inflights) Clone() *Inflights {
	c := *in
	c.buf = append([]inflight(nil), in.buf...)
	return &c
}

// Add records a message whose last entry is index and whose payload is bytes.
// Indexes must increase. Adding to a full window is a programming error.
func (in *Inflights) Add(index, bytes uint64) {
	if in.Full() {
		panic("tracker: add to full inflights")
	}
	if in.count > 0 {
		if last := in.buf[(in.start+in.count-1)%len(in.buf)].index; index <= last {
			panic(fmt.Sprintf("tracker: inflight index %d not after %d", index, last))
		}
	}
	if in.count == len(in.buf) {
		in.grow()
	}
	in.buf[(in.start+in.count)%len(in.buf)] = inflight{index: index, bytes: bytes}
	in.count++
	in.bytes += bytes
}

// grow doubles the ring (up to maxCount), unrolling it to start at 0.
func (in *Inflights) grow() {
	n := max(1, 2*len(in.buf))
	n = min(n, in.maxCount)
	buf := make([]inflight, n)
	for i := range in.count {
		buf[i] = in.buf[(in.start+i)%len(in.buf)]
	}
	in.buf, in.start = buf, 0
}

// FreeLE frees every message whose last index is <= to.
func (in *Inflights) FreeLE(to uint64) {
	for in.count > 0 {
		f := in.buf[in.start]
		if f.index > to {
			break
		}
		in.bytes -= f.bytes
		in.start = (in.start + 1) % len(in.buf)
		in.count--
	}
	if in.count == 0 {
		in.start = 0
	}
}

// FreeFirstOne frees the oldest message, if any.
func (in *Inflights) FreeFirstOne() {
	if in.count > 0 {
		in.FreeLE(in.buf[in.start].index)
	}
}

// Full reports whether no more messages may be sent.
func (in *Inflights) Full() bool { return in.count >= in.maxCount || in.bytes >= in.maxBytes }

// Count is the number of messages in flight.
func (in *Inflights) Count() int { return in.count }

// Bytes is the payload bytes in flight.
func (in *Inflights) Bytes() uint64 { return in.bytes }

// Reset frees everything.
func (in *Inflights) Reset() { in.start, in.count, in.bytes = 0, 0, 0 }

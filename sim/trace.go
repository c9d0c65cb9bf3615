package sim

import (
	"fmt"
	"strings"
	"time"
)

// trace folds every processed event into a running FNV-1a hash over a
// canonical description (time, kind, nodes, text) and keeps the text of
// the last few events for a failure report. Two runs with equal hashes
// processed the same events in the same order at the same times.
type trace struct {
	hash  uint64
	count uint64
	ring  []traceRecord
}

type traceRecord struct {
	at   time.Duration
	step uint64
	kind EventKind
	node NodeID
	from NodeID
	text string
}

func newTrace(tail int) *trace {
	return &trace{hash: fnvOffset, ring: make([]traceRecord, 0, tail)}
}

func (t *trace) add(r traceRecord) {
	h := fnvUint64(t.hash, uint64(r.at))
	h = fnvUint64(h, uint64(r.kind))
	h = fnvUint64(h, uint64(r.node)<<32|uint64(r.from))
	h = fnvString(h, r.text)
	t.hash = fnvUint64(h, uint64(len(r.text))) // length closes the field
	r.step = t.count
	t.count++
	if len(t.ring) < cap(t.ring) {
		t.ring = append(t.ring, r)
		return
	}
	t.ring[r.step%uint64(cap(t.ring))] = r
}

// tail formats the kept records, oldest first, one per line.
func (t *trace) tail() string {
	var b strings.Builder
	n := uint64(len(t.ring))
	start := t.count - n
	for i := start; i < t.count; i++ {
		r := t.ring[i%uint64(cap(t.ring))]
		fmt.Fprintf(&b, "  #%d %v %s", r.step, r.at, r.kind)
		if r.from != 0 {
			fmt.Fprintf(&b, " %d->%d", r.from, r.node)
		} else if r.node != 0 {
			fmt.Fprintf(&b, " n%d", r.node)
		}
		if r.text != "" {
			b.WriteString(" ")
			b.WriteString(r.text)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

package watch

import "go.etcd.io/etcd/api/v3/mvccpb"

// revision is the events of one revision, in sub-revision order. The
// events are shared (with the store and other watchers): read-only.
type revision struct {
	rev    int64
	events []*mvccpb.Event
}

// history holds the most recent notified revisions, contiguous and in
// order, within a bound on events and bytes: revs[head:] are live.
// Invariant: revs[i+1].rev == revs[i].rev+1 for live entries.
type history struct {
	revs      []revision
	head      int
	events    int
	bytes     int
	maxEvents int
	maxBytes  int
}

// eventBytes approximates what retaining ev costs.
func eventBytes(ev *mvccpb.Event) int {
	const overhead = 64 // the structs themselves
	n := overhead + len(ev.Kv.GetKey()) + len(ev.Kv.GetValue())
	if ev.PrevKv != nil {
		n += overhead + len(ev.PrevKv.Key) + len(ev.PrevKv.Value)
	}
	return n
}

func revisionBytes(evs []*mvccpb.Event) int {
	n := 0
	for _, ev := range evs {
		n += eventBytes(ev)
	}
	return n
}

// add appends the next revision (the caller guarantees contiguity, or
// resets first) and evicts the oldest until within bounds; a revision
// bigger than the bounds empties the history.
func (h *history) add(rev int64, evs []*mvccpb.Event) {
	if n := len(h.revs); n > h.head && h.revs[n-1].rev+1 != rev {
		panic("watch: history revisions must be contiguous")
	}
	h.revs = append(h.revs, revision{rev: rev, events: evs})
	h.events += len(evs)
	h.bytes += revisionBytes(evs)
	for h.head < len(h.revs) && (h.events > h.maxEvents || h.bytes > h.maxBytes) {
		old := h.revs[h.head]
		h.events -= len(old.events)
		h.bytes -= revisionBytes(old.events)
		h.revs[h.head] = revision{}
		h.head++
	}
	// Slide the live entries down once the dead prefix dominates, so the
	// slice does not grow without bound.
	if h.head > 64 && h.head > len(h.revs)/2 {
		n := copy(h.revs, h.revs[h.head:])
		clear(h.revs[n:])
		h.revs, h.head = h.revs[:n], 0
	}
}

// reset forgets everything (after a gap in the notified revisions).
func (h *history) reset() {
	clear(h.revs)
	h.revs, h.head, h.events, h.bytes = h.revs[:0], 0, 0, 0
}

// since returns the retained revisions >= rev, and whether they are all
// of them up to last (the last notified revision): false when rev is
// older than the oldest retained one. The result aliases the history:
// use it under the Hub's lock, or copy it.
func (h *history) since(rev, last int64) ([]revision, bool) {
	if rev > last {
		return nil, true
	}
	live := h.revs[h.head:]
	if len(live) == 0 || rev < live[0].rev {
		return nil, false
	}
	return live[rev-live[0].rev:], true
}

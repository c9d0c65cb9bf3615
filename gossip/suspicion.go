package gossip

import (
	"container/heap"
	"math"
)

// suspicion is the timer of one suspected member (Lifeguard's
// local-health-aware suspicion, §IV-B of Dadgar, Phillips and Currey,
// "Lifeguard: Local Health Awareness for More Accurate Failure Detection",
// 2018). It starts at max ticks and shrinks towards min as independent
// suspicions of the same incarnation arrive:
//
//	timeout(C) = max(min, max − (max − min) · log(C+1) / log(K+1))
//
// where C counts the accusers other than the first and K is the number
// expected (the indirect checks). A member suspected only by a node that is
// itself in trouble gets the whole max to refute; one that several nodes
// found silent is declared dead after min.
type suspicion struct {
	member   NodeID
	start    uint64 // tick the suspicion began at this node
	k        int
	min, max uint64 // ticks
	// accusers are the distinct nodes that raised this suspicion, the
	// first one included; at most k+1 are kept (more change nothing).
	accusers []NodeID
	deadline uint64 // start + timeout(len(accusers)-1)
	index    int    // position in the suspicion heap
}

func newSuspicion(member, accuser NodeID, now uint64, k int, lo, hi uint64) *suspicion {
	s := &suspicion{member: member, start: now, k: k, min: lo, max: hi, accusers: []NodeID{accuser}}
	s.deadline = now + s.timeout()
	return s
}

// timeout is the current timeout in ticks.
func (s *suspicion) timeout() uint64 {
	c := len(s.accusers) - 1
	if s.k < 1 || s.max <= s.min {
		return s.min
	}
	frac := math.Log(float64(c)+1) / math.Log(float64(s.k)+1)
	t := float64(s.max) - float64(s.max-s.min)*frac
	return max(s.min, uint64(math.Floor(t)))
}

// confirm records accuser; it reports whether the accuser was new (the
// suspicion is then worth gossiping again, so that other nodes count it).
func (s *suspicion) confirm(accuser NodeID) bool {
	if len(s.accusers) > s.k {
		return false
	}
	for _, a := range s.accusers {
		if a == accuser {
			return false
		}
	}
	s.accusers = append(s.accusers, accuser)
	s.deadline = s.start + s.timeout()
	return true
}

// suspicionHeap orders live suspicions by deadline (then member ID, for a
// deterministic order among equals).
type suspicionHeap []*suspicion

func (h suspicionHeap) Len() int { return len(h) }
func (h suspicionHeap) Less(i, j int) bool {
	if h[i].deadline != h[j].deadline {
		return h[i].deadline < h[j].deadline
	}
	return h[i].member < h[j].member
}
func (h suspicionHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *suspicionHeap) Push(x any) {
	s := x.(*suspicion)
	s.index = len(*h)
	*h = append(*h, s)
}
func (h *suspicionHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	s.index = -1
	return s
}

func (h *suspicionHeap) add(s *suspicion)    { heap.Push(h, s) }
func (h *suspicionHeap) fix(s *suspicion)    { heap.Fix(h, s.index) }
func (h *suspicionHeap) remove(s *suspicion) { heap.Remove(h, s.index) }

// suspicionBounds returns the minimum and maximum suspicion timeouts in
// ticks for a cluster of n live members: SuspicionMult · max(1, log10(n))
// probe periods, and SuspicionMaxMult times that.
func suspicionBounds(c *Config, n int) (lo, hi uint64) {
	scale := math.Max(1, math.Log10(float64(max(n, 1))))
	lo = uint64(math.Ceil(float64(c.SuspicionMult) * scale * float64(c.ProbeIntervalTicks)))
	return lo, lo * uint64(c.SuspicionMaxMult)
}

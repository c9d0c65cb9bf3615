package raftsim

import (
	"fmt"

	"github.com/cairndb/cairn/raft/raftpb"
	"github.com/cairndb/cairn/sim"
)

// Checker holds what every node has done so far in one run and verifies
// the Raft safety properties incrementally (see the package doc). Nodes
// feed it; the first violation is kept and returned by Err, which the
// simulator calls after every step.
type Checker struct {
	err error
	// leaders maps a term to the node that led it.
	leaders map[uint64]sim.NodeID
	// entries maps (index, term) to what the entry must be wherever it
	// appears: its payload hash and the term of its predecessor.
	entries map[[2]uint64]entryFacts
	// applied[i-1] is the entry applied at index i, by whichever node
	// applied it first.
	applied []appliedEntry
	// snapshots maps an index to the hash of the state at that index.
	snapshots map[uint64]uint64
	// commits maps a term to the highest commit a node reported while in
	// that term: the entry was committed in that term or an earlier one.
	commits map[uint64]commitFact
}

type commitFact struct{ index, entryTerm uint64 }

type entryFacts struct {
	prevTerm uint64
	hash     uint64
}

type appliedEntry struct {
	term uint64
	hash uint64
}

// NewChecker returns an empty checker.
func NewChecker() *Checker {
	return &Checker{
		leaders:   map[uint64]sim.NodeID{},
		entries:   map[[2]uint64]entryFacts{},
		snapshots: map[uint64]uint64{},
		commits:   map[uint64]commitFact{},
	}
}

// Err returns the first violation, or nil.
func (c *Checker) Err() error { return c.err }

func (c *Checker) failf(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf(format, args...)
	}
}

func entryHash(e raftpb.Entry) uint64 { return hashBytes([]byte{byte(e.Type)}, e.Data) }

// appended records entries a node put in its log after an entry of term
// prevTerm (0 before the first entry).
func (c *Checker) appended(node sim.NodeID, prevTerm uint64, ents []raftpb.Entry) {
	for _, e := range ents {
		f := entryFacts{prevTerm: prevTerm, hash: entryHash(e)}
		key := [2]uint64{e.Index, e.Term}
		if old, ok := c.entries[key]; ok && old != f {
			c.failf("log matching: node %d appended entry %d/%d with prevTerm=%d hash=%x, seen before with prevTerm=%d hash=%x",
				node, e.Index, e.Term, f.prevTerm, f.hash, old.prevTerm, old.hash)
		}
		c.entries[key] = f
		prevTerm = e.Term
	}
}

// applyEntry records that a node applied e.
func (c *Checker) applyEntry(node sim.NodeID, e raftpb.Entry) {
	a := appliedEntry{term: e.Term, hash: entryHash(e)}
	switch {
	case e.Index <= uint64(len(c.applied)):
		if old := c.applied[e.Index-1]; old != a {
			c.failf("state machine safety: node %d applied %d/%d hash=%x, another node applied %d/%d hash=%x",
				node, e.Index, e.Term, a.hash, e.Index, old.term, old.hash)
		}
	case e.Index == uint64(len(c.applied))+1:
		c.applied = append(c.applied, a)
	default:
		c.failf("state machine safety: node %d applied index %d before anyone applied %d",
			node, e.Index, len(c.applied)+1)
	}
}

// snapshot records the state hash a node has at index (taken or installed).
func (c *Checker) snapshot(node sim.NodeID, index uint64, state []byte) {
	h := hashBytes(state)
	if old, ok := c.snapshots[index]; ok && old != h {
		c.failf("state machine safety: node %d has state %x at index %d, another node had %x", node, h, index, old)
	}
	c.snapshots[index] = h
}

// committed records that a node in term atTerm knows index (whose entry
// has term entryTerm) is committed.
func (c *Checker) committed(atTerm, index, entryTerm uint64) {
	if index > c.commits[atTerm].index {
		c.commits[atTerm] = commitFact{index: index, entryTerm: entryTerm}
	}
}

// leader records that node leads term and checks Leader Completeness: it
// holds the highest entry committed in any earlier term. termAt is the
// leader's view of its log (ok false when a snapshot covers the index).
func (c *Checker) leader(node sim.NodeID, term uint64, termAt func(uint64) (uint64, bool)) {
	if other, ok := c.leaders[term]; ok && other != node {
		c.failf("election safety: nodes %d and %d both lead term %d", other, node, term)
	}
	c.leaders[term] = node
	var want commitFact
	for t, f := range c.commits {
		if t < term && f.index > want.index {
			want = f
		}
	}
	if want.index == 0 {
		return
	}
	if t, ok := termAt(want.index); ok && t != want.entryTerm {
		c.failf("leader completeness: node %d leads term %d but has term %d at index %d, committed earlier with term %d",
			node, term, t, want.index, want.entryTerm)
	}
}

package paxossim

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/cairndb/cairn/paxos"
	"github.com/cairndb/cairn/sim"
)

// Checker verifies the safety of one run incrementally, from what the
// nodes report as they act (see the package doc for the invariants). The
// first violation is kept; Err returns it after every simulator step.
type Checker struct {
	err error
	// durability enables the persisted-before-reply check at restarts.
	durability bool
	keys       map[string]*keyFacts
	acc        map[accID]*accFacts
	// chosen counts (key, operation) pairs chosen, for the run's summary.
	chosen int
}

type accID struct {
	node sim.NodeID
	key  string
}

// accFacts is what one replica told the world about one key, and its
// current state.
type accFacts struct {
	promised paxos.Ballot // highest ballot it sent a Promise for
	accepted paxos.Ballot // highest ballot it sent an Accepted for
}

// identity is what must be the same wherever a ballot (or an origin)
// appears.
type identity struct {
	origin, base paxos.Ballot
	value        uint64
}

type winner struct {
	origin, ballot paxos.Ballot
}

type acceptedFact struct {
	node           sim.NodeID
	ballot, origin paxos.Ballot
}

// keyFacts is everything known about one key's proposals.
type keyFacts struct {
	majority int
	ballots  map[paxos.Ballot]identity
	origins  map[paxos.Ballot]identity
	// votes are the replicas that sent Accepted for a ballot.
	votes map[paxos.Ballot]map[sim.NodeID]bool
	// chosen ballots, and the origins (operations) chosen.
	chosen        map[paxos.Ballot]bool
	chosenOrigins map[paxos.Ballot]bool
	// winners maps an instance (the Base of its proposals) to the
	// operation chosen in it and the lowest ballot it was chosen at.
	winners map[paxos.Ballot]winner
	// accepted lists, per instance, every acceptance sent.
	accepted map[paxos.Ballot][]acceptedFact
}

// NewChecker returns a checker for keys with the given replica counts.
// durability enables the check that a restarted replica kept every
// promise and acceptance it sent.
func NewChecker(replicas map[string]int, durability bool) *Checker {
	c := &Checker{durability: durability, keys: map[string]*keyFacts{}, acc: map[accID]*accFacts{}}
	for k, n := range replicas {
		c.keys[k] = &keyFacts{
			majority: n/2 + 1,
			ballots:  map[paxos.Ballot]identity{}, origins: map[paxos.Ballot]identity{},
			votes:  map[paxos.Ballot]map[sim.NodeID]bool{},
			chosen: map[paxos.Ballot]bool{}, chosenOrigins: map[paxos.Ballot]bool{},
			winners: map[paxos.Ballot]winner{}, accepted: map[paxos.Ballot][]acceptedFact{},
		}
	}
	return c
}

// Err returns the first violation, or nil.
func (c *Checker) Err() error { return c.err }

// Chosen returns how many operations were chosen, over all keys.
func (c *Checker) Chosen() int { return c.chosen }

func (c *Checker) failf(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf(format, args...)
	}
}

func (c *Checker) key(k string) *keyFacts {
	f, ok := c.keys[k]
	if !ok {
		c.failf("a message about key %q, which no client uses", k)
		return nil
	}
	return f
}

func (c *Checker) accFor(node sim.NodeID, key string) *accFacts {
	id := accID{node, key}
	a, ok := c.acc[id]
	if !ok {
		a = &accFacts{}
		c.acc[id] = a
	}
	return a
}

func valueHash(v paxos.Value) uint64 {
	h := fnv.New64a()
	if v.Present {
		h.Write([]byte{1})
	}
	h.Write(binary.AppendVarint(nil, v.DeadlineMs))
	h.Write(v.Data)
	return h.Sum64()
}

// offered records a proposal a proposer sent in an Accept or a Commit.
// One ballot carries one proposal, one operation (origin) one value in one
// instance, and every operation is computed on a chosen state.
func (c *Checker) offered(key string, p paxos.Proposal) {
	f := c.key(key)
	if f == nil {
		return
	}
	id := identity{origin: p.Origin, base: p.Base, value: valueHash(p.Value)}
	if old, ok := f.ballots[p.Ballot]; ok && old != id {
		c.failf("key %q: ballot %s carries two proposals: %+v and %+v", key, p.Ballot, old, id)
	}
	f.ballots[p.Ballot] = id
	if old, ok := f.origins[p.Origin]; ok && old != id {
		c.failf("key %q: operation %s offered with two values or bases: %+v and %+v", key, p.Origin, old, id)
	}
	f.origins[p.Origin] = id
	if !p.Base.IsZero() && !f.chosenOrigins[p.Base] {
		c.failf("key %q: %s was computed on %s, which was never chosen", key, p, p.Base)
	}
}

// acked records that node sent Accepted for p (the proposal of the Accept
// it answered).
func (c *Checker) acked(node sim.NodeID, key string, p paxos.Proposal) {
	f := c.key(key)
	if f == nil {
		return
	}
	a := c.accFor(node, key)
	a.accepted = maxOf(a.accepted, p.Ballot)
	if w, ok := f.winners[p.Base]; ok && w.ballot.Less(p.Ballot) && w.origin != p.Origin {
		c.failf("key %q: node %d accepted %s in the instance of %s above %s, chosen there for operation %s",
			key, node, p, p.Base, w.ballot, w.origin)
	}
	f.accepted[p.Base] = append(f.accepted[p.Base], acceptedFact{node: node, ballot: p.Ballot, origin: p.Origin})
	v := f.votes[p.Ballot]
	if v == nil {
		v = map[sim.NodeID]bool{}
		f.votes[p.Ballot] = v
	}
	v[node] = true
	if len(v) >= f.majority && !f.chosen[p.Ballot] {
		c.markChosen(key, f, p)
	}
}

// markChosen records that a majority accepted p, and checks that p's
// instance chose nothing else and that p extends the chain of chosen
// operations.
func (c *Checker) markChosen(key string, f *keyFacts, p paxos.Proposal) {
	f.chosen[p.Ballot] = true
	if !f.chosenOrigins[p.Origin] {
		c.chosen++
	}
	f.chosenOrigins[p.Origin] = true
	if !p.Base.IsZero() && !f.chosenOrigins[p.Base] {
		c.failf("key %q: %s chosen on the state of %s, which was never chosen", key, p, p.Base)
	}
	w, ok := f.winners[p.Base]
	switch {
	case ok && w.origin != p.Origin:
		c.failf("key %q: two operations chosen in the instance of %s: %s (at %s) and %s (at %s)",
			key, p.Base, w.origin, w.ballot, p.Origin, p.Ballot)
		return
	case !ok || p.Ballot.Less(w.ballot):
		f.winners[p.Base] = winner{origin: p.Origin, ballot: p.Ballot}
	}
	for _, a := range f.accepted[p.Base] {
		if p.Ballot.Less(a.ballot) && a.origin != p.Origin {
			c.failf("key %q: node %d accepted operation %s at %s in the instance of %s, above %s chosen at %s",
				key, a.node, a.origin, a.ballot, p.Base, p.Origin, p.Ballot)
		}
	}
}

// committed records that node applied a commit of p: only chosen
// proposals may be committed.
func (c *Checker) committed(node sim.NodeID, key string, p paxos.Proposal) {
	if f := c.key(key); f != nil && !f.chosen[p.Ballot] {
		c.failf("key %q: node %d committed %s, which no majority accepted", key, node, p)
	}
}

// promised records that node sent a Promise for b.
func (c *Checker) promised(node sim.NodeID, key string, b paxos.Ballot) {
	a := c.accFor(node, key)
	a.promised = maxOf(a.promised, b)
}

// transition checks one acceptor step: the new state is valid, and the
// promise and the commit never go back.
func (c *Checker) transition(node sim.NodeID, key string, from, to paxos.AcceptorState) {
	if err := to.Validate(); err != nil {
		c.failf("node %d key %q: %v", node, key, err)
	}
	if to.Promised.Less(from.Promised) {
		c.failf("node %d key %q: promise went back from %s to %s", node, key, from.Promised, to.Promised)
	}
	if to.Committed.Ballot.Less(from.Committed.Ballot) {
		c.failf("node %d key %q: commit went back from %s to %s", node, key, from.Committed.Ballot, to.Committed.Ballot)
	}
}

// replaced records that node's disk was wiped: what it promised and
// accepted before is forgotten (the votes it cast still count towards what
// was chosen), and the durability check starts again from nothing.
func (c *Checker) replaced(node sim.NodeID) {
	for id := range c.acc {
		if id.node == node {
			delete(c.acc, id)
		}
	}
}

// restarted checks, for every key node ever spoke about, that the state it
// restarted with keeps every promise and acceptance it sent: what it said
// was persisted before it was said.
func (c *Checker) restarted(node sim.NodeID, states map[string]paxos.AcceptorState) {
	for k, s := range states {
		if err := s.Validate(); err != nil {
			c.failf("node %d key %q: restarted with an invalid state: %v", node, k, err)
		}
	}
	if !c.durability {
		return
	}
	var keys []string
	for id := range c.acc {
		if id.node == node {
			keys = append(keys, id.key)
		}
	}
	slices.Sort(keys) // the first violation reported must not depend on map order
	for _, k := range keys {
		id, a := accID{node, k}, c.acc[accID{node, k}]
		s := states[k]
		if s.Promised.Less(a.promised) {
			c.failf("durability: node %d key %q restarted with promise %s, but had promised %s", node, id.key, s.Promised, a.promised)
		}
		if held := maxOf(s.Accepted.Ballot, s.Committed.Ballot); held.Less(a.accepted) {
			c.failf("durability: node %d key %q restarted holding %s, but had acknowledged %s", node, id.key, held, a.accepted)
		}
	}
}

func maxOf(a, b paxos.Ballot) paxos.Ballot {
	if a.Less(b) {
		return b
	}
	return a
}

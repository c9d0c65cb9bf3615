package paxossim

import (
	"strings"
	"testing"

	"github.com/cairndb/cairn/clock"
	"github.com/cairndb/cairn/paxos"
	"github.com/cairndb/cairn/sim"
)

func ballot(t int64, n paxos.NodeID) paxos.Ballot {
	return paxos.Ballot{Time: clock.Timestamp{WallTime: t}, Epoch: 1, Node: n}
}

func offer(b, origin, base paxos.Ballot, v string) paxos.Proposal {
	return paxos.Proposal{Ballot: b, Origin: origin, Base: base, Value: paxos.Value{Present: true, Data: []byte(v)}}
}

func wantViolation(t *testing.T, c *Checker, substr string) {
	t.Helper()
	if c.Err() == nil || !strings.Contains(c.Err().Error(), substr) {
		t.Fatalf("err = %v, want one containing %q", c.Err(), substr)
	}
}

// Two different operations chosen in one instance (both computed on the
// empty register) is the split brain the checker exists for.
func TestCheckerCatchesTwoValuesInOneInstance(t *testing.T) {
	c := NewChecker(map[string]int{"k": 3}, true)
	a := offer(ballot(1, 1), ballot(1, 1), paxos.Ballot{}, "a")
	b := offer(ballot(2, 2), ballot(2, 2), paxos.Ballot{}, "b")
	for _, p := range []paxos.Proposal{a, b} {
		c.offered("k", p)
	}
	c.acked(1, "k", a)
	c.acked(2, "k", a) // a chosen
	c.acked(3, "k", b)
	wantViolation(t, c, "accepted")
	c = NewChecker(map[string]int{"k": 3}, true)
	c.acked(3, "k", b)
	c.acked(2, "k", b) // b chosen first, at the higher ballot
	c.acked(1, "k", a)
	c.acked(3, "k", a) // then a, below it
	wantViolation(t, c, "two operations chosen")
}

// The same operation finished by another proposer under a higher ballot,
// and the next operation computed on it, are fine.
func TestCheckerAcceptsAChain(t *testing.T) {
	c := NewChecker(map[string]int{"k": 3}, true)
	a := offer(ballot(1, 1), ballot(1, 1), paxos.Ballot{}, "a")
	again := a
	again.Ballot = ballot(3, 2)
	next := offer(ballot(4, 3), ballot(4, 3), a.Origin, "b")
	c.offered("k", a)
	c.acked(1, "k", a)
	c.offered("k", again)
	c.acked(2, "k", again)
	c.acked(3, "k", again) // a chosen at 3
	c.committed(1, "k", again)
	c.offered("k", next)
	c.acked(1, "k", next)
	c.acked(2, "k", next)
	if c.Err() != nil || c.Chosen() != 2 {
		t.Fatalf("err %v, chosen %d", c.Err(), c.Chosen())
	}
}

func TestCheckerCatchesIdentityAndCommitViolations(t *testing.T) {
	c := NewChecker(map[string]int{"k": 3}, true)
	c.offered("k", offer(ballot(1, 1), ballot(1, 1), paxos.Ballot{}, "a"))
	c.offered("k", offer(ballot(1, 1), ballot(1, 1), paxos.Ballot{}, "b"))
	wantViolation(t, c, "two proposals")

	c = NewChecker(map[string]int{"k": 3}, true)
	c.offered("k", offer(ballot(5, 1), ballot(5, 1), ballot(2, 2), "a"))
	wantViolation(t, c, "never chosen")

	c = NewChecker(map[string]int{"k": 3}, true)
	p := offer(ballot(1, 1), ballot(1, 1), paxos.Ballot{}, "a")
	c.acked(1, "k", p)
	c.committed(2, "k", p)
	wantViolation(t, c, "no majority accepted")
}

func TestCheckerDurability(t *testing.T) {
	c := NewChecker(map[string]int{"k": 3}, true)
	p := offer(ballot(4, 1), ballot(4, 1), paxos.Ballot{}, "a")
	c.promised(2, "k", ballot(4, 1))
	c.acked(2, "k", p)
	c.restarted(2, map[string]paxos.AcceptorState{"k": {Promised: ballot(4, 1), Accepted: p}})
	if c.Err() != nil {
		t.Fatal(c.Err())
	}
	c.restarted(2, map[string]paxos.AcceptorState{"k": {Promised: ballot(4, 1)}})
	wantViolation(t, c, "durability")
	c = NewChecker(map[string]int{"k": 3}, true)
	c.promised(2, "k", ballot(4, 1))
	c.restarted(sim.NodeID(2), nil)
	wantViolation(t, c, "durability")
	// Turned off, it says nothing.
	c = NewChecker(map[string]int{"k": 3}, false)
	c.promised(2, "k", ballot(4, 1))
	c.restarted(2, nil)
	if c.Err() != nil {
		t.Fatal(c.Err())
	}
}

func TestCheckerMonotonicAcceptor(t *testing.T) {
	c := NewChecker(map[string]int{"k": 3}, true)
	c.transition(1, "k", paxos.AcceptorState{Promised: ballot(5, 1)}, paxos.AcceptorState{Promised: ballot(4, 1)})
	wantViolation(t, c, "promise went back")
}

package txnsim

import (
	"fmt"
	"maps"
	"slices"

	"github.com/cairndb/cairn/sim"
	"github.com/cairndb/cairn/txn"
)

// checker holds what the run has seen and checks, as each event is
// reported, the safety properties of atomic commit (Bernstein, Hadzilacos
// and Goodman, §7.2, AC1-AC4):
//
//   - atomicity: no two nodes decide differently for one transaction (a
//     participant applying, the coordinator answering its client, a
//     termination leader, the decision register choosing), and no node
//     ever changes its decision, across crashes included;
//   - validity: commit only if every participant voted yes; a participant
//     never votes both ways;
//   - durability of decisions: a participant that applied an outcome still
//     knows it after a restart.
//
// The world runs Err as an invariant after every step, so the first
// violation stops the run at the step that caused it.
type checker struct {
	err          error
	participants map[txn.ID][]txn.NodeID
	votes        map[txn.ID]map[txn.NodeID]txn.Vote
	outcome      map[txn.ID]decisionBy
	applied      map[sim.NodeID]map[txn.ID]txn.Outcome
	commits      int
	aborts       int
}

// decisionBy is the first decision seen for a transaction, and who took it.
type decisionBy struct {
	outcome txn.Outcome
	by      string
}

func newChecker() *checker {
	return &checker{
		participants: map[txn.ID][]txn.NodeID{},
		votes:        map[txn.ID]map[txn.NodeID]txn.Vote{},
		outcome:      map[txn.ID]decisionBy{},
		applied:      map[sim.NodeID]map[txn.ID]txn.Outcome{},
	}
}

// Err returns the first violation.
func (k *checker) Err() error { return k.err }

func (k *checker) failf(format string, args ...any) {
	if k.err == nil {
		k.err = fmt.Errorf(format, args...)
	}
}

func (k *checker) begin(t txn.ID, parts []txn.NodeID) {
	k.participants[t] = slices.Sorted(slices.Values(parts))
}

// vote records a vote as it leaves a participant (after its record is
// durable).
func (k *checker) vote(p sim.NodeID, t txn.ID, v txn.Vote) {
	m := k.votes[t]
	if m == nil {
		m = map[txn.NodeID]txn.Vote{}
		k.votes[t] = m
	}
	if old, ok := m[txn.NodeID(p)]; ok && old != v {
		k.failf("validity: n%d voted %s then %s on t%d", p, old, v, t)
		return
	}
	m[txn.NodeID(p)] = v
	if d, ok := k.outcome[t]; ok && d.outcome == txn.Commit && v == txn.VoteNo {
		k.failf("validity: n%d voted no on t%d, which %s committed", p, t, d.by)
	}
}

// decided records a durable decision by node n in role.
func (k *checker) decided(n sim.NodeID, role string, t txn.ID, o txn.Outcome) {
	by := fmt.Sprintf("%s n%d", role, n)
	if d, ok := k.outcome[t]; ok {
		if d.outcome != o {
			k.failf("atomicity: %s decided %s for t%d, but %s decided %s", by, o, t, d.by, d.outcome)
		}
	} else {
		k.outcome[t] = decisionBy{outcome: o, by: by}
		if o == txn.Commit {
			k.commits++
		} else {
			k.aborts++
		}
	}
	if o == txn.Commit {
		k.checkValidCommit(t, by)
	}
}

func (k *checker) checkValidCommit(t txn.ID, by string) {
	parts, ok := k.participants[t]
	if !ok {
		k.failf("validity: %s committed t%d, which was never begun", by, t)
		return
	}
	for _, p := range parts {
		if k.votes[t][p] != txn.VoteYes {
			k.failf("validity: %s committed t%d, but participant n%d voted %s", by, t, p, k.votes[t][p])
			return
		}
	}
}

// apply records that participant n applied o to its resource.
func (k *checker) apply(n sim.NodeID, t txn.ID, o txn.Outcome) {
	m := k.applied[n]
	if m == nil {
		m = map[txn.ID]txn.Outcome{}
		k.applied[n] = m
	}
	if old, ok := m[t]; ok && old != o {
		k.failf("atomicity: participant n%d applied %s to t%d after %s", n, o, t, old)
	}
	m[t] = o
	k.decided(n, "participant", t, o)
}

// recovered checks, when participant n restarts, that it still knows every
// outcome it applied before.
func (k *checker) recovered(n sim.NodeID, outcome func(txn.ID) (txn.Outcome, bool)) {
	m := k.applied[n]
	for _, t := range slices.Sorted(maps.Keys(m)) {
		got, ok := outcome(t)
		if !ok || got != m[t] {
			k.failf("durability: participant n%d applied %s to t%d and restarted knowing %v", n, m[t], t, got)
			return
		}
	}
}

// allVotedYes reports whether every participant of t voted yes: the only
// situation in which classic two-phase commit may block.
func (k *checker) allVotedYes(t txn.ID) bool {
	for _, p := range k.participants[t] {
		if k.votes[t][p] != txn.VoteYes {
			return false
		}
	}
	return len(k.participants[t]) > 0
}

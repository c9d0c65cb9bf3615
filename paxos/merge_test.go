package paxos

import "testing"

// stateFrom steps an acceptor through the messages fuzzMessage builds from
// data, 4 bytes each, skipping the invalid ones.
func stateFrom(data []byte) AcceptorState {
	var s AcceptorState
	for len(data) >= 4 {
		if out, err := StepAcceptor(s, fuzzMessage(data[:4])); err == nil {
			s = out.State
		}
		data = data[4:]
	}
	return s
}

// FuzzMergeAcceptorStates: merging two reachable states gives a valid
// state that has promised at least what either promised, holds the newer
// commit, and holds the newer proposal in progress unless a commit
// overtook it; merging is idempotent.
func FuzzMergeAcceptorStates(f *testing.F) {
	f.Add([]byte{0, 3, 0, 0, 1, 3, 3, 0}, []byte{1, 5, 2, 2, 2, 5, 2, 0})
	f.Add([]byte{1, 7, 1, 0}, []byte{0, 9, 0, 0, 2, 3, 3, 1})
	f.Fuzz(func(t *testing.T, da, db []byte) {
		a, b := stateFrom(da), stateFrom(db)
		m := MergeAcceptorStates(a, b)
		if err := m.Validate(); err != nil {
			t.Fatalf("merge of %+v and %+v: %v", a, b, err)
		}
		if m.Promised.Less(a.Promised) || m.Promised.Less(b.Promised) {
			t.Fatalf("promise went back: %s from %s and %s", m.Promised, a.Promised, b.Promised)
		}
		newest := maxBallot(a.Committed.Ballot, b.Committed.Ballot)
		if m.Committed.Ballot != newest {
			t.Fatalf("commit %s, want the newer of %s and %s", m.Committed.Ballot, a.Committed.Ballot, b.Committed.Ballot)
		}
		if acc := maxBallot(a.Accepted.Ballot, b.Accepted.Ballot); newest.Less(acc) && m.Accepted.Ballot != acc {
			t.Fatalf("in progress %s, want %s", m.Accepted.Ballot, acc)
		}
		if again := MergeAcceptorStates(m, b); !again.Committed.Equal(m.Committed) || !again.Accepted.Equal(m.Accepted) || again.Promised != m.Promised {
			t.Fatalf("merging again changed %+v to %+v", m, again)
		}
	})
}

func TestRecoveryPeers(t *testing.T) {
	for n, want := range map[int]int{1: 0, 2: 1, 3: 2, 4: 2, 5: 3, 7: 4} {
		if got := RecoveryPeers(n); got != want {
			t.Errorf("RecoveryPeers(%d) = %d, want %d", n, got, want)
		}
	}
}

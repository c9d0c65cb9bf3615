package paxos

import (
	"errors"
	"strings"
	"testing"
)

// The fast path: a write on an idle key costs two round trips before the
// answer (prepare/promise, accept/accepted) and one asynchronous commit per
// replica, against Cassandra's four round trips (prepare, read, propose,
// commit). Dropping every Commit does not delay the answer.
func TestFastPathWriteIsTwoRoundTrips(t *testing.T) {
	for _, n := range []int{3, 5} {
		tn := newTestNet(t, n)
		tn.addProposer(10, nil)
		tn.drop = func(_, _ NodeID, m Message) bool { return m.Type == MsgCommit }
		tn.propose(10, 1, "k", setNX("a"))
		tn.deliverAll()
		res := tn.mustSucceed(1)
		if !res.Applied || res.Prev.Present {
			t.Fatalf("SETNX on an absent key: %+v", res)
		}
		for typ, want := range map[MsgType]int{MsgPrepare: n, MsgPromise: n, MsgAccept: n, MsgAccepted: n, MsgCommit: n, MsgReject: 0} {
			if tn.sent[typ] != want {
				t.Errorf("n=%d: %d %s messages, want %d", n, tn.sent[typ], typ, want)
			}
		}
		st := tn.props[10].Stats()
		if st.Rounds != 1 || st.AcceptRounds != 1 || st.Commits != 1 || st.Succeeded != 1 {
			t.Errorf("n=%d: stats %+v", n, st)
		}
	}
}

// A linearizable read that finds every promise agreeing on the latest
// commit, and nothing in progress, is answered after the prepare round.
func TestReadFastPathIsOneRoundTrip(t *testing.T) {
	tn := newTestNet(t, 3)
	tn.addProposer(10, nil)
	tn.propose(10, 1, "k", setNX("a"))
	tn.run(1)
	clear(tn.sent)
	tn.propose(10, 2, "k", get)
	tn.deliverAll()
	if res := tn.mustSucceed(2); !res.Prev.Equal(val("a")) {
		t.Fatalf("GET = %+v", res)
	}
	if tn.sent[MsgAccept] != 0 || tn.sent[MsgPrepare] != 3 || tn.props[10].Stats().FastReads != 1 {
		t.Fatalf("read sent %v, stats %+v", tn.sent, tn.props[10].Stats())
	}
	// A failed condition is answered the same way: it writes nothing.
	tn.propose(10, 3, "k", setNX("b"))
	tn.deliverAll()
	if res := tn.mustSucceed(3); res.Applied || !res.Prev.Equal(val("a")) || tn.sent[MsgAccept] != 0 {
		t.Fatalf("SETNX on a present key: %+v, sent %v", res, tn.sent)
	}
}

func TestFenceReadsRunTheAcceptRound(t *testing.T) {
	tn := newTestNet(t, 3)
	tn.addProposer(10, func(c *Config) { c.FenceReads = true })
	tn.propose(10, 1, "k", get) // nothing committed yet: fence the initial state
	tn.run(1)
	if res := tn.mustSucceed(1); res.Prev.Present {
		t.Fatalf("GET of a fresh key = %+v", res)
	}
	tn.propose(10, 2, "k", setNX("a"))
	tn.run(2)
	clear(tn.sent)
	tn.propose(10, 3, "k", get)
	tn.run(3)
	if res := tn.mustSucceed(3); !res.Prev.Equal(val("a")) {
		t.Fatalf("GET = %+v", res)
	}
	if tn.sent[MsgAccept] != 3 || tn.sent[MsgCommit] != 3 {
		t.Fatalf("fenced read sent %v", tn.sent)
	}
	for _, id := range tn.replicas {
		if s := tn.state(id, "k"); !s.Committed.Value.Equal(val("a")) {
			t.Fatalf("replica %d holds %s after a fence", id, s.Committed)
		}
	}
}

// A proposal in progress that the prepare round finds (here: chosen, but
// its proposer died before committing) is finished first, and the
// operation then runs on it. The proposer also learns a ballot above the
// one that refused it.
func TestInProgressIsFinishedFirst(t *testing.T) {
	tn := newTestNet(t, 3)
	dead := prop(bal(30, 9), Ballot{}, "a")
	for _, id := range []NodeID{1, 2} {
		*tn.state(id, "k") = AcceptorState{Promised: dead.Ballot, Accepted: dead}
	}
	tn.addProposer(10, nil)
	tn.propose(10, 1, "k", cas("a", "b"))
	tn.run(1)
	if res := tn.mustSucceed(1); !res.Applied || !res.Prev.Equal(val("a")) {
		t.Fatalf("CAS a->b = %+v", res)
	}
	st := tn.props[10].Stats()
	if st.Finished != 1 || st.ContentionRetries != 1 || st.Commits != 2 {
		t.Fatalf("stats %+v", st)
	}
	for _, id := range tn.replicas {
		if s := tn.state(id, "k"); !s.Committed.Value.Equal(val("b")) {
			t.Fatalf("replica %d holds %s", id, s.Committed)
		}
	}
}

// A replica behind on the most recent commit is sent the commit.
func TestLaggingReplicaIsRepaired(t *testing.T) {
	tn := newTestNet(t, 3)
	c := prop(bal(3, 9), Ballot{}, "a")
	for _, id := range []NodeID{1, 2} {
		*tn.state(id, "k") = committedAt(AcceptorState{Promised: c.Ballot}, c)
	}
	tn.addProposer(10, nil)
	tn.props[10].maxSeen = bal(3, 9) // as if it had seen the round
	tn.drop = func(_, to NodeID, m Message) bool { return m.Type == MsgPrepare && to == 2 }
	tn.propose(10, 1, "k", get)
	tn.run(1)
	if res := tn.mustSucceed(1); !res.Prev.Equal(val("a")) {
		t.Fatalf("GET = %+v", res)
	}
	if st := tn.props[10].Stats(); st.Repairs != 1 || st.FastReads != 1 {
		t.Fatalf("stats %+v", st)
	}
	if !tn.state(3, "k").Committed.Equal(c) {
		t.Fatalf("replica 3 not repaired: %s", tn.state(3, "k").Committed)
	}
}

func TestNoQuorumNamesTheAnswers(t *testing.T) {
	tn := newTestNet(t, 3)
	p := tn.addProposer(10, nil)
	tn.drop = func(_, to NodeID, _ Message) bool { return to == 2 || to == 3 }
	tn.propose(10, 1, "k", setNX("a"))
	ticks := 0
	for ; ticks <= testConfig(10, 1).MaxOpTicks(); ticks++ {
		tn.deliverAll()
		if _, ok := tn.outcomes[1]; ok {
			break
		}
		tn.tick(10, 1)
	}
	e := tn.mustFail(1)
	if !errors.Is(e, ErrNoQuorum) || e.Answered != 1 || e.Needed != 2 || e.Replicas != 3 || e.MaybeApplied || e.Attempts != 8 {
		t.Fatalf("error %+v", e)
	}
	if !strings.Contains(e.Error(), "1 of 3 replicas answered (2 needed)") {
		t.Fatalf("message %q", e.Error())
	}
	if st := p.Stats(); st.Timeouts != 8 || st.Failed != 1 || p.Pending() != 0 {
		t.Fatalf("stats %+v", st)
	}
	t.Logf("answered after %d ticks (bound %d)", ticks, testConfig(10, 1).MaxOpTicks())
}

// When every acceptance is lost the outcome is unknown: the value may be
// chosen, so the error says MaybeApplied.
func TestLostAcceptancesLeaveTheOutcomeUnknown(t *testing.T) {
	tn := newTestNet(t, 3)
	tn.addProposer(10, nil)
	tn.drop = func(_, _ NodeID, m Message) bool { return m.Type == MsgAccepted }
	tn.propose(10, 1, "k", setNX("a"))
	tn.run(1)
	e := tn.mustFail(1)
	if !errors.Is(e, ErrTimeout) || !e.MaybeApplied || e.Answered != 3 {
		t.Fatalf("error %+v", e)
	}
}

// Exactly once: an operation whose acceptances were lost recognizes its
// own value in progress in the next round, finishes it, and reports the
// result it computed (SETNX applied), not the result of running again on
// its own write (SETNX refused).
func TestOwnValueInProgressIsRecognized(t *testing.T) {
	tn := newTestNet(t, 3)
	tn.addProposer(10, nil)
	lose := true
	tn.drop = func(_, _ NodeID, m Message) bool { return lose && m.Type == MsgAccepted }
	tn.propose(10, 1, "k", setNX("a"))
	tn.deliverAll()
	lose = false
	tn.run(1)
	if res := tn.mustSucceed(1); !res.Applied || res.Prev.Present {
		t.Fatalf("SETNX = %+v, want applied on an absent key", res)
	}
	if st := tn.props[10].Stats(); st.Finished != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// Exactly once, when another proposer finished and committed our value.
func TestOwnValueCommittedByAnotherIsRecognized(t *testing.T) {
	tn := newTestNet(t, 3)
	tn.addProposer(10, nil)
	tn.addProposer(11, nil)
	tn.drop = func(_, to NodeID, m Message) bool { return to == 10 && m.Type == MsgAccepted }
	tn.propose(10, 1, "k", setNX("a"))
	tn.deliverAll()
	tn.drop = nil
	tn.propose(11, 2, "k", get)
	tn.run(2)
	if res := tn.mustSucceed(2); !res.Prev.Equal(val("a")) {
		t.Fatalf("GET by the other proposer = %+v", res)
	}
	tn.run(1)
	if res := tn.mustSucceed(1); !res.Applied {
		t.Fatalf("SETNX = %+v, want applied", res)
	}
	if st := tn.props[10].Stats(); st.AcceptRounds != 1 {
		t.Fatalf("the committed value should be recognized without a new accept round: %+v", st)
	}
}

// lostToOther runs proposer 10's SETNX a so that only replica 1 accepts it
// (and the answer is lost), then proposer 11 runs ops on replicas 2 and 3.
func lostToOther(t *testing.T, ops ...Op) *testNet {
	tn := newTestNet(t, 3)
	tn.addProposer(10, nil)
	tn.addProposer(11, nil)
	tn.drop = func(from, to NodeID, m Message) bool {
		return (from == 10 && m.Type == MsgAccept && to != 1) || (to == 10 && m.Type == MsgAccepted)
	}
	tn.propose(10, 1, "k", setNX("a"))
	tn.deliverAll()
	tn.drop = func(from, to NodeID, m Message) bool { return from == 11 && to == 1 && m.Type == MsgPrepare }
	for i, op := range ops {
		tn.propose(11, uint64(2+i), "k", op)
		tn.run(uint64(2 + i))
		tn.mustSucceed(uint64(2 + i))
	}
	tn.drop = nil
	tn.run(1)
	return tn
}

// When another operation took the instance our value competed in, our
// value can never be chosen: the operation runs again on the new state.
func TestOwnValueLostInstanceRunsAgain(t *testing.T) {
	tn := lostToOther(t, setNX("b"))
	if res := tn.mustSucceed(1); res.Applied || !res.Prev.Equal(val("b")) {
		t.Fatalf("SETNX a after SETNX b won = %+v", res)
	}
}

// When the key moved on by two operations, the promises' recent links
// show which one took our value's instance: not ours, so the operation
// runs again on the new state.
func TestOvertakenOutcomeIsReadFromRecentLinks(t *testing.T) {
	tn := lostToOther(t, setNX("b"), cas("b", "c"))
	if res := tn.mustSucceed(1); res.Applied || !res.Prev.Equal(val("c")) {
		t.Fatalf("SETNX a after SETNX b, CAS b->c = %+v", res)
	}
}

// When the key moved on by more operations than the links remember, our
// value may have been chosen in between: the outcome is unknown, and said
// so at once.
func TestOvertakenOutcomeIsUnknown(t *testing.T) {
	ops := []Op{setNX("b")}
	prev := "b"
	for i := range MaxRecent {
		next := string(rune('c' + i))
		ops = append(ops, cas(prev, next))
		prev = next
	}
	tn := lostToOther(t, ops...)
	e := tn.mustFail(1)
	if !errors.Is(e, ErrContention) || !e.MaybeApplied || e.Attempts >= testConfig(10, 1).MaxAttempts {
		t.Fatalf("error %+v", e)
	}
}

func TestContentionFailsAfterMaxAttempts(t *testing.T) {
	tn := newTestNet(t, 3)
	p := tn.addProposer(10, nil)
	tn.propose(10, 1, "k", setNX("a"))
	for i := 1; i < 100000; i++ {
		// A competitor always holds a higher promise.
		for _, id := range tn.replicas {
			s := tn.state(id, "k")
			s.Promised = maxBallot(s.Promised, bal(int64(1000*i), 9))
		}
		tn.deliverAll()
		if _, ok := tn.outcomes[1]; ok {
			break
		}
		tn.tick(10, 1)
	}
	e := tn.mustFail(1)
	// The attempt ends as soon as a majority is out of reach: 2 refusals.
	if !errors.Is(e, ErrContention) || e.MaybeApplied || e.Attempts != 8 || e.Answered != 2 {
		t.Fatalf("error %+v", e)
	}
	if st := p.Stats(); st.ContentionRetries != 8 {
		t.Fatalf("stats %+v", st)
	}
}

func TestProposeBounds(t *testing.T) {
	tn := newTestNet(t, 3)
	p := tn.addProposer(10, func(c *Config) {
		c.MaxPending = 2
		c.MaxReplicas = 5
		c.Limits = Limits{MaxKeyBytes: 4, MaxValueBytes: 8}
	})
	r := tn.replicas
	for _, tc := range []struct {
		key      string
		replicas []NodeID
		op       Op
		want     error
	}{
		{"toolong", r, get, ErrKeyTooLarge},
		{"k", r, setNX("123456789"), ErrValueTooLarge},
		{"k", r, cas("123456789", "x"), ErrValueTooLarge},
		{"k", nil, get, ErrInvalidReplicas},
		{"k", []NodeID{1, 2, 1}, get, ErrInvalidReplicas},
		{"k", []NodeID{1, 0}, get, ErrInvalidReplicas},
		{"k", []NodeID{1, 2, 3, 4, 5, 6}, get, ErrInvalidReplicas},
		{"k", r, Op{Kind: OpGet, Value: []byte{}}, ErrInvalidOp},
		{"k", r, Op{Kind: 0}, ErrInvalidOp},
		{"k", r, Op{Kind: OpDeleteIf + 1}, ErrInvalidOp},
		{"k", r, Op{Kind: OpSetNX, Expected: []byte("x")}, ErrInvalidOp},
	} {
		if err := p.Propose(1, tc.key, tc.replicas, tc.op); !errors.Is(err, tc.want) {
			t.Errorf("Propose(%q, %v, %+v) = %v, want %v", tc.key, tc.replicas, tc.op, err, tc.want)
		}
	}
	if p.Pending() != 0 || p.HasReady() {
		t.Fatal("a refused proposal left state behind")
	}
	if err := p.Propose(1, "a", r, get); err != nil {
		t.Fatal(err)
	}
	if err := p.Propose(1, "b", r, get); !errors.Is(err, ErrDuplicateID) {
		t.Fatalf("duplicate ID: %v", err)
	}
	if err := p.Propose(2, "b", r, get); err != nil {
		t.Fatal(err)
	}
	if err := p.Propose(3, "c", r, get); !errors.Is(err, ErrTooManyPending) {
		t.Fatalf("beyond MaxPending: %v", err)
	}
}

// Proposals on one key from one proposer run one after the other; on
// different keys they run at once.
func TestProposalsOnOneKeyQueue(t *testing.T) {
	tn := newTestNet(t, 3)
	tn.addProposer(10, nil)
	tn.propose(10, 1, "k", setNX("a"))
	tn.propose(10, 2, "k", cas("a", "b"))
	tn.propose(10, 3, "j", setNX("x"))
	if tn.sent[MsgPrepare] != 6 {
		t.Fatalf("%d prepares, want 3 for k and 3 for j", tn.sent[MsgPrepare])
	}
	tn.run(1, 2, 3)
	if res := tn.mustSucceed(2); !res.Applied {
		t.Fatalf("CAS after SETNX on the same key = %+v", res)
	}
}

// Ballots of two incarnations differ even when both clocks start at 0, and
// a proposer that was refused goes above the ballot that refused it.
func TestBallotsAreUniqueAndClimb(t *testing.T) {
	p1, _ := NewProposer(testConfig(10, 1))
	p2, _ := NewProposer(testConfig(10, 2))
	b1, b2 := p1.nextBallot(), p2.nextBallot()
	if b1 == b2 || !b1.Less(b2) {
		t.Fatalf("ballots %s and %s of two incarnations", b1, b2)
	}
	if err := p1.Step(1, Message{Type: MsgReject, Key: "k", Ballot: b1, Promised: bal(500, 3)}); err != nil {
		t.Fatal(err)
	}
	if b := p1.nextBallot(); !bal(500, 3).Less(b) {
		t.Fatalf("ballot %s after a refusal by 500", b)
	}
}

func TestProposerStepErrors(t *testing.T) {
	tn := newTestNet(t, 3)
	p := tn.addProposer(10, nil)
	tn.propose(10, 1, "k", get)
	b := p.list[0].ballot
	if err := p.Step(7, Message{Type: MsgPromise, Key: "k", Ballot: b}); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("promise from a stranger: %v", err)
	}
	if err := p.Step(1, Message{Type: MsgPrepare, Key: "k", Ballot: b}); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("prepare to a proposer: %v", err)
	}
	if err := p.Step(1, Message{Type: MsgPromise, Key: "other", Ballot: b}); err != nil {
		t.Fatalf("a reply about another key's round is ignored: %v", err)
	}
	if err := p.Step(1, Message{Type: MsgAccepted, Key: "k", Ballot: bal(1, 77)}); err != nil {
		t.Fatalf("a stale reply is ignored: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	good := testConfig(1, 1)
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*Config){
		"id":          func(c *Config) { c.ID = 0 },
		"epoch":       func(c *Config) { c.Epoch = 0 },
		"clock":       func(c *Config) { c.Clock = nil },
		"rand":        func(c *Config) { c.Rand = nil },
		"round":       func(c *Config) { c.RoundTicks = 0 },
		"backoff":     func(c *Config) { c.BackoffTicks = c.MaxBackoffTicks + 1 },
		"attempts":    func(c *Config) { c.MaxAttempts = 0 },
		"pending":     func(c *Config) { c.MaxPending = 0 },
		"replicas":    func(c *Config) { c.MaxReplicas = MaxReplicasLimit + 1 },
		"key limit":   func(c *Config) { c.Limits.MaxKeyBytes = KeyBytesLimit + 1 },
		"value limit": func(c *Config) { c.Limits.MaxValueBytes = 0 },
	} {
		c := good
		mod(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

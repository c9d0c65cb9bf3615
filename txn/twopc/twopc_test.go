package twopc

import (
	"errors"
	"slices"
	"testing"

	"github.com/cairndb/cairn/txn"
)

var three = []txn.NodeID{2, 3, 4}

// Gray, "Notes on Data Base Operating Systems" (1978): the coordinator
// commits iff every participant votes yes.
func TestCommitWhenEveryVoteIsYes(t *testing.T) {
	n := newNet(t, 3, false)
	if err := n.coord.Begin(7, three); err != nil {
		t.Fatal(err)
	}
	n.flush()
	n.deliver()
	n.wantOutcomes(7, all(three, txn.Commit))
	if n.decided[coordID][7] != txn.Commit {
		t.Fatalf("client answer %v", n.decided[coordID])
	}
	if len(n.coord.Active()) != 0 {
		t.Fatalf("coordinator still drives %v after every ack", n.coord.Active())
	}
	if got := kinds(n.log(coordID)); !slices.Equal(got, []txn.RecordKind{txn.RecordBegin, txn.RecordDecision, txn.RecordEnd}) {
		t.Fatalf("coordinator log %v", got)
	}
	for _, p := range three {
		if got := kinds(n.log(p)); !slices.Equal(got, []txn.RecordKind{txn.RecordVote, txn.RecordDecision}) {
			t.Fatalf("n%d log %v", p, got)
		}
	}
}

func TestAbortWhenOneVotesNo(t *testing.T) {
	n := newNet(t, 3, false)
	n.vote = func(p txn.NodeID, _ txn.ID) txn.Vote {
		if p == 3 {
			return txn.VoteNo
		}
		return txn.VoteYes
	}
	_ = n.coord.Begin(7, three)
	n.flush()
	n.deliver()
	n.wantOutcomes(7, all(three, txn.Abort))
	if got := kinds(n.log(3)); !slices.Equal(got, []txn.RecordKind{txn.RecordDecision}) {
		t.Fatalf("a no voter logs only its abort; got %v", got)
	}
}

// The durability contract: a yes vote, an announced outcome and an
// acknowledgement leave in a Ready that forces the record they depend on
// (in this run nothing is resent, so every such message is a first one).
func TestMessagesTravelWithForcedRecords(t *testing.T) {
	n := newNet(t, 2, false)
	_ = n.coord.Begin(1, []txn.NodeID{2, 3})
	n.flush()
	n.deliver()
	checked := 0
	for id, rds := range n.readys {
		for _, rd := range rds {
			for _, e := range rd.Messages {
				var needs txn.RecordKind
				switch {
				case e.Msg.Type == MsgVote:
					needs = txn.RecordVote
				case e.Msg.Type == MsgDecision, e.Msg.Type == MsgAck:
					needs = txn.RecordDecision
				default:
					continue
				}
				checked++
				if !rd.MustSync || !slices.ContainsFunc(rd.Records, func(r txn.Record) bool { return r.Kind == needs }) {
					t.Fatalf("n%d sent %s in a Ready without a forced %s record: %+v", id, e.Msg, needs, rd)
				}
			}
		}
	}
	if checked != 6 {
		t.Fatalf("checked %d messages, want 2 votes, 2 decisions and 2 acks", checked)
	}
	if rd := n.readys[coordID][0]; rd.MustSync {
		t.Fatalf("Begin forced a sync: %+v", rd)
	}
}

func TestVoteTimeoutAborts(t *testing.T) {
	n := newNet(t, 3, false)
	n.drop = func(w wire) bool { return w.from == 4 } // n4's votes never arrive
	_ = n.coord.Begin(7, three)
	n.flush()
	n.deliver()
	n.run(DefaultConfig(1).VoteTimeoutTicks - 1)
	if _, ok := n.coord.Outcome(7); ok {
		t.Fatal("decided before the vote timeout")
	}
	n.run(1)
	n.wantOutcomes(7, map[txn.NodeID]txn.Outcome{2: txn.Abort, 3: txn.Abort})
	if n.coord.Stats().VoteTimeouts != 1 {
		t.Fatalf("stats %+v", n.coord.Stats())
	}
}

// Every message may be duplicated: outcomes and logs are as without
// duplicates.
func TestDuplicatesAreIdempotent(t *testing.T) {
	n := newNet(t, 3, false)
	_ = n.coord.Begin(7, three)
	n.flush()
	for i := 0; len(n.queue) > 0; i++ {
		w := n.queue[0]
		n.queue = append(n.queue[1:], w) // deliver it now and again later
		if i%2 == 1 {
			n.queue = n.queue[:len(n.queue)-1]
		}
		n.deliver1(w)
	}
	n.run(10)
	n.wantOutcomes(7, all(three, txn.Commit))
	for _, p := range three {
		if got := kinds(n.log(p)); !slices.Equal(got, []txn.RecordKind{txn.RecordVote, txn.RecordDecision}) {
			t.Fatalf("n%d log %v", p, got)
		}
	}
}

func (n *net) deliver1(w wire) {
	var err error
	if w.to == coordID {
		err = n.coord.Step(w.from, w.m)
	} else {
		err = n.parts[w.to].Step(w.from, w.m)
	}
	if err != nil {
		n.t.Fatalf("%v: %v", w.m, err)
	}
	n.flush()
}

// A coordinator that restarts with an undecided transaction aborts it;
// one that restarts with a decision announces it again.
func TestCoordinatorRecovery(t *testing.T) {
	t.Run("undecided", func(t *testing.T) {
		n := newNet(t, 3, false)
		n.drop = func(w wire) bool { return w.to == coordID } // the votes are lost
		_ = n.coord.Begin(7, three)
		n.flush()
		n.durable[coordID] = n.log(coordID) // the Begin record survives
		n.deliver()
		n.crash(coordID)
		n.drop = nil
		n.restart(coordID)
		if n.coord.Stats().Recovered != 1 {
			t.Fatalf("stats %+v", n.coord.Stats())
		}
		n.deliver()
		n.wantOutcomes(7, all(three, txn.Abort))
	})
	t.Run("decided", func(t *testing.T) {
		n := newNet(t, 3, false)
		n.drop = func(w wire) bool { return w.from == coordID && w.m.Type == MsgDecision }
		_ = n.coord.Begin(7, three)
		n.flush()
		n.deliver()
		n.crash(coordID)
		n.drop = nil
		n.restart(coordID)
		n.deliver()
		n.wantOutcomes(7, all(three, txn.Commit))
		if len(n.coord.Active()) != 0 {
			t.Fatal("the restarted coordinator did not collect the acks")
		}
	})
}

// A participant that restarts after voting yes asks at once.
func TestParticipantRecoveryAsks(t *testing.T) {
	n := newNet(t, 2, false)
	n.drop = func(w wire) bool { return w.from == coordID && w.m.Type == MsgDecision }
	_ = n.coord.Begin(7, []txn.NodeID{2, 3})
	n.flush()
	n.deliver()
	n.crash(2)
	n.restart(2)
	n.drop = nil
	if n.parts[2].Stats().Recovered != 1 {
		t.Fatalf("stats %+v", n.parts[2].Stats())
	}
	n.run(1)
	if o, _ := n.parts[2].Outcome(7); o != txn.Commit {
		t.Fatalf("after one tick n2 has %v", o)
	}
}

// Cooperative termination (Bernstein, Hadzilacos and Goodman, §7.4): an
// uncertain participant without its coordinator asks its peers.
func TestCooperativeTermination(t *testing.T) {
	wait := DefaultConfig(1).DecisionTimeoutTicks + DefaultConfig(1).RetryTicks
	t.Run("a peer knows the outcome", func(t *testing.T) {
		n := newNet(t, 3, false)
		n.drop = func(w wire) bool { return w.from == coordID && w.m.Type == MsgDecision && w.to != 4 }
		_ = n.coord.Begin(7, three)
		n.flush()
		n.deliver()
		n.crash(coordID)
		n.run(wait)
		n.wantOutcomes(7, all(three, txn.Commit))
	})
	t.Run("a peer had not voted", func(t *testing.T) {
		n := newNet(t, 3, false)
		n.drop = func(w wire) bool { return w.from == coordID && w.to == 4 } // n4 never hears of t7
		_ = n.coord.Begin(7, three)
		n.flush()
		n.deliver()
		n.crash(coordID)
		n.run(wait)
		n.wantOutcomes(7, all(three, txn.Abort))
		if n.parts[4].Stats().Unilateral != 1 {
			t.Fatalf("n4 stats %+v", n.parts[4].Stats())
		}
		// The abort is durable: n4 never votes on t7 again.
		n.crash(4)
		n.restart(4)
		n.drop = nil
		if err := n.parts[4].Step(coordID, Message{Type: MsgPrepare, Txn: 7, Participants: three}); err != nil {
			t.Fatal(err)
		}
		if rd := n.parts[4].Ready(); len(rd.VoteRequests) != 0 {
			t.Fatalf("n4 asked to vote on an aborted transaction: %+v", rd)
		}
	})
	t.Run("everyone is uncertain: blocked", func(t *testing.T) {
		n := newNet(t, 3, false)
		n.drop = func(w wire) bool { return w.from == coordID && w.m.Type == MsgDecision }
		_ = n.coord.Begin(7, three)
		n.flush()
		n.deliver()
		n.crash(coordID)
		n.run(10 * wait)
		n.wantOutcomes(7, all(three, 0))
		for _, p := range three {
			if st := n.parts[p].Stats(); st.Terminations != 1 {
				t.Fatalf("n%d stats %+v", p, st)
			}
		}
		// The coordinator comes back and unblocks them.
		n.drop = nil
		n.restart(coordID)
		n.run(1)
		n.wantOutcomes(7, all(three, txn.Commit))
	})
}

// Presumed abort: a coordinator that does not know a transaction answers
// abort, and a participant that already decided ignores the late answer.
func TestPresumedAbort(t *testing.T) {
	n := newNet(t, 2, false)
	if err := n.coord.Step(2, Message{Type: MsgDecisionRequest, Txn: 99, Participants: []txn.NodeID{2, 3}}); err != nil {
		t.Fatal(err)
	}
	rd := n.coord.Ready()
	if len(rd.Messages) != 1 || !rd.Messages[0].Msg.Presumed || rd.Messages[0].Msg.Outcome != txn.Abort {
		t.Fatalf("got %+v", rd)
	}
	_ = n.coord.Begin(7, []txn.NodeID{2, 3})
	n.flush()
	n.deliver()
	if err := n.parts[2].Step(coordID, Message{Type: MsgDecision, Txn: 7, Outcome: txn.Abort, Presumed: true}); err != nil {
		t.Fatalf("a late presumed abort: %v", err)
	}
	err := n.parts[2].Step(coordID, Message{Type: MsgDecision, Txn: 7, Outcome: txn.Abort})
	if !errors.Is(err, txn.ErrConflictingOutcome) {
		t.Fatalf("a real conflicting outcome: %v", err)
	}
}

// With the decision register, losing the coordinator right after its
// commit reached the register blocks nobody.
func TestRegisterUnblocks(t *testing.T) {
	t.Run("commit chosen before the loss", func(t *testing.T) {
		n := newNet(t, 3, true)
		n.drop = func(w wire) bool { return w.from == coordID && w.reg == nil && w.m.Type == MsgDecision }
		_ = n.coord.Begin(7, three)
		n.flush()
		n.deliver()
		if o, _ := n.coord.Outcome(7); o != txn.Commit {
			t.Fatalf("coordinator has %v", o)
		}
		n.crash(coordID)
		n.run(DefaultConfig(1).DecisionTimeoutTicks + 5)
		n.wantOutcomes(7, all(three, txn.Commit))
	})
	t.Run("lost while collecting votes", func(t *testing.T) {
		n := newNet(t, 3, true)
		n.drop = func(w wire) bool { return w.to == coordID }
		_ = n.coord.Begin(7, three)
		n.flush()
		n.deliver()
		n.crash(coordID)
		n.run(DefaultConfig(1).DecisionTimeoutTicks + 5)
		n.wantOutcomes(7, all(three, txn.Abort))
	})
}

func TestBounds(t *testing.T) {
	cfg := DefaultConfig(1)
	cfg.MaxActiveTxns = 1
	c, _ := NewCoordinator(cfg, nil)
	if err := c.Begin(1, three); err != nil {
		t.Fatal(err)
	}
	if err := c.Begin(2, three); !errors.Is(err, txn.ErrTooManyTxns) {
		t.Fatalf("second Begin: %v", err)
	}
	if err := c.Begin(1, three); !errors.Is(err, txn.ErrDuplicateTxn) {
		t.Fatalf("duplicate: %v", err)
	}
	for _, ps := range [][]txn.NodeID{nil, {2, 2}, make([]txn.NodeID, 17)} {
		if err := c.Begin(3, ps); !errors.Is(err, txn.ErrBadParticipants) {
			t.Fatalf("Begin(%v): %v", ps, err)
		}
	}
	pcfg := DefaultConfig(2)
	pcfg.MaxKnownTxns = 1
	p, _ := NewParticipant(pcfg, nil)
	_ = p.Step(1, Message{Type: MsgPrepare, Txn: 1, Participants: three})
	_ = p.Step(1, Message{Type: MsgPrepare, Txn: 2, Participants: three})
	rd := p.Ready()
	if len(rd.VoteRequests) != 1 || len(rd.Messages) != 1 || rd.Messages[0].Msg.Vote != txn.VoteNo || p.Stats().Refused != 1 {
		t.Fatalf("at the bound: %+v", rd)
	}
}

func TestInvalidInput(t *testing.T) {
	p, _ := NewParticipant(DefaultConfig(2), nil)
	for _, m := range []Message{
		{Type: MsgPrepare, Txn: 1, Participants: []txn.NodeID{3, 4}}, // not naming n2
		{Type: MsgPrepare, Txn: 0, Participants: three},
		{Type: MsgDecision, Txn: 1},
		{Type: MsgDecision, Txn: 1, Outcome: txn.Commit, Presumed: true},
		{Type: MsgVote, Txn: 1, Vote: txn.VoteYes}, // a participant takes no votes
		{Type: 77, Txn: 1},
	} {
		if err := p.Step(1, m); !errors.Is(err, txn.ErrInvalidMessage) {
			t.Errorf("%s: %v", m, err)
		}
	}
	if p.HasReady() {
		t.Errorf("invalid input produced %+v", p.Ready())
	}
	if err := p.Vote(5, txn.VoteYes); !errors.Is(err, txn.ErrUnknownTxn) {
		t.Errorf("vote on unknown: %v", err)
	}
	for _, cfg := range []Config{{}, func() Config { c := DefaultConfig(1); c.DecisionTimeoutTicks = 0; return c }()} {
		if _, err := NewParticipant(cfg, nil); !errors.Is(err, txn.ErrConfigInvalid) {
			t.Errorf("config %+v: %v", cfg, err)
		}
	}
	bad := []txn.Record{{Kind: txn.RecordBegin, Txn: 1, Participants: three}}
	if _, err := NewParticipant(DefaultConfig(2), bad); !errors.Is(err, txn.ErrCorruptRecord) {
		t.Errorf("participant replaying a coordinator record: %v", err)
	}
}

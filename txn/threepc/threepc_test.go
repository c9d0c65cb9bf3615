package threepc

import (
	"errors"
	"slices"
	"testing"

	"github.com/cairndb/cairn/txn"
)

var three = []txn.NodeID{2, 3, 4}

// suspect is how long it takes until the lowest-ranked live participant
// has led a whole termination round, with slack.
var suspect = func() int {
	c := DefaultConfig(1)
	return c.SuspectTicks + 3*c.StaggerTicks + c.RoundTicks + c.AckTimeoutTicks + 10
}()

func TestCommitPath(t *testing.T) {
	n := newNet(t, 3)
	if err := n.coord.Begin(7, three); err != nil {
		t.Fatal(err)
	}
	n.flush()
	n.deliver()
	n.wantOutcomes(7, all(three, txn.Commit))
	if len(n.coord.Active()) != 0 {
		t.Fatalf("coordinator still drives %v", n.coord.Active())
	}
	for _, p := range three {
		if got := kinds(n.log(p)); !slices.Equal(got, []txn.RecordKind{txn.RecordVote, txn.RecordPreCommit, txn.RecordDecision}) {
			t.Fatalf("n%d log %v", p, got)
		}
	}
}

func TestAbortOnNo(t *testing.T) {
	n := newNet(t, 3)
	n.vote = func(p txn.NodeID, _ txn.ID) txn.Vote {
		if p == 4 {
			return txn.VoteNo
		}
		return txn.VoteYes
	}
	_ = n.coord.Begin(7, three)
	n.flush()
	n.deliver()
	n.wantOutcomes(7, all(three, txn.Abort))
}

// Skeen's non-blocking property: with the coordinator gone, the
// participants decide by the termination rules, led by the lowest ID.
func TestTerminationWithoutCoordinator(t *testing.T) {
	for _, tc := range []struct {
		name string
		drop func(w wire) bool
		want txn.Outcome
	}{
		// Nobody pre-committed: everyone is uncertain, so abort.
		{"before the pre-commit", isType(coordID, MsgPreCommit), txn.Abort},
		// Only n3 pre-committed: a usable pre-commit, so commit.
		{"after one pre-commit", func(w wire) bool {
			return w.from == coordID && (w.m.Type == MsgPreCommit && w.to != 3 || w.m.Type == MsgDecision)
		}, txn.Commit},
		// Everyone acknowledged and the coordinator decided, but the
		// decision was lost with it: commit.
		{"after the decision", isType(coordID, MsgDecision), txn.Commit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNet(t, 3)
			n.drop = tc.drop
			_ = n.coord.Begin(7, three)
			n.flush()
			n.deliver()
			n.crash(coordID)
			n.run(suspect)
			n.wantOutcomes(7, all(three, tc.want))
			if r := n.parts[2].Stats().Rounds; r != 1 {
				t.Errorf("n2 led %d rounds, want 1", r)
			}
			if r := n.parts[3].Stats().Rounds + n.parts[4].Stats().Rounds; r != 0 {
				t.Errorf("higher ranks led %d rounds while n2 was alive", r)
			}
		})
	}
}

// If the lowest-ranked participant is down too, the next one leads.
func TestTerminationStaggersByRank(t *testing.T) {
	n := newNet(t, 3)
	n.drop = isType(coordID, MsgDecision)
	_ = n.coord.Begin(7, three)
	n.flush()
	n.deliver()
	n.crash(coordID)
	n.crash(2)
	n.run(suspect)
	n.wantOutcomes(7, map[txn.NodeID]txn.Outcome{3: txn.Commit, 4: txn.Commit})
	if n.parts[3].Stats().Rounds != 1 {
		t.Fatalf("n3 stats %+v", n.parts[3].Stats())
	}
}

// The rule for restarted participants: a partial round does not use the
// pre-commit of a participant that restarted since it voted, but a round
// that hears from everyone does.
func TestRecoveringStateOnlyCountsInFullRounds(t *testing.T) {
	setup := func(t *testing.T) *net {
		// n2 pre-commits alone and crashes; the coordinator is lost.
		n := newNet(t, 4)
		n.drop = func(w wire) bool {
			return w.from == coordID && (w.m.Type == MsgPreCommit && w.to != 2 || w.m.Type == MsgDecision)
		}
		_ = n.coord.Begin(7, []txn.NodeID{2, 3, 4, 5})
		n.flush()
		n.deliver()
		n.crash(coordID)
		n.crash(2)
		n.restart(2)
		return n
	}
	t.Run("partial", func(t *testing.T) {
		n := setup(t)
		n.crash(5) // silent: the round is partial, and n2's state is stale
		n.run(suspect)
		n.wantOutcomes(7, map[txn.NodeID]txn.Outcome{2: txn.Abort, 3: txn.Abort, 4: txn.Abort})
	})
	t.Run("full", func(t *testing.T) {
		n := setup(t)
		n.run(suspect)
		n.wantOutcomes(7, all([]txn.NodeID{2, 3, 4, 5}, txn.Commit))
	})
}

// A coordinator rejected by a participant that promised a termination
// round stands down (the participant side is in
// TestPromiseIsDurableBeforeTheAnswer).
func TestCoordinatorAbdicates(t *testing.T) {
	c, _ := NewCoordinator(DefaultConfig(1), nil)
	_ = c.Begin(7, three)
	for _, p := range three {
		if err := c.Step(p, Message{Type: MsgVote, Txn: 7, Vote: txn.VoteYes}); err != nil {
			t.Fatal(err)
		}
	}
	rd := c.Ready()
	if m := rd.Messages[len(rd.Messages)-1].Msg; m.Type != MsgPreCommit {
		t.Fatalf("after the votes: %s", m)
	}
	// A reject at or below the coordinator's own ballot means nothing.
	_ = c.Step(3, Message{Type: MsgReject, Txn: 7, Ballot: coordinatorBallot(1)})
	if len(c.Active()) != 1 {
		t.Fatal("abdicated on a stale reject")
	}
	_ = c.Step(3, Message{Type: MsgReject, Txn: 7, Ballot: txn.Ballot{Round: 1, Node: 2}})
	if c.Stats().Abdicated != 1 || len(c.Active()) != 0 {
		t.Fatalf("stats %+v, active %v", c.Stats(), c.Active())
	}
	c.Tick()
	if c.HasReady() {
		t.Fatalf("an abdicated coordinator still speaks: %+v", c.Ready())
	}
}

// Skeen's acknowledgement timeout: commit once at least one participant
// acknowledged the pre-commit, never with none.
func TestCoordinatorAckTimeout(t *testing.T) {
	ack := DefaultConfig(1).AckTimeoutTicks
	t.Run("one ack", func(t *testing.T) {
		n := newNet(t, 3)
		n.drop = func(w wire) bool { return w.m.Type == MsgPreCommitAck && w.from != 2 }
		_ = n.coord.Begin(7, three)
		n.flush()
		n.deliver()
		n.run(ack)
		if n.coord.Stats().AckTimeouts != 1 {
			t.Fatalf("stats %+v", n.coord.Stats())
		}
	})
	t.Run("no ack", func(t *testing.T) {
		n := newNet(t, 3)
		n.drop = func(w wire) bool { return w.m.Type == MsgPreCommitAck }
		_ = n.coord.Begin(7, three)
		n.flush()
		n.deliver()
		n.run(3 * ack)
		if _, ok := n.coord.Outcome(7); ok {
			t.Fatal("committed without a durable pre-commit anywhere it knows of")
		}
	})
}

// Promises and pre-commits are forced before the answers that report them.
func TestPromiseIsDurableBeforeTheAnswer(t *testing.T) {
	p, _ := NewParticipant(DefaultConfig(3), []txn.Record{{Kind: txn.RecordVote, Txn: 7, Coordinator: 1, Participants: three}})
	b := txn.Ballot{Round: 1, Node: 2}
	if err := p.Step(2, Message{Type: MsgStateRequest, Txn: 7, Ballot: b, Participants: three}); err != nil {
		t.Fatal(err)
	}
	rd := p.Ready()
	if !rd.MustSync || len(rd.Records) != 1 || rd.Records[0].Kind != txn.RecordPromise || rd.Messages[0].Msg.Type != MsgState {
		t.Fatalf("state request: %+v", rd)
	}
	if m := rd.Messages[0].Msg; m.State != StateUncertain || !m.Recovering {
		t.Fatalf("reported %s", m)
	}
	// The coordinator's stale pre-commit is now rejected.
	if err := p.Step(1, Message{Type: MsgPreCommit, Txn: 7, Ballot: coordinatorBallot(1), Participants: three}); err != nil {
		t.Fatal(err)
	}
	if m := p.Ready().Messages[0].Msg; m.Type != MsgReject || m.Ballot != b {
		t.Fatalf("stale pre-commit answered %s", m)
	}
	// The promise survives a restart.
	p2, _ := NewParticipant(DefaultConfig(3), []txn.Record{
		{Kind: txn.RecordVote, Txn: 7, Coordinator: 1, Participants: three},
		{Kind: txn.RecordPromise, Txn: 7, Ballot: b},
	})
	_ = p2.Step(1, Message{Type: MsgPreCommit, Txn: 7, Ballot: coordinatorBallot(1), Participants: three})
	if m := p2.Ready().Messages[0].Msg; m.Type != MsgReject {
		t.Fatalf("after a restart the stale pre-commit got %s", m)
	}
	// A higher pre-commit is accepted and forced.
	_ = p2.Step(4, Message{Type: MsgPreCommit, Txn: 7, Ballot: txn.Ballot{Round: 2, Node: 4}, Participants: three})
	rd = p2.Ready()
	if !rd.MustSync || rd.Records[0].Kind != txn.RecordPreCommit || rd.Messages[0].Msg.Type != MsgPreCommitAck {
		t.Fatalf("pre-commit: %+v", rd)
	}
}

// A participant asked for its state before it voted aborts for good.
func TestUnvotedParticipantAbortsWhenAsked(t *testing.T) {
	p, _ := NewParticipant(DefaultConfig(3), nil)
	_ = p.Step(2, Message{Type: MsgStateRequest, Txn: 7, Ballot: txn.Ballot{Round: 1, Node: 2}, Participants: three})
	rd := p.Ready()
	if !rd.MustSync || rd.Records[0].Kind != txn.RecordDecision || rd.Messages[0].Msg.State != StateAborted {
		t.Fatalf("got %+v", rd)
	}
	_ = p.Step(1, Message{Type: MsgPrepare, Txn: 7, Participants: three})
	if rd := p.Ready(); len(rd.VoteRequests) != 0 {
		t.Fatalf("asked to vote on an aborted transaction: %+v", rd)
	}
	if err := p.Step(1, Message{Type: MsgDecision, Txn: 7, Outcome: txn.Commit}); !errors.Is(err, txn.ErrConflictingOutcome) {
		t.Fatalf("commit of an aborted transaction: %v", err)
	}
}

func TestConfigAndInput(t *testing.T) {
	for _, mod := range []func(*Config){
		func(c *Config) { c.ID = 0 },
		func(c *Config) { c.SuspectTicks = c.RetryTicks },
		func(c *Config) { c.RoundTicks = 0 },
		func(c *Config) { c.MaxParticipants = 0 },
	} {
		c := DefaultConfig(1)
		mod(&c)
		if _, err := NewParticipant(c, nil); !errors.Is(err, txn.ErrConfigInvalid) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	p, _ := NewParticipant(DefaultConfig(2), nil)
	for _, m := range []Message{
		{Type: MsgStateRequest, Txn: 7, Participants: three}, // zero ballot
		{Type: MsgState, Txn: 7, Ballot: txn.Ballot{Round: 1, Node: 2}},
		{Type: MsgPrepare, Txn: 7, Participants: []txn.NodeID{3, 4}},
		{Type: 99, Txn: 7},
	} {
		if err := p.Step(1, m); !errors.Is(err, txn.ErrInvalidMessage) {
			t.Errorf("%s: %v", m, err)
		}
	}
	bad := []txn.Record{{Kind: txn.RecordPromise, Txn: 7, Ballot: txn.Ballot{Round: 1, Node: 2}}}
	if _, err := NewParticipant(DefaultConfig(2), bad); !errors.Is(err, txn.ErrCorruptRecord) {
		t.Errorf("promise without a vote: %v", err)
	}
}

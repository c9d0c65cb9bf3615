package paxos

import (
	"errors"
	"testing"

	"github.com/cairndb/cairn/clock"
)

// bal builds a ballot at Lamport time t from node n (epoch 1).
func bal(t int64, n NodeID) Ballot {
	return Ballot{Time: clock.Timestamp{WallTime: t}, Epoch: 1, Node: n}
}

// prop builds a proposal of a fresh operation computed at ballot b on the
// commit of origin base.
func prop(b, base Ballot, v string) Proposal {
	return Proposal{Ballot: b, Origin: b, Base: base, Value: val(v)}
}

// committedAt returns s with c as its commit and the only recent link.
func committedAt(s AcceptorState, c Proposal) AcceptorState {
	s.Committed, s.Recent = c, []Link{{Origin: c.Origin, Base: c.Base}}
	return s
}

func step(t *testing.T, s AcceptorState, m Message) AcceptorOutput {
	t.Helper()
	out, err := StepAcceptor(s, m)
	if err != nil {
		t.Fatalf("%s: %v", m, err)
	}
	if err := out.State.Validate(); err != nil {
		t.Fatalf("%s: state after: %v", m, err)
	}
	return out
}

// Phase 1b: "If an acceptor receives a prepare request with number n
// greater than that of any prepare request to which it has already
// responded, then it responds with a promise not to accept any more
// proposals numbered less than n and with the highest-numbered proposal
// (if any) that it has accepted" (Paxos Made Simple, 2.2). Here the
// promise also carries the most recent commit.
func TestAcceptorPromiseCarriesState(t *testing.T) {
	committed := prop(bal(2, 1), Ballot{}, "a")
	accepted := prop(bal(4, 2), committed.Origin, "b")
	s := committedAt(AcceptorState{Promised: bal(4, 2), Accepted: accepted}, committed)
	out := step(t, s, Message{Type: MsgPrepare, Key: "k", Ballot: bal(5, 3)})
	if !out.Persist || !out.MustSync || out.State.Promised != bal(5, 3) {
		t.Fatalf("a new promise must be persisted and synced: %+v", out)
	}
	r := out.Reply
	if r.Type != MsgPromise || r.Ballot != bal(5, 3) || !r.Accepted.Equal(accepted) || !r.Committed.Equal(committed) || r.Key != "k" || len(r.Recent) != 1 {
		t.Fatalf("promise = %s", r)
	}
}

func TestAcceptorRefusesPrepareBelowPromiseOrCommit(t *testing.T) {
	s := committedAt(AcceptorState{Promised: bal(5, 1)}, prop(bal(3, 2), Ballot{}, "a"))
	out := step(t, s, Message{Type: MsgPrepare, Key: "k", Ballot: bal(4, 9)})
	if out.Reply.Type != MsgReject || out.Reply.Ballot != bal(4, 9) || out.Reply.Promised != bal(5, 1) || out.Persist {
		t.Fatalf("prepare below the promise: %+v", out)
	}
	// A commit the replica learned without promising its ballot also bars
	// older rounds.
	s = committedAt(AcceptorState{Promised: bal(2, 1)}, prop(bal(7, 2), Ballot{}, "a"))
	for _, b := range []Ballot{bal(6, 5), bal(7, 2)} {
		out := step(t, s, Message{Type: MsgPrepare, Key: "k", Ballot: b})
		if out.Reply.Type != MsgReject || out.Reply.Promised != bal(7, 2) {
			t.Fatalf("prepare %s under commit 7: %+v", b, out)
		}
	}
}

func TestAcceptorRepeatsPromiseWithoutPersisting(t *testing.T) {
	s := AcceptorState{Promised: bal(5, 1)}
	out := step(t, s, Message{Type: MsgPrepare, Key: "k", Ballot: bal(5, 1)})
	if out.Reply.Type != MsgPromise || out.Persist {
		t.Fatalf("duplicate prepare: %+v", out)
	}
}

// Phase 2b: "If an acceptor receives an accept request for a proposal
// numbered n, it accepts the proposal unless it has already responded to a
// prepare request having a number greater than n."
func TestAcceptorAcceptRules(t *testing.T) {
	s := AcceptorState{Promised: bal(5, 1)}
	if out := step(t, s, Message{Type: MsgAccept, Key: "k", Proposal: prop(bal(4, 2), Ballot{}, "x")}); out.Reply.Type != MsgReject || out.Persist {
		t.Fatalf("accept below the promise: %+v", out)
	}
	p := prop(bal(5, 1), Ballot{}, "x")
	out := step(t, s, Message{Type: MsgAccept, Key: "k", Proposal: p})
	if out.Reply.Type != MsgAccepted || out.Reply.Ballot != p.Ballot || !out.Persist || !out.MustSync || !out.State.Accepted.Equal(p) {
		t.Fatalf("accept at the promise: %+v", out)
	}
	// Above the promise: accepted, and the promise rises with it.
	q := prop(bal(9, 3), Ballot{}, "y")
	out = step(t, out.State, Message{Type: MsgAccept, Key: "k", Proposal: q})
	if out.Reply.Type != MsgAccepted || out.State.Promised != q.Ballot || !out.State.Accepted.Equal(q) {
		t.Fatalf("accept above the promise: %+v", out)
	}
	// A duplicate changes nothing.
	if dup := step(t, out.State, Message{Type: MsgAccept, Key: "k", Proposal: q}); dup.Persist || dup.Reply.Type != MsgAccepted {
		t.Fatalf("duplicate accept: %+v", dup)
	}
}

func TestAcceptorAcceptBelowCommitRefused(t *testing.T) {
	c := prop(bal(8, 2), Ballot{}, "c")
	s := committedAt(AcceptorState{Promised: bal(3, 1)}, c)
	if out := step(t, s, Message{Type: MsgAccept, Key: "k", Proposal: prop(bal(5, 1), Ballot{}, "x")}); out.Reply.Type != MsgReject || out.Reply.Promised != c.Ballot {
		t.Fatalf("accept below the commit: %+v", out)
	}
	// The committed ballot itself arriving late: no change, no answer
	// (the commit it would rest on is not synced).
	if out := step(t, s, Message{Type: MsgAccept, Key: "k", Proposal: c}); out.Reply.Type != 0 || out.Persist {
		t.Fatalf("late accept of the committed ballot: %+v", out)
	}
}

func TestAcceptorCommitRules(t *testing.T) {
	a := prop(bal(4, 1), Ballot{}, "a")
	s := AcceptorState{Promised: bal(6, 2), Accepted: a}
	// A commit at or above the proposal in progress clears it.
	c := prop(bal(5, 2), Ballot{}, "c")
	out := step(t, s, Message{Type: MsgCommit, Key: "k", Proposal: c})
	if !out.Persist || out.MustSync || out.Reply.Type != 0 || !out.State.Committed.Equal(c) || !out.State.Accepted.IsZero() {
		t.Fatalf("commit: %+v", out)
	}
	if out.State.Promised != bal(6, 2) {
		t.Fatal("a commit must not touch the promise")
	}
	if len(out.State.Recent) != 1 || out.State.Recent[0] != (Link{c.Origin, c.Base}) {
		t.Fatalf("recent links %v after the first commit", out.State.Recent)
	}
	// An older commit is ignored.
	if old := step(t, out.State, Message{Type: MsgCommit, Key: "k", Proposal: a}); old.Persist || !old.State.Committed.Equal(c) {
		t.Fatalf("older commit: %+v", old)
	}
	// A commit below the proposal in progress keeps it.
	s = AcceptorState{Promised: bal(9, 3), Accepted: prop(bal(9, 3), Ballot{}, "z")}
	out = step(t, s, Message{Type: MsgCommit, Key: "k", Proposal: c})
	if out.State.Accepted.IsZero() {
		t.Fatal("a newer proposal in progress was cleared by an older commit")
	}
}

func TestAcceptorRefusesWrongRoleAndMalformed(t *testing.T) {
	for _, m := range []Message{
		{Type: MsgPromise, Key: "k", Ballot: bal(1, 1)},
		{Type: MsgPrepare, Key: "k"},
		{Type: MsgAccept, Key: "k", Proposal: Proposal{Ballot: bal(2, 1)}},                                                     // no origin
		{Type: MsgAccept, Key: "k", Proposal: Proposal{Ballot: bal(2, 1), Origin: bal(3, 1)}},                                  // origin above ballot
		{Type: MsgCommit, Key: "k", Proposal: prop(bal(2, 1), bal(2, 1), "x")},                                                 // base not below origin
		{Type: MsgPrepare, Key: "k", Ballot: Ballot{Time: clock.Timestamp{WallTime: 1}, Node: 1}},                              // epoch 0
		{Type: MsgPrepare, Key: "k", Ballot: bal(1, 1), Promised: bal(1, 1)},                                                   // stray field
		{Type: MsgAccept, Key: "k", Proposal: Proposal{Ballot: bal(2, 1), Origin: bal(2, 1), Value: Value{Data: []byte("x")}}}, // absent with data
	} {
		if _, err := StepAcceptor(AcceptorState{}, m); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%+v: err = %v, want ErrInvalidMessage", m, err)
		}
	}
}

// The Recent links follow the chain of commits: a re-proposal of the same
// operation adds nothing, and only the last MaxRecent are kept.
func TestAcceptorRecentLinks(t *testing.T) {
	var s AcceptorState
	base := Ballot{}
	var want []Link
	for i := int64(1); i <= MaxRecent+2; i++ {
		c := prop(bal(10*i, 1), base, "v")
		s = step(t, s, Message{Type: MsgCommit, Key: "k", Proposal: c}).State
		again := c
		again.Ballot = bal(10*i+5, 2) // the same operation finished by another proposer
		s = step(t, s, Message{Type: MsgCommit, Key: "k", Proposal: again}).State
		want = append(want, Link{c.Origin, base})
		base = c.Origin
	}
	want = want[len(want)-MaxRecent:]
	if len(s.Recent) != MaxRecent {
		t.Fatalf("recent = %v, want %v", s.Recent, want)
	}
	for i := range want {
		if s.Recent[i] != want[i] {
			t.Fatalf("recent = %v, want %v", s.Recent, want)
		}
	}
}

package paxos

import (
	"fmt"
)

// AcceptorState is the durable Paxos state of one key at one replica.
//
// Invariants (Validate): every proposal is valid; Accepted.Ballot <=
// Promised; Accepted is zero or newer than Committed (a commit at or above
// the proposal in progress clears it, since it can no longer matter).
type AcceptorState struct {
	// Promised is the highest ballot promised: no Accept below it is
	// accepted and no Prepare below it is promised.
	Promised Ballot
	// Accepted is the proposal in progress: the last one accepted, if no
	// commit has overtaken it.
	Accepted Proposal
	// Committed is the most recent commit: the newest chosen proposal this
	// replica has learned. Its Value is the key's current value here.
	Committed Proposal
	// Recent links the last MaxRecent operations committed here, oldest
	// first, the last one Committed's (see MaxRecent).
	Recent []Link
}

// Validate reports the first broken invariant.
func (s AcceptorState) Validate() error {
	if err := s.Promised.validate(); err != nil {
		return fmt.Errorf("%w: promised: %v", ErrInvalidState, err)
	}
	if err := s.Accepted.validate(); err != nil {
		return fmt.Errorf("%w: accepted: %v", ErrInvalidState, err)
	}
	if err := s.Committed.validate(); err != nil {
		return fmt.Errorf("%w: committed: %v", ErrInvalidState, err)
	}
	switch {
	case s.Promised.Less(s.Accepted.Ballot):
		return fmt.Errorf("%w: accepted %s above the promise %s", ErrInvalidState, s.Accepted.Ballot, s.Promised)
	case !s.Accepted.IsZero() && !s.Committed.Ballot.Less(s.Accepted.Ballot):
		return fmt.Errorf("%w: in-progress %s not above the commit %s", ErrInvalidState, s.Accepted.Ballot, s.Committed.Ballot)
	}
	if err := validateLinks(s.Recent, s.Committed); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidState, err)
	}
	return nil
}

// barrier is the ballot below which nothing may be promised or accepted:
// the promise, or the commit if it is higher (a replica that learned a
// commit without promising its ballot refuses the older rounds too; they
// could only be stale).
func (s AcceptorState) barrier() Ballot { return maxBallot(s.Promised, s.Committed.Ballot) }

// AcceptorOutput is what StepAcceptor asks the driver to do, in order:
//
//  1. if Persist, write State as the key's acceptor state, replacing the
//     old one atomically, and, if MustSync, make it durable (fsync);
//  2. then, and only then, send Reply (if Reply.Type is not 0) to the
//     sender of the message.
//
// Step 1 before step 2 is the durability contract: a Promise or an
// Accepted states a fact ("I will not accept below b", "I accepted p") that
// must survive a crash of the replica, or two values could be chosen. A
// commit is written without MustSync: losing it loses nothing (the value
// is still accepted by a majority, and the next round repairs the replica).
// If the driver cannot persist, it must drop the reply and keep the old
// state.
type AcceptorOutput struct {
	State    AcceptorState
	Persist  bool
	MustSync bool
	Reply    Message
}

// StepAcceptor is the acceptor: it handles a Prepare, Accept or Commit for
// the key whose state is s, and returns the new state and the reply. It is
// a pure function of its inputs. The returned state may alias m's value
// bytes. It refuses messages of other types and malformed ones (it does not
// check Limits: see Message.Validate), and trusts s to be valid (a state
// from DecodeAcceptorState or from an earlier StepAcceptor is).
//
// The rules (Lamport, "Paxos Made Simple", 2001, with a most recent commit
// per key as in Cassandra's lightweight transactions):
//
//   - Prepare(b): refused if b is below the promise or not above the
//     commit; otherwise the promise becomes b and the reply carries the
//     proposal in progress and the most recent commit.
//   - Accept(p): refused if p.Ballot is below the promise or the commit;
//     otherwise p becomes the proposal in progress (and the promise, if
//     higher). An Accept of the committed ballot (a copy that arrives
//     after the commit) changes nothing and is not answered.
//   - Commit(p): if p is newer than the most recent commit it replaces it,
//     clears a proposal in progress that is not newer, and joins the
//     Recent links. Never answered.
func StepAcceptor(s AcceptorState, m Message) (AcceptorOutput, error) {
	if !m.Type.toAcceptor() {
		return AcceptorOutput{State: s}, fmt.Errorf("%w: an acceptor does not take %s", ErrInvalidMessage, m.Type)
	}
	if err := m.validateShape(); err != nil {
		return AcceptorOutput{State: s}, err
	}
	switch m.Type {
	case MsgPrepare:
		return prepare(s, m), nil
	case MsgAccept:
		return accept(s, m), nil
	default:
		return commit(s, m), nil
	}
}

func reject(s AcceptorState, m Message) AcceptorOutput {
	return AcceptorOutput{State: s, Reply: Message{Type: MsgReject, Key: m.Key, Ballot: m.Round(), Promised: s.barrier()}}
}

func prepare(s AcceptorState, m Message) AcceptorOutput {
	b := m.Ballot
	if b.Less(s.Promised) || !s.Committed.Ballot.Less(b) {
		return reject(s, m)
	}
	out := AcceptorOutput{State: s}
	if s.Promised != b { // b is above the promise: a new promise
		out.State.Promised = b
		out.Persist, out.MustSync = true, true
	}
	out.Reply = Message{Type: MsgPromise, Key: m.Key, Ballot: b, Accepted: s.Accepted, Committed: s.Committed, Recent: s.Recent}
	return out
}

func accept(s AcceptorState, m Message) AcceptorOutput {
	p := m.Proposal
	if p.Ballot.Less(s.barrier()) {
		return reject(s, m)
	}
	if p.Ballot == s.Committed.Ballot {
		// A late copy of an Accept whose proposal is already chosen and
		// committed here: its proposer has its majority. No answer, since
		// an Accepted would claim a fact that rests on the commit, which
		// is not synced.
		return AcceptorOutput{State: s}
	}
	out := AcceptorOutput{State: s, Reply: Message{Type: MsgAccepted, Key: m.Key, Ballot: p.Ballot}}
	if p.Equal(s.Accepted) {
		return out // a duplicate: already accepted, and persisted then
	}
	out.State.Promised = p.Ballot // p.Ballot >= barrier >= Promised
	out.State.Accepted = p
	out.Persist, out.MustSync = true, true
	return out
}

func commit(s AcceptorState, m Message) AcceptorOutput {
	p := m.Proposal
	out := AcceptorOutput{State: s}
	if !s.Committed.Ballot.Less(p.Ballot) {
		return out // not newer: already known, or overtaken
	}
	out.State.Committed = p
	if !p.Ballot.Less(s.Accepted.Ballot) {
		out.State.Accepted = Proposal{}
	}
	out.State.Recent = appendLink(s.Recent, Link{Origin: p.Origin, Base: p.Base})
	out.Persist = true
	return out
}

// appendLink returns recent with l added at the end (unless it is the last
// one already: a commit of the same operation under a higher ballot),
// keeping the last MaxRecent links. It never modifies recent's array,
// which a Promise or a stored state may share.
func appendLink(recent []Link, l Link) []Link {
	if n := len(recent); n > 0 && recent[n-1] == l {
		return recent
	}
	keep := recent
	if n := len(keep); n > 0 && !keep[n-1].Origin.Less(l.Origin) {
		// Out of chain order: only a broken replica elsewhere can cause it.
		// Restart the list rather than store an invalid one.
		keep = nil
	}
	if len(keep) >= MaxRecent {
		keep = keep[len(keep)-MaxRecent+1:]
	}
	out := make([]Link, 0, len(keep)+1)
	return append(append(out, keep...), l)
}

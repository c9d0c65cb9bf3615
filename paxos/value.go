package paxos

import (
	"bytes"
	"errors"
	"fmt"
)

// Value is the state of a key's register: absent, or present with Data
// (which may be empty) and an optional expiry deadline. An absent Value has
// no Data and no deadline.
//
// A present Value whose DeadlineMs is not 0 is expired for an operation
// whose Op.NowMs is at or after DeadlineMs (Expired): the operation sees the
// register as absent. The expired Value stays in the register, unchanged,
// until a write replaces it: expiry is judged by each operation, never
// applied by the acceptors (which have no clock).
type Value struct {
	Present bool
	Data    []byte
	// DeadlineMs is when the value expires, in Unix milliseconds of the
	// proposers' clocks; 0 means never. Only a present Value has one, and it
	// is never negative.
	DeadlineMs int64
}

// Equal reports whether v and w are the same state (the deadline included).
func (v Value) Equal(w Value) bool {
	return v.Present == w.Present && v.DeadlineMs == w.DeadlineMs && bytes.Equal(v.Data, w.Data)
}

// Expired reports whether v is present with a deadline at or before nowMs
// (Unix milliseconds): an operation at nowMs treats it as absent.
func (v Value) Expired(nowMs int64) bool {
	return v.Present && v.DeadlineMs != 0 && v.DeadlineMs <= nowMs
}

// AsOf returns v as an operation at nowMs sees it: the absent Value if v is
// expired then, v itself otherwise.
func (v Value) AsOf(nowMs int64) Value {
	if v.Expired(nowMs) {
		return Value{}
	}
	return v
}

// String formats v for traces: <absent>, or the first bytes quoted with
// the length, and the deadline if there is one.
func (v Value) String() string {
	if !v.Present {
		return "<absent>"
	}
	const show = 24
	s := fmt.Sprintf("%q", v.Data)
	if len(v.Data) > show {
		s = fmt.Sprintf("%q...(%dB)", v.Data[:show], len(v.Data))
	}
	if v.DeadlineMs != 0 {
		s += fmt.Sprintf("@%dms", v.DeadlineMs)
	}
	return s
}

func (v Value) validate() error {
	switch {
	case !v.Present && len(v.Data) > 0:
		return errors.New("absent value with data")
	case !v.Present && v.DeadlineMs != 0:
		return errors.New("absent value with a deadline")
	case v.DeadlineMs < 0:
		return fmt.Errorf("negative deadline %d", v.DeadlineMs)
	}
	return nil
}

// Proposal is a register state offered (or accepted, or committed) under a
// ballot, with its provenance. The provenance is what lets a proposer tell
// whether its own operation took effect, and lets a checker name the
// instance a proposal belongs to.
//
// Each committed state starts an instance (a slot): the operations computed
// on it compete for the slot, and at most one of them is chosen. An
// operation's value keeps its Origin and Base when another proposer
// re-proposes it under a higher ballot (finishing an in-progress round).
//
// Invariants (validate): a zero Ballot means the zero Proposal ("none", or
// the initial absent register); otherwise Origin is not zero, Origin <=
// Ballot, and Base < Origin.
type Proposal struct {
	// Ballot is the ballot the proposal is offered or accepted under.
	Ballot Ballot
	// Origin is the ballot under which the operation that produced Value
	// was computed: it names the operation.
	Origin Ballot
	// Base is the Origin of the committed proposal Value was computed
	// from: it names the instance. Zero for operations computed on the
	// initial, never written register.
	Base Ballot
	// Value is the register state the proposal installs.
	Value Value
}

// IsZero reports whether p is the zero Proposal.
func (p Proposal) IsZero() bool {
	return p.Ballot.IsZero() && p.Origin.IsZero() && p.Base.IsZero() && !p.Value.Present && len(p.Value.Data) == 0 && p.Value.DeadlineMs == 0
}

// Equal reports whether p and q are the same proposal.
func (p Proposal) Equal(q Proposal) bool {
	return p.Ballot == q.Ballot && p.Origin == q.Origin && p.Base == q.Base && p.Value.Equal(q.Value)
}

// String formats p for traces.
func (p Proposal) String() string {
	if p.IsZero() {
		return "-"
	}
	return fmt.Sprintf("(b=%s o=%s base=%s v=%s)", p.Ballot, p.Origin, p.Base, p.Value)
}

func (p Proposal) validate() error {
	if err := p.Value.validate(); err != nil {
		return err
	}
	for _, b := range []Ballot{p.Ballot, p.Origin, p.Base} {
		if err := b.validate(); err != nil {
			return err
		}
	}
	if p.Ballot.IsZero() {
		if !p.IsZero() {
			return errors.New("proposal without a ballot carries data")
		}
		return nil
	}
	switch {
	case p.Origin.IsZero():
		return fmt.Errorf("proposal %s has no origin", p)
	case p.Ballot.Less(p.Origin):
		return fmt.Errorf("proposal %s: origin above its ballot", p)
	case !p.Base.Less(p.Origin):
		return fmt.Errorf("proposal %s: base not below its origin", p)
	}
	return nil
}

// MaxRecent is how many links of the chain of committed operations an
// acceptor keeps (AcceptorState.Recent) and a Promise carries. A proposer
// whose write may have been accepted reads its fate from them when other
// operations overtook it: up to MaxRecent operations later, it can still
// tell "applied" from "not applied" instead of answering "unknown". Each
// link costs about 30 bytes in the state and in every Promise.
const MaxRecent = 4

// Link records one committed operation (Origin) and the operation whose
// committed state it was computed on (Base).
type Link struct {
	Origin, Base Ballot
}

// String formats l as origin<-base.
func (l Link) String() string { return fmt.Sprintf("%s<-%s", l.Origin, l.Base) }

// validateLinks checks a Recent list against the commit it ends with:
// at most MaxRecent links, origins strictly increasing (operations are
// committed in chain order), the last one the commit's, and none without
// a commit.
func validateLinks(links []Link, committed Proposal) error {
	if len(links) > MaxRecent {
		return fmt.Errorf("%d recent links, at most %d", len(links), MaxRecent)
	}
	for i, l := range links {
		if err := l.Origin.validate(); err != nil {
			return err
		}
		if err := l.Base.validate(); err != nil {
			return err
		}
		switch {
		case l.Origin.IsZero() || !l.Base.Less(l.Origin):
			return fmt.Errorf("recent link %s: base not below a non-zero origin", l)
		case i > 0 && !links[i-1].Origin.Less(l.Origin):
			return fmt.Errorf("recent links %s then %s: origins not increasing", links[i-1], l)
		}
	}
	switch {
	case committed.Ballot.IsZero() && len(links) > 0:
		return errors.New("recent links without a commit")
	case !committed.Ballot.IsZero() && (len(links) == 0 || links[len(links)-1] != (Link{committed.Origin, committed.Base})):
		return fmt.Errorf("recent links %v do not end with the commit %s", links, committed)
	}
	return nil
}

package paxos

import (
	"fmt"
	"math"

	"github.com/cairndb/cairn/clock"
)

// NodeID names a node: a replica (acceptor) or a coordinator (proposer).
// Zero is never a node.
type NodeID uint64

// Ballot orders proposals. Ballots are totally ordered by (Time, Epoch,
// Node); the zero Ballot is "none" and sorts before every real ballot.
//
// A proposer makes every ballot it uses unique: Node is its own ID, Epoch
// is its incarnation (Config.Epoch, which the driver bumps and persists at
// every start), and Time strictly increases within an incarnation. Without
// Epoch a proposer that restarts on a Lamport clock (which restarts at 0)
// or on a physical clock that stepped back could reuse a ballot it had
// already used with a different value, and two values would then be
// accepted under one ballot, which breaks Paxos.
type Ballot struct {
	// Time comes from the proposer's BallotClock (an HLC reading, or a
	// Lamport time in WallTime), raised above every ballot it has seen.
	Time clock.Timestamp
	// Epoch is the proposer's incarnation, >= 1.
	Epoch uint64
	// Node is the proposer's ID.
	Node NodeID
}

// maxBallotWall is the largest WallTime a valid ballot may carry: one
// below the maximum, so that a proposer can always make a ballot above
// any ballot it has seen.
const maxBallotWall = math.MaxInt64 - 1

// IsZero reports whether b is the zero ballot ("none").
func (b Ballot) IsZero() bool { return b == Ballot{} }

// Compare returns -1 if b sorts before c, +1 if after, 0 if equal.
func (b Ballot) Compare(c Ballot) int {
	if x := b.Time.Compare(c.Time); x != 0 {
		return x
	}
	switch {
	case b.Epoch < c.Epoch:
		return -1
	case b.Epoch > c.Epoch:
		return 1
	case b.Node < c.Node:
		return -1
	case b.Node > c.Node:
		return 1
	}
	return 0
}

// Less reports whether b sorts strictly before c.
func (b Ballot) Less(c Ballot) bool { return b.Compare(c) < 0 }

// String formats b as wall.logical/e<epoch>/n<node>, or "0" for none.
func (b Ballot) String() string {
	if b.IsZero() {
		return "0"
	}
	return fmt.Sprintf("%s/e%d/n%d", b.Time, b.Epoch, b.Node)
}

// validate checks that b is zero or a ballot a proposer could have made.
func (b Ballot) validate() error {
	if b.IsZero() {
		return nil
	}
	switch {
	case b.Node == 0:
		return fmt.Errorf("ballot %s has node 0", b)
	case b.Epoch == 0:
		return fmt.Errorf("ballot %s has epoch 0", b)
	case b.Time.IsZero():
		return fmt.Errorf("ballot %s has a zero time", b)
	case b.Time.WallTime > maxBallotWall:
		return fmt.Errorf("ballot %s is beyond the largest ballot time", b)
	}
	return nil
}

func maxBallot(a, b Ballot) Ballot {
	if a.Less(b) {
		return b
	}
	return a
}

// nextTime returns the smallest timestamp after t. t.WallTime must be at
// most maxBallotWall, which message validation guarantees for every time
// a proposer can see.
func nextTime(t clock.Timestamp) clock.Timestamp {
	if t.Logical < math.MaxUint32 {
		return clock.Timestamp{WallTime: t.WallTime, Logical: t.Logical + 1}
	}
	return clock.Timestamp{WallTime: t.WallTime + 1}
}

// BallotClock is where a proposer takes ballot times from. Now must return
// a time greater than every time it returned before; Witness is told the
// times of the ballots the proposer sees, so that a clock can move past
// them (the receive rule). The proposer raises Now's answer above every
// ballot it has seen in any case, so a clock that lags (a Lamport clock
// after a restart, an HLC that refused a remote time beyond its max offset)
// costs a rejected round, never safety.
//
// A BallotClock is called only from the proposer's goroutine; the adapters
// below wrap clocks that are safe for concurrent use anyway.
type BallotClock interface {
	Now() clock.Timestamp
	Witness(t clock.Timestamp)
}

// HLCBallots returns a BallotClock over a hybrid logical clock: ballots
// follow physical time, so a proposer that was away (restarted, paused)
// comes back with ballots near the others' and is not rejected for long.
// Witness ignores the HLC's max-offset refusals (the proposer's own floor
// covers them).
func HLCBallots(h *clock.HLC) BallotClock { return hlcBallots{h} }

type hlcBallots struct{ h *clock.HLC }

func (c hlcBallots) Now() clock.Timestamp { return c.h.Now() }

func (c hlcBallots) Witness(t clock.Timestamp) { _, _ = c.h.Update(t) }

// LamportBallots returns a BallotClock over a Lamport clock: the time is in
// WallTime, Logical is 0. A cluster must use one kind of ballot clock for
// all its proposers: Lamport times are tiny next to HLC wall times, so a
// Lamport proposer among HLC proposers would be rejected once and then
// follow their times through Witness.
func LamportBallots(l *clock.Lamport) BallotClock { return lamportBallots{l} }

type lamportBallots struct{ l *clock.Lamport }

func (c lamportBallots) Now() clock.Timestamp {
	return clock.Timestamp{WallTime: int64(min(uint64(c.l.Tick()), maxBallotWall))}
}

func (c lamportBallots) Witness(t clock.Timestamp) {
	if t.WallTime > 0 {
		c.l.Witness(clock.LamportTime(t.WallTime))
	}
}

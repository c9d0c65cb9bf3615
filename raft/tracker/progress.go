package tracker

import (
	"fmt"
	"strings"
)

// StateType is the replication state of a follower as seen by the leader.
type StateType uint8

const (
	// StateProbe: the leader does not know where the logs match. It sends one
	// append at a time (then pauses until a response or heartbeat) and
	// backs Next off on rejection.
	StateProbe StateType = iota + 1
	// StateReplicate: the logs match up to Match. The leader streams
	// appends optimistically, bounded by the in-flight window.
	StateReplicate
	// StateSnapshot: the follower needs entries the leader has compacted;
	// a snapshot is in flight and appends are paused until it is reported.
	StateSnapshot
)

// String returns the state's name.
func (s StateType) String() string {
	switch s {
	case StateProbe:
		return "StateProbe"
	case StateReplicate:
		return "StateReplicate"
	case StateSnapshot:
		return "StateSnapshot"
	}
	return fmt.Sprintf("StateType(%d)", uint8(s))
}

// Progress is the leader's view of one follower (or of itself).
//
// Invariant: Match < Next.
type Progress struct {
	// Match is the highest index known to match the leader's log.
	Match uint64
	// Next is the index of the next entry to send.
	Next uint64
	// State is the replication state.
	State StateType
	// SentCommit is the highest commit index sent to the follower.
	SentCommit uint64
	// PendingSnapshot is the index of the snapshot in flight (StateSnapshot).
	PendingSnapshot uint64
	// RecentActive is set when the follower was heard from since the last
	// check-quorum round.
	RecentActive bool
	// MsgAppFlowPaused is set in StateProbe once an append has been sent,
	// until the follower answers (or a heartbeat response arrives).
	MsgAppFlowPaused bool
	// Inflights is the window of unacknowledged appends (StateReplicate).
	Inflights *Inflights
	// IsLearner marks a non-voting member.
	IsLearner bool
}

// NewProgress returns a probing Progress with the given Next.
func NewProgress(next uint64, maxCount int, maxBytes uint64, learner bool) *Progress {
	return &Progress{Next: next, State: StateProbe, Inflights: NewInflights(maxCount, maxBytes), IsLearner: learner}
}

func (pr *Progress) resetState(s StateType) {
	pr.MsgAppFlowPaused = false
	pr.PendingSnapshot = 0
	pr.State = s
	pr.Inflights.Reset()
}

// BecomeProbe moves to StateProbe. After a snapshot, probing resumes after
// the snapshot's index.
func (pr *Progress) BecomeProbe() {
	if pr.State == StateSnapshot {
		snap := pr.PendingSnapshot
		pr.resetState(StateProbe)
		pr.Next = max(pr.Match+1, snap+1)
		return
	}
	pr.resetState(StateProbe)
	pr.Next = pr.Match + 1
}

// BecomeReplicate moves to StateReplicate with Next = Match+1.
func (pr *Progress) BecomeReplicate() {
	pr.resetState(StateReplicate)
	pr.Next = pr.Match + 1
}

// BecomeSnapshot moves to StateSnapshot with a snapshot at index snapi in flight.
func (pr *Progress) BecomeSnapshot(snapi uint64) {
	pr.resetState(StateSnapshot)
	pr.PendingSnapshot = snapi
}

// SentEntries updates the progress after an append carrying entries up to
// lastIndex (n entries, bytes of payload) was sent.
func (pr *Progress) SentEntries(n int, lastIndex, bytes uint64) {
	switch pr.State {
	case StateReplicate:
		if n > 0 {
			pr.Next = lastIndex + 1
			pr.Inflights.Add(lastIndex, bytes)
		}
	case StateProbe:
		pr.MsgAppFlowPaused = true
	default:
		panic(fmt.Sprintf("tracker: sending entries in %s", pr.State))
	}
}

// MaybeUpdate records that the follower's log matches up to n. It returns
// false if the acknowledgement is stale.
func (pr *Progress) MaybeUpdate(n uint64) bool {
	updated := false
	if pr.Match < n {
		pr.Match = n
		updated = true
		pr.MsgAppFlowPaused = false
	}
	pr.Next = max(pr.Next, n+1)
	return updated
}

// MaybeDecrTo handles a rejected append at index rejected, where the follower
// hints that its log may match up to matchHint. It returns false if the
// rejection is stale (it answers an append the leader no longer cares about).
func (pr *Progress) MaybeDecrTo(rejected, matchHint uint64) bool {
	if pr.State == StateReplicate {
		if rejected <= pr.Match {
			return false
		}
		pr.Next = pr.Match + 1
		return true
	}
	if pr.Next-1 != rejected {
		return false
	}
	pr.Next = max(min(rejected, matchHint+1), pr.Match+1)
	pr.MsgAppFlowPaused = false
	return true
}

// CanBumpCommit reports whether sending commit could advance the
// follower's commit index: it was not sent yet and the follower is known to
// hold (or is being sent) entries up to it.
func (pr *Progress) CanBumpCommit(commit uint64) bool {
	return pr.State != StateSnapshot && pr.SentCommit < min(commit, pr.Next-1)
}

// IsPaused reports whether the leader must not send appends now.
func (pr *Progress) IsPaused() bool {
	switch pr.State {
	case StateProbe:
		return pr.MsgAppFlowPaused
	case StateReplicate:
		return pr.Inflights.Full()
	}
	return true
}

// Clone returns a deep copy.
func (pr *Progress) Clone() *Progress {
	c := *pr
	c.Inflights = pr.Inflights.Clone()
	return &c
}

// String formats the progress for status output and golden files.
func (pr *Progress) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s match=%d next=%d", pr.State, pr.Match, pr.Next)
	if pr.IsLearner {
		b.WriteString(" learner")
	}
	if pr.IsPaused() {
		b.WriteString(" paused")
	}
	if pr.PendingSnapshot > 0 {
		fmt.Fprintf(&b, " pendingSnap=%d", pr.PendingSnapshot)
	}
	if !pr.RecentActive {
		b.WriteString(" inactive")
	}
	if n := pr.Inflights.Count(); n > 0 {
		fmt.Fprintf(&b, " inflight=%d", n)
		if pr.Inflights.Full() {
			b.WriteString("[full]")
		}
	}
	return b.String()
}

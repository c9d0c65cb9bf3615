package raftpb

import (
	"fmt"
	"slices"
)

// EntryType says how the application must interpret Entry.Data.
type EntryType uint8

const (
	// EntryNormal carries application data (possibly empty: a new leader
	// appends an empty normal entry to commit its term).
	EntryNormal EntryType = iota + 1
	// EntryConfChange carries an encoded ConfChange (see MarshalConfChange).
	EntryConfChange
)

// String returns the name of the entry type.
func (t EntryType) String() string {
	switch t {
	case EntryNormal:
		return "EntryNormal"
	case EntryConfChange:
		return "EntryConfChange"
	}
	return fmt.Sprintf("EntryType(%d)", uint8(t))
}

// Entry is one slot of the replicated log.
type Entry struct {
	// Term is the leader term in which the entry was created.
	Term uint64
	// Index is the position of the entry in the log, starting at 1.
	Index uint64
	// Type says how to interpret Data.
	Type EntryType
	// Data is the payload (application command or encoded ConfChange).
	Data []byte
}

// entryOverhead approximates the fixed bytes of an entry's encoding
// (term, index, type) so that empty entries still count against size limits.
const entryOverhead = 3 * 8

// Size is the approximate encoded size of e in bytes: the payload plus a fixed
// overhead. It is used for flow control and batching limits, not for framing.
func (e Entry) Size() uint64 { return uint64(len(e.Data)) + entryOverhead }

// PayloadSize is the size of the application payload only. It is what the
// uncommitted-size limit counts, so that empty entries never hit that limit.
func (e Entry) PayloadSize() uint64 { return uint64(len(e.Data)) }

// EntriesSize sums Size over ents.
func EntriesSize(ents []Entry) uint64 {
	var s uint64
	for _, e := range ents {
		s += e.Size()
	}
	return s
}

// PayloadsSize sums PayloadSize over ents.
func PayloadsSize(ents []Entry) uint64 {
	var s uint64
	for _, e := range ents {
		s += e.PayloadSize()
	}
	return s
}

// HardState is the state that must be on stable storage before the node
// answers any message that depends on it (paper figure 2, "Persistent state
// on all servers"; Commit is persisted so a restart need not replay from 0).
type HardState struct {
	// Term is the latest term the node has seen.
	Term uint64
	// Vote is the candidate voted for in Term, or 0 for none.
	Vote uint64
	// Commit is the highest log index known to be committed.
	Commit uint64
}

// IsEmpty reports whether h is the zero HardState.
func (h HardState) IsEmpty() bool { return h == HardState{} }

// String formats h for logs and golden files.
func (h HardState) String() string {
	return fmt.Sprintf("Term:%d Vote:%d Commit:%d", h.Term, h.Vote, h.Commit)
}

// ConfState is a Raft configuration: who votes and who only learns. During a
// joint configuration VotersOutgoing holds the old voters; a decision needs a
// majority of both Voters and VotersOutgoing.
type ConfState struct {
	// Voters are the voters of the incoming (or only) configuration.
	Voters []uint64
	// Learners receive the log but neither vote nor count for commit.
	Learners []uint64
	// VotersOutgoing are the voters of the outgoing configuration while
	// joint; empty otherwise.
	VotersOutgoing []uint64
	// LearnersNext are nodes that are voters in the outgoing configuration
	// and will become learners when the joint configuration is left.
	LearnersNext []uint64
	// AutoLeave asks the leader to propose leaving the joint configuration
	// as soon as entering it has been applied.
	AutoLeave bool
}

// Equivalent reports whether c and o describe the same configuration,
// ignoring the order of IDs. It returns a descriptive error otherwise.
func (c ConfState) Equivalent(o ConfState) error {
	a, b := c.sorted(), o.sorted()
	if slices.Equal(a.Voters, b.Voters) && slices.Equal(a.Learners, b.Learners) &&
		slices.Equal(a.VotersOutgoing, b.VotersOutgoing) && slices.Equal(a.LearnersNext, b.LearnersNext) &&
		a.AutoLeave == b.AutoLeave {
		return nil
	}
	return fmt.Errorf("raftpb: conf states differ: %s vs %s", a, b)
}

func (c ConfState) sorted() ConfState {
	s := func(ids []uint64) []uint64 {
		out := slices.Clone(ids)
		slices.Sort(out)
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return ConfState{Voters: s(c.Voters), Learners: s(c.Learners),
		VotersOutgoing: s(c.VotersOutgoing), LearnersNext: s(c.LearnersNext), AutoLeave: c.AutoLeave}
}

// String formats c with sorted IDs, e.g. "voters=(1 2 3)&&(1 2) learners=(4)".
func (c ConfState) String() string {
	c = c.sorted()
	s := "voters=" + fmtIDs(c.Voters)
	if len(c.VotersOutgoing) > 0 {
		s += "&&" + fmtIDs(c.VotersOutgoing)
	}
	if len(c.Learners) > 0 {
		s += " learners=" + fmtIDs(c.Learners)
	}
	if len(c.LearnersNext) > 0 {
		s += " learners_next=" + fmtIDs(c.LearnersNext)
	}
	if c.AutoLeave {
		s += " autoleave"
	}
	return s
}

func fmtIDs(ids []uint64) string {
	s := "("
	for i, id := range ids {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprint(id)
	}
	return s + ")"
}

// SnapshotMetadata says which prefix of the log a snapshot replaces.
type SnapshotMetadata struct {
	// Index is the index of the last entry the snapshot covers.
	Index uint64
	// Term is the term of that entry.
	Term uint64
	// ConfState is the configuration as of Index.
	ConfState ConfState
}

// Snapshot is the application state as of Metadata.Index.
type Snapshot struct {
	// Metadata locates the snapshot in the log.
	Metadata SnapshotMetadata
	// Data is the opaque application state.
	Data []byte
}

// IsEmpty reports whether s is the zero snapshot (Index 0).
func (s Snapshot) IsEmpty() bool { return s.Metadata.Index == 0 }

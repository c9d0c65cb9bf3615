package quorum

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// VoteResult is the outcome of counting votes.
type VoteResult uint8

const (
	// VotePending means the outcome depends on votes not yet received.
	VotePending VoteResult = iota + 1
	// VoteLost means a majority can no longer be reached.
	VoteLost
	// VoteWon means a majority voted yes.
	VoteWon
)

// String returns the result's name.
func (v VoteResult) String() string {
	switch v {
	case VotePending:
		return "VotePending"
	case VoteLost:
		return "VoteLost"
	case VoteWon:
		return "VoteWon"
	}
	return fmt.Sprintf("VoteResult(%d)", uint8(v))
}

// AckedIndexer reports the log index a voter has acknowledged, if any.
type AckedIndexer interface {
	AckedIndex(id uint64) (idx uint64, ok bool)
}

// MapAckIndexer is an AckedIndexer backed by a map.
type MapAckIndexer map[uint64]uint64

// AckedIndex implements AckedIndexer.
func (m MapAckIndexer) AckedIndex(id uint64) (uint64, bool) {
	idx, ok := m[id]
	return idx, ok
}

// MajorityConfig is a set of voters; a decision needs more than half of them.
type MajorityConfig map[uint64]struct{}

// NewMajorityConfig returns a configuration of the given voters.
func NewMajorityConfig(ids ...uint64) MajorityConfig {
	c := MajorityConfig{}
	for _, id := range ids {
		c[id] = struct{}{}
	}
	return c
}

// Slice returns the voters in ascending order.
func (c MajorityConfig) Slice() []uint64 {
	ids := make([]uint64, 0, len(c))
	for id := range c {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// String formats the voters as "(1 2 3)".
func (c MajorityConfig) String() string {
	var b strings.Builder
	b.WriteByte('(')
	for i, id := range c.Slice() {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprint(&b, id)
	}
	b.WriteByte(')')
	return b.String()
}

// CommittedIndex returns the largest index acknowledged by a majority of
// the voters. Voters without an acknowledgement count as index 0. An empty
// configuration returns math.MaxUint64.
func (c MajorityConfig) CommittedIndex(l AckedIndexer) uint64 {
	n := len(c)
	if n == 0 {
		return math.MaxUint64
	}
	var stack [7]uint64
	var srt []uint64
	if n <= len(stack) {
		srt = stack[:n]
	} else {
		srt = make([]uint64, n)
	}
	i := 0
	for id := range c {
		if idx, ok := l.AckedIndex(id); ok {
			srt[i] = idx
		} else {
			srt[i] = 0
		}
		i++
	}
	// Insertion sort: n is small and this avoids an allocation.
	for i := 1; i < n; i++ {
		for j := i; j > 0 && srt[j-1] > srt[j]; j-- {
			srt[j-1], srt[j] = srt[j], srt[j-1]
		}
	}
	// Ascending order: the element at n - (n/2 + 1) is held by a majority.
	return srt[n-(n/2+1)]
}

// VoteResult counts votes (true = granted) of the voters. Votes from
// non-voters are ignored. An empty configuration wins.
func (c MajorityConfig) VoteResult(votes map[uint64]bool) VoteResult {
	if len(c) == 0 {
		return VoteWon
	}
	var yes, missing int
	for id := range c {
		v, ok := votes[id]
		switch {
		case !ok:
			missing++
		case v:
			yes++
		}
	}
	q := len(c)/2 + 1
	switch {
	case yes >= q:
		return VoteWon
	case yes+missing >= q:
		return VotePending
	}
	return VoteLost
}

// JointConfig is an incoming and an outgoing majority configuration; a
// decision needs both. Outside of joint consensus the outgoing half is empty.
type JointConfig [2]MajorityConfig

// IDs returns the union of both halves' voters in ascending order.
func (c JointConfig) IDs() []uint64 {
	set := MajorityConfig{}
	for _, half := range c {
		for id := range half {
			set[id] = struct{}{}
		}
	}
	return set.Slice()
}

// Contains reports whether id is a voter in either half.
func (c JointConfig) Contains(id uint64) bool {
	_, a := c[0][id]
	_, b := c[1][id]
	return a || b
}

// String formats c as "(1 2 3)&&(1 2)" or "(1 2 3)" when not joint.
func (c JointConfig) String() string {
	if len(c[1]) > 0 {
		return c[0].String() + "&&" + c[1].String()
	}
	return c[0].String()
}

// CommittedIndex returns the largest index committed in both halves.
func (c JointConfig) CommittedIndex(l AckedIndexer) uint64 {
	return min(c[0].CommittedIndex(l), c[1].CommittedIndex(l))
}

// VoteResult combines both halves: won only if both won, lost if either lost.
func (c JointConfig) VoteResult(votes map[uint64]bool) VoteResult {
	r0, r1 := c[0].VoteResult(votes), c[1].VoteResult(votes)
	switch {
	case r0 == r1:
		return r0
	case r0 == VoteLost || r1 == VoteLost:
		return VoteLost
	}
	return VotePending
}

package quorum

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// refCommitted is the obvious reference: sort acked indexes of the voters
// descending and take the one at position n/2.
func refCommitted(c MajorityConfig, acked map[uint64]uint64) uint64 {
	if len(c) == 0 {
		return math.MaxUint64
	}
	var idx []uint64
	for id := range c {
		idx = append(idx, acked[id])
	}
	slices.Sort(idx)
	slices.Reverse(idx)
	return idx[len(idx)/2]
}

// refVote enumerates: won if yes > n/2, lost if yes+missing <= n/2.
func refVote(c MajorityConfig, votes map[uint64]bool) VoteResult {
	if len(c) == 0 {
		return VoteWon
	}
	yes, no := 0, 0
	for id := range c {
		if v, ok := votes[id]; ok {
			if v {
				yes++
			} else {
				no++
			}
		}
	}
	if 2*yes > len(c) {
		return VoteWon
	}
	if 2*(len(c)-no) <= len(c) {
		return VoteLost
	}
	return VotePending
}

func genConfig(t *rapid.T, label string) MajorityConfig {
	ids := rapid.SliceOfNDistinct(rapid.Uint64Range(1, 12), 0, 9, rapid.ID[uint64]).Draw(t, label)
	return NewMajorityConfig(ids...)
}

func TestCommittedIndexMatchesReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genConfig(t, "voters")
		acked := rapid.MapOf(rapid.Uint64Range(1, 12), rapid.Uint64Range(0, 20)).Draw(t, "acked")
		if got, want := c.CommittedIndex(MapAckIndexer(acked)), refCommitted(c, acked); got != want {
			t.Fatalf("CommittedIndex(%v, %v) = %d, want %d", c, acked, got, want)
		}
		out := genConfig(t, "outgoing")
		j := JointConfig{c, out}
		if got, want := j.CommittedIndex(MapAckIndexer(acked)), min(refCommitted(c, acked), refCommitted(out, acked)); got != want {
			t.Fatalf("joint CommittedIndex(%v, %v) = %d, want %d", j, acked, got, want)
		}
	})
}

func TestVoteResultMatchesReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genConfig(t, "voters")
		votes := rapid.MapOf(rapid.Uint64Range(1, 12), rapid.Bool()).Draw(t, "votes")
		if got, want := c.VoteResult(votes), refVote(c, votes); got != want {
			t.Fatalf("VoteResult(%v, %v) = %s, want %s", c, votes, got, want)
		}
		out := genConfig(t, "outgoing")
		r0, r1 := refVote(c, votes), refVote(out, votes)
		want := VotePending
		if r0 == VoteWon && r1 == VoteWon {
			want = VoteWon
		} else if r0 == VoteLost || r1 == VoteLost {
			want = VoteLost
		}
		if got := (JointConfig{c, out}).VoteResult(votes); got != want {
			t.Fatalf("joint VoteResult = %s, want %s", got, want)
		}
	})
}

func TestCommittedIndexExamples(t *testing.T) {
	c := NewMajorityConfig(1, 2, 3)
	if got := c.CommittedIndex(MapAckIndexer{1: 5, 2: 3}); got != 3 {
		t.Fatalf("got %d want 3", got)
	}
	if got := c.CommittedIndex(MapAckIndexer{1: 5}); got != 0 {
		t.Fatalf("one ack of three commits nothing, got %d", got)
	}
	j := JointConfig{NewMajorityConfig(1, 2, 3), NewMajorityConfig(4, 5)}
	if got := j.CommittedIndex(MapAckIndexer{1: 5, 2: 5, 4: 5}); got != 0 {
		t.Fatalf("joint needs both halves, got %d", got)
	}
	if j.String() != "(1 2 3)&&(4 5)" {
		t.Fatalf("String = %s", j)
	}
}

func BenchmarkCommittedIndex(b *testing.B) {
	for _, n := range []int{3, 5, 7, 9} {
		c := MajorityConfig{}
		acked := MapAckIndexer{}
		for i := 1; i <= n; i++ {
			c[uint64(i)] = struct{}{}
			acked[uint64(i)] = uint64(i * 10)
		}
		b.Run(fmt.Sprintf("voters=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = c.CommittedIndex(acked)
			}
		})
	}
}

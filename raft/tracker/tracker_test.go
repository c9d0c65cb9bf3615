package tracker

import (
	"testing"

	"github.com/cairndb/cairn/raft/quorum"
)

func TestInflightsCountLimit(t *testing.T) {
	in := NewInflights(3, 1<<20)
	for i := uint64(1); i <= 3; i++ {
		if in.Full() {
			t.Fatalf("full after %d", i-1)
		}
		in.Add(i*10, 1)
	}
	if !in.Full() || in.Count() != 3 {
		t.Fatalf("want full with 3, got full=%v count=%d", in.Full(), in.Count())
	}
	in.FreeLE(15)
	if in.Full() || in.Count() != 2 {
		t.Fatalf("after FreeLE(15): full=%v count=%d", in.Full(), in.Count())
	}
	in.Add(40, 1) // wraps around the ring
	in.FreeLE(30)
	if in.Count() != 1 || in.Bytes() != 1 {
		t.Fatalf("count=%d bytes=%d", in.Count(), in.Bytes())
	}
	in.FreeFirstOne()
	if in.Count() != 0 {
		t.Fatalf("count=%d", in.Count())
	}
}

func TestInflightsBytesLimit(t *testing.T) {
	in := NewInflights(100, 1000)
	in.Add(1, 600)
	if in.Full() {
		t.Fatal("600 of 1000 bytes is not full")
	}
	in.Add(2, 400)
	if !in.Full() {
		t.Fatal("1000 of 1000 bytes is full")
	}
	in.FreeLE(1)
	if in.Full() || in.Bytes() != 400 {
		t.Fatalf("bytes=%d full=%v", in.Bytes(), in.Full())
	}
}

func TestInflightsRejectsMisuse(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Fatalf("%s: no panic", name)
			}
		}()
		f()
	}
	mustPanic("zero limits", func() { NewInflights(0, 1) })
	mustPanic("non-increasing", func() {
		in := NewInflights(4, 100)
		in.Add(5, 1)
		in.Add(5, 1)
	})
	mustPanic("full", func() {
		in := NewInflights(1, 100)
		in.Add(1, 1)
		in.Add(2, 1)
	})
}

func TestProgressProbeBacktracking(t *testing.T) {
	pr := NewProgress(11, 4, 1000, false)
	pr.SentEntries(1, 11, 10)
	if !pr.IsPaused() {
		t.Fatal("probe must pause after a send")
	}
	// Stale rejection (for index 5, not the probed 10) is ignored.
	if pr.MaybeDecrTo(5, 3) {
		t.Fatal("stale rejection accepted")
	}
	// The follower hints it matches up to 4: jump straight there.
	if !pr.MaybeDecrTo(10, 4) || pr.Next != 5 || pr.IsPaused() {
		t.Fatalf("after rejection: next=%d paused=%v", pr.Next, pr.IsPaused())
	}
	if !pr.MaybeUpdate(7) || pr.Match != 7 || pr.Next != 8 {
		t.Fatalf("after ack: %s", pr)
	}
	pr.BecomeReplicate()
	pr.SentEntries(3, 10, 30)
	pr.SentEntries(2, 12, 20)
	if pr.Next != 13 || pr.Inflights.Count() != 2 {
		t.Fatalf("replicate: %s", pr)
	}
	if pr.MaybeDecrTo(7, 0) {
		t.Fatal("rejection at or below match must be stale in replicate")
	}
	if !pr.MaybeDecrTo(11, 0) || pr.Next != 8 {
		t.Fatalf("replicate rejection must fall back to match+1: %s", pr)
	}
}

func TestProgressSnapshotThenProbe(t *testing.T) {
	pr := NewProgress(3, 4, 1000, false)
	pr.Match = 2
	pr.BecomeSnapshot(20)
	if !pr.IsPaused() {
		t.Fatal("snapshot state must pause appends")
	}
	pr.BecomeProbe()
	if pr.Next != 21 {
		t.Fatalf("after snapshot, probe from 21, got %d", pr.Next)
	}
}

func TestTrackerVisitSortedAndCommitted(t *testing.T) {
	p := NewProgressTracker(4, 1000)
	prs := ProgressMap{}
	for _, id := range []uint64{5, 1, 3, 4} {
		prs[id] = NewProgress(1, 4, 1000, id == 4)
	}
	p.SetConfig(Config{Voters: quorum.JointConfig{quorum.NewMajorityConfig(1, 3, 5), nil}, Learners: map[uint64]struct{}{4: {}}}, prs)
	var seen []uint64
	p.Visit(func(id uint64, _ *Progress) { seen = append(seen, id) })
	if len(seen) != 4 || seen[0] != 1 || seen[1] != 3 || seen[2] != 4 || seen[3] != 5 {
		t.Fatalf("visit order %v", seen)
	}
	prs[1].Match, prs[3].Match, prs[4].Match, prs[5].Match = 9, 7, 100, 1
	if got := p.Committed(); got != 7 {
		t.Fatalf("committed %d, want 7 (learner 4 must not count)", got)
	}
	p.RecordVote(1, true)
	p.RecordVote(4, true) // learner
	p.RecordVote(3, false)
	if g, r, res := p.TallyVotes(); g != 1 || r != 1 || res != quorum.VotePending {
		t.Fatalf("tally %d %d %s", g, r, res)
	}
	p.RecordVote(5, true)
	if _, _, res := p.TallyVotes(); res != quorum.VoteWon {
		t.Fatalf("result %s", res)
	}
	prs[1].RecentActive, prs[4].RecentActive = true, true
	if p.QuorumActive() {
		t.Fatal("one voter plus a learner is not a quorum")
	}
	prs[5].RecentActive = true
	if !p.QuorumActive() {
		t.Fatal("two of three voters is a quorum")
	}
}

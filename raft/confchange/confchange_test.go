package confchange

import (
	"testing"

	"github.com/cairndb/cairn/raft/raftpb"
	"github.com/cairndb/cairn/raft/tracker"
)

func v(id uint64) raftpb.ConfChangeSingle {
	return raftpb.ConfChangeSingle{Type: raftpb.ConfChangeAddNode, NodeID: id}
}
func l(id uint64) raftpb.ConfChangeSingle {
	return raftpb.ConfChangeSingle{Type: raftpb.ConfChangeAddLearnerNode, NodeID: id}
}
func r(id uint64) raftpb.ConfChangeSingle {
	return raftpb.ConfChangeSingle{Type: raftpb.ConfChangeRemoveNode, NodeID: id}
}

func install(t *testing.T, trk *tracker.ProgressTracker, cfg tracker.Config, prs tracker.ProgressMap, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	trk.SetConfig(cfg, prs)
}

func TestSimpleOneVoterAtATime(t *testing.T) {
	trk := tracker.NewProgressTracker(4, 1000)
	c := Changer{Tracker: trk, LastIndex: 10}
	cfg, prs, err := c.Simple(v(1))
	install(t, &trk, cfg, prs, err)
	c.Tracker = trk
	cfg, prs, err = c.Simple(v(2), l(3), l(4))
	install(t, &trk, cfg, prs, err)
	if got := trk.ConfState().String(); got != "voters=(1 2) learners=(3 4)" {
		t.Fatalf("got %s", got)
	}
	c.Tracker = trk
	if _, _, err := c.Simple(v(3), v(4)); err == nil {
		t.Fatal("promoting two learners at once must need joint consensus")
	}
	// Promote one learner.
	cfg, prs, err = c.Simple(v(3))
	install(t, &trk, cfg, prs, err)
	if got := trk.ConfState().String(); got != "voters=(1 2 3) learners=(4)" {
		t.Fatalf("got %s", got)
	}
	c.Tracker = trk
	if _, _, err := c.Simple(r(1), r(2), r(3)); err == nil {
		t.Fatal("removing all voters must fail")
	}
}

func TestJointDemoteAndLeave(t *testing.T) {
	trk := tracker.NewProgressTracker(4, 1000)
	cfg, prs, err := Restore(raftpb.ConfState{Voters: []uint64{1, 2, 3}}, 5, 4, 1000)
	install(t, &trk, cfg, prs, err)
	c := Changer{Tracker: trk, LastIndex: 5}
	cfg, prs, err = c.EnterJoint(true, l(3), v(4), r(2))
	install(t, &trk, cfg, prs, err)
	if got := trk.ConfState().String(); got != "voters=(1 4)&&(1 2 3) learners_next=(3) autoleave" {
		t.Fatalf("joint: %s", got)
	}
	c.Tracker = trk
	if _, _, err := c.EnterJoint(false, v(5)); err == nil {
		t.Fatal("entering joint twice must fail")
	}
	if _, _, err := c.Simple(v(5)); err == nil {
		t.Fatal("simple change while joint must fail")
	}
	cfg, prs, err = c.LeaveJoint()
	install(t, &trk, cfg, prs, err)
	if got := trk.ConfState().String(); got != "voters=(1 4) learners=(3)" {
		t.Fatalf("left joint: %s", got)
	}
	if _, ok := trk.Progress[2]; ok {
		t.Fatal("removed node 2 still tracked")
	}
	if !trk.Progress[3].IsLearner {
		t.Fatal("3 must be a learner")
	}
	c.Tracker = trk
	if _, _, err := c.LeaveJoint(); err == nil {
		t.Fatal("leaving joint when not joint must fail")
	}
}

func TestRestoreRoundTrip(t *testing.T) {
	for _, cs := range []raftpb.ConfState{
		{Voters: []uint64{1}},
		{Voters: []uint64{1, 2, 3}, Learners: []uint64{4}},
		{Voters: []uint64{1, 4}, VotersOutgoing: []uint64{1, 2, 3}, LearnersNext: []uint64{3}, AutoLeave: true},
	} {
		trk := tracker.NewProgressTracker(4, 1000)
		cfg, prs, err := Restore(cs, 1, 4, 1000)
		install(t, &trk, cfg, prs, err)
		if err := trk.ConfState().Equivalent(cs); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := Restore(raftpb.ConfState{Voters: []uint64{1}, Learners: []uint64{1}}, 1, 4, 1000); err == nil {
		t.Fatal("voter and learner at once must be rejected")
	}
}

package raft

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	pb "github.com/cairndb/cairn/raft/raftpb"
	"github.com/cairndb/cairn/raft/tracker"
)

// End-to-end tests of the features beyond the basic paper rules, on the
// in-memory network of harness_test.go.

// A partitioned node that rejoins does not disrupt the leader when pre-vote
// is on (thesis §9.6); without pre-vote it does (so the test can fail).
func TestPreVotePartitionedNodeDoesNotDisrupt(t *testing.T) {
	for _, preVote := range []bool{true, false} {
		var opts []netOption
		if preVote {
			opts = append(opts, withPreVote)
		}
		nw := newNetwork(t, 3, opts...)
		nw.campaign(1)
		term := nw.node(1).raft().Term
		nw.isolate(3)
		for range 5 * nw.node(3).cfg.ElectionTick {
			nw.tick(3)
			nw.stabilize()
		}
		nw.heal()
		nw.tickAll(1)
		disrupted := nw.leader() != 1 || nw.node(1).raft().Term != term
		if preVote && disrupted {
			t.Fatalf("pre-vote: leader disrupted\n%s", nw)
		}
		if !preVote && !disrupted {
			t.Fatalf("without pre-vote the rejoining node should disrupt\n%s", nw)
		}
		if preVote && nw.node(3).raft().state != StateFollower {
			t.Fatalf("node 3 did not rejoin as follower\n%s", nw)
		}
	}
}

// A leader that cannot hear from a quorum steps down within an election
// timeout (check-quorum), and the majority side elects a new leader.
func TestCheckQuorumLeaderStepsDown(t *testing.T) {
	nw := newNetwork(t, 3, withCheckQuorum, withPreVote)
	nw.campaign(1)
	nw.isolate(1)
	for range 2*nw.node(1).cfg.ElectionTick + 1 {
		nw.tickAll(1)
	}
	if st := nw.node(1).raft().state; st == StateLeader {
		t.Fatalf("isolated leader did not step down\n%s", nw)
	}
	for i := 0; i < 10*nw.node(1).cfg.ElectionTick && nw.leader() == 0; i++ {
		nw.tickAll(1)
	}
	if l := nw.leader(); l != 2 && l != 3 {
		t.Fatalf("majority did not elect a new leader\n%s", nw)
	}
	// Without check-quorum the isolated leader would stay leader forever.
	nw = newNetwork(t, 3)
	nw.campaign(1)
	nw.isolate(1)
	for range 3 * nw.node(1).cfg.ElectionTick {
		nw.tick(1)
		nw.stabilize()
	}
	if nw.node(1).raft().state != StateLeader {
		t.Fatal("without check-quorum the leader should not step down")
	}
}

// With check-quorum, followers that hear from a leader ignore vote requests
// from a node that was partitioned and raised its term (thesis §4.2.3).
func TestCheckQuorumFollowersIgnoreDisruptiveVotes(t *testing.T) {
	nw := newNetwork(t, 3, withCheckQuorum)
	nw.campaign(1)
	term := nw.node(1).raft().Term
	nw.isolate(3)
	nw.campaign(3) // term+1, no one hears it
	nw.heal()
	nw.campaign(3) // term+2: 1 and 2 heard from leader 1 recently
	if nw.leader() != 1 || nw.node(1).raft().Term != term {
		t.Fatalf("leader disrupted\n%s", nw)
	}
}

func TestReadIndex(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.campaign(1)
	_ = nw.propose(1, "a")
	commit := nw.node(1).raft().raftLog.committed
	// On the leader.
	if err := nw.node(1).rn.ReadIndex([]byte("r1")); err != nil {
		t.Fatal(err)
	}
	hb := nw.sent[pb.MsgHeartbeat]
	nw.stabilize()
	if nw.sent[pb.MsgHeartbeat] == hb {
		t.Fatal("safe read index must confirm leadership with heartbeats")
	}
	rs := nw.node(1).readStates
	if len(rs) != 1 || rs[0].Index != commit || string(rs[0].RequestCtx) != "r1" {
		t.Fatalf("leader read states %v, want index %d", rs, commit)
	}
	// On a follower: forwarded to the leader and answered back.
	if err := nw.node(2).rn.ReadIndex([]byte("r2")); err != nil {
		t.Fatal(err)
	}
	nw.stabilize()
	rs = nw.node(2).readStates
	if len(rs) != 1 || rs[0].Index != commit || string(rs[0].RequestCtx) != "r2" {
		t.Fatalf("follower read states %v", rs)
	}
	// A leader cut off from the quorum cannot confirm a read.
	nw.isolate(1)
	_ = nw.node(1).rn.ReadIndex([]byte("r3"))
	nw.stabilize()
	if len(nw.node(1).readStates) != 1 {
		t.Fatalf("isolated leader served a read: %v", nw.node(1).readStates)
	}
	// A follower without a leader refuses at once.
	n := newNetwork(t, 3)
	if err := n.node(2).rn.ReadIndex([]byte("x")); !errors.Is(err, ErrNoLeader) || !errors.Is(err, ErrProposalDropped) {
		t.Fatalf("read without leader: %v", err)
	}
}

// A new leader answers reads only after committing an entry of its term.
func TestReadIndexWaitsForCurrentTermCommit(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.campaign(1)
	// Elect 2, but hold back appends so its empty entry is not committed.
	nw.filter = func(m pb.Message) bool { return m.Type != pb.MsgApp }
	nw.campaign(2)
	_ = nw.node(2).rn.ReadIndex([]byte("r"))
	nw.stabilize()
	if len(nw.node(2).readStates) != 0 {
		t.Fatal("read served before the leader committed in its term")
	}
	nw.filter = nil
	nw.tickAll(2)
	if rs := nw.node(2).readStates; len(rs) != 1 || rs[0].Index != nw.node(2).raft().raftLog.committed {
		t.Fatalf("read states %v", rs)
	}
}

func withLease(c *Config) {
	c.CheckQuorum = true
	c.ReadOnlyOption = ReadOnlyLeaseBased
}

func TestLeaseRead(t *testing.T) {
	nw := newNetwork(t, 3, withLease)
	nw.campaign(1)
	nw.tickAll(1) // a heartbeat round acknowledged by everyone
	hb := nw.sent[pb.MsgHeartbeat]
	_ = nw.node(1).rn.ReadIndex([]byte("lease"))
	nw.stabilize()
	if nw.sent[pb.MsgHeartbeat] != hb {
		t.Fatal("lease read sent heartbeats")
	}
	if rs := nw.node(1).readStates; len(rs) != 1 || rs[0].Index != nw.node(1).raft().raftLog.committed {
		t.Fatalf("lease read states %v", rs)
	}
	// Isolated: the lease runs out after ElectionTick-2-drift ticks; after
	// that reads need (and here cannot get) a quorum.
	nw.isolate(1)
	lease := nw.node(1).raft().leaseTicks
	for range lease {
		nw.tick(1)
		nw.stabilize()
	}
	_ = nw.node(1).rn.ReadIndex([]byte("still"))
	nw.stabilize()
	if len(nw.node(1).readStates) != 2 {
		t.Fatalf("read within the lease was refused: %v", nw.node(1).readStates)
	}
	nw.tick(1)
	nw.stabilize()
	_ = nw.node(1).rn.ReadIndex([]byte("expired"))
	nw.stabilize()
	if len(nw.node(1).readStates) != 2 {
		t.Fatalf("read served after the lease expired: %v", nw.node(1).readStates)
	}
	// The lease ends before any follower could vote for a new leader: a
	// follower's election timer (at least ElectionTick) is longer.
	if lease >= nw.node(2).cfg.ElectionTick-1 {
		t.Fatalf("lease %d not shorter than the election timeout", lease)
	}
}

func TestLeaseRequiresCheckQuorum(t *testing.T) {
	c := testConfig(1, bootstrapped([]uint64{1}), 1)
	c.ReadOnlyOption = ReadOnlyLeaseBased
	c.CheckQuorum = false
	if err := c.Validate(); !errors.Is(err, ErrConfigInvalid) {
		t.Fatalf("lease without check-quorum accepted: %v", err)
	}
	c.CheckQuorum = true
	c.LeaseDriftTicks = c.ElectionTick
	if err := c.Validate(); err == nil {
		t.Fatal("drift allowance eating the whole lease accepted")
	}
}

func TestLeadershipTransfer(t *testing.T) {
	nw := newNetwork(t, 3, withCheckQuorum, withPreVote)
	nw.campaign(1)
	_ = nw.propose(1, "a")
	if err := nw.node(1).rn.TransferLeader(2); err != nil {
		t.Fatal(err)
	}
	nw.stabilize()
	if nw.leader() != 2 {
		t.Fatalf("transfer to 2 failed\n%s", nw)
	}
	if nw.sent[pb.MsgTimeoutNow] != 1 {
		t.Fatalf("MsgTimeoutNow sent %d times", nw.sent[pb.MsgTimeoutNow])
	}
	// Transfer to a lagging follower: the leader first catches it up.
	nw.isolate(3)
	_ = nw.propose(2, "b")
	_ = nw.propose(2, "c")
	nw.heal()
	nw.filter = func(m pb.Message) bool { return m.To != 3 || m.Type != pb.MsgApp }
	_ = nw.node(2).rn.TransferLeader(3)
	nw.stabilize()
	if err := nw.node(2).rn.Propose([]byte("d")); !errors.Is(err, ErrTransferring) {
		t.Fatalf("proposal during transfer: %v", err)
	}
	nw.filter = nil
	nw.tickAll(1)
	if nw.leader() != 3 {
		t.Fatalf("transfer to lagging 3 failed\n%s", nw)
	}
	nw.checkLogsAgree()
	// A transfer that cannot finish is abandoned after an election timeout.
	nw.isolate(1)
	_ = nw.node(3).rn.TransferLeader(1)
	nw.stabilize()
	for range nw.node(3).cfg.ElectionTick {
		nw.tick(3)
		nw.stabilize()
	}
	if err := nw.node(3).rn.Propose([]byte("e")); err != nil {
		t.Fatalf("transfer not abandoned: %v", err)
	}
}

func TestSnapshotToLaggingFollower(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.campaign(1)
	nw.isolate(3)
	for i := range 20 {
		_ = nw.propose(1, fmt.Sprintf("e%d", i))
	}
	leader := nw.node(1)
	if _, err := leader.storage.CreateSnapshot(leader.appliedIndex, &leader.cs, []byte("state")); err != nil {
		t.Fatal(err)
	}
	if err := leader.storage.Compact(leader.appliedIndex); err != nil {
		t.Fatal(err)
	}
	nw.heal()
	nw.tickAll(2)
	f := nw.node(3)
	if f.snapshots != 1 {
		t.Fatalf("follower installed %d snapshots\n%s", f.snapshots, nw)
	}
	if f.appliedIndex != leader.appliedIndex || f.raft().raftLog.committed != leader.raft().raftLog.committed {
		t.Fatalf("follower at %d, leader at %d\n%s", f.appliedIndex, leader.appliedIndex, nw)
	}
	// The leader resumed normal replication.
	_ = nw.propose(1, "after")
	if got := f.applied[len(f.applied)-1]; string(got) != "after" {
		t.Fatalf("follower last applied %q", got)
	}
	if pr := leader.rn.Status().Progress[3]; pr.State != tracker.StateReplicate {
		t.Fatalf("follower progress %s", &pr)
	}
	// Restart the follower from its storage: it comes back from the snapshot.
	nw.restart(3)
	n := nw.node(3)
	if first := n.raft().raftLog.firstIndex(); first <= 1 {
		t.Fatalf("restarted follower has first index %d, want after the snapshot", first)
	}
	_ = nw.propose(1, "again")
	nw.tickAll(2)
	if n.raft().raftLog.committed != leader.raft().raftLog.committed {
		t.Fatalf("restarted follower behind\n%s", nw)
	}
}

func TestSnapshotFailureRetries(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.campaign(1)
	nw.isolate(3)
	for i := range 5 {
		_ = nw.propose(1, fmt.Sprintf("e%d", i))
	}
	l := nw.node(1)
	_, _ = l.storage.CreateSnapshot(l.appliedIndex, &l.cs, nil)
	_ = l.storage.Compact(l.appliedIndex)
	nw.heal()
	nw.filter = func(m pb.Message) bool { return m.Type != pb.MsgSnap }
	nw.tickAll(1)
	if pr := l.rn.Status().Progress[3]; pr.State != tracker.StateSnapshot {
		t.Fatalf("progress %s, want snapshot", &pr)
	}
	l.rn.ReportSnapshot(3, false)
	if pr := l.rn.Status().Progress[3]; pr.State != tracker.StateProbe {
		t.Fatalf("after failure: %s", &pr)
	}
	nw.filter = nil
	nw.tickAll(2)
	if nw.node(3).snapshots != 1 {
		t.Fatalf("snapshot not retried\n%s", nw)
	}
}

func TestRestartKeepsTermVoteAndLog(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.campaign(1)
	_ = nw.propose(1, "a")
	before := nw.node(2).raft().hardState()
	nw.restart(2)
	r := nw.node(2).raft()
	if r.hardState() != before {
		t.Fatalf("hard state %v after restart, want %v", r.hardState(), before)
	}
	if r.state != StateFollower || r.raftLog.lastIndex() != nw.node(1).raft().raftLog.lastIndex() {
		t.Fatalf("restarted node: %s last %d", r.state, r.raftLog.lastIndex())
	}
	// It re-applies committed entries after Applied (0 here).
	nw.node(2).applied = nil
	nw.stabilize()
	if len(nw.node(2).applied) != 1 {
		t.Fatalf("re-applied %q", nw.node(2).applied)
	}
	// The whole cluster restarts and elects again.
	for _, id := range nw.ids {
		nw.restart(id)
	}
	nw.campaign(3)
	if nw.leader() != 3 {
		t.Fatalf("no leader after full restart\n%s", nw)
	}
	_ = nw.propose(3, "b")
	if len(nw.node(1).applied) != 2 {
		t.Fatalf("node 1 applied %q", nw.node(1).applied)
	}
}

func proposeCC(t *testing.T, nw *network, id uint64, cc pb.ConfChange) {
	t.Helper()
	if err := nw.node(id).rn.ProposeConfChange(cc); err != nil {
		t.Fatal(err)
	}
	nw.stabilize()
}

func cc(tr pb.ConfChangeTransition, changes ...pb.ConfChangeSingle) pb.ConfChange {
	return pb.ConfChange{Transition: tr, Changes: changes}
}

func addVoter(id uint64) pb.ConfChangeSingle {
	return pb.ConfChangeSingle{Type: pb.ConfChangeAddNode, NodeID: id}
}
func addLearner(id uint64) pb.ConfChangeSingle {
	return pb.ConfChangeSingle{Type: pb.ConfChangeAddLearnerNode, NodeID: id}
}
func removeNode(id uint64) pb.ConfChangeSingle {
	return pb.ConfChangeSingle{Type: pb.ConfChangeRemoveNode, NodeID: id}
}

// addEmptyNode adds a node with empty storage that knows nothing yet; it
// learns the configuration from the leader's snapshot or log.
func (nw *network) addEmptyNode(id uint64, opts ...netOption) {
	cfg := testConfig(id, NewMemoryStorage(), nw.seed)
	// It learns the configuration from the leader; until then it must
	// believe in the cluster it joins (as etcd's "existing" cluster state).
	_ = cfg.Storage.(*MemoryStorage).Bootstrap(nw.node(nw.ids[0]).cs)
	for _, o := range opts {
		o(&cfg)
	}
	nw.add(newTestNode(nw.t, cfg))
}

func TestLearnerReplicatesWithoutVotingThenPromoted(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.campaign(1)
	nw.addEmptyNode(4)
	proposeCC(t, nw, 1, cc(pb.TransitionAuto, addLearner(4)))
	_ = nw.propose(1, "x")
	if got := nw.node(4).applied; len(got) != 1 || string(got[0]) != "x" {
		t.Fatalf("learner applied %q\n%s", got, nw)
	}
	if !nw.node(4).raft().isLearner {
		t.Fatal("node 4 does not know it is a learner")
	}
	// A learner never campaigns.
	for range 3 * nw.node(4).cfg.ElectionTick {
		nw.tick(4)
	}
	nw.stabilize()
	if nw.node(4).raft().state != StateFollower {
		t.Fatalf("learner campaigned: %s", nw.node(4).raft().state)
	}
	// The learner does not count for commit: with 2 and 3 cut off nothing commits.
	nw.isolate(2)
	nw.isolate(3)
	c := nw.node(1).raft().raftLog.committed
	_ = nw.propose(1, "y")
	if nw.node(1).raft().raftLog.committed != c {
		t.Fatal("commit counted a learner")
	}
	nw.heal()
	nw.tickAll(1)
	// Promote.
	proposeCC(t, nw, 1, cc(pb.TransitionAuto, addVoter(4)))
	if cs := nw.node(4).cs; !slices.Contains(cs.Voters, 4) || len(cs.Learners) != 0 {
		t.Fatalf("after promotion: %s", cs)
	}
	nw.isolate(1)
	nw.campaign(4)
	if nw.leader() != 4 {
		t.Fatalf("promoted learner could not be elected\n%s", nw)
	}
}

func TestJointConsensusAutoLeave(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.campaign(1)
	nw.addEmptyNode(4)
	nw.addEmptyNode(5)
	// Replace 2 and 3 by 4 and 5 in one change: needs joint consensus.
	proposeCC(t, nw, 1, cc(pb.TransitionAuto, addVoter(4), addVoter(5), removeNode(2), removeNode(3)))
	nw.stabilize()
	for _, id := range []uint64{1, 4, 5} {
		cs := nw.node(id).cs
		if err := cs.Equivalent(pb.ConfState{Voters: []uint64{1, 4, 5}}); err != nil {
			t.Fatalf("node %d: %v (auto-leave must have left joint)", id, err)
		}
	}
	_ = nw.propose(1, "z")
	if got := nw.node(5).applied; len(got) != 1 {
		t.Fatalf("new member applied %q", got)
	}
	// A single voter change goes straight through; a second one is refused
	// while the first is pending.
	if err := nw.node(1).rn.ProposeConfChange(cc(pb.TransitionAuto, removeNode(5))); err != nil {
		t.Fatal(err)
	}
	if err := nw.node(1).rn.ProposeConfChange(cc(pb.TransitionAuto, removeNode(4))); !errors.Is(err, ErrConfChangePending) {
		t.Fatalf("second pending change: %v", err)
	}
	nw.stabilize()
	if err := nw.node(1).cs.Equivalent(pb.ConfState{Voters: []uint64{1, 4}}); err != nil {
		t.Fatal(err)
	}
}

func TestJointConsensusExplicitLeave(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.campaign(1)
	nw.addEmptyNode(4)
	proposeCC(t, nw, 1, cc(pb.TransitionJointExplicit, addVoter(4), removeNode(3)))
	if cs := nw.node(1).cs; len(cs.VotersOutgoing) == 0 {
		t.Fatalf("explicit joint left by itself: %s", cs)
	}
	// While joint, both majorities are needed: with 2 and 3 cut off, the
	// incoming config {1,2,4} has no majority... and the outgoing {1,2,3}
	// neither.
	nw.isolate(2)
	c := nw.node(1).raft().raftLog.committed
	nw.isolate(3)
	_ = nw.propose(1, "blocked")
	if nw.node(1).raft().raftLog.committed != c {
		t.Fatal("committed without majorities of both halves")
	}
	nw.heal()
	nw.tickAll(1)
	proposeCC(t, nw, 1, cc(pb.TransitionAuto)) // leave joint
	if err := nw.node(1).cs.Equivalent(pb.ConfState{Voters: []uint64{1, 2, 4}}); err != nil {
		t.Fatal(err)
	}
}

func TestRemovedLeaderStepsDown(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.campaign(1)
	proposeCC(t, nw, 1, cc(pb.TransitionAuto, removeNode(1)))
	if nw.node(1).raft().state == StateLeader {
		t.Fatal("removed leader still leads")
	}
	nw.campaign(2)
	if nw.leader() != 2 {
		t.Fatalf("remaining nodes cannot elect\n%s", nw)
	}
}

// The in-flight window caps unacknowledged appends per follower by count
// and by bytes.
func TestFlowControl(t *testing.T) {
	for _, tc := range []struct {
		name     string
		msgs     int
		bytes    uint64
		wantMsgs int
	}{
		{"count", 3, 1 << 20, 3},
		{"bytes", 100, 300, 3}, // each entry ~ 100+24 bytes
	} {
		nw := newNetwork(t, 3, func(c *Config) {
			c.MaxInflightMsgs = tc.msgs
			c.MaxInflightBytes = tc.bytes
			c.MaxSizePerMsg = 1
		})
		nw.campaign(1)
		// Follower 2 stops acknowledging. Count appends carrying entries
		// (commit-only appends are not part of the window).
		apps := 0
		nw.filter = func(m pb.Message) bool {
			if m.Type == pb.MsgApp && m.To == 2 && len(m.Entries) > 0 {
				apps++
			}
			return !(m.From == 2 && m.Type == pb.MsgAppResp)
		}
		for i := range 10 {
			_ = nw.propose(1, fmt.Sprintf("%0100d", i))
		}
		if apps != tc.wantMsgs {
			t.Fatalf("%s: %d appends in flight to the silent follower, want %d", tc.name, apps, tc.wantMsgs)
		}
		if pr := nw.node(1).rn.Status().Progress[2]; !pr.Inflights.Full() {
			t.Fatalf("%s: window not full: %s", tc.name, &pr)
		}
		// Node 3 kept up.
		if len(nw.node(3).applied) != 10 {
			t.Fatalf("%s: node 3 applied %d", tc.name, len(nw.node(3).applied))
		}
	}
}

func TestMaxUncommittedSize(t *testing.T) {
	nw := newNetwork(t, 3, func(c *Config) { c.MaxUncommittedEntriesSize = 1000 })
	nw.campaign(1)
	nw.isolate(1)
	data := make([]byte, 300)
	accepted := 0
	var err error
	for range 10 {
		if err = nw.node(1).rn.Propose(data); err != nil {
			break
		}
		accepted++
	}
	if !errors.Is(err, ErrUncommittedFull) || !errors.Is(err, ErrProposalDropped) || accepted != 3 {
		t.Fatalf("accepted %d then %v; want 3 then ErrUncommittedFull", accepted, err)
	}
	// Once committed, room frees up.
	nw.heal()
	nw.tickAll(2)
	if err := nw.node(1).rn.Propose(data); err != nil {
		t.Fatalf("after commit: %v", err)
	}
}

// Several Readys may be outstanding with AsyncStorageWrites; the leader
// sends appends before its own write is acknowledged and still commits only
// after the acknowledgement.
func TestAsyncStorageWrites(t *testing.T) {
	nw := newNetwork(t, 3, func(c *Config) { c.AsyncStorageWrites = true })
	nw.campaign(1)
	l := nw.node(1)
	_ = l.rn.Propose([]byte("a"))
	rd1 := l.rn.Ready()
	if len(rd1.Entries) != 1 || len(filterMsgs(rd1.Messages, pb.MsgApp)) != 2 {
		t.Fatalf("appends must go out with the unpersisted entries: %+v", rd1)
	}
	_ = l.rn.Propose([]byte("b"))
	rd2 := l.rn.Ready() // second Ready before the first is acknowledged
	if len(rd2.Entries) != 1 {
		t.Fatalf("rd2 entries %v", rd2.Entries)
	}
	// Followers acknowledge both entries; the leader has not persisted.
	nw.queue = append(rd1.Messages, rd2.Messages...)
	nw.deliver()
	nw.processReady()
	nw.deliver()
	if c := l.raft().raftLog.committed; c < rd2.Entries[0].Index {
		t.Fatalf("followers' acks should commit without the leader: commit %d", c)
	}
	// Nothing is applied by the leader before its own persist is acked.
	l.persist(t, rd1)
	l.rn.AckPersisted(rd1)
	l.rn.AckApplied(rd1)
	l.persist(t, rd2)
	l.rn.AckPersisted(rd2)
	l.rn.AckApplied(rd2)
	nw.stabilize()
	if len(l.applied) != 2 {
		t.Fatalf("leader applied %q", l.applied)
	}
	nw.checkLogsAgree()
}

// The same seed gives the same run, message for message.
func TestDeterminism(t *testing.T) {
	trace := func(seed uint64) []string {
		var out []string
		nw := &network{t: t, nodes: map[uint64]*testNode{}, cut: map[[2]uint64]bool{}, sent: map[pb.MessageType]int{}, seed: seed}
		for id := uint64(1); id <= 5; id++ {
			c := testConfig(id, bootstrapped([]uint64{1, 2, 3, 4, 5}), seed)
			c.PreVote, c.CheckQuorum = true, true
			nw.add(newTestNode(t, c))
		}
		nw.filter = func(m pb.Message) bool {
			out = append(out, pb.DescribeMessage(m, nil))
			return true
		}
		for i := range 200 {
			nw.tickAll(1)
			if l := nw.leader(); l != 0 && i%7 == 0 {
				_ = nw.node(l).rn.Propose([]byte(fmt.Sprint(i)))
			}
			if i == 100 {
				nw.isolate(nw.leader())
			}
		}
		return out
	}
	a, b := trace(42), trace(42)
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different traces")
	}
	if c := trace(43); slices.Equal(a, c) {
		t.Fatal("different seeds gave identical traces (randomness unused?)")
	}
}

// Proposals made between two Readys travel in one append per follower.
func TestProposalsBatchedIntoOneAppend(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.campaign(1)
	l := nw.node(1)
	for i := range 5 {
		if err := l.rn.Propose([]byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	rd := l.rn.Ready()
	apps := filterMsgs(rd.Messages, pb.MsgApp)
	if len(apps) != 2 || len(apps[0].Entries) != 5 || len(apps[1].Entries) != 5 {
		t.Fatalf("want one append of 5 entries per follower, got %v", rd.Messages)
	}
	// MaxSizePerMsg still splits large batches.
	nw2 := newNetwork(t, 3, func(c *Config) { c.MaxSizePerMsg = 2 * ent(1, 1, "x").Size() })
	nw2.campaign(1)
	for range 5 {
		_ = nw2.node(1).rn.Propose([]byte("x"))
	}
	for _, m := range filterMsgs(nw2.node(1).rn.Ready().Messages, pb.MsgApp) {
		if len(m.Entries) > 2 {
			t.Fatalf("append of %d entries exceeds MaxSizePerMsg", len(m.Entries))
		}
	}
}

// A proposal and a read request forwarded to a leader that then steps
// down are forwarded again by it, and can reach their originator after it
// became the leader (found by the simulator, seed 114 of TestRaftSim at
// 20,000 steps). The leader must take them as its own requests.
func TestBouncedRequestsReachTheirOriginator(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.campaign(1)
	// Node 2 forwards to leader 1; before delivery, 2 becomes the leader.
	if err := nw.node(2).rn.Propose([]byte("bounced")); err != nil {
		t.Fatal(err)
	}
	if err := nw.node(2).rn.ReadIndex([]byte("r")); err != nil {
		t.Fatal(err)
	}
	nw.processReady()
	held := nw.queue
	nw.queue = nil
	nw.campaign(2)
	if nw.leader() != 2 {
		t.Fatalf("leader is %d, want 2", nw.leader())
	}
	nw.queue = held
	nw.stabilize() // 1 is a follower now: it forwards both to 2
	found := false
	ents, _ := nw.node(2).storage.Entries(1, nw.node(2).raft().raftLog.lastIndex()+1, 1<<20)
	for _, e := range ents {
		found = found || string(e.Data) == "bounced"
	}
	if !found {
		t.Fatal("the bounced proposal was not appended by its originator")
	}
	if rs := nw.node(2).readStates; len(rs) != 1 || string(rs[0].RequestCtx) != "r" {
		t.Fatalf("bounced read index: read states %v", rs)
	}
}

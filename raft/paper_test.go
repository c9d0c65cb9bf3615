package raft

// Tests tied to claims of the Raft paper (Ongaro and Ousterhout, 2014). Each
// test names the section and quotes the sentence it checks.

import (
	"slices"
	"testing"

	pb "github.com/cairndb/cairn/raft/raftpb"
)

var peers3 = []uint64{1, 2, 3}

// §5.1: "If one server's current term is smaller than the other's, then it
// updates its current term to the larger value. If a candidate or leader
// discovers that its term is out of date, it immediately reverts to
// follower state."
func TestUpdateTermFromMessage(t *testing.T) {
	for _, start := range []StateType{StateFollower, StateCandidate, StateLeader} {
		n := newLoneNode(t, 1, peers3, 0, nil)
		switch start {
		case StateCandidate:
			_ = n.rn.Campaign()
			n.drain(t)
		case StateLeader:
			n.becomeLeaderAlone(t)
		}
		n.step(t, pb.Message{From: 2, Type: pb.MsgApp, Term: 5})
		r := n.raft()
		if r.Term != 5 || r.state != StateFollower || r.lead != 2 {
			t.Fatalf("from %s: term=%d state=%s lead=%d, want 5 follower lead 2", start, r.Term, r.state, r.lead)
		}
	}
}

// §5.1: "If a server receives a request with a stale term number, it
// rejects the request."
func TestRejectStaleTermMessage(t *testing.T) {
	n := newLoneNode(t, 1, peers3, 2, logOf(1, 1))
	msgs := n.step(t, pb.Message{From: 2, Type: pb.MsgApp, Term: 1, Index: 2, LogTerm: 1,
		Entries: []pb.Entry{ent(3, 1, "stale")}})
	if last := n.raft().raftLog.lastIndex(); last != 2 {
		t.Fatalf("stale append was accepted: last index %d", last)
	}
	// The stale sender is told the current term so it can step down.
	if len(msgs) != 1 || msgs[0].Type != pb.MsgAppResp || msgs[0].Term != 2 {
		t.Fatalf("want one MsgAppResp at term 2, got %v", msgs)
	}
}

// §5.2: "When servers start up, they begin as followers."
func TestStartAsFollower(t *testing.T) {
	n := newLoneNode(t, 1, peers3, 0, nil)
	if n.raft().state != StateFollower {
		t.Fatalf("started as %s", n.raft().state)
	}
}

// §5.2: "Leaders send periodic heartbeats (AppendEntries RPCs that carry no
// log entries) to all followers in order to maintain their authority."
func TestLeaderBcastBeat(t *testing.T) {
	n := newLoneNode(t, 1, peers3, 0, nil)
	n.becomeLeaderAlone(t)
	msgs := n.tickN(t, n.cfg.HeartbeatTick)
	hb := filterMsgs(msgs, pb.MsgHeartbeat)
	if len(hb) != 2 || hb[0].To != 2 || hb[1].To != 3 {
		t.Fatalf("want heartbeats to 2 and 3, got %v", msgs)
	}
	for _, m := range hb {
		if len(m.Entries) != 0 {
			t.Fatalf("heartbeat carries entries: %v", m)
		}
	}
}

// §5.2: "If a follower receives no communication over a period of time
// called the election timeout, then it assumes there is no viable leader
// and begins an election ... increments its current term and transitions
// to candidate state. It then votes for itself and issues RequestVote RPCs
// in parallel to each of the other servers."
func TestFollowerStartElection(t *testing.T) {
	for _, start := range []StateType{StateFollower, StateCandidate} {
		n := newLoneNode(t, 1, peers3, 0, nil)
		if start == StateCandidate {
			_ = n.rn.Campaign()
			n.drain(t)
		}
		term := n.raft().Term
		msgs := n.tickN(t, 2*n.cfg.ElectionTick)
		r := n.raft()
		if r.state != StateCandidate || r.Term != term+1 || r.Vote != 1 {
			t.Fatalf("from %s: state=%s term=%d vote=%d", start, r.state, r.Term, r.Vote)
		}
		votes := filterMsgs(msgs, pb.MsgVote)
		var to []uint64
		for _, m := range votes {
			if m.Term == r.Term {
				to = append(to, m.To)
			}
		}
		if !slices.Equal(to, []uint64{2, 3}) {
			t.Fatalf("vote requests for term %d went to %v", r.Term, to)
		}
		if !r.trk.Votes[1] {
			t.Fatal("candidate did not vote for itself")
		}
	}
}

// §5.2: "A candidate wins an election if it receives votes from a majority
// of the servers in the full cluster for the same term." and "If many
// followers become candidates at the same time, votes could be split so
// that no candidate obtains a majority."
func TestLeaderElectionInOneRound(t *testing.T) {
	tests := []struct {
		size  int
		votes map[uint64]bool
		want  StateType
	}{
		{1, nil, StateLeader},
		{3, map[uint64]bool{2: true, 3: true}, StateLeader},
		{3, map[uint64]bool{2: true}, StateLeader},
		{5, map[uint64]bool{2: true, 3: true, 4: true, 5: true}, StateLeader},
		{5, map[uint64]bool{2: true, 3: true}, StateLeader},
		{3, map[uint64]bool{2: false, 3: false}, StateFollower},
		{5, map[uint64]bool{2: false, 3: false, 4: false}, StateFollower},
		{3, nil, StateCandidate},
		{5, map[uint64]bool{2: true}, StateCandidate},
		{5, map[uint64]bool{2: false, 3: true}, StateCandidate},
	}
	for i, tt := range tests {
		var ids []uint64
		for id := 1; id <= tt.size; id++ {
			ids = append(ids, uint64(id))
		}
		n := newLoneNode(t, 1, ids, 0, nil)
		_ = n.rn.Campaign()
		n.drain(t)
		for _, id := range ids[1:] {
			if v, ok := tt.votes[id]; ok {
				n.step(t, pb.Message{From: id, Type: pb.MsgVoteResp, Term: n.raft().Term, Reject: !v})
			}
		}
		if n.raft().state != tt.want {
			t.Errorf("#%d: state %s, want %s", i, n.raft().state, tt.want)
		}
	}
}

// §5.2: "Each server will vote for at most one candidate in a given term,
// on a first-come-first-served basis."
func TestFollowerVote(t *testing.T) {
	tests := []struct {
		vote, nvote uint64
		reject      bool
	}{
		{None, 2, false},
		{None, 3, false},
		{2, 2, false},
		{3, 3, false},
		{2, 3, true},
		{3, 2, true},
	}
	for i, tt := range tests {
		s := storageWith(peers3, 1, nil)
		_ = s.SetHardState(pb.HardState{Term: 1, Vote: tt.vote})
		n := newTestNode(t, testConfig(1, s, 1))
		msgs := n.step(t, pb.Message{From: tt.nvote, Type: pb.MsgVote, Term: 1})
		resp := filterMsgs(msgs, pb.MsgVoteResp)
		if len(resp) != 1 || resp[0].To != tt.nvote || resp[0].Reject != tt.reject {
			t.Errorf("#%d: got %v, want reject=%v", i, msgs, tt.reject)
		}
	}
}

// §5.2: "While waiting for votes, a candidate may receive an AppendEntries
// RPC from another server claiming to be leader. If the leader's term ... is
// at least as large as the candidate's current term, then the candidate
// recognizes the leader as legitimate and returns to follower state."
func TestCandidateFallback(t *testing.T) {
	for _, delta := range []uint64{0, 1} {
		n := newLoneNode(t, 1, peers3, 0, nil)
		_ = n.rn.Campaign()
		n.drain(t)
		term := n.raft().Term + delta
		n.step(t, pb.Message{From: 2, Type: pb.MsgApp, Term: term})
		if r := n.raft(); r.state != StateFollower || r.Term != term || r.lead != 2 {
			t.Fatalf("delta %d: state=%s term=%d lead=%d", delta, r.state, r.Term, r.lead)
		}
	}
}

// §5.2: "Raft uses randomized election timeouts to ensure that split votes
// are rare ... election timeouts are chosen randomly from a fixed interval
// (e.g., 150–300ms)." Here the interval is [ElectionTick, 2*ElectionTick).
func TestElectionTimeoutRandomized(t *testing.T) {
	for _, start := range []StateType{StateFollower, StateCandidate} {
		n := newLoneNode(t, 1, peers3, 0, nil)
		et := n.cfg.ElectionTick
		seen := map[int]bool{}
		for round := 0; round < 50*et; round++ {
			if start == StateCandidate {
				_ = n.rn.Campaign()
			} else {
				n.raft().becomeFollower(n.raft().Term+1, None)
			}
			n.drain(t)
			term := n.raft().Term
			ticks := 0
			for n.raft().Term == term {
				n.rn.Tick()
				n.drain(t)
				ticks++
				if ticks > 2*et {
					t.Fatalf("no election within %d ticks", ticks)
				}
			}
			seen[ticks] = true
		}
		for k := et; k < 2*et; k++ {
			if !seen[k] {
				t.Errorf("%s: timeout %d never chosen (seen %v)", start, k, seen)
			}
		}
		for k := range seen {
			if k < et {
				t.Errorf("%s: timeout %d below ElectionTick", start, k)
			}
		}
	}
}

// §5.2: "in most cases only a single server will time out; it wins the
// election and sends heartbeats before any other servers time out."
func TestElectionTimeoutNonconflict(t *testing.T) {
	conflicts := 0
	const rounds = 200
	for round := range rounds {
		var nodes []*testNode
		for id := uint64(1); id <= 5; id++ {
			nodes = append(nodes, newTestNode(t, testConfig(id, bootstrapped([]uint64{1, 2, 3, 4, 5}), uint64(round))))
		}
		timedOut := 0
		for timedOut == 0 {
			for _, n := range nodes {
				n.rn.Tick()
				if n.raft().state == StateCandidate {
					timedOut++
				}
			}
		}
		if timedOut > 1 {
			conflicts++
		}
	}
	if conflicts > rounds*3/10 {
		t.Fatalf("%d of %d rounds had simultaneous timeouts", conflicts, rounds)
	}
}

// §5.3: "The leader appends the command to its log as a new entry, then
// issues AppendEntries RPCs in parallel to each of the other servers to
// replicate the entry."
func TestLeaderStartReplication(t *testing.T) {
	n := newLoneNode(t, 1, peers3, 0, nil)
	n.becomeLeaderAlone(t)
	// Acknowledge the empty entry so both followers are in replicate state.
	li := n.raft().raftLog.lastIndex()
	for _, id := range []uint64{2, 3} {
		n.step(t, pb.Message{From: id, Type: pb.MsgAppResp, Term: n.raft().Term, Index: li})
	}
	if err := n.rn.Propose([]byte("some data")); err != nil {
		t.Fatal(err)
	}
	msgs := filterMsgs(n.drain(t), pb.MsgApp)
	if len(msgs) != 2 {
		t.Fatalf("want 2 MsgApp, got %v", msgs)
	}
	for i, m := range msgs {
		if m.To != uint64(i+2) || m.Index != li || m.LogTerm != n.raft().Term ||
			len(m.Entries) != 1 || string(m.Entries[0].Data) != "some data" || m.Entries[0].Index != li+1 {
			t.Fatalf("bad append %v", m)
		}
	}
	if got := n.raft().raftLog.lastIndex(); got != li+1 {
		t.Fatalf("leader did not append: last %d", got)
	}
}

// §5.3: "A log entry is committed once the leader that created the entry has
// replicated it on a majority of the servers ... The leader keeps track of
// the highest index it knows to be committed, and it includes that index in
// future AppendEntries RPCs."
func TestLeaderCommitEntry(t *testing.T) {
	for _, size := range []int{1, 3, 5} {
		var ids []uint64
		for i := 1; i <= size; i++ {
			ids = append(ids, uint64(i))
		}
		for acks := 0; acks < size; acks++ {
			n := newLoneNode(t, 1, ids, 0, nil)
			if size == 1 {
				_ = n.rn.Campaign()
				n.drain(t)
			} else {
				n.becomeLeaderAlone(t)
			}
			li := n.raft().raftLog.lastIndex()
			for _, id := range ids[1:] {
				n.step(t, pb.Message{From: id, Type: pb.MsgAppResp, Term: n.raft().Term, Index: li})
			}
			_ = n.rn.Propose([]byte("x"))
			n.drain(t)
			for _, id := range ids[1 : 1+acks] {
				n.step(t, pb.Message{From: id, Type: pb.MsgAppResp, Term: n.raft().Term, Index: li + 1})
			}
			committed := n.raft().raftLog.committed == li+1
			if want := 2*(acks+1) > size; committed != want {
				t.Errorf("size %d acks %d: committed=%v want %v", size, acks, committed, want)
			}
			if committed && size > 1 {
				// The new commit index goes out in the next appends.
				_ = n.rn.Propose([]byte("y"))
				for _, m := range filterMsgs(n.drain(t), pb.MsgApp) {
					if m.Commit != li+1 {
						t.Errorf("append to %d carries commit %d, want %d", m.To, m.Commit, li+1)
					}
				}
			}
		}
	}
}

// §5.3: "When the leader commits ... it also commits all preceding entries
// in the leader's log, including entries created by previous leaders."
func TestLeaderCommitPrecedingEntries(t *testing.T) {
	for _, prev := range [][]uint64{{}, {2}, {1, 1}, {1, 2}} {
		n := newLoneNode(t, 1, peers3, 2, logOf(prev...))
		n.becomeLeaderAlone(t)
		li := n.raft().raftLog.lastIndex()
		n.step(t, pb.Message{From: 2, Type: pb.MsgAppResp, Term: n.raft().Term, Index: li})
		if c := n.raft().raftLog.committed; c != li {
			t.Fatalf("prev %v: committed %d, want %d", prev, c, li)
		}
		if got := len(n.raft().raftLog.allEntries()); got != len(prev)+1 {
			t.Fatalf("log length %d", got)
		}
	}
}

// §5.3: "Once a follower learns that a log entry is committed, it applies
// the entry to its local state machine (in log order)."
func TestFollowerCommitEntry(t *testing.T) {
	n := newLoneNode(t, 1, peers3, 1, nil)
	n.step(t, pb.Message{From: 2, Type: pb.MsgApp, Term: 1, Index: 0, LogTerm: 0, Commit: 1,
		Entries: []pb.Entry{ent(1, 1, "a"), ent(2, 1, "b")}})
	if len(n.applied) != 1 || string(n.applied[0]) != "a" {
		t.Fatalf("applied %q, want [a]", n.applied)
	}
	n.step(t, pb.Message{From: 2, Type: pb.MsgHeartbeat, Term: 1, Commit: 2})
	if len(n.applied) != 2 || string(n.applied[1]) != "b" {
		t.Fatalf("applied %q, want [a b]", n.applied)
	}
}

// §5.3: "If the follower does not find an entry in its log with the same
// index and term, then it refuses the new entries." The rejection carries a
// hint so the leader can skip a whole conflicting term.
func TestFollowerCheckMsgApp(t *testing.T) {
	tests := []struct {
		term, index uint64
		reject      bool
		hint        uint64
	}{
		{0, 0, false, 0}, // match with the dummy entry
		{1, 1, false, 0},
		{2, 2, false, 0},
		{1, 2, true, 1},  // term mismatch at 2; entry 1 has term 1
		{3, 3, true, 2},  // beyond the log (no bounds-check crash)
		{3, 99, true, 2}, // far beyond the log
	}
	for i, tt := range tests {
		n := newLoneNode(t, 1, peers3, 2, logOf(1, 2))
		msgs := filterMsgs(n.step(t, pb.Message{From: 2, Type: pb.MsgApp, Term: 3, LogTerm: tt.term, Index: tt.index}), pb.MsgAppResp)
		if len(msgs) != 1 || msgs[0].Reject != tt.reject || (tt.reject && (msgs[0].RejectHint != tt.hint || msgs[0].Index != tt.index)) {
			t.Errorf("#%d: got %v, want reject=%v hint=%d", i, msgs, tt.reject, tt.hint)
		}
	}
}

// §5.3: "If an existing entry conflicts with a new one (same index but
// different terms), delete the existing entry and all that follow it;
// append any new entries not already in the log." A stale or duplicated
// append whose entries all match must not truncate anything.
func TestFollowerAppendEntries(t *testing.T) {
	tests := []struct {
		index, term uint64
		ents        []pb.Entry
		want        []uint64
	}{
		{2, 2, []pb.Entry{ent(3, 3, "")}, []uint64{1, 2, 3}},
		{1, 1, []pb.Entry{ent(2, 3, ""), ent(3, 4, "")}, []uint64{1, 3, 4}},
		{0, 0, []pb.Entry{ent(1, 1, "")}, []uint64{1, 2}},
		{0, 0, []pb.Entry{ent(1, 3, "")}, []uint64{3}},
		// Duplicate of existing entries: nothing truncated.
		{0, 0, []pb.Entry{ent(1, 1, ""), ent(2, 2, "")}, []uint64{1, 2}},
	}
	for i, tt := range tests {
		n := newLoneNode(t, 1, peers3, 2, logOf(1, 2))
		n.step(t, pb.Message{From: 2, Type: pb.MsgApp, Term: 4, LogTerm: tt.term, Index: tt.index, Entries: tt.ents})
		if got := termsOf(n.raft().raftLog.allEntries()); !slices.Equal(got, tt.want) {
			t.Errorf("#%d: log terms %v, want %v", i, got, tt.want)
		}
	}
	// A delayed append covering a prefix must not cut off later entries.
	n := newLoneNode(t, 1, peers3, 2, logOf(1, 2, 2, 2))
	n.step(t, pb.Message{From: 2, Type: pb.MsgApp, Term: 2, LogTerm: 1, Index: 1, Entries: []pb.Entry{ent(2, 2, "")}})
	if got := termsOf(n.raft().raftLog.allEntries()); !slices.Equal(got, []uint64{1, 2, 2, 2}) {
		t.Fatalf("stale append truncated the log: %v", got)
	}
}

// §5.3 and figure 7: "the leader handles inconsistencies by forcing the
// followers' logs to duplicate its own ... the leader must find the latest
// log entry where the two logs agree, delete any entries in the follower's
// log after that point, and send the follower all of the leader's entries
// after that point." Followers (a)-(f) of figure 7 all converge.
func TestFigure7FollowersConverge(t *testing.T) {
	leader := []uint64{1, 1, 1, 4, 4, 5, 5, 6, 6, 6}
	followers := map[string][]uint64{
		"a": {1, 1, 1, 4, 4, 5, 5, 6, 6},
		"b": {1, 1, 1, 4},
		"c": {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6},
		"d": {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7},
		"e": {1, 1, 1, 4, 4, 4, 4},
		"f": {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3},
	}
	for _, name := range []string{"a", "b", "c", "d", "e", "f"} {
		nw := networkFromLogs(t, 7, [][]uint64{leader, followers[name], leader})
		nw.campaign(1)
		if nw.leader() != 1 {
			t.Fatalf("(%s): node 1 not elected\n%s", name, nw)
		}
		want := nw.node(1).raft().raftLog.allEntries()
		got := nw.node(2).raft().raftLog.allEntries()
		if !slices.Equal(termsOf(got), termsOf(want)) {
			t.Fatalf("(%s): follower log %v, leader log %v", name, termsOf(got), termsOf(want))
		}
		// Stored, not just in memory.
		last, _ := nw.node(2).storage.LastIndex()
		if tm, _ := nw.node(2).storage.Term(last); last != uint64(len(want)) || tm != 8 {
			t.Fatalf("(%s): storage last %d term %d", name, last, tm)
		}
		if c := nw.node(2).raft().raftLog.committed; c != uint64(len(want)) {
			t.Fatalf("(%s): follower commit %d", name, c)
		}
	}
}

// §5.4.1: the candidate's RequestVote carries "the index and term of the
// candidate's last log entry".
func TestVoteRequest(t *testing.T) {
	n := newLoneNode(t, 1, peers3, 3, logOf(1, 2, 3))
	_ = n.rn.Campaign()
	for _, m := range filterMsgs(n.drain(t), pb.MsgVote) {
		if m.Index != 3 || m.LogTerm != 3 || m.Term != 4 {
			t.Fatalf("vote request %v", m)
		}
	}
}

// §5.4.1: "the voter denies its vote if its own log is more up-to-date than
// that of the candidate ... If the logs have last entries with different
// terms, then the log with the later term is more up-to-date. If the logs
// end with the same term, then whichever log is longer is more up-to-date."
func TestVoterUpToDateRule(t *testing.T) {
	tests := []struct {
		log           []uint64
		logTerm, idx  uint64
		wantRejection bool
	}{
		{[]uint64{1}, 1, 1, false},
		{[]uint64{1}, 1, 2, false},
		{[]uint64{1, 1}, 1, 1, true}, // same last term, shorter
		{[]uint64{1}, 2, 1, false},   // later term wins even if shorter
		{[]uint64{1, 1}, 2, 1, false},
		{[]uint64{2}, 1, 1, true}, // earlier last term loses even if longer
		{[]uint64{2}, 1, 2, true},
		{[]uint64{1, 2}, 1, 5, true}, // the seed's bug: longer log with an older term
	}
	for i, tt := range tests {
		n := newLoneNode(t, 1, peers3, 2, logOf(tt.log...))
		msgs := filterMsgs(n.step(t, pb.Message{From: 2, Type: pb.MsgVote, Term: 3, LogTerm: tt.logTerm, Index: tt.idx}), pb.MsgVoteResp)
		if len(msgs) != 1 || msgs[0].Reject != tt.wantRejection {
			t.Errorf("#%d: got %v, want reject=%v", i, msgs, tt.wantRejection)
		}
	}
}

// §5.4.2: "Raft never commits log entries from previous terms by counting
// replicas. Only log entries from the leader's current term are committed by
// counting replicas."
func TestLeaderOnlyCommitsLogFromCurrentTerm(t *testing.T) {
	n := newLoneNode(t, 1, peers3, 2, logOf(1, 2))
	n.becomeLeaderAlone(t) // term 3, appends index 3
	// Follower 2 acks index 2 (an entry of term 2): not committed.
	n.step(t, pb.Message{From: 2, Type: pb.MsgAppResp, Term: 3, Index: 2})
	if c := n.raft().raftLog.committed; c != 0 {
		t.Fatalf("committed %d by counting a previous-term entry", c)
	}
	// Acking the current-term entry commits everything before it.
	n.step(t, pb.Message{From: 2, Type: pb.MsgAppResp, Term: 3, Index: 3})
	if c := n.raft().raftLog.committed; c != 3 {
		t.Fatalf("committed %d, want 3", c)
	}
}

// §5.4.2 and figure 8: an entry of an old term stored on a majority can still
// be overwritten by a future leader, so it must not count as committed; once
// the leader commits an entry of its own term on a majority, no candidate
// lacking it can win.
func TestFigure8(t *testing.T) {
	// (c): S1 is leader of term 4; index 2 (term 2) is on S1, S2, S3.
	logs := [][]uint64{{1, 2}, {1, 2}, {1, 2}, {1}, {1, 3}}
	nw := networkFromLogs(t, 3, logs)
	s1 := nw.node(1)
	// Elect S1 in term 4 with S2 and S3, but let nothing else through yet.
	nw.filter = func(m pb.Message) bool { return m.Type == pb.MsgVote || m.Type == pb.MsgVoteResp }
	nw.partition([]uint64{1, 2, 3}, []uint64{4, 5})
	nw.campaign(1)
	if nw.leader() != 1 || s1.raft().Term != 4 {
		t.Fatalf("S1 not leader of term 4\n%s", nw)
	}
	// S3 acknowledges index 2 (it already holds it): a majority now stores
	// the term-2 entry, yet it must not be committed.
	s1.step(t, pb.Message{From: 3, Type: pb.MsgAppResp, Term: 4, Index: 2})
	s1.step(t, pb.Message{From: 2, Type: pb.MsgAppResp, Term: 4, Index: 2})
	if c := s1.raft().raftLog.committed; c >= 2 {
		t.Fatalf("S1 committed %d by counting term-2 replicas", c)
	}
	// (d): S1 crashes; S5 (last term 3) can be elected by S2, S3, S4 and
	// overwrite index 2 everywhere — proof that it was not safe to commit.
	nw.queue = nil
	nw.filter = nil
	nw.heal()
	nw.isolate(1)
	nw.campaign(5) // term 4: S2 and S3 already voted for S1
	nw.campaign(5) // term 5
	if nw.leader() != 5 {
		t.Fatalf("S5 not elected\n%s", nw)
	}
	for _, id := range []uint64{2, 3, 4} {
		if tm, _ := nw.node(id).raft().raftLog.term(2); tm != 3 {
			t.Fatalf("S%d index 2 has term %d, want S5's 3", id, tm)
		}
	}

	// (e): instead, S1 replicates an entry of its own term 4 to a majority
	// before crashing: it is committed and S5 cannot win.
	nw = networkFromLogs(t, 3, logs)
	nw.partition([]uint64{1, 2, 3}, []uint64{4, 5})
	nw.campaign(1)
	if c := nw.node(1).raft().raftLog.committed; c != 3 {
		t.Fatalf("S1 commit %d, want 3 (its term-4 entry)", c)
	}
	nw.heal()
	nw.isolate(1)
	nw.campaign(5)
	nw.campaign(5)
	if lead := nw.node(5).raft().state; lead == StateLeader {
		t.Fatalf("S5 won although a committed entry is missing from its log\n%s", nw)
	}
}

// Figure 2, "Persistent state on all servers (updated on stable storage
// before responding to RPCs)": a granted vote and an append acknowledgement
// only leave the node in a Ready after the Ready holding the new state was
// acknowledged as persisted.
func TestResponsesOnlyAfterPersist(t *testing.T) {
	n := newLoneNode(t, 1, peers3, 1, nil)
	if err := n.rn.Step(pb.Message{From: 2, To: 1, Type: pb.MsgVote, Term: 2}); err != nil {
		t.Fatal(err)
	}
	rd := n.rn.Ready()
	if rd.HardState.Vote != 2 || rd.HardState.Term != 2 || !rd.MustSync {
		t.Fatalf("ready must carry the vote to persist: %+v", rd.HardState)
	}
	if len(filterMsgs(rd.Messages, pb.MsgVoteResp)) != 0 {
		t.Fatal("vote response released before the vote was persisted")
	}
	n.persist(t, rd)
	n.rn.Advance(rd)
	rd = n.rn.Ready()
	if got := filterMsgs(rd.Messages, pb.MsgVoteResp); len(got) != 1 || got[0].Reject {
		t.Fatalf("granted vote not released after persist: %v", rd.Messages)
	}
	if st := n.storage.HardState(); st.Vote != 2 {
		t.Fatalf("storage vote %d", st.Vote)
	}
	n.rn.Advance(rd)

	// Append acknowledgement.
	if err := n.rn.Step(pb.Message{From: 2, To: 1, Type: pb.MsgApp, Term: 2, Entries: []pb.Entry{ent(1, 2, "x")}}); err != nil {
		t.Fatal(err)
	}
	rd = n.rn.Ready()
	if len(rd.Entries) != 1 || len(filterMsgs(rd.Messages, pb.MsgAppResp)) != 0 {
		t.Fatalf("append ack released with its unpersisted entries: %+v", rd)
	}
	n.persist(t, rd)
	n.rn.Advance(rd)
	rd = n.rn.Ready()
	if got := filterMsgs(rd.Messages, pb.MsgAppResp); len(got) != 1 || got[0].Index != 1 {
		t.Fatalf("append ack not released after persist: %v", rd.Messages)
	}
}

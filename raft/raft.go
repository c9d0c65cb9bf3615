package raft

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"

	"github.com/cairndb/cairn/raft/confchange"
	"github.com/cairndb/cairn/raft/quorum"
	pb "github.com/cairndb/cairn/raft/raftpb"
	"github.com/cairndb/cairn/raft/tracker"
)

// StateType is a node's role.
type StateType uint8

const (
	// StateFollower accepts entries from a leader.
	StateFollower StateType = iota + 1
	// StateCandidate runs an election.
	StateCandidate
	// StateLeader accepts proposals and replicates the log.
	StateLeader
	// StatePreCandidate runs a pre-election (PreVote).
	StatePreCandidate
)

// String returns the role's name.
func (s StateType) String() string {
	switch s {
	case StateFollower:
		return "StateFollower"
	case StateCandidate:
		return "StateCandidate"
	case StateLeader:
		return "StateLeader"
	case StatePreCandidate:
		return "StatePreCandidate"
	}
	return fmt.Sprintf("StateType(%d)", uint8(s))
}

// SoftState is volatile state that the application may want to observe.
type SoftState struct {
	Lead      uint64
	RaftState StateType
}

type campaignType uint8

const (
	campaignPreElection campaignType = iota + 1
	campaignElection
	campaignTransfer
)

// campaignTransferCtx marks vote requests of a leadership transfer, which
// followers grant even while they still hear from the old leader.
var campaignTransferCtx = []byte("CampaignTransfer")

type stepFunc func(r *raft, m pb.Message) error

// raft is the protocol state machine. It only changes through step and
// tick; its outputs are msgs, msgsAfterAppend, readStates and the log.
type raft struct {
	id   uint64
	Term uint64
	Vote uint64

	raftLog *raftLog
	trk     tracker.ProgressTracker

	state     StateType
	isLearner bool
	lead      uint64
	// leadTransferee is the target of a transfer in progress, or None.
	leadTransferee uint64
	// pendingConfIndex: a conf change may only be proposed once the log is
	// applied past this index (one change in flight at a time).
	pendingConfIndex uint64
	// uncommittedSize is the payload bytes of uncommitted entries (leader).
	uncommittedSize uint64

	// msgs may be sent at once; msgsAfterAppend only once everything
	// currently unpersisted (entries, snapshot, term, vote) is durable.
	msgs            []pb.Message
	msgsAfterAppend []pb.Message
	readStates      []ReadState
	// persistedHS is the HardState last acknowledged as persisted.
	persistedHS pb.HardState

	readOnly                 *readOnly
	pendingReadIndexMessages []pb.Message

	// appendsPending/commitPending defer the leader's broadcast to the next
	// flush, so proposals and acks arriving between two Readys share one
	// append message per follower.
	appendsPending bool
	commitPending  bool

	electionElapsed           int
	heartbeatElapsed          int
	electionTimeout           int
	heartbeatTimeout          int
	randomizedElectionTimeout int

	checkQuorum bool
	preVote     bool
	readOption  ReadOnlyOption
	leaseTicks  int
	// leaseTick counts ticks; heartbeats carry it and responses echo it.
	leaseTick uint64
	// leaseAcks holds, per voter, the newest leaseTick echoed back.
	leaseAcks map[uint64]uint64
	// leaseGuard makes a restarted node honour a lease it may have promised
	// before the restart: it ignores vote requests for one election timeout.
	leaseGuard bool

	maxMsgSize         uint64
	maxUncommittedSize uint64

	tick   func()
	step   stepFunc
	rand   *rand.Rand
	logger *slog.Logger
}

func newRaft(c *Config) (*raft, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	hs, cs, err := c.Storage.InitialState()
	if err != nil {
		return nil, fmt.Errorf("raft: storage initial state: %w", err)
	}
	r := &raft{
		id:                 c.ID,
		raftLog:            newLog(c.Storage, c.MaxCommittedSizePerReady),
		trk:                tracker.NewProgressTracker(c.MaxInflightMsgs, c.MaxInflightBytes),
		electionTimeout:    c.ElectionTick,
		heartbeatTimeout:   c.HeartbeatTick,
		checkQuorum:        c.CheckQuorum,
		preVote:            c.PreVote,
		readOption:         c.ReadOnlyOption,
		leaseTicks:         c.leaseTicks(),
		leaseTick:          1,
		leaseAcks:          map[uint64]uint64{},
		maxMsgSize:         c.MaxSizePerMsg,
		maxUncommittedSize: c.MaxUncommittedEntriesSize,
		readOnly:           newReadOnly(),
		rand:               c.Rand,
		logger:             c.Logger.With("raft", c.ID),
	}
	cfg, prs, err := confchange.Restore(cs, r.raftLog.lastIndex(), c.MaxInflightMsgs, c.MaxInflightBytes)
	if err != nil {
		return nil, fmt.Errorf("raft: restore configuration %s: %w", cs, err)
	}
	r.switchToConfig(cfg, prs)
	if !hs.IsEmpty() {
		if hs.Commit < r.raftLog.committed || hs.Commit > r.raftLog.lastIndex() {
			return nil, fmt.Errorf("raft: persisted commit %d out of range [%d, %d]", hs.Commit, r.raftLog.committed, r.raftLog.lastIndex())
		}
		r.raftLog.committed = hs.Commit
		r.Term, r.Vote = hs.Term, hs.Vote
	}
	// A node that had a term before may have acknowledged a leader's
	// heartbeat just before it restarted.
	r.leaseGuard = c.ReadOnlyOption == ReadOnlyLeaseBased && r.Term > 0
	r.persistedHS = hs
	if c.Applied > 0 {
		if c.Applied > r.raftLog.committed {
			return nil, fmt.Errorf("raft: applied %d is beyond committed %d", c.Applied, r.raftLog.committed)
		}
		if c.Applied > r.raftLog.applied {
			r.raftLog.appliedTo(c.Applied)
		}
	}
	guard := r.leaseGuard
	r.becomeFollower(r.Term, None)
	r.leaseGuard = guard
	r.logger.Info("raft node started", "term", r.Term, "commit", r.raftLog.committed,
		"applied", r.raftLog.applied, "lastindex", r.raftLog.lastIndex(), "config", cs.String())
	return r, nil
}

func (r *raft) softState() SoftState { return SoftState{Lead: r.lead, RaftState: r.state} }

func (r *raft) hardState() pb.HardState {
	return pb.HardState{Term: r.Term, Vote: r.Vote, Commit: r.raftLog.committed}
}

// hasUnpersisted reports whether anything a response could depend on is not
// yet acknowledged as durable.
func (r *raft) hasUnpersisted() bool {
	u := &r.raftLog.unstable
	return len(u.entries) > 0 || u.snapshot != nil || r.Term != r.persistedHS.Term || r.Vote != r.persistedHS.Vote
}

// send queues m, filling in From and Term. Responses that promise something
// about durable state (append and vote acknowledgements) and every message
// to self are held back until the persist of the current state is
// acknowledged (see rawnode.go).
func (r *raft) send(m pb.Message) {
	if m.From == None {
		m.From = r.id
	}
	switch m.Type {
	case pb.MsgVote, pb.MsgVoteResp, pb.MsgPreVote, pb.MsgPreVoteResp:
		if m.Term == 0 {
			panic(fmt.Sprintf("raft: term must be set when sending %s", m.Type))
		}
	default:
		if m.Term != 0 {
			panic(fmt.Sprintf("raft: term must not be set when sending %s (was %d)", m.Type, m.Term))
		}
		if m.Type != pb.MsgProp && m.Type != pb.MsgReadIndex {
			m.Term = r.Term
		}
	}
	if m.To == r.id {
		// Coalesce the leader's self-acks: the latest covers the earlier.
		if n := len(r.msgsAfterAppend); n > 0 && m.Type == pb.MsgAppResp {
			last := &r.msgsAfterAppend[n-1]
			if last.To == r.id && last.Type == pb.MsgAppResp && last.Term == m.Term {
				last.Index = m.Index
				return
			}
		}
		r.msgsAfterAppend = append(r.msgsAfterAppend, m)
		return
	}
	if (m.Type == pb.MsgAppResp || m.Type == pb.MsgVoteResp) && r.hasUnpersisted() {
		r.msgsAfterAppend = append(r.msgsAfterAppend, m)
		return
	}
	r.msgs = append(r.msgs, m)
}

// flush performs the leader's deferred broadcast.
func (r *raft) flush() {
	if r.state != StateLeader || !(r.appendsPending || r.commitPending) {
		r.appendsPending, r.commitPending = false, false
		return
	}
	r.appendsPending, r.commitPending = false, false
	r.trk.Visit(func(id uint64, _ *tracker.Progress) {
		if id != r.id {
			r.maybeSendAppend(id, false)
		}
	})
}

// maybeSendAppend sends entries from pr.Next to a follower, or a snapshot if
// they were compacted. sendIfEmpty sends an empty append (carrying the commit
// index) when there is nothing new. It returns whether it sent anything.
func (r *raft) maybeSendAppend(to uint64, sendIfEmpty bool) bool {
	if to == r.id {
		return false
	}
	pr := r.trk.Progress[to]
	if pr == nil || pr.IsPaused() {
		return false
	}
	prevIndex := pr.Next - 1
	prevTerm, err := r.raftLog.term(prevIndex)
	if err != nil {
		return r.maybeSendSnapshot(to, pr)
	}
	var ents []pb.Entry
	if pr.State != tracker.StateReplicate || !pr.Inflights.Full() {
		ents, err = r.raftLog.entries(pr.Next, r.maxMsgSize)
		if err != nil {
			return r.maybeSendSnapshot(to, pr)
		}
	}
	commit := r.raftLog.committed
	if len(ents) == 0 && !sendIfEmpty && !pr.CanBumpCommit(commit) {
		return false
	}
	r.send(pb.Message{To: to, Type: pb.MsgApp, Index: prevIndex, LogTerm: prevTerm, Entries: ents, Commit: commit})
	pr.SentEntries(len(ents), prevIndex+uint64(len(ents)), pb.EntriesSize(ents))
	pr.SentCommit = max(pr.SentCommit, commit)
	return true
}

func (r *raft) sendAppend(to uint64) { r.maybeSendAppend(to, true) }

func (r *raft) maybeSendSnapshot(to uint64, pr *tracker.Progress) bool {
	if !pr.RecentActive {
		return false
	}
	snap, err := r.raftLog.snapshot()
	if errors.Is(err, ErrSnapshotTemporarilyUnavailable) {
		return false
	} else if err != nil {
		panic(err)
	}
	if snap.IsEmpty() {
		panic("raft: need a non-empty snapshot to catch up a follower")
	}
	pr.BecomeSnapshot(snap.Metadata.Index)
	r.logger.Debug("sending snapshot", "to", to, "index", snap.Metadata.Index)
	r.send(pb.Message{To: to, Type: pb.MsgSnap, Snapshot: &snap})
	return true
}

func (r *raft) bcastAppend() {
	r.appendsPending = false
	r.trk.Visit(func(id uint64, _ *tracker.Progress) {
		if id != r.id {
			r.sendAppend(id)
		}
	})
}

func (r *raft) bcastHeartbeat() {
	r.bcastHeartbeatWithCtx(r.readOnly.lastPendingRequestCtx())
}

func (r *raft) bcastHeartbeatWithCtx(ctx []byte) {
	r.trk.Visit(func(id uint64, pr *tracker.Progress) {
		if id == r.id {
			return
		}
		// Never tell a follower to commit beyond what it is known to hold.
		commit := min(pr.Match, r.raftLog.committed)
		r.send(pb.Message{To: id, Type: pb.MsgHeartbeat, Commit: commit, Context: ctx, Index: r.leaseTick})
	})
}

// maybeCommit advances the commit index to what a quorum holds, but only
// through an entry of the current term (paper §5.4.2).
func (r *raft) maybeCommit() bool {
	return r.raftLog.maybeCommit(r.trk.Committed(), r.Term)
}

func (r *raft) reset(term uint64) {
	if r.Term != term {
		r.Term = term
		r.Vote = None
	}
	r.lead = None
	r.electionElapsed = 0
	r.heartbeatElapsed = 0
	r.resetRandomizedElectionTimeout()
	r.abortLeaderTransfer()
	r.trk.ResetVotes()
	last := r.raftLog.lastIndex()
	r.trk.Visit(func(id uint64, pr *tracker.Progress) {
		*pr = tracker.Progress{
			Next:      last + 1,
			State:     tracker.StateProbe,
			Inflights: tracker.NewInflights(r.trk.MaxInflight, r.trk.MaxInflightBytes),
			IsLearner: pr.IsLearner,
		}
		if id == r.id {
			pr.Match = r.raftLog.persistedIndex()
		}
	})
	r.pendingConfIndex = 0
	r.uncommittedSize = 0
	r.readOnly = newReadOnly()
	r.pendingReadIndexMessages = nil
	r.appendsPending, r.commitPending = false, false
	clear(r.leaseAcks)
}

func (r *raft) resetRandomizedElectionTimeout() {
	r.randomizedElectionTimeout = r.electionTimeout + r.rand.IntN(r.electionTimeout)
}

// appendEntry appends proposals from the leader, assigning term and index.
func (r *raft) appendEntry(es ...pb.Entry) bool {
	li := r.raftLog.lastIndex()
	for i := range es {
		es[i].Term = r.Term
		es[i].Index = li + 1 + uint64(i)
		if es[i].Type == 0 {
			es[i].Type = pb.EntryNormal
		}
	}
	if !r.increaseUncommittedSize(es) {
		return false
	}
	li = r.raftLog.append(es...)
	// The leader acknowledges its own entries once they are persisted.
	r.send(pb.Message{To: r.id, Type: pb.MsgAppResp, Index: li})
	return true
}

func (r *raft) increaseUncommittedSize(es []pb.Entry) bool {
	s := pb.PayloadsSize(es)
	if r.uncommittedSize > 0 && s > 0 && r.uncommittedSize+s > r.maxUncommittedSize {
		return false
	}
	r.uncommittedSize += s
	return true
}

func (r *raft) reduceUncommittedSize(s uint64) {
	if s > r.uncommittedSize {
		r.uncommittedSize = 0
	} else {
		r.uncommittedSize -= s
	}
}

func (r *raft) tickElection() {
	r.electionElapsed++
	r.leaseTick++
	if r.leaseGuard && r.electionElapsed >= r.electionTimeout {
		r.leaseGuard = false
	}
	if r.promotable() && r.electionElapsed >= r.randomizedElectionTimeout {
		r.electionElapsed = 0
		if err := r.Step(pb.Message{From: r.id, Type: pb.MsgHup}); err != nil {
			r.logger.Debug("error campaigning on election timeout", "err", err)
		}
	}
}

func (r *raft) tickHeartbeat() {
	r.heartbeatElapsed++
	r.electionElapsed++
	r.leaseTick++
	if r.electionElapsed >= r.electionTimeout {
		r.electionElapsed = 0
		if r.checkQuorum {
			_ = r.Step(pb.Message{From: r.id, Type: pb.MsgCheckQuorum})
		}
		// A transfer that did not finish within an election timeout is
		// abandoned so proposals are accepted again.
		if r.state == StateLeader && r.leadTransferee != None {
			r.abortLeaderTransfer()
		}
	}
	if r.state != StateLeader {
		return
	}
	if r.heartbeatElapsed >= r.heartbeatTimeout {
		r.heartbeatElapsed = 0
		_ = r.Step(pb.Message{From: r.id, Type: pb.MsgBeat})
	}
}

func (r *raft) becomeFollower(term, lead uint64) {
	r.reset(term)
	r.step = stepFollower
	r.tick = r.tickElection
	r.lead = lead
	r.state = StateFollower
	if lead != None {
		r.leaseGuard = false
	}
}

func (r *raft) becomeCandidate() {
	if r.state == StateLeader {
		panic("raft: invalid transition [leader -> candidate]")
	}
	r.reset(r.Term + 1)
	r.step = stepCandidate
	r.tick = r.tickElection
	r.Vote = r.id
	r.state = StateCandidate
}

func (r *raft) becomePreCandidate() {
	if r.state == StateLeader {
		panic("raft: invalid transition [leader -> pre-candidate]")
	}
	// A pre-candidate changes neither term nor vote.
	r.step = stepCandidate
	r.trk.ResetVotes()
	r.tick = r.tickElection
	r.lead = None
	r.state = StatePreCandidate
}

func (r *raft) becomeLeader() {
	if r.state == StateFollower {
		panic("raft: invalid transition [follower -> leader]")
	}
	r.reset(r.Term)
	r.step = stepLeader
	r.tick = r.tickHeartbeat
	r.lead = r.id
	r.state = StateLeader
	r.leaseGuard = false
	pr := r.trk.Progress[r.id]
	pr.BecomeReplicate()
	pr.RecentActive = true
	// Entries already in the log may hold an unapplied conf change; block
	// new ones until those are applied.
	r.pendingConfIndex = r.raftLog.lastIndex()
	// Commit an entry of the new term so that earlier entries commit too and
	// reads know the commit index (paper §5.4.2, §8).
	if !r.appendEntry(pb.Entry{Type: pb.EntryNormal}) {
		panic("raft: empty entry was dropped")
	}
	r.logger.Info("became leader", "term", r.Term)
}

// promotable reports whether this node may campaign.
func (r *raft) promotable() bool {
	pr := r.trk.Progress[r.id]
	return pr != nil && !pr.IsLearner && r.raftLog.unstable.snapshot == nil
}

func (r *raft) hup(t campaignType) {
	if r.state == StateLeader {
		return
	}
	if !r.promotable() {
		r.logger.Debug("not promotable, ignoring campaign")
		return
	}
	if r.hasUnappliedConfChanges() {
		r.logger.Debug("unapplied conf changes, ignoring campaign")
		return
	}
	r.campaign(t)
}

func (r *raft) hasUnappliedConfChanges() bool {
	if r.raftLog.applied >= r.raftLog.committed {
		return false
	}
	lo, hi := r.raftLog.applied+1, r.raftLog.committed+1
	for lo < hi {
		ents, err := r.raftLog.slice(lo, hi, r.maxMsgSize)
		if err != nil {
			panic(fmt.Sprintf("raft: error scanning unapplied entries [%d, %d): %v", lo, hi, err))
		}
		for _, e := range ents {
			if e.Type == pb.EntryConfChange {
				return true
			}
		}
		lo += uint64(len(ents))
	}
	return false
}

func (r *raft) campaign(t campaignType) {
	var term uint64
	var voteMsg pb.MessageType
	if t == campaignPreElection {
		r.becomePreCandidate()
		voteMsg = pb.MsgPreVote
		term = r.Term + 1
	} else {
		r.becomeCandidate()
		voteMsg = pb.MsgVote
		term = r.Term
	}
	var ctx []byte
	if t == campaignTransfer {
		ctx = campaignTransferCtx
	}
	last, lastTerm := r.raftLog.lastIndex(), r.raftLog.lastTerm()
	for _, id := range r.trk.VoterNodes() {
		if id == r.id {
			// Our own vote counts only once term and vote are durable.
			r.send(pb.Message{To: id, Term: term, Type: pb.VoteResponseType(voteMsg)})
			continue
		}
		r.send(pb.Message{To: id, Term: term, Type: voteMsg, Index: last, LogTerm: lastTerm, Context: ctx})
	}
}

// poll records a vote and returns the tally. An election is only won once
// the node's own (durable) vote is among the votes.
func (r *raft) poll(id uint64, v bool) quorum.VoteResult {
	r.trk.RecordVote(id, v)
	_, _, res := r.trk.TallyVotes()
	if res == quorum.VoteWon && !r.trk.Votes[r.id] {
		return quorum.VotePending
	}
	return res
}

package raft

import (
	"bytes"
	"fmt"

	"github.com/cairndb/cairn/raft/confchange"
	"github.com/cairndb/cairn/raft/quorum"
	pb "github.com/cairndb/cairn/raft/raftpb"
	"github.com/cairndb/cairn/raft/tracker"
)

// Step is the single entry point for messages (paper figure 2, "Rules for
// Servers"), including local ones (term 0).
func (r *raft) Step(m pb.Message) error {
	if err := r.validate(m); err != nil {
		return err
	}
	switch {
	case m.Term == 0:
		// Local message or proposal/read forwarded without a term.
	case m.Term > r.Term:
		if m.Type == pb.MsgVote || m.Type == pb.MsgPreVote {
			force := bytes.Equal(m.Context, campaignTransferCtx)
			inLease := r.checkQuorum && r.electionElapsed < r.electionTimeout && (r.lead != None || r.leaseGuard)
			if !force && inLease {
				// We heard from a leader within the election timeout: a
				// disruptive candidate is ignored (thesis §4.2.3), which is
				// also what lease reads rely on.
				return nil
			}
		}
		switch {
		case m.Type == pb.MsgPreVote:
			// Pre-votes never change our term.
		case m.Type == pb.MsgPreVoteResp && !m.Reject:
			// We bump our term when the pre-election is won.
		default:
			if m.Type == pb.MsgApp || m.Type == pb.MsgHeartbeat || m.Type == pb.MsgSnap {
				r.becomeFollower(m.Term, m.From)
			} else {
				r.becomeFollower(m.Term, None)
			}
		}
	case m.Term < r.Term:
		if m.Type == pb.MsgHeartbeat || m.Type == pb.MsgApp {
			// A stale leader: reject by telling it our term so it steps
			// down (§5.1). With pre-vote and check-quorum this is also what
			// lets a deposed leader rejoin.
			r.send(pb.Message{To: m.From, Type: pb.MsgAppResp})
		} else if m.Type == pb.MsgPreVote {
			r.send(pb.Message{To: m.From, Term: r.Term, Type: pb.MsgPreVoteResp, Reject: true})
		}
		return nil
	}

	switch m.Type {
	case pb.MsgHup:
		if r.preVote {
			r.hup(campaignPreElection)
		} else {
			r.hup(campaignElection)
		}
	case pb.MsgVote, pb.MsgPreVote:
		canVote := r.Vote == m.From ||
			(r.Vote == None && r.lead == None) ||
			(m.Type == pb.MsgPreVote && m.Term > r.Term)
		// Paper §5.4.1: only vote for a candidate whose log is at least as
		// up-to-date as ours (last term first, then length).
		if canVote && r.raftLog.isUpToDate(m.Index, m.LogTerm) {
			r.send(pb.Message{To: m.From, Term: m.Term, Type: pb.VoteResponseType(m.Type)})
			if m.Type == pb.MsgVote {
				r.electionElapsed = 0
				r.Vote = m.From
			}
		} else {
			r.send(pb.Message{To: m.From, Term: r.Term, Type: pb.VoteResponseType(m.Type), Reject: true})
		}
	default:
		return r.step(r, m)
	}
	return nil
}

// validate rejects malformed messages before they can touch any state.
func (r *raft) validate(m pb.Message) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidMessage, fmt.Sprintf(format, args...), pb.DescribeMessage(m, nil))
	}
	if !m.Type.Valid() {
		return bad("unknown type")
	}
	if m.From == None && m.Type != pb.MsgProp && m.Type != pb.MsgReadIndex {
		return bad("no sender")
	}
	// Only local messages and requests forwarded to the leader travel
	// without a term; anything else with term 0 would bypass the term rules.
	termless := m.Type.IsLocal() || m.Type == pb.MsgProp || m.Type == pb.MsgReadIndex || m.Type == pb.MsgTransferLeader
	if !termless && m.Term == 0 {
		return bad("missing term")
	}
	if m.Type.IsLocal() && m.Term != 0 {
		return bad("local message with a term")
	}
	switch m.Type {
	case pb.MsgApp:
		if m.Index > ^uint64(0)-uint64(len(m.Entries))-1 {
			return bad("index overflow")
		}
		if m.LogTerm > m.Term {
			return bad("previous entry from a future term")
		}
		prevTerm := m.LogTerm
		for i, e := range m.Entries {
			if e.Type != pb.EntryNormal && e.Type != pb.EntryConfChange {
				return bad("entry of unknown type")
			}
			if e.Index != m.Index+1+uint64(i) {
				return bad("entries not contiguous")
			}
			if e.Term < prevTerm || e.Term > m.Term {
				return bad("entry terms out of order")
			}
			prevTerm = e.Term
		}
	case pb.MsgSnap:
		if m.Snapshot == nil || m.Snapshot.IsEmpty() {
			return bad("missing snapshot")
		}
		if m.Snapshot.Metadata.Term > m.Term {
			return bad("snapshot from a future term")
		}
	case pb.MsgProp:
		if len(m.Entries) == 0 {
			return bad("empty proposal")
		}
	}
	return nil
}

func stepLeader(r *raft, m pb.Message) error {
	switch m.Type {
	case pb.MsgBeat:
		r.bcastHeartbeat()
		return nil
	case pb.MsgCheckQuorum:
		if !r.trk.QuorumActive() {
			r.logger.Warn("stepping down: no quorum heard within the election timeout", "term", r.Term)
			r.becomeFollower(r.Term, None)
		}
		r.trk.Visit(func(id uint64, pr *tracker.Progress) {
			if id != r.id {
				pr.RecentActive = false
			}
		})
		return nil
	case pb.MsgProp:
		return r.handlePropose(m)
	case pb.MsgReadIndex:
		if r.trk.IsSingleton() || r.committedEntryInCurrentTerm() {
			r.serveReadIndex(m)
		} else {
			// Thesis §6.4: the read index is only known once an entry of
			// this term is committed.
			r.pendingReadIndexMessages = append(r.pendingReadIndexMessages, m)
		}
		return nil
	}

	pr := r.trk.Progress[m.From]
	if pr == nil {
		return nil
	}
	switch m.Type {
	case pb.MsgAppResp:
		r.handleAppendResponse(m, pr)
	case pb.MsgHeartbeatResp:
		r.handleHeartbeatResponse(m, pr)
	case pb.MsgSnapStatus:
		if pr.State != tracker.StateSnapshot {
			return nil
		}
		if m.Reject {
			pr.PendingSnapshot = 0
		}
		pr.BecomeProbe()
		// Wait for a heartbeat response before probing again.
		pr.MsgAppFlowPaused = true
	case pb.MsgUnreachable:
		if pr.State == tracker.StateReplicate {
			pr.BecomeProbe()
		}
	case pb.MsgTransferLeader:
		r.handleTransferLeader(m, pr)
	}
	return nil
}

func (r *raft) handlePropose(m pb.Message) error {
	if r.trk.Progress[r.id] == nil {
		return fmt.Errorf("%w: leader is no longer a member", ErrProposalDropped)
	}
	if r.leadTransferee != None {
		return fmt.Errorf("%w (to %d)", ErrTransferring, r.leadTransferee)
	}
	for i, e := range m.Entries {
		if e.Type != pb.EntryConfChange {
			continue
		}
		cc, err := pb.UnmarshalConfChange(e.Data)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidMessage, err)
		}
		if err := r.checkConfChange(cc); err != nil {
			return fmt.Errorf("%w: %v", ErrConfChangePending, err)
		}
		r.pendingConfIndex = r.raftLog.lastIndex() + uint64(i) + 1
	}
	if !r.appendEntry(m.Entries...) {
		return fmt.Errorf("%w (over %d bytes)", ErrUncommittedFull, r.maxUncommittedSize)
	}
	r.appendsPending = true
	return nil
}

// checkConfChange refuses a change while another is in flight and checks
// that it can be applied to the current configuration.
func (r *raft) checkConfChange(cc pb.ConfChange) error {
	if r.pendingConfIndex > r.raftLog.applied {
		return fmt.Errorf("conf change at index %d not yet applied (applied %d)", r.pendingConfIndex, r.raftLog.applied)
	}
	changer := confchange.Changer{Tracker: r.trk, LastIndex: r.raftLog.lastIndex()}
	var err error
	if cc.LeaveJoint() {
		_, _, err = changer.LeaveJoint()
	} else if auto, ok := cc.EnterJoint(); ok {
		_, _, err = changer.EnterJoint(auto, cc.Changes...)
	} else {
		_, _, err = changer.Simple(cc.Changes...)
	}
	return err
}

func (r *raft) handleAppendResponse(m pb.Message, pr *tracker.Progress) {
	pr.RecentActive = true
	if m.Reject {
		next := m.RejectHint
		if m.LogTerm > 0 {
			// Skip every entry of a term the follower does not have
			// (fast backtracking with a term hint).
			next, _ = r.raftLog.findConflictByTerm(min(m.RejectHint, r.raftLog.lastIndex()), m.LogTerm)
		}
		if pr.MaybeDecrTo(m.Index, next) {
			if pr.State == tracker.StateReplicate {
				pr.BecomeProbe()
			}
			r.sendAppend(m.From)
		}
		return
	}
	if m.Index > r.raftLog.lastIndex() {
		r.logger.Warn("ignoring ack beyond last index", "from", m.From, "index", m.Index)
		return
	}
	if !pr.MaybeUpdate(m.Index) {
		return
	}
	switch {
	case pr.State == tracker.StateProbe:
		pr.BecomeReplicate()
	case pr.State == tracker.StateSnapshot && pr.Match >= pr.PendingSnapshot:
		pr.BecomeProbe()
		pr.BecomeReplicate()
	case pr.State == tracker.StateReplicate:
		pr.Inflights.FreeLE(m.Index)
	}
	if r.maybeCommit() {
		r.commitPending = true
		r.releasePendingReadIndexMessages()
	}
	// Keep the pipeline full.
	for r.maybeSendAppend(m.From, false) {
	}
	if m.From == r.leadTransferee && pr.Match == r.raftLog.lastIndex() {
		r.send(pb.Message{To: m.From, Type: pb.MsgTimeoutNow})
	}
}

func (r *raft) handleHeartbeatResponse(m pb.Message, pr *tracker.Progress) {
	pr.RecentActive = true
	pr.MsgAppFlowPaused = false
	if pr.State == tracker.StateReplicate && pr.Inflights.Full() {
		pr.Inflights.FreeFirstOne()
	}
	if m.Index <= r.leaseTick && m.Index > r.leaseAcks[m.From] && !pr.IsLearner {
		r.leaseAcks[m.From] = m.Index
	}
	if pr.Match < r.raftLog.lastIndex() {
		r.sendAppend(m.From)
	}
	if len(m.Context) == 0 {
		return
	}
	acks := r.readOnly.recvAck(m.From, m.Context)
	if acks == nil || r.trk.Voters.VoteResult(acks) != quorum.VoteWon {
		return
	}
	for _, rs := range r.readOnly.advance(m.Context) {
		r.respondRead(rs.req, rs.index)
	}
}

func (r *raft) handleTransferLeader(m pb.Message, pr *tracker.Progress) {
	if pr.IsLearner {
		return
	}
	to := m.From
	if r.leadTransferee != None {
		if r.leadTransferee == to {
			return
		}
		r.abortLeaderTransfer()
	}
	if to == r.id {
		return
	}
	// The transfer must complete within an election timeout.
	r.electionElapsed = 0
	r.leadTransferee = to
	if pr.Match == r.raftLog.lastIndex() {
		r.send(pb.Message{To: to, Type: pb.MsgTimeoutNow})
	} else {
		r.sendAppend(to)
	}
}

func (r *raft) abortLeaderTransfer() { r.leadTransferee = None }

func (r *raft) committedEntryInCurrentTerm() bool {
	return r.raftLog.zeroTermOnOutOfBounds(r.raftLog.term(r.raftLog.committed)) == r.Term
}

func (r *raft) releasePendingReadIndexMessages() {
	if len(r.pendingReadIndexMessages) == 0 || !r.committedEntryInCurrentTerm() {
		return
	}
	msgs := r.pendingReadIndexMessages
	r.pendingReadIndexMessages = nil
	for _, m := range msgs {
		r.serveReadIndex(m)
	}
}

// serveReadIndex answers a read at the current commit index: at once on a
// single node or under a valid lease, otherwise after a heartbeat quorum.
func (r *raft) serveReadIndex(m pb.Message) {
	switch {
	case r.trk.IsSingleton():
		r.respondRead(m, r.raftLog.committed)
	case r.readOption == ReadOnlyLeaseBased && r.leaseValid():
		r.respondRead(m, r.raftLog.committed)
	default:
		r.readOnly.addRequest(r.raftLog.committed, m)
		r.readOnly.recvAck(r.id, m.Context)
		r.bcastHeartbeatWithCtx(m.Context)
	}
}

func (r *raft) respondRead(req pb.Message, index uint64) {
	if req.From == None || req.From == r.id {
		r.readStates = append(r.readStates, ReadState{Index: index, RequestCtx: req.Context})
		return
	}
	r.send(pb.Message{To: req.From, Type: pb.MsgReadIndexResp, Index: index, Context: req.Context})
}

// leaseAckIndexer maps each voter to the send tick of its newest
// acknowledged heartbeat; the leader itself counts as "now".
type leaseAckIndexer struct{ r *raft }

func (l leaseAckIndexer) AckedIndex(id uint64) (uint64, bool) {
	if id == l.r.id {
		return l.r.leaseTick, true
	}
	t, ok := l.r.leaseAcks[id]
	return t, ok
}

// leaseValid reports whether a quorum acknowledged a heartbeat sent at most
// leaseTicks ticks ago, so that no other leader can have been elected (see
// the lease argument in doc.go).
func (r *raft) leaseValid() bool {
	if r.state != StateLeader || r.leadTransferee != None || !r.checkQuorum {
		return false
	}
	start := r.trk.Voters.CommittedIndex(leaseAckIndexer{r})
	return start > 0 && r.leaseTick-start <= uint64(r.leaseTicks)
}

func stepCandidate(r *raft, m pb.Message) error {
	myResp := pb.MsgVoteResp
	if r.state == StatePreCandidate {
		myResp = pb.MsgPreVoteResp
	}
	switch m.Type {
	case pb.MsgProp:
		return fmt.Errorf("%w (campaigning)", ErrNoLeader)
	case pb.MsgReadIndex:
		return fmt.Errorf("%w (campaigning)", ErrNoLeader)
	case pb.MsgApp:
		r.becomeFollower(m.Term, m.From)
		r.handleAppendEntries(m)
	case pb.MsgHeartbeat:
		r.becomeFollower(m.Term, m.From)
		r.handleHeartbeat(m)
	case pb.MsgSnap:
		r.becomeFollower(m.Term, m.From)
		r.handleSnapshot(m)
	case myResp:
		switch r.poll(m.From, !m.Reject) {
		case quorum.VoteWon:
			if r.state == StatePreCandidate {
				r.campaign(campaignElection)
			} else {
				r.becomeLeader()
				r.bcastAppend()
			}
		case quorum.VoteLost:
			r.becomeFollower(r.Term, None)
		}
	}
	return nil
}

func stepFollower(r *raft, m pb.Message) error {
	switch m.Type {
	case pb.MsgProp:
		if r.lead == None {
			return ErrNoLeader
		}
		m.To, m.Term = r.lead, 0
		r.send(m)
	case pb.MsgApp:
		r.electionElapsed = 0
		r.lead = m.From
		r.handleAppendEntries(m)
	case pb.MsgHeartbeat:
		r.electionElapsed = 0
		r.lead = m.From
		r.handleHeartbeat(m)
	case pb.MsgSnap:
		r.electionElapsed = 0
		r.lead = m.From
		r.handleSnapshot(m)
	case pb.MsgTransferLeader:
		if r.lead == None {
			return fmt.Errorf("%w to transfer from", ErrNoLeader)
		}
		m.To, m.Term = r.lead, 0
		r.send(m)
	case pb.MsgTimeoutNow:
		r.logger.Info("campaigning on leadership transfer", "term", r.Term)
		r.hup(campaignTransfer)
	case pb.MsgReadIndex:
		if r.lead == None {
			return fmt.Errorf("%w to serve the read", ErrNoLeader)
		}
		m.To, m.Term = r.lead, 0
		r.send(m)
	case pb.MsgReadIndexResp:
		r.readStates = append(r.readStates, ReadState{Index: m.Index, RequestCtx: m.Context})
	}
	return nil
}

// handleAppendEntries is the follower side of AppendEntries (paper §5.3).
func (r *raft) handleAppendEntries(m pb.Message) {
	if m.Index < r.raftLog.committed {
		r.send(pb.Message{To: m.From, Type: pb.MsgAppResp, Index: r.raftLog.committed})
		return
	}
	lastNew, ok, err := r.raftLog.maybeAppend(m.Index, m.LogTerm, m.Commit, m.Entries)
	if err != nil {
		r.logger.Error("dropping append", "err", err, "msg", pb.DescribeMessage(m, nil))
		return
	}
	if ok {
		r.send(pb.Message{To: m.From, Type: pb.MsgAppResp, Index: lastNew})
		return
	}
	// Reject, hinting the largest index whose term is <= m.LogTerm so the
	// leader can skip a whole term of mismatching entries at once.
	hintIndex := min(m.Index, r.raftLog.lastIndex())
	hintIndex, hintTerm := r.raftLog.findConflictByTerm(hintIndex, m.LogTerm)
	r.send(pb.Message{To: m.From, Type: pb.MsgAppResp, Index: m.Index, Reject: true, RejectHint: hintIndex, LogTerm: hintTerm})
}

func (r *raft) handleHeartbeat(m pb.Message) {
	// The leader caps Commit at our match; a larger value is bogus.
	if m.Commit <= r.raftLog.lastIndex() {
		r.raftLog.commitTo(m.Commit)
	}
	r.send(pb.Message{To: m.From, Type: pb.MsgHeartbeatResp, Context: m.Context, Index: m.Index})
}

func (r *raft) handleSnapshot(m pb.Message) {
	s := *m.Snapshot
	if r.restore(s) {
		r.send(pb.Message{To: m.From, Type: pb.MsgAppResp, Index: r.raftLog.lastIndex()})
	} else {
		r.send(pb.Message{To: m.From, Type: pb.MsgAppResp, Index: r.raftLog.committed})
	}
}

// restore installs a snapshot from the leader; it returns false if the
// snapshot is stale or already covered by the log.
func (r *raft) restore(s pb.Snapshot) bool {
	if s.Metadata.Index <= r.raftLog.committed {
		return false
	}
	if r.state != StateFollower {
		// Defensive: only followers install snapshots.
		r.becomeFollower(r.Term+1, None)
		return false
	}
	cs := s.Metadata.ConfState
	member := false
	for _, ids := range [][]uint64{cs.Voters, cs.Learners, cs.VotersOutgoing} {
		for _, id := range ids {
			member = member || id == r.id
		}
	}
	if !member {
		r.logger.Warn("ignoring snapshot that does not include this node", "conf", cs.String())
		return false
	}
	if r.raftLog.matchTerm(s.Metadata.Index, s.Metadata.Term) {
		// We already have the snapshot's last entry: just commit up to it.
		r.raftLog.commitTo(s.Metadata.Index)
		return false
	}
	cfg, prs, err := confchange.Restore(cs, s.Metadata.Index, r.trk.MaxInflight, r.trk.MaxInflightBytes)
	if err != nil {
		r.logger.Error("ignoring snapshot with invalid configuration", "err", err)
		return false
	}
	r.raftLog.restore(s)
	r.switchToConfig(cfg, prs)
	r.logger.Info("restored snapshot", "index", s.Metadata.Index, "term", s.Metadata.Term)
	return true
}

// applyConfChange computes and installs the configuration after cc.
func (r *raft) applyConfChange(cc pb.ConfChange) (pb.ConfState, error) {
	changer := confchange.Changer{Tracker: r.trk, LastIndex: r.raftLog.lastIndex()}
	var cfg tracker.Config
	var prs tracker.ProgressMap
	var err error
	if cc.LeaveJoint() {
		cfg, prs, err = changer.LeaveJoint()
	} else if auto, ok := cc.EnterJoint(); ok {
		cfg, prs, err = changer.EnterJoint(auto, cc.Changes...)
	} else {
		cfg, prs, err = changer.Simple(cc.Changes...)
	}
	if err != nil {
		return r.trk.ConfState(), err
	}
	return r.switchToConfig(cfg, prs), nil
}

func (r *raft) switchToConfig(cfg tracker.Config, prs tracker.ProgressMap) pb.ConfState {
	r.trk.SetConfig(cfg, prs)
	cs := r.trk.ConfState()
	pr, ok := r.trk.Progress[r.id]
	r.isLearner = ok && pr.IsLearner
	if r.state != StateLeader {
		return cs
	}
	if !ok || r.isLearner {
		r.logger.Info("leader removed or demoted; stepping down")
		r.becomeFollower(r.Term, None)
		return cs
	}
	if r.leadTransferee != None && !r.trk.Voters.Contains(r.leadTransferee) {
		r.abortLeaderTransfer()
	}
	if r.maybeCommit() {
		r.commitPending = true
	}
	// Reach new members and any follower the new quorum unblocked.
	r.appendsPending = true
	return cs
}

// appliedTo records that the application applied up to index.
func (r *raft) appliedTo(index uint64) {
	r.raftLog.appliedTo(index)
	if r.state == StateLeader && r.trk.AutoLeave && index >= r.pendingConfIndex {
		data := pb.MarshalConfChange(pb.ConfChange{Transition: pb.TransitionAuto})
		err := r.Step(pb.Message{From: r.id, Type: pb.MsgProp, Entries: []pb.Entry{{Type: pb.EntryConfChange, Data: data}}})
		if err != nil {
			r.logger.Debug("could not propose leaving the joint configuration", "err", err)
		}
	}
}

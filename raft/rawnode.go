package raft

import (
	"errors"
	"fmt"

	pb "github.com/cairndb/cairn/raft/raftpb"
	"github.com/cairndb/cairn/raft/tracker"
)

// Ready is a batch of work for the application. See the package doc for the
// contract; in short:
//
//  1. Persist Snapshot (and restore the state machine from it), Entries and
//     HardState to stable storage, in that order, syncing if MustSync.
//  2. Send Messages. They never depend on this Ready's unpersisted state,
//     so they may be sent before, during or after step 1.
//  3. Apply CommittedEntries in order (calling RawNode.ApplyConfChange for
//     conf change entries) and serve ReadStates whose Index is applied.
//  4. Call RawNode.Advance(rd) (or, with AsyncStorageWrites,
//     AckPersisted(rd) after step 1 and AckApplied(rd) after step 3).
//
// Messages that must wait for step 1 (append and vote acknowledgements)
// are held inside the RawNode and released in a later Ready, after the
// acknowledgement: the application cannot send them too early.
type Ready struct {
	// SoftState is set when leader or role changed; nil otherwise.
	SoftState *SoftState
	// HardState to persist; empty if unchanged.
	HardState pb.HardState
	// ReadStates answer ReadIndex requests.
	ReadStates []ReadState
	// Entries to append to stable storage (they may replace a suffix).
	Entries []pb.Entry
	// Snapshot to persist and install; empty if none.
	Snapshot pb.Snapshot
	// CommittedEntries to apply. They are already persisted locally.
	CommittedEntries []pb.Entry
	// Messages to send now.
	Messages []pb.Message
	// MustSync says the writes must be synced to disk before the
	// acknowledgement (term, vote or entries changed).
	MustSync bool

	seq     uint64 // identifies the Ready for acknowledgements
	applyTo uint64 // index of the last CommittedEntries entry
}

// persistMark is what an outstanding Ready asked to persist.
type persistMark struct {
	seq       uint64
	lastIndex uint64 // last entry handed out, 0 if none
	lastTerm  uint64
	snapIndex uint64 // snapshot handed out, 0 if none
	hs        pb.HardState
	msgs      []pb.Message // released when this persist is acknowledged
}

// RawNode is the single-threaded API to a Raft node. It is not safe for
// concurrent use. It never blocks, never starts goroutines and performs no
// I/O.
type RawNode struct {
	raft     *raft
	async    bool
	prevSoft SoftState
	prevHard pb.HardState
	seq      uint64
	persists []persistMark // handed out, not yet acknowledged (in order)
	applies  []Ready       // seq+applyTo of Readys not yet acknowledged as applied
}

// NewRawNode creates a node from its configuration and storage: a new node
// starts from Storage.InitialState (see MemoryStorage.Bootstrap), a
// restarted one from whatever the application persisted.
func NewRawNode(c Config) (*RawNode, error) {
	r, err := newRaft(&c)
	if err != nil {
		return nil, err
	}
	return &RawNode{
		raft:     r,
		async:    c.AsyncStorageWrites,
		prevSoft: r.softState(),
		prevHard: r.hardState(),
	}, nil
}

// Tick advances the logical clock by one tick.
func (rn *RawNode) Tick() { rn.raft.tick() }

// Campaign starts an election now (pre-vote first if enabled).
func (rn *RawNode) Campaign() error {
	return rn.raft.Step(pb.Message{From: rn.raft.id, Type: pb.MsgHup})
}

// Propose proposes data to be appended to the log. ErrProposalDropped means
// it was refused; success does not mean it will commit.
func (rn *RawNode) Propose(data []byte) error {
	return rn.raft.Step(pb.Message{Type: pb.MsgProp, From: rn.raft.id,
		Entries: []pb.Entry{{Type: pb.EntryNormal, Data: data}}})
}

// ProposeConfChange proposes a membership change.
func (rn *RawNode) ProposeConfChange(cc pb.ConfChange) error {
	if err := cc.Validate(); err != nil {
		return err
	}
	return rn.raft.Step(pb.Message{Type: pb.MsgProp, From: rn.raft.id,
		Entries: []pb.Entry{{Type: pb.EntryConfChange, Data: pb.MarshalConfChange(cc)}}})
}

// ApplyConfChange applies a committed conf change entry's ConfChange and
// returns the new configuration, which the application should store with
// its state (snapshots need it). An error leaves the configuration
// unchanged; it is deterministic, so every node refuses alike.
func (rn *RawNode) ApplyConfChange(cc pb.ConfChange) (pb.ConfState, error) {
	return rn.raft.applyConfChange(cc)
}

// Step feeds a message received from another node.
func (rn *RawNode) Step(m pb.Message) error {
	if m.Type.IsLocal() {
		return ErrStepLocalMsg
	}
	if m.To != rn.raft.id {
		return fmt.Errorf("%w: addressed to %d, this is %d", ErrInvalidMessage, m.To, rn.raft.id)
	}
	// A proposal or read request forwarded to a leader that has since
	// stepped down is forwarded again, and can come back to the node that
	// first sent it, now the leader: it is that node's own request.
	if m.From == rn.raft.id && m.Type != pb.MsgProp && m.Type != pb.MsgReadIndex {
		return fmt.Errorf("%w: message from this node itself", ErrInvalidMessage)
	}
	if m.Type.IsResponse() && rn.raft.trk.Progress[m.From] == nil {
		return ErrStepPeerNotFound
	}
	return rn.raft.Step(m)
}

// ReadIndex requests a linearizable read; rctx identifies it (it must be
// non-empty and unique among pending reads). The answer is a ReadState
// with the same RequestCtx in a later Ready.
func (rn *RawNode) ReadIndex(rctx []byte) error {
	if len(rctx) == 0 {
		return errors.New("raft: ReadIndex needs a non-empty request context")
	}
	return rn.raft.Step(pb.Message{Type: pb.MsgReadIndex, From: rn.raft.id, Context: rctx})
}

// TransferLeader asks the leader to hand leadership to transferee.
func (rn *RawNode) TransferLeader(transferee uint64) error {
	return rn.raft.Step(pb.Message{Type: pb.MsgTransferLeader, From: transferee, To: rn.raft.id})
}

// ReportUnreachable tells the leader that a message to id could not be sent.
func (rn *RawNode) ReportUnreachable(id uint64) {
	_ = rn.raft.Step(pb.Message{Type: pb.MsgUnreachable, From: id})
}

// ReportSnapshot tells the leader whether sending a snapshot to id finished.
func (rn *RawNode) ReportSnapshot(id uint64, ok bool) {
	_ = rn.raft.Step(pb.Message{Type: pb.MsgSnapStatus, From: id, Reject: !ok})
}

// HasReady reports whether Ready would return any work.
func (rn *RawNode) HasReady() bool {
	r := rn.raft
	r.flush()
	if r.softState() != rn.prevSoft {
		return true
	}
	if hs := r.hardState(); !hs.IsEmpty() && hs != rn.prevHard {
		return true
	}
	u := &r.raftLog.unstable
	return u.nextSnapshot() != nil || len(u.nextEntries()) > 0 || len(r.msgs) > 0 ||
		len(r.msgsAfterAppend) > 0 || r.raftLog.hasNextCommittedEnts() || len(r.readStates) > 0
}

// Ready returns the next batch of work and marks it as handed out. Without
// AsyncStorageWrites the previous Ready must have been advanced first.
func (rn *RawNode) Ready() Ready {
	if !rn.async && (len(rn.persists) > 0 || len(rn.applies) > 0) {
		panic("raft: Ready called before Advance of the previous Ready")
	}
	r := rn.raft
	r.flush()
	rn.seq++
	rd := Ready{seq: rn.seq}
	if ss := r.softState(); ss != rn.prevSoft {
		rd.SoftState = &ss
		rn.prevSoft = ss
	}
	hs := r.hardState()
	if hs != rn.prevHard {
		rd.HardState = hs
	}
	u := &r.raftLog.unstable
	rd.Entries = u.nextEntries()
	if s := u.nextSnapshot(); s != nil {
		rd.Snapshot = *s
	}
	rd.CommittedEntries = r.raftLog.nextCommittedEnts()
	rd.Messages = r.msgs
	r.msgs = nil
	rd.ReadStates = r.readStates
	r.readStates = nil
	rd.MustSync = len(rd.Entries) > 0 || !rd.Snapshot.IsEmpty() ||
		(!rd.HardState.IsEmpty() && (hs.Term != rn.prevHard.Term || hs.Vote != rn.prevHard.Vote))

	// Accept: everything handed out is now in progress.
	mark := persistMark{seq: rd.seq, hs: hs, msgs: r.msgsAfterAppend}
	r.msgsAfterAppend = nil
	if n := len(rd.Entries); n > 0 {
		mark.lastIndex, mark.lastTerm = rd.Entries[n-1].Index, rd.Entries[n-1].Term
	}
	mark.snapIndex = rd.Snapshot.Metadata.Index
	u.acceptInProgress()
	rn.prevHard = hs
	if n := len(rd.CommittedEntries); n > 0 {
		rd.applyTo = rd.CommittedEntries[n-1].Index
		r.raftLog.acceptApplying(rd.applyTo)
		if r.state == StateLeader {
			r.reduceUncommittedSize(pb.PayloadsSize(rd.CommittedEntries))
		}
	}
	rn.persists = append(rn.persists, mark)
	rn.applies = append(rn.applies, Ready{seq: rd.seq, applyTo: rd.applyTo})
	r.raftLog.checkInvariants()
	return rd
}

// Advance acknowledges that rd was fully handled: persisted, sent and
// applied. It is AckPersisted followed by AckApplied.
func (rn *RawNode) Advance(rd Ready) {
	rn.AckPersisted(rd)
	rn.AckApplied(rd)
}

// AckPersisted acknowledges that rd's Snapshot, Entries and HardState are
// durable (and the snapshot installed). Readys must be acknowledged in the
// order they were handed out. Messages waiting for this persist are
// released into the next Ready; acknowledgements addressed to this node are
// stepped at once.
func (rn *RawNode) AckPersisted(rd Ready) {
	if len(rn.persists) == 0 || rn.persists[0].seq != rd.seq {
		panic(fmt.Sprintf("raft: persist of Ready %d acknowledged out of order", rd.seq))
	}
	mark := rn.persists[0]
	rn.persists = rn.persists[1:]
	r := rn.raft
	if mark.snapIndex > 0 {
		r.raftLog.unstable.stableSnapTo(mark.snapIndex)
		if mark.snapIndex > r.raftLog.applied {
			r.raftLog.appliedTo(mark.snapIndex)
		}
	}
	if mark.lastIndex > 0 {
		r.raftLog.unstable.stableTo(mark.lastIndex, mark.lastTerm)
	}
	r.persistedHS = mark.hs
	for _, m := range mark.msgs {
		if m.To == r.id {
			_ = r.Step(m)
		} else {
			r.msgs = append(r.msgs, m)
		}
	}
	r.raftLog.checkInvariants()
}

// AckApplied acknowledges that rd's CommittedEntries are applied. Readys
// must be acknowledged in order.
func (rn *RawNode) AckApplied(rd Ready) {
	if len(rn.applies) == 0 || rn.applies[0].seq != rd.seq {
		panic(fmt.Sprintf("raft: apply of Ready %d acknowledged out of order", rd.seq))
	}
	rn.applies = rn.applies[1:]
	if rd.applyTo > rn.raft.raftLog.applied {
		rn.raft.appliedTo(rd.applyTo)
	}
	rn.raft.raftLog.checkInvariants()
}

// Status is a snapshot of the node's state for monitoring and invariant
// checks.
type Status struct {
	ID uint64
	pb.HardState
	SoftState
	Applied        uint64
	LastIndex      uint64
	LeadTransferee uint64
	// Config is the active configuration.
	Config pb.ConfState
	// Progress is the leader's view of every member (nil on followers).
	Progress map[uint64]tracker.Progress
}

// Status returns the current status. Progress is copied.
func (rn *RawNode) Status() Status {
	r := rn.raft
	s := Status{
		ID:             r.id,
		HardState:      r.hardState(),
		SoftState:      r.softState(),
		Applied:        r.raftLog.applied,
		LastIndex:      r.raftLog.lastIndex(),
		LeadTransferee: r.leadTransferee,
		Config:         r.trk.ConfState(),
	}
	if r.state == StateLeader {
		s.Progress = make(map[uint64]tracker.Progress, len(r.trk.Progress))
		r.trk.Visit(func(id uint64, pr *tracker.Progress) {
			s.Progress[id] = *pr.Clone()
		})
	}
	return s
}

// BasicStatus returns the status without progress; it does not allocate.
func (rn *RawNode) BasicStatus() (id uint64, hs pb.HardState, ss SoftState, applied uint64) {
	r := rn.raft
	return r.id, r.hardState(), r.softState(), r.raftLog.applied
}

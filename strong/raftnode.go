package strong

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/cairndb/cairn/raft"
	"github.com/cairndb/cairn/raft/raftpb"
	"github.com/cairndb/cairn/storage/raftlog"
)

// StateMachine is the application under the Raft log. Its methods are
// called from the apply goroutine only (RestoreSnapshot from the Raft loop
// while the apply goroutine is idle), one at a time, except WriteSnapshot,
// which runs on its own goroutine and must read a consistent point in time.
type StateMachine interface {
	// ConsistentIndex is the index of the last entry whose effects the
	// state holds. Entries at or below it are not applied again (after a
	// restart, or after a snapshot newer than the Raft snapshot arrived).
	ConsistentIndex() uint64
	// Apply applies the normal entry at index and returns the response
	// for its proposer. It must record index as consistent atomically
	// with the entry's effects.
	Apply(index uint64, req *etcdserverpb.InternalRaftRequest) (any, error)
	// ApplyConfChange records a membership change the Raft core applied.
	// It is called for every configuration entry, also those at or below
	// ConsistentIndex after a restart, so it must be idempotent.
	ApplyConfChange(index uint64, cc raftpb.ConfChange, cs raftpb.ConfState) error
	// Sync makes everything applied durable.
	Sync() error
	// WriteSnapshot streams the whole state (with its consistent index).
	WriteSnapshot(w io.Writer) error
	// RestoreSnapshot replaces the whole state with a stream written by
	// WriteSnapshot.
	RestoreSnapshot(r io.Reader) error
}

// Sender is the part of the peer transport the Raft loop uses.
type Sender interface {
	// Send queues a frame for a peer; false means it was dropped.
	Send(to uint64, frame []byte) bool
	// SendSnapshot streams a snapshot and returns when the peer took it.
	SendSnapshot(ctx context.Context, to uint64, header []byte, body io.Reader) error
}

// raftNode runs a RawNode: one goroutine owns it and does the Ready loop
// (persist, send, apply, advance); others talk to it through channels.
type raftNode struct {
	id      uint64
	log     *slog.Logger
	rn      *raft.RawNode
	storage *raftlog.Storage
	sm      StateMachine
	send    Sender
	m       *metrics

	tick          time.Duration
	electionTicks int
	// noFsync skips the log's fsync (--unsafe-no-fsync, tests only).
	noFsync       bool
	snapshotCount uint64
	catchUp       uint64
	snapDir       string

	propc    chan proposal
	confc    chan confProposal
	readc    chan readRequest
	recvc    chan raftpb.Message
	snapRecv chan receivedSnapshot
	statusc  chan snapStatus
	transfc  chan uint64
	// statusReq asks the loop for the core's status.
	statusReq chan chan nodeStatus
	stopc     chan struct{}
	done      chan struct{}

	waiters *waiters
	applied *appliedNotifier
	reads   map[string]chan uint64 // read index ctx -> answer

	lead  atomic.Uint64
	term  atomic.Uint64
	cs    raftpb.ConfState
	csMu  sync.Mutex
	snapI uint64 // index of the last Raft snapshot

	pendingSnaps map[uint64]string // snapshot index -> received file

	// forceSnap asks for a snapshot after the current Ready (a member
	// was added and must start from one); set by the apply goroutine.
	forceSnap atomic.Bool

	// applyc feeds the apply goroutine; confApply is how it asks the loop
	// to apply a configuration change; applyDone closes when it exits.
	applyc    chan applyTask
	confApply chan confApplyReq
	applyDone chan struct{}

	// onRole is told when this member gains or loses leadership.
	onRole func(leader bool)
}

type proposal struct {
	id   uint64
	data []byte
}

type confProposal struct {
	cc   raftpb.ConfChange
	errc chan error
}

type readRequest struct {
	ctx    []byte
	answer chan uint64
	errc   chan error
}

type receivedSnapshot struct {
	m    raftpb.Message
	path string
	done chan error
}

type snapStatus struct {
	to uint64
	ok bool
}

// queue bounds for the Raft loop's inputs: past them senders wait (or,
// for peer messages, the transport's stream applies back-pressure).
const (
	// maxPendingReads bounds the ReadIndex requests awaiting an answer.
	maxPendingReads = 1024
	proposalQueue   = 4096
	recvQueue       = 4096
)

func (n *raftNode) start() {
	n.propc = make(chan proposal, proposalQueue)
	n.confc = make(chan confProposal)
	n.readc = make(chan readRequest, 64)
	n.recvc = make(chan raftpb.Message, recvQueue)
	n.snapRecv = make(chan receivedSnapshot)
	n.statusc = make(chan snapStatus, 16)
	n.transfc = make(chan uint64)
	n.statusReq = make(chan chan nodeStatus)
	n.stopc = make(chan struct{})
	n.done = make(chan struct{})
	n.reads = map[string]chan uint64{}
	n.pendingSnaps = map[uint64]string{}
	n.applyc = make(chan applyTask, applyQueue)
	n.confApply = make(chan confApplyReq)
	n.applyDone = make(chan struct{})
	go n.applyLoop()
	go n.run()
}

func (n *raftNode) stop() {
	close(n.stopc)
	<-n.done
	<-n.applyDone
	n.waiters.stop(rpctypes.ErrGRPCStopped)
}

// run is the Raft loop.
func (n *raftNode) run() {
	defer close(n.done)
	// Do not wait a whole election timeout at startup (as etcd): a sole
	// voter campaigns at once; others fast-forward to just before their
	// timeout, which is still randomized.
	if cs := n.confState(); len(cs.Voters) == 1 && cs.Voters[0] == n.id {
		_ = n.rn.Campaign()
		for n.rn.HasReady() {
			if err := n.handleReady(); err != nil {
				panic(fmt.Sprintf("cairn: raft loop: %v", err))
			}
		}
	} else {
		for range n.electionTicks - 1 {
			n.rn.Tick()
		}
	}
	ticker := time.NewTicker(n.tick)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			n.rn.Tick()
		case m := <-n.recvc:
			n.step(m)
			// Drain what else arrived, so one Ready covers a burst.
			for more := true; more; {
				select {
				case m := <-n.recvc:
					n.step(m)
				default:
					more = false
				}
			}
		case p := <-n.propc:
			n.propose(p)
			for more := true; more; {
				select {
				case p := <-n.propc:
					n.propose(p)
				default:
					more = false
				}
			}
		case c := <-n.confc:
			c.errc <- n.rn.ProposeConfChange(c.cc)
		case r := <-n.readc:
			if err := n.rn.ReadIndex(r.ctx); err != nil {
				r.errc <- err
			} else {
				if len(n.reads) >= maxPendingReads {
					// Rounds that were asked again leave their old
					// request here if its answer never came.
					clear(n.reads)
				}
				n.reads[string(r.ctx)] = r.answer
			}
		case s := <-n.snapRecv:
			n.pendingSnaps[s.m.Snapshot.Metadata.Index] = s.path
			n.step(s.m)
			s.done <- nil
		case r := <-n.confApply:
			n.serveConfApply(r)
		case st := <-n.statusc:
			n.rn.ReportSnapshot(st.to, st.ok)
		case ch := <-n.statusReq:
			st := n.rn.Status()
			learner := false
			for _, id := range st.Config.Learners {
				learner = learner || id == n.id
			}
			ch <- nodeStatus{commit: st.Commit, learner: learner}
		case to := <-n.transfc:
			if err := n.rn.TransferLeader(to); err != nil {
				n.log.Warn("leadership transfer refused", "to", fmt.Sprintf("%x", to), "err", err)
			}
		case <-n.stopc:
			return
		}
		for n.rn.HasReady() {
			if err := n.handleReady(); err != nil {
				// The log or the state machine could not be written: the
				// node must not go on as if it had been (fail-stop).
				n.log.Error("raft loop: fatal storage error, stopping the node", "err", err)
				panic(fmt.Sprintf("cairn: raft loop: %v", err))
			}
		}
	}
}

func (n *raftNode) step(m raftpb.Message) {
	if err := n.rn.Step(m); err != nil && !errors.Is(err, raft.ErrStepPeerNotFound) && !errors.Is(err, raft.ErrProposalDropped) {
		n.log.Warn("dropped a peer message", "from", fmt.Sprintf("%x", m.From), "type", m.Type.String(), "err", err)
	}
}

func (n *raftNode) propose(p proposal) {
	if err := n.rn.Propose(p.data); err != nil {
		n.waiters.trigger(p.id, waitResult{err: n.proposalError(err)})
	}
}

// handleReady carries out one Ready under the contract of package raft.
func (n *raftNode) handleReady() error {
	rd := n.rn.Ready()
	if rd.SoftState != nil {
		old := n.lead.Swap(rd.SoftState.Lead)
		if old != rd.SoftState.Lead {
			n.log.Info("leader changed", "leader", fmt.Sprintf("%x", rd.SoftState.Lead), "state", rd.SoftState.RaftState.String())
			n.m.leaderChanges.Inc()
		}
		isLeader := rd.SoftState.RaftState == raft.StateLeader
		n.m.isLeader.Set(boolGauge(isLeader))
		if n.onRole != nil {
			n.onRole(isLeader)
		}
		n.m.hasLeader.Set(boolGauge(rd.SoftState.Lead != 0))
	}
	if !rd.HardState.IsEmpty() {
		n.term.Store(rd.HardState.Term)
		n.m.committedIndex.Set(float64(rd.HardState.Commit))
	}
	// Messages first: the leader replicates in parallel with its own
	// fsync (every message in a Ready is safe to send now).
	n.sendMessages(rd.Messages)
	if !rd.Snapshot.IsEmpty() {
		// The snapshot replaces the state: everything queued before it
		// must be applied first.
		if !n.waitApplied() {
			return nil
		}
		if err := n.installSnapshot(rd.Snapshot); err != nil {
			return err
		}
	}
	start := time.Now()
	u := raftlog.ReadyUpdate(rd)
	u.Sync = u.Sync && !n.noFsync
	if err := n.storage.Save(u); err != nil {
		return fmt.Errorf("persist: %w", err)
	}
	if rd.MustSync {
		n.m.persistSeconds.Observe(time.Since(start).Seconds())
	}
	if len(rd.CommittedEntries) > 0 && !n.enqueueApply(applyTask{ents: rd.CommittedEntries}) {
		return nil
	}
	for _, rs := range rd.ReadStates {
		if ch, ok := n.reads[string(rs.RequestCtx)]; ok {
			delete(n.reads, string(rs.RequestCtx))
			ch <- rs.Index
		}
	}
	n.rn.Advance(rd)
	return n.maybeSnapshot()
}

func (n *raftNode) sendMessages(msgs []raftpb.Message) {
	for _, m := range msgs {
		if m.Type == raftpb.MsgSnap {
			go n.sendSnapshot(m)
			continue
		}
		if !n.send.Send(m.To, raftpb.AppendMessage(nil, m)) {
			n.rn.ReportUnreachable(m.To)
			n.m.sendDrops.Inc()
		}
	}
}

// sendSnapshot streams the state machine to a follower that needs
// compacted entries. The stream holds the state at the state machine's
// consistent index, which is at or past the Raft snapshot's index; the
// follower skips the entries in between when they are replayed.
func (n *raftNode) sendSnapshot(m raftpb.Message) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(n.sm.WriteSnapshot(pw)) }()
	start := time.Now()
	err := n.send.SendSnapshot(ctx, m.To, raftpb.AppendMessage(nil, m), pr)
	pr.CloseWithError(errors.New("snapshot send finished"))
	ok := err == nil
	if ok {
		n.log.Info("sent snapshot", "to", fmt.Sprintf("%x", m.To), "index", m.Snapshot.Metadata.Index, "took", time.Since(start))
	} else {
		n.log.Warn("snapshot send failed", "to", fmt.Sprintf("%x", m.To), "index", m.Snapshot.Metadata.Index, "err", err)
	}
	select {
	case n.statusc <- snapStatus{to: m.To, ok: ok}:
	case <-n.stopc:
	}
}

// receiveSnapshot stores a snapshot stream from the leader in a synced
// file, then hands its message to the Raft loop; the state machine is
// restored from the file when Raft accepts the snapshot.
func (n *raftNode) receiveSnapshot(ctx context.Context, header []byte, body io.Reader) error {
	m, err := raftpb.UnmarshalMessage(header)
	if err != nil || m.Type != raftpb.MsgSnap || m.Snapshot == nil {
		return fmt.Errorf("strong: bad snapshot header: %v", err)
	}
	if err := os.MkdirAll(n.snapDir, 0o700); err != nil {
		return err
	}
	path := filepath.Join(n.snapDir, fmt.Sprintf("%016x-%016x.snap", m.Snapshot.Metadata.Term, m.Snapshot.Metadata.Index))
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	_, err = io.Copy(f, body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(path+".tmp", path)
	}
	if err != nil {
		_ = os.Remove(path + ".tmp")
		return fmt.Errorf("strong: receiving snapshot: %w", err)
	}
	done := make(chan error, 1)
	select {
	case n.snapRecv <- receivedSnapshot{m: m, path: path, done: done}:
	case <-ctx.Done():
		return ctx.Err()
	case <-n.stopc:
		return errStopped
	}
	return <-done
}

// installSnapshot restores the state machine from a received snapshot
// before the Raft log records it (the Ready order: snapshot first).
func (n *raftNode) installSnapshot(s raftpb.Snapshot) error {
	path, ok := n.pendingSnaps[s.Metadata.Index]
	if !ok {
		return fmt.Errorf("install snapshot at %d: no received state", s.Metadata.Index)
	}
	delete(n.pendingSnaps, s.Metadata.Index)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := n.sm.RestoreSnapshot(f); err != nil {
		return fmt.Errorf("restore snapshot at %d: %w", s.Metadata.Index, err)
	}
	n.csMu.Lock()
	n.cs = s.Metadata.ConfState
	n.csMu.Unlock()
	n.snapI = s.Metadata.Index
	n.applied.advance(n.sm.ConsistentIndex())
	n.log.Info("installed snapshot", "index", s.Metadata.Index, "consistent_index", n.sm.ConsistentIndex())
	_ = os.Remove(path)
	return nil
}

func confChangeWaitID(index uint64) uint64 { return 1<<63 | index }

// maybeSnapshot records a Raft snapshot every snapshotCount applied
// entries and compacts the log behind it, keeping catchUp entries for
// followers that are only a little behind. The state machine is synced
// first: the log it replaces must not be the only copy of any effect.
func (n *raftNode) maybeSnapshot() error {
	applied := n.applied.get()
	force := n.forceSnap.Load() && applied > n.snapI
	if applied < n.snapI+n.snapshotCount && !force {
		return nil
	}
	// A snapshot stream from the leader installs the leader's state, whose
	// consistent index may be past this log's end until the entries in
	// between arrive (they are skipped when applied). A Raft snapshot
	// must be at an index the log has: wait for the log to get there.
	last, err := n.storage.LastIndex()
	if err != nil {
		return fmt.Errorf("raft log last index: %w", err)
	}
	if applied > last {
		return nil
	}
	// The snapshot's configuration must be that of its index: let the
	// apply goroutine finish what is queued, then read both.
	if !n.waitApplied() {
		return nil
	}
	applied = min(n.applied.get(), last)
	catchUp := n.catchUp
	if force {
		catchUp = 0
		n.forceSnap.Store(false)
	}
	if err := n.sm.Sync(); err != nil {
		return fmt.Errorf("sync state machine: %w", err)
	}
	n.csMu.Lock()
	cs := n.cs
	n.csMu.Unlock()
	if _, err := n.storage.CreateSnapshot(applied, &cs, nil); err != nil {
		return fmt.Errorf("create snapshot at %d: %w", applied, err)
	}
	n.snapI = applied
	if applied > catchUp {
		if err := n.storage.Compact(applied - catchUp); err != nil && !errors.Is(err, raft.ErrCompacted) {
			return fmt.Errorf("compact log to %d: %w", applied-catchUp, err)
		}
	}
	n.log.Info("raft snapshot taken", "index", applied)
	return nil
}

func (n *raftNode) confState() raftpb.ConfState {
	n.csMu.Lock()
	defer n.csMu.Unlock()
	return n.cs
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// nodeStatus is what Maintenance.Status reports of the Raft core.
type nodeStatus struct {
	commit  uint64
	learner bool
}

// status reads the core's status. The RawNode belongs to the Raft loop,
// so the loop answers through a channel.
func (n *raftNode) status() nodeStatus {
	ch := make(chan nodeStatus, 1)
	select {
	case n.statusReq <- ch:
	case <-n.stopc:
		return nodeStatus{}
	}
	select {
	case st := <-ch:
		return st
	case <-n.stopc:
		return nodeStatus{}
	}
}

// addsNewMember reports whether cc adds a node that is in no role yet.
func addsNewMember(cs raftpb.ConfState, cc raftpb.ConfChange) bool {
	for _, ch := range cc.Changes {
		if ch.Type != raftpb.ConfChangeAddNode && ch.Type != raftpb.ConfChangeAddLearnerNode {
			continue
		}
		known := false
		for _, ids := range [][]uint64{cs.Voters, cs.Learners, cs.VotersOutgoing, cs.LearnersNext} {
			for _, id := range ids {
				known = known || id == ch.NodeID
			}
		}
		if !known {
			return true
		}
	}
	return false
}

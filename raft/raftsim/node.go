package raftsim

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/cairndb/cairn/raft"
	"github.com/cairndb/cairn/raft/raftpb"
	"github.com/cairndb/cairn/sim"
	"github.com/cairndb/cairn/sim/porcupinekv"
)

// Files on a node's simulated disk.
const (
	fileHardState = "hs"
	fileSnapshot  = "snap"
)

func logFile(gen uint64) string { return fmt.Sprintf("log.%d", gen) }

// snapshotReportTicks is how long a leader waits before it reports a sent
// snapshot as failed, as a real transport would when the stream breaks.
const snapshotReportTicks = 20

// Node is one simulated Raft node with its key-value state machine.
type Node struct {
	h     *sim.Host[raftpb.Message]
	c     *cluster
	rn    *raft.RawNode
	store *raft.MemoryStorage

	kv      kvState
	applied uint64
	cs      raftpb.ConfState
	// gen and base locate the log file: log.<gen>, whose first record is
	// the entry at index base.
	gen, base uint64
	lastSnap  uint64
	commit    uint64 // highest commit seen in this incarnation
	// forceSnap asks for a snapshot at the next chance: a node was added.
	forceSnap bool

	ticks    int
	writes   map[cmdID]func(porcupinekv.Output)
	reads    map[string]pendingRead
	readable []pendingRead // read states waiting for applied >= index
	snapSent map[uint64]int
}

type pendingRead struct {
	key   string
	index uint64
	reply func(porcupinekv.Output)
}

// start builds a node incarnation from its disk (empty on first start).
func (c *cluster) start(h *sim.Host[raftpb.Message]) sim.Node[raftpb.Message] {
	n := &Node{
		h: h, c: c, store: raft.NewMemoryStorage(), kv: newKV(), base: 1,
		writes: map[cmdID]func(porcupinekv.Output){}, reads: map[string]pendingRead{}, snapSent: map[uint64]int{},
	}
	if err := n.load(); err != nil {
		c.check.failf("node %d: restart: %v", h.ID(), err)
		return n
	}
	cfg := raft.DefaultConfig()
	cfg.ID = uint64(h.ID())
	cfg.Storage = n.store
	cfg.Applied = n.applied
	cfg.Rand = h.Rand()
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.ElectionTick = 10
	cfg.HeartbeatTick = 2
	cfg.PreVote = c.opts.PreVote
	cfg.CheckQuorum = c.opts.CheckQuorum
	if c.opts.LeaseReads {
		cfg.ReadOnlyOption = raft.ReadOnlyLeaseBased
	}
	cfg.MaxSizePerMsg = 256
	cfg.MaxInflightMsgs = c.opts.MaxInflight
	cfg.MaxInflightBytes = 4096
	rn, err := raft.NewRawNode(cfg)
	if err != nil {
		c.check.failf("node %d: NewRawNode: %v", h.ID(), err)
		return n
	}
	n.rn = rn
	return n
}

// load rebuilds the storage and the state machine from the disk.
func (n *Node) load() error {
	d := n.h.Disk()
	snapRec, hasSnap := d.ReadFile(fileSnapshot)
	if !hasSnap {
		n.cs = raftpb.ConfState{Voters: n.c.initialVoters()}
		if err := n.store.Bootstrap(n.cs); err != nil {
			return err
		}
	} else {
		r, err := decodeSnap(snapRec)
		if err != nil {
			return fmt.Errorf("snapshot file: %w", err)
		}
		if err := n.store.ApplySnapshot(r.snap); err != nil {
			return err
		}
		if n.kv, err = decodeKV(r.snap.Data); err != nil {
			return fmt.Errorf("snapshot data: %w", err)
		}
		n.gen, n.base = r.gen, r.base
		n.applied, n.lastSnap = r.snap.Metadata.Index, r.snap.Metadata.Index
		n.cs = r.snap.Metadata.ConfState
	}
	var ents []raftpb.Entry
	for i, rec := range d.Records(logFile(n.gen)) {
		e, err := decodeEntry(rec)
		if err != nil {
			return fmt.Errorf("log record %d: %w", i, err)
		}
		if e.Index != n.base+uint64(i) {
			return fmt.Errorf("log record %d holds index %d, want %d", i, e.Index, n.base+uint64(i))
		}
		if e.Index > n.applied {
			ents = append(ents, e)
		}
	}
	if err := n.store.Append(ents); err != nil {
		return err
	}
	hs := raftpb.HardState{}
	if rec, ok := d.ReadFile(fileHardState); ok {
		var err error
		if hs, err = decodeHardState(rec); err != nil {
			return fmt.Errorf("hard state file: %w", err)
		}
	}
	// A snapshot holds only committed state, and it may be durable while
	// the (unsynced) hard state that moved the commit past it was lost.
	hs.Commit = max(hs.Commit, n.applied)
	if last, _ := n.store.LastIndex(); hs.Commit > last {
		return fmt.Errorf("durable commit %d is beyond the durable log (last index %d)", hs.Commit, last)
	}
	n.commit = hs.Commit
	return n.store.SetHardState(hs)
}

// Deliver implements sim.Node.
func (n *Node) Deliver(_ sim.NodeID, m raftpb.Message) {
	if n.rn == nil {
		return
	}
	if err := n.rn.Step(m); err != nil && !errors.Is(err, raft.ErrStepPeerNotFound) && !errors.Is(err, raft.ErrProposalDropped) {
		n.c.check.failf("node %d: Step(%s): %v", n.h.ID(), m, err)
	}
	n.process()
}

// Tick implements sim.Node.
func (n *Node) Tick() {
	if n.rn == nil {
		return
	}
	n.ticks++
	n.rn.Tick()
	for _, to := range slices.Sorted(maps.Keys(n.snapSent)) {
		if n.ticks-n.snapSent[to] >= snapshotReportTicks {
			delete(n.snapSent, to)
			n.rn.ReportSnapshot(to, false)
		}
	}
	n.process()
}

// process handles every Ready the node has, following the contract in
// the raft package doc.
func (n *Node) process() {
	for n.rn.HasReady() && n.c.check.Err() == nil {
		rd := n.rn.Ready()
		n.persist(rd)
		for _, m := range rd.Messages {
			if m.Type == raftpb.MsgSnap {
				n.snapSent[m.To] = n.ticks
			}
			n.h.Send(sim.NodeID(m.To), m)
		}
		n.observe(rd)
		n.apply(rd.CommittedEntries)
		for _, rs := range rd.ReadStates {
			if r, ok := n.reads[string(rs.RequestCtx)]; ok {
				delete(n.reads, string(rs.RequestCtx))
				r.index = rs.Index
				n.readable = append(n.readable, r)
			}
		}
		n.serveReads()
		n.rn.Advance(rd)
		n.maybeSnapshot()
	}
}

// persist writes the snapshot, entries and hard state of rd to the disk,
// syncing what the contract requires, and mirrors them into the storage.
func (n *Node) persist(rd raft.Ready) {
	d := n.h.Disk()
	if !rd.Snapshot.IsEmpty() {
		n.installSnapshot(rd.Snapshot)
	}
	if len(rd.Entries) > 0 {
		first := rd.Entries[0].Index
		prevTerm, err := n.store.Term(first - 1)
		if err != nil {
			n.c.check.failf("node %d: term of %d before append: %v", n.h.ID(), first-1, err)
			return
		}
		n.c.check.appended(n.h.ID(), prevTerm, rd.Entries)
		for _, e := range rd.Entries {
			if e.Index > n.commit {
				break
			}
			if t, _ := n.store.Term(e.Index); t != e.Term {
				n.c.check.failf("state machine safety: node %d replaced its committed entry %d (term %d) with term %d", n.h.ID(), e.Index, t, e.Term)
			}
		}
		name := logFile(n.gen)
		pos := int(first - n.base)
		if pos < 0 || pos > d.Len(name) {
			n.c.check.failf("node %d: append at index %d outside log file [%d, %d]", n.h.ID(), first, n.base, n.base+uint64(d.Len(name)))
			return
		}
		if pos < d.Len(name) {
			if err := d.Truncate(name, pos); err != nil {
				n.c.check.failf("node %d: %v", n.h.ID(), err)
				return
			}
		}
		for _, e := range rd.Entries {
			d.Append(name, encodeEntry(e))
		}
		if !n.c.opts.Bugs.SkipLogSync {
			d.Sync(name)
		}
		if err := n.store.Append(rd.Entries); err != nil {
			n.c.check.failf("node %d: append: %v", n.h.ID(), err)
		}
	}
	if !rd.HardState.IsEmpty() {
		d.WriteFile(fileHardState, encodeHardState(rd.HardState))
		if rd.MustSync {
			d.Sync(fileHardState)
		}
		if err := n.store.SetHardState(rd.HardState); err != nil {
			n.c.check.failf("node %d: %v", n.h.ID(), err)
		}
	}
}

// installSnapshot persists a snapshot received from the leader: the log
// after it starts in a fresh file, emptied and synced before the snapshot
// that names it becomes durable, so a crash never pairs the snapshot with
// stale entries.
func (n *Node) installSnapshot(s raftpb.Snapshot) {
	d := n.h.Disk()
	gen := n.gen + 1
	d.Remove(logFile(gen))
	d.Sync(logFile(gen))
	d.WriteFile(fileSnapshot, encodeSnap(snapRecord{snap: s, gen: gen, base: s.Metadata.Index + 1}))
	d.Sync(fileSnapshot)
	if err := n.store.ApplySnapshot(s); err != nil {
		n.c.check.failf("node %d: apply snapshot: %v", n.h.ID(), err)
		return
	}
	kv, err := decodeKV(s.Data)
	if err != nil {
		n.c.check.failf("node %d: snapshot data: %v", n.h.ID(), err)
		return
	}
	n.c.check.snapshot(n.h.ID(), s.Metadata.Index, s.Data)
	n.kv, n.cs = kv, s.Metadata.ConfState
	n.gen, n.base = gen, s.Metadata.Index+1
	n.applied, n.lastSnap = s.Metadata.Index, s.Metadata.Index
	// Writes waiting for entries the snapshot covers are answered by no
	// one: their clients time out with an unknown outcome.
}

// observe reports role and commit changes to the checker.
func (n *Node) observe(rd raft.Ready) {
	if !rd.HardState.IsEmpty() && rd.HardState.Commit != n.commit {
		if rd.HardState.Commit < n.commit {
			n.c.check.failf("node %d: commit went back from %d to %d", n.h.ID(), n.commit, rd.HardState.Commit)
		}
		n.commit = rd.HardState.Commit
		if t, err := n.store.Term(n.commit); err == nil {
			n.c.check.committed(rd.HardState.Term, n.commit, t)
		}
	}
	if rd.SoftState != nil && rd.SoftState.RaftState == raft.StateLeader {
		_, hs, _, _ := n.rn.BasicStatus()
		n.c.check.leader(n.h.ID(), hs.Term, n.termAt)
	}
}

// termAt is the term of the entry at i in the node's log: ok is false when
// a snapshot covers i, and the term is 0 when the log does not reach i.
func (n *Node) termAt(i uint64) (uint64, bool) {
	first, _ := n.store.FirstIndex()
	if i < first {
		return 0, false
	}
	t, err := n.store.Term(i)
	if err != nil {
		return 0, true
	}
	return t, true
}

// apply runs committed entries through the state machine and answers the
// clients waiting for them.
func (n *Node) apply(ents []raftpb.Entry) {
	for _, e := range ents {
		if e.Index != n.applied+1 {
			n.c.check.failf("node %d: applying index %d after %d", n.h.ID(), e.Index, n.applied)
			return
		}
		n.c.check.applyEntry(n.h.ID(), e)
		n.applied = e.Index
		switch e.Type {
		case raftpb.EntryNormal:
			if len(e.Data) == 0 {
				continue // a new leader's empty entry
			}
			cmd, err := decodeCommand(e.Data)
			if err != nil {
				n.c.check.failf("node %d: entry %d: %v", n.h.ID(), e.Index, err)
				return
			}
			out, answer := n.kv.apply(cmd)
			if reply, ok := n.writes[cmd.id()]; ok && answer {
				delete(n.writes, cmd.id())
				reply(out)
			}
		case raftpb.EntryConfChange:
			cc, err := raftpb.UnmarshalConfChange(e.Data)
			if err != nil {
				n.c.check.failf("node %d: conf change %d: %v", n.h.ID(), e.Index, err)
				return
			}
			added := addsNode(n.cs, cc)
			cs, err := n.rn.ApplyConfChange(cc)
			if err != nil {
				n.c.check.failf("node %d: apply conf change %d (%s): %v", n.h.ID(), e.Index, cc, err)
				return
			}
			n.cs = cs
			// A snapshot taken before this change does not name the added
			// node, which must ignore it; if the log behind it is
			// compacted, the node could never catch up. Snapshot now (as
			// the strong tier does).
			n.forceSnap = n.forceSnap || (added && n.c.opts.SnapshotEvery > 0)
		}
	}
}

// serveReads answers reads whose read index has been applied.
func (n *Node) serveReads() {
	kept := n.readable[:0]
	for _, r := range n.readable {
		if r.index <= n.applied {
			r.reply(n.kv.get(r.key))
			continue
		}
		kept = append(kept, r)
	}
	n.readable = kept
}

// maybeSnapshot takes a snapshot of the state machine every
// SnapshotEvery applied entries and compacts the log behind it.
func (n *Node) maybeSnapshot() {
	every := n.c.opts.SnapshotEvery
	force := n.forceSnap && n.applied > n.lastSnap
	if (every == 0 || n.applied < n.lastSnap+every) && !force {
		return
	}
	n.forceSnap = false
	data := n.kv.encode()
	s, err := n.store.CreateSnapshot(n.applied, &n.cs, data)
	if err != nil {
		n.c.check.failf("node %d: create snapshot at %d: %v", n.h.ID(), n.applied, err)
		return
	}
	d := n.h.Disk()
	d.WriteFile(fileSnapshot, encodeSnap(snapRecord{snap: s, gen: n.gen, base: n.base}))
	d.Sync(fileSnapshot)
	n.c.check.snapshot(n.h.ID(), n.applied, data)
	n.lastSnap = n.applied
	if err := n.store.Compact(n.applied); err != nil {
		n.c.check.failf("node %d: compact to %d: %v", n.h.ID(), n.applied, err)
	}
}

// Submit hands a client request to the node. Writes are proposed and
// answered when this node applies them; reads go through ReadIndex (or the
// lease) and are answered once the node has applied the read index. It
// returns false when the node refused the request at once (the client
// knows it had no effect).
func (n *Node) Submit(client, seq uint64, in porcupinekv.Input, reply func(porcupinekv.Output)) bool {
	if n.rn == nil {
		return false
	}
	defer n.process()
	if in.Kind == porcupinekv.OpGet {
		rctx := fmt.Sprintf("%d/%d", client, seq)
		if err := n.rn.ReadIndex([]byte(rctx)); err != nil {
			return false
		}
		n.reads[rctx] = pendingRead{key: in.Key, reply: reply}
		return true
	}
	cmd := command{client: client, seq: seq, in: in}
	if err := n.rn.Propose(encodeCommand(cmd)); err != nil {
		return false
	}
	n.writes[cmd.id()] = reply
	return true
}

// Leader reports whether the node believes it leads, and its term.
func (n *Node) Leader() (bool, uint64) {
	if n.rn == nil {
		return false, 0
	}
	_, hs, ss, _ := n.rn.BasicStatus()
	return ss.RaftState == raft.StateLeader, hs.Term
}

// addsNode reports whether cc gives a role to a node that has none in cs.
func addsNode(cs raftpb.ConfState, cc raftpb.ConfChange) bool {
	for _, ch := range cc.Changes {
		if ch.Type == raftpb.ConfChangeRemoveNode {
			continue
		}
		if !slices.Contains(cs.Voters, ch.NodeID) && !slices.Contains(cs.Learners, ch.NodeID) &&
			!slices.Contains(cs.VotersOutgoing, ch.NodeID) && !slices.Contains(cs.LearnersNext, ch.NodeID) {
			return true
		}
	}
	return false
}

package raft

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"testing"

	pb "github.com/cairndb/cairn/raft/raftpb"
)

// This file is the in-memory test harness: nodes that persist into a
// MemoryStorage and a network that routes messages between them
// synchronously, with drops and partitions. Everything is deterministic.

type testNode struct {
	id      uint64
	rn      *RawNode
	storage *MemoryStorage
	cfg     Config
	// applied lists the data of applied normal, non-empty entries.
	applied [][]byte
	// appliedIndex is the last applied index; cs the applied configuration.
	appliedIndex uint64
	cs           pb.ConfState
	readStates   []ReadState
	snapshots    int // snapshots installed from the leader
}

func testConfig(id uint64, s Storage, seed uint64) Config {
	c := DefaultConfig()
	c.ID = id
	c.Storage = s
	c.ElectionTick = 10
	c.HeartbeatTick = 1
	c.CheckQuorum = false
	c.PreVote = false
	c.Rand = rand.New(rand.NewPCG(seed, id))
	c.Logger = slog.New(slog.DiscardHandler)
	return c
}

func bootstrapped(voters []uint64, learners ...uint64) *MemoryStorage {
	s := NewMemoryStorage()
	if err := s.Bootstrap(pb.ConfState{Voters: voters, Learners: learners}); err != nil {
		panic(err)
	}
	return s
}

func newTestNode(t testing.TB, cfg Config) *testNode {
	t.Helper()
	rn, err := NewRawNode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := &testNode{id: cfg.ID, rn: rn, storage: cfg.Storage.(*MemoryStorage), cfg: cfg}
	_, n.cs, _ = n.storage.InitialState()
	n.appliedIndex = cfg.Applied
	// A restarted application restores its state from the snapshot.
	if snap, _ := n.storage.Snapshot(); snap.Metadata.Index > n.appliedIndex {
		n.appliedIndex = snap.Metadata.Index
	}
	return n
}

// handleReady does one Ready cycle and returns the messages to send.
func (n *testNode) handleReady(t testing.TB) []pb.Message {
	t.Helper()
	rd := n.rn.Ready()
	n.persist(t, rd)
	n.rn.AckPersisted(rd)
	n.apply(t, rd)
	n.rn.AckApplied(rd)
	return rd.Messages
}

func (n *testNode) persist(t testing.TB, rd Ready) {
	t.Helper()
	if !rd.Snapshot.IsEmpty() {
		if err := n.storage.ApplySnapshot(rd.Snapshot); err != nil {
			t.Fatalf("node %d: apply snapshot: %v", n.id, err)
		}
		n.appliedIndex = rd.Snapshot.Metadata.Index
		n.cs = rd.Snapshot.Metadata.ConfState
		n.snapshots++
	}
	if err := n.storage.Append(rd.Entries); err != nil {
		t.Fatalf("node %d: append: %v", n.id, err)
	}
	if !rd.HardState.IsEmpty() {
		if err := n.storage.SetHardState(rd.HardState); err != nil {
			t.Fatal(err)
		}
	}
}

func (n *testNode) apply(t testing.TB, rd Ready) {
	t.Helper()
	for _, e := range rd.CommittedEntries {
		if e.Index != n.appliedIndex+1 {
			t.Fatalf("node %d: applying %d after %d", n.id, e.Index, n.appliedIndex)
		}
		n.appliedIndex = e.Index
		switch e.Type {
		case pb.EntryConfChange:
			cc, err := pb.UnmarshalConfChange(e.Data)
			if err != nil {
				// Only reachable with forged messages (fuzzing); every
				// node skips the same entry.
				continue
			}
			if cs, err := n.rn.ApplyConfChange(cc); err == nil {
				n.cs = cs
			}
		case pb.EntryNormal:
			if len(e.Data) > 0 {
				n.applied = append(n.applied, e.Data)
			}
		}
	}
	n.readStates = append(n.readStates, rd.ReadStates...)
}

// drain runs Ready cycles until there is no more work and returns every
// message produced.
func (n *testNode) drain(t testing.TB) []pb.Message {
	t.Helper()
	var msgs []pb.Message
	for i := 0; n.rn.HasReady(); i++ {
		if i > 1000 {
			t.Fatalf("node %d: Ready loop does not settle", n.id)
		}
		msgs = append(msgs, n.handleReady(t)...)
	}
	return msgs
}

func (n *testNode) raft() *raft { return n.rn.raft }

// network routes messages between test nodes.
type network struct {
	t     testing.TB
	nodes map[uint64]*testNode
	// ids in ascending order: delivery and processing order.
	ids []uint64
	// cut holds directed links that drop messages.
	cut map[[2]uint64]bool
	// filter, if set, drops messages for which it returns false.
	filter func(pb.Message) bool
	// sent counts delivered messages by type.
	sent map[pb.MessageType]int
	// queue holds messages sent but not yet delivered.
	queue []pb.Message
	seed  uint64
}

type netOption func(*Config)

func withPreVote(c *Config)     { c.PreVote = true }
func withCheckQuorum(c *Config) { c.CheckQuorum = true }

func newNetwork(t testing.TB, n int, opts ...netOption) *network {
	var voters []uint64
	for i := 1; i <= n; i++ {
		voters = append(voters, uint64(i))
	}
	return newNetworkWith(t, voters, nil, opts...)
}

func newNetworkWith(t testing.TB, voters, learners []uint64, opts ...netOption) *network {
	nw := &network{t: t, nodes: map[uint64]*testNode{}, cut: map[[2]uint64]bool{}, sent: map[pb.MessageType]int{}, seed: 1}
	for _, id := range append(slices.Clone(voters), learners...) {
		cfg := testConfig(id, bootstrapped(voters, learners...), nw.seed)
		for _, o := range opts {
			o(&cfg)
		}
		nw.add(newTestNode(t, cfg))
	}
	return nw
}

func (nw *network) add(n *testNode) {
	nw.nodes[n.id] = n
	if !slices.Contains(nw.ids, n.id) {
		nw.ids = append(nw.ids, n.id)
		slices.Sort(nw.ids)
	}
}

func (nw *network) node(id uint64) *testNode { return nw.nodes[id] }

// processReady drains every node's Ready into the queue.
func (nw *network) processReady() bool {
	did := false
	for _, id := range nw.ids {
		n := nw.nodes[id]
		for n.rn.HasReady() {
			did = true
			nw.queue = append(nw.queue, n.handleReady(nw.t)...)
		}
	}
	return did
}

// deliver delivers the queued messages (in order), dropping cut links.
func (nw *network) deliver() bool {
	msgs := nw.queue
	nw.queue = nil
	for _, m := range msgs {
		if nw.cut[[2]uint64{m.From, m.To}] || (nw.filter != nil && !nw.filter(m)) {
			continue
		}
		to := nw.nodes[m.To]
		if to == nil {
			continue
		}
		nw.sent[m.Type]++
		_ = to.rn.Step(m)
	}
	return len(msgs) > 0
}

// stabilize runs Ready cycles and deliveries until nothing moves.
func (nw *network) stabilize() {
	for i := 0; ; i++ {
		if i > 10000 {
			nw.t.Fatal("network does not stabilize")
		}
		a := nw.processReady()
		b := nw.deliver()
		if !a && !b {
			return
		}
	}
}

func (nw *network) tick(ids ...uint64) {
	for _, id := range ids {
		nw.nodes[id].rn.Tick()
	}
}

// tickAll ticks every node once and stabilizes, n times.
func (nw *network) tickAll(n int) {
	for range n {
		for _, id := range nw.ids {
			nw.nodes[id].rn.Tick()
		}
		nw.stabilize()
	}
}

func (nw *network) campaign(id uint64) {
	if err := nw.nodes[id].rn.Campaign(); err != nil {
		nw.t.Fatal(err)
	}
	nw.stabilize()
}

func (nw *network) propose(id uint64, data string) error {
	err := nw.nodes[id].rn.Propose([]byte(data))
	nw.stabilize()
	return err
}

// isolate cuts every link to and from id.
func (nw *network) isolate(id uint64) {
	for _, o := range nw.ids {
		if o != id {
			nw.cut[[2]uint64{id, o}] = true
			nw.cut[[2]uint64{o, id}] = true
		}
	}
}

// partition cuts links between the two groups.
func (nw *network) partition(a, b []uint64) {
	for _, x := range a {
		for _, y := range b {
			nw.cut[[2]uint64{x, y}] = true
			nw.cut[[2]uint64{y, x}] = true
		}
	}
}

func (nw *network) heal() { clear(nw.cut) }

// restart recreates node id from its storage only (what it persisted).
func (nw *network) restart(id uint64) {
	old := nw.nodes[id]
	cfg := old.cfg
	cfg.Applied = 0
	n := newTestNode(nw.t, cfg)
	nw.nodes[id] = n
}

func (nw *network) leader() uint64 {
	var lead uint64
	for _, id := range nw.ids {
		if nw.nodes[id].raft().state == StateLeader {
			if lead != 0 && nw.nodes[id].raft().Term == nw.nodes[lead].raft().Term {
				nw.t.Fatalf("two leaders in term %d: %d and %d", nw.nodes[id].raft().Term, lead, id)
			}
			lead = id
		}
	}
	return lead
}

// checkLogsAgree asserts the State Machine Safety property: applied
// sequences are prefixes of one another.
func (nw *network) checkLogsAgree() {
	nw.t.Helper()
	var longest [][]byte
	for _, id := range nw.ids {
		if a := nw.nodes[id].applied; len(a) > len(longest) {
			longest = a
		}
	}
	for _, id := range nw.ids {
		a := nw.nodes[id].applied
		for i := range a {
			if string(a[i]) != string(longest[i]) {
				nw.t.Fatalf("node %d applied %q at %d, another applied %q", id, a[i], i, longest[i])
			}
		}
	}
}

func (nw *network) String() string {
	s := ""
	for _, id := range nw.ids {
		r := nw.nodes[id].raft()
		s += fmt.Sprintf("%d: %s term=%d lead=%d commit=%d applied=%d last=%d\n", id, r.state, r.Term, r.lead, r.raftLog.committed, r.raftLog.applied, r.raftLog.lastIndex())
	}
	return s
}

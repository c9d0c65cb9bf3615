package raftlog

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/cairndb/cairn/raft"
	"github.com/cairndb/cairn/raft/raftpb"
)

// node drives a single-node RawNode over a Storage through the Ready loop:
// Save (the persist step), apply, Advance.
type node struct {
	rn      *raft.RawNode
	s       *Storage
	applied []string // payloads of applied normal entries
	index   uint64   // last applied index
	readys  int
}

func startNode(t *testing.T, s *Storage, applied uint64, seed uint64) *node {
	t.Helper()
	cfg := raft.DefaultConfig()
	cfg.ID = 1
	cfg.Storage = s
	cfg.Applied = applied
	cfg.Rand = rand.New(rand.NewPCG(seed, 1))
	rn, err := raft.NewRawNode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &node{rn: rn, s: s, index: applied}
}

// handle runs the Ready loop until the node has nothing to do.
func (n *node) handle(t *testing.T) {
	t.Helper()
	for n.rn.HasReady() {
		rd := n.rn.Ready()
		n.readys++
		if err := n.s.Save(ReadyUpdate(rd)); err != nil {
			t.Fatalf("save: %v", err)
		}
		if len(rd.Messages) > 0 {
			t.Fatalf("a single node sent %v", rd.Messages)
		}
		for _, e := range rd.CommittedEntries {
			if e.Index != n.index+1 {
				t.Fatalf("applying %d after %d", e.Index, n.index)
			}
			n.index = e.Index
			if e.Type == raftpb.EntryNormal && len(e.Data) > 0 {
				n.applied = append(n.applied, string(e.Data))
			}
		}
		n.rn.Advance(rd)
	}
}

func (n *node) propose(t *testing.T, data ...string) {
	t.Helper()
	for _, d := range data {
		if err := n.rn.Propose([]byte(d)); err != nil {
			t.Fatalf("propose %q: %v", d, err)
		}
	}
	n.handle(t)
}

// TestRawNodeOverStorage drives a real RawNode through propose → Ready →
// Save → Advance, restarts it from the reopened DB, and checks that the
// log and hard state survived and that the restarted node carries on.
func TestRawNodeOverStorage(t *testing.T) {
	s, db := memStorage(t, testOptions())
	if err := s.Bootstrap(raftpb.ConfState{Voters: []uint64{1}}); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, s, 0, 1)
	if err := n.rn.Campaign(); err != nil {
		t.Fatal(err)
	}
	n.handle(t)
	if st := n.rn.Status(); st.RaftState != raft.StateLeader {
		t.Fatalf("single node is %s", st.RaftState)
	}
	// Ten proposals between two Readys: one Save, one fsync for all.
	var want []string
	for batch := range 3 {
		props := make([]string, 10)
		for i := range props {
			props[i] = fmt.Sprintf("b%d-p%d", batch, i)
		}
		synced := metricValue(t, s.metrics.syncedSaves)
		n.propose(t, props...)
		want = append(want, props...)
		// One synced Save persists the ten entries; the next Ready only
		// advances the commit index (no fsync needed).
		if got := metricValue(t, s.metrics.syncedSaves) - synced; got != 1 {
			t.Fatalf("batch %d took %v synced saves", batch, got)
		}
	}
	if !reflect.DeepEqual(n.applied, want) {
		t.Fatalf("applied %v, want %v", n.applied, want)
	}
	before := stateOf(t, s)
	statusBefore := n.rn.Status()

	// Restart: a new process opens the DB and rebuilds the node from it.
	s = db.reopen(t, testOptions())
	if after := stateOf(t, s); !reflect.DeepEqual(after, before) {
		t.Fatalf("storage changed across restart:\nbefore %+v\n after %+v", before, after)
	}
	if before.HardState != statusBefore.HardState {
		t.Fatalf("stored hard state %v, node had %v", before.HardState, statusBefore.HardState)
	}
	n2 := startNode(t, s, n.index, 2)
	if st := n2.rn.Status(); st.HardState != statusBefore.HardState || st.LastIndex != statusBefore.LastIndex {
		t.Fatalf("restarted node: %v last %d, want %v last %d", st.HardState, st.LastIndex, statusBefore.HardState, statusBefore.LastIndex)
	}
	if err := n2.rn.Campaign(); err != nil {
		t.Fatal(err)
	}
	n2.handle(t)
	n2.propose(t, "after-restart")
	// Applied was restored, so nothing old is applied again.
	if !reflect.DeepEqual(n2.applied, []string{"after-restart"}) {
		t.Fatalf("restarted node applied %v", n2.applied)
	}
	hs := s.HardState()
	if hs.Term <= statusBefore.Term || hs.Commit != n2.index {
		t.Fatalf("hard state after restart %v (before %v, applied %d)", hs, statusBefore.HardState, n2.index)
	}
	ents, err := s.Entries(1, hs.Commit+1, noLimit)
	if err != nil {
		t.Fatal(err)
	}
	var logged []string
	for _, e := range ents {
		if len(e.Data) > 0 {
			logged = append(logged, string(e.Data))
		}
	}
	if !reflect.DeepEqual(logged, append(want, "after-restart")) {
		t.Fatalf("log holds %v", logged)
	}

	// A restart with Applied = 0 hands every committed entry out again,
	// read back from Pebble.
	s = db.reopen(t, testOptions())
	n3 := startNode(t, s, 0, 3)
	n3.handle(t)
	if !reflect.DeepEqual(n3.applied, append(want, "after-restart")) {
		t.Fatalf("replay applied %v", n3.applied)
	}
}

package raft_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/cairndb/cairn/raft"
	"github.com/cairndb/cairn/raft/raftpb"
)

// Example drives a single-node cluster through the Ready loop: persist,
// send, apply, advance.
func Example() {
	storage := raft.NewMemoryStorage()
	if err := storage.Bootstrap(raftpb.ConfState{Voters: []uint64{1}}); err != nil {
		panic(err)
	}
	cfg := raft.DefaultConfig()
	cfg.ID = 1
	cfg.Storage = storage
	cfg.Rand = rand.New(rand.NewPCG(1, 2))
	node, err := raft.NewRawNode(cfg)
	if err != nil {
		panic(err)
	}

	handle := func() {
		for node.HasReady() {
			rd := node.Ready()
			// 1. Persist.
			if !rd.Snapshot.IsEmpty() {
				_ = storage.ApplySnapshot(rd.Snapshot)
			}
			_ = storage.Append(rd.Entries)
			if !rd.HardState.IsEmpty() {
				_ = storage.SetHardState(rd.HardState)
			}
			// 2. Send rd.Messages (none on a single node).
			// 3. Apply.
			for _, e := range rd.CommittedEntries {
				if e.Type == raftpb.EntryNormal && len(e.Data) > 0 {
					fmt.Printf("applied %d: %s\n", e.Index, e.Data)
				}
			}
			for _, rs := range rd.ReadStates {
				fmt.Printf("read %s at index %d\n", rs.RequestCtx, rs.Index)
			}
			// 4. Advance.
			node.Advance(rd)
		}
	}

	_ = node.Campaign()
	handle()
	_ = node.Propose([]byte("x=1"))
	_ = node.Propose([]byte("y=2"))
	handle()
	_ = node.ReadIndex([]byte("read-1"))
	handle()
	st := node.Status()
	fmt.Println(st.RaftState, "term", st.Term, "commit", st.Commit)
	// Output:
	// applied 2: x=1
	// applied 3: y=2
	// read read-1 at index 3
	// StateLeader term 1 commit 3
}

// ExampleConfig_Validate shows that a lease read needs check-quorum.
func ExampleConfig_Validate() {
	cfg := raft.DefaultConfig()
	cfg.ID = 1
	cfg.Storage = raft.NewMemoryStorage()
	cfg.Rand = rand.New(rand.NewPCG(1, 2))
	cfg.ReadOnlyOption = raft.ReadOnlyLeaseBased
	cfg.CheckQuorum = false
	fmt.Println(cfg.Validate())
	// Output:
	// raft: invalid config: ReadOnlyLeaseBased requires CheckQuorum: without it a deposed leader cannot know its lease ended
}

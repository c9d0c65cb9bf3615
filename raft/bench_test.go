package raft

import (
	"fmt"
	"testing"

	pb "github.com/cairndb/cairn/raft/raftpb"
)

// BenchmarkProposals measures proposals through the core of a 3- or 5-node
// cluster wired by the synchronous in-memory network (no I/O): proposals per
// second, allocations per proposal (allocs/op, one op = one proposal) and
// messages delivered per committed entry, sweeping the number of proposals
// made between two Ready rounds (the batch).
func BenchmarkProposals(b *testing.B) {
	for _, nodes := range []int{3, 5} {
		for _, batch := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("nodes=%d/batch=%d", nodes, batch), func(b *testing.B) {
				benchProposals(b, nodes, batch)
			})
		}
	}
}

func benchProposals(b *testing.B, nodes, batch int) {
	nw := newNetwork(b, nodes)
	nw.campaign(1)
	leader := nw.node(1)
	data := make([]byte, 128)
	sentBefore := 0
	for _, c := range nw.sent {
		sentBefore += c
	}
	applied0 := leader.appliedIndex
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		for range min(batch, b.N-i) {
			if err := leader.rn.Propose(data); err != nil {
				b.Fatal(err)
			}
		}
		nw.stabilize()
		if leader.appliedIndex-applied0 >= 4096 || i+batch >= b.N {
			b.StopTimer()
			compactAll(b, nw)
			b.StartTimer()
		}
	}
	b.StopTimer()
	committed := leader.appliedIndex - applied0
	if committed < uint64(b.N) {
		b.Fatalf("committed %d of %d", committed, b.N)
	}
	sent := 0
	for _, c := range nw.sent {
		sent += c
	}
	b.ReportMetric(float64(sent-sentBefore)/float64(committed), "msgs/entry")
	// Elapsed excludes the compaction pauses (timer stopped).
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "proposals/s")
}

// compactAll keeps memory flat during long benchmark runs.
func compactAll(b *testing.B, nw *network) {
	for _, id := range nw.ids {
		n := nw.node(id)
		n.applied = n.applied[:0]
		if first, _ := n.storage.FirstIndex(); n.appliedIndex > first {
			if err := n.storage.Compact(n.appliedIndex); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkStepAppend measures a follower handling one append of one entry
// (the hot path on followers), including its Ready cycle.
func BenchmarkStepAppend(b *testing.B) {
	n := newTestNode(b, testConfig(2, bootstrapped([]uint64{1, 2, 3}), 1))
	_ = n.raft().Step(pb.Message{From: 1, To: 2, Type: pb.MsgHeartbeat, Term: 1})
	n.drain(b)
	data := make([]byte, 128)
	b.ReportAllocs()
	var idx uint64
	for b.Loop() {
		idx++
		m := pb.Message{From: 1, To: 2, Type: pb.MsgApp, Term: 1, LogTerm: 1, Index: idx - 1, Commit: idx - 1,
			Entries: []pb.Entry{{Term: 1, Index: idx, Type: pb.EntryNormal, Data: data}}}
		if idx == 1 {
			m.LogTerm = 0
		}
		if err := n.rn.Step(m); err != nil {
			b.Fatal(err)
		}
		n.drain(b)
		if idx%4096 == 0 {
			n.applied = n.applied[:0]
			_ = n.storage.Compact(n.appliedIndex)
		}
	}
}

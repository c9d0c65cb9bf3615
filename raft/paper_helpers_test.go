package raft

import (
	"testing"

	pb "github.com/cairndb/cairn/raft/raftpb"
)

// logOf builds entries 1..n with the given terms.
func logOf(terms ...uint64) []pb.Entry {
	ents := make([]pb.Entry, len(terms))
	for i, t := range terms {
		ents[i] = pb.Entry{Index: uint64(i + 1), Term: t, Type: pb.EntryNormal}
	}
	return ents
}

// storageWith returns a bootstrapped storage holding ents and term.
func storageWith(voters []uint64, term uint64, ents []pb.Entry) *MemoryStorage {
	s := bootstrapped(voters)
	if err := s.Append(ents); err != nil {
		panic(err)
	}
	if term > 0 {
		_ = s.SetHardState(pb.HardState{Term: term})
	}
	return s
}

// newLoneNode returns a node of a cluster of peers, not connected to any
// network: tests step messages into it and read what it sends.
func newLoneNode(t *testing.T, id uint64, peers []uint64, term uint64, ents []pb.Entry, opts ...netOption) *testNode {
	t.Helper()
	cfg := testConfig(id, storageWith(peers, term, ents), 1)
	for _, o := range opts {
		o(&cfg)
	}
	return newTestNode(t, cfg)
}

// networkFromLogs builds a network whose node i starts with logs[i] (terms)
// and the given term.
func networkFromLogs(t *testing.T, term uint64, logs [][]uint64, opts ...netOption) *network {
	nw := &network{t: t, nodes: map[uint64]*testNode{}, cut: map[[2]uint64]bool{}, sent: map[pb.MessageType]int{}, seed: 1}
	var voters []uint64
	for i := range logs {
		voters = append(voters, uint64(i+1))
	}
	for i, terms := range logs {
		id := uint64(i + 1)
		cfg := testConfig(id, storageWith(voters, term, logOf(terms...)), nw.seed)
		for _, o := range opts {
			o(&cfg)
		}
		nw.add(newTestNode(t, cfg))
	}
	return nw
}

func filterMsgs(msgs []pb.Message, typ pb.MessageType) []pb.Message {
	var out []pb.Message
	for _, m := range msgs {
		if m.Type == typ {
			out = append(out, m)
		}
	}
	return out
}

// step feeds m into n through the raft state machine and returns what n
// sends after persisting.
func (n *testNode) step(t *testing.T, m pb.Message) []pb.Message {
	t.Helper()
	if m.To == 0 {
		m.To = n.id
	}
	if err := n.raft().Step(m); err != nil {
		t.Fatalf("node %d step %s: %v", n.id, pb.DescribeMessage(m, nil), err)
	}
	return n.drain(t)
}

func (n *testNode) tickN(t *testing.T, k int) []pb.Message {
	t.Helper()
	var msgs []pb.Message
	for range k {
		n.rn.Tick()
		msgs = append(msgs, n.drain(t)...)
	}
	return msgs
}

// becomeLeaderAlone elects n by stepping granted votes from peers.
func (n *testNode) becomeLeaderAlone(t *testing.T) []pb.Message {
	t.Helper()
	if err := n.rn.Campaign(); err != nil {
		t.Fatal(err)
	}
	msgs := n.drain(t)
	for _, m := range filterMsgs(msgs, pb.MsgVote) {
		msgs = append(msgs, n.step(t, pb.Message{From: m.To, Type: pb.MsgVoteResp, Term: m.Term})...)
	}
	if n.raft().state != StateLeader {
		t.Fatalf("node %d did not become leader: %s", n.id, n.raft().state)
	}
	return msgs
}

func termsOf(ents []pb.Entry) []uint64 {
	out := make([]uint64, len(ents))
	for i, e := range ents {
		out[i] = e.Term
	}
	return out
}

func ent(index, term uint64, data string) pb.Entry {
	e := pb.Entry{Index: index, Term: term, Type: pb.EntryNormal}
	if data != "" {
		e.Data = []byte(data)
	}
	return e
}

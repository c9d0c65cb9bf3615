package raft

import (
	"testing"

	pb "github.com/cairndb/cairn/raft/raftpb"
)

// FuzzStep feeds arbitrary messages (from members, strangers, with any
// terms and indexes) and ticks into a node that starts as a leader or a
// follower of a 3-node cluster. The node must never panic, Step must refuse
// malformed messages with an error, and the log invariants (checked in every
// Ready) and these must hold throughout:
//
//	applied <= committed <= lastIndex, commit never decreases,
//	term never decreases.
func FuzzStep(f *testing.F) {
	f.Add(true, []byte{4, 2, 3, 1, 1, 0, 1, 0})
	f.Add(false, []byte{4, 1, 2, 0, 0, 3, 2, 0, 9, 2, 2, 3, 4, 5, 0, 0})
	f.Add(true, []byte{5, 2, 1, 9, 9, 9, 0, 1, 9, 3, 1, 2, 2, 0, 0, 0})
	f.Add(false, []byte{8, 1, 3, 4, 3, 2, 0, 0, 6, 3, 4, 7, 4, 0, 0, 1})
	f.Fuzz(func(t *testing.T, leader bool, data []byte) {
		n := newLoneNode(t, 1, peers3, 1, logOf(1, 1))
		if leader {
			n.becomeLeaderAlone(t)
		}
		n.drain(t)
		prevTerm, prevCommit := n.raft().Term, n.raft().raftLog.committed
		for len(data) >= 8 {
			b := data[:8]
			data = data[8:]
			if b[0]%16 == 15 {
				n.rn.Tick()
			} else {
				m := fuzzMessage(b)
				_ = n.rn.Step(m)
			}
			// Acknowledge persistence and application as a real node would.
			for i := 0; n.rn.HasReady(); i++ {
				if i > 100 {
					t.Fatal("Ready loop does not settle")
				}
				n.handleReady(t)
			}
			r := n.raft()
			if r.Term < prevTerm {
				t.Fatalf("term went back from %d to %d", prevTerm, r.Term)
			}
			if c := r.raftLog.committed; c < prevCommit {
				t.Fatalf("commit went back from %d to %d", prevCommit, c)
			}
			prevTerm, prevCommit = r.Term, r.raftLog.committed
			r.raftLog.checkInvariants()
		}
	})
}

// fuzzMessage decodes 8 bytes into a message with small, colliding values so
// that the fuzzer reaches interesting states.
func fuzzMessage(b []byte) pb.Message {
	m := pb.Message{
		Type:       pb.MessageType(b[0] % 21),
		From:       uint64(b[1] % 5), // 0 and 4 are not members
		To:         1,
		Term:       uint64(b[2] % 6),
		Index:      uint64(b[3] % 9),
		LogTerm:    uint64(b[4] % 6),
		Commit:     uint64(b[5] % 10),
		Reject:     b[7]&1 == 1,
		RejectHint: uint64(b[7] >> 4),
	}
	if b[7]&2 == 2 {
		m.Context = []byte{b[7]}
	}
	for i := range int(b[6] % 4) {
		typ := pb.EntryNormal
		if b[7]&4 == 4 {
			typ = pb.EntryType(b[6] % 4) // sometimes invalid
		}
		m.Entries = append(m.Entries, pb.Entry{Index: m.Index + 1 + uint64(i), Term: max(m.LogTerm, m.Term-uint64(b[6]>>6)), Type: typ})
	}
	if m.Type == pb.MsgSnap && b[7]&8 == 8 {
		voters := []uint64{1, 2, 3}
		if b[7]&16 == 16 {
			voters = []uint64{2, 3}
		}
		m.Snapshot = &pb.Snapshot{Metadata: pb.SnapshotMetadata{Index: m.Index + 2, Term: m.LogTerm, ConfState: pb.ConfState{Voters: voters}}}
	}
	return m
}

// TestStepRejectsMalformed checks the validation that FuzzStep relies on.
func TestStepRejectsMalformed(t *testing.T) {
	n := newLoneNode(t, 1, peers3, 1, logOf(1, 1))
	for name, m := range map[string]pb.Message{
		"unknown type":      {Type: 99, From: 2, To: 1, Term: 1},
		"no sender":         {Type: pb.MsgApp, To: 1, Term: 1},
		"wrong recipient":   {Type: pb.MsgApp, From: 2, To: 7, Term: 1},
		"local type":        {Type: pb.MsgHup, From: 2, To: 1},
		"gap in entries":    {Type: pb.MsgApp, From: 2, To: 1, Term: 1, Index: 2, LogTerm: 1, Entries: []pb.Entry{ent(4, 1, "")}},
		"future entry term": {Type: pb.MsgApp, From: 2, To: 1, Term: 1, Index: 2, LogTerm: 1, Entries: []pb.Entry{ent(3, 5, "")}},
		"index overflow":    {Type: pb.MsgApp, From: 2, To: 1, Term: 1, Index: ^uint64(0), Entries: []pb.Entry{ent(0, 1, "")}},
		"snapshot missing":  {Type: pb.MsgSnap, From: 2, To: 1, Term: 1},
		"unknown responder": {Type: pb.MsgAppResp, From: 9, To: 1, Term: 1},
		"from itself":       {Type: pb.MsgApp, From: 1, To: 1, Term: 1},
		"no term":           {Type: pb.MsgApp, From: 2, To: 1},
	} {
		if err := n.rn.Step(m); err == nil {
			t.Errorf("%s: accepted %s", name, pb.DescribeMessage(m, nil))
		}
	}
	if got := n.raft().raftLog.lastIndex(); got != 2 {
		t.Fatalf("malformed messages changed the log: last %d", got)
	}
}

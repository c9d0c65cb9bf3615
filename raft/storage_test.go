package raft

import (
	"errors"
	"slices"
	"testing"

	pb "github.com/cairndb/cairn/raft/raftpb"
)

func TestMemoryStorageContract(t *testing.T) {
	s := NewMemoryStorage()
	if err := s.Append(logOf(1, 1, 2, 3, 3)); err != nil {
		t.Fatal(err)
	}
	if ents, err := s.Entries(2, 5, noLimit); err != nil || !slices.Equal(termsOf(ents), []uint64{1, 2, 3}) {
		t.Fatalf("Entries(2,5) = %v, %v", ents, err)
	}
	// Size limit returns a prefix, but at least one entry.
	if ents, _ := s.Entries(1, 6, 1); len(ents) != 1 {
		t.Fatalf("maxSize 1 gave %d entries", len(ents))
	}
	if ents, _ := s.Entries(1, 6, 2*logOf(1)[0].Size()); len(ents) != 2 {
		t.Fatalf("maxSize of two entries gave %d", len(ents))
	}
	if _, err := s.Entries(1, 7, noLimit); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("beyond last: %v", err)
	}
	// Appending a conflicting suffix replaces it; a matching one is idempotent.
	if err := s.Append([]pb.Entry{ent(4, 4, ""), ent(5, 4, "")}); err != nil {
		t.Fatal(err)
	}
	if last, _ := s.LastIndex(); last != 5 {
		t.Fatalf("last %d", last)
	}
	if tm, _ := s.Term(4); tm != 4 {
		t.Fatalf("term(4) = %d", tm)
	}
	if err := s.Append([]pb.Entry{ent(8, 4, "")}); err == nil {
		t.Fatal("append with a gap accepted")
	}
	// Snapshot and compaction.
	cs := pb.ConfState{Voters: []uint64{1}}
	if _, err := s.CreateSnapshot(3, &cs, []byte("d")); err != nil {
		t.Fatal(err)
	}
	if err := s.Compact(3); err != nil {
		t.Fatal(err)
	}
	if first, _ := s.FirstIndex(); first != 4 {
		t.Fatalf("first %d", first)
	}
	if tm, err := s.Term(3); err != nil || tm != 2 {
		t.Fatalf("term of the compacted boundary %d, %v", tm, err)
	}
	if _, err := s.Entries(3, 4, noLimit); !errors.Is(err, ErrCompacted) {
		t.Fatalf("compacted entries: %v", err)
	}
	if _, err := s.Term(2); !errors.Is(err, ErrCompacted) {
		t.Fatalf("compacted term: %v", err)
	}
	if _, err := s.CreateSnapshot(2, nil, nil); !errors.Is(err, ErrSnapOutOfDate) {
		t.Fatalf("old snapshot: %v", err)
	}
	// Appending entries below the snapshot skips them.
	if err := s.Append(logOf(1, 1, 2, 4, 4, 4)); err != nil {
		t.Fatal(err)
	}
	if last, _ := s.LastIndex(); last != 6 {
		t.Fatalf("last %d", last)
	}
	if err := s.ApplySnapshot(pb.Snapshot{Metadata: pb.SnapshotMetadata{Index: 10, Term: 5, ConfState: cs}}); err != nil {
		t.Fatal(err)
	}
	if first, _ := s.FirstIndex(); first != 11 {
		t.Fatalf("after ApplySnapshot first %d", first)
	}
	if err := s.Bootstrap(cs); err == nil {
		t.Fatal("bootstrap of a used storage accepted")
	}
}

func TestUnstableStableToIgnoresRewrittenEntries(t *testing.T) {
	u := unstable{offset: 1, offsetInProgress: 1}
	u.truncateAndAppend(logOf(1, 1, 1))
	u.acceptInProgress()
	// The log is rewritten from index 2 while the write is in flight.
	u.truncateAndAppend([]pb.Entry{ent(2, 2, "")})
	if u.offsetInProgress != 2 {
		t.Fatalf("in-progress offset %d, want 2", u.offsetInProgress)
	}
	// The ack for (3, term 1) refers to entries that no longer exist.
	u.stableTo(3, 1)
	if u.offset != 1 || len(u.entries) != 2 {
		t.Fatalf("stale ack applied: offset %d len %d", u.offset, len(u.entries))
	}
	u.stableTo(1, 1)
	if u.offset != 2 || len(u.entries) != 1 {
		t.Fatalf("offset %d len %d", u.offset, len(u.entries))
	}
}

func TestConfigValidate(t *testing.T) {
	base := testConfig(1, NewMemoryStorage(), 1)
	if err := base.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Config){
		"zero id":            func(c *Config) { c.ID = 0 },
		"election<=hb":       func(c *Config) { c.ElectionTick = c.HeartbeatTick },
		"no storage":         func(c *Config) { c.Storage = nil },
		"zero msg size":      func(c *Config) { c.MaxSizePerMsg = 0 },
		"zero inflight":      func(c *Config) { c.MaxInflightMsgs = 0 },
		"zero inflight size": func(c *Config) { c.MaxInflightBytes = 0 },
		"zero uncommitted":   func(c *Config) { c.MaxUncommittedEntriesSize = 0 },
		"zero per ready":     func(c *Config) { c.MaxCommittedSizePerReady = 0 },
		"no rand":            func(c *Config) { c.Rand = nil },
		"no logger":          func(c *Config) { c.Logger = nil },
		"no read option":     func(c *Config) { c.ReadOnlyOption = 0 },
		"bytes < msg":        func(c *Config) { c.MaxInflightBytes = c.MaxSizePerMsg - 1 },
	} {
		c := base
		mut(&c)
		if err := c.Validate(); !errors.Is(err, ErrConfigInvalid) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func TestReadyOutOfOrderAckPanics(t *testing.T) {
	c := testConfig(1, bootstrapped([]uint64{1}), 1)
	c.AsyncStorageWrites = true
	n := newTestNode(t, c)
	_ = n.rn.Campaign()
	rd1 := n.rn.Ready()
	_ = n.rn.Propose([]byte("x"))
	rd2 := n.rn.Ready()
	defer func() {
		if recover() == nil {
			t.Fatal("out-of-order acknowledgement accepted")
		}
	}()
	n.rn.AckPersisted(rd2)
	_ = rd1
}

func TestMaxCommittedSizePerReady(t *testing.T) {
	c := testConfig(1, bootstrapped([]uint64{1}), 1)
	c.MaxCommittedSizePerReady = 3 * ent(1, 1, "0123456789").Size()
	n := newTestNode(t, c)
	_ = n.rn.Campaign()
	n.drain(t)
	for range 10 {
		_ = n.rn.Propose([]byte("0123456789"))
	}
	rd := n.rn.Ready() // persists the 10 entries
	n.persist(t, rd)
	n.rn.Advance(rd)
	var sizes []int
	for n.rn.HasReady() {
		rd := n.rn.Ready()
		if len(rd.CommittedEntries) > 0 {
			sizes = append(sizes, len(rd.CommittedEntries))
		}
		n.persist(t, rd)
		n.apply(t, rd)
		n.rn.Advance(rd)
	}
	if !slices.Equal(sizes, []int{3, 3, 3, 1}) {
		t.Fatalf("committed entries per Ready %v, want [3 3 3 1]", sizes)
	}
}

func TestReportUnreachableFallsBackToProbe(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.campaign(1)
	l := nw.node(1)
	if pr := l.rn.Status().Progress[2]; pr.State.String() != "StateReplicate" {
		t.Fatalf("progress %s", &pr)
	}
	l.rn.ReportUnreachable(2)
	if pr := l.rn.Status().Progress[2]; pr.State.String() != "StateProbe" {
		t.Fatalf("after unreachable: %s", &pr)
	}
	_ = nw.propose(1, "x")
	if pr := l.rn.Status().Progress[2]; pr.State.String() != "StateReplicate" || len(nw.node(2).applied) != 1 {
		t.Fatalf("did not recover: %s", &pr)
	}
}

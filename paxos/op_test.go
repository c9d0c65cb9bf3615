package paxos

import (
	"testing"
	"time"

	"github.com/cairndb/cairn/clock"
)

// The sequential semantics of every operation on an absent register, a
// present one that matches Expected, and one that does not.
func TestOpSemantics(t *testing.T) {
	absent, x := Value{}, val("x")
	for _, tc := range []struct {
		op      Op
		cur     Value
		applied bool
		next    Value
		writes  bool
	}{
		{get, x, true, x, false},
		{Op{Kind: OpSet, Value: []byte("y")}, absent, true, val("y"), true},
		{Op{Kind: OpSet, Value: []byte("y")}, x, true, val("y"), true},
		{setNX("y"), absent, true, val("y"), true},
		{setNX("y"), x, false, x, false},
		{Op{Kind: OpSetXX, Value: []byte("y")}, absent, false, absent, false},
		{Op{Kind: OpSetXX, Value: []byte("y")}, x, true, val("y"), true},
		{cas("x", "y"), x, true, val("y"), true},
		{cas("z", "y"), x, false, x, false},
		{cas("", "y"), absent, false, absent, false}, // absent is not the empty value
		{cas("", "y"), val(""), true, val("y"), true},
		{Op{Kind: OpDelete}, x, true, absent, true},
		{Op{Kind: OpDelete}, absent, false, absent, false},
		{Op{Kind: OpDeleteIf, Expected: []byte("x")}, x, true, absent, true},
		{Op{Kind: OpDeleteIf, Expected: []byte("z")}, x, false, x, false},
	} {
		next, res, writes := tc.op.apply(tc.cur)
		if res.Applied != tc.applied || !next.Equal(tc.next) || writes != tc.writes || !res.Prev.Equal(tc.cur) {
			t.Errorf("%v on %s: next %s applied %v writes %v prev %s; want %s %v %v", tc.op.Kind, tc.cur, next, res.Applied, writes, res.Prev, tc.next, tc.applied, tc.writes)
		}
		if tc.op.Kind.String() == "" || tc.op.validate(DefaultLimits()) != nil {
			t.Errorf("%+v is not valid", tc.op)
		}
	}
}

// HLC ballots follow the physical clock and move past what they witness.
func TestHLCBallots(t *testing.T) {
	phys := clock.NewManualClock(1000)
	bc := HLCBallots(clock.NewHLC(phys, time.Second))
	a := bc.Now()
	if a.WallTime != 1000 {
		t.Fatalf("first ballot time %s", a)
	}
	bc.Witness(clock.Timestamp{WallTime: 5000})
	if b := bc.Now(); !(clock.Timestamp{WallTime: 5000}).Less(b) {
		t.Fatalf("ballot %s after witnessing 5000", b)
	}
	// Beyond the max offset the HLC refuses the time; the proposer's own
	// floor still puts its next ballot above it.
	p, _ := NewProposer(testConfig(1, 1))
	p.cfg.Clock = bc
	far := Ballot{Time: clock.Timestamp{WallTime: int64(time.Hour)}, Epoch: 1, Node: 2}
	_ = p.Step(2, Message{Type: MsgReject, Key: "k", Ballot: bal(1, 1), Promised: far})
	if b := p.nextBallot(); !far.Less(b) {
		t.Fatalf("ballot %s after seeing %s", b, far)
	}
}

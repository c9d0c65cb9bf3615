package paxos

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// valAt is a present value with a deadline.
func valAt(s string, deadlineMs int64) Value {
	return Value{Present: true, Data: []byte(s), DeadlineMs: deadlineMs}
}

// Every operation kind on a stored value with deadline 1000: live for an
// operation at 999, expired (absent) at 1000 and after. An expired value is
// absent for the condition and for Prev, and an operation that does not
// write leaves it stored; writes install their own deadline.
func TestOpExpirySemantics(t *testing.T) {
	stored := valAt("x", 1000)
	at := func(op Op, nowMs int64) Op { op.NowMs = nowMs; return op }
	ttl := func(op Op, deadlineMs int64) Op { op.DeadlineMs = deadlineMs; return op }
	keep := func(op Op) Op { op.KeepTTL = true; return op }
	set := Op{Kind: OpSet, Value: []byte("y")}
	setXX := Op{Kind: OpSetXX, Value: []byte("y")}
	del := Op{Kind: OpDelete}
	delIf := func(e string) Op { return Op{Kind: OpDeleteIf, Expected: []byte(e)} }
	for _, tc := range []struct {
		name    string
		op      Op
		applied bool
		prev    Value // what the operation saw
		next    Value
		writes  bool
	}{
		// Live: the stored value is seen with its deadline.
		{"GET live", at(get, 999), true, stored, stored, false},
		{"SET live", at(ttl(set, 5000), 999), true, stored, valAt("y", 5000), true},
		{"SETNX live", at(ttl(setNX("y"), 5000), 999), false, stored, stored, false},
		{"SETXX live", at(setXX, 999), true, stored, val("y"), true},
		{"CAS live match", at(ttl(cas("x", "y"), 7), 999), true, stored, valAt("y", 7), true},
		{"CAS live mismatch", at(cas("z", "y"), 999), false, stored, stored, false},
		{"DEL live", at(del, 999), true, stored, Value{}, true},
		{"DELIF live match", at(delIf("x"), 999), true, stored, Value{}, true},
		{"DELIF live mismatch", at(delIf("z"), 999), false, stored, stored, false},
		// Expired at exactly the deadline, and after it.
		{"GET expired", at(get, 1000), true, Value{}, stored, false},
		{"SET expired", at(set, 1000), true, Value{}, val("y"), true},
		{"SETNX expired", at(ttl(setNX("y"), 31000), 1000), true, Value{}, valAt("y", 31000), true},
		{"SETNX long expired", at(setNX("y"), 1<<40), true, Value{}, val("y"), true},
		{"SETXX expired", at(ttl(setXX, 5000), 1000), false, Value{}, stored, false},
		{"CAS expired", at(cas("x", "y"), 1001), false, Value{}, stored, false},
		{"DEL expired", at(del, 1000), false, Value{}, stored, false},
		{"DELIF expired", at(delIf("x"), 1000), false, Value{}, stored, false},
		// KEEPTTL keeps the deadline of a live value, none of an expired one.
		{"SET KEEPTTL live", at(keep(set), 999), true, stored, valAt("y", 1000), true},
		{"SET KEEPTTL expired", at(keep(set), 1000), true, Value{}, val("y"), true},
		{"SETXX KEEPTTL live", at(keep(setXX), 10), true, stored, valAt("y", 1000), true},
		{"CAS KEEPTTL live", at(keep(cas("x", "y")), 10), true, stored, valAt("y", 1000), true},
		{"SETNX KEEPTTL expired", at(keep(setNX("y")), 1000), true, Value{}, val("y"), true},
		// A deadline at or before NowMs installs an already expired value.
		{"SET past deadline", at(ttl(set, 500), 1000), true, Value{}, valAt("y", 500), true},
		// NowMs 0 (a driver that knows nothing of expiry) sees it live.
		{"GET at 0", get, true, stored, stored, false},
	} {
		if err := tc.op.validate(DefaultLimits()); err != nil {
			t.Errorf("%s: %+v invalid: %v", tc.name, tc.op, err)
			continue
		}
		next, res, writes := tc.op.apply(stored)
		if res.Expired != (tc.op.NowMs >= 1000) {
			t.Errorf("%s: Expired = %v at %d", tc.name, res.Expired, tc.op.NowMs)
		}
		if res.Applied != tc.applied || !res.Prev.Equal(tc.prev) || !next.Equal(tc.next) || writes != tc.writes {
			t.Errorf("%s: applied %v prev %s next %s writes %v; want %v %s %s %v",
				tc.name, res.Applied, res.Prev, next, writes, tc.applied, tc.prev, tc.next, tc.writes)
		}
	}
	// A value without a deadline never expires.
	if _, res, _ := (Op{Kind: OpGet, NowMs: math.MaxInt64}).apply(val("x")); !res.Prev.Equal(val("x")) {
		t.Errorf("value without deadline read at MaxInt64: %s", res.Prev)
	}
	// On an absent register the clock changes nothing.
	if _, res, writes := (Op{Kind: OpSetXX, Value: []byte("y"), NowMs: 5}).apply(Value{}); res.Applied || writes || res.Prev.Present {
		t.Errorf("SETXX on absent: %+v writes %v", res, writes)
	}
}

func TestValueExpired(t *testing.T) {
	v := valAt("x", 10)
	switch {
	case v.Expired(9) || !v.Expired(10) || !v.Expired(11):
		t.Fatal("deadline 10 judged wrong")
	case val("x").Expired(math.MaxInt64) || (Value{}).Expired(math.MaxInt64):
		t.Fatal("a value without deadline, or an absent one, expired")
	case !v.AsOf(9).Equal(v) || !v.AsOf(10).Equal(Value{}):
		t.Fatal("AsOf")
	case !strings.Contains(v.String(), "@10ms") || strings.Contains(val("x").String(), "@"):
		t.Fatalf("String: %s", v)
	case v.Equal(val("x")) || !v.Equal(valAt("x", 10)):
		t.Fatal("Equal ignores the deadline")
	}
}

func TestOpValidateExpiry(t *testing.T) {
	for _, op := range []Op{
		{Kind: OpGet, NowMs: -1},
		{Kind: OpSet, NowMs: 5, DeadlineMs: -1},
		{Kind: OpGet, NowMs: 5, DeadlineMs: 10},
		{Kind: OpDelete, NowMs: 5, DeadlineMs: 10},
		{Kind: OpDeleteIf, Expected: []byte("x"), NowMs: 5, DeadlineMs: 10},
		{Kind: OpGet, KeepTTL: true},
		{Kind: OpDelete, KeepTTL: true},
		{Kind: OpSet, NowMs: 5, DeadlineMs: 10, KeepTTL: true},
		{Kind: OpSetNX, DeadlineMs: 10}, // a deadline needs NowMs
	} {
		if err := op.validate(DefaultLimits()); !errors.Is(err, ErrInvalidOp) {
			t.Errorf("%+v: %v, want ErrInvalidOp", op, err)
		}
	}
	for _, op := range []Op{
		{Kind: OpGet, NowMs: 5},
		{Kind: OpSetNX, NowMs: 5, DeadlineMs: 5},
		{Kind: OpCAS, Expected: []byte("a"), NowMs: 5, DeadlineMs: math.MaxInt64},
		{Kind: OpSetXX, KeepTTL: true},
	} {
		if err := op.validate(DefaultLimits()); err != nil {
			t.Errorf("%+v: %v", op, err)
		}
	}
}

// The distributed lock idiom through Paxos: SET lock v NX PX 30000 by one
// proposer; another's SET NX fails until the deadline and succeeds at it.
// The deadline crosses the codec and sits in the replicas' states.
func TestLockExpiresThroughPaxos(t *testing.T) {
	tn := newTestNet(t, 3)
	tn.addProposer(10, nil)
	tn.addProposer(11, nil)
	lockAt := func(owner string, nowMs int64) Op {
		return Op{Kind: OpSetNX, Value: []byte(owner), NowMs: nowMs, DeadlineMs: nowMs + 30000}
	}
	tn.propose(10, 1, "lock", lockAt("alice", 1000))
	tn.run(1)
	tn.propose(11, 2, "lock", lockAt("bob", 30999))
	tn.run(2)
	tn.propose(11, 3, "lock", lockAt("bob", 31000))
	tn.run(3)
	tn.propose(10, 4, "lock", Op{Kind: OpGet, NowMs: 40000})
	tn.run(4)
	if res := tn.mustSucceed(1); !res.Applied || res.Prev.Present {
		t.Fatalf("alice's lock: %+v", res)
	}
	if res := tn.mustSucceed(2); res.Applied || !res.Prev.Equal(valAt("alice", 31000)) {
		t.Fatalf("bob before the deadline: %+v", res)
	}
	if res := tn.mustSucceed(3); !res.Applied || res.Prev.Present || !res.Expired {
		t.Fatalf("bob at the deadline: %+v", res)
	}
	if res := tn.mustSucceed(4); !res.Prev.Equal(valAt("bob", 61000)) {
		t.Fatalf("GET: %+v", res)
	}
	for _, id := range tn.replicas {
		if s := tn.state(id, "lock"); !s.Committed.Value.Equal(valAt("bob", 61000)) {
			t.Fatalf("replica %d holds %s", id, s.Committed)
		}
	}
}

// A proposal in progress with a deadline, finished by another proposer,
// keeps its deadline; the operation that finished it judges it with its
// own NowMs.
func TestFinishedProposalKeepsItsDeadline(t *testing.T) {
	tn := newTestNet(t, 3)
	dead := prop(bal(30, 9), Ballot{}, "a")
	dead.Value.DeadlineMs = 5000
	for _, id := range []NodeID{1, 2} {
		*tn.state(id, "k") = AcceptorState{Promised: dead.Ballot, Accepted: dead}
	}
	tn.addProposer(10, nil)
	tn.propose(10, 1, "k", Op{Kind: OpSetNX, Value: []byte("b"), NowMs: 4999})
	tn.run(1)
	if res := tn.mustSucceed(1); res.Applied || !res.Prev.Equal(valAt("a", 5000)) {
		t.Fatalf("SETNX before the finished value's deadline: %+v", res)
	}
	for _, id := range tn.replicas {
		if s := tn.state(id, "k"); !s.Committed.Value.Equal(valAt("a", 5000)) {
			t.Fatalf("replica %d holds %s", id, s.Committed)
		}
	}
	tn.propose(10, 2, "k", Op{Kind: OpSetNX, Value: []byte("b"), NowMs: 5000})
	tn.run(2)
	if res := tn.mustSucceed(2); !res.Applied || res.Prev.Present {
		t.Fatalf("SETNX at the deadline: %+v", res)
	}
}

// An operation retried after its Accepts were lost computes again on the
// same state with the same NowMs, so it decides the same way (here: SETNX
// on an expired value applies) and is answered as applied once, although
// the wall clock of a real driver would have moved on.
func TestRetryJudgesExpiryWithTheSameNow(t *testing.T) {
	tn := newTestNet(t, 3)
	c := prop(bal(3, 9), Ballot{}, "x")
	c.Value.DeadlineMs = 1000
	for _, id := range tn.replicas {
		*tn.state(id, "k") = committedAt(AcceptorState{Promised: c.Ballot}, c)
	}
	tn.addProposer(10, nil)
	tn.props[10].maxSeen = c.Ballot
	lose := true
	tn.drop = func(_, _ NodeID, m Message) bool { return lose && m.Type == MsgAccept }
	tn.propose(10, 1, "k", Op{Kind: OpSetNX, Value: []byte("a"), NowMs: 1000, DeadlineMs: 2000})
	tn.deliverAll()
	tn.tick(10, tn.props[10].cfg.RoundTicks) // the accept round times out: risky
	lose = false
	tn.run(1)
	if res := tn.mustSucceed(1); !res.Applied || res.Prev.Present {
		t.Fatalf("SETNX on the expired value: %+v", res)
	}
	if st := tn.props[10].Stats(); st.Timeouts != 1 || st.AcceptRounds != 2 {
		t.Fatalf("want one timed-out accept round and one more: %+v", st)
	}
	if s := tn.state(1, "k"); !s.Committed.Value.Equal(valAt("a", 2000)) {
		t.Fatalf("replica holds %s", s.Committed)
	}
}

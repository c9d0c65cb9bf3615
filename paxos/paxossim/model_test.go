package paxossim

import (
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/cairndb/cairn/paxos"
)

func op(client int, call, ret int64, in Input, out Output) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: in, Output: out, Call: call, Return: ret}
}

func TestModelSequentialSemantics(t *testing.T) {
	k := "k"
	h := []porcupine.Operation{
		op(0, 0, 1, Input{Kind: paxos.OpSetNX, Key: k, Value: "a"}, Output{Applied: true}),
		op(0, 2, 3, Input{Kind: paxos.OpSetNX, Key: k, Value: "b"}, Output{Applied: false, Prev: "a", PrevPresent: true}),
		op(0, 4, 5, Input{Kind: paxos.OpCAS, Key: k, Expected: "a", Value: "c"}, Output{Applied: true, Prev: "a", PrevPresent: true}),
		op(0, 6, 7, Input{Kind: paxos.OpSetXX, Key: k, Value: "d"}, Output{Applied: true, Prev: "c", PrevPresent: true}),
		op(0, 8, 9, Input{Kind: paxos.OpDeleteIf, Key: k, Expected: "x"}, Output{Applied: false, Prev: "d", PrevPresent: true}),
		op(0, 10, 11, Input{Kind: paxos.OpDelete, Key: k}, Output{Applied: true, Prev: "d", PrevPresent: true}),
		op(0, 12, 13, Input{Kind: paxos.OpSetXX, Key: k, Value: "e"}, Output{Applied: false}),
		op(0, 14, 15, Input{Kind: paxos.OpSet, Key: k, Value: "f"}, Output{Applied: true}),
		op(0, 16, 17, Input{Kind: paxos.OpGet, Key: k}, Output{Applied: true, Prev: "f", PrevPresent: true}),
	}
	if ok, details := CheckLinearizable(h, 10*time.Second); !ok {
		t.Fatal(details)
	}
}

// Two SETNX that both succeed, one after the other, are not linearizable;
// with one of them unknown, the other's success is fine.
func TestModelCatchesDoubleSetNX(t *testing.T) {
	a := Input{Kind: paxos.OpSetNX, Key: "k", Value: "a"}
	b := Input{Kind: paxos.OpSetNX, Key: "k", Value: "b"}
	bad := []porcupine.Operation{op(0, 0, 1, a, Output{Applied: true}), op(1, 2, 3, b, Output{Applied: true})}
	ok, details := CheckLinearizable(bad, 10*time.Second)
	if ok || !strings.Contains(details, "NOT linearizable") {
		t.Fatalf("double SETNX passed: %s", details)
	}
	fine := []porcupine.Operation{op(0, 0, 100, a, Unknown()), op(1, 2, 3, b, Output{Applied: true})}
	if ok, details := CheckLinearizable(fine, 10*time.Second); !ok {
		t.Fatal(details)
	}
}

// Expiry in the model: each operation judges it with its NowMs; an expired
// value is absent (and reported expired), stays stored for operations that
// do not write, and may be seen live again by an operation with an earlier
// NowMs (the clock-skew hazard, which the model allows as paxos does).
func TestModelExpiry(t *testing.T) {
	k := "k"
	alice := Input{Kind: paxos.OpSetNX, Key: k, Value: "alice", NowMs: 10, DeadlineMs: 100}
	held := Output{Prev: "alice", PrevPresent: true, PrevDeadline: 100}
	bobAt := func(now int64) Input { return Input{Kind: paxos.OpSetNX, Key: k, Value: "bob", NowMs: now} }
	getAt := func(now int64) Input { return Input{Kind: paxos.OpGet, Key: k, NowMs: now} }
	applied := func(o Output) Output { o.Applied = true; return o }
	good := []porcupine.Operation{
		op(0, 0, 1, alice, Output{Applied: true}),
		op(1, 2, 3, bobAt(99), held),
		op(1, 4, 5, getAt(100), Output{Applied: true, Expired: true}),
		op(1, 6, 7, getAt(99), applied(held)), // a slower clock: still live
		op(1, 8, 9, Input{Kind: paxos.OpDelete, Key: k, NowMs: 150}, Output{Expired: true}),
		op(1, 10, 11, Input{Kind: paxos.OpSetXX, Key: k, Value: "x", NowMs: 50, KeepTTL: true}, applied(held)),
		op(1, 12, 13, getAt(60), Output{Applied: true, Prev: "x", PrevPresent: true, PrevDeadline: 100}),
		op(1, 14, 15, bobAt(100), Output{Applied: true, Expired: true}),
		op(1, 16, 17, getAt(1<<40), Output{Applied: true, Prev: "bob", PrevPresent: true}),
	}
	if ok, details := CheckLinearizable(good, 10*time.Second); !ok {
		t.Fatal(details)
	}
	for name, bad := range map[string]porcupine.Operation{
		"SETNX on a live lock":        op(1, 2, 3, bobAt(99), applied(Output{})),
		"SETNX refused on an expired": op(1, 2, 3, bobAt(100), held),
		"expired value read":          op(1, 2, 3, getAt(100), applied(held)),
		"deadline lost":               op(1, 2, 3, getAt(50), Output{Applied: true, Prev: "alice", PrevPresent: true}),
		"expiry not reported":         op(1, 2, 3, getAt(100), Output{Applied: true}),
	} {
		h := []porcupine.Operation{op(0, 0, 1, alice, Output{Applied: true}), bad}
		if ok, details := CheckLinearizable(h, 10*time.Second); ok || !strings.Contains(details, "NOT linearizable") {
			t.Errorf("%s passed: %s", name, details)
		}
	}
}

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

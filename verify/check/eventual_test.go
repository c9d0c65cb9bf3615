package check

import (
	"strings"
	"testing"

	"github.com/cairndb/cairn/verify/history"
)

func joined(r Result) string { return strings.Join(r.Details, "\n") }

func TestCounterBounds(t *testing.T) {
	adds := []CounterAdd{{3, history.OK}, {2, history.OK}, {4, history.Unknown}, {7, history.Failed}}
	nv := func(vals ...int64) []NodeValue[int64] {
		var out []NodeValue[int64]
		for i, v := range vals {
			out = append(out, NodeValue[int64]{Node: string(rune('a' + i)), Value: v})
		}
		return out
	}
	for _, ok := range [][]int64{{5, 5, 5}, {9, 9, 9}} {
		if r := CheckCounter(adds, nv(ok...)); r.Verdict != Pass {
			t.Fatalf("%v: %v", ok, r)
		}
	}
	// A counter that exceeds the acknowledged plus unknown increments
	// counted an increment twice (or one that failed).
	if r := CheckCounter(adds, nv(10, 10, 10)); r.Verdict != Fail || !strings.Contains(joined(r), "outside [5, 9]") {
		t.Fatalf("counter above acks not caught: %v", r)
	}
	if r := CheckCounter(adds, nv(4, 4, 4)); r.Verdict != Fail {
		t.Fatalf("lost increment not caught: %v", r)
	}
	if r := CheckCounter(adds, nv(5, 6, 5)); r.Verdict != Fail || !strings.Contains(joined(r), "not converged") {
		t.Fatalf("divergence not caught: %v", r)
	}
}

func TestSetConvergence(t *testing.T) {
	ops := []SetOp{
		{Elem: "a", Outcome: history.OK},
		{Elem: "b", Outcome: history.Unknown},
		{Elem: "c", Outcome: history.OK},
		{Elem: "c", Remove: true, Outcome: history.OK},
		{Elem: "d", Outcome: history.Failed},
	}
	fin := func(sets ...[]string) []NodeValue[[]string] {
		var out []NodeValue[[]string]
		for i, s := range sets {
			out = append(out, NodeValue[[]string]{Node: string(rune('a' + i)), Value: s})
		}
		return out
	}
	if r := CheckSet(ops, fin([]string{"a", "c"}, []string{"c", "a"})); r.Verdict != Pass {
		t.Fatalf("%v", r)
	}
	if r := CheckSet(ops, fin([]string{"b"}, []string{"b"})); r.Verdict != Fail || !strings.Contains(joined(r), `lost the acknowledged SADD of "a"`) {
		t.Fatalf("lost add not caught: %v", r)
	}
	if r := CheckSet(ops, fin([]string{"a", "d"}, []string{"a", "d"})); r.Verdict != Fail || !strings.Contains(joined(r), `"d"`) {
		t.Fatalf("phantom not caught: %v", r)
	}
	if r := CheckSet(ops, fin([]string{"a"}, []string{"a", "b"})); r.Verdict != Fail || !strings.Contains(joined(r), "not converged") {
		t.Fatalf("divergence not caught: %v", r)
	}
}

func TestSessions(t *testing.T) {
	ops := []SessionOp{
		{Session: 1, Elem: "x", Outcome: history.OK},
		{Session: 1, Read: true, Elems: []string{"x", "y"}, Outcome: history.OK},
		{Session: 2, Elem: "z", Outcome: history.Unknown},
		{Session: 2, Read: true, Elems: []string{"x"}, Outcome: history.OK},
		{Session: 1, Read: true, Elems: []string{"x", "y", "z"}, Outcome: history.OK},
	}
	if r := CheckSessions(ops); r.Verdict != Pass {
		t.Fatalf("%v", r)
	}
	ryw := append(append([]SessionOp(nil), ops...), SessionOp{Session: 2, Elem: "w", Outcome: history.OK},
		SessionOp{Session: 2, Read: true, Elems: []string{"x"}, Outcome: history.OK})
	if r := CheckSessions(ryw); r.Verdict != Fail || !strings.Contains(joined(r), "read-your-writes") {
		t.Fatalf("read-your-writes violation not caught: %v", r)
	}
	mono := append(append([]SessionOp(nil), ops...), SessionOp{Session: 1, Read: true, Elems: []string{"x", "z"}, Outcome: history.OK})
	if r := CheckSessions(mono); r.Verdict != Fail || !strings.Contains(joined(r), "monotonic reads") {
		t.Fatalf("monotonic reads violation not caught: %v", r)
	}
}

func TestSetNX(t *testing.T) {
	att := []SetNXAttempt{
		{Key: "k", Value: "a", Won: true, Outcome: history.OK},
		{Key: "k", Value: "b", Outcome: history.OK},
		{Key: "j", Value: "c", Outcome: history.Unknown},
	}
	fin := map[string][]NodeValue[string]{
		"k": {{Node: "n1", Value: "a"}, {Node: "n2", Value: "a"}},
		"j": {{Node: "n1", Value: "c"}, {Node: "n2", Value: "c"}},
	}
	if r := CheckSetNX(att, fin); r.Verdict != Pass {
		t.Fatalf("%v", r)
	}
	two := append(append([]SetNXAttempt(nil), att...), SetNXAttempt{Key: "k", Value: "b", Won: true, Outcome: history.OK})
	if r := CheckSetNX(two, fin); r.Verdict != Fail || !strings.Contains(joined(r), "two winners") {
		t.Fatalf("two winners not caught: %v", r)
	}
	fin["k"][1].Value = "b"
	if r := CheckSetNX(att, fin); r.Verdict != Fail {
		t.Fatalf("overwritten winner not caught: %v", r)
	}
}

func TestHashes(t *testing.T) {
	hs := []MemberHash{{Member: "m1", Revision: 9, Hash: 1}, {Member: "m2", Revision: 9, Hash: 1}}
	if r := CheckHashes(hs); r.Verdict != Pass {
		t.Fatalf("%v", r)
	}
	hs[1].Hash = 2
	if r := CheckHashes(hs); r.Verdict != Fail || !strings.Contains(joined(r), "differs") {
		t.Fatalf("hash mismatch not caught: %v", r)
	}
}

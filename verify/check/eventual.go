package check

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cairndb/cairn/verify/history"
)

// CounterAdd is one INCRBY (or DECRBY, as a negative Delta).
type CounterAdd struct {
	Delta   int64
	Outcome history.Outcome
}

// NodeValue is a value read from one node after heal; Err is set if the
// node did not answer.
type NodeValue[T any] struct {
	Node  string
	Value T
	Err   string
}

// CheckCounter checks counter convergence: every node answers with the
// same value, which lies between the sum of the acknowledged deltas and
// that sum plus every unknown delta of the same sign.
func CheckCounter(adds []CounterAdd, finals []NodeValue[int64]) Result {
	const name = "counter convergence"
	var v violations
	var acked, lo, hi int64
	counts := map[history.Outcome]int{}
	for _, a := range adds {
		counts[a.Outcome]++
		switch a.Outcome {
		case history.OK:
			acked += a.Delta
		case history.Unknown:
			if a.Delta < 0 {
				lo += a.Delta
			} else {
				hi += a.Delta
			}
		}
	}
	lo, hi = acked+lo, acked+hi
	var agreed *int64
	var agreedNode string
	for _, f := range finals {
		if f.Err != "" {
			v.add("%s did not answer: %s", f.Node, f.Err)
			continue
		}
		if f.Value < lo || f.Value > hi {
			v.add("%s reads %d, outside [%d, %d] (acknowledged sum %d, unknown deltas bound the rest)", f.Node, f.Value, lo, hi, acked)
		}
		if agreed == nil {
			agreed, agreedNode = &f.Value, f.Node
		} else if *agreed != f.Value {
			v.add("not converged: %s reads %d, %s reads %d", agreedNode, *agreed, f.Node, f.Value)
		}
	}
	final := "none"
	if agreed != nil {
		final = fmt.Sprint(*agreed)
	}
	return v.result(name, fmt.Sprintf("%d increments (%d ok, %d unknown); final %s within [%d, %d]",
		len(adds), counts[history.OK], counts[history.Unknown], final, lo, hi))
}

// SetOp is one SADD or SREM of a single element.
type SetOp struct {
	Remove  bool
	Elem    string
	Outcome history.Outcome
}

// CheckSet checks add-wins set convergence: every node answers with the
// same members; every acknowledged SADD whose element no one tried to
// remove is present; nothing is present that nobody tried to add.
// Removed elements may stay (a remove only cancels the adds it observed,
// and under a partition it may observe none), and are counted.
func CheckSet(ops []SetOp, finals []NodeValue[[]string]) Result {
	const name = "set convergence (add-wins)"
	var v violations
	added := map[string]history.Outcome{} // best outcome of an add
	removed := map[string]bool{}
	for _, op := range ops {
		if op.Remove {
			if op.Outcome != history.Failed {
				removed[op.Elem] = true
			}
			continue
		}
		if cur, ok := added[op.Elem]; !ok || op.Outcome == history.OK || (op.Outcome == history.Unknown && cur == history.Failed) {
			added[op.Elem] = op.Outcome
		}
	}
	var ref []string
	var refNode string
	stayed := 0
	for _, f := range finals {
		if f.Err != "" {
			v.add("%s did not answer: %s", f.Node, f.Err)
			continue
		}
		have := map[string]bool{}
		for _, e := range f.Value {
			have[e] = true
		}
		if ref == nil {
			ref, refNode = slices.Sorted(maps.Keys(have)), f.Node
			for e := range have {
				if removed[e] {
					stayed++
				}
			}
		} else if got := slices.Sorted(maps.Keys(have)); !slices.Equal(ref, got) {
			v.add("not converged: %s has %d members, %s has %d (first difference: %s)", refNode, len(ref), f.Node, len(got), firstDiff(ref, got))
		}
		for e, o := range added {
			if o == history.OK && !removed[e] && !have[e] {
				v.add("%s lost the acknowledged SADD of %q", f.Node, e)
			}
		}
		for e := range have {
			if o, ok := added[e]; !ok || o == history.Failed {
				v.add("%s holds %q, which no acknowledged or pending SADD added", f.Node, e)
			}
		}
	}
	acked := 0
	for _, o := range added {
		if o == history.OK {
			acked++
		}
	}
	return v.result(name, fmt.Sprintf("%d ops, %d elements acknowledged, %d removed (%d of them still present, allowed by add-wins); %d members",
		len(ops), acked, len(removed), stayed, len(ref)))
}

func firstDiff(a, b []string) string {
	for i := 0; i < min(len(a), len(b)); i++ {
		if a[i] != b[i] {
			return fmt.Sprintf("%q vs %q", a[i], b[i])
		}
	}
	if len(a) > len(b) {
		return fmt.Sprintf("%q only in the first", a[len(b)])
	}
	if len(b) > len(a) {
		return fmt.Sprintf("%q only in the second", b[len(a)])
	}
	return "none"
}

// SessionOp is one operation of a session (one connection): an SADD of a
// unique element or an SMEMBERS, on a set to which other sessions add too
// but from which nobody removes.
type SessionOp struct {
	Session      int
	Call, Return time.Duration
	Read         bool
	Elem         string   // an add's element
	Elems        []string // a read's members
	Outcome      history.Outcome
}

// CheckSessions checks the session guarantees within each connection,
// taking its operations in order: a read holds every element the session
// added with an acknowledgement before it (read-your-writes) and every
// element an earlier read of the session returned (monotonic reads).
func CheckSessions(ops []SessionOp) Result {
	const name = "session guarantees (read-your-writes, monotonic reads)"
	var v violations
	type sess struct {
		wrote map[string]time.Duration
		seen  map[string]time.Duration
	}
	byID := map[int]*sess{}
	reads := 0
	for _, op := range ops {
		s := byID[op.Session]
		if s == nil {
			s = &sess{wrote: map[string]time.Duration{}, seen: map[string]time.Duration{}}
			byID[op.Session] = s
		}
		if !op.Read {
			if op.Outcome == history.OK {
				s.wrote[op.Elem] = op.Return
			}
			continue
		}
		if op.Outcome != history.OK {
			continue
		}
		reads++
		have := map[string]bool{}
		for _, e := range op.Elems {
			have[e] = true
		}
		for e, at := range s.wrote {
			if !have[e] {
				v.add("session %d: read at t=%v lacks %q, which it added (acknowledged at t=%v): read-your-writes", op.Session, op.Call, e, at)
			}
		}
		for e, at := range s.seen {
			if !have[e] {
				v.add("session %d: read at t=%v lacks %q, which its read at t=%v returned: monotonic reads", op.Session, op.Call, e, at)
			}
		}
		for e := range have {
			if _, ok := s.seen[e]; !ok {
				s.seen[e] = op.Call
			}
		}
	}
	return v.result(name, fmt.Sprintf("%d sessions, %d reads", len(byID), reads))
}

// SetNXAttempt is one SET key value NX.
type SetNXAttempt struct {
	Key, Value string
	// Won: the reply was OK (the key was absent and is now Value).
	Won     bool
	Outcome history.Outcome
}

// CheckSetNX checks SET NX's linearizable compare-and-set: at most one
// acknowledged winner per key, and after heal every node reads the
// winner's value (or, without a known winner, one of the values that may
// have been written).
func CheckSetNX(attempts []SetNXAttempt, finals map[string][]NodeValue[string]) Result {
	const name = "SET NX (one winner per key)"
	var v violations
	winner := map[string]string{}
	possible := map[string]map[string]bool{}
	for _, a := range attempts {
		if possible[a.Key] == nil {
			possible[a.Key] = map[string]bool{}
		}
		if a.Outcome == history.Unknown || (a.Outcome == history.OK && a.Won) {
			possible[a.Key][a.Value] = true
		}
		if a.Outcome == history.OK && a.Won {
			if w, ok := winner[a.Key]; ok {
				v.add("key %q has two winners: %q and %q", a.Key, w, a.Value)
			}
			winner[a.Key] = a.Value
		}
	}
	for _, key := range slices.Sorted(maps.Keys(finals)) {
		for _, f := range finals[key] {
			switch w, ok := winner[key]; {
			case f.Err != "":
				v.add("%s: reading %q failed: %s", f.Node, key, f.Err)
			case ok && f.Value != w:
				v.add("%s reads %q = %q, but %q won", f.Node, key, f.Value, w)
			case !ok && f.Value != "" && !possible[key][f.Value]:
				v.add("%s reads %q = %q, which no pending attempt wrote", f.Node, key, f.Value)
			}
		}
	}
	return v.result(name, fmt.Sprintf("%d attempts on %d keys, %d winners", len(attempts), len(possible), len(winner)))
}

// MemberHash is one member's HashKV answer.
type MemberHash struct {
	Member          string
	Revision        int64
	CompactRevision int64
	Hash            uint32
	Err             string
}

// CheckHashes checks that every member's store hashes equal at the same
// revision: the replicas hold the same data.
func CheckHashes(hashes []MemberHash) Result {
	const name = "replica hashes (HashKV)"
	var v violations
	var parts []string
	for _, h := range hashes {
		if h.Err != "" {
			v.add("%s: %s", h.Member, h.Err)
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=%08x@%d", h.Member, h.Hash, h.Revision))
		ref := hashes[0]
		if ref.Err != "" {
			continue
		}
		if h.Revision != ref.Revision || h.CompactRevision != ref.CompactRevision {
			v.add("%s hashed revision %d (compacted %d), %s revision %d (compacted %d)", h.Member, h.Revision, h.CompactRevision, ref.Member, ref.Revision, ref.CompactRevision)
		} else if h.Hash != ref.Hash {
			v.add("%s hash %08x differs from %s's %08x at revision %d", h.Member, h.Hash, ref.Member, ref.Hash, h.Revision)
		}
	}
	if len(hashes) == 0 {
		v.add("no member answered")
	}
	return v.result(name, strings.Join(parts, " "))
}

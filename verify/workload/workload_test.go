package workload

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/verify/check"
	"github.com/cairndb/cairn/verify/history"
)

func newBase(name string, seed uint64) *base {
	cfg := Config{Recorder: history.NewRecorder(time.Now(), 0), Seed: seed, Prefix: "p/", Rate: 1000, MaxOps: 3}
	cfg.fill()
	return &base{cfg: cfg, name: name, prefix: cfg.Prefix + name + "/"}
}

func TestNewKnowsEveryNameAndRefusesOthers(t *testing.T) {
	for _, n := range Names {
		w, err := New(n, Config{})
		if err != nil || w.Name() != n {
			t.Fatalf("%s: %v %v", n, w, err)
		}
	}
	if _, err := New("queue", Config{}); err == nil || !strings.Contains(err.Error(), "unknown workload") {
		t.Fatalf("unknown workload: %v", err)
	}
}

// Keys are retired after OpsPerKey operations or MaxUnknownPerKey
// unknown outcomes, so that no key's history grows past what Porcupine
// checks quickly.
func TestRegisterRetiresKeys(t *testing.T) {
	r := &register{base: newBase("register", 1)}
	first := r.key(0)
	for range OpsPerKey - 1 {
		if k := r.key(0); k != first {
			t.Fatalf("key changed after fewer than %d ops: %s", OpsPerKey, k)
		}
	}
	second := r.key(0)
	if second == first {
		t.Fatal("key not retired after OpsPerKey ops")
	}
	for range MaxUnknownPerKey {
		r.add(check.RegisterOp{Outcome: history.Unknown}, 0)
	}
	if k := r.key(0); k == second {
		t.Fatal("key not retired after MaxUnknownPerKey unknown outcomes")
	}
	if r.key(1) == r.key(0) {
		t.Fatal("two slots share a key")
	}
}

// The same seed gives every worker the same operations; the budget stops
// the workers at MaxOps.
func TestWorkersAreSeededAndBudgeted(t *testing.T) {
	draw := func(seed uint64) []int {
		w := newBase("bank", seed).newWorker(2, 4, 0)
		var out []int
		for range 20 {
			out = append(out, w.rng.IntN(1000))
		}
		return out
	}
	a, b, c := draw(5), draw(5), draw(6)
	if !slices.Equal(a, b) {
		t.Fatal("the same seed gave two sequences")
	}
	if slices.Equal(a, c) {
		t.Fatal("two seeds gave the same sequence")
	}
	b0 := newBase("register", 1)
	w := b0.newWorker(0, 1, -1)
	n := 0
	for w.next(context.Background()) {
		n++
	}
	if n != 3 || !b0.capped.Load() {
		t.Fatalf("%d ops within a budget of 3 (capped=%v)", n, b0.capped.Load())
	}
	r := b0.cappedNote(check.Result{})
	if len(r.Details) != 1 || !strings.Contains(r.Details[0], "bound of 3 operations") {
		t.Fatalf("capped note %v", r.Details)
	}
}

package lease

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// applyOp is one replicated operation, as the apply loop would call it.
type applyOp struct {
	kind string // grant, revoke, attach, detach
	id   ID
	ttl  int64
	key  string
}

func randomOps(rng *rand.Rand, n int) []applyOp {
	ops := make([]applyOp, n)
	for i := range ops {
		// Few IDs and keys, so that duplicates, misses and moves happen.
		id := ID(rng.IntN(12))
		key := fmt.Sprintf("k%d", rng.IntN(30))
		switch r := rng.IntN(10); {
		case r < 3:
			ops[i] = applyOp{kind: "grant", id: id, ttl: rng.Int64N(20) - 2}
		case r < 4:
			ops[i] = applyOp{kind: "revoke", id: id}
		case r < 8:
			ops[i] = applyOp{kind: "attach", id: id, key: key}
		default:
			ops[i] = applyOp{kind: "detach", id: id, key: key}
		}
	}
	return ops
}

// apply runs op and describes its result.
func apply(l *Lessor, op applyOp) string {
	switch op.kind {
	case "grant":
		got, err := l.Grant(op.id, op.ttl)
		return fmt.Sprintf("%+v %v", got, err)
	case "revoke":
		keys, err := l.Revoke(op.id)
		return fmt.Sprintf("%q %v", keys, err)
	case "attach":
		return fmt.Sprint(l.Attach(op.id, op.key))
	default:
		return fmt.Sprint(l.Detach(op.id, op.key))
	}
}

// TestDeterminism feeds one apply sequence to a leader's lessor (promoted,
// with a moving clock, renewing and expiring) and a follower's: results and
// tables must be equal after every step, and so must the backends.
func TestDeterminism(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))

	leader, clock, leaderBackend := newTestLessor(t)
	leader.Promote(time.Second)
	follower, _, followerBackend := newTestLessor(t)

	// Renew of an expired lease waits for its revoke; a canceled context
	// makes it return at once instead.
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for i, op := range randomOps(rng, 3000) {
		a, b := apply(leader, op), apply(follower, op)
		if a != b {
			t.Fatalf("step %d %+v: leader %s, follower %s", i, op, a, b)
		}
		// Leader-only activity must not touch the table.
		clock.Advance(time.Duration(rng.IntN(1500)) * time.Millisecond)
		_ = leader.Expired()
		if rng.IntN(5) == 0 {
			_, _ = leader.Renew(canceled, ID(rng.IntN(12)))
		}
		if rng.IntN(200) == 0 {
			leader.Demote()
			leader.Promote(time.Second)
		}
		if !reflect.DeepEqual(dump(t, leader), dump(t, follower)) {
			t.Fatalf("step %d %+v: tables differ\nleader   %+v\nfollower %+v", i, op, dump(t, leader), dump(t, follower))
		}
	}
	if !reflect.DeepEqual(leaderBackend.leases, followerBackend.leases) {
		t.Fatalf("backends differ")
	}
	if leader.Len() == 0 {
		t.Fatal("the sequence left no lease: the test compares too little")
	}
}

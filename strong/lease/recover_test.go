package lease

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// mirrorStore stands in for the MVCC store's lease index: which lease each
// live key is attached to, kept by the same operations the node applies.
type mirrorStore map[string]ID

func (m mirrorStore) apply(t *testing.T, l *Lessor, op applyOp) {
	t.Helper()
	switch op.kind {
	case "grant":
		_, _ = l.Grant(op.id, op.ttl)
	case "revoke":
		keys, err := l.Revoke(op.id)
		if err == nil {
			for _, k := range keys {
				delete(m, k) // the node deletes the keys in the same apply
			}
		}
	case "attach": // a put with a lease
		if err := l.Attach(op.id, op.key); err == nil {
			m[op.key] = op.id
		}
	default: // a delete of the key
		if m[op.key] == op.id && l.Detach(op.id, op.key) {
			delete(m, op.key)
		}
	}
}

func TestRecoverFromBackend(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))

	l, clock, backend := newTestLessor(t)
	store := mirrorStore{}
	for _, op := range randomOps(rng, 2000) {
		store.apply(t, l, op)
	}
	want := dump(t, l)

	restarted, err := NewLessor(testConfig(clock, backend), leasedKeysOf(store))
	if err != nil {
		t.Fatal(err)
	}
	if got := dump(t, restarted); !reflect.DeepEqual(got, want) {
		t.Fatalf("after restart\n got %+v\nwant %+v", got, want)
	}
	if restarted.IsPrimary() {
		t.Fatal("a restarted lessor is primary")
	}
}

func TestRecoverRules(t *testing.T) {
	backend := NewMemBackend()
	_ = backend.SaveLease(1, 1) // saved when MinTTL was 1
	_ = backend.SaveLease(2, 30)
	clock := NewManualClock(epoch)

	t.Run("orphan attachments are skipped and TTLs raised", func(t *testing.T) {
		l, err := NewLessor(testConfig(clock, backend), leasedKeysOf(map[string]ID{"a": 1, "b": 2, "orphan": 9}))
		if err != nil {
			t.Fatal(err)
		}
		want := []tableEntry{{ID: 1, TTL: 2, Keys: []string{"a"}}, {ID: 2, TTL: 30, Keys: []string{"b"}}}
		if got := dump(t, l); !reflect.DeepEqual(got, want) {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	})
	t.Run("a key attached twice is corrupt", func(t *testing.T) {
		twice := func(fn func(int64, []byte) error) error {
			if err := fn(1, []byte("k")); err != nil {
				return err
			}
			return fn(2, []byte("k"))
		}
		if _, err := NewLessor(testConfig(clock, backend), twice); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("err = %v, want ErrCorrupt", err)
		}
	})
	t.Run("a record for lease 0 is corrupt", func(t *testing.T) {
		bad := NewMemBackend()
		_ = bad.SaveLease(0, 5)
		if _, err := NewLessor(testConfig(clock, bad), nil); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("err = %v, want ErrCorrupt", err)
		}
	})
	t.Run("a source error fails and leaves the lessor as it was", func(t *testing.T) {
		l, err := NewLessor(testConfig(clock, backend), nil)
		if err != nil {
			t.Fatal(err)
		}
		before := dump(t, l)
		boom := errors.New("scan failed")
		err = l.Recover(func(func(int64, []byte) error) error { return boom })
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		if got := dump(t, l); !reflect.DeepEqual(got, before) {
			t.Fatal("a failed Recover changed the table")
		}
	})
}

// TestRecoverReplacesState covers a snapshot restore: the table becomes
// the backend's, a primary stays primary with fresh expiries, and Renew
// calls waiting on a lease that is gone return.
func TestRecoverReplacesState(t *testing.T) {
	l, clock, backend := newTestLessor(t)
	l.Promote(0)
	mustGrant(t, l, 1, 5)
	mustGrant(t, l, 2, 5)
	mustAttach(t, l, 1, "x")
	clock.Advance(5 * time.Second)
	done := make(chan error, 1)
	go func() {
		_, err := l.Renew(context.Background(), 1)
		done <- err
	}()
	waitForRenewWaiter(t, l, 1)

	// The snapshot's state: lease 1 is gone, lease 3 exists with key y.
	_ = backend.DeleteLease(1)
	_ = backend.SaveLease(3, 8)
	if err := l.Recover(leasedKeysOf(map[string]ID{"y": 3})); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil {
		t.Fatal("waiting Renew succeeded on a lease that is gone")
	}
	want := []tableEntry{{ID: 2, TTL: 5, Keys: []string{}}, {ID: 3, TTL: 8, Keys: []string{"y"}}}
	if got := dump(t, l); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if !l.IsPrimary() {
		t.Fatal("Recover demoted the lessor")
	}
	if got, _ := l.Remaining(2); got != 5*time.Second {
		t.Fatalf("Remaining(2) = %v, want a fresh 5s", got)
	}
	if l.LeaseOf("x") != NoLease {
		t.Fatal("key of the vanished lease is still attached")
	}
}

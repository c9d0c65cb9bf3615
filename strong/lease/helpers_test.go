package lease

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"testing"
	"time"
)

// epoch is the fake clock's start; any fixed instant will do.
var epoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// testConfig is a config with a manual clock and an in-memory backend.
func testConfig(clock Clock, backend Backend) Config {
	cfg := DefaultConfig()
	cfg.MinTTL = 2
	cfg.RevokeRetryInterval = 3 * time.Second
	cfg.ExpiredBatchMax = 100
	cfg.Clock = clock
	cfg.Backend = backend
	cfg.Logger = slog.New(slog.DiscardHandler)
	return cfg
}

func newTestLessor(t testing.TB) (*Lessor, *ManualClock, *MemBackend) {
	t.Helper()
	clock, backend := NewManualClock(epoch), NewMemBackend()
	l, err := NewLessor(testConfig(clock, backend), nil)
	if err != nil {
		t.Fatal(err)
	}
	return l, clock, backend
}

func mustGrant(t testing.TB, l *Lessor, id ID, ttl int64) {
	t.Helper()
	if _, err := l.Grant(id, ttl); err != nil {
		t.Fatalf("Grant(%d, %d): %v", id, ttl, err)
	}
}

func mustAttach(t testing.TB, l *Lessor, id ID, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if err := l.Attach(id, k); err != nil {
			t.Fatalf("Attach(%d, %q): %v", id, k, err)
		}
	}
}

// tableEntry is the replicated state of one lease, for comparisons.
type tableEntry struct {
	ID   ID
	TTL  int64
	Keys []string
}

// dump returns the replicated state (the lease table and attachments),
// sorted, after checking the lessor's invariants.
func dump(t testing.TB, l *Lessor) []tableEntry {
	t.Helper()
	if err := l.checkInvariants(); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []tableEntry{}
	for _, id := range slices.Sorted(maps.Keys(l.mu.leases)) {
		le := l.mu.leases[id]
		keys := le.sortedKeys()
		if keys == nil {
			keys = []string{}
		}
		out = append(out, tableEntry{ID: id, TTL: le.ttl, Keys: keys})
	}
	return out
}

// checkInvariants checks what must hold between the lessor's fields.
func (l *Lessor) checkInvariants() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	attached := 0
	for id, le := range l.mu.leases {
		if le.id != id {
			return fmt.Errorf("lease %d stored under %d", le.id, id)
		}
		if le.ttl < l.cfg.MinTTL || le.ttl > MaxTTL {
			return fmt.Errorf("lease %d has TTL %d", id, le.ttl)
		}
		for k := range le.keys {
			if l.mu.keyLease[k] != id {
				return fmt.Errorf("key %q in lease %d but keyLease says %d", k, id, l.mu.keyLease[k])
			}
			attached++
		}
		if l.mu.primary {
			if le.queueIndex < 0 || le.queueIndex >= len(l.mu.queue) || l.mu.queue[le.queueIndex] != le {
				return fmt.Errorf("lease %d not at its queue index %d", id, le.queueIndex)
			}
			if le.due.Before(le.expiry) || le.expiry.IsZero() {
				return fmt.Errorf("lease %d due %v before expiry %v", id, le.due, le.expiry)
			}
		} else if le.queueIndex != notQueued || !le.expiry.IsZero() || le.reported {
			return fmt.Errorf("follower lease %d has primary state", id)
		}
	}
	if attached != len(l.mu.keyLease) {
		return fmt.Errorf("%d attachments in leases, %d in keyLease", attached, len(l.mu.keyLease))
	}
	if l.mu.primary != (l.mu.demoted != nil) {
		return errors.New("primary and demoted channel disagree")
	}
	if !l.mu.primary && len(l.mu.queue) != 0 {
		return fmt.Errorf("follower has %d queued leases", len(l.mu.queue))
	}
	if l.mu.primary && len(l.mu.queue) != len(l.mu.leases) {
		return fmt.Errorf("primary queues %d of %d leases", len(l.mu.queue), len(l.mu.leases))
	}
	for i := 1; i < len(l.mu.queue); i++ {
		if l.mu.queue.Less(i, (i-1)/2) {
			return fmt.Errorf("heap order broken at %d", i)
		}
	}
	return nil
}

// failingBackend fails every write after it is armed.
type failingBackend struct {
	*MemBackend
	fail bool
}

var errDisk = errors.New("disk on fire")

func (b *failingBackend) SaveLease(id ID, ttl int64) error {
	if b.fail {
		return errDisk
	}
	return b.MemBackend.SaveLease(id, ttl)
}

func (b *failingBackend) DeleteLease(id ID) error {
	if b.fail {
		return errDisk
	}
	return b.MemBackend.DeleteLease(id)
}

// leasedKeysOf turns a key -> lease map into a LeasedKeys source, as the
// MVCC store's lease index would give it.
func leasedKeysOf(m map[string]ID) LeasedKeys {
	return func(fn func(lease int64, key []byte) error) error {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if err := fn(int64(m[k]), []byte(k)); err != nil {
				return err
			}
		}
		return nil
	}
}

// waitForRenewWaiter waits until a Renew call waits on lease id's revoke
// (it makes the lease's revoked channel under the lock before blocking).
func waitForRenewWaiter(t *testing.T, l *Lessor, id ID) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		l.mu.Lock()
		le := l.mu.leases[id]
		waiting := le != nil && le.revoked != nil
		l.mu.Unlock()
		if waiting {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("Renew never started waiting for the revoke")
		}
		time.Sleep(time.Millisecond)
	}
}

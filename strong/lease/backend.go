package lease

import (
	"maps"
	"slices"
	"sync"
)

// Backend persists the lease table (ID and granted TTL; attachments are
// rebuilt from the MVCC keys). The node implements it on its store.
//
// Contract: SaveLease and DeleteLease are called from the apply loop, in
// the middle of applying one entry; their writes must commit atomically
// with the rest of that entry's effects. An error from either leaves the
// lessor unchanged and is returned to the apply loop, which must stop the
// member. ForEachLease is called by NewLessor and Recover and must visit
// every saved lease once, in any order, stopping at fn's first error.
type Backend interface {
	// SaveLease records a granted lease.
	SaveLease(id ID, ttl int64) error
	// DeleteLease removes a revoked lease's record.
	DeleteLease(id ID) error
	// ForEachLease calls fn for every recorded lease.
	ForEachLease(fn func(id ID, ttl int64) error) error
}

// MemBackend is an in-memory Backend for tests and the simulator. It is
// safe for concurrent use.
type MemBackend struct {
	mu     sync.Mutex
	leases map[ID]int64
}

// NewMemBackend returns an empty MemBackend.
func NewMemBackend() *MemBackend { return &MemBackend{leases: map[ID]int64{}} }

// SaveLease records a lease.
func (b *MemBackend) SaveLease(id ID, ttl int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.leases[id] = ttl
	return nil
}

// DeleteLease removes a lease's record.
func (b *MemBackend) DeleteLease(id ID) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.leases, id)
	return nil
}

// ForEachLease calls fn for every lease in ID order.
func (b *MemBackend) ForEachLease(fn func(id ID, ttl int64) error) error {
	b.mu.Lock()
	snapshot := maps.Clone(b.leases)
	b.mu.Unlock()
	for _, id := range slices.Sorted(maps.Keys(snapshot)) {
		if err := fn(id, snapshot[id]); err != nil {
			return err
		}
	}
	return nil
}

var _ Backend = (*MemBackend)(nil)

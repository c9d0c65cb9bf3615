package lease

import (
	"cmp"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"
)

// lease is one lease of the table. id, ttl and keys are replicated state;
// the rest belongs to the primary half and is zero on a follower.
type lease struct {
	id   ID
	ttl  int64
	keys map[string]struct{} // nil until the first Attach

	// expiry is when the lease expires; zero (never) unless primary.
	expiry time.Time
	// due is when Expired next looks at the lease: expiry, or a retry time
	// once reported. Invariant: due >= expiry while queued.
	due time.Time
	// reported is set once Expired has reported the lease; cleared when
	// Promote or Renew gives it a new expiry.
	reported bool
	// queueIndex is the lease's position in the expiry queue, or notQueued.
	queueIndex int
	// revoked is made by a Renew that waits for the revoke of an expired
	// lease, and closed by Revoke (or Recover, if the lease is gone).
	revoked chan struct{}
}

func (le *lease) sortedKeys() []string {
	return slices.Sorted(maps.Keys(le.keys))
}

// closeRevoked wakes the Renew calls waiting for this lease's revoke.
func (le *lease) closeRevoked() {
	if le.revoked != nil {
		close(le.revoked)
		le.revoked = nil
	}
}

// LeasedKeys visits every key attached to a lease, stopping at fn's first
// error; key is valid only during the call. storage/mvcc's
// Store.ForEachLeasedKey has this shape, so the node passes it as is.
type LeasedKeys func(fn func(lease int64, key []byte) error) error

// Lessor holds the lease table and, while promoted, the expiry clock. It is
// safe for concurrent use: the apply loop, the keepalive streams, the
// node's expiry loop and leadership changes may call it at once. Grant,
// Revoke, Attach, Detach and Recover change the replicated table and must
// be called only by the apply loop, in log order.
type Lessor struct {
	cfg   Config
	clock Clock
	log   *slog.Logger
	m     *metrics

	mu struct {
		sync.Mutex
		// leases is the replicated table.
		leases map[ID]*lease
		// keyLease maps each attached key to its lease. Invariant:
		// keyLease[k] == id exactly when k is in leases[id].keys.
		keyLease map[string]ID
		// primary is set between Promote and Demote.
		primary bool
		// demoted is made by Promote and closed by Demote; nil while not
		// primary. Renew calls that wait select on it.
		demoted chan struct{}
		// queue holds every lease while primary, and nothing otherwise.
		queue expiryQueue
	}
}

// NewLessor returns a follower (not promoted) lessor holding the leases
// saved in cfg.Backend and the attachments that keys visits (nil for a
// store with no leased keys). The node builds it after opening its MVCC
// store: lease.NewLessor(cfg, store.ForEachLeasedKey).
func NewLessor(cfg Config, keys LeasedKeys) (*Lessor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	l := &Lessor{cfg: cfg, clock: cfg.Clock, log: cfg.Logger.With("component", "lessor"), m: newMetrics(cfg.Registerer)}
	leases, keyLease, err := l.load(keys)
	if err != nil {
		return nil, err
	}
	l.mu.leases, l.mu.keyLease = leases, keyLease
	l.m.active.Set(float64(len(leases)))
	return l, nil
}

// Grant adds a lease to the table (apply loop). id must not be NoLease
// (the node picks one before proposing); ttl above MaxTTL fails with
// ErrTTLTooLarge; ttl below Config.MinTTL is raised to it. An ID that is
// already granted fails with ErrLeaseExists. The returned Lease carries the
// TTL actually granted. On the primary the lease expires at now + TTL.
func (l *Lessor) Grant(id ID, ttl int64) (Lease, error) {
	if id == NoLease {
		return Lease{}, fmt.Errorf("%w: lease ID 0 cannot be granted", ErrLeaseNotFound)
	}
	if ttl > MaxTTL {
		return Lease{}, ErrTTLTooLarge
	}
	ttl = max(ttl, l.cfg.MinTTL)

	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.mu.leases[id]; ok {
		return Lease{}, ErrLeaseExists
	}
	if err := l.cfg.Backend.SaveLease(id, ttl); err != nil {
		return Lease{}, fmt.Errorf("lease: save lease %016x: %w", id, err)
	}
	le := &lease{id: id, ttl: ttl, queueIndex: notQueued}
	l.mu.leases[id] = le
	if l.mu.primary {
		l.refreshLocked(le, l.clock.Now(), 0)
		l.mu.queue.push(le)
	}
	l.m.granted.Inc()
	l.m.active.Set(float64(len(l.mu.leases)))
	return Lease{ID: id, TTL: ttl}, nil
}

// Revoke removes a lease and its attachments (apply loop) and returns the
// keys that were attached, sorted: the node deletes them in the same
// apply. An unknown ID fails with ErrLeaseNotFound. Renew calls waiting on
// the lease return ErrLeaseNotFound.
func (l *Lessor) Revoke(id ID) ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	le := l.mu.leases[id]
	if le == nil {
		return nil, ErrLeaseNotFound
	}
	if err := l.cfg.Backend.DeleteLease(id); err != nil {
		return nil, fmt.Errorf("lease: delete lease %016x: %w", id, err)
	}
	keys := le.sortedKeys()
	for _, k := range keys {
		delete(l.mu.keyLease, k)
	}
	delete(l.mu.leases, id)
	l.mu.queue.remove(le)
	le.closeRevoked()
	l.m.revoked.Inc()
	l.m.active.Set(float64(len(l.mu.leases)))
	return keys, nil
}

// Attach attaches key to a lease (apply loop, for a put with a lease). A
// key attached to another lease moves. An unknown ID fails with
// ErrLeaseNotFound and changes nothing: the node checks the lease before it
// writes the key, as etcd does, so this error does not happen mid-apply.
func (l *Lessor) Attach(id ID, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	le := l.mu.leases[id]
	if le == nil {
		return ErrLeaseNotFound
	}
	if old, ok := l.mu.keyLease[key]; ok && old != id {
		delete(l.mu.leases[old].keys, key)
	}
	if le.keys == nil {
		le.keys = map[string]struct{}{}
	}
	le.keys[key] = struct{}{}
	l.mu.keyLease[key] = id
	return nil
}

// Detach removes key's attachment to a lease (apply loop, for a delete or
// a put without the lease) and reports whether it was attached. Detaching
// from an unknown lease, or a key that is not attached to it, does nothing:
// the node may delete the keys of a lease it has just revoked.
func (l *Lessor) Detach(id ID, key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	le := l.mu.leases[id]
	if le == nil {
		return false
	}
	if _, ok := le.keys[key]; !ok {
		return false
	}
	delete(le.keys, key)
	delete(l.mu.keyLease, key)
	return true
}

// Lookup returns a lease of the table.
func (l *Lessor) Lookup(id ID) (Lease, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	le := l.mu.leases[id]
	if le == nil {
		return Lease{}, false
	}
	return Lease{ID: le.id, TTL: le.ttl}, true
}

// Keys returns the keys attached to a lease, sorted, or ErrLeaseNotFound.
func (l *Lessor) Keys(id ID) ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	le := l.mu.leases[id]
	if le == nil {
		return nil, ErrLeaseNotFound
	}
	return le.sortedKeys(), nil
}

// LeaseOf returns the lease key is attached to, or NoLease.
func (l *Lessor) LeaseOf(key string) ID {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.keyLease[key]
}

// Leases returns the whole table sorted by ID (what LeaseLeases lists).
func (l *Lessor) Leases() []Lease {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Lease, 0, len(l.mu.leases))
	for _, le := range l.mu.leases {
		out = append(out, Lease{ID: le.id, TTL: le.ttl})
	}
	slices.SortFunc(out, func(a, b Lease) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Len returns the number of leases in the table.
func (l *Lessor) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.mu.leases)
}

package lease

import (
	"errors"
	"fmt"
)

// ErrCorrupt reports stored lease state that cannot be right: a lease
// record for NoLease, or a key attached to two leases.
var ErrCorrupt = errors.New("lease: corrupt stored state")

// Recover rebuilds the table from Backend and the attachments that keys
// visits (nil for none), after the node restored a snapshot into its
// store. On error the lessor is unchanged. Renew calls waiting on leases
// that are gone return ErrLeaseNotFound. A primary lessor stays primary
// and gives every lease now + TTL.
func (l *Lessor) Recover(keys LeasedKeys) error {
	leases, keyLease, err := l.load(keys)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, le := range l.mu.leases {
		if _, ok := leases[id]; !ok {
			le.closeRevoked()
		}
	}
	l.mu.queue.clear()
	l.mu.leases, l.mu.keyLease = leases, keyLease
	if l.mu.primary {
		l.refreshAllLocked(0)
	}
	l.m.active.Set(float64(len(leases)))
	l.log.Info("recovered leases", "leases", len(leases), "attached_keys", len(keyLease))
	return nil
}

// load reads the table from Backend (raising each TTL to MinTTL, as etcd
// does in case MinTTL grew) and the attachments from keys. An attachment
// to a lease that is not in Backend is skipped with a warning, as etcd
// does; a key attached twice is ErrCorrupt.
func (l *Lessor) load(keys LeasedKeys) (map[ID]*lease, map[string]ID, error) {
	leases := map[ID]*lease{}
	err := l.cfg.Backend.ForEachLease(func(id ID, ttl int64) error {
		if id == NoLease {
			return fmt.Errorf("%w: a lease record for lease 0", ErrCorrupt)
		}
		if _, dup := leases[id]; dup {
			return fmt.Errorf("%w: lease %016x recorded twice", ErrCorrupt, id)
		}
		leases[id] = &lease{id: id, ttl: max(ttl, l.cfg.MinTTL), queueIndex: notQueued}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("lease: load leases: %w", err)
	}
	keyLease := map[string]ID{}
	if keys == nil {
		return leases, keyLease, nil
	}
	orphans := 0
	err = keys(func(raw int64, rawKey []byte) error {
		id := ID(raw)
		le := leases[id]
		if le == nil {
			orphans++
			return nil
		}
		key := string(rawKey)
		if other, dup := keyLease[key]; dup {
			return fmt.Errorf("%w: key %q attached to leases %016x and %016x", ErrCorrupt, key, other, id)
		}
		if le.keys == nil {
			le.keys = map[string]struct{}{}
		}
		le.keys[key] = struct{}{}
		keyLease[key] = id
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("lease: load attachments: %w", err)
	}
	if orphans > 0 {
		l.log.Warn("skipped keys attached to leases that do not exist", "keys", orphans)
	}
	return leases, keyLease, nil
}

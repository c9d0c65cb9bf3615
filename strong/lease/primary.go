package lease

import (
	"context"
	"time"
)

// Promote makes this lessor primary (the Raft leader's): every lease
// expires at now + TTL + extend. The node calls it when this member, as
// leader, has applied every entry of earlier terms (etcd: on applying the
// leader's empty entry of its term), with extend = one election timeout,
// so no lease expires only because of the election. Promoting a primary
// refreshes every lease again.
func (l *Lessor) Promote(extend time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mu.primary = true
	l.refreshAllLocked(extend)
	l.log.Info("promoted: managing lease expiry", "leases", len(l.mu.leases), "extend", extend)
}

// Demote stops this lessor from deciding expiry (the member is no longer
// leader): leases no longer expire here, Expired reports nothing, and
// Renew calls waiting on an expired lease return ErrNotPrimary.
func (l *Lessor) Demote() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.mu.primary {
		return
	}
	l.mu.primary = false
	close(l.mu.demoted)
	l.mu.demoted = nil
	l.mu.queue.clear()
	for _, le := range l.mu.leases {
		le.expiry, le.due, le.reported = time.Time{}, time.Time{}, false
	}
	l.log.Info("demoted: no longer managing lease expiry", "leases", len(l.mu.leases))
}

// IsPrimary reports whether the lessor is promoted.
func (l *Lessor) IsPrimary() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.primary
}

// Renew serves a keepalive on the primary: the lease expires at now + TTL,
// and its TTL is returned. It fails with ErrNotPrimary on a follower and
// ErrLeaseNotFound for an unknown lease. For a lease that has expired it
// waits, as etcd does, until the lease is revoked (ErrLeaseNotFound), the
// lessor is demoted (ErrNotPrimary) or ctx ends (ctx.Err()), so that a
// keepalive never succeeds for a lease whose revoke may be under way.
func (l *Lessor) Renew(ctx context.Context, id ID) (int64, error) {
	return l.renew(ctx, id, true)
}

// RenewIfLive renews a lease that has not expired, and answers
// ErrLeaseNotFound at once for one that has (its revoke is pending) instead
// of waiting for the revoke as Renew does. The apply path uses it: the
// revoke is a log entry that only the apply goroutine itself can apply, so
// waiting there would deadlock.
func (l *Lessor) RenewIfLive(id ID) (int64, error) {
	return l.renew(context.Background(), id, false)
}

func (l *Lessor) renew(ctx context.Context, id ID, waitRevoke bool) (int64, error) {
	l.mu.Lock()
	if !l.mu.primary {
		l.mu.Unlock()
		return 0, ErrNotPrimary
	}
	le := l.mu.leases[id]
	if le == nil {
		l.mu.Unlock()
		return 0, ErrLeaseNotFound
	}
	now := l.clock.Now()
	if !now.Before(le.expiry) {
		if !waitRevoke {
			l.mu.Unlock()
			return 0, ErrLeaseNotFound
		}
		if le.revoked == nil {
			le.revoked = make(chan struct{})
		}
		revoked, demoted := le.revoked, l.mu.demoted
		l.mu.Unlock()
		select {
		case <-revoked:
			return 0, ErrLeaseNotFound
		case <-demoted:
			return 0, ErrNotPrimary
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	l.refreshLocked(le, now, 0)
	l.mu.queue.fix(le)
	ttl := le.ttl
	l.mu.Unlock()
	l.m.renewed.Inc()
	return ttl, nil
}

// Remaining returns the time until a lease expires on the primary
// (negative once it has expired and its revoke is pending). It fails with
// ErrNotPrimary on a follower, whose leases have no expiry.
func (l *Lessor) Remaining(id ID) (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	le, err := l.primaryLeaseLocked(id)
	if err != nil {
		return 0, err
	}
	return le.expiry.Sub(l.clock.Now()), nil
}

// TimeToLive returns what LeaseTimeToLive answers for a lease on the
// primary: the remaining whole seconds (truncated, as etcd), the granted
// TTL and, if withKeys, the attached keys. It fails with ErrNotPrimary on
// a follower and ErrLeaseNotFound for an unknown lease.
func (l *Lessor) TimeToLive(id ID, withKeys bool) (Status, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	le, err := l.primaryLeaseLocked(id)
	if err != nil {
		return Status{}, err
	}
	st := Status{ID: id, TTL: int64(le.expiry.Sub(l.clock.Now()).Seconds()), GrantedTTL: le.ttl}
	if withKeys {
		st.Keys = le.sortedKeys()
	}
	return st, nil
}

// Expired returns leases that have expired, earliest first, at most
// Config.ExpiredBatchMax of them; nothing unless primary. Each returned
// lease is not returned again for Config.RevokeRetryInterval, while the
// node's revoke goes through Raft; if it is still in the table then, it is
// returned again. Call it every DefaultExpiryCheckInterval. Each call
// costs O(k log n) for k returned leases.
func (l *Lessor) Expired() []ID {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.mu.primary {
		return nil
	}
	now := l.clock.Now()
	var out []ID
	for len(out) < l.cfg.ExpiredBatchMax {
		le := l.mu.queue.peek()
		if le == nil || now.Before(le.due) {
			break
		}
		if le.reported {
			l.m.expiredRetried.Inc()
		} else {
			le.reported = true
			l.m.expired.Inc()
		}
		le.due = now.Add(l.cfg.RevokeRetryInterval)
		l.mu.queue.fix(le)
		out = append(out, le.id)
	}
	return out
}

func (l *Lessor) primaryLeaseLocked(id ID) (*lease, error) {
	if !l.mu.primary {
		return nil, ErrNotPrimary
	}
	le := l.mu.leases[id]
	if le == nil {
		return nil, ErrLeaseNotFound
	}
	return le, nil
}

// refreshLocked gives le the expiry now + TTL + extend.
func (l *Lessor) refreshLocked(le *lease, now time.Time, extend time.Duration) {
	le.expiry = now.Add(extend + time.Duration(le.ttl)*time.Second)
	le.due = le.expiry
	le.reported = false
}

// refreshAllLocked refreshes every lease and rebuilds the expiry queue in
// O(n). Renew calls waiting on an expired lease return ErrNotPrimary (and
// their clients retry), since the lease they waited on is alive again.
func (l *Lessor) refreshAllLocked(extend time.Duration) {
	now := l.clock.Now()
	all := make([]*lease, 0, len(l.mu.leases))
	for _, le := range l.mu.leases {
		l.refreshLocked(le, now, extend)
		all = append(all, le)
	}
	l.mu.queue.rebuild(all)
	if l.mu.demoted != nil {
		close(l.mu.demoted)
	}
	l.mu.demoted = make(chan struct{})
}

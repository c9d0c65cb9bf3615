package lease

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Lessor. Start from DefaultConfig.
type Config struct {
	// MinTTL is the smallest TTL in seconds a lease is granted with;
	// shorter requests are raised to it. Every member must use the same
	// value (see the package HAZARD). Use MinTTLFor.
	MinTTL int64
	// RevokeRetryInterval is how long a lease reported by Expired stays
	// unreported while its revoke is pending; if it is still there after
	// that (the proposal was dropped or timed out), Expired reports it
	// again.
	RevokeRetryInterval time.Duration
	// ExpiredBatchMax bounds the leases one Expired call reports, and so
	// the revokes the node proposes per call.
	ExpiredBatchMax int
	// Backend persists the lease table. Required.
	Backend Backend
	// Clock is read by the primary half only; nil means SystemClock.
	Clock Clock
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Registerer for the lessor's metrics; nil means no registration.
	Registerer prometheus.Registerer
}

// Bounds checked by Validate.
const (
	maxRevokeRetryInterval = time.Hour
	maxExpiredBatch        = 1 << 20
)

// DefaultExpiryCheckInterval is how often the node should call Expired:
// etcd checks every 500ms.
const DefaultExpiryCheckInterval = 500 * time.Millisecond

// DefaultConfig returns etcd's defaults; the caller sets Backend (and
// usually MinTTL and RevokeRetryInterval from its Raft timing).
func DefaultConfig() Config {
	return Config{
		// etcd's default election timeout (10 ticks of 100ms).
		MinTTL: MinTTLFor(10, 100*time.Millisecond),
		// etcd retries after its request timeout: 5s plus two election
		// timeouts of 1s.
		RevokeRetryInterval: 7 * time.Second,
		// etcd revokes at most 1000 leases a second, checking every
		// 500ms: 500 per check.
		ExpiredBatchMax: 500,
	}
}

// Validate checks each field's bounds.
func (c Config) Validate() error {
	if c.MinTTL < 1 || c.MinTTL > MaxTTL {
		return fmt.Errorf("lease: MinTTL %d outside [1, %d]", c.MinTTL, MaxTTL)
	}
	if c.RevokeRetryInterval <= 0 || c.RevokeRetryInterval > maxRevokeRetryInterval {
		return fmt.Errorf("lease: RevokeRetryInterval %v outside (0, %v]", c.RevokeRetryInterval, maxRevokeRetryInterval)
	}
	if c.ExpiredBatchMax < 1 || c.ExpiredBatchMax > maxExpiredBatch {
		return fmt.Errorf("lease: ExpiredBatchMax %d outside [1, %d]", c.ExpiredBatchMax, maxExpiredBatch)
	}
	if c.Backend == nil {
		return errors.New("lease: Backend is required")
	}
	return nil
}

package kvapply

import (
	"errors"
	"fmt"
)

// DefaultMaxTxnOps is etcd's default --max-txn-ops.
const DefaultMaxTxnOps = 128

// MaxMaxTxnOps bounds Options.MaxTxnOps: far above any sane transaction,
// low enough that the duplicate-key check stays cheap.
const MaxMaxTxnOps = 1 << 16

// ErrInvalidOptions means Options.Validate failed.
var ErrInvalidOptions = errors.New("kvapply: invalid options")

// Options configures an Applier. Start from DefaultOptions.
//
// HAZARD: every replica must use the same Options and an equally
// deterministic LeaseExists, or replicas apply the same entry differently.
type Options struct {
	// MaxTxnOps bounds each of a Txn's compares, success ops and failure
	// ops, as etcd's --max-txn-ops (rpctypes.ErrGRPCTooManyOps).
	MaxTxnOps int
	// LeaseExists reports whether a lease is granted, checked when a put
	// names a lease (rpctypes.ErrGRPCLeaseNotFound otherwise), as etcd's
	// lessor lookup. It runs in the apply loop and must answer from the
	// replicated lease state only. nil accepts every lease.
	LeaseExists func(id int64) bool
}

// DefaultOptions returns the defaults: MaxTxnOps DefaultMaxTxnOps, no
// lease check.
func DefaultOptions() Options {
	return Options{MaxTxnOps: DefaultMaxTxnOps}
}

// Validate checks every field.
func (o Options) Validate() error {
	if o.MaxTxnOps < 1 || o.MaxTxnOps > MaxMaxTxnOps {
		return fmt.Errorf("%w: MaxTxnOps %d outside [1, %d]", ErrInvalidOptions, o.MaxTxnOps, MaxMaxTxnOps)
	}
	return nil
}

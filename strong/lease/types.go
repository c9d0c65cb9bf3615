package lease

import (
	"math"
	"time"
)

// ID identifies a lease, as etcd's LeaseID (the int64 ID of the etcd v3
// API). NoLease (0) means no lease.
type ID int64

// NoLease is the ID that means "no lease": a key with lease 0 is not
// attached, and Grant refuses it.
const NoLease ID = 0

// MaxTTL is the largest TTL in seconds that Grant accepts (etcd's
// MaxLeaseTTL, about 285 years).
const MaxTTL int64 = 9_000_000_000

// Lease is one entry of the replicated lease table.
type Lease struct {
	// ID is the lease's ID.
	ID ID
	// TTL is the granted TTL in seconds, after raising to Config.MinTTL.
	TTL int64
}

// Status is what LeaseTimeToLive reports of a lease, computed by the
// primary lessor.
type Status struct {
	// ID is the lease's ID.
	ID ID
	// TTL is the remaining time in whole seconds, truncated toward zero as
	// etcd does (an expired lease whose revoke is pending may show 0 or a
	// negative number).
	TTL int64
	// GrantedTTL is the TTL the lease was granted with.
	GrantedTTL int64
	// Keys are the attached keys, sorted; nil unless asked for.
	Keys []string
}

// MinTTLFor returns etcd's minimum lease TTL in seconds for a Raft
// configuration: ceil((3*electionTicks/2) * tick) with integer division of
// the ticks, so that a lease cannot expire within the 1.5 election
// timeouts a leader change may take. etcd's defaults (10 ticks of 100ms)
// give 2 seconds.
func MinTTLFor(electionTicks int, tick time.Duration) int64 {
	window := time.Duration(3*electionTicks/2) * tick
	return int64(math.Ceil(window.Seconds()))
}

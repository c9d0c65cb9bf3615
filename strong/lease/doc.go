// Package lease implements etcd v3 leases for cairn's strong tier: the
// lessor (the replicated lease table plus the leader's expiry clock) and
// the gRPC Lease service (etcdserverpb.LeaseServer), so that etcdctl and
// clientv3 see exactly what etcd would show them.
//
// # Two halves of the lessor
//
// The replicated half is the lease table: lease ID -> granted TTL, and the
// keys attached to each lease. It changes only through Grant, Revoke,
// Attach and Detach, which the Raft apply loop calls on every member in
// log order; they read no clock and give the same result on every member
// (the determinism test feeds two lessors one apply sequence and compares
// them). Grant and Revoke write the table through Backend in the apply's
// own write, so a restart rebuilds it: NewLessor and Recover read the
// leases from Backend and the attachments from the MVCC store's lease
// index (storage/mvcc Store.ForEachLeasedKey).
//
// The leader half is the expiry clock. Only the primary lessor (the Raft
// leader's, after Promote) holds expiry times; a follower's leases never
// expire. Promote gives every lease now + TTL + extend, because a new
// leader cannot know when the old one last saw a keepalive (etcd passes
// one election timeout as extend). Renew moves a lease's expiry to now +
// TTL. Expired pops due leases from a min-heap ordered by expiry (never a
// scan of all leases), at most Config.ExpiredBatchMax per call, and marks
// them pending: a pending lease is reported again only after
// Config.RevokeRetryInterval, in case its revoke proposal was lost. The
// node proposes a LeaseRevoke through Raft for each reported ID; the
// revoke is applied on every member like a client's.
//
// # Rules taken from etcd (server/lease/lessor.go, v3_server.go)
//
//   - Grant with ID 0 fails with ErrLeaseNotFound: the node picks a
//     positive ID before it proposes (etcd: reqIDGen.Next() & (1<<63-1)).
//   - A TTL above MaxTTL fails with ErrTTLTooLarge; a TTL below
//     Config.MinTTL (etcd: ceil of (3*ElectionTicks/2) ticks, in seconds,
//     with integer division of the ticks, see MinTTLFor) is raised to it,
//     and the raised TTL is what is stored and answered.
//   - Renew of an expired lease waits until the lease is revoked (then
//     ErrLeaseNotFound) or this member is demoted (then ErrNotPrimary), so a
//     keepalive never succeeds at a revision where its keys are gone.
//   - LeaseTimeToLive of an unknown lease answers TTL -1 (not an error);
//     a keepalive of an unknown lease answers TTL 0 and the stream goes on.
//
// # Departures from etcd
//
//   - Attach moves a key that is attached to another lease (etcd's lessor
//     leaves it in the old lease's set and relies on MVCC to detach first).
//   - Detach of an unknown lease is a no-op, so the node may delete the
//     keys of a lease it has just revoked through its ordinary delete path.
//   - ErrNotPrimary maps to etcd's retryable "leader changed" gRPC error
//     instead of codes.Unknown.
//   - No lease checkpoints (etcd's are off by default) and no spreading of
//     expiries at Promote: the per-call bound on Expired already limits the
//     revoke rate after a mass expiry.
//
// HAZARD: Config.MinTTL is a replicated rule: every member must use the
// same value, or the granted TTLs diverge. Derive it from the cluster-wide
// election settings.
//
// HAZARD: Backend writes made by Grant and Revoke must land in the same
// atomic write as the apply's other effects and its consistent index (for
// Revoke: the deletion of the attached keys), and a Backend error during
// apply must stop the member: the table would otherwise differ from its
// peers'. The lessor changes nothing in memory when Backend fails.
//
// HAZARD: expiry is decided by one member's clock. A member that has lost
// leadership but not yet called Demote may still report expired leases,
// and its Raft core forwards proposals to the new leader, so a stale
// expiry decision can be committed. Call Demote as soon as the Raft state
// leaves leader, and propose the revokes of a batch only while leader.
package lease

// Package kvapply gives the strong tier etcd's KV semantics: it applies
// etcdserverpb Put, DeleteRange, Txn and Compaction requests to an
// mvcc.Store and builds etcd's responses, and it answers Range requests
// and read-only txns. Its rules are those of etcd's server (v3rpc key.go
// for validation, etcdserver/txn for execution), re-implemented here.
//
// # Where each step runs
//
//   - At the edge, before proposing: ValidatePut, ValidateRange,
//     ValidateDeleteRange, ValidateTxn. They return etcd's gRPC errors
//     (rpctypes.ErrGRPCEmptyKey, ErrGRPCValueProvided, ErrGRPCLeaseProvided,
//     ErrGRPCTooManyOps, ErrGRPCDuplicateKey, ErrGRPCKeyNotFound for an
//     empty txn op, ErrGRPCRequestTooLarge beyond the store's limits).
//   - In the Raft apply loop: Put, DeleteRange, Txn, Compact. Each takes the
//     entry's raft index; it is recorded in the store in the same batch as
//     the request's changes, or alone when the request fails, so every
//     entry is applied exactly once. These are pure functions of the store
//     state, the request and Options: every replica computes the same
//     revisions and responses.
//   - Outside the log: Range and ReadTxn, on one point-in-time view.
//
// # Responses
//
// Header.Revision is set as etcd sets it: a Put's is the new revision; a
// DeleteRange's is the new revision when something was deleted (or, inside
// a txn, anything changed before), else the current one; a Txn's is its
// revision (new if it changed something); a Range's is the current
// revision even when reading the past; nested txn responses carry an empty
// header. ClusterId, MemberId and RaftTerm are the caller's to fill.
// The KeyValues in responses may be shared with the store's OnCommit
// events: treat them as read-only.
//
// # Transactions
//
// A txn is one revision. Its compares, and those of every nested txn on
// the chosen branches, are evaluated first on the state before the txn;
// then the chosen ops are checked (ErrGRPCKeyNotFound for ignore_value or
// ignore_lease on a missing key, ErrGRPCLeaseNotFound, ErrGRPCFutureRev and
// ErrGRPCCompacted for a range's revision) so that a failing txn changes
// nothing; then the ops run in order, each seeing the changes before it.
// A compare over a range (range_end) must hold for every key in it; a
// VALUE compare on no key fails, any other compares a zero KeyValue.
//
// HAZARD: the duplicate-key check (a txn branch may not put a key twice or
// put a key it deletes) runs at the edge only, as in etcd. An entry that
// skipped ValidateTxn may change a key twice in one revision, which the
// store accepts but which compaction at that revision then partly hides
// from watchers (see mvcc.Store.Changes).
package kvapply

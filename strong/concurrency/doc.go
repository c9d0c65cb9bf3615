// Package concurrency serves etcd's concurrency services, v3election
// (Campaign, Proclaim, Leader, Observe, Resign) and v3lock (Lock, Unlock),
// on a node's client port, with etcd's wire types and semantics, so that
// programs written against etcd's Election and Lock gRPC APIs (or their
// HTTP gateway) work against cairn unchanged.
//
// # How it works
//
// Neither service keeps state of its own. Like etcd's, each request is
// turned into KV, Lease and Watch calls through a clientv3.Client connected
// to the node's own client port and the recipes of clientv3/concurrency:
//
//   - A campaign or a lock is a key under the election or lock name,
//     <name>/<lease ID in hex>, put with the caller's lease. The key with
//     the smallest create revision is the leader or the lock holder; the
//     others wait (a watch each) until every key created before theirs is
//     deleted. So the caller's lease is the holder's lifeline: revoking it
//     or letting it expire deletes the key and hands leadership or the
//     lock to the next waiter.
//   - Campaign returns a LeaderKey (name, key, create revision, lease);
//     Proclaim and Resign act on it only while the key still exists with
//     that create revision, so a stale LeaderKey cannot touch a newer
//     leader's key. Lock returns the key; Unlock deletes it.
//   - Leader reads the first-created key under the name; Observe streams
//     the current leader and then every change of it (new value, new
//     leader) in revision order.
//
// The create revision of a lock or leader key is a fencing token: it
// grows with every new holder, so a storage service can refuse writes
// carrying a smaller one than it has seen.
//
// Every request builds a concurrency.Session on the caller's lease and
// orphans it at once: the server never keeps a lease alive, the caller
// does (as with etcd).
//
// # Differences from etcd
//
// The semantics and error texts are etcd's; the gRPC codes are better
// chosen: etcd passes most errors through as codes.Unknown, cairn sends
// the code of the underlying etcd error (NotFound for a missing lease,
// ...), InvalidArgument for a request without a LeaderKey,
// FailedPrecondition for "election: not leader" and "mutex: session is
// expired", NotFound for "election: no leader", and Unavailable when the
// node is stopping or an Observe stream is cut (etcd ends it silently).
// Blocked calls (Campaign, Lock, Observe) are bounded per node by
// Config.MaxWaitingCalls; past it a call fails with ResourceExhausted.
//
// HAZARD: a Campaign or Lock with lease 0 gets a fresh 60-second lease
// that nobody keeps alive (etcd does the same): the leadership or lock is
// lost a minute later. Clients must pass a lease they keep alive.
//
// HAZARD: Unlock deletes whatever key it is given, as etcd's does; the key
// returned by Lock is the capability, not the caller's identity.
package concurrency

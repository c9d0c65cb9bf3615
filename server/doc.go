// Package server composes one cairn node: it opens the node's Pebble
// store, starts the peer transport, the strong tier (Raft, the MVCC state
// machine and the etcd v3 services) and the admin HTTP endpoints, and
// stops them in the reverse order. `cairn server` is a thin command line
// over Config and Start.
//
// Configuration follows etcd's flags: a member's Raft ID is derived from
// its peer URLs and the cluster token (MemberID), so every member of a new
// cluster computes the same IDs from the same --initial-cluster.
package server

// Package raftpb holds the plain Go values that the Raft core exchanges with
// its application: log entries, hard state, messages, snapshots and
// configuration changes.
//
// The types carry no behaviour beyond validation, formatting and their
// binary encodings: a ConfChange travels inside a log entry
// (confchange.go); messages, entries, hard state and snapshots have a
// canonical, versioned codec (codec.go) that the transport and the
// durable log use.
//
// The message vocabulary follows the Raft paper (Ongaro and Ousterhout, "In
// Search of an Understandable Consensus Algorithm", USENIX ATC 2014) and
// Ongaro's thesis ("Consensus: Bridging Theory and Practice", 2014) for
// pre-vote, leadership transfer, ReadIndex and joint consensus.
//
// HAZARD: Entry.Data, Message.Entries and Snapshot.Data are shared, not
// copied, when values are passed around. Whoever hands a slice to the core
// must not modify it afterwards.
//
// HAZARD: UnmarshalConfChange reads untrusted bytes (a log entry may have
// been written by a buggy or older binary). It bounds every length before
// allocating and returns an error, never panics; FuzzUnmarshalConfChange
// checks this.
//
// HAZARD: the Unmarshal functions of codec.go alias their input: Entry.Data,
// Message.Context and Snapshot.Data point into b, so b must not be modified
// afterwards. They bound every count before allocating and are fuzzed.
package raftpb

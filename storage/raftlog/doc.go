// Package raftlog is a durable raft.Storage on Pebble: the Raft log, hard
// state and snapshot metadata of one Raft group, stored under one key prefix
// of a *pebble.DB that the node shares with its state machine.
//
// # Writing: one Ready, one batch, one fsync
//
// Save persists one Ready (see the Ready contract in package raft) in ONE
// Pebble batch, built in the contract's order: the snapshot (its metadata,
// the new truncation point, and a range deletion of every stored entry),
// then the entries (overwriting indexes they cover and range-deleting any
// stored suffix beyond the last new entry, so a conflicting suffix is
// replaced), then the hard state. The batch is atomic, and with
// Update.Sync it is committed with pebble.Sync: every proposal of a Ready
// shares one WAL fsync (group commit). Pebble further merges the fsyncs of
// batches committed concurrently, including the state machine's.
//
// # Reading: the tail cache
//
// Raft reads the recent tail of its log all the time (building appends for
// followers, Term checks). Storage keeps the newest entries in memory, up to
// Options.CacheBytes by Entry.Size, so those reads do not touch Pebble; older
// entries are read from Pebble with a bounded iterator. The cache is warmed
// from Pebble on Open. Cached entries share their Data with the Ready they
// came from (the raftpb rule: a slice handed over is never modified).
//
// # Key layout
//
// Every key starts with Options.KeyPrefix (DefaultKeyPrefix, "\x01r", by
// default), followed by one byte naming the record:
//
//	prefix 'e' <index: 8 bytes big-endian>  raftpb.AppendEntry(entry)
//	prefix 'h'                              raftpb.AppendHardState(hard state)
//	prefix 's'                              raftpb.AppendSnapshot(snapshot)
//	prefix 't'                              truncated state: version 1,
//	                                        uvarint index, uvarint term
//
// Big-endian indexes sort entry keys in log order, so the log is the span
// [prefix 'e', prefix 'f') and a truncation or suffix replacement is one
// range deletion. The truncated state (index and term of the last entry
// dropped) is FirstIndex-1 and its term; it moves with Compact and with an
// installed snapshot. A missing key means the zero value.
//
// # Snapshots
//
// The snapshot record holds raftpb.Snapshot as given: its metadata (index,
// term, ConfState, which InitialState returns) and its Data. The strong
// tier streams its state machine separately, so Data is expected to be
// small (a handle, not the state); Save and CreateSnapshot store it inline.
//
// # Durability of the calls
//
//   - Save: synced iff Update.Sync (pass Ready.MustSync or stronger).
//   - Bootstrap: synced.
//   - Compact and CreateSnapshot: not synced. Losing them in a crash only
//     keeps more log than needed; Pebble's WAL is a prefix on recovery, so a
//     compaction that survives implies every write committed before it,
//     such as the state machine's snapshot in the same DB, survived too.
//
// HAZARD: Compact must not pass the index the state machine has durably
// applied. When the state machine lives in the same Pebble DB, writing it
// before calling Compact is enough (WAL order); when it lives elsewhere,
// sync it first.
//
// HAZARD: two Storages in one DB need prefixes neither of which is a
// prefix of the other (for example "\x01r" plus a fixed-width group ID),
// and the state machine must not write under them.
//
// HAZARD: Entries and Term may run concurrently with the writers. A Save
// that only appends commits (and fsyncs) without blocking readers, so an
// index it overwrites may read in either version until it returns; Raft
// never reads those (they sit in its unstable log until the Save is
// acknowledged). Batches that delete entries (a replaced suffix, an
// installed snapshot, Compact) commit under the write lock, so a reader
// never finds an entry of the log it was told about missing.
//
// HAZARD: Storage does not own the DB. Stop using the Storage before
// closing the DB.
package raftlog

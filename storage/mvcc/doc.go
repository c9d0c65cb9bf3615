// Package mvcc is the strong tier's multi-version key-value store: etcd v3's
// MVCC semantics on a *pebble.DB that the node shares with its Raft log.
// Values are etcd's own wire types (mvccpb.KeyValue, mvccpb.Event), so the
// API layer hands them to clients unchanged.
//
// # Semantics (as etcd's mvcc package)
//
// One global revision, 1 on a fresh store. A write transaction (WriteTxn)
// that changes something commits at the current revision + 1; its changes
// are ordered by sub-revision; one that changes nothing (say a DeleteRange
// that matched no key) leaves the revision alone. A KeyValue carries
// CreateRevision (the revision of the put that created it since its last
// delete), ModRevision, Version (1 at creation, +1 per put, gone with a
// delete) and Lease. A delete writes a tombstone, so a Range at a past
// revision sees the key as it was. Range takes etcd's range ends (empty:
// the one key; "\x00": every key >= key; else [key, end)), returns keys in
// order, and reports Count (all matches, whatever the Limit) and More.
// Compact(rev) makes reads below rev fail with ErrCompacted and keeps, per
// key, only the newest record at or below rev (a tombstone only if it is
// exactly at rev, as current etcd keeps it for watchers). A read above
// the current revision fails with ErrFutureRev. The compaction revision is
// -1 until the first Compact, as in etcd.
//
// # Key layout
//
// Every key starts with Options.KeyPrefix P (DefaultKeyPrefix "\x02m"; the
// Raft log uses 0x01). The store's records live in one of two generations
// g (0x01 or 0x02); Restore fills the inactive one and flips the marker:
//
//	P 0x00                        active generation, 1 byte
//	P g 'm'                       meta: version 1, uvarint consistent index,
//	                              varint revision, compact revision,
//	                              finished compact revision, live keys
//	P g 'k' enc(key) ^main ^sub kind
//	                              KV record; kind 'p' (put) or 't' (tombstone)
//	                              put value: version 1, uvarint create revision,
//	                              uvarint version, varint lease, value bytes;
//	                              tombstone value: empty
//	P g 'r' main sub              revision record: kind, key
//	P g 'l' lease key             lease index: key is attached to lease; empty
//
// main and sub are 8-byte big-endian; ^ is bitwise NOT, so within a key
// the newest record sorts first. enc(key) maps 0x00 to 0x00 0xff and ends
// with 0x00 0x01: it preserves the order of keys and no encoding is a
// prefix of another, so the records of one key are contiguous and sorted
// before those of any greater key. Hence "the newest record of key at or
// below R" is one SeekGE(P g 'k' enc(key) ^R), a Range walks keys in order
// with one Next per key (plus a seek only for keys with newer or older
// records to skip), and there is no in-memory index to rebuild on Open. The
// revision records give the history in revision order for Changes (watch
// catch-up); every revision record has its KV record and vice versa,
// compaction deleting both. The lease index holds the current state only,
// for KeysWithLease and ForEachLeasedKey.
//
// # Writes, durability and the consistent index
//
// Writers take turns (Write, Compact, Restore and compaction batches share
// one lock). WriteTxn.End commits the transaction, the meta record and the
// consistent index (the raft index of the entry applied) in ONE Pebble
// batch without fsync: the Raft log is the durable record. After a crash
// the store is as of some earlier End, and ConsistentIndex says which, so
// the node re-applies exactly the entries after it. End and Compact refuse
// an index that is not above the last one (ErrStaleIndex), so an entry can
// never be applied twice. A Raft-log fsync in the same DB also makes every
// earlier store batch durable, since Pebble's WAL is one ordered log.
//
// # Reads
//
// Readers capture the meta and open a Pebble iterator under a read lock;
// the iterator is a point-in-time view, so reads run concurrently with the
// writer and with compaction and never see a half-committed transaction.
//
// # Compaction
//
// Compact records the new compaction revision at once and deletes records
// in the background in bounded batches, resuming on Open after a crash.
// Reads, Changes, HashKV and Snapshot depend only on the recorded revision,
// never on how far the deletion got, so replicas agree whatever their
// progress.
//
// # Snapshot and Restore
//
// Snapshot streams every record of the active generation (keys relative to
// the generation) with a record count and a CRC-32C trailer. Restore
// validates and writes the records into the inactive generation and, only
// when the whole stream checked out, flips the marker and deletes the old
// generation in one synced batch. A crash mid-restore thus leaves the old
// state intact; Open deletes the abandoned generation.
//
// HAZARD: the Options limits are enforced when writes are applied; replicas
// with different limits diverge. Validate requests at the edge with the
// same limits.
//
// HAZARD: KeyValues and Events handed out by WriteTxn (Put's and
// DeleteRange's results, OnCommit's events) are shared; treat them as
// read-only. Range results belong to the caller.
package mvcc

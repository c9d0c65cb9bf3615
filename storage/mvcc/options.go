package mvcc

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// DefaultKeyPrefix is the key prefix of the node's MVCC store: 0x02 keeps
// it apart from the Raft log (0x01), 'm' names it.
const DefaultKeyPrefix = "\x02m"

// DefaultMaxRequestBytes is etcd's default request size limit (1.5 MiB),
// the default for both MaxKeySize and MaxValueSize: anything etcd accepts,
// the store accepts.
const DefaultMaxRequestBytes = 3 << 19

// Options configures a Store. Start from DefaultOptions.
//
// HAZARD: MaxKeySize and MaxValueSize are checked when writes are applied,
// so every replica must use the same values or replicas diverge.
type Options struct {
	// KeyPrefix is prepended to every key the Store reads or writes. It
	// must not be a prefix of (or start with) any other user's prefix in
	// the shared DB.
	KeyPrefix string
	// MaxKeySize bounds the length of a key (ErrKeyTooLarge).
	MaxKeySize int
	// MaxValueSize bounds the length of a value (ErrValueTooLarge).
	MaxValueSize int
	// CompactionBatchLimit bounds the records one compaction batch
	// visits; the writer lock is held for one batch at a time.
	CompactionBatchLimit int
	// RestoreBatchBytes bounds the Pebble batches Restore writes.
	RestoreBatchBytes int
	// LatestCacheBytes bounds the cache of recently written keys' newest
	// records that spares a Put its LSM seek; 0 disables it.
	LatestCacheBytes int
	// KeyIndexMaxKeys bounds the in-memory set of live keys that spares a
	// Put of a new key its LSM seek (see keyIndex); past it the set is
	// dropped until the next Open or Restore. 0 disables it.
	KeyIndexMaxKeys int
	// OnCommit, if set, is called after every write transaction that
	// changed something, with the new revision and its events in
	// sub-revision order; see WriteTxn.End for the contract.
	OnCommit func(rev int64, events []*mvccpb.Event)
	// Registerer receives the metrics; nil registers none.
	Registerer prometheus.Registerer
	// Logger receives diagnostics; nil means slog.Default().
	Logger *slog.Logger
}

// Limits checked by Validate.
const (
	// MaxKeyPrefixBytes bounds KeyPrefix: every key carries it.
	MaxKeyPrefixBytes = 64
	// MaxEntrySize bounds MaxKeySize and MaxValueSize: far above any
	// request a gRPC server accepts, well below Pebble's batch limit.
	MaxEntrySize = 64 << 20
	// MaxCompactionBatchLimit bounds CompactionBatchLimit so one batch
	// cannot stall writers for long.
	MaxCompactionBatchLimit = 1 << 20
	// MinRestoreBatchBytes and MaxRestoreBatchBytes bound RestoreBatchBytes.
	MinRestoreBatchBytes = 64 << 10
	MaxRestoreBatchBytes = 1 << 30
	// MaxLatestCacheBytes bounds LatestCacheBytes.
	MaxLatestCacheBytes = 16 << 30
	// MaxKeyIndexKeys bounds KeyIndexMaxKeys.
	MaxKeyIndexKeys = 1 << 30
)

// DefaultOptions returns the defaults:
//   - KeyPrefix DefaultKeyPrefix;
//   - MaxKeySize and MaxValueSize DefaultMaxRequestBytes (etcd's
//     --max-request-bytes), so no request etcd accepts is refused;
//   - CompactionBatchLimit 1000, etcd's default: about a millisecond of
//     deletes per batch;
//   - RestoreBatchBytes 4 MiB: big enough to amortize commits, small
//     enough to keep the memtable from spiking;
//   - LatestCacheBytes 64 MiB: the hot keys of a put load, values included;
//   - KeyIndexMaxKeys 8Mi: about 60 bytes plus the key's length each, so
//     under a GiB for 8 million short keys (etcd keeps every key in memory
//     too, with more per key).
func DefaultOptions() Options {
	return Options{
		KeyPrefix:            DefaultKeyPrefix,
		MaxKeySize:           DefaultMaxRequestBytes,
		MaxValueSize:         DefaultMaxRequestBytes,
		CompactionBatchLimit: 1000,
		RestoreBatchBytes:    4 << 20,
		LatestCacheBytes:     64 << 20,
		KeyIndexMaxKeys:      8 << 20,
	}
}

// Validate checks every field.
func (o Options) Validate() error {
	switch {
	case o.KeyPrefix == "":
		return fmt.Errorf("%w: KeyPrefix must not be empty (the DB is shared with the Raft log)", ErrInvalidOptions)
	case len(o.KeyPrefix) > MaxKeyPrefixBytes:
		return fmt.Errorf("%w: KeyPrefix of %d bytes exceeds %d", ErrInvalidOptions, len(o.KeyPrefix), MaxKeyPrefixBytes)
	case o.MaxKeySize < 1 || o.MaxKeySize > MaxEntrySize:
		return fmt.Errorf("%w: MaxKeySize %d outside [1, %d]", ErrInvalidOptions, o.MaxKeySize, MaxEntrySize)
	case o.MaxValueSize < 1 || o.MaxValueSize > MaxEntrySize:
		return fmt.Errorf("%w: MaxValueSize %d outside [1, %d]", ErrInvalidOptions, o.MaxValueSize, MaxEntrySize)
	case o.CompactionBatchLimit < 1 || o.CompactionBatchLimit > MaxCompactionBatchLimit:
		return fmt.Errorf("%w: CompactionBatchLimit %d outside [1, %d]", ErrInvalidOptions, o.CompactionBatchLimit, MaxCompactionBatchLimit)
	case o.LatestCacheBytes < 0 || o.LatestCacheBytes > MaxLatestCacheBytes:
		return fmt.Errorf("%w: LatestCacheBytes %d outside [0, %d]", ErrInvalidOptions, o.LatestCacheBytes, MaxLatestCacheBytes)
	case o.KeyIndexMaxKeys < 0 || o.KeyIndexMaxKeys > MaxKeyIndexKeys:
		return fmt.Errorf("%w: KeyIndexMaxKeys %d outside [0, %d]", ErrInvalidOptions, o.KeyIndexMaxKeys, MaxKeyIndexKeys)
	case o.RestoreBatchBytes < MinRestoreBatchBytes || o.RestoreBatchBytes > MaxRestoreBatchBytes:
		return fmt.Errorf("%w: RestoreBatchBytes %d outside [%d, %d]", ErrInvalidOptions, o.RestoreBatchBytes, MinRestoreBatchBytes, MaxRestoreBatchBytes)
	}
	return nil
}

package raftlog

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultKeyPrefix is the key prefix of the node's (single) Raft group:
// 0x01 keeps it apart from printable state-machine keys, 'r' names it.
const DefaultKeyPrefix = "\x01r"

// Options configures a Storage. Start from DefaultOptions.
type Options struct {
	// KeyPrefix is prepended to every key the Storage reads or writes.
	KeyPrefix string
	// CacheBytes bounds the in-memory tail of the log, by Entry.Size.
	CacheBytes uint64
	// Registerer receives the metrics; nil registers none. Give each
	// Storage of a process its own labels (prometheus.WrapRegistererWith).
	Registerer prometheus.Registerer
	// Logger receives diagnostics; nil means slog.Default().
	Logger *slog.Logger
}

// Limits checked by Validate.
const (
	// MaxKeyPrefixBytes bounds KeyPrefix: every key carries it.
	MaxKeyPrefixBytes = 64
	// MinCacheBytes is the smallest tail cache: one typical entry.
	MinCacheBytes = 1 << 10
	// MaxCacheBytes is the largest tail cache: past this, memory is better
	// spent on Pebble's block cache.
	MaxCacheBytes = 1 << 30
)

// DefaultOptions returns the defaults:
//   - KeyPrefix DefaultKeyPrefix;
//   - CacheBytes 8 MiB: eight of the core's default 1 MiB append messages,
//     enough for followers that are a few Readys behind to be served from
//     memory, while a hundred groups per node still cost under 1 GiB.
func DefaultOptions() Options {
	return Options{KeyPrefix: DefaultKeyPrefix, CacheBytes: 8 << 20}
}

// Validate checks every field.
func (o Options) Validate() error {
	switch {
	case o.KeyPrefix == "":
		return fmt.Errorf("%w: KeyPrefix must not be empty (the DB is shared with the state machine)", ErrInvalidOptions)
	case len(o.KeyPrefix) > MaxKeyPrefixBytes:
		return fmt.Errorf("%w: KeyPrefix of %d bytes exceeds %d", ErrInvalidOptions, len(o.KeyPrefix), MaxKeyPrefixBytes)
	case o.CacheBytes < MinCacheBytes || o.CacheBytes > MaxCacheBytes:
		return fmt.Errorf("%w: CacheBytes %d outside [%d, %d]", ErrInvalidOptions, o.CacheBytes, MinCacheBytes, MaxCacheBytes)
	}
	return nil
}

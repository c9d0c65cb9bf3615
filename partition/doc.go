// Package partition divides the keyspace of byte strings into contiguous
// ranges, finds the range of a key, splits and merges ranges, and measures
// each range's load to propose splits of hot ranges.
//
// Range partitioning keeps neighbouring keys together, so a scan over a
// key prefix touches one range or a few, and a range can be split or
// merged as its size and load change. Hash partitioning (package ring)
// spreads keys evenly whatever their order, but a range scan must then ask
// every partition. The model is Bigtable's tablets (Chang et al.,
// "Bigtable: A Distributed Storage System for Structured Data", OSDI
// 2006), Spanner's splits (Corbett et al., "Spanner: Google's
// Globally-Distributed Database", OSDI 2012) and CockroachDB's ranges, in
// particular its load-based splitting, which splits a range at the key
// that divides its recent traffic, not its keys, in two.
//
// A Table covers the keyspace exactly: ranges [Start, End) in key order,
// the first starting at the empty key and the last unbounded. Lookup is a
// binary search over an immutable snapshot published through an atomic
// pointer; Split and Merge copy the snapshot under a mutex
// (copy-on-write). Each range counts its reads, writes and bytes with
// atomic adds; Tick, called by the owner at a fixed interval, turns the
// counts into exponentially weighted rates per tick. A range whose rate
// reaches Config.HotOpsPerTick samples the keys of its operations (a
// reservoir of Config.SampleSize keys) and counts the operations on each
// side of every sample; SuggestSplits proposes the sample with the most
// even split.
//
// HAZARD: a *Range is a value of one snapshot. After a Split or Merge
// retires it, Record on it counts for nothing and its bounds no longer
// describe the table. Look the range up for each operation; do not cache
// a *Range across requests.
//
// HAZARD: Split and Merge copy the whole index (about 32 bytes a range)
// while holding the table's lock; at Config.MaxRanges = 100,000 that is 3
// MiB a change. Splits and merges are meant to be rare (load-based splits
// at most a few a second); do not split in a loop over many keys, build the
// table with New(cfg, splitKeys) instead.
//
// HAZARD: the load is what this process records. In a cluster each node
// sees only the operations it serves, so a split decision from one node's
// table reflects that node's share of the traffic.
//
// HAZARD: a load-based split does not help a workload whose hot spot moves,
// such as inserts of increasing keys (timestamps, sequence numbers): the
// hot key is always the range's last, the best split leaves nearly all the
// new traffic on the right, and SplitBalance refuses it. Such keys need
// hashing or a prefix that spreads them.
//
// HAZARD: rates are per tick, and a tick is whatever interval the owner
// calls Tick at. HotOpsPerTick and HalfLifeTicks mean what they say only if
// Tick runs at a steady interval; a stalled ticker leaves the rates stale,
// and two tables ticked at different intervals are not comparable.
//
// HAZARD: split keys are sampled user keys and are copied into the
// sampler and the table (at most Config.MaxKeySize bytes each). A key may
// carry user data into logs and metrics wherever a Range or Suggestion is
// printed.
package partition

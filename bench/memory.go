package bench

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Defaults of a memory measurement.
const (
	DefaultMemoryKeys      = 100_000
	DefaultMemoryValueSize = 256
	// memorySettle is the wait between the last write and the "after"
	// reading: etcd commits its bbolt batch every 100 ms, Pebble flushes
	// its memtable later still; the wait lets the first happen.
	memorySettle = 2 * time.Second
)

// MemoryResult is the growth of a cluster's memory and disk when Keys
// keys of KeySize+ValueSize bytes are written to one tier. RSS and disk
// are summed over all members, so a key replicated three times counts
// three times; PerNode divides by the members.
type MemoryResult struct {
	System    string `json:"system"`
	Tier      string `json:"tier"` // "strong" (etcd v3 API) or "eventual" (RESP)
	Nodes     int    `json:"nodes"`
	Keys      int    `json:"keys"`
	KeySize   int    `json:"key_size"`
	ValueSize int    `json:"value_size"`
	// Consistency is the RESP level the keys were written at.
	Consistency string `json:"consistency,omitempty"`

	RSSBefore  int64 `json:"rss_before_bytes"`
	RSSAfter   int64 `json:"rss_after_bytes"`
	DiskBefore int64 `json:"disk_before_bytes"`
	DiskAfter  int64 `json:"disk_after_bytes"`
	// RSSPerKey and DiskPerKey are (after - before) / Keys over the whole
	// cluster; the PerNode figures divide those by Nodes.
	RSSPerKey         float64 `json:"rss_bytes_per_key"`
	DiskPerKey        float64 `json:"disk_bytes_per_key"`
	RSSPerKeyPerNode  float64 `json:"rss_bytes_per_key_per_node"`
	DiskPerKeyPerNode float64 `json:"disk_bytes_per_key_per_node"`
	Error             string  `json:"error,omitempty"`
}

// MeasureMemory writes keys distinct keys (sequential, so every write
// adds a key) of valueSize bytes to c's strong tier (strong = true, through
// clientv3) or eventual tier (RESP at consistency, "" for Redis) and
// reports how RSS and disk grew. HAZARD: RSS counts the Go heap as the
// runtime holds it, garbage included, and disk counts what the stores
// have allocated (WAL segments are preallocated in 64 MiB steps by etcd):
// use enough keys that these steps are small against the growth, and read
// the figures as orders of magnitude rather than exact sizes.
func MeasureMemory(ctx context.Context, c *Cluster, strong bool, keys, valueSize int, consistency string, log *slog.Logger) MemoryResult {
	if log == nil {
		log = slog.Default()
	}
	m := MemoryResult{System: c.System, Tier: "eventual", Nodes: len(c.PIDs()), Keys: keys, ValueSize: valueSize, Consistency: consistency}
	kind := KindSet
	if strong {
		m.Tier, kind = "strong", KindPut
	}
	spec := DefaultSpec(kind)
	spec.Name = "memory-" + m.Tier
	spec.Total, spec.KeySpace, spec.Sequential, spec.ValueSize = int64(keys), keys, true, valueSize
	spec.KeySize = max(len(fmt.Sprint(keys-1))+1, 8)
	// Enough clients to write 100,000 keys in seconds; one connection per
	// 10 clients on the strong tier, as the put-1000 workload.
	spec.Clients, spec.Conns, spec.Consistency = 100, 10, consistency
	if strong {
		spec.Consistency = ""
	}
	m.KeySize = spec.KeySize
	fail := func(err error) MemoryResult { m.Error = err.Error(); return m }

	var err error
	if m.RSSBefore, err = c.RSSBytes(); err != nil {
		return fail(err)
	}
	if m.DiskBefore, err = c.DiskBytes(); err != nil {
		return fail(err)
	}
	t := c.Target()
	if strong {
		// Writes go to the leader, as the put workloads' do.
		if lead, err := c.Leader(ctx); err == nil {
			t.Endpoints = []string{lead}
		}
	}
	log.Info("bench: measuring memory", "system", c.System, "tier", m.Tier, "keys", keys)
	res, err := Run(ctx, spec, t, RunOptions{MaxErrors: int64(keys), Logger: log})
	if err != nil {
		return fail(fmt.Errorf("write %d keys: %w", keys, err))
	}
	if res.Errors > 0 {
		return fail(fmt.Errorf("write %d keys: %d writes failed (%v)", keys, res.Errors, topKinds(res.ErrorKinds)))
	}
	select {
	case <-ctx.Done():
		return fail(ctx.Err())
	case <-time.After(memorySettle):
	}
	if m.RSSAfter, err = c.RSSBytes(); err != nil {
		return fail(err)
	}
	if m.DiskAfter, err = c.DiskBytes(); err != nil {
		return fail(err)
	}
	m.RSSPerKey = float64(m.RSSAfter-m.RSSBefore) / float64(keys)
	m.DiskPerKey = float64(m.DiskAfter-m.DiskBefore) / float64(keys)
	if m.Nodes > 0 {
		m.RSSPerKeyPerNode = m.RSSPerKey / float64(m.Nodes)
		m.DiskPerKeyPerNode = m.DiskPerKey / float64(m.Nodes)
	}
	return m
}

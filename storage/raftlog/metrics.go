package raftlog

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairndb/cairn/internal/metricsutil"
)

// metrics are the Storage's Prometheus metrics. They always exist, so code
// never checks for nil; they are registered only when a Registerer is given.
type metrics struct {
	saveSeconds  prometheus.Histogram
	savedBytes   prometheus.Counter
	savedEntries prometheus.Counter
	syncedSaves  prometheus.Counter
	cacheEntries prometheus.Gauge
	cacheBytes   prometheus.Gauge
	cacheHits    prometheus.Counter
	cacheMisses  prometheus.Counter
}

func newMetrics() *metrics {
	const ns, sub = "cairn", "raftlog"
	m := &metrics{
		saveSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "save_duration_seconds", Help: "Latency of Save, including the fsync when synced.",
			// 50µs (an unsynced write) to ~0.8s (a stalled disk).
			Buckets: prometheus.ExponentialBuckets(50e-6, 2, 15)}),
		savedBytes: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "saved_bytes_total", Help: "Bytes of Pebble batches written by Save."}),
		savedEntries: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "saved_entries_total", Help: "Log entries written by Save."}),
		syncedSaves: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "synced_saves_total", Help: "Saves committed with an fsync (Pebble may share one fsync among concurrent commits)."}),
		cacheEntries: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "cache_entries", Help: "Entries in the in-memory tail cache."}),
		cacheBytes: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "cache_bytes", Help: "Bytes (by Entry.Size) in the in-memory tail cache."}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "cache_hits_total", Help: "Entries and Term reads served from the tail cache."}),
		cacheMisses: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "cache_misses_total", Help: "Entries and Term reads that went to Pebble."}),
	}
	return m
}

// register registers every metric with reg (none if reg is nil). On error
// it unregisters those it registered.
func (m *metrics) register(reg prometheus.Registerer) error {
	return metricsutil.Register(reg, "raftlog", m.saveSeconds, m.savedBytes, m.savedEntries, m.syncedSaves,
		m.cacheEntries, m.cacheBytes, m.cacheHits, m.cacheMisses)
}

// setCache publishes the cache's size.
func (m *metrics) setCache(c *tailCache) {
	m.cacheEntries.Set(float64(len(c.ents)))
	m.cacheBytes.Set(float64(c.bytes))
}

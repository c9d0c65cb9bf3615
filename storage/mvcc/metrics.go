package mvcc

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairndb/cairn/internal/metricsutil"
)

// metrics are the Store's Prometheus metrics. They always exist, so code
// never checks for nil; they are registered only when a Registerer is given,
// and unregistered by Close.
type metrics struct {
	reg             prometheus.Registerer
	writeSeconds    prometheus.Histogram
	rangeSeconds    prometheus.Histogram
	compactSeconds  prometheus.Histogram
	compactedTotal  prometheus.Counter
	compactFailures prometheus.Counter
	latestHits      prometheus.Counter
	latestMisses    prometheus.Counter
	indexAbsent     prometheus.Counter
	funcs           []prometheus.Collector
}

// gauges are read at scrape time from the Store's state.
type gauges struct {
	keys       func() float64
	rev        func() float64
	compactRev func() float64
	dbBytes    func() float64
	indexKeys  func() float64
}

func newMetrics(reg prometheus.Registerer, g gauges) (*metrics, error) {
	const ns, sub = "cairn", "mvcc"
	// 10µs (an unsynced single put) to ~5s (a range over millions of keys).
	latency := prometheus.ExponentialBuckets(10e-6, 2, 20)
	m := &metrics{
		writeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "write_txn_duration_seconds", Help: "Latency of write transactions, from Write to End.", Buckets: latency}),
		rangeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "range_duration_seconds", Help: "Latency of Range calls.", Buckets: latency}),
		compactSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "compaction_duration_seconds", Help: "Latency of a whole physical compaction.", Buckets: latency}),
		compactedTotal: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "compacted_records_total", Help: "Records deleted by compaction."}),
		compactFailures: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "compaction_failures_total", Help: "Physical compactions that stopped with an error (retried on the next Compact or Open)."}),
		latestHits: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "latest_cache_hits_total", Help: "Puts that found the key's previous record in the latest-record cache."}),
		latestMisses: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "latest_cache_misses_total", Help: "Puts that had to seek the key's previous record."}),
		indexAbsent: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "key_index_absent_total", Help: "Puts of a new key that the live-key index answered without a seek."}),
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help}, f)
	}
	m.funcs = []prometheus.Collector{
		gauge("keys", "Live keys at the current revision.", g.keys),
		gauge("revision", "Current revision.", g.rev),
		gauge("compact_revision", "Revision of the last compaction (-1: none).", g.compactRev),
		gauge("key_index_keys", "Keys in the in-memory live-key index (0 when it is not in use).", g.indexKeys),
		gauge("db_bytes", "Approximate on-disk bytes of the store's key range (Pebble's estimate).", g.dbBytes),
	}
	if reg == nil {
		return m, nil
	}
	if err := metricsutil.Register(reg, "mvcc", m.collectors()...); err != nil {
		return nil, err
	}
	m.reg = reg
	return m, nil
}

// unregister removes the metrics so a reopened Store can register again.
func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.collectors() {
		m.reg.Unregister(c)
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return append([]prometheus.Collector{m.writeSeconds, m.rangeSeconds, m.compactSeconds,
		m.compactedTotal, m.compactFailures, m.latestHits, m.latestMisses, m.indexAbsent}, m.funcs...)
}

package replica

import (
	"strconv"

	"github.com/cairndb/cairn/internal/metricsutil"
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	writes      *prometheus.CounterVec
	reads       prometheus.Counter
	hints       *prometheus.CounterVec
	hintsHeld   *prometheus.GaugeVec
	syncSeconds prometheus.Histogram
	errors      *prometheus.CounterVec
	indexAbsent prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, indexedKeys func() int64) (*metrics, error) {
	const ns, sub = "cairn", "eventual_store"
	m := &metrics{
		writes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "writes_total",
			Help: "Writes to the replica store by origin: local mutation, peer delta, paxos (a chosen value), purge (a collected tombstone), or noop (nothing changed)."}, []string{"origin"}),
		reads: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "reads_total",
			Help: "Objects read from the replica store."}),
		hints: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "hints_total",
			Help: "Hints by result: stored, replayed, expired, dropped_full."}, []string{"result"}),
		hintsHeld: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "hints_held",
			Help: "Hints held for each target node."}, []string{"target"}),
		syncSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "periodic_sync_seconds",
			Help: "Duration of the periodic write-ahead log sync.", Buckets: prometheus.ExponentialBuckets(1e-5, 4, 10)}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "errors_total",
			Help: "Replica store errors by operation."}, []string{"op"}),
		indexAbsent: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "key_index_absent_total",
			Help: "Reads of a key that the in-memory key index knew was not stored, without a Pebble lookup."}),
	}
	indexed := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "key_index_keys",
		Help: "Keys in the in-memory key index (0 when it is not in use)."}, func() float64 { return float64(indexedKeys()) })
	if err := metricsutil.Register(reg, "eventual store", m.writes, m.reads, m.hints, m.hintsHeld, m.syncSeconds, m.errors, m.indexAbsent, indexed); err != nil {
		return nil, err
	}
	return m, nil
}

func nodeLabel(id uint64) string { return strconv.FormatUint(id, 16) }

package verify

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairndb/cairn/internal/metricsutil"
	"github.com/cairndb/cairn/verify/history"
)

// metrics are a run's Prometheus metrics, for watching a long run from a
// dashboard.
type metrics struct {
	ops     *prometheus.CounterVec
	latency *prometheus.HistogramVec
	faults  *prometheus.CounterVec
	checks  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cairn_verify_operations_total",
			Help: "Operations issued by the verification workloads, by workload and outcome (ok, fail, unknown)."},
			[]string{"workload", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cairn_verify_operation_seconds",
			Help: "Latency of the verification workloads' operations.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)},
			[]string{"workload"}),
		faults: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cairn_verify_faults_total",
			Help: "Faults injected by the nemesis, by kind."}, []string{"kind"}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cairn_verify_checks_total",
			Help: "Checker verdicts, by verdict (PASS, FAIL, SKIP)."}, []string{"verdict"}),
	}
	return m, metricsutil.Register(reg, "verify", m.ops, m.latency, m.faults, m.checks)
}

func (m *metrics) observe(op history.Op) {
	m.ops.WithLabelValues(op.Workload, op.Outcome.String()).Inc()
	m.latency.WithLabelValues(op.Workload).Observe(op.Latency().Seconds())
}

package saga

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairndb/cairn/internal/metricsutil"
)

// metrics are the cairn_saga_* series of one executor. Label values are
// bounded: "saga" takes registered definition names, "kind" action or
// compensate, "result" the fixed set in attemptResult.
type metrics struct {
	started      *prometheus.CounterVec
	completed    *prometheus.CounterVec
	compensated  *prometheus.CounterVec
	failed       *prometheus.CounterVec
	attempts     *prometheus.CounterVec
	stepSeconds  *prometheus.HistogramVec
	owned        prometheus.Gauge
	claims       *prometheus.CounterVec
	fenced       prometheus.Counter
	logRetries   prometheus.Counter
	leaseLost    prometheus.Counter
	runnerErrors prometheus.Counter
}

// The results of a step attempt.
const (
	resultOK        = "ok"
	resultTransient = "transient"
	resultPermanent = "permanent"
	resultTimeout   = "timeout"
	resultPanic     = "panic"
)

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		started: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cairn_saga_sagas_started_total",
			Help: "Sagas this executor began (pending to running)."}, []string{"saga"}),
		completed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cairn_saga_sagas_completed_total",
			Help: "Sagas this executor finished with every action done."}, []string{"saga"}),
		compensated: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cairn_saga_sagas_compensated_total",
			Help: "Sagas this executor finished with every effect undone."}, []string{"saga"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cairn_saga_sagas_failed_total",
			Help: "Sagas this executor ended in compensation_failed (they need an operator)."}, []string{"saga"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cairn_saga_step_attempts_total",
			Help: "Step call attempts by kind (action, compensate) and result (ok, transient, permanent, timeout, panic)."},
			[]string{"saga", "kind", "result"}),
		stepSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cairn_saga_step_duration_seconds",
			Help: "Duration of one step call attempt.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)},
			[]string{"saga", "kind"}),
		owned: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cairn_saga_owned",
			Help: "Sagas this executor owns and runs now."}),
		claims: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cairn_saga_claims_total",
			Help: "Sagas this executor took ownership of, by how (submit, new, orphan: taken over from an executor whose lease ended)."},
			[]string{"how"}),
		fenced: prometheus.NewCounter(prometheus.CounterOpts{Name: "cairn_saga_fenced_writes_total",
			Help: "Log writes refused because this executor had lost the saga."}),
		logRetries: prometheus.NewCounter(prometheus.CounterOpts{Name: "cairn_saga_log_write_retries_total",
			Help: "Log writes retried after a transient cluster error."}),
		leaseLost: prometheus.NewCounter(prometheus.CounterOpts{Name: "cairn_saga_lease_lost_total",
			Help: "Times this executor's lease ended while it was running."}),
		runnerErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "cairn_saga_runner_errors_total",
			Help: "Sagas this executor let go after an error other than fencing (cluster unreachable, corrupt record)."}),
	}
	err := metricsutil.Register(reg, "saga", m.started, m.completed, m.compensated, m.failed, m.attempts,
		m.stepSeconds, m.owned, m.claims, m.fenced, m.logRetries, m.leaseLost, m.runnerErrors)
	return m, err
}

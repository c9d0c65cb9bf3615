package concurrency

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/status"
)

// metrics of the concurrency services.
type metrics struct {
	calls   *prometheus.CounterVec
	waiting *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_concurrency_calls_total",
			Help: "Election and Lock calls served, by method and gRPC code.",
		}, []string{"method", "code"}),
		waiting: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cairn_concurrency_calls_waiting",
			Help: "Campaign, Lock and Observe calls running now (they may block), by method.",
		}, []string{"method"}),
	}
	if reg != nil {
		reg.MustRegister(m.calls, m.waiting)
	}
	return m
}

// done counts a finished call; err is the gRPC error it returns.
func (m *metrics) done(method string, err error) {
	m.calls.WithLabelValues(method, status.Code(err).String()).Inc()
}

// waitGate bounds the calls that may block (Config.MaxWaitingCalls).
type waitGate struct {
	limit   int64
	running atomic.Int64
	m       *metrics
}

// enter admits a call of method, or refuses it (false) at the bound. An
// admitted call must call leave.
func (g *waitGate) enter(method string) bool {
	if g.running.Add(1) > g.limit {
		g.running.Add(-1)
		return false
	}
	g.m.waiting.WithLabelValues(method).Inc()
	return true
}

func (g *waitGate) leave(method string) {
	g.running.Add(-1)
	g.m.waiting.WithLabelValues(method).Dec()
}

package merkle

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairndb/cairn/internal/metricsutil"
)

// Metrics are the cairn_merkle_* series, fed by the anti-entropy driver
// with each finished session (the pure Session keeps counters only). Label
// values are bounded: "result" takes the fixed set below, "direction" sent
// or received.
type Metrics struct {
	exchanges *prometheus.CounterVec
	requests  prometheus.Counter
	resends   prometheus.Counter
	bytes     *prometheus.CounterVec
	ranges    prometheus.Counter
	leaves    prometheus.Counter
	truncated prometheus.Counter
}

// The results of an exchange.
const (
	resultEqual    = "equal"
	resultDiffer   = "differ"
	resultMismatch = "mismatch"
	resultNoTree   = "no_tree"
	resultTimeout  = "timeout"
	resultError    = "error"
)

// NewMetrics creates the series and registers them with reg; a nil reg
// registers nothing (the Metrics still count). A *Metrics is safe for
// concurrent use.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		exchanges: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cairn_merkle_exchanges_total",
			Help: "Merkle exchanges this node initiated, by result (equal, differ, mismatch, no_tree, timeout, error)."},
			[]string{"result"}),
		requests: prometheus.NewCounter(prometheus.CounterOpts{Name: "cairn_merkle_requests_total",
			Help: "Merkle exchange requests sent, resends included."}),
		resends: prometheus.NewCounter(prometheus.CounterOpts{Name: "cairn_merkle_resends_total",
			Help: "Merkle exchange requests sent again after RetryTicks without an answer."}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cairn_merkle_bytes_total",
			Help: "Encoded bytes of Merkle exchange messages, by direction (sent, received)."},
			[]string{"direction"}),
		ranges: prometheus.NewCounter(prometheus.CounterOpts{Name: "cairn_merkle_ranges_differing_total",
			Help: "Hash ranges found differing by Merkle exchanges (each to be streamed and merged)."}),
		leaves: prometheus.NewCounter(prometheus.CounterOpts{Name: "cairn_merkle_leaves_differing_total",
			Help: "Leaves covered by the ranges found differing."}),
		truncated: prometheus.NewCounter(prometheus.CounterOpts{Name: "cairn_merkle_truncated_total",
			Help: "Merkle exchanges that reached MaxRanges and reported some subtrees whole."}),
	}
	err := metricsutil.Register(reg, "merkle", m.exchanges, m.requests, m.resends, m.bytes, m.ranges, m.leaves, m.truncated)
	return m, err
}

// Observe counts a finished session. A nil *Metrics counts nothing.
func (m *Metrics) Observe(s *Session) {
	if m == nil || !s.Done() {
		return
	}
	st := s.Stats()
	m.exchanges.WithLabelValues(resultOf(s.Err(), st)).Inc()
	m.requests.Add(float64(st.Requests))
	m.resends.Add(float64(st.Resends))
	m.bytes.WithLabelValues("sent").Add(float64(st.BytesSent))
	m.bytes.WithLabelValues("received").Add(float64(st.BytesReceived))
	m.ranges.Add(float64(st.Ranges))
	m.leaves.Add(float64(st.LeavesCovered))
	if st.Truncated {
		m.truncated.Inc()
	}
}

func resultOf(err error, st Stats) string {
	switch {
	case err == nil && st.Ranges == 0:
		return resultEqual
	case err == nil:
		return resultDiffer
	case errors.Is(err, ErrRangeMismatch), errors.Is(err, ErrDepthMismatch):
		return resultMismatch
	case errors.Is(err, ErrNoTree):
		return resultNoTree
	case errors.Is(err, ErrTimeout):
		return resultTimeout
	}
	return resultError
}

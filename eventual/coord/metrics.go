package coord

import (
	"github.com/cairndb/cairn/internal/metricsutil"
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests   *prometheus.CounterVec
	seconds    *prometheus.HistogramVec
	repairs    *prometheus.CounterVec
	hints      *prometheus.CounterVec
	peerReqs   *prometheus.CounterVec
	inFlight   prometheus.Gauge
	clockSkews prometheus.Counter
	ae         *prometheus.CounterVec
	aeKeys     *prometheus.CounterVec
	paxos      *prometheus.CounterVec
	gc         *prometheus.CounterVec
	// removeReads counts observed-remove writes that merged a read quorum
	// first (see Op.RemovesObserved).
	removeReads prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "cairn", "eventual"
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "requests_total",
			Help: "Coordinated requests by kind (read, write, forward), level and result (ok, unavailable, error)."},
			[]string{"kind", "level", "result"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "request_seconds",
			Help: "Latency of coordinated requests by kind.", Buckets: prometheus.ExponentialBuckets(50e-6, 2, 16)},
			[]string{"kind"}),
		repairs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "read_repairs_total",
			Help: "Replicas repaired by reads: sync (among the R answers) or background (late answers)."}, []string{"mode"}),
		hints: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "handoff_total",
			Help: "Hinted handoff: sloppy (a fallback node took a write for a down replica), local (this node kept a hint for a replica that failed), replayed, expired, replay_failed."},
			[]string{"event"}),
		peerReqs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "peer_requests_total",
			Help: "Requests served for peers by type and result (ok, error, dropped: over MaxInFlight)."}, []string{"type", "result"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "peer_requests_in_flight",
			Help: "Peer requests being served."}),
		clockSkews: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "clock_skew_rejections_total",
			Help: "Peer messages refused because the peer's clock led by more than the max offset."}),
		ae: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "anti_entropy_exchanges_total",
			Help: "Anti-entropy exchanges of one arc with one replica, by result: in_sync, repaired, error."}, []string{"result"}),
		aeKeys: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "anti_entropy_keys_total",
			Help: "Keys merged by anti-entropy repair: pulled from a replica, pushed to it."}, []string{"direction"}),
		paxos: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "paxos_operations_total",
			Help: "Compare-and-set operations proposed by this node, by result: ok, contention, timeout, no_quorum, error."}, []string{"result"}),
		gc: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "tombstones_total",
			Help: "Tombstone collection attempts by result: collected, replicas_differ, replica_unavailable, changed."}, []string{"result"}),
		removeReads: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "remove_quorum_reads_total",
			Help: "Removes (DEL, SREM, HDEL, EXPIRE, PERSIST) above level ONE that merged a read quorum of the key before applying, so they remove every element a quorum acknowledged."}),
	}
	if err := metricsutil.Register(reg, "eventual coordinator", m.requests, m.seconds, m.repairs, m.hints, m.peerReqs, m.inFlight, m.clockSkews, m.ae, m.aeKeys, m.paxos, m.gc, m.removeReads); err != nil {
		return nil, err
	}
	return m, nil
}

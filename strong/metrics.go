package strong

import "github.com/prometheus/client_golang/prometheus"

// metrics of the strong tier, named after etcd's where the idea is the
// same so that existing dashboards translate.
type metrics struct {
	hasLeader        prometheus.Gauge
	isLeader         prometheus.Gauge
	leaderChanges    prometheus.Counter
	appliedIndex     prometheus.Gauge
	proposalSeconds  prometheus.Histogram
	proposalsFailed  prometheus.Counter
	persistSeconds   prometheus.Histogram
	applySeconds     prometheus.Histogram
	readIndexSeconds prometheus.Histogram
	sendDrops        prometheus.Counter
	recvDrops        prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	buckets := prometheus.ExponentialBuckets(0.0001, 2, 16) // 100µs .. ~3.3s
	m := &metrics{
		hasLeader:        prometheus.NewGauge(prometheus.GaugeOpts{Name: "cairn_strong_has_leader", Help: "1 if this member knows a leader."}),
		isLeader:         prometheus.NewGauge(prometheus.GaugeOpts{Name: "cairn_strong_is_leader", Help: "1 if this member is the leader."}),
		leaderChanges:    prometheus.NewCounter(prometheus.CounterOpts{Name: "cairn_strong_leader_changes_seen_total", Help: "Leader changes seen by this member."}),
		appliedIndex:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "cairn_strong_applied_index", Help: "Index of the last applied Raft entry."}),
		proposalSeconds:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cairn_strong_proposal_duration_seconds", Help: "Time from proposal to apply on this member.", Buckets: buckets}),
		proposalsFailed:  prometheus.NewCounter(prometheus.CounterOpts{Name: "cairn_strong_proposals_failed_total", Help: "Proposals that failed or timed out."}),
		persistSeconds:   prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cairn_strong_persist_duration_seconds", Help: "Time to persist (fsync) one Ready.", Buckets: buckets}),
		applySeconds:     prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cairn_strong_apply_duration_seconds", Help: "Time to apply the committed entries of one Ready.", Buckets: buckets}),
		readIndexSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cairn_strong_read_index_duration_seconds", Help: "Time of one batched ReadIndex round.", Buckets: buckets}),
		sendDrops:        prometheus.NewCounter(prometheus.CounterOpts{Name: "cairn_strong_peer_send_drops_total", Help: "Raft messages the transport refused."}),
		recvDrops:        prometheus.NewCounter(prometheus.CounterOpts{Name: "cairn_strong_peer_recv_drops_total", Help: "Raft messages dropped because the Raft loop's queue was full."}),
	}
	if reg != nil {
		reg.MustRegister(m.hasLeader, m.isLeader, m.leaderChanges, m.appliedIndex, m.proposalSeconds,
			m.proposalsFailed, m.persistSeconds, m.applySeconds, m.readIndexSeconds, m.sendDrops, m.recvDrops)
	}
	return m
}

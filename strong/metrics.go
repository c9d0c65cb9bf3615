package strong

import "github.com/prometheus/client_golang/prometheus"

// metrics of the strong tier. Where etcd has the same idea the metric has
// etcd's exact name, so that existing etcd dashboards and alerts work
// against cairn unchanged; the rest are cairn_strong_*.
type metrics struct {
	hasLeader        prometheus.Gauge
	isLeader         prometheus.Gauge
	leaderChanges    prometheus.Counter
	committedIndex   prometheus.Gauge
	appliedIndex     prometheus.Gauge
	pending          prometheus.Gauge
	proposalsFailed  prometheus.Counter
	persistSeconds   prometheus.Histogram
	applySeconds     prometheus.Histogram
	proposalSeconds  prometheus.Histogram
	readIndexSeconds prometheus.Histogram
	readIndexRetries prometheus.Counter
	sendDrops        prometheus.Counter
	recvDrops        prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, dbSize func() float64) *metrics {
	// etcd's disk buckets: 1ms .. ~8s; ours start at 100µs, where a
	// batched fsync on a good disk lands.
	buckets := prometheus.ExponentialBuckets(0.0001, 2, 17)
	m := &metrics{
		hasLeader:        prometheus.NewGauge(prometheus.GaugeOpts{Name: "etcd_server_has_leader", Help: "Whether or not a leader exists. 1 is existence, 0 is not."}),
		isLeader:         prometheus.NewGauge(prometheus.GaugeOpts{Name: "etcd_server_is_leader", Help: "Whether or not this member is a leader. 1 if is, 0 otherwise."}),
		leaderChanges:    prometheus.NewCounter(prometheus.CounterOpts{Name: "etcd_server_leader_changes_seen_total", Help: "The number of leader changes seen."}),
		committedIndex:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "etcd_server_proposals_committed_total", Help: "The total number of consensus proposals committed (the commit index)."}),
		appliedIndex:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "etcd_server_proposals_applied_total", Help: "The total number of consensus proposals applied (the applied index)."}),
		pending:          prometheus.NewGauge(prometheus.GaugeOpts{Name: "etcd_server_proposals_pending", Help: "The current number of pending proposals to commit."}),
		proposalsFailed:  prometheus.NewCounter(prometheus.CounterOpts{Name: "etcd_server_proposals_failed_total", Help: "The total number of failed proposals seen."}),
		persistSeconds:   prometheus.NewHistogram(prometheus.HistogramOpts{Name: "etcd_disk_wal_fsync_duration_seconds", Help: "The latency distributions of fsync called by the Raft log (one per Ready).", Buckets: buckets}),
		applySeconds:     prometheus.NewHistogram(prometheus.HistogramOpts{Name: "etcd_disk_backend_commit_duration_seconds", Help: "The latency distributions of applying the committed entries of one Ready to the backend.", Buckets: buckets}),
		proposalSeconds:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cairn_strong_proposal_duration_seconds", Help: "Time from proposal to apply on this member.", Buckets: buckets}),
		readIndexSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cairn_strong_read_index_duration_seconds", Help: "Time of one batched ReadIndex round, apply wait included.", Buckets: buckets}),
		readIndexRetries: prometheus.NewCounter(prometheus.CounterOpts{Name: "cairn_strong_read_index_retries_total", Help: "ReadIndex requests asked again because no answer came in time."}),
		sendDrops:        prometheus.NewCounter(prometheus.CounterOpts{Name: "cairn_strong_peer_send_drops_total", Help: "Raft messages the transport refused."}),
		recvDrops:        prometheus.NewCounter(prometheus.CounterOpts{Name: "cairn_strong_peer_recv_drops_total", Help: "Raft messages dropped because the Raft loop's queue was full."}),
	}
	if reg != nil {
		reg.MustRegister(m.hasLeader, m.isLeader, m.leaderChanges, m.committedIndex, m.appliedIndex, m.pending,
			m.proposalsFailed, m.persistSeconds, m.applySeconds, m.proposalSeconds, m.readIndexSeconds, m.readIndexRetries, m.sendDrops, m.recvDrops,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "etcd_mvcc_db_total_size_in_bytes", Help: "Total size of the underlying database in bytes (Raft log included)."}, dbSize))
	}
	return m
}

package lease

import "github.com/prometheus/client_golang/prometheus"

// metrics of the lessor, named after etcd's lease metrics where the idea
// is the same.
type metrics struct {
	granted        prometheus.Counter
	revoked        prometheus.Counter
	expired        prometheus.Counter
	expiredRetried prometheus.Counter
	renewed        prometheus.Counter
	active         prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		granted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cairn_strong_lease_granted_total", Help: "Leases granted (applied on this member)."}),
		revoked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cairn_strong_lease_revoked_total", Help: "Leases revoked, by a client or on expiry (applied on this member)."}),
		expired: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cairn_strong_lease_expired_total", Help: "Leases this member, as leader, found expired and reported for revocation."}),
		expiredRetried: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cairn_strong_lease_expired_retried_total", Help: "Expired leases reported again because their revoke had not been applied in time."}),
		renewed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cairn_strong_lease_renewed_total", Help: "Lease renewals (keepalives) served by this member as leader."}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cairn_strong_lease_active", Help: "Leases in the lease table."}),
	}
	if reg != nil {
		reg.MustRegister(m.granted, m.revoked, m.expired, m.expiredRetried, m.renewed, m.active)
	}
	return m
}

package watch

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairndb/cairn/internal/metricsutil"
)

// metrics are the Hub's Prometheus metrics. They always exist; they are
// registered only when a Registerer is given, and unregistered by Close.
type metrics struct {
	reg               prometheus.Registerer
	eventsSent        prometheus.Counter
	slowWatchers      prometheus.Counter
	compactedWatchers prometheus.Counter
	catchupHistory    prometheus.Counter
	catchupSource     prometheus.Counter
	catchupErrors     prometheus.Counter
	funcs             []prometheus.Collector
}

// gauges are read at scrape time from the Hub's state.
type gauges struct {
	watchers, synced, unsynced, streams func() float64
}

func (h *Hub) gauges() gauges {
	read := func(f func() int) func() float64 {
		return func() float64 {
			h.mu.Lock()
			defer h.mu.Unlock()
			return float64(f())
		}
	}
	return gauges{
		watchers: read(func() int { return h.mu.watchers }),
		synced:   read(func() int { return h.mu.synced.size }),
		unsynced: read(func() int { return len(h.mu.unsynced) }),
		streams:  read(func() int { return len(h.mu.streams) }),
	}
}

func newMetrics(reg prometheus.Registerer, g gauges) (*metrics, error) {
	const ns, sub = "cairn", "watch"
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help})
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help}, f)
	}
	m := &metrics{
		eventsSent:        counter("events_sent_total", "Events handed to streams for sending."),
		slowWatchers:      counter("slow_watchers_total", "Times a synced watcher fell behind because its queue was full."),
		compactedWatchers: counter("compacted_watchers_total", "Watchers canceled because the revision they needed was compacted."),
		catchupHistory:    counter("catchup_history_reads_total", "Catch-up rounds served from the in-memory history."),
		catchupSource:     counter("catchup_store_reads_total", "Catch-up reads from the store (Source.Changes)."),
		catchupErrors:     counter("catchup_errors_total", "Catch-up reads from the store that failed (retried)."),
		funcs: []prometheus.Collector{
			gauge("watchers", "Watchers on all streams.", g.watchers),
			gauge("synced_watchers", "Watchers that receive each revision as it is committed.", g.synced),
			gauge("unsynced_watchers", "Watchers behind the last committed revision, being caught up (slow watchers).", g.unsynced),
			gauge("streams", "Open watch streams.", g.streams),
		},
	}
	if reg == nil {
		return m, nil
	}
	if err := metricsutil.Register(reg, "watch", m.collectors()...); err != nil {
		return nil, err
	}
	m.reg = reg
	return m, nil
}

// unregister removes the metrics so a new Hub can register again.
func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.collectors() {
		m.reg.Unregister(c)
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return append([]prometheus.Collector{m.eventsSent, m.slowWatchers, m.compactedWatchers,
		m.catchupHistory, m.catchupSource, m.catchupErrors}, m.funcs...)
}

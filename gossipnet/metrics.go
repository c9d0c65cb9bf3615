package gossipnet

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairndb/cairn/gossip"
	"github.com/cairndb/cairn/internal/metricsutil"
)

// Drop reasons, the reason label of cairn_gossip_messages_dropped_total.
const (
	reasonMalformed   = "malformed"   // a received datagram did not decode
	reasonInvalid     = "invalid"     // the core refused a decoded message
	reasonInboxFull   = "inbox-full"  // InboxLen reached
	reasonFault       = "fault"       // a fault rule dropped it (or MaxDelayedDatagrams)
	reasonTooLarge    = "too-large"   // an outgoing datagram over MaxMessageBytes
	reasonNoAddress   = "no-address"  // no usable address for the receiver
	reasonSendError   = "send-error"  // the socket refused it
	reasonUnpersisted = "unpersisted" // the incarnation could not be persisted
)

var dropReasons = []string{reasonMalformed, reasonInvalid, reasonInboxFull, reasonFault,
	reasonTooLarge, reasonNoAddress, reasonSendError, reasonUnpersisted}

// Directions of a push-pull, the direction label.
const (
	dirOutbound = "outbound" // this node started it
	dirInbound  = "inbound"  // this node answered it
)

// metrics are the driver's Prometheus collectors.
type metrics struct {
	members           *prometheus.GaugeVec
	phi               *prometheus.GaugeVec
	localHealth       prometheus.Gauge
	incarnation       prometheus.Gauge
	probeRTT          *prometheus.HistogramVec
	sent, received    *prometheus.CounterVec
	bytesSent         *prometheus.CounterVec
	bytesReceived     *prometheus.CounterVec
	dropped           *prometheus.CounterVec
	pushPulls         *prometheus.CounterVec
	pushPullSeconds   prometheus.Histogram
	events            *prometheus.CounterVec
	subscriberDropped prometheus.Counter
	persistFailures   prometheus.Counter
	core              *coreCollector
}

func kindLabel(k gossip.MsgKind) string { return k.String() }

func newMetrics(d *Driver) *metrics {
	m := &metrics{
		members: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cairn_gossip_members",
			Help: "Members of this node's gossip table by state (alive, suspect, dead, left), this node included.",
		}, []string{"state"}),
		phi: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cairn_gossip_member_phi",
			Help: "Phi-accrual suspicion of each member's direct messages (for at most MaxPhiSeries members).",
		}, []string{"member"}),
		localHealth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cairn_gossip_local_health",
			Help: "Lifeguard local health multiplier: 0 is healthy; probe periods are scaled by it plus one.",
		}),
		incarnation: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cairn_gossip_incarnation",
			Help: "This node's persisted incarnation number.",
		}),
		probeRTT: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cairn_gossip_probe_rtt_seconds",
			Help:    "Time from a ping to its ack, direct (the target answered) or indirect (a helper relayed it).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16), // 100µs to 3.3s
		}, []string{"path"}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_gossip_messages_sent_total",
			Help: "Gossip messages sent, by type (datagrams and push-pull exchanges).",
		}, []string{"type"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_gossip_messages_received_total",
			Help: "Gossip messages received and decoded, by type.",
		}, []string{"type"}),
		bytesSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_gossip_bytes_sent_total",
			Help: "Encoded bytes of gossip messages sent, by type.",
		}, []string{"type"}),
		bytesReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_gossip_bytes_received_total",
			Help: "Encoded bytes of gossip messages received, by type.",
		}, []string{"type"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_gossip_messages_dropped_total",
			Help: "Gossip datagrams dropped by the driver, by reason.",
		}, []string{"reason"}),
		pushPulls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_gossip_push_pulls_total",
			Help: "Push-pull exchanges (full-table, over gRPC) by direction and result.",
		}, []string{"direction", "result"}),
		pushPullSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "cairn_gossip_push_pull_seconds",
			Help:    "Duration of the push-pulls this node started and completed.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16), // 0.5ms to 16s
		}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_gossip_events_total",
			Help: "Membership events of this node's view, by kind (join, suspect, alive, dead, leave, update).",
		}, []string{"kind"}),
		subscriberDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cairn_gossip_subscriber_events_dropped_total",
			Help: "Events lost by subscribers whose queue was full (they resynchronize from Members).",
		}),
		persistFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cairn_gossip_persist_failures_total",
			Help: "Failed attempts to persist the incarnation (nothing is sent until one succeeds).",
		}),
		core: &coreCollector{d: d},
	}
	// Every label value exists from the start, so that a rate over a
	// counter that has not moved yet reads 0, not nothing.
	for k := gossip.MsgPing; k <= gossip.MsgPushPullReply; k++ {
		for _, v := range []*prometheus.CounterVec{m.sent, m.received, m.bytesSent, m.bytesReceived} {
			v.WithLabelValues(kindLabel(k))
		}
	}
	for _, r := range dropReasons {
		m.dropped.WithLabelValues(r)
	}
	for _, dir := range []string{dirOutbound, dirInbound} {
		for _, r := range pushPullResults {
			m.pushPulls.WithLabelValues(dir, r)
		}
	}
	for k := gossip.EventJoin; k <= gossip.EventUpdate; k++ {
		m.events.WithLabelValues(k.String())
	}
	for _, p := range []string{"direct", "indirect"} {
		m.probeRTT.WithLabelValues(p)
	}
	return m
}

func (m *metrics) pushPull(direction, result string) {
	m.pushPulls.WithLabelValues(direction, result).Inc()
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.members, m.phi, m.localHealth, m.incarnation, m.probeRTT,
		m.sent, m.received, m.bytesSent, m.bytesReceived, m.dropped, m.pushPulls,
		m.pushPullSeconds, m.events, m.subscriberDropped, m.persistFailures, m.core}
}

func (m *metrics) register(reg prometheus.Registerer) error {
	return metricsutil.Register(reg, "gossipnet", m.collectors()...)
}

// unregister removes the metrics so that a restarted driver can register
// again.
func (m *metrics) unregister(reg prometheus.Registerer) {
	if reg == nil {
		return
	}
	for _, c := range m.collectors() {
		reg.Unregister(c)
	}
}

// coreCollector exposes the core's Stats, as of the last refresh, as
// counters.
type coreCollector struct{ d *Driver }

type coreCounter struct {
	desc *prometheus.Desc
	get  func(*gossip.Stats) uint64
}

func counterDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("cairn_gossip_"+name+"_total", help, nil, nil)
}

var coreCounters = []coreCounter{
	{counterDesc("probes_sent", "Probes (direct pings of the round-robin target) started."), func(s *gossip.Stats) uint64 { return s.ProbesSent }},
	{counterDesc("probes_acked", "Probes answered within their period, directly or through helpers."), func(s *gossip.Stats) uint64 { return s.ProbesAcked }},
	{counterDesc("probes_failed", "Probes with no ack by the end of their period."), func(s *gossip.Stats) uint64 { return s.ProbesFailed }},
	{counterDesc("indirect_probes", "Probes that needed helpers (ping-req)."), func(s *gossip.Stats) uint64 { return s.IndirectProbes }},
	{counterDesc("nacks_sent", "Lifeguard nacks sent as a helper."), func(s *gossip.Stats) uint64 { return s.NacksSent }},
	{counterDesc("nacks_received", "Lifeguard nacks received from helpers."), func(s *gossip.Stats) uint64 { return s.NacksReceived }},
	{counterDesc("suspicions_raised", "Members this node suspected after a failed probe."), func(s *gossip.Stats) uint64 { return s.SuspicionsRaised }},
	{counterDesc("dead_declared", "Suspicions whose timer ran out on this node."), func(s *gossip.Stats) uint64 { return s.DeadDeclared }},
	{counterDesc("refutations", "Times this node refuted news about itself (suspicions refuted)."), func(s *gossip.Stats) uint64 { return s.Refutations }},
	{counterDesc("push_pulls_started", "Full-table exchanges the core asked for (anti-entropy, joins, reconnections)."), func(s *gossip.Stats) uint64 { return s.PushPullsSent }},
	{counterDesc("push_pulls_refused", "Push-pulls not answered for MaxPushPullRepliesPerTick."), func(s *gossip.Stats) uint64 { return s.PushPullsRefused }},
	{counterDesc("reconnects", "Push-pulls sent to dead members to heal partitions."), func(s *gossip.Stats) uint64 { return s.Reconnects }},
	{counterDesc("members_refused", "New members ignored at MaxMembers."), func(s *gossip.Stats) uint64 { return s.MembersRefused }},
	{counterDesc("relays_refused", "Ping-reqs ignored at MaxPendingRelays."), func(s *gossip.Stats) uint64 { return s.RelaysRefused }},
	{counterDesc("misdirected", "Pings meant for another node."), func(s *gossip.Stats) uint64 { return s.Misdirected }},
	{counterDesc("updates_dropped", "Updates dropped from the piggyback queue at MaxQueuedUpdates."), func(s *gossip.Stats) uint64 { return s.UpdatesDropped }},
	{counterDesc("core_messages_dropped", "Messages the core dropped at MaxPendingMessages."), func(s *gossip.Stats) uint64 { return s.MessagesDropped }},
}

// Describe implements prometheus.Collector.
func (c *coreCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, cc := range coreCounters {
		ch <- cc.desc
	}
}

// Collect implements prometheus.Collector.
func (c *coreCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.d.Stats()
	for _, cc := range coreCounters {
		ch <- prometheus.MustNewConstMetric(cc.desc, prometheus.CounterValue, float64(cc.get(&s)))
	}
}

package transport

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairndb/cairn/breaker"
)

// dropReason is why a frame was dropped, a label of
// cairn_transport_frames_dropped_total.
type dropReason uint8

const (
	// dropQueueFull: the peer's queue was at QueueLen or QueueBytes.
	dropQueueFull dropReason = iota + 1
	// dropUnknownPeer: Send to an id that is not a peer.
	dropUnknownPeer
	// dropBreakerOpen: the peer's breaker was open (at Send, or frames
	// queued before it opened).
	dropBreakerOpen
	// dropTooLarge: the frame exceeded MaxFrameBytes.
	dropTooLarge
	// dropClosed: Send after Close.
	dropClosed
	// dropFaultOutbound: an Outbound fault rule dropped it at Send.
	dropFaultOutbound
	// dropFaultInbound: an Inbound fault rule dropped it on receipt.
	dropFaultInbound
	// dropSendFailed: its batch was lost with a broken stream.
	dropSendFailed
	// dropPeerRemoved: still queued when the peer was removed or
	// updated.
	dropPeerRemoved

	lastDropReason = dropPeerRemoved
)

func (r dropReason) String() string {
	switch r {
	case dropQueueFull:
		return "queue-full"
	case dropUnknownPeer:
		return "unknown-peer"
	case dropBreakerOpen:
		return "breaker-open"
	case dropTooLarge:
		return "too-large"
	case dropClosed:
		return "closed"
	case dropFaultOutbound:
		return "fault-outbound"
	case dropFaultInbound:
		return "fault-inbound"
	case dropSendFailed:
		return "send-failed"
	case dropPeerRemoved:
		return "peer-removed"
	}
	return "reason-" + strconv.Itoa(int(r))
}

// unknownPeerLabel is the peer label of drops that have no peer (Send to an
// unknown id, or after Close), so that a caller's bad ids cannot grow the
// label set.
const unknownPeerLabel = "unknown"

// metrics are the transport's Prometheus collectors.
type metrics struct {
	framesSent, bytesSent         *prometheus.CounterVec
	framesReceived, bytesReceived *prometheus.CounterVec
	dropped                       *prometheus.CounterVec
	batchFrames, batchBytes       prometheus.Histogram
	connects, disconnects         *prometheus.CounterVec
	breakerState                  *prometheus.GaugeVec
	queued                        *prometheus.GaugeVec
	snapshotBytes                 *prometheus.CounterVec
	snapshotSeconds               *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	const ns, sub = "cairn", "transport"
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help}, labels)
	}
	m := &metrics{
		framesSent:     counter("frames_sent_total", "Frames written to a peer's stream.", "peer"),
		bytesSent:      counter("bytes_sent_total", "Frame bytes written to a peer's stream.", "peer"),
		framesReceived: counter("frames_received_total", "Frames received from a peer and passed to the handler.", "peer"),
		bytesReceived:  counter("bytes_received_total", "Frame bytes received from a peer and passed to the handler.", "peer"),
		dropped:        counter("frames_dropped_total", "Frames dropped, by peer and reason.", "peer", "reason"),
		batchFrames: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "batch_frames",
			Help: "Frames per stream message sent.", Buckets: prometheus.ExponentialBuckets(1, 4, 7)}),
		batchBytes: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "batch_bytes",
			Help: "Bytes per stream message sent.", Buckets: prometheus.ExponentialBuckets(64, 4, 9)}),
		connects:    counter("connects_total", "Connection attempts to a peer, by result (ok, error).", "peer", "result"),
		disconnects: counter("disconnects_total", "Established streams to a peer that broke.", "peer"),
		breakerState: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "breaker_state",
			Help: "State of a peer's circuit breaker: 1 closed, 2 open, 3 half-open."}, []string{"peer"}),
		queued: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "queued_frames",
			Help: "Frames in a peer's queue, sampled after each batch."}, []string{"peer"}),
		snapshotBytes: counter("snapshot_bytes_total", "Snapshot body bytes, by peer and direction (sent, received).", "peer", "direction"),
		snapshotSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "snapshot_duration_seconds",
			Help:    "Duration of snapshot transfers, by direction (sent, received) and result (ok, error).",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 8)}, []string{"direction", "result"}),
	}
	if reg != nil {
		reg.MustRegister(m.framesSent, m.bytesSent, m.framesReceived, m.bytesReceived, m.dropped,
			m.batchFrames, m.batchBytes, m.connects, m.disconnects, m.breakerState, m.queued,
			m.snapshotBytes, m.snapshotSeconds)
	}
	return m
}

// drop counts n frames dropped without a known peer.
func (m *metrics) drop(r dropReason, n int) {
	m.dropped.WithLabelValues(unknownPeerLabel, r.String()).Add(float64(n))
}

// peerMetrics are one peer's outbound collectors, looked up once so the
// hot path does no label hashing.
type peerMetrics struct {
	framesSent, bytesSent prometheus.Counter
	dropped               [lastDropReason + 1]prometheus.Counter
	connectOK, connectErr prometheus.Counter
	disconnects           prometheus.Counter
	breakerState          prometheus.Gauge
	queued                prometheus.Gauge
	snapshotBytes         prometheus.Counter
}

func (m *metrics) forPeer(id uint64) peerMetrics {
	l := strconv.FormatUint(id, 10)
	pm := peerMetrics{
		framesSent:    m.framesSent.WithLabelValues(l),
		bytesSent:     m.bytesSent.WithLabelValues(l),
		connectOK:     m.connects.WithLabelValues(l, "ok"),
		connectErr:    m.connects.WithLabelValues(l, "error"),
		disconnects:   m.disconnects.WithLabelValues(l),
		breakerState:  m.breakerState.WithLabelValues(l),
		queued:        m.queued.WithLabelValues(l),
		snapshotBytes: m.snapshotBytes.WithLabelValues(l, "sent"),
	}
	for r := dropQueueFull; r <= lastDropReason; r++ {
		if r != dropFaultInbound && r != dropUnknownPeer && r != dropClosed { // not outbound, or no peer
			pm.dropped[r] = m.dropped.WithLabelValues(l, r.String())
		}
	}
	pm.breakerState.Set(float64(breaker.Closed))
	return pm
}

// forget deletes a removed peer's outbound series. Its received series
// stay: the peer may still be sending.
func (m *metrics) forget(id uint64) {
	l := prometheus.Labels{"peer": strconv.FormatUint(id, 10)}
	for _, v := range []interface {
		DeletePartialMatch(prometheus.Labels) int
	}{m.framesSent, m.bytesSent, m.dropped, m.connects, m.disconnects, m.breakerState, m.queued} {
		v.DeletePartialMatch(l)
	}
	m.snapshotBytes.Delete(prometheus.Labels{"peer": l["peer"], "direction": "sent"})
}

// inboundMetrics are the collectors of one peer's received frames.
type inboundMetrics struct {
	frames, bytes prometheus.Counter
	dropped       prometheus.Counter
	snapshotBytes prometheus.Counter
}

func (m *metrics) forInbound(id uint64) inboundMetrics {
	l := strconv.FormatUint(id, 10)
	return inboundMetrics{
		frames:        m.framesReceived.WithLabelValues(l),
		bytes:         m.bytesReceived.WithLabelValues(l),
		dropped:       m.dropped.WithLabelValues(l, dropFaultInbound.String()),
		snapshotBytes: m.snapshotBytes.WithLabelValues(l, "received"),
	}
}

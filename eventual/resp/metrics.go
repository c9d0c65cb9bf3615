package resp

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairndb/cairn/internal/metricsutil"
)

// otherCommand labels the metrics of commands that are not in the server's
// tables, so that a client sending random names cannot grow the label set.
const otherCommand = "other"

// metrics are a server's cairn_resp_* collectors.
type metrics struct {
	clients        prometheus.Gauge
	accepted       prometheus.Counter
	rejected       prometheus.Counter
	protocolErrors prometheus.Counter
	handlerFaults  prometheus.Counter
	bytesIn        prometheus.Counter
	bytesOut       prometheus.Counter
	commands       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
}

// cmdMetrics are one command's children of the vectors, resolved once so
// that a command costs no label lookup.
type cmdMetrics struct {
	ok, err  prometheus.Counter
	duration prometheus.Observer
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		clients: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cairn_resp_connected_clients",
			Help: "Client connections open.",
		}),
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cairn_resp_connections_accepted_total",
			Help: "Client connections accepted, the rejected included.",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cairn_resp_connections_rejected_total",
			Help: "Client connections refused because MaxClients were open.",
		}),
		protocolErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cairn_resp_protocol_errors_total",
			Help: "Connections closed on a malformed request or one over a limit.",
		}),
		handlerFaults: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cairn_resp_handler_faults_total",
			Help: "Commands whose handler wrote no reply or more than one (a bug); their connections were closed.",
		}),
		bytesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cairn_resp_read_bytes_total",
			Help: "Bytes read from clients.",
		}),
		bytesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cairn_resp_written_bytes_total",
			Help: "Bytes written to clients.",
		}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_resp_commands_total",
			Help: "Commands executed, by command (\"other\" for unknown names) and result (ok, or error for an error reply).",
		}, []string{"command", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cairn_resp_command_duration_seconds",
			Help: "Time to parse and execute a command: from the end of the previous command (or of the read or flush after it) to its reply being buffered; flushing excluded.",
			// 10 µs (a local in-memory command) to 2.6 s (a quorum
			// waiting out a slow replica).
			Buckets: prometheus.ExponentialBuckets(10e-6, 4, 10),
		}, []string{"command"}),
	}
	err := metricsutil.Register(reg, "resp", m.clients, m.accepted, m.rejected, m.protocolErrors,
		m.handlerFaults, m.bytesIn, m.bytesOut, m.commands, m.duration)
	return m, err
}

func (m *metrics) forCommand(name string) cmdMetrics {
	return cmdMetrics{
		ok:       m.commands.WithLabelValues(name, "ok"),
		err:      m.commands.WithLabelValues(name, "error"),
		duration: m.duration.WithLabelValues(name),
	}
}

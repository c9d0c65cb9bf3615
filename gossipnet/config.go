package gossipnet

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/cairndb/cairn/detector"
	"github.com/cairndb/cairn/gossip"
	"github.com/cairndb/cairn/transport"
)

// Config configures a Driver. Start from DefaultConfig; set Core.ID,
// Core.Addr, Core.Meta, Core.LastIncarnation, ListenAddr and Persist.
type Config struct {
	// Core is the protocol's configuration. Core.TickDuration is the
	// real interval between two Ticks; Core.Rand, if nil, is seeded from
	// the process's random source; Core.Logger, if nil, is Logger.
	// Core.Addr is the "host:port" the others reach this node at: UDP
	// datagrams go to it and push-pulls dial it over gRPC, so the peer
	// gRPC server and the UDP socket share the port number.
	Core gossip.Config
	// ListenAddr is the UDP address to bind, normally the host:port of
	// the node's peer listener. Port 0 picks a free port (tests; the
	// address then differs from Core.Addr, so set Core.Addr after binding
	// or bind ListenAddr explicitly).
	ListenAddr string
	// Seeds are the nodes to join through at start (none: the node waits
	// to be found or for Join).
	Seeds []gossip.Seed
	// Persist stores this node's incarnation durably; it is called before
	// any message that may carry a new incarnation is sent (gossip's
	// HAZARD). While it fails, nothing is sent. Required.
	Persist func(incarnation uint64) error
	// Faults, if not nil, drops or delays datagrams and push-pulls per
	// peer and direction, with the same rules as the peer transport
	// (gossip ids are the transport's node ids).
	Faults *transport.Faults
	// Registerer receives the cairn_gossip_* metrics; nil registers none.
	Registerer prometheus.Registerer
	// Logger receives state changes and errors; nil means slog.Default().
	Logger *slog.Logger
	// DialOptions are added to the options of every push-pull connection
	// (credentials, a custom dialer); by default connections are
	// insecure, like the peer transport's without Credentials.
	DialOptions []grpc.DialOption

	// InboxLen bounds the received datagrams waiting for the protocol
	// loop; at the bound new ones are dropped (reason "inbox-full"), as a
	// full socket buffer would drop them.
	InboxLen int
	// SocketBufferBytes is the UDP socket's receive and send buffer size
	// asked of the kernel (which may grant less).
	SocketBufferBytes int
	// MaxPushPullsInFlight bounds the push-pulls this node has started
	// and not finished; at the bound a new one is dropped (result
	// "busy") and the core retries at its next interval.
	MaxPushPullsInFlight int
	// MaxPushPullsServing bounds the inbound push-pulls waiting for the
	// protocol loop; at the bound the caller gets ResourceExhausted.
	MaxPushPullsServing int
	// MaxPushPullBytes bounds an encoded push-pull or its reply, in both
	// directions. The peer gRPC server's own receive limit (set by the
	// transport) applies first on the serving side.
	MaxPushPullBytes int
	// PushPullTimeout bounds one push-pull: dial, send, the peer's loop
	// and the reply.
	PushPullTimeout time.Duration
	// ControlTimeout bounds how long Members, Join, SetMeta and Subscribe
	// wait for the protocol loop to take them.
	ControlTimeout time.Duration
	// LeaveLinger is how long Leave keeps the node answering pings (with
	// its leave) after it sent the leave to Core.LeaveFanout members.
	LeaveLinger time.Duration
	// SubscriberBuffer bounds each subscriber's queue of events; at the
	// bound events are dropped for that subscriber and counted.
	SubscriberBuffer int
	// MaxSubscribers bounds the subscribers.
	MaxSubscribers int
	// MaxDelayedDatagrams bounds the datagrams held back by a fault
	// delay rule; beyond, they are dropped (reason "fault").
	MaxDelayedDatagrams int
	// MaxAddrCache bounds the cache of resolved member addresses.
	MaxAddrCache int
	// MaxPendingPings bounds the pings awaiting an ack for the round-trip
	// histogram; pings beyond are not timed.
	MaxPendingPings int
	// MetricsInterval is how often the loop refreshes the gauges (members
	// by state, phi, local health) and the core's counters.
	MetricsInterval time.Duration
	// MaxPhiSeries bounds the members with a phi gauge (the lowest ids).
	MaxPhiSeries int
	// ErrorLogInterval limits each repeating error log (send, persist,
	// push-pull failures) to one per interval.
	ErrorLogInterval time.Duration
}

// DefaultConfig returns the documented defaults: the core's LAN profile
// (100 ms ticks, 1 s probe period) with phi accrual on, and driver bounds
// sized for clusters of up to a few thousand members.
func DefaultConfig() Config {
	core := gossip.DefaultConfig()
	core.Phi = defaultPhi(core)
	return Config{
		Core: core,
		// Several probe periods of a large cluster's traffic (a few
		// datagrams per member per period): the loop drains it in
		// microseconds per datagram.
		InboxLen:          4096,
		SocketBufferBytes: 2 << 20,
		// memberlist serves push-pulls one TCP connection each; four at
		// once covers a join retry to three seeds plus anti-entropy.
		MaxPushPullsInFlight: 4,
		MaxPushPullsServing:  16,
		// The transport's gRPC receive limit is 3 MiB plus a little; a
		// table of 16384 members with short metadata is about 1-3 MiB.
		MaxPushPullBytes: 3 << 20,
		// memberlist's TCPTimeout.
		PushPullTimeout: 10 * time.Second,
		ControlTimeout:  5 * time.Second,
		// Half a probe period: enough to answer the pings already in
		// flight with the leave; the leave itself went out at once.
		LeaveLinger:         500 * time.Millisecond,
		SubscriberBuffer:    1024,
		MaxSubscribers:      16,
		MaxDelayedDatagrams: 4096,
		MaxAddrCache:        4096,
		MaxPendingPings:     1024,
		MetricsInterval:     time.Second,
		MaxPhiSeries:        256,
		ErrorLogInterval:    10 * time.Second,
	}
}

// defaultPhi is the phi-accrual setting for a core configuration: a
// member's direct messages arrive about once per probe period (its acks to
// our probes and its own pings), so the first estimate is that period; a
// window of 100 intervals keeps a member at about 1 KB.
func defaultPhi(core gossip.Config) *detector.PhiAccrualConfig {
	p := detector.DefaultPhiAccrualConfig()
	period := time.Duration(core.ProbeIntervalTicks) * core.TickDuration
	p.WindowSize = 100
	p.FirstHeartbeatEstimate = period
	p.MinStdDev = max(period/10, time.Millisecond)
	p.AcceptablePause = period
	p.MaxInterval = max(time.Minute, 10*period)
	p.MaxNodes = core.MaxMembers
	return &p
}

// WithProbeInterval returns c with the protocol's real time scaled so
// that one probe period lasts period: the tick becomes period divided by
// Core.ProbeIntervalTicks, and every other tick count keeps its ratio to
// the period (suspicion, push-pull, reconnect); LeaveLinger becomes half
// a period, and Core.Phi, if set, is reset to the default for the new
// period. Tests and the e2e suite use it to run the LAN profile faster.
func (c Config) WithProbeInterval(period time.Duration) Config {
	c.Core.TickDuration = period / time.Duration(c.Core.ProbeIntervalTicks)
	if c.Core.Phi != nil {
		c.Core.Phi = defaultPhi(c.Core)
	}
	c.LeaveLinger = period / 2
	return c
}

// Hard limits for Validate.
const (
	minTick        = time.Millisecond
	maxTick        = time.Minute
	maxQueueLen    = 1 << 20
	maxPushPullCap = 256 << 20
)

// Validate checks every field, the core's included.
func (c *Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfigInvalid, fmt.Sprintf(format, args...))
	}
	core := c.Core
	if core.Rand == nil {
		core.Rand = placeholderRand // Validate only checks presence
	}
	if err := core.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrConfigInvalid, err)
	}
	counts := []struct {
		name string
		v    int
	}{
		{"InboxLen", c.InboxLen}, {"MaxPushPullsInFlight", c.MaxPushPullsInFlight},
		{"MaxPushPullsServing", c.MaxPushPullsServing}, {"SubscriberBuffer", c.SubscriberBuffer},
		{"MaxSubscribers", c.MaxSubscribers}, {"MaxDelayedDatagrams", c.MaxDelayedDatagrams},
		{"MaxAddrCache", c.MaxAddrCache}, {"MaxPendingPings", c.MaxPendingPings},
		{"MaxPhiSeries", c.MaxPhiSeries},
	}
	for _, q := range counts {
		if q.v < 1 || q.v > maxQueueLen {
			return bad("%s = %d, want 1..%d", q.name, q.v, maxQueueLen)
		}
	}
	durations := []struct {
		name string
		v    time.Duration
	}{
		{"PushPullTimeout", c.PushPullTimeout}, {"ControlTimeout", c.ControlTimeout},
		{"MetricsInterval", c.MetricsInterval}, {"ErrorLogInterval", c.ErrorLogInterval},
	}
	for _, d := range durations {
		if d.v <= 0 {
			return bad("%s = %v, want > 0", d.name, d.v)
		}
	}
	switch {
	case c.ListenAddr == "":
		return bad("ListenAddr must be set")
	case c.Persist == nil:
		return bad("Persist must be set: the incarnation must survive a restart")
	case core.TickDuration < minTick || core.TickDuration > maxTick:
		return bad("Core.TickDuration = %v, want %v..%v", core.TickDuration, minTick, maxTick)
	case c.SocketBufferBytes < 0:
		return bad("SocketBufferBytes = %d, want >= 0", c.SocketBufferBytes)
	case c.MaxPushPullBytes < core.MaxMessageBytes || c.MaxPushPullBytes > maxPushPullCap:
		return bad("MaxPushPullBytes = %d, want %d..%d", c.MaxPushPullBytes, core.MaxMessageBytes, maxPushPullCap)
	case c.LeaveLinger < 0:
		return bad("LeaveLinger = %v, want >= 0", c.LeaveLinger)
	case len(c.Seeds) > maxSeeds:
		return bad("%d seeds, at most %d", len(c.Seeds), maxSeeds)
	}
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		return bad("ListenAddr %q: %v", c.ListenAddr, err)
	}
	return nil
}

// maxSeeds is the core's bound on Join's seed list.
const maxSeeds = 64

// ErrConfigInvalid wraps every error of Config.Validate.
var ErrConfigInvalid = errors.New("gossipnet: invalid config")

package gossip

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/cairndb/cairn/detector"
)

// Config configures one Node. Start from DefaultConfig; set ID, Rand and,
// for a restarted node, LastIncarnation. Durations are counted in ticks:
// the driver calls Tick every TickDuration.
type Config struct {
	// ID is this node's ID; never 0.
	ID NodeID
	// Addr is the address this node advertises (opaque to the core; at
	// most MaxAddrBytes).
	Addr string
	// Meta is this node's initial metadata (at most MaxMetaBytes).
	Meta []byte
	// LastIncarnation is the highest incarnation this node used before a
	// restart, as the driver persisted it from Ready.Incarnation (0 on the
	// first start). The node starts at LastIncarnation+1, so that its alive
	// message overrides whatever the cluster remembers of its previous life.
	LastIncarnation uint64
	// Rand is the only source of randomness (probe order, helpers, gossip
	// targets); required, so that a simulation replays from its seed.
	Rand *rand.Rand
	// Logger receives rare diagnostics at debug level (dead declarations,
	// refutations); nil means slog.Default().
	Logger *slog.Logger
	// TickDuration is the real time of one tick. The core never waits; it
	// only converts ticks for the phi-accrual detector.
	TickDuration time.Duration

	// ProbeIntervalTicks is the protocol period: one member is probed per
	// period (scaled by local health).
	ProbeIntervalTicks int
	// ProbeTimeoutTicks is how long a probe waits for a direct ack before
	// asking IndirectChecks helpers (scaled by local health). It must leave
	// room in the period for the indirect round trip.
	ProbeTimeoutTicks int
	// IndirectChecks is k, the number of helpers asked to probe a member
	// that missed its direct ack; it is also the number of independent
	// suspicions that shrink a suspicion timeout to its minimum.
	IndirectChecks int
	// SuspicionMult sets the minimum suspicion timeout:
	// SuspicionMult · max(1, log10(N)) · ProbeIntervalTicks.
	SuspicionMult int
	// SuspicionMaxMult sets the maximum suspicion timeout, a multiple of
	// the minimum, at which a suspicion with no confirmation starts
	// (Lifeguard). 1 turns the dynamic timeout off (plain SWIM).
	SuspicionMaxMult int
	// MaxLocalHealth is the saturation of the local health multiplier
	// (Lifeguard's S): probe interval and timeout are scaled by up to
	// MaxLocalHealth+1. 0 turns local health awareness off.
	MaxLocalHealth int
	// Nacks makes helpers answer a failed indirect probe with a nack, so
	// that a prober missing nacks blames its own health (Lifeguard).
	Nacks bool
	// RetransmitMult is λ: each update is piggybacked on
	// RetransmitMult · ceil(log10(N+1)) messages.
	RetransmitMult int
	// GossipIntervalTicks and GossipFanout send pending updates to
	// GossipFanout random live members every GossipIntervalTicks, on top of
	// the piggyback on probes. GossipFanout 0 turns it off.
	GossipIntervalTicks int
	// GossipFanout: see GossipIntervalTicks.
	GossipFanout int
	// PushPullIntervalTicks is the period of the full-state exchange with
	// one random live member, for clusters of up to 32 members; it grows
	// with log2(N) beyond (as memberlist does) so that the cluster's total
	// push-pull traffic stays bounded.
	PushPullIntervalTicks int
	// ReconnectIntervalTicks is the period of a push-pull with one random
	// dead member: the way two sides of a healed partition, which have
	// declared each other dead and stopped probing, find each other again.
	ReconnectIntervalTicks int
	// JoinRetryTicks is how often a node that has not yet heard back from
	// any seed sends its push-pull to the seeds again.
	JoinRetryTicks int
	// DeadRetentionTicks is how long a dead or left member is remembered:
	// to reconnect to it, and to reject stale gossip that would revive it.
	DeadRetentionTicks int
	// LeaveFanout is the number of live members a leaving node sends its
	// leave to at once (it also rides on later messages).
	LeaveFanout int

	// MaxMembers bounds the membership table, this node included. A new
	// member beyond it evicts the oldest dead or left member, or, if there
	// is none, is ignored (Stats.MembersRefused).
	MaxMembers int
	// MaxMetaBytes bounds a member's metadata.
	MaxMetaBytes int
	// MaxAddrBytes bounds a member's address.
	MaxAddrBytes int
	// MaxMessageBytes bounds the encoded size of a datagram message (all
	// kinds but push-pull): piggybacked updates fill it up to this size.
	MaxMessageBytes int
	// MaxUpdatesPerMessage bounds the updates piggybacked on one datagram.
	MaxUpdatesPerMessage int
	// MaxQueuedUpdates bounds the updates waiting to be piggybacked; at
	// the bound the most retransmitted one is dropped.
	MaxQueuedUpdates int
	// MaxPendingMessages bounds the outgoing messages held until Ready; at
	// the bound new ones are dropped (Stats.MessagesDropped), as a full
	// socket buffer would.
	MaxPendingMessages int
	// MaxPendingEvents bounds the events held until Ready; at the bound
	// the oldest is dropped and Ready.EventsDropped says how many, so that
	// a subscriber knows to resynchronize from Members.
	MaxPendingEvents int
	// MaxPendingRelays bounds the indirect probes this node runs for
	// others at once; more ping-reqs are ignored.
	MaxPendingRelays int
	// MaxPushPullRepliesPerTick bounds the push-pull replies sent in one
	// tick; more push-pulls are ignored and their senders retry.
	MaxPushPullRepliesPerTick int

	// Phi, if not nil, grades each member with a phi-accrual detector fed
	// by the member's direct messages (Member.Phi). It costs
	// about 8·Phi.WindowSize bytes per member heard from.
	Phi *detector.PhiAccrualConfig
}

// DefaultConfig returns the documented defaults for a LAN with 100 ms
// ticks; the caller sets ID, Rand and LastIncarnation.
func DefaultConfig() Config {
	return Config{
		Logger:       nil,
		TickDuration: 100 * time.Millisecond,
		// One probe per second and a 500 ms direct timeout, as memberlist's
		// LAN profile: the indirect round trip gets the other half.
		ProbeIntervalTicks: 10,
		ProbeTimeoutTicks:  5,
		// Three helpers (memberlist, Lifeguard): more buys little once
		// losses are independent.
		IndirectChecks: 3,
		// 4·log10(N) periods minimum and 6× that maximum: memberlist's LAN
		// values, from the Lifeguard paper's α and β.
		SuspicionMult:    4,
		SuspicionMaxMult: 6,
		// Lifeguard's S = 8: a node that misses every ack slows to one
		// probe every 9 s instead of accusing its peers every second.
		MaxLocalHealth: 8,
		Nacks:          true,
		// λ = 4: an update rides on 4·ceil(log10(N+1)) messages, which
		// reaches every member with high probability (memberlist LAN).
		RetransmitMult: 4,
		// No separate fan-out by default: dissemination rides on probes
		// and acks, which already meets log2(N)+4 rounds in the simulator.
		GossipIntervalTicks: 2,
		GossipFanout:        0,
		// 30 s anti-entropy (memberlist LAN), and a reconnect attempt to a
		// dead member as often (serf's reconnect interval).
		PushPullIntervalTicks:  300,
		ReconnectIntervalTicks: 300,
		JoinRetryTicks:         10,
		// One hour: long enough to heal any ordinary partition by
		// reconnecting; a member gone longer must rejoin through a seed.
		DeadRetentionTicks: 36000,
		LeaveFanout:        4,
		// 16384 members at about 200 bytes each: 3 MB, and a push-pull of
		// 16384 entries with empty metadata is about 400 KB.
		MaxMembers: 16384,
		// memberlist's MetaMaxSize: room for a few addresses and a zone.
		MaxMetaBytes: 512,
		MaxAddrBytes: 256,
		// Fits one Ethernet frame after IP and UDP headers.
		MaxMessageBytes:      1400,
		MaxUpdatesPerMessage: 32,
		// Room for one update per member of a 4096-node cluster at once (a
		// mass join); beyond, push-pull carries what gossip dropped.
		MaxQueuedUpdates:          4096,
		MaxPendingMessages:        4096,
		MaxPendingEvents:          4096,
		MaxPendingRelays:          256,
		MaxPushPullRepliesPerTick: 8,
	}
}

// Hard limits checked by Validate: wider settings are a configuration
// mistake, not a bigger cluster.
const (
	maxTicksSetting    = 1 << 30
	maxIndirectChecks  = 16
	maxMultiplier      = 64
	maxMembersLimit    = 1 << 20
	maxMetaBytesLimit  = 64 << 10
	maxAddrBytesLimit  = 1 << 10
	maxMessageBytesCap = 64 << 10
	minMessageBytes    = 256
)

// Validate checks every field and the rules between fields.
func (c *Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfigInvalid, fmt.Sprintf(format, args...))
	}
	ticks := []struct {
		name string
		v    int
	}{
		{"ProbeIntervalTicks", c.ProbeIntervalTicks}, {"ProbeTimeoutTicks", c.ProbeTimeoutTicks},
		{"GossipIntervalTicks", c.GossipIntervalTicks}, {"PushPullIntervalTicks", c.PushPullIntervalTicks},
		{"ReconnectIntervalTicks", c.ReconnectIntervalTicks}, {"JoinRetryTicks", c.JoinRetryTicks},
		{"DeadRetentionTicks", c.DeadRetentionTicks},
	}
	for _, t := range ticks {
		if t.v < 1 || t.v > maxTicksSetting {
			return bad("%s = %d, want 1..%d", t.name, t.v, maxTicksSetting)
		}
	}
	switch {
	case c.ID == 0:
		return bad("ID must not be 0")
	case c.Rand == nil:
		return bad("Rand must be set (inject a seeded *rand.Rand)")
	case c.TickDuration <= 0:
		return bad("TickDuration = %v, want > 0", c.TickDuration)
	case c.ProbeTimeoutTicks >= c.ProbeIntervalTicks:
		return bad("ProbeTimeoutTicks (%d) must be below ProbeIntervalTicks (%d): the indirect probe needs the rest of the period", c.ProbeTimeoutTicks, c.ProbeIntervalTicks)
	case c.IndirectChecks < 0 || c.IndirectChecks > maxIndirectChecks:
		return bad("IndirectChecks = %d, want 0..%d", c.IndirectChecks, maxIndirectChecks)
	case c.SuspicionMult < 1 || c.SuspicionMult > maxMultiplier:
		return bad("SuspicionMult = %d, want 1..%d", c.SuspicionMult, maxMultiplier)
	case c.SuspicionMaxMult < 1 || c.SuspicionMaxMult > maxMultiplier:
		return bad("SuspicionMaxMult = %d, want 1..%d", c.SuspicionMaxMult, maxMultiplier)
	case c.MaxLocalHealth < 0 || c.MaxLocalHealth > maxMultiplier:
		return bad("MaxLocalHealth = %d, want 0..%d", c.MaxLocalHealth, maxMultiplier)
	case c.RetransmitMult < 1 || c.RetransmitMult > maxMultiplier:
		return bad("RetransmitMult = %d, want 1..%d", c.RetransmitMult, maxMultiplier)
	case c.GossipFanout < 0 || c.GossipFanout > maxIndirectChecks:
		return bad("GossipFanout = %d, want 0..%d", c.GossipFanout, maxIndirectChecks)
	case c.LeaveFanout < 1 || c.LeaveFanout > maxIndirectChecks:
		return bad("LeaveFanout = %d, want 1..%d", c.LeaveFanout, maxIndirectChecks)
	case c.MaxMembers < 2 || c.MaxMembers > maxMembersLimit:
		return bad("MaxMembers = %d, want 2..%d", c.MaxMembers, maxMembersLimit)
	case c.MaxMetaBytes < 0 || c.MaxMetaBytes > maxMetaBytesLimit:
		return bad("MaxMetaBytes = %d, want 0..%d", c.MaxMetaBytes, maxMetaBytesLimit)
	case c.MaxAddrBytes < 0 || c.MaxAddrBytes > maxAddrBytesLimit:
		return bad("MaxAddrBytes = %d, want 0..%d", c.MaxAddrBytes, maxAddrBytesLimit)
	case c.MaxMessageBytes < minMessageBytes || c.MaxMessageBytes > maxMessageBytesCap:
		return bad("MaxMessageBytes = %d, want %d..%d", c.MaxMessageBytes, minMessageBytes, maxMessageBytesCap)
	case maxUpdateBytes(c.MaxAddrBytes, c.MaxMetaBytes)+maxHeaderBytes > c.MaxMessageBytes:
		return bad("MaxMessageBytes = %d cannot hold one update with MaxAddrBytes %d and MaxMetaBytes %d (%d bytes)",
			c.MaxMessageBytes, c.MaxAddrBytes, c.MaxMetaBytes, maxUpdateBytes(c.MaxAddrBytes, c.MaxMetaBytes)+maxHeaderBytes)
	case c.MaxUpdatesPerMessage < 1 || c.MaxUpdatesPerMessage > maxDatagramUpdates:
		return bad("MaxUpdatesPerMessage = %d, want 1..%d", c.MaxUpdatesPerMessage, maxDatagramUpdates)
	case c.MaxQueuedUpdates < 1 || c.MaxPendingMessages < 1 || c.MaxPendingEvents < 1 ||
		c.MaxPendingRelays < 1 || c.MaxPushPullRepliesPerTick < 1:
		return bad("MaxQueuedUpdates, MaxPendingMessages, MaxPendingEvents, MaxPendingRelays and MaxPushPullRepliesPerTick must be >= 1")
	case len(c.Addr) > c.MaxAddrBytes:
		return bad("Addr is %d bytes, MaxAddrBytes %d", len(c.Addr), c.MaxAddrBytes)
	case len(c.Meta) > c.MaxMetaBytes:
		return bad("Meta is %d bytes, MaxMetaBytes %d", len(c.Meta), c.MaxMetaBytes)
	case c.LastIncarnation >= maxIncarnation:
		return bad("LastIncarnation = %d leaves no room to rejoin", c.LastIncarnation)
	}
	if c.Phi != nil {
		if err := c.Phi.Validate(); err != nil {
			return bad("Phi: %v", err)
		}
	}
	return nil
}

// maxIncarnation keeps incarnation arithmetic far from overflow: a node
// that refuted once per microsecond would need 290 years to reach it.
const maxIncarnation = 1 << 62

// Limits returns the decoding limits that match the configuration.
func (c *Config) Limits() Limits {
	return Limits{
		MaxDatagramUpdates: c.MaxUpdatesPerMessage,
		MaxStreamUpdates:   c.MaxMembers,
		MaxAddrBytes:       c.MaxAddrBytes,
		MaxMetaBytes:       c.MaxMetaBytes,
	}
}

package coord

import (
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/cairndb/cairn/clock"
	"github.com/cairndb/cairn/eventual/merkle"
	"github.com/cairndb/cairn/eventual/replica"
	"github.com/cairndb/cairn/ring"
	"github.com/prometheus/client_golang/prometheus"
)

// Membership is the coordinator's view of the cluster: the ring that places
// keys, and which nodes are alive (from gossip). Both may change at any
// time; the coordinator reads them on every request.
type Membership interface {
	// Ring returns the current ring, whose node IDs are NodeID(id).
	Ring() *ring.Ring
	// Alive reports whether the node is believed up.
	Alive(id uint64) bool
}

// NodeID is the ring's name for the node with member id: its hex form.
func NodeID(id uint64) ring.NodeID { return ring.NodeID(strconv.FormatUint(id, 16)) }

// ParseNodeID is the inverse of NodeID.
func ParseNodeID(n ring.NodeID) (uint64, error) { return strconv.ParseUint(string(n), 16, 64) }

// Sender sends a frame to a peer on the eventual channel; a
// *transport.Transport is one. Send returns false if the frame was dropped.
type Sender interface {
	Send(to uint64, frame []byte) bool
}

// Config configures a Coordinator.
type Config struct {
	// LocalID is this node's member id.
	LocalID uint64
	// Store is this node's replica store.
	Store *replica.Store
	// Sender carries frames to peers; the Coordinator is the Handler of
	// the same transport (HandleFrames).
	Sender Sender
	// Clock is the node's hybrid logical clock; it bounds how far a peer's
	// clock may lead (its max offset).
	Clock *clock.HLC
	// Membership gives the ring and liveness.
	Membership Membership
	// Replicas is N, the copies of each key (default 3; fewer if the ring
	// has fewer nodes).
	Replicas int
	// RequestTimeout bounds a request to a replica (default 2s, as
	// Cassandra's write timeout).
	RequestTimeout time.Duration
	// MaxInFlight bounds the peer requests served at once (default 4096);
	// beyond it requests are dropped and their senders time out.
	MaxInFlight int
	// HintReplayInterval is how often hints are offered to their targets
	// (default 1s); MaxHintAge is how old a hint may grow before it is
	// dropped and anti-entropy is left to repair (default 3h, Cassandra's
	// max_hint_window).
	HintReplayInterval time.Duration
	MaxHintAge         time.Duration
	// ReadRepairChance is the fraction of reads that ask every live replica
	// rather than R, so that reads also repair the replicas they did not
	// need (Cassandra's read_repair_chance). Default 0.1; negative for
	// never, 1 for always.
	ReadRepairChance float64
	// Trees are the anti-entropy trees the Store reports its writes to
	// (NewTrees, given as the store's Observer); nil turns anti-entropy
	// off.
	Trees *Trees
	// AntiEntropyInterval is the time for one pass of anti-entropy over
	// every arc this node replicates (default 5 minutes): each arc is
	// compared with one of its other replicas per pass.
	AntiEntropyInterval time.Duration
	// Exchange bounds the Merkle exchanges; keep it cluster-wide (default
	// merkle.DefaultExchangeConfig()).
	Exchange merkle.ExchangeConfig
	// TombstoneGrace is how long a key must have been seen deleted before
	// its tombstone may be collected (default 4h; it must exceed
	// MaxHintAge); TombstoneInterval how often a node looks (default 10m).
	TombstoneGrace, TombstoneInterval time.Duration
	// PaxosTick is the Paxos proposer's tick (default 20ms): a phase
	// waits 5 ticks for a majority, an operation at most 240 (see
	// paxos.Config).
	PaxosTick time.Duration
	// DisablePaxos turns the compare-and-set path off.
	DisablePaxos bool
	// NewCluster says this node bootstraps a new cluster, so a store that
	// never recorded its Paxos acceptor ranges may answer for its first
	// ring's ranges at once: no acceptor answered for them before. Any
	// other new store (a member that joined, or one wiped and added back)
	// first catches up on the ranges' acceptor states from the other
	// replicas (see recovery.go).
	NewCluster bool
	// Logger receives logs; nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives metrics; nil means not registered.
	Registerer prometheus.Registerer
}

func (c *Config) setDefaults() error {
	if c.LocalID == 0 || c.Store == nil || c.Sender == nil || c.Clock == nil || c.Membership == nil {
		return errors.New("eventual: Config needs LocalID, Store, Sender, Clock and Membership")
	}
	if c.Replicas <= 0 {
		c.Replicas = 3
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 2 * time.Second
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 4096
	}
	if c.HintReplayInterval <= 0 {
		c.HintReplayInterval = time.Second
	}
	if c.MaxHintAge <= 0 {
		c.MaxHintAge = 3 * time.Hour
	}
	if c.ReadRepairChance == 0 {
		c.ReadRepairChance = 0.1
	}
	if c.AntiEntropyInterval <= 0 {
		c.AntiEntropyInterval = 5 * time.Minute
	}
	if c.Exchange == (merkle.ExchangeConfig{}) {
		c.Exchange = merkle.DefaultExchangeConfig()
	}
	if c.TombstoneGrace <= 0 {
		c.TombstoneGrace = 4 * time.Hour
	}
	if c.TombstoneInterval <= 0 {
		c.TombstoneInterval = 10 * time.Minute
	}
	if c.TombstoneGrace <= c.MaxHintAge {
		return errors.New("eventual: TombstoneGrace must exceed MaxHintAge: a hint older than a collected tombstone could resurrect what it removed")
	}
	if c.PaxosTick <= 0 {
		c.PaxosTick = 20 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

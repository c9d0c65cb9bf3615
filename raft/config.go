package raft

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
)

// ReadOnlyOption selects how linearizable reads are served.
type ReadOnlyOption uint8

const (
	// ReadOnlySafe confirms leadership with a heartbeat round to a quorum
	// for every batch of read requests (thesis §6.4). Always linearizable.
	ReadOnlySafe ReadOnlyOption = iota + 1
	// ReadOnlyLeaseBased serves reads without a round trip while the leader
	// holds a lease: a quorum acknowledged a heartbeat sent at most
	// ElectionTick-2-LeaseDriftTicks ticks ago. It relies on bounded clock
	// drift between nodes (see doc.go) and requires CheckQuorum. When the
	// lease has lapsed, reads fall back to ReadOnlySafe.
	ReadOnlyLeaseBased
)

// String returns the option's name.
func (o ReadOnlyOption) String() string {
	switch o {
	case ReadOnlySafe:
		return "ReadOnlySafe"
	case ReadOnlyLeaseBased:
		return "ReadOnlyLeaseBased"
	}
	return fmt.Sprintf("ReadOnlyOption(%d)", uint8(o))
}

// Config configures one Raft node. Start from DefaultConfig.
type Config struct {
	// ID is this node's ID; never 0.
	ID uint64
	// ElectionTick is the number of ticks without hearing from a leader
	// after which a follower campaigns. The actual timeout is randomized in
	// [ElectionTick, 2*ElectionTick) (paper §5.2).
	ElectionTick int
	// HeartbeatTick is the number of ticks between leader heartbeats. It
	// must be well below ElectionTick.
	HeartbeatTick int
	// Storage is the stable log; Raft reads it, the application writes it.
	Storage Storage
	// Applied is the last index the application had applied before a
	// restart; committed entries after it are handed out again.
	Applied uint64
	// MaxSizePerMsg bounds the bytes of entries in one append message (at
	// least one entry is always sent).
	MaxSizePerMsg uint64
	// MaxCommittedSizePerReady bounds the bytes of committed entries in one
	// Ready (at least one entry is always handed out).
	MaxCommittedSizePerReady uint64
	// MaxUncommittedEntriesSize bounds the payload bytes of entries a leader
	// has appended but not committed; proposals over it are dropped.
	MaxUncommittedEntriesSize uint64
	// MaxInflightMsgs bounds the append messages in flight per follower.
	MaxInflightMsgs int
	// MaxInflightBytes bounds the entry bytes in flight per follower.
	MaxInflightBytes uint64
	// CheckQuorum makes a leader step down when it has not heard from a
	// quorum for an election timeout, and makes followers ignore vote
	// requests while they hear from a leader.
	CheckQuorum bool
	// PreVote runs a pre-election that changes no state before a real
	// election, so a partitioned node rejoining does not disrupt the
	// cluster with its inflated term (thesis §9.6).
	PreVote bool
	// ReadOnlyOption selects ReadIndex or lease reads.
	ReadOnlyOption ReadOnlyOption
	// LeaseDriftTicks is the clock drift allowance, in ticks, subtracted
	// from the lease (ReadOnlyLeaseBased only; must be at least 1).
	LeaseDriftTicks int
	// AsyncStorageWrites lets the application keep several Readys
	// outstanding and acknowledge their persistence and application
	// separately (RawNode.AckPersisted, RawNode.AckApplied).
	AsyncStorageWrites bool
	// Rand is the source of election timeout randomness. It is required, so
	// that a simulation is deterministic from one seed.
	Rand *rand.Rand
	// Logger receives diagnostics; required (use slog.New(slog.DiscardHandler)
	// to silence).
	Logger *slog.Logger
}

// DefaultConfig returns a config with the documented defaults; the caller
// sets ID, Storage, Rand and, if wanted, Logger.
func DefaultConfig() Config {
	return Config{
		// 10 ticks of 100ms: a 1s election timeout, as etcd.
		ElectionTick: 10,
		// A heartbeat every tick: 10 chances per election timeout.
		HeartbeatTick: 1,
		// 1 MiB per append message: large enough to batch, small enough not
		// to stall heartbeats behind it.
		MaxSizePerMsg: 1 << 20,
		// 16 MiB of committed entries per Ready bounds apply latency.
		MaxCommittedSizePerReady: 16 << 20,
		// 64 MiB of uncommitted payload: back-pressure instead of growing
		// the leader's log without bound when followers are slow.
		MaxUncommittedEntriesSize: 64 << 20,
		// 256 messages or 32 MiB in flight per follower.
		MaxInflightMsgs:  256,
		MaxInflightBytes: 32 << 20,
		CheckQuorum:      true,
		PreVote:          true,
		ReadOnlyOption:   ReadOnlySafe,
		// One tick covers tick granularity; see doc.go for larger drifts.
		LeaseDriftTicks: 1,
		Logger:          slog.New(slog.DiscardHandler),
	}
}

// Validate checks every field and the rules between fields.
func (c *Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfigInvalid, fmt.Sprintf(format, args...))
	}
	switch {
	case c.ID == None:
		return bad("ID must not be 0")
	case c.HeartbeatTick <= 0:
		return bad("HeartbeatTick must be positive, got %d", c.HeartbeatTick)
	case c.ElectionTick <= c.HeartbeatTick:
		return bad("ElectionTick (%d) must be greater than HeartbeatTick (%d)", c.ElectionTick, c.HeartbeatTick)
	case c.Storage == nil:
		return bad("Storage must be set")
	case c.MaxSizePerMsg == 0:
		return bad("MaxSizePerMsg must be positive")
	case c.MaxCommittedSizePerReady == 0:
		return bad("MaxCommittedSizePerReady must be positive")
	case c.MaxUncommittedEntriesSize == 0:
		return bad("MaxUncommittedEntriesSize must be positive")
	case c.MaxInflightMsgs <= 0:
		return bad("MaxInflightMsgs must be positive, got %d", c.MaxInflightMsgs)
	case c.MaxInflightBytes == 0:
		return bad("MaxInflightBytes must be positive")
	case c.MaxInflightBytes < c.MaxSizePerMsg:
		return bad("MaxInflightBytes (%d) must be at least MaxSizePerMsg (%d)", c.MaxInflightBytes, c.MaxSizePerMsg)
	case c.ReadOnlyOption != ReadOnlySafe && c.ReadOnlyOption != ReadOnlyLeaseBased:
		return bad("ReadOnlyOption must be ReadOnlySafe or ReadOnlyLeaseBased, got %s", c.ReadOnlyOption)
	case c.Rand == nil:
		return bad("Rand must be set (inject a seeded *rand.Rand)")
	case c.Logger == nil:
		return bad("Logger must be set")
	}
	if c.ReadOnlyOption == ReadOnlyLeaseBased {
		if !c.CheckQuorum {
			return bad("ReadOnlyLeaseBased requires CheckQuorum: without it a deposed leader cannot know its lease ended")
		}
		if c.LeaseDriftTicks < 1 {
			return bad("LeaseDriftTicks must be at least 1, got %d", c.LeaseDriftTicks)
		}
		if c.leaseTicks() < 1 {
			return bad("lease of ElectionTick(%d)-2-LeaseDriftTicks(%d) ticks is empty", c.ElectionTick, c.LeaseDriftTicks)
		}
	}
	return nil
}

// leaseTicks is how many ticks after the send of a quorum-acknowledged
// heartbeat the leader may still serve lease reads.
func (c *Config) leaseTicks() int { return c.ElectionTick - 2 - c.LeaseDriftTicks }

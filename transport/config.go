package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/credentials"

	"github.com/cairndb/cairn/breaker"
)

// Config configures a Transport. Start from DefaultConfig and set LocalID,
// ClusterID and Handler. Every node of a cluster should use the same
// bounds: a receiver refuses a message larger than its own limits allow.
type Config struct {
	// LocalID is this node's id; ClusterID the cluster's. Both non-zero.
	// A stream is accepted only from a node that names the same cluster
	// and addresses this node by LocalID.
	LocalID, ClusterID uint64
	// Handler receives frames and snapshots from peers.
	Handler Handler
	// Channel names the transport's gRPC service: transports with distinct
	// channels register distinct services on one server and never see
	// each other's frames ("" is the Raft transport; the eventual tier
	// uses "eventual"). Both ends of a link must use the same channel.
	// Each channel has its own connections, queues and breakers, so heavy
	// traffic on one does not stall the other. Give each transport its
	// own Registerer labels (prometheus.WrapRegistererWith): the metric
	// names are the same.
	Channel string
	// Logger receives connection, breaker and drop logs; nil means
	// slog.Default().
	Logger *slog.Logger
	// Registerer receives the metrics; nil means they are not registered.
	Registerer prometheus.Registerer
	// Faults, if not nil, is consulted on every frame and snapshot; nil
	// (the default) costs one nil check per frame.
	Faults *Faults
	// Credentials secure the peer connections (on both sides, see
	// ServerOptions); nil means plaintext.
	Credentials credentials.TransportCredentials

	// QueueLen is the number of frames queued per peer; QueueBytes the
	// bytes. Send drops a frame that does not fit.
	QueueLen   int
	QueueBytes int
	// MaxFrameBytes is the largest frame Send accepts (and the largest
	// snapshot header). Larger state belongs in a snapshot.
	MaxFrameBytes int
	// MaxBatchFrames and MaxBatchBytes bound one stream message: the
	// sender takes queued frames until either bound is reached. A frame
	// larger than MaxBatchBytes goes alone.
	MaxBatchFrames int
	MaxBatchBytes  int
	// DialTimeout bounds one connection attempt, handshake included.
	DialTimeout time.Duration
	// SendTimeout bounds the write of one stream message (a batch or a
	// snapshot chunk): a peer that does not take it in time has its
	// stream cut and counted as a failure.
	SendTimeout time.Duration
	// BackoffMin and BackoffMax bound the wait between connection
	// attempts, which doubles from BackoffMin after each failure; each
	// wait is shortened by a random fraction of at most BackoffJitter.
	BackoffMin, BackoffMax time.Duration
	BackoffJitter          float64
	// KeepaliveInterval is how long a connection may be silent before
	// the client pings; KeepaliveTimeout how long it waits for the ack
	// before it declares the connection dead.
	KeepaliveInterval, KeepaliveTimeout time.Duration
	// SnapshotChunkBytes is the body size of one snapshot message.
	SnapshotChunkBytes int
	// MaxSnapshotsInFlight bounds concurrent snapshots, separately for
	// those sent (SendSnapshot waits) and those received (the excess is
	// refused with codes.ResourceExhausted).
	MaxSnapshotsInFlight int
	// LogInterval is the least time between two logs of the same
	// repeating event for one peer (a failed reconnect, a full queue).
	LogInterval time.Duration
	// Breaker configures each peer's circuit breaker. Its OnStateChange
	// is called after the transport's own handling. ProbeTimeout must
	// exceed DialTimeout and SendTimeout.
	Breaker breaker.Config
}

// Limits checked by Validate.
const (
	maxQueueLen       = 1 << 20
	maxQueueBytes     = 1 << 34
	maxMessageLimit   = 64 << 20
	maxBatchFrameLim  = 1 << 16
	maxTimeout        = 10 * time.Minute
	minTimeout        = time.Millisecond
	minKeepalive      = 10 * time.Second // gRPC raises shorter client intervals to 10 s
	maxKeepalive      = time.Hour
	maxSnapshotsLimit = 64
)

// DefaultConfig returns the defaults, with LocalID, ClusterID and Handler
// left for the caller:
//   - QueueLen 4096 frames and QueueBytes 64 MiB per peer: at a few
//     thousand Raft messages per second this is about a second of
//     traffic, enough to ride out a reconnect, and the byte bound caps
//     the memory a dead peer can pin at 64 MiB;
//   - MaxFrameBytes 3 MiB: a Raft append carrying one maximal etcd
//     request (1.5 MiB) fits with room, and a message stays under
//     gRPC's default 4 MiB receive limit, so a server that forgets
//     ServerOptions still works;
//   - MaxBatchFrames 1024 and MaxBatchBytes 1 MiB: big enough that a
//     busy link sends few large messages, small enough that one message
//     does not hold a connection for long (1 MiB is ~1 ms at 10 Gb/s);
//   - DialTimeout 2 s: several round trips on any network a cluster
//     should span; SendTimeout 5 s: a peer that takes no data for 5 s is
//     stuck (a Raft election timeout is ~1 s);
//   - BackoffMin 50 ms doubling to BackoffMax 5 s, with BackoffJitter
//     0.5: quick recovery from a restart, at most one attempt per few
//     seconds against a dead peer, and peers that lost the same node do
//     not reconnect in lockstep;
//   - KeepaliveInterval 10 s and KeepaliveTimeout 5 s: a silently dead
//     connection is found within 15 s;
//   - SnapshotChunkBytes 1 MiB and MaxSnapshotsInFlight 4;
//   - LogInterval 10 s;
//   - Breaker breaker.DefaultConfig() (ProbeTimeout 10 s exceeds both
//     timeouts).
func DefaultConfig() Config {
	return Config{
		QueueLen:             4096,
		QueueBytes:           64 << 20,
		MaxFrameBytes:        3 << 20,
		MaxBatchFrames:       1024,
		MaxBatchBytes:        1 << 20,
		DialTimeout:          2 * time.Second,
		SendTimeout:          5 * time.Second,
		BackoffMin:           50 * time.Millisecond,
		BackoffMax:           5 * time.Second,
		BackoffJitter:        0.5,
		KeepaliveInterval:    10 * time.Second,
		KeepaliveTimeout:     5 * time.Second,
		SnapshotChunkBytes:   1 << 20,
		MaxSnapshotsInFlight: 4,
		LogInterval:          10 * time.Second,
		Breaker:              breaker.DefaultConfig(),
	}
}

// Validate reports the first field out of range, or rule between fields
// broken.
func (c Config) Validate() error {
	switch {
	case c.LocalID == 0:
		return errors.New("transport: LocalID is 0")
	case c.ClusterID == 0:
		return errors.New("transport: ClusterID is 0")
	case c.Handler == nil:
		return errors.New("transport: Handler is nil")
	case !validChannel(c.Channel):
		return fmt.Errorf("transport: Channel %q is not [a-z0-9_]*", c.Channel)
	case c.QueueLen < 1 || c.QueueLen > maxQueueLen:
		return fmt.Errorf("transport: QueueLen %d out of range [1, %d]", c.QueueLen, maxQueueLen)
	case c.MaxFrameBytes < 1 || c.MaxFrameBytes > maxMessageLimit:
		return fmt.Errorf("transport: MaxFrameBytes %d out of range [1, %d]", c.MaxFrameBytes, maxMessageLimit)
	case c.QueueBytes < c.MaxFrameBytes || c.QueueBytes > maxQueueBytes:
		return fmt.Errorf("transport: QueueBytes %d out of range [MaxFrameBytes %d, %d]", c.QueueBytes, c.MaxFrameBytes, maxQueueBytes)
	case c.MaxBatchFrames < 1 || c.MaxBatchFrames > maxBatchFrameLim:
		return fmt.Errorf("transport: MaxBatchFrames %d out of range [1, %d]", c.MaxBatchFrames, maxBatchFrameLim)
	case c.MaxBatchBytes < 1 || c.MaxBatchBytes > maxMessageLimit:
		return fmt.Errorf("transport: MaxBatchBytes %d out of range [1, %d]", c.MaxBatchBytes, maxMessageLimit)
	case c.DialTimeout < minTimeout || c.DialTimeout > maxTimeout:
		return fmt.Errorf("transport: DialTimeout %v out of range [%v, %v]", c.DialTimeout, minTimeout, maxTimeout)
	case c.SendTimeout < minTimeout || c.SendTimeout > maxTimeout:
		return fmt.Errorf("transport: SendTimeout %v out of range [%v, %v]", c.SendTimeout, minTimeout, maxTimeout)
	case c.BackoffMax < minTimeout || c.BackoffMax > maxTimeout:
		return fmt.Errorf("transport: BackoffMax %v out of range [%v, %v]", c.BackoffMax, minTimeout, maxTimeout)
	case c.BackoffMin < minTimeout || c.BackoffMin > c.BackoffMax:
		return fmt.Errorf("transport: BackoffMin %v out of range [%v, BackoffMax %v]", c.BackoffMin, minTimeout, c.BackoffMax)
	case math.IsNaN(c.BackoffJitter) || c.BackoffJitter < 0 || c.BackoffJitter > 1:
		return fmt.Errorf("transport: BackoffJitter %v out of range [0, 1]", c.BackoffJitter)
	case c.KeepaliveInterval < minKeepalive || c.KeepaliveInterval > maxKeepalive:
		return fmt.Errorf("transport: KeepaliveInterval %v out of range [%v, %v]", c.KeepaliveInterval, minKeepalive, maxKeepalive)
	case c.KeepaliveTimeout < minTimeout || c.KeepaliveTimeout > maxKeepalive:
		return fmt.Errorf("transport: KeepaliveTimeout %v out of range [%v, %v]", c.KeepaliveTimeout, minTimeout, maxKeepalive)
	case c.SnapshotChunkBytes < 1 || c.SnapshotChunkBytes > maxMessageLimit:
		return fmt.Errorf("transport: SnapshotChunkBytes %d out of range [1, %d]", c.SnapshotChunkBytes, maxMessageLimit)
	case c.MaxSnapshotsInFlight < 1 || c.MaxSnapshotsInFlight > maxSnapshotsLimit:
		return fmt.Errorf("transport: MaxSnapshotsInFlight %d out of range [1, %d]", c.MaxSnapshotsInFlight, maxSnapshotsLimit)
	case c.LogInterval < minTimeout || c.LogInterval > maxKeepalive:
		return fmt.Errorf("transport: LogInterval %v out of range [%v, %v]", c.LogInterval, minTimeout, maxKeepalive)
	}
	if err := c.Breaker.Validate(); err != nil {
		return fmt.Errorf("transport: Breaker: %w", err)
	}
	if c.Breaker.ProbeTimeout <= max(c.DialTimeout, c.SendTimeout) {
		return fmt.Errorf("transport: Breaker.ProbeTimeout %v must exceed DialTimeout %v and SendTimeout %v, or slow successes count as failures",
			c.Breaker.ProbeTimeout, c.DialTimeout, c.SendTimeout)
	}
	return nil
}

// maxMessageBytes is the largest gRPC message the transport sends: a batch
// (its frames' encoded bytes plus the count), a lone frame of
// MaxFrameBytes, or a snapshot message (one kind byte and a chunk or
// header).
func (c Config) maxMessageBytes() int {
	const varints = 2 * binary.MaxVarintLen64
	return max(c.MaxBatchBytes, c.MaxFrameBytes, c.SnapshotChunkBytes) + varints
}

// validChannel reports whether ch can end a gRPC service name.
func validChannel(ch string) bool {
	for _, r := range ch {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return len(ch) <= 64
}

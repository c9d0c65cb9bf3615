package merkle

import "fmt"

// Config sets the shape of a tree. Every replica of a range must use the
// same Config: trees of different depths cannot be compared (an exchange
// between them fails with a *MismatchError).
type Config struct {
	// Depth sets the number of leaves, 2^Depth. A deeper tree finds
	// differences in narrower ranges (less data streamed per difference)
	// but costs more memory (about 56 bytes a leaf, see Tree.MemoryBytes),
	// a longer rebuild, and one more round trip per exchange. A range
	// narrower than 2^Depth hashes gets fewer leaves (see Tree.Depth). It
	// must be in [0, MaxDepth].
	Depth int
}

const (
	// DefaultDepth is the default Config.Depth: 1024 leaves, 56 KiB a
	// tree. A node holding 768 ring arcs (256 vnodes, 3 replicas) keeps
	// 42 MiB of trees; with 10 million keys on 10 such nodes, an arc holds
	// about 4000 keys, 4 a leaf, so one differing key costs streaming
	// about 4 keys. Raise it for larger arcs (Cassandra goes up to 2^15
	// leaves a range, then hashes more keys a leaf), lower it for more arcs.
	DefaultDepth = 10
	// MaxDepth is the largest Config.Depth: 2^20 leaves, 56 MiB a tree.
	// Past it one tree is too large to keep per range or to rebuild often.
	MaxDepth = 20
)

// DefaultConfig returns Config{Depth: DefaultDepth}.
func DefaultConfig() Config { return Config{Depth: DefaultDepth} }

// Validate reports whether c is usable.
func (c Config) Validate() error {
	if c.Depth < 0 || c.Depth > MaxDepth {
		return fmt.Errorf("%w: Depth = %d, want 0..%d", ErrInvalidConfig, c.Depth, MaxDepth)
	}
	return nil
}

// ExchangeConfig bounds the diff protocol between two replicas. The
// initiator's MaxNodesPerRequest must not exceed the responder's, or the
// responder refuses its requests (ErrRefused): keep one ExchangeConfig
// cluster-wide.
type ExchangeConfig struct {
	// MaxNodesPerRequest bounds the nodes one request names, and so the
	// size of a request (RequestBytes) and of its reply (ReplyBytes). A
	// level with more differing nodes takes several requests. A responder
	// refuses a larger request. It must be in [1, MaxMessageNodes].
	MaxNodesPerRequest int
	// MaxInFlight bounds the requests an initiator has sent and not yet
	// had answered; further requests wait for replies. It must be >= 1.
	MaxInFlight int
	// MaxRanges bounds the ranges a Session reports and the nodes it holds
	// to descend into. When descending into both children of a node would
	// exceed it, the session reports the node's whole range instead
	// (Stats.Truncated): the result still covers every difference, in
	// coarser ranges, and the caller streams more data. It must be >= 1.
	MaxRanges int
	// RetryTicks is the number of Session.Tick calls after which an
	// unanswered request is sent again. It must be >= 1.
	RetryTicks int
	// MaxRetries is the number of times one request is sent again before
	// the session ends with ErrTimeout. It must be >= 0.
	MaxRetries int
}

const (
	// MaxMessageNodes is the largest ExchangeConfig.MaxNodesPerRequest and
	// the most nodes a decoder accepts in one message: a reply of at most
	// 528 KiB (ReplyBytes), under the transport's 3 MiB frame.
	MaxMessageNodes = 1 << 14
	// DefaultMaxNodesPerRequest is the default
	// ExchangeConfig.MaxNodesPerRequest: requests up to 10 KiB, replies up
	// to 17 KiB, so that an exchange shares the peer stream with Raft and
	// replication traffic in small pieces.
	DefaultMaxNodesPerRequest = 512
	// DefaultMaxInFlight is the default ExchangeConfig.MaxInFlight: four
	// requests in flight hide most of a round trip per level when a level
	// needs several requests, and bound the responder's work queued for
	// one session to four requests.
	DefaultMaxInFlight = 4
	// DefaultMaxRanges is the default ExchangeConfig.MaxRanges: 4096
	// ranges, every leaf of a depth-12 tree. Past it the differences are so
	// many that streaming whole subtrees costs little more than finding
	// them leaf by leaf.
	DefaultMaxRanges = 4096
	// DefaultRetryTicks is the default ExchangeConfig.RetryTicks: with the
	// anti-entropy driver ticking every 100 ms, a request is resent after
	// one second.
	DefaultRetryTicks = 10
	// DefaultMaxRetries is the default ExchangeConfig.MaxRetries: a lost
	// frame is resent three times before the exchange gives up (it runs
	// again at the next anti-entropy period).
	DefaultMaxRetries = 3
)

// DefaultExchangeConfig returns the recommended bounds.
func DefaultExchangeConfig() ExchangeConfig {
	return ExchangeConfig{
		MaxNodesPerRequest: DefaultMaxNodesPerRequest,
		MaxInFlight:        DefaultMaxInFlight,
		MaxRanges:          DefaultMaxRanges,
		RetryTicks:         DefaultRetryTicks,
		MaxRetries:         DefaultMaxRetries,
	}
}

// Validate reports whether c is usable. A zero field is an error, never
// "unlimited" or "default" (MaxRetries may be 0: never resend).
func (c ExchangeConfig) Validate() error {
	switch {
	case c.MaxNodesPerRequest < 1 || c.MaxNodesPerRequest > MaxMessageNodes:
		return fmt.Errorf("%w: MaxNodesPerRequest = %d, want 1..%d", ErrInvalidConfig, c.MaxNodesPerRequest, MaxMessageNodes)
	case c.MaxInFlight < 1:
		return fmt.Errorf("%w: MaxInFlight = %d, want >= 1", ErrInvalidConfig, c.MaxInFlight)
	case c.MaxRanges < 1:
		return fmt.Errorf("%w: MaxRanges = %d, want >= 1", ErrInvalidConfig, c.MaxRanges)
	case c.RetryTicks < 1:
		return fmt.Errorf("%w: RetryTicks = %d, want >= 1", ErrInvalidConfig, c.RetryTicks)
	case c.MaxRetries < 0:
		return fmt.Errorf("%w: MaxRetries = %d, want >= 0", ErrInvalidConfig, c.MaxRetries)
	}
	return nil
}

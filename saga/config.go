package saga

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ClientConfig configures a Client (and the client inside an Executor).
type ClientConfig struct {
	// Prefix is the key prefix of the saga log; it must end in '/'.
	// Clients and executors that share sagas must share the prefix.
	// Default "/cairn/saga/".
	Prefix string
	// MaxInputBytes bounds a saga's input payload; Start refuses a larger
	// one with ErrTooLarge. Default 256 KiB; at most 1 MiB, so that the
	// Txn that creates a saga stays below the strong tier's 1.5 MiB
	// request bound with room for the records around it.
	MaxInputBytes int
	// RequestTimeout bounds each request to the cluster. Default 5 s.
	RequestTimeout time.Duration
	// ListPageSize is how many keys one range request of List or of a
	// recovery scan reads. Default 256.
	ListPageSize int
}

// Defaults of ClientConfig.
const (
	DefaultPrefix         = "/cairn/saga/"
	DefaultMaxInputBytes  = 256 << 10
	DefaultRequestTimeout = 5 * time.Second
	DefaultListPageSize   = 256
	maxPayloadBytes       = 1 << 20
)

// DefaultClientConfig returns the defaults above.
func DefaultClientConfig() ClientConfig {
	return ClientConfig{
		Prefix:         DefaultPrefix,
		MaxInputBytes:  DefaultMaxInputBytes,
		RequestTimeout: DefaultRequestTimeout,
		ListPageSize:   DefaultListPageSize,
	}
}

// Validate checks the bounds.
func (c *ClientConfig) Validate() error {
	switch {
	case c.Prefix == "" || !strings.HasSuffix(c.Prefix, "/"):
		return fmt.Errorf("%w: Prefix %q must be non-empty and end in '/'", ErrInvalid, c.Prefix)
	case c.MaxInputBytes < 1 || c.MaxInputBytes > maxPayloadBytes:
		return fmt.Errorf("%w: MaxInputBytes %d outside [1, %d]", ErrInvalid, c.MaxInputBytes, maxPayloadBytes)
	case c.RequestTimeout <= 0:
		return fmt.Errorf("%w: RequestTimeout must be positive", ErrInvalid)
	case c.ListPageSize < 1 || c.ListPageSize > 10000:
		return fmt.Errorf("%w: ListPageSize %d outside [1, 10000]", ErrInvalid, c.ListPageSize)
	}
	return nil
}

// ExecutorConfig configures an Executor.
type ExecutorConfig struct {
	ClientConfig

	// ID names the executor in logs, metrics and the saga log; it must be
	// unique among live executors. Default: host-pid-random.
	ID string
	// LeaseTTL is the TTL of the executor's lease, rounded up to whole
	// seconds. It is how long a crashed executor's sagas wait before
	// another executor takes them over, and how long a partitioned
	// executor may keep calling step functions before it learns it lost
	// them (its log writes are fenced at once). Default 10 s; between 1 s
	// and 1 h. The cluster may raise it to its minimum TTL.
	LeaseTTL time.Duration
	// ScanInterval is the period of the recovery scan, the backstop of the
	// watches that notice new and orphaned sagas at once. Default 10 s.
	ScanInterval time.Duration
	// MaxConcurrent bounds the sagas this executor runs at once. At the
	// bound it claims no more (other executors, or its own next scan, take
	// them) and Submit fails with ErrBusy. Default 64.
	MaxConcurrent int
	// MaxSteps bounds the steps of a definition; Register refuses more.
	// Default 64; at most 1000.
	MaxSteps int
	// MaxOutputBytes bounds an action's output. A larger output fails the
	// step as uncertain (it ran, so it is compensated). Default 64 KiB; at
	// most 1 MiB.
	MaxOutputBytes int
	// MaxErrorBytes bounds the error text kept in the log; longer errors
	// are truncated. Default 2 KiB; at most 64 KiB.
	MaxErrorBytes int
	// StepTimeout bounds one attempt of a step call unless the definition
	// says otherwise. Default 30 s.
	StepTimeout time.Duration
	// ActionRetry is the default retry policy of actions.
	// Default: 5 attempts, 200 ms doubling to 10 s, jitter 0.5.
	ActionRetry RetryPolicy
	// CompensationRetry is the default retry policy of compensations.
	// Default: 10 attempts, 200 ms doubling to 30 s, jitter 0.5.
	CompensationRetry RetryPolicy
	// LogWriteAttempts bounds the tries of one log write that fails for a
	// transient reason (no leader, timeout); past it the executor lets the
	// saga go and picks it up again on a later scan. Default 5.
	LogWriteAttempts int
	// Registerer receives the cairn_saga_* metrics; nil registers none.
	Registerer prometheus.Registerer
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger
	// CrashHook, if set, is asked at every crash point (CrashPoint); when
	// it returns true the executor stops dead there, as a crashed process
	// would: no further log write, no lease revoke, no cleanup. For tests
	// and demonstrations; a hook may also end the process itself.
	CrashHook func(CrashPoint) bool
}

// Defaults of ExecutorConfig.
const (
	DefaultLeaseTTL         = 10 * time.Second
	DefaultScanInterval     = 10 * time.Second
	DefaultMaxConcurrent    = 64
	DefaultMaxSteps         = 64
	DefaultMaxOutputBytes   = 64 << 10
	DefaultMaxErrorBytes    = 2 << 10
	DefaultStepTimeout      = 30 * time.Second
	DefaultLogWriteAttempts = 5
)

// DefaultExecutorConfig returns the defaults above.
func DefaultExecutorConfig() ExecutorConfig {
	return ExecutorConfig{
		ClientConfig:      DefaultClientConfig(),
		LeaseTTL:          DefaultLeaseTTL,
		ScanInterval:      DefaultScanInterval,
		MaxConcurrent:     DefaultMaxConcurrent,
		MaxSteps:          DefaultMaxSteps,
		MaxOutputBytes:    DefaultMaxOutputBytes,
		MaxErrorBytes:     DefaultMaxErrorBytes,
		StepTimeout:       DefaultStepTimeout,
		ActionRetry:       RetryPolicy{MaxAttempts: 5, InitialBackoff: 200 * time.Millisecond, MaxBackoff: 10 * time.Second, Multiplier: 2, Jitter: 0.5},
		CompensationRetry: RetryPolicy{MaxAttempts: 10, InitialBackoff: 200 * time.Millisecond, MaxBackoff: 30 * time.Second, Multiplier: 2, Jitter: 0.5},
		LogWriteAttempts:  DefaultLogWriteAttempts,
	}
}

// Validate checks each bound and the rules between fields.
func (c *ExecutorConfig) Validate() error {
	if err := c.ClientConfig.Validate(); err != nil {
		return err
	}
	switch {
	case c.ID != "" && validID(c.ID) != nil:
		return fmt.Errorf("%w: executor ID %q", ErrInvalid, c.ID)
	case c.LeaseTTL < time.Second || c.LeaseTTL > time.Hour:
		return fmt.Errorf("%w: LeaseTTL %v outside [1s, 1h]", ErrInvalid, c.LeaseTTL)
	case c.ScanInterval <= 0:
		return fmt.Errorf("%w: ScanInterval must be positive", ErrInvalid)
	case c.MaxConcurrent < 1:
		return fmt.Errorf("%w: MaxConcurrent %d, want at least 1", ErrInvalid, c.MaxConcurrent)
	case c.MaxSteps < 1 || c.MaxSteps > maxStepsHard:
		return fmt.Errorf("%w: MaxSteps %d outside [1, %d]", ErrInvalid, c.MaxSteps, maxStepsHard)
	case c.MaxOutputBytes < 1 || c.MaxOutputBytes > maxPayloadBytes:
		return fmt.Errorf("%w: MaxOutputBytes %d outside [1, %d]", ErrInvalid, c.MaxOutputBytes, maxPayloadBytes)
	case c.MaxErrorBytes < 64 || c.MaxErrorBytes > 64<<10:
		return fmt.Errorf("%w: MaxErrorBytes %d outside [64, 65536]", ErrInvalid, c.MaxErrorBytes)
	case c.StepTimeout <= 0:
		return fmt.Errorf("%w: StepTimeout must be positive", ErrInvalid)
	case c.LogWriteAttempts < 1:
		return fmt.Errorf("%w: LogWriteAttempts %d, want at least 1", ErrInvalid, c.LogWriteAttempts)
	}
	if err := c.ActionRetry.Validate(); err != nil {
		return fmt.Errorf("ActionRetry: %w", err)
	}
	if err := c.CompensationRetry.Validate(); err != nil {
		return fmt.Errorf("CompensationRetry: %w", err)
	}
	return nil
}

// leaseSeconds is LeaseTTL rounded up to whole seconds, as etcd grants.
func (c *ExecutorConfig) leaseSeconds() int64 {
	return int64((c.LeaseTTL + time.Second - 1) / time.Second)
}

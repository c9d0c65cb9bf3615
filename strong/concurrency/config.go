package concurrency

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Config configures the concurrency services of one node. Start from
// DefaultConfig.
type Config struct {
	// Client reaches this node's own KV, Lease and Watch services (see
	// NewLocalClient); every read and write of the services goes through
	// it. Required. The caller owns it: closing it ends every blocked call
	// with codes.Unavailable, so close it before stopping the gRPC server.
	Client *clientv3.Client
	// MaxWaitingCalls bounds the Campaign, Lock and Observe calls that
	// run at once on this node. Each may block for as long as the caller
	// likes and holds a goroutine and a watch meanwhile; past the bound a
	// call fails at once with codes.ResourceExhausted.
	MaxWaitingCalls int
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Registerer for the services' metrics; nil means no registration.
	Registerer prometheus.Registerer
}

// Bounds checked by Validate.
const maxWaitingCallsLimit = 1 << 20

// DefaultConfig returns the defaults; the caller sets Client.
func DefaultConfig() Config {
	return Config{
		// Ten thousand blocked callers cost some tens of MB of
		// goroutines and watches: far more lock and election users than
		// an etcd deployment has, yet bounded.
		MaxWaitingCalls: 10000,
	}
}

// Validate checks each field.
func (c Config) Validate() error {
	if c.Client == nil {
		return errors.New("concurrency: Client is required")
	}
	if c.MaxWaitingCalls < 1 || c.MaxWaitingCalls > maxWaitingCallsLimit {
		return fmt.Errorf("concurrency: MaxWaitingCalls %d outside [1, %d]", c.MaxWaitingCalls, maxWaitingCallsLimit)
	}
	return nil
}

package ring

import (
	"errors"
	"fmt"
)

// Config sets the shape and the bounds of a ring. Every member of a cluster
// must use the same Config: two nodes with different VNodes compute
// different owners for the same key.
type Config struct {
	// VNodes is the number of tokens (virtual nodes) a node of weight 1
	// places on the ring; a node of weight w places w*VNodes. More tokens
	// give a more even load (a node's share of the keys deviates from its
	// fair share by about 1/sqrt(VNodes)) at the cost of memory (12 bytes a
	// token) and of a longer build. It must be in [1, MaxVNodes].
	VNodes int
	// MaxTokens bounds the total number of tokens, that is the sum of
	// Weight*VNodes over all nodes, and so the ring's memory. New, WithNode
	// return ErrTooManyTokens beyond it. It must be in [VNodes,
	// MaxTokensLimit].
	MaxTokens int
}

const (
	// DefaultVNodes is the default Config.VNodes: 256 tokens a node keeps
	// each node's share within about ±6% (one standard deviation) of its
	// fair share, and a 1000-node ring at 3 MiB.
	DefaultVNodes = 256
	// DefaultMaxTokens is the default Config.MaxTokens: 1<<20 tokens (12
	// MiB) is 4096 nodes of weight 1 at the default VNodes.
	DefaultMaxTokens = 1 << 20
	// MaxVNodes is the largest allowed Config.VNodes.
	MaxVNodes = 1 << 16
	// MaxTokensLimit is the largest allowed Config.MaxTokens (16 Mi tokens,
	// 192 MiB): past it a ring is too large to rebuild on every membership
	// change.
	MaxTokensLimit = 1 << 24
)

// DefaultConfig returns the recommended configuration: VNodes =
// DefaultVNodes and MaxTokens = DefaultMaxTokens.
func DefaultConfig() Config {
	return Config{VNodes: DefaultVNodes, MaxTokens: DefaultMaxTokens}
}

// ErrInvalidConfig is wrapped by every error Config.Validate returns.
var ErrInvalidConfig = errors.New("ring: invalid config")

// Validate reports whether c is usable. A zero field is an error, never
// "unlimited" or "default".
func (c Config) Validate() error {
	if c.VNodes < 1 || c.VNodes > MaxVNodes {
		return fmt.Errorf("%w: VNodes = %d, want 1..%d", ErrInvalidConfig, c.VNodes, MaxVNodes)
	}
	if c.MaxTokens < c.VNodes || c.MaxTokens > MaxTokensLimit {
		return fmt.Errorf("%w: MaxTokens = %d, want %d (VNodes)..%d", ErrInvalidConfig, c.MaxTokens, c.VNodes, MaxTokensLimit)
	}
	return nil
}

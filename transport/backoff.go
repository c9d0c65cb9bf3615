package transport

import (
	"math/rand/v2"
	"time"
)

// backoff computes the waits between connection attempts: min doubling
// per failure up to max, each shortened by a random fraction of at most
// jitter. Jitter keeps the peers that lost the same node from reconnecting
// in lockstep when it returns. Not safe for concurrent use: each peer's
// sender owns one.
type backoff struct {
	min, max time.Duration
	jitter   float64
	rng      *rand.Rand
	failures int
}

func newBackoff(cfg Config, seed uint64) backoff {
	return backoff{
		min:    cfg.BackoffMin,
		max:    cfg.BackoffMax,
		jitter: cfg.BackoffJitter,
		rng:    rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
}

// next returns the wait after one more failure.
func (b *backoff) next() time.Duration {
	d := b.min
	for i := 0; i < b.failures && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	b.failures++
	return b.jittered(d)
}

// jittered shortens d by a random fraction of at most jitter.
func (b *backoff) jittered(d time.Duration) time.Duration {
	return d - time.Duration(b.jitter*b.rng.Float64()*float64(d))
}

// reset starts over after a success.
func (b *backoff) reset() { b.failures = 0 }

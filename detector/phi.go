package detector

import (
	"math"
	"sync"
	"time"
)

// PhiAccrual is the phi accrual failure detector of Hayashibara et al.
// (SRDS 2004), in the form Akka and Cassandra use. For each node it keeps
// a sliding window of the intervals between heartbeat arrivals and models
// the next interval as normal with the window's mean (plus
// AcceptablePause) and standard deviation (at least MinStdDev). Its
// suspicion is
//
//	phi(t) = -log10(1 - F(t))
//
// where t is the time since the node's last heartbeat and F the model's
// cumulative distribution, so phi = k means "if the node were alive, a
// silence this long would happen with probability 10^-k".
//
// Every node has its own window: one slow node never changes another
// node's phi.
//
// It is safe for concurrent use: Suspicion and Available share a read lock,
// Heartbeat and Remove take the write lock for O(1) work.
type PhiAccrual[K comparable] struct {
	cfg PhiAccrualConfig
	mu  struct {
		sync.RWMutex
		nodes map[K]*phiNode
	}
}

// phiNode is the per-node state. mean and stdDev are derived from window
// by refresh after every change, so Suspicion reads two floats.
type phiNode struct {
	last   time.Time // arrival of the latest heartbeat
	window intervalWindow
	mean   float64 // window mean + AcceptablePause, in ns
	stdDev float64 // max(window standard deviation, MinStdDev), in ns
}

// NewPhiAccrual returns a PhiAccrual detector, or the error of
// cfg.Validate.
func NewPhiAccrual[K comparable](cfg PhiAccrualConfig) (*PhiAccrual[K], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := &PhiAccrual[K]{cfg: cfg}
	d.mu.nodes = make(map[K]*phiNode)
	return d, nil
}

// Heartbeat implements Detector. The first heartbeat of a node seeds its
// window from FirstHeartbeatEstimate; later ones add the interval since the
// previous heartbeat, unless it exceeds MaxInterval (then only the arrival
// time is kept).
func (d *PhiAccrual[K]) Heartbeat(node K, at time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	n, ok := d.mu.nodes[node]
	if !ok {
		if len(d.mu.nodes) >= d.cfg.MaxNodes {
			return errTooManyNodes(d.cfg.MaxNodes)
		}
		d.mu.nodes[node] = d.newNode(at)
		return nil
	}
	interval := at.Sub(n.last)
	if interval <= 0 {
		return nil // duplicate or reordered heartbeat
	}
	n.last = at
	if interval > d.cfg.MaxInterval {
		return nil
	}
	n.window.add(int64(interval))
	n.refresh(d.cfg)
	return nil
}

// newNode returns the state of a node first heard from at at, its window
// seeded as Akka does with two intervals of mean FirstHeartbeatEstimate and
// standard deviation FirstHeartbeatEstimate/4.
func (d *PhiAccrual[K]) newNode(at time.Time) *phiNode {
	n := &phiNode{last: at, window: newIntervalWindow(d.cfg.WindowSize, int64(d.cfg.MaxInterval))}
	est := d.cfg.FirstHeartbeatEstimate
	n.window.add(int64(est - est/4))
	n.window.add(int64(est + est/4))
	n.refresh(d.cfg)
	return n
}

func (n *phiNode) refresh(cfg PhiAccrualConfig) {
	mean, variance := n.window.stats()
	n.mean = mean + float64(cfg.AcceptablePause)
	n.stdDev = max(math.Sqrt(variance), float64(cfg.MinStdDev))
}

// Suspicion implements Detector: phi at now. It is 0 for an unknown node,
// close to 0 right after a heartbeat, non-decreasing in now, and always
// finite (see phi).
func (d *PhiAccrual[K]) Suspicion(node K, now time.Time) float64 {
	d.mu.RLock()
	n, ok := d.mu.nodes[node]
	if !ok {
		d.mu.RUnlock()
		return 0
	}
	elapsed, mean, stdDev := now.Sub(n.last), n.mean, n.stdDev
	d.mu.RUnlock()
	return phi(float64(elapsed), mean, stdDev)
}

// Available implements Detector: phi is below Threshold.
func (d *PhiAccrual[K]) Available(node K, now time.Time) bool {
	return d.Suspicion(node, now) < d.cfg.Threshold
}

// Remove implements Detector.
func (d *PhiAccrual[K]) Remove(node K) {
	d.mu.Lock()
	delete(d.mu.nodes, node)
	d.mu.Unlock()
}

// Coefficients of the logistic approximation of the standard normal CDF
// used by Akka, F(y) ≈ 1/(1 + e^(-y(a + b·y²))), accurate to about 1e-4.
const (
	logisticA = 1.5976
	logisticB = 0.070566
)

// softplusLinear is where log(1+e^z) equals z to float64 precision
// (e^-36 < 2^-52 · 36).
const softplusLinear = 36

// phi returns -log10(1 - F(elapsed)) for the normal model with the given
// mean and standard deviation (all in the same unit, stdDev > 0), using
// the logistic approximation of F.
//
// With z = y(a + b·y²) and y = (elapsed-mean)/stdDev, 1 - F = 1/(1 + e^z),
// so phi = log10(1 + e^z), computed as log1p(exp(z)) and as z itself once
// e^z dwarfs 1. Computing in this form, instead of taking the log of a
// probability that underflows to 0, keeps phi finite and exact in the far
// tail: it grows like b·y³/ln 10 and never returns +Inf or NaN (with
// elapsed below 2^63 ns and stdDev at least 1 ms, z < 1e38). It is
// non-decreasing in elapsed, since z is increasing in y.
func phi(elapsed, mean, stdDev float64) float64 {
	y := (elapsed - mean) / stdDev
	z := y * (logisticA + logisticB*y*y)
	if z > softplusLinear {
		return z / math.Ln10
	}
	return math.Log1p(math.Exp(z)) / math.Ln10
}

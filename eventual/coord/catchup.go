package coord

import (
	"errors"
	"fmt"

	"github.com/cairndb/cairn/internal/metricsutil"
	"github.com/prometheus/client_golang/prometheus"
)

// CaughtUp reports whether this node holds what it must before another
// replica of its ranges may be taken away: nil once the anti-entropy pass
// that follows every ring change (this node's start included) has streamed
// its ranges from the other replicas, and its Paxos acceptor has caught up
// on every range it replicates; otherwise an error saying what is still
// pending. Operators replacing members one after another wait for it (as
// Cassandra waits for a joining node's streaming): removing a second
// replica of a range before the first has caught up can lose writes that
// only the removed replicas held.
func (c *Coordinator) CaughtUp() error {
	var errs []error
	if c.streaming.Load() {
		errs = append(errs, errors.New("anti-entropy has not yet completed its pass over the ranges of the current ring"))
	}
	if c.px != nil {
		g := c.px.guard
		g.mu.Lock()
		n, known := len(g.pending), g.ring != nil
		g.mu.Unlock()
		switch {
		case !known:
			errs = append(errs, errors.New("paxos acceptor ranges not computed yet"))
		case n > 0:
			errs = append(errs, fmt.Errorf("%d ranges still catching up on paxos acceptor states", n))
		}
	}
	return errors.Join(errs...)
}

// registerCatchUp exports CaughtUp as cairn_eventual_caught_up.
func (c *Coordinator) registerCatchUp() error {
	return metricsutil.Register(c.cfg.Registerer, "eventual catch-up", prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "cairn", Subsystem: "eventual", Name: "caught_up",
		Help: "1 once this node has streamed its ranges and caught up on their Paxos acceptor states since the last ring change, else 0 (see /eventual/ready).",
	}, func() float64 {
		if c.CaughtUp() == nil {
			return 1
		}
		return 0
	}))
}

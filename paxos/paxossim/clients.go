package paxossim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cairndb/cairn/paxos"
	"github.com/cairndb/cairn/sim"
)

// clientTimeout is how long a client waits before it checks whether its
// coordinator crashed (then it gives up: outcome unknown). A coordinator
// that is alive always answers (the node watchdog enforces the bound), so
// the client keeps waiting for it.
const clientTimeout = 2 * time.Second

func inputOf(key string, op paxos.Op) Input {
	return Input{
		Kind: op.Kind, Key: key, Value: string(op.Value), Expected: string(op.Expected),
		NowMs: op.NowMs, DeadlineMs: op.DeadlineMs, KeepTTL: op.KeepTTL,
	}
}

// wallMs is node id's wall clock in Unix milliseconds: its simulated
// physical clock (simulated time, shifted to today and skewed per node),
// what a driver's HLC would give for Op.NowMs.
func (c *cluster) wallMs(id sim.NodeID) int64 {
	return (simEpoch + int64(c.w.Now()) + int64(c.skew[id-1])) / int64(time.Millisecond)
}

// randomOp draws an operation for coordinator target, stamped with its
// wall clock: GET 25%, SET 10%, SETNX 15%, SETXX 10%, CAS 25%, DEL 5%,
// DELIF 10%; ExpiryPercent of the writes carry a deadline, and a tenth of
// the others KEEPTTL. Written values are unique; expected values are
// usually the last value seen on the key, so that CAS often succeeds.
func (c *cluster) randomOp(rng *rand.Rand, client int, seq uint64, key string, target sim.NodeID) paxos.Op {
	op := c.drawOp(rng, client, seq, key)
	op.NowMs = c.wallMs(target)
	switch op.Kind {
	case paxos.OpSet, paxos.OpSetNX, paxos.OpSetXX, paxos.OpCAS:
	default:
		return op // writes no value: no deadline
	}
	switch r := rng.IntN(100); {
	case r < c.opts.ExpiryPercent && c.opts.MaxTTL > 0:
		op.DeadlineMs = op.NowMs + 1 + rng.Int64N(c.opts.MaxTTL.Milliseconds())
	case r >= 90:
		op.KeepTTL = true
	}
	return op
}

func (c *cluster) drawOp(rng *rand.Rand, client int, seq uint64, key string) paxos.Op {
	v := []byte(fmt.Sprintf("c%d.%d", client, seq))
	expected := []byte(c.lastSeen[key])
	if rng.IntN(5) == 0 {
		expected = []byte(fmt.Sprintf("c%d.%d", rng.IntN(c.opts.Clients), rng.Uint64N(seq+1)))
	}
	if len(c.opts.OnlyOps) > 0 {
		op := paxos.Op{Kind: c.opts.OnlyOps[rng.IntN(len(c.opts.OnlyOps))]}
		switch op.Kind {
		case paxos.OpSet, paxos.OpSetNX, paxos.OpSetXX:
			op.Value = v
		case paxos.OpCAS:
			op.Value, op.Expected = v, expected
		case paxos.OpDeleteIf:
			op.Expected = expected
		}
		return op
	}
	switch r := rng.IntN(100); {
	case r < 25:
		return paxos.Op{Kind: paxos.OpGet}
	case r < 35:
		return paxos.Op{Kind: paxos.OpSet, Value: v}
	case r < 50:
		return paxos.Op{Kind: paxos.OpSetNX, Value: v}
	case r < 60:
		return paxos.Op{Kind: paxos.OpSetXX, Value: v}
	case r < 85:
		return paxos.Op{Kind: paxos.OpCAS, Expected: expected, Value: v}
	case r < 90:
		return paxos.Op{Kind: paxos.OpDelete}
	}
	return paxos.Op{Kind: paxos.OpDeleteIf, Expected: expected}
}

// startClients runs the clients: each sends one operation at a time to a
// random node and records it in the history.
func (c *cluster) startClients() {
	for client := range c.opts.Clients {
		rng := c.w.Stream(fmt.Sprintf("client/%d", client))
		var seq uint64
		var next func()
		next = func() {
			if c.stopped {
				return
			}
			seq++
			think := c.opts.MinThink + time.Duration(rng.Int64N(int64(max(0, c.opts.ThinkTime-c.opts.MinThink))+1))
			key := c.keys[rng.IntN(len(c.keys))]
			target := sim.NodeID(1 + rng.IntN(c.opts.Nodes))
			if c.opts.Coordinator != 0 {
				target = c.opts.Coordinator
			}
			op := c.randomOp(rng, client, seq, key, target)
			n, ok := c.node(target)
			if !ok || c.w.Paused(target) {
				c.w.After(think+10*time.Millisecond, "client", next)
				return
			}
			in := inputOf(key, op)
			id := c.hist.Invoke(client, c.w.Now(), in)
			done := false
			resolve := func() {
				done = true
				c.inflight--
			}
			err := n.Submit(key, op, func(o paxos.Outcome) {
				if done {
					return
				}
				resolve()
				c.outcome(client, id, in, o)
				c.w.After(think, "client", next)
			})
			if err != nil {
				c.hist.Discard(id)
				c.res.Failed++
				c.w.After(think+10*time.Millisecond, "client", next)
				return
			}
			c.inflight++
			var watch func()
			watch = func() {
				if done {
					return
				}
				if n.h.Alive() {
					c.w.After(clientTimeout, "client watch", watch)
					return
				}
				// The coordinator crashed with the operation: unknown.
				resolve()
				if op.Kind == paxos.OpGet {
					c.hist.Discard(id)
				} else {
					c.res.Unknown++
				}
				c.w.Note(fmt.Sprintf("client %d: coordinator n%d crashed during %s", client, target, describe(in, Unknown())))
				next()
			}
			c.w.After(clientTimeout, "client watch", watch)
		}
		c.w.After(time.Duration(client+1)*time.Millisecond, "client", next)
	}
}

// outcome records an answer in the history: a result completes the
// operation; an error that says the write may have applied leaves it open
// (unknown); any other error discards it (it certainly had no effect).
func (c *cluster) outcome(client int, id sim.OpID, in Input, o paxos.Outcome) {
	if o.Err == nil {
		out := outputOf(o.Result)
		c.hist.Complete(id, c.w.Now(), out)
		c.res.Succeeded++
		if out.Applied && in.Kind != paxos.OpGet {
			c.res.Applied++
		}
		if out.Expired {
			c.res.Expired++
		}
		if out.PrevDeadline != 0 {
			c.res.LiveDeadline++
		}
		switch {
		case in.Kind == paxos.OpGet && out.PrevPresent:
			c.lastSeen[in.Key] = out.Prev
		case out.Applied && in.Value != "":
			c.lastSeen[in.Key] = in.Value
		}
		c.w.Note(fmt.Sprintf("client %d: %s", client, describe(in, out)))
		return
	}
	var e *paxos.Error
	if errors.As(o.Err, &e) && e.MaybeApplied && in.Kind != paxos.OpGet {
		c.res.Unknown++
	} else {
		c.hist.Discard(id)
		c.res.Failed++
	}
	c.w.Note(fmt.Sprintf("client %d: %s: %v", client, describe(in, Unknown()), o.Err))
}

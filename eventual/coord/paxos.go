package coord

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/cairndb/cairn/eventual/object"
	"github.com/cairndb/cairn/eventual/replica"
	"github.com/cairndb/cairn/internal/metricsutil"
	"github.com/cairndb/cairn/paxos"
	"github.com/cairndb/cairn/ring"
	"github.com/prometheus/client_golang/prometheus"
)

// The Paxos compare-and-set path: this node's proposer (package paxos, a
// pure core) runs on one goroutine, fed by ticks, client proposals and the
// acceptors' answers; this node's acceptor answers Prepare, Accept and
// Commit for the keys it replicates, persisting its state in the replica
// store before it replies. A commit also installs the chosen value in the
// key's Object, so plain reads see it.

// proposeReq is one client operation for the proposer loop.
type proposeReq struct {
	key      []byte
	replicas []paxos.NodeID
	op       paxos.Op
	done     chan paxos.Outcome
	id       uint64
}

// paxosIn is an acceptor's answer for the proposer loop.
type paxosIn struct {
	from paxos.NodeID
	msg  paxos.Message
}

// paxosDriver owns the proposer.
type paxosDriver struct {
	prop    *paxos.Proposer
	reqs    chan proposeReq
	forget  chan uint64
	in      chan paxosIn
	nextID  atomic.Uint64
	waiters map[uint64]chan paxos.Outcome // loop goroutine only
	stats   atomic.Pointer[paxos.Stats]   // the proposer's counters, for metrics
	guard   *acceptorGuard                // which ranges the acceptor may answer for
	rm      *recoveryMetrics
}

// startPaxos creates the proposer under a fresh epoch and starts its loop.
func (c *Coordinator) startPaxos() error {
	epoch, err := c.cfg.Store.NextPaxosEpoch()
	if err != nil {
		return fmt.Errorf("paxos epoch: %w", err)
	}
	pcfg := paxos.DefaultConfig(paxos.NodeID(c.cfg.LocalID), epoch, paxos.HLCBallots(c.cfg.Clock),
		rand.New(rand.NewPCG(rand.Uint64(), c.cfg.LocalID)))
	prop, err := paxos.NewProposer(pcfg)
	if err != nil {
		return err
	}
	c.px = &paxosDriver{prop: prop, reqs: make(chan proposeReq, 1024), forget: make(chan uint64, 1024),
		in: make(chan paxosIn, 8192), waiters: map[uint64]chan paxos.Outcome{}}
	c.px.stats.Store(&paxos.Stats{})
	if err := c.registerPaxosStats(); err != nil {
		return err
	}
	c.px.guard = &acceptorGuard{}
	if c.px.rm, err = newRecoveryMetrics(c.cfg.Registerer); err != nil {
		return err
	}
	c.wg.Add(2)
	go c.paxosLoop()
	go c.recoveryLoop()
	return nil
}

// registerPaxosStats exports the proposer's counters
// (cairn_eventual_paxos_*_total).
func (c *Coordinator) registerPaxosStats() error {
	if c.cfg.Registerer == nil {
		return nil
	}
	counter := func(name, help string, get func(*paxos.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "cairn", Subsystem: "eventual", Name: "paxos_" + name + "_total", Help: help},
			func() float64 { return float64(get(c.px.stats.Load())) })
	}
	return metricsutil.Register(c.cfg.Registerer, "paxos proposer",
		counter("rounds", "Prepare rounds (ballots) this node's proposer started.", func(s *paxos.Stats) uint64 { return s.Rounds }),
		counter("accept_rounds", "Accept rounds this node's proposer started.", func(s *paxos.Stats) uint64 { return s.AcceptRounds }),
		counter("contention_retries", "Paxos attempts ended by a higher ballot (contention).", func(s *paxos.Stats) uint64 { return s.ContentionRetries }),
		counter("round_timeouts", "Paxos attempts ended by the round timer.", func(s *paxos.Stats) uint64 { return s.Timeouts }),
		counter("finished", "Other proposers' in-progress proposals this node finished.", func(s *paxos.Stats) uint64 { return s.Finished }),
		counter("repairs", "Commits sent to replicas behind on a key's latest commit.", func(s *paxos.Stats) uint64 { return s.Repairs }),
		counter("fast_reads", "Reads answered after the prepare round alone.", func(s *paxos.Stats) uint64 { return s.FastReads }),
	)
}

// paxosLoop is the proposer's goroutine.
func (c *Coordinator) paxosLoop() {
	defer c.wg.Done()
	px := c.px
	t := time.NewTicker(c.cfg.PaxosTick)
	defer t.Stop()
	for {
		select {
		case <-c.closed:
			for _, w := range px.waiters {
				w <- paxos.Outcome{Err: ErrClosed}
			}
			return
		case <-t.C:
			px.prop.Tick()
		case r := <-px.reqs:
			if err := px.prop.Propose(r.id, string(r.key), r.replicas, r.op); err != nil {
				r.done <- paxos.Outcome{ID: r.id, Err: err}
				continue
			}
			px.waiters[r.id] = r.done
		case id := <-px.forget:
			delete(px.waiters, id)
		case in := <-px.in:
			_ = px.prop.Step(in.from, in.msg) // a stale or foreign answer is ignored
		}
		st := px.prop.Stats()
		px.stats.Store(&st)
		for px.prop.HasReady() {
			rd := px.prop.Ready()
			for _, env := range rd.Messages {
				if env.To == paxos.NodeID(c.cfg.LocalID) && env.Msg.Type == paxos.MsgCommit {
					// Installed here, before the outcomes below reach their
					// clients: a plain read through this node right after a
					// compare-and-set sees it. (A commit is not synced, so
					// this costs a memtable write.)
					c.acceptorStep(c.cfg.LocalID, env.Msg)
					continue
				}
				c.sendPaxos(uint64(env.To), env.Msg)
			}
			for _, out := range rd.Outcomes {
				c.m.paxos.WithLabelValues(paxosResult(out.Err)).Inc()
				if w, ok := px.waiters[out.ID]; ok {
					delete(px.waiters, out.ID)
					w <- out
				}
			}
		}
	}
}

func paxosResult(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, paxos.ErrContention):
		return "contention"
	case errors.Is(err, paxos.ErrTimeout):
		return "timeout"
	case errors.Is(err, paxos.ErrNoQuorum):
		return "no_quorum"
	}
	return "error"
}

// sendPaxos delivers a Paxos message: to this node's acceptor or proposer
// directly, to a peer as a frame.
func (c *Coordinator) sendPaxos(to uint64, m paxos.Message) {
	if to == c.cfg.LocalID {
		c.routePaxos(to, m)
		return
	}
	frame := (&message{typ: msgPaxos, clock: c.cfg.Clock.Now(), obj: paxos.EncodeMessage(m)}).appendBinary(nil)
	c.cfg.Sender.Send(to, frame)
}

// routePaxos hands a received Paxos message to the acceptor (on a
// goroutine of its own: it writes to disk) or to the proposer loop.
func (c *Coordinator) routePaxos(from uint64, m paxos.Message) {
	if c.px == nil {
		return
	}
	switch m.Type {
	case paxos.MsgPrepare, paxos.MsgAccept, paxos.MsgCommit:
		select {
		case c.sem <- struct{}{}:
		default:
			c.m.peerReqs.WithLabelValues("paxos", "dropped").Inc()
			return
		}
		c.background(func() {
			defer func() { <-c.sem }()
			c.acceptorStep(from, m)
		}, func() { <-c.sem })
	default:
		select {
		case c.px.in <- paxosIn{from: paxos.NodeID(from), msg: m}:
		default:
			c.m.peerReqs.WithLabelValues("paxos", "dropped").Inc()
		}
	}
}

// acceptorStep runs this node's acceptor on one message and answers once
// the new state is as durable as the core demands.
func (c *Coordinator) acceptorStep(from uint64, m paxos.Message) {
	if m.Type != paxos.MsgCommit && !c.px.guard.mayAnswer(ring.HashKey([]byte(m.Key))) {
		// This node has not caught up on the range's acceptor states yet
		// (recovery.go): silence, as if the message were lost.
		c.px.rm.refused.Inc()
		return
	}
	var reply paxos.Message
	st := object.Stamp{Replica: c.cfg.Store.ReplicaID(), TS: c.cfg.Clock.Now()}
	err := c.cfg.Store.PaxosUpdate([]byte(m.Key), func(state []byte, o *object.Object) (replica.PaxosStep, error) {
		var cur paxos.AcceptorState
		if state != nil {
			var err error
			if cur, err = paxos.DecodeAcceptorState(state); err != nil {
				return replica.PaxosStep{}, err
			}
		}
		out, err := paxos.StepAcceptor(cur, m)
		if err != nil {
			return replica.PaxosStep{}, err
		}
		reply = out.Reply
		var step replica.PaxosStep
		if !out.Persist {
			return step, nil
		}
		step.State = paxos.EncodeAcceptorState(out.State)
		step.Sync = out.MustSync
		step.Delta, err = installCommit(o, st, cur, out.State)
		return step, err
	})
	if err != nil {
		c.m.peerReqs.WithLabelValues("paxos", "error").Inc()
		c.log.Warn("paxos acceptor step failed; no answer sent", "key", m.Key, "type", m.Type.String(), "err", err)
		return
	}
	c.m.peerReqs.WithLabelValues("paxos", "ok").Inc()
	if reply.Type != 0 {
		c.sendPaxos(from, reply)
	}
}

// CAS runs a linearizable operation on key's register through Paxos among
// the key's replicas: SET NX and XX, compare-and-set, compare-and-delete,
// or a linearizable GET. A *paxos.Error reports contention, a timeout or
// too few replicas; when its MaybeApplied is false the operation certainly
// had no effect.
func (c *Coordinator) CAS(ctx context.Context, key []byte, op paxos.Op) (paxos.Result, error) {
	start := time.Now()
	res, err := c.cas(ctx, key, op)
	c.observe("cas", LevelQuorum, start, err)
	return res, err
}

func (c *Coordinator) cas(ctx context.Context, key []byte, op paxos.Op) (paxos.Result, error) {
	if c.px == nil {
		return paxos.Result{}, errors.New("eventual: compare-and-set is off on this node")
	}
	prefs, _ := c.placement(key)
	if len(prefs) == 0 {
		return paxos.Result{}, &UnavailableError{Op: "compare-and-set", Level: LevelQuorum, Need: 1}
	}
	if op.NowMs == 0 {
		op.NowMs = c.cfg.Clock.Now().WallTime / 1e6 // judges expiry; fixed for every retry
	}
	replicas := make([]paxos.NodeID, len(prefs))
	for i, p := range prefs {
		replicas[i] = paxos.NodeID(p)
	}
	r := proposeReq{key: append([]byte(nil), key...), replicas: replicas, op: op,
		done: make(chan paxos.Outcome, 1), id: c.px.nextID.Add(1)}
	select {
	case c.px.reqs <- r:
	case <-ctx.Done():
		return paxos.Result{}, ctx.Err()
	case <-c.closed:
		return paxos.Result{}, ErrClosed
	}
	select {
	case out := <-r.done:
		return out.Result, out.Err
	case <-ctx.Done():
		select {
		case c.px.forget <- r.id:
		default:
		}
		return paxos.Result{}, fmt.Errorf("%w (the operation may or may not take effect)", ctx.Err())
	}
}

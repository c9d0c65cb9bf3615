package coord

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/cairndb/cairn/clock"
	"github.com/cairndb/cairn/eventual/object"
	"github.com/cairndb/cairn/eventual/replica"
	"github.com/cairndb/cairn/internal/metricsutil"
	"github.com/cairndb/cairn/paxos"
	"github.com/cairndb/cairn/ring"
	"github.com/prometheus/client_golang/prometheus"
)

// Acceptor recovery: a node that becomes a replica of a range (it joined,
// it was wiped and added back, or the ring moved the range to it) does not
// know what the range's old acceptors promised and accepted. Until it has
// merged the acceptor states of enough of the range's other replicas
// (paxos.RecoveryPeers: both others at N=3), it answers no Prepare and no
// Accept for the range; commits it takes, since they only teach it chosen
// values. See paxos.MergeAcceptorStates for why this keeps Paxos safe when
// the members under a key are replaced one after another.
//
// Which ranges are caught up is recorded in the store
// (replica.SetAcceptorRanges) so a restart keeps them; a store that never
// recorded any is new, and has nothing to catch up on only when it
// bootstraps a new cluster (Config.NewCluster).

// acceptorGuard says which tokens this node's acceptor may answer for.
// The recovery loop changes it; acceptor steps read it.
type acceptorGuard struct {
	mu       sync.Mutex
	ring     *ring.Ring        // the ring the sets were computed for (nil: none yet)
	recorded []ring.TokenRange // ranges caught up on, as recorded in the store
	ready    spans             // recorded, as a set of tokens
	pending  []*pendingArc     // this node's ranges not caught up on yet
}

// pendingArc is one range to catch up on.
type pendingArc struct {
	arc   ring.TokenRange
	peers []uint64        // the range's other replicas
	need  int             // how many of them must be merged
	done  map[uint64]bool // those merged
}

// mayAnswer reports whether the acceptor may answer a Prepare or an Accept
// for a key of token t.
func (g *acceptorGuard) mayAnswer(t ring.Token) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ready.contains(t)
}

// recoveryMetrics are the acceptor recovery's metrics.
type recoveryMetrics struct {
	pending prometheus.Gauge
	merged  prometheus.Counter
	refused prometheus.Counter
}

func newRecoveryMetrics(reg prometheus.Registerer) (*recoveryMetrics, error) {
	const ns, sub = "cairn", "eventual"
	m := &recoveryMetrics{
		pending: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "paxos_ranges_recovering",
			Help: "Ring ranges whose Paxos acceptor state this node is still catching up on (it answers no Prepare or Accept for them)."}),
		merged: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "paxos_states_merged_total",
			Help: "Acceptor states of other replicas merged into this node's while catching up."}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "paxos_refused_recovering_total",
			Help: "Prepare and Accept messages left unanswered because their range is still catching up."}),
	}
	return m, metricsutil.Register(reg, "paxos recovery", m.pending, m.merged, m.refused)
}

// recoveryLoop keeps the guard in step with the ring and catches up on the
// pending ranges, retrying every 2 s while some replica cannot be reached.
func (c *Coordinator) recoveryLoop() {
	defer c.wg.Done()
	wait := time.Duration(0)
	for {
		select {
		case <-c.closed:
			return
		case <-time.After(wait):
		}
		wait = 250 * time.Millisecond
		if err := c.recoverAcceptors(); err != nil {
			c.log.Debug("paxos acceptor recovery incomplete", "err", err)
			wait = 2 * time.Second
		}
	}
}

// recoverAcceptors runs one round: it recomputes the guard if the ring
// changed, then merges, from every live replica that some pending range
// still needs, that replica's acceptor states of those ranges.
func (c *Coordinator) recoverAcceptors() error {
	r := c.cfg.Membership.Ring()
	if r == nil {
		return nil
	}
	g := c.px.guard
	g.mu.Lock()
	changed := g.ring != r
	g.mu.Unlock()
	if changed {
		if err := c.resetGuard(r); err != nil {
			return err
		}
	}
	byPeer := map[uint64][]ring.TokenRange{}
	g.mu.Lock()
	for _, a := range g.pending {
		for _, p := range a.peers {
			if !a.done[p] && c.cfg.Membership.Alive(p) {
				byPeer[p] = append(byPeer[p], a.arc)
			}
		}
	}
	left := len(g.pending)
	g.mu.Unlock()
	if left == 0 {
		return nil
	}
	var errs []error
	for _, peer := range slices.Sorted(maps.Keys(byPeer)) {
		start := time.Now()
		n, err := c.pullAcceptors(peer, byPeer[peer])
		if err != nil {
			errs = append(errs, fmt.Errorf("from %x: %w", peer, err))
			continue
		}
		c.log.Info("paxos acceptor states merged from a replica", "peer", fmt.Sprintf("%x", peer),
			"ranges", len(byPeer[peer]), "states", n, "took", time.Since(start))
		g.mu.Lock()
		if g.ring == r {
			for _, a := range g.pending {
				if slices.Contains(byPeer[peer], a.arc) {
					a.done[peer] = true
				}
			}
		}
		g.mu.Unlock()
	}
	if err := c.promoteRecovered(r); err != nil {
		errs = append(errs, err)
	}
	g.mu.Lock()
	left = len(g.pending)
	g.mu.Unlock()
	if left > 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("%d ranges wait for replicas that are down", left))
	}
	return errors.Join(errs...)
}

// resetGuard recomputes the guard for ring r: the ranges this node
// replicates in r that the recorded ranges cover stay caught up, the
// others are pending.
func (c *Coordinator) resetGuard(r *ring.Ring) error {
	g := c.px.guard
	old, found, err := c.cfg.Store.AcceptorRanges()
	if err != nil {
		return err
	}
	n := min(c.cfg.Replicas, len(r.Nodes()))
	owned := r.RangesFor(NodeID(c.cfg.LocalID), n)
	var recorded []ring.TokenRange
	var pending []*pendingArc
	if !found && c.cfg.NewCluster {
		recorded = owned // a new cluster's first ring: no acceptor answered before
	} else {
		have := spansOf(old)
		for _, a := range owned {
			if have.covers(a) {
				recorded = append(recorded, a)
				continue
			}
			p := &pendingArc{arc: a, done: map[uint64]bool{}}
			for _, id := range r.AppendReplicasToken(nil, a.End, n) {
				if v, err := ParseNodeID(id); err == nil && v != c.cfg.LocalID {
					p.peers = append(p.peers, v)
				}
			}
			p.need = min(paxos.RecoveryPeers(len(p.peers)+1), len(p.peers))
			pending = append(pending, p)
		}
	}
	// Shrink what may be answered before recording it, grow it after.
	g.mu.Lock()
	g.ring, g.recorded, g.ready, g.pending = r, recorded, spansOf(recorded), pending
	g.mu.Unlock()
	if err := c.cfg.Store.SetAcceptorRanges(recorded); err != nil {
		return err
	}
	c.px.rm.pending.Set(float64(len(pending)))
	c.log.Info("paxos acceptor ranges computed for a new ring", "ranges", len(owned), "recovering", len(pending))
	return c.promoteRecovered(r)
}

// promoteRecovered moves the pending ranges that have merged enough
// replicas to the recorded ones: recorded first, answered after.
func (c *Coordinator) promoteRecovered(r *ring.Ring) error {
	g := c.px.guard
	g.mu.Lock()
	if g.ring != r {
		g.mu.Unlock()
		return nil
	}
	recorded := slices.Clone(g.recorded)
	var still []*pendingArc
	for _, a := range g.pending {
		if len(a.done) >= a.need {
			recorded = append(recorded, a.arc)
		} else {
			still = append(still, a)
		}
	}
	promoted := len(g.pending) - len(still)
	g.mu.Unlock()
	if promoted == 0 {
		return nil
	}
	if err := c.cfg.Store.SetAcceptorRanges(recorded); err != nil {
		return err
	}
	g.mu.Lock()
	if g.ring == r { // the loop is the only writer; a ring change is handled by it too
		g.recorded, g.ready, g.pending = recorded, spansOf(recorded), still
	}
	g.mu.Unlock()
	c.px.rm.pending.Set(float64(len(still)))
	c.log.Info("paxos acceptor ranges caught up", "ranges", promoted, "still_recovering", len(still))
	return nil
}

// pullAcceptors merges the peer's acceptor states of the ranges rs into
// this node's, page by page, and makes them durable.
func (c *Coordinator) pullAcceptors(peer uint64, rs []ring.TokenRange) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*c.cfg.RequestTimeout)
	defer cancel()
	var cursor []byte
	n := 0
	for {
		ans := c.wait(ctx, c.start(peer, message{typ: msgAcceptors, obj: appendAcceptorsRequest(nil, cursor, rs)}))
		if ans.typ != msgAcceptorsResp || ans.err != "" {
			return n, fmt.Errorf("acceptor states: %s", ans.err)
		}
		page, err := decodeAcceptorsPage(ans.obj)
		if err != nil {
			return n, err
		}
		for _, e := range page.entries {
			s, err := paxos.DecodeAcceptorState(e.state)
			if err != nil {
				return n, err
			}
			if err := c.mergeAcceptorState(e.key, s); err != nil {
				return n, err
			}
			n++
		}
		if !page.more {
			return n, c.cfg.Store.SyncPaxos()
		}
		cursor = page.last
	}
}

// mergeAcceptorState merges remote into the key's acceptor state, and
// installs a newer commit in the key's Object as a Commit would. It does
// not sync (pullAcceptors syncs once at the end).
func (c *Coordinator) mergeAcceptorState(key []byte, remote paxos.AcceptorState) error {
	st := object.Stamp{Replica: c.cfg.Store.ReplicaID(), TS: c.cfg.Clock.Now()}
	return c.cfg.Store.PaxosUpdate(key, func(state []byte, o *object.Object) (replica.PaxosStep, error) {
		var cur paxos.AcceptorState
		if state != nil {
			var err error
			if cur, err = paxos.DecodeAcceptorState(state); err != nil {
				return replica.PaxosStep{}, err
			}
		}
		merged := paxos.MergeAcceptorStates(cur, remote)
		enc := paxos.EncodeAcceptorState(merged)
		if bytes.Equal(enc, state) {
			return replica.PaxosStep{}, nil
		}
		c.px.rm.merged.Inc()
		d, err := installCommit(o, st, cur, merged)
		return replica.PaxosStep{State: enc, Delta: d}, err
	})
}

// installCommit writes next's commit into the key's Object if it is newer
// than cur's, so that plain reads see it, and returns the change.
func installCommit(o *object.Object, st object.Stamp, cur, next paxos.AcceptorState) (object.Object, error) {
	cm := next.Committed
	if cm.Ballot.IsZero() || cm.Equal(cur.Committed) {
		return object.Object{}, nil
	}
	return o.SetCommitted(st, cm.Origin.Time, clock.ReplicaID(cm.Origin.Node), cm.Value.Data, cm.Value.Present, cm.Value.DeadlineMs)
}

// serveAcceptors answers a page of acceptor states whose keys' tokens lie
// in the requested ranges, in key order after the request's cursor.
func (c *Coordinator) serveAcceptors(b []byte) message {
	cursor, rs, err := decodeAcceptorsRequest(b)
	if err != nil {
		return message{err: errText(err)}
	}
	if c.px == nil {
		return message{err: "compare-and-set is off on this node"}
	}
	// A replica still catching up on a range may lack the very promise or
	// vote the asker needs: it must not count as a source.
	g := c.px.guard
	g.mu.Lock()
	for _, r := range rs {
		if !g.ready.covers(r) {
			g.mu.Unlock()
			return message{err: fmt.Sprintf("range %v: this replica is still catching up on its acceptor states", r)}
		}
	}
	g.mu.Unlock()
	in := spansOf(rs)
	page := acceptorsPage{}
	size := 0
	err = c.cfg.Store.ScanPaxos(cursor, func(key, state []byte) bool {
		if size > rangePageBytes {
			page.more = true
			return false
		}
		page.last = append(page.last[:0], key...)
		if in.contains(ring.HashKey(key)) {
			page.entries = append(page.entries, acceptorEntry{key: bytes.Clone(key), state: bytes.Clone(state)})
			size += len(key) + len(state)
		}
		return true
	})
	if err != nil {
		return message{err: errText(err)}
	}
	return message{obj: page.appendBinary(nil)}
}

// acceptorEntry is one key's encoded acceptor state on the wire.
type acceptorEntry struct{ key, state []byte }

// acceptorsPage is the answer to msgAcceptors.
type acceptorsPage struct {
	more    bool   // another page follows: ask again from last
	last    []byte // the last key scanned
	entries []acceptorEntry
}

func (p *acceptorsPage) appendBinary(b []byte) []byte {
	b = append(b, boolByte(p.more))
	b = appendBytes(b, p.last)
	for _, e := range p.entries {
		b = appendBytes(appendBytes(b, e.key), e.state)
	}
	return b
}

func decodeAcceptorsPage(b []byte) (acceptorsPage, error) {
	d := &decoder{b: b}
	more := d.byte()
	if more > 1 {
		d.fail("bad more flag")
	}
	p := acceptorsPage{more: more == 1, last: d.bytes()}
	for d.err == nil && len(d.b) > 0 {
		p.entries = append(p.entries, acceptorEntry{key: d.bytes(), state: d.bytes()})
	}
	return p, d.err
}

// maxRequestRanges bounds the ranges of one msgAcceptors request.
const maxRequestRanges = 1 << 16

func appendAcceptorsRequest(b, cursor []byte, rs []ring.TokenRange) []byte {
	b = appendBytes(b, cursor)
	b = binary.AppendUvarint(b, uint64(len(rs)))
	for _, r := range rs {
		b = appendTokenRange(b, r)
	}
	return b
}

func decodeAcceptorsRequest(b []byte) ([]byte, []ring.TokenRange, error) {
	d := &decoder{b: b}
	cursor := d.bytes()
	n := d.count()
	if n > maxRequestRanges || n*16 > len(d.b) {
		d.fail("too many ranges")
	}
	var rs []ring.TokenRange
	for i := 0; i < n && d.err == nil; i++ {
		rs = append(rs, ring.TokenRange{Start: ring.Token(d.uint64()), End: ring.Token(d.uint64())})
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if len(cursor) == 0 {
		cursor = nil
	}
	return cursor, rs, d.err
}

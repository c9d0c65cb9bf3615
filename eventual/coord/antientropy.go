package coord

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cairndb/cairn/eventual/merkle"
	"github.com/cairndb/cairn/eventual/object"
	"github.com/cairndb/cairn/eventual/replica"
	"github.com/cairndb/cairn/ring"
)

// rangePageBytes bounds one page of a range stream.
const rangePageBytes = 4 << 20

// antiEntropyLoop keeps the trees in step with the ring and, every
// AntiEntropyInterval spread over the arcs, compares one arc with one of its
// other replicas and repairs both sides of what differs.
func (c *Coordinator) antiEntropyLoop() {
	defer c.wg.Done()
	var built *ring.Ring
	next := 0
	wait := time.Duration(0)
	fullPending := false        // a ring change's full pass has not completed yet
	var synced map[arcPeer]bool // the pass's exchanges that succeeded
	for {
		select {
		case <-c.closed:
			return
		case <-time.After(wait):
		}
		wait = time.Second
		if r := c.cfg.Membership.Ring(); r != nil && r != built {
			start := time.Now()
			if err := c.cfg.Trees.rebuild(r, c.cfg.LocalID, c.cfg.Replicas, c.cfg.Store); err != nil {
				c.log.Error("building the anti-entropy trees failed", "err", err)
				continue
			}
			built = r
			c.log.Info("anti-entropy trees built", "arcs", len(c.cfg.Trees.current().arcs), "took", time.Since(start))
			// A new ring (a member joined or left, or this node started,
			// perhaps with an empty disk) moves ranges: bring them over
			// now rather than over the next AntiEntropyInterval, as a
			// bootstrapping Cassandra node streams its ranges.
			fullPending = true
			synced = map[arcPeer]bool{}
			c.streaming.Store(true)
		}
		if fullPending {
			// Until every exchange of the pass has succeeded: a peer
			// down, cut off or still on the old ring fails some, and the
			// next try, soon, redoes only those.
			start := time.Now()
			left, err := c.syncArcsOnce(synced)
			c.log.Info("anti-entropy pass after a ring change", "took", time.Since(start), "exchanges_left", left, "err", err)
			if err == nil {
				fullPending = false
				c.streaming.Store(false)
			} else {
				wait = 2 * time.Second
				continue
			}
		}
		set := c.cfg.Trees.current()
		if len(set.arcs) == 0 {
			continue
		}
		wait = max(c.cfg.AntiEntropyInterval/time.Duration(len(set.arcs)), 10*time.Millisecond)
		a := set.arcs[next%len(set.arcs)]
		next++
		var live []uint64
		for _, p := range a.peers {
			if c.cfg.Membership.Alive(p) {
				live = append(live, p)
			}
		}
		if len(live) == 0 {
			continue
		}
		peer := live[rand.IntN(len(live))]
		if err := c.syncArc(a, peer); err != nil {
			c.m.ae.WithLabelValues("error").Inc()
			c.log.Debug("anti-entropy exchange failed", "peer", fmt.Sprintf("%x", peer), "arc", a.arc.String(), "err", err)
		}
	}
}

// SyncArcs runs one anti-entropy exchange for every arc with every live
// replica, now (tests and operators: a full repair).
func (c *Coordinator) SyncArcs() error {
	_, err := c.syncArcsOnce(map[arcPeer]bool{})
	return err
}

// arcPeer names one exchange of a pass: an arc with one of its replicas.
type arcPeer struct {
	arc  ring.TokenRange
	peer uint64
}

// passParallelism is how many exchanges of a full pass run at once: a
// ring has hundreds of arcs, each exchange takes a few round trips, and
// one at a time a pass over a loaded cluster took minutes.
const passParallelism = 8

// syncArcsOnce runs the exchanges of a full pass that are not in done yet,
// with every live replica of every arc, passParallelism at a time, adds
// those that succeed to done, and returns how many failed, with the first
// few errors.
func (c *Coordinator) syncArcsOnce(done map[arcPeer]bool) (int, error) {
	if c.cfg.Trees == nil {
		return 0, errors.New("eventual: anti-entropy is off (no Trees)")
	}
	type job struct {
		a *arcTree
		k arcPeer
	}
	var jobs []job
	for _, a := range c.cfg.Trees.current().arcs {
		for _, p := range a.peers {
			k := arcPeer{a.arc, p}
			if !done[k] && c.cfg.Membership.Alive(p) {
				jobs = append(jobs, job{a, k})
			}
		}
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		next = make(chan job)
	)
	for range min(passParallelism, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				err := c.syncArc(j.a, j.k.peer)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					done[j.k] = true
				}
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		select {
		case next <- j:
		case <-c.closed:
		}
	}
	close(next)
	wg.Wait()
	failed := len(errs)
	if failed > 3 { // the first few say enough
		errs = append(errs[:3], fmt.Errorf("and %d more", failed-3))
	}
	return failed, errors.Join(errs...)
}

// syncArc compares arc a with peer and repairs the ranges that differ, in
// both directions.
func (c *Coordinator) syncArc(a *arcTree, peer uint64) error {
	start := time.Now()
	a.mu.Lock()
	snap := a.tree.Clone()
	a.mu.Unlock()
	sess, err := merkle.NewSession(snap, rand.Uint64(), c.cfg.Exchange)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*c.cfg.RequestTimeout)
	defer cancel()
	for !sess.Done() {
		reqs := sess.Poll()
		if len(reqs) == 0 {
			sess.Tick()
			continue
		}
		calls := make([]*call, len(reqs))
		for i := range reqs {
			calls[i] = c.start(peer, message{typ: msgTree, obj: reqs[i].Encode()})
		}
		for _, cl := range calls {
			ans := c.wait(ctx, cl)
			if ans.typ != msgTreeResp || ans.err != "" {
				sess.Tick()
				continue
			}
			if rep, err := merkle.DecodeReply(ans.obj); err == nil {
				sess.Handle(&rep)
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	c.metrics.Observe(sess)
	ranges := sess.Ranges()
	if err := sess.Err(); err != nil {
		if !errors.Is(err, merkle.ErrNoTree) && !errors.Is(err, merkle.ErrRangeMismatch) && !errors.Is(err, merkle.ErrDepthMismatch) {
			return err
		}
		// The peer has no tree of this shape (its ring differs for now):
		// compare nothing, stream the whole arc both ways.
		ranges = []merkle.Range{merkle.FromTokenRange(a.arc)}
	}
	if len(ranges) == 0 {
		c.m.ae.WithLabelValues("in_sync").Inc()
		return nil
	}
	var pulled, pushed int
	for _, r := range ranges {
		tr := ring.TokenRange{Start: ring.Token(r.Start), End: ring.Token(r.End)}
		// Push before pull: after a pull this node would send back
		// everything it just received (a whole arc, for a node that
		// joined empty).
		n, err := c.pushRange(ctx, peer, tr)
		pushed += n
		if err != nil {
			return err
		}
		n, err = c.pullRange(ctx, peer, tr)
		pulled += n
		if err != nil {
			return err
		}
	}
	c.m.ae.WithLabelValues("repaired").Inc()
	c.m.aeKeys.WithLabelValues("pulled").Add(float64(pulled))
	c.m.aeKeys.WithLabelValues("pushed").Add(float64(pushed))
	c.log.Info("anti-entropy repaired an arc", "peer", fmt.Sprintf("%x", peer), "ranges", len(ranges),
		"pulled", pulled, "pushed", pushed, "took", time.Since(start))
	return nil
}

// pullRange merges the peer's entries of r into this node's store, page by
// page, and returns how many it merged.
func (c *Coordinator) pullRange(ctx context.Context, peer uint64, r ring.TokenRange) (int, error) {
	n := 0
	cur := r
	for {
		ans := c.wait(ctx, c.start(peer, message{typ: msgRange, obj: appendTokenRange(nil, cur)}))
		if ans.typ != msgRangeResp || ans.err != "" {
			return n, fmt.Errorf("range from %x: %s", peer, ans.err)
		}
		entries, last, more, err := decodeRangePage(ans.obj)
		if err != nil {
			return n, err
		}
		keys := make([][]byte, 0, len(entries))
		objs := make([]object.Object, 0, len(entries))
		for _, e := range entries {
			o, err := object.Decode(e.enc)
			if err != nil {
				return n, err
			}
			keys = append(keys, e.key)
			objs = append(objs, o)
		}
		if _, err := c.cfg.Store.ApplyMany(keys, objs); err != nil {
			return n, err
		}
		n += len(entries)
		if !more {
			return n, nil
		}
		cur.Start = last
	}
}

// pushWindow bounds the merges a push has outstanding at a peer: enough
// to keep the link busy, few enough not to overflow the peer's request
// queue (MaxInFlight) alongside its clients' writes.
const pushWindow = 128

// pushRange sends this node's entries of r to the peer, at most
// pushWindow unanswered at a time, and returns how many it sent.
func (c *Coordinator) pushRange(ctx context.Context, peer uint64, r ring.TokenRange) (int, error) {
	var window []*call
	sent := 0
	var failed error
	drain := func(keep int) {
		for len(window) > keep {
			if ans := c.wait(ctx, window[0]); ans.err != "" && failed == nil {
				failed = fmt.Errorf("push to %x: %s", peer, ans.err)
			}
			window = window[1:]
		}
	}
	err := c.cfg.Store.Scan(r, func(e replica.Entry) bool {
		window = append(window, c.start(peer, message{typ: msgApply, key: append([]byte(nil), e.Key...), obj: append([]byte(nil), e.Encoded...)}))
		sent++
		drain(pushWindow - 1)
		return failed == nil && ctx.Err() == nil
	})
	drain(0)
	if err != nil {
		return sent, err
	}
	return sent, failed
}

// serveTree answers a Merkle exchange request from this node's tree of the
// same arc.
func (c *Coordinator) serveTree(b []byte) message {
	q, err := merkle.DecodeRequest(b)
	if err != nil {
		return message{err: errText(err)}
	}
	var a *arcTree
	if c.cfg.Trees != nil {
		a = c.cfg.Trees.current().byRng[q.Range]
	}
	var rep merkle.Reply
	if a == nil {
		rep = merkle.RespondNoTree(&q)
	} else {
		a.mu.Lock()
		rep = merkle.Respond(a.tree, &q, c.cfg.Exchange)
		a.mu.Unlock()
	}
	return message{obj: rep.Encode()}
}

// serveRange answers a page of a range stream: entries in token order up
// to rangePageBytes, cut only between tokens.
func (c *Coordinator) serveRange(b []byte) message {
	r, err := decodeTokenRange(b)
	if err != nil {
		return message{err: errText(err)}
	}
	page := make([]byte, 1, 64<<10) // more flag first
	var last ring.Token
	count := 0
	more := false
	err = c.cfg.Store.Scan(r, func(e replica.Entry) bool {
		if len(page) > rangePageBytes && e.Token != last {
			more = true
			return false
		}
		last = e.Token
		page = binary.BigEndian.AppendUint64(page, uint64(e.Token))
		page = appendBytes(page, e.Key)
		page = appendBytes(page, e.Encoded)
		count++
		return true
	})
	if err != nil {
		return message{err: errText(err)}
	}
	if more {
		page[0] = 1
	}
	return message{obj: page}
}

type rangeEntry struct {
	key, enc []byte
}

func decodeRangePage(b []byte) ([]rangeEntry, ring.Token, bool, error) {
	d := &decoder{b: b}
	more := d.byte() == 1
	var out []rangeEntry
	var last ring.Token
	for d.err == nil && len(d.b) > 0 {
		last = ring.Token(d.uint64())
		out = append(out, rangeEntry{key: d.bytes(), enc: d.bytes()})
	}
	return out, last, more, d.err
}

func appendTokenRange(b []byte, r ring.TokenRange) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(r.Start))
	return binary.BigEndian.AppendUint64(b, uint64(r.End))
}

func decodeTokenRange(b []byte) (ring.TokenRange, error) {
	d := &decoder{b: b}
	r := ring.TokenRange{Start: ring.Token(d.uint64()), End: ring.Token(d.uint64())}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	return r, d.err
}

package coord

import (
	"bytes"
	"context"
	"time"

	"github.com/cairndb/cairn/eventual/object"
	"github.com/cairndb/cairn/eventual/replica"
	"github.com/cairndb/cairn/ring"
)

// Tombstone collection. A deleted (or expired) key keeps state: the causal
// contexts that stop a merge with an older copy from resurrecting what was
// removed. It may be dropped only once no replica can still send an older
// copy (causal stability), which a wall-clock timer alone cannot promise.
// Here a node collects a tombstone of a key it is the first replica of when
//
//  1. it has seen the key invisible for TombstoneGrace (longer than
//     MaxHintAge, so no hint that predates the delete can still arrive),
//     and
//  2. every one of the key's N replicas answers a read with the very same
//     state (so every replica has merged the delete, and none holds older
//     dots),
//
// and then asks every replica to purge the key only if its state is still
// that one: a write that raced the check keeps the key everywhere it landed.

// maxTombstoneWatch bounds the invisible keys a node remembers between
// passes; past it, new ones wait for a later pass.
const maxTombstoneWatch = 1 << 20

// gcLoop runs a collection pass every TombstoneInterval.
func (c *Coordinator) gcLoop() {
	defer c.wg.Done()
	seen := map[string]time.Time{}
	t := time.NewTicker(c.cfg.TombstoneInterval)
	defer t.Stop()
	for {
		select {
		case <-c.closed:
			return
		case <-t.C:
		}
		c.collectTombstones(seen)
	}
}

// CollectTombstonesNow runs one pass with a clean watch list, treating every
// invisible key as old enough: for tests and operators. The replica check
// still applies.
func (c *Coordinator) CollectTombstonesNow() int {
	return c.collect(nil, true)
}

func (c *Coordinator) collectTombstones(seen map[string]time.Time) int {
	return c.collect(seen, false)
}

// collect scans this node's store and collects the tombstones it may.
func (c *Coordinator) collect(seen map[string]time.Time, now bool) int {
	r := c.cfg.Membership.Ring()
	if r == nil {
		return 0
	}
	wall := timeNow()
	var due [][]byte
	still := map[string]bool{}
	_ = c.cfg.Store.Scan(ring.TokenRange{Start: 0, End: 0}, func(e replica.Entry) bool {
		o, err := object.Decode(e.Encoded)
		if err != nil || o.Visible(wall.UnixMilli()) {
			return true
		}
		if first := r.AppendReplicasToken(nil, e.Token, 1); len(first) == 0 || first[0] != NodeID(c.cfg.LocalID) {
			return true // the key's first replica collects it
		}
		k := string(e.Key)
		if now {
			due = append(due, []byte(k))
			return true
		}
		still[k] = true
		since, ok := seen[k]
		if !ok {
			if len(seen) < maxTombstoneWatch {
				seen[k] = wall
			}
			return true
		}
		if wall.Sub(since) >= c.cfg.TombstoneGrace {
			due = append(due, []byte(k))
		}
		return true
	})
	for k := range seen { // written again, or collected
		if !still[k] {
			delete(seen, k)
		}
	}
	collected := 0
	for _, k := range due {
		if c.collectKey(k) {
			collected++
			if seen != nil {
				delete(seen, string(k))
			}
		}
	}
	return collected
}

// collectKey checks that every replica holds the same invisible state of
// key, then purges it everywhere if unchanged.
func (c *Coordinator) collectKey(key []byte) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*c.cfg.RequestTimeout)
	defer cancel()
	prefs, _ := c.placement(key)
	for _, p := range prefs {
		if !c.alive(p) {
			c.m.gc.WithLabelValues("replica_unavailable").Inc()
			return false
		}
	}
	var state []byte
	for _, p := range prefs {
		var enc []byte
		if p == c.cfg.LocalID {
			o, err := c.cfg.Store.Get(key)
			if err != nil {
				return false
			}
			enc = o.AppendBinary(nil)
		} else {
			ans := c.wait(ctx, c.start(p, message{typ: msgRead, key: key}))
			if ans.typ != msgReadResp || ans.err != "" {
				c.m.gc.WithLabelValues("replica_unavailable").Inc()
				return false
			}
			enc = ans.obj
		}
		if state == nil {
			state = enc
		} else if !bytes.Equal(state, enc) {
			c.m.gc.WithLabelValues("replicas_differ").Inc()
			return false
		}
	}
	o, err := object.Decode(state)
	if err != nil || o.Visible(timeNow().UnixMilli()) {
		return false
	}
	purged := 0
	for _, p := range prefs {
		if p == c.cfg.LocalID {
			if ok, err := c.cfg.Store.Purge(key, state); err == nil && ok {
				purged++
			}
			continue
		}
		ans := c.wait(ctx, c.start(p, message{typ: msgPurge, key: key, obj: state}))
		if ans.typ == msgPurgeResp && ans.err == "" && ans.result.OK {
			purged++
		}
	}
	if purged == 0 {
		c.m.gc.WithLabelValues("changed").Inc()
		return false
	}
	c.m.gc.WithLabelValues("collected").Inc()
	return true
}

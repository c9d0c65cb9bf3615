package paxossim

import (
	"maps"
	"slices"

	"github.com/cairndb/cairn/paxos"
	"github.com/cairndb/cairn/sim"
)

// Replacement: a restart that wipes the node's disk, as when an operator
// removes a member, wipes it and adds it back. The new acceptor has
// forgotten what the old one promised and accepted, so it first merges the
// states of enough other replicas of each key (paxos.MergeAcceptorStates),
// as the eventual tier's recovery does (eventual/coord/recovery.go).

// replacedFile marks a disk wiped by a replacement; recoveredFile(key)
// marks a key caught up on since. Both are synced before they matter.
const replacedFile = "replaced"

func recoveredFile(key string) string { return "recovered/" + key }

// mayReplace reports whether node may be replaced now: as an operator
// replaces one member at a time and waits for it to catch up, no key may
// have more than n-Q replicas that are still catching up (beyond that the
// chosen values may be gone from every replica that could teach them, and
// recovery waits forever, as it must).
func (c *cluster) mayReplace(node sim.NodeID) bool {
	for _, k := range c.keys {
		reps := c.replicas[k]
		if !slices.Contains(reps, paxos.NodeID(node)) {
			continue
		}
		behind := 0
		for _, r := range reps {
			if c.behind[k][sim.NodeID(r)] && sim.NodeID(r) != node {
				behind++
			}
		}
		if behind+1 > len(reps)-(len(reps)/2+1) {
			return false
		}
	}
	return true
}

// replace wipes h's disk and tells the checker that the node's earlier
// promises and acceptances are gone with it.
func (c *cluster) replace(h *sim.Host[paxos.Message]) {
	for _, k := range c.keys {
		if slices.Contains(c.replicas[k], paxos.NodeID(h.ID())) {
			if c.behind[k] == nil {
				c.behind[k] = map[sim.NodeID]bool{}
			}
			c.behind[k][h.ID()] = true
		}
	}
	d := h.Disk()
	for _, name := range d.Names() {
		d.Remove(name)
		d.Sync(name)
	}
	d.WriteFile(replacedFile, nil)
	d.Sync(replacedFile)
	c.check.replaced(h.ID())
	c.res.Replaced++
}

// recover merges, for every key not caught up on, the state of each live
// replica not merged yet, and ends the key's recovery once
// paxos.RecoveryPeers of them are merged.
func (n *Node) recover() {
	if len(n.recovering) == 0 {
		return
	}
	d := n.h.Disk()
	for _, key := range slices.Sorted(maps.Keys(n.recovering)) {
		done := n.recovering[key]
		replicas := n.c.replicas[key]
		for _, r := range replicas {
			peer := sim.NodeID(r)
			if peer == n.h.ID() || done[peer] {
				continue
			}
			other, up := n.c.node(peer)
			if !up {
				continue
			}
			if _, behind := other.recovering[key]; behind {
				continue // a replica still catching up may lack what a merge needs
			}
			s := n.acc[key]
			merged := paxos.MergeAcceptorStates(s, other.acc[key])
			n.c.check.transition(n.h.ID(), key, s, merged)
			if !merged.Committed.Equal(s.Committed) {
				n.c.check.committed(n.h.ID(), key, merged.Committed)
			}
			n.acc[key] = merged
			d.WriteFile(accFile(key), paxos.EncodeAcceptorState(merged))
			d.Sync(accFile(key))
			done[peer] = true
		}
		if len(done) >= paxos.RecoveryPeers(len(replicas)) {
			d.WriteFile(recoveredFile(key), nil)
			d.Sync(recoveredFile(key))
			delete(n.recovering, key)
			delete(n.c.behind[key], n.h.ID())
			n.c.res.Recovered++
		}
	}
}

package gossip

import "fmt"

// enqueue queues u for piggybacking, counting an update dropped at the
// bound.
func (n *Node) enqueue(u Update) {
	if n.queue.push(u) {
		n.stats.UpdatesDropped++
	}
}

// Valid checks the node's internal invariants and returns the first one
// broken: the table's indexes, the live count, the down list, the
// suspicion timers, the broadcast queue and this node's own row. It costs
// O(table size); simulator tests call it after every step on small
// clusters.
func (n *Node) Valid() error {
	if len(n.members) != len(n.all) || len(n.all) > n.cfg.MaxMembers {
		return fmt.Errorf("table: %d members, %d in all, max %d", len(n.members), len(n.all), n.cfg.MaxMembers)
	}
	live, dead, suspects := 0, 0, 0
	for i, id := range n.all {
		m, ok := n.members[id]
		switch {
		case !ok:
			return fmt.Errorf("table: %d in all but not in members", id)
		case int(m.pos) != i:
			return fmt.Errorf("table: member %d at %d, pos says %d", id, i, m.pos)
		case !m.state.Valid():
			return fmt.Errorf("table: member %d in state %v", id, m.state)
		case m.inc == 0:
			return fmt.Errorf("table: member %d at incarnation 0", id)
		case (m.state == StateSuspect) != (m.susp != nil):
			return fmt.Errorf("table: member %d is %v with suspicion %v", id, m.state, m.susp != nil)
		case (m.state == StateDead) != (m.downPos >= 0):
			return fmt.Errorf("table: member %d is %v at down position %d", id, m.state, m.downPos)
		}
		if m.state.Live() {
			live++
		}
		if m.state == StateDead {
			dead++
			if int(m.downPos) >= len(n.down) || n.down[m.downPos] != id {
				return fmt.Errorf("table: dead member %d not at its down position %d", id, m.downPos)
			}
		}
		if m.susp != nil {
			suspects++
			if m.susp.index < 0 || m.susp.index >= len(n.suspicions) || n.suspicions[m.susp.index] != m.susp {
				return fmt.Errorf("table: suspicion of %d not in the heap", id)
			}
		}
	}
	switch {
	case live != n.live:
		return fmt.Errorf("table: %d live members, count says %d", live, n.live)
	case dead != len(n.down):
		return fmt.Errorf("table: %d dead members, down list has %d", dead, len(n.down))
	case suspects != len(n.suspicions):
		return fmt.Errorf("table: %d suspects, %d suspicion timers", suspects, len(n.suspicions))
	case n.members[n.cfg.ID] != n.self:
		return fmt.Errorf("self: not in the table")
	case n.left != (n.self.state == StateLeft):
		return fmt.Errorf("self: left %v but state %v", n.left, n.self.state)
	case !n.left && n.self.state != StateAlive:
		return fmt.Errorf("self: believes itself %v", n.self.state)
	case n.health < 0 || n.health > n.cfg.MaxLocalHealth:
		return fmt.Errorf("local health %d out of 0..%d", n.health, n.cfg.MaxLocalHealth)
	case len(n.relays) > n.cfg.MaxPendingRelays:
		return fmt.Errorf("%d relays, max %d", len(n.relays), n.cfg.MaxPendingRelays)
	case len(n.reap) > 2*n.cfg.MaxMembers+1:
		return fmt.Errorf("reap queue of %d entries", len(n.reap))
	}
	return n.queue.valid()
}

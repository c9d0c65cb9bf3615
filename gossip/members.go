package gossip

// This file holds the membership table and the rules that change it. Every
// change of a member's state or incarnation goes through apply (news from
// others, this node's own suspicions included), declareDead (a suspicion
// timer that ran out) or applyAboutSelf (news about this node), and then
// through setState, which keeps the table's indexes, and emit, which
// reports it.

// insert adds a member to the table in state s. The table must have room.
func (n *Node) insert(id NodeID, addr, meta string, inc uint64, s State) *member {
	m := &member{id: id, addr: addr, meta: meta, inc: inc, since: n.now, pos: int32(len(n.all)), downPos: -1}
	n.members[id] = m
	n.all = append(n.all, id)
	n.setState(m, s, inc)
	if id != n.cfg.ID {
		// A new member is probed within the current round: insert it at a
		// random place ahead in the probe order (memberlist does too).
		n.probeOrder = append(n.probeOrder, id)
		if rest := len(n.probeOrder) - n.probeNext; rest > 1 {
			j := n.probeNext + n.rng.IntN(rest)
			last := len(n.probeOrder) - 1
			n.probeOrder[j], n.probeOrder[last] = n.probeOrder[last], n.probeOrder[j]
		}
	}
	return m
}

// makeRoom frees a row for a new member if the table is full, by
// forgetting the oldest dead or left member; it reports whether there is
// room.
func (n *Node) makeRoom() bool {
	if len(n.all) < n.cfg.MaxMembers {
		return true
	}
	for len(n.reap) > 0 {
		e := n.reap[0]
		n.reap = n.reap[1:]
		if m, ok := n.members[e.id]; ok && !m.state.Live() && m.since == e.since {
			n.forget(m)
			return true
		}
	}
	n.stats.MembersRefused++
	return false
}

// forget removes a dead or left member from the table.
func (n *Node) forget(m *member) {
	last := n.all[len(n.all)-1]
	n.all[m.pos] = last
	n.members[last].pos = m.pos
	n.all = n.all[:len(n.all)-1]
	n.removeDown(m)
	delete(n.members, m.id)
	n.queue.remove(m.id)
	if n.phi != nil {
		n.phi.Remove(m.id)
	}
	// The probe order skips unknown IDs; it is rebuilt at the next round.
}

// setState moves m to state s at incarnation inc and keeps the live
// count, the down list, the reap queue and the suspicions in step. It does
// not emit: callers know which event the change is.
func (n *Node) setState(m *member, s State, inc uint64) {
	was := m.state
	m.inc, m.since = inc, n.now
	if !s.Live() && m != n.self {
		// Any change restarts the retention: older entries are voided by
		// their since.
		n.reap = append(n.reap, reapEntry{id: m.id, since: m.since})
		if len(n.reap) > 2*n.cfg.MaxMembers {
			n.compactReap()
		}
	}
	if was == s {
		return
	}
	m.state = s
	if was.Live() && !s.Live() {
		n.live--
	} else if !was.Live() && s.Live() {
		n.live++
	}
	if was == StateSuspect && m.susp != nil {
		n.suspicions.remove(m.susp)
		m.susp = nil
	}
	if was == StateDead {
		n.removeDown(m)
	}
	if s == StateDead {
		m.downPos = int32(len(n.down))
		n.down = append(n.down, m.id)
	}
}

func (n *Node) removeDown(m *member) {
	if m.downPos < 0 {
		return
	}
	last := n.down[len(n.down)-1]
	n.down[m.downPos] = last
	n.members[last].downPos = m.downPos
	n.down = n.down[:len(n.down)-1]
	m.downPos = -1
}

// emit records an event about m, dropping the oldest at the bound.
func (n *Node) emit(k EventKind, m *member, prev State, prevInc uint64, by NodeID) {
	if len(n.events) >= n.cfg.MaxPendingEvents {
		n.events = n.events[1:]
		n.eventsDropped++
	}
	n.events = append(n.events, Event{Kind: k, Member: n.snapshot(m, false), PrevState: prev, PrevIncarnation: prevInc, By: by})
}

// origin says how an update arrived, which decides how far it is trusted
// and whether it is passed on.
type origin uint8

const (
	// viaGossip: piggybacked or gossiped news, passed on in turn.
	viaGossip origin = iota + 1
	// viaTable: an entry of a push-pull table about a third member.
	// Anti-entropy content is old news to most of the cluster, so it is
	// not gossiped again (memberlist does, and a joiner then re-announces
	// the whole cluster), except suspicions, which the suspect must hear,
	// and revivals of dead members (see applyAlive).
	viaTable
	// viaTableOwn: the push-pull sender's own entry, first-hand and
	// fresh: a joiner, or a member found again after a partition.
	viaTableOwn
)

// passOn reports whether an accepted update of state s is worth gossiping.
func (o origin) passOn(s State) bool { return o != viaTable || s == StateSuspect }

// apply merges one update received from another node.
func (n *Node) apply(u Update, o origin) {
	if u.Member == n.cfg.ID {
		n.applyAboutSelf(u)
		return
	}
	if o != viaGossip && u.State == StateDead {
		// A table says the member is dead: suspect it rather than bury
		// it, so that it gets a chance to refute (memberlist does the same).
		// A node that was cut off would otherwise bring back a whole
		// partition's worth of deaths.
		u.State = StateSuspect
	}
	m, known := n.members[u.Member]
	if !known {
		n.applyUnknown(u, o)
		return
	}
	switch u.State {
	case StateAlive:
		n.applyAlive(m, u, o)
	case StateSuspect:
		n.applySuspect(m, u, o)
	case StateDead, StateLeft:
		n.applyGone(m, u, o)
	}
}

// applyUnknown adds a member this node has never seen. Only an alive
// update introduces one, or a suspect entry of a push-pull table (a
// suspected member is still a member); deaths and leaves of strangers are
// no news.
func (n *Node) applyUnknown(u Update, o origin) {
	if u.State != StateAlive && !(o != viaGossip && u.State == StateSuspect) {
		return
	}
	if !n.makeRoom() {
		return
	}
	m := n.insert(u.Member, u.Addr, u.Meta, u.Incarnation, StateAlive)
	n.emit(EventJoin, m, 0, 0, 0)
	if o.passOn(StateAlive) {
		n.enqueue(Update{Member: m.id, Incarnation: m.inc, State: StateAlive, Addr: m.addr, Meta: m.meta})
	}
	if u.State == StateSuspect {
		n.applySuspect(m, u, o)
	}
}

// applyAlive: an alive update wins only with a higher incarnation, which
// the member alone can issue; it revives a dead or left member (a restart).
func (n *Node) applyAlive(m *member, u Update, o origin) {
	if u.Incarnation <= m.inc {
		return
	}
	prev, prevInc := m.state, m.inc
	m.addr, m.meta = u.Addr, u.Meta
	n.setState(m, StateAlive, u.Incarnation)
	switch {
	case !prev.Live():
		n.emit(EventJoin, m, prev, prevInc, 0)
	case prev == StateSuspect:
		n.emit(EventAlive, m, prev, prevInc, 0)
	default:
		n.emit(EventUpdate, m, prev, prevInc, 0)
	}
	// A revival is news even from a table: after a partition heals, the
	// other side's refutations reach this side only through push-pulls,
	// and each node would otherwise wait for its own.
	if o.passOn(StateAlive) || !prev.Live() {
		n.enqueue(u)
	}
}

// applySuspect starts or confirms a suspicion of a live member.
func (n *Node) applySuspect(m *member, u Update, o origin) {
	if !m.state.Live() || u.Incarnation < m.inc {
		return
	}
	if u.Incarnation == m.inc && m.state == StateSuspect {
		if m.susp.confirm(u.From) {
			n.suspicions.fix(m.susp)
			n.enqueue(u)
		}
		return
	}
	prev, prevInc := m.state, m.inc
	if o != viaGossip && u.Incarnation > m.inc {
		m.addr, m.meta = u.Addr, u.Meta // a table entry carries them
	}
	n.suspect(m, u.Incarnation, u.From)
	kind := EventSuspect
	if prev == StateSuspect {
		kind = EventUpdate // suspected again at a higher incarnation
	}
	n.emit(kind, m, prev, prevInc, u.From)
	n.enqueue(Update{Member: m.id, Incarnation: m.inc, State: StateSuspect, From: u.From})
}

// suspect moves a live member to suspect at inc with a fresh timer.
func (n *Node) suspect(m *member, inc uint64, accuser NodeID) {
	if m.susp != nil {
		n.suspicions.remove(m.susp)
		m.susp = nil
	}
	n.setState(m, StateSuspect, inc)
	lo, hi := suspicionBounds(&n.cfg, n.live)
	// K: the independent suspicions to expect, at most the other live
	// members that could probe m (neither m nor the first accuser).
	k := min(n.cfg.IndirectChecks, n.live-2)
	m.susp = newSuspicion(m.id, accuser, n.now, k, lo, hi)
	n.suspicions.add(m.susp)
}

// applyGone applies a dead or left update.
func (n *Node) applyGone(m *member, u Update, o origin) {
	if !newer(u.Incarnation, u.State, m.inc, m.state) {
		return
	}
	prev, prevInc := m.state, m.inc
	n.setState(m, u.State, u.Incarnation)
	switch {
	case u.State == StateLeft:
		n.emit(EventLeave, m, prev, prevInc, 0)
	case prev == StateDead:
		n.emit(EventUpdate, m, prev, prevInc, u.From)
	default:
		n.emit(EventDead, m, prev, prevInc, u.From)
	}
	if o.passOn(u.State) {
		n.enqueue(Update{Member: m.id, Incarnation: m.inc, State: u.State, From: u.From})
	}
}

// declareDead is the end of a suspicion that nobody refuted in time.
func (n *Node) declareDead(m *member) {
	prevInc := m.inc
	n.setState(m, StateDead, m.inc)
	n.stats.DeadDeclared++
	n.log.Debug("gossip: declared dead", "node", n.cfg.ID, "member", m.id, "incarnation", m.inc)
	n.emit(EventDead, m, StateSuspect, prevInc, n.cfg.ID)
	n.enqueue(Update{Member: m.id, Incarnation: m.inc, State: StateDead, From: n.cfg.ID})
}

// applyAboutSelf refutes any news that this node is not alive at its
// current incarnation: a suspicion, a death, a leave it did not make, or
// an alive message of a former life with a higher incarnation (or the same
// incarnation with other metadata).
func (n *Node) applyAboutSelf(u Update) {
	if n.left {
		return // gone is gone; the driver restarts a node to bring it back
	}
	var refute bool
	if u.State == StateAlive {
		refute = u.Incarnation > n.self.inc ||
			(u.Incarnation == n.self.inc && (u.Addr != n.self.addr || u.Meta != n.self.meta))
	} else {
		refute = u.Incarnation >= n.self.inc
	}
	if !refute {
		return
	}
	prev := n.self.inc
	n.setSelfIncarnation(max(n.self.inc, u.Incarnation) + 1)
	n.stats.Refutations++
	if u.State != StateAlive {
		// Lifeguard: being suspected is a sign that this node, not its
		// accuser, may be the slow one.
		n.adjustHealth(1)
	}
	n.log.Debug("gossip: refuted", "node", n.cfg.ID, "news", u.String(), "incarnation", n.self.inc)
	n.emit(EventUpdate, n.self, StateAlive, prev, 0)
	// The refutation races the suspicion timers of every node that heard
	// the accusation: push it to a few members at once instead of waiting
	// for the next probe, which local health may have pushed far away.
	alive := n.selfUpdate()
	for _, id := range n.randomLive(n.cfg.IndirectChecks, 0) {
		n.send(id, Message{Kind: MsgGossip}, &alive)
	}
}

// tickSuspicions declares dead every suspect whose timer ran out.
func (n *Node) tickSuspicions() {
	for len(n.suspicions) > 0 && n.suspicions[0].deadline <= n.now {
		s := n.suspicions[0]
		n.declareDead(n.members[s.member]) // setState removes s from the heap
	}
}

// compactReap drops the voided entries of the reap queue, which bounds it
// by 2·MaxMembers: at most one valid entry per member remains.
func (n *Node) compactReap() {
	kept := n.reap[:0]
	for _, e := range n.reap {
		if m, ok := n.members[e.id]; ok && !m.state.Live() && m.since == e.since {
			kept = append(kept, e)
		}
	}
	clear(n.reap[len(kept):])
	n.reap = kept
}

// tickReap forgets dead and left members after DeadRetentionTicks.
func (n *Node) tickReap() {
	for len(n.reap) > 0 && n.reap[0].since+uint64(n.cfg.DeadRetentionTicks) <= n.now {
		e := n.reap[0]
		n.reap = n.reap[1:]
		if m, ok := n.members[e.id]; ok && !m.state.Live() && m.since == e.since {
			n.forget(m)
		}
	}
	if cap(n.reap) > 64 && len(n.reap) < cap(n.reap)/4 {
		n.reap = append([]reapEntry(nil), n.reap...) // let the consumed prefix go
	}
}

// randomLive returns up to k distinct live members other than this node
// and except, in random order.
func (n *Node) randomLive(k int, except NodeID) []NodeID {
	candidates := n.live - 1
	if !n.self.state.Live() {
		candidates = n.live
	}
	if m, ok := n.members[except]; ok && except != n.cfg.ID && m.state.Live() {
		candidates--
	}
	k = min(k, candidates)
	if k <= 0 {
		return nil
	}
	picked := make([]NodeID, 0, k)
	ok := func(id NodeID) bool {
		if id == n.cfg.ID || id == except || !n.members[id].state.Live() {
			return false
		}
		for _, p := range picked {
			if p == id {
				return false
			}
		}
		return true
	}
	// Rejection sampling is O(k) while live members are most of the
	// table; the bounded attempts fall back to a scan when they are not.
	for tries := 0; tries < 8*k+16 && len(picked) < k; tries++ {
		if id := n.all[n.rng.IntN(len(n.all))]; ok(id) {
			picked = append(picked, id)
		}
	}
	if len(picked) < k {
		start := n.rng.IntN(len(n.all))
		for i := range n.all {
			if len(picked) == k {
				break
			}
			if id := n.all[(start+i)%len(n.all)]; ok(id) {
				picked = append(picked, id)
			}
		}
	}
	return picked
}

// adjustHealth moves the local health multiplier by delta within
// [0, MaxLocalHealth].
func (n *Node) adjustHealth(delta int) {
	n.health = min(max(n.health+delta, 0), n.cfg.MaxLocalHealth)
}

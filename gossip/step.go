package gossip

import "fmt"

// Tick advances the node's clock by one tick and runs what is due: the
// probe, suspicion timers, indirect probes for others, gossip, push-pull,
// reconnection, join retries and the forgetting of the long dead.
func (n *Node) Tick() {
	n.now++
	n.repliesInTick = 0
	n.tickSuspicions()
	n.tickRelays()
	n.tickProbe()
	n.tickGossip()
	n.tickPushPull()
	n.tickJoin()
	n.tickReap()
}

// Step hands the node a message that from sent. from is the sender as the
// transport knows it: it must match msg.From (a driver that cannot tell
// the sender, plain UDP, passes msg.From). Step returns an
// ErrInvalidMessage error, and changes nothing, for a message that breaks
// the configured limits, has no sender or another sender than from; a
// message from this node itself is ignored.
func (n *Node) Step(from NodeID, msg Message) error {
	if err := validateMessage(&msg, n.cfg.Limits()); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidMessage, err)
	}
	if msg.From != from {
		return fmt.Errorf("%w: %s claims sender %d, came from %d", ErrInvalidMessage, msg.Kind, msg.From, from)
	}
	if msg.From == n.cfg.ID {
		return nil
	}
	n.stats.MessagesReceived++
	if _, known := n.members[msg.From]; known && n.phi != nil && !msg.Kind.Stream() {
		// Only datagrams from members: they are what a probe measures, and
		// forget removes members from the detector. Its MaxNodes is
		// MaxMembers, so the error cannot happen.
		_ = n.phi.Heartbeat(msg.From, n.phiTime())
	}
	if n.left {
		if msg.Kind == MsgPing && msg.To == n.cfg.ID {
			u := n.selfUpdate()
			n.send(msg.From, Message{Kind: MsgAck, Seq: msg.Seq}, &u)
		}
		return nil
	}
	switch msg.Kind {
	case MsgPing:
		if msg.To != n.cfg.ID {
			n.stats.Misdirected++
			return nil
		}
		n.applyAll(msg.Updates)
		n.send(msg.From, Message{Kind: MsgAck, Seq: msg.Seq}, n.accusation(msg.From))
	case MsgAck:
		n.applyAll(msg.Updates)
		n.onAck(&msg)
	case MsgNack:
		n.applyAll(msg.Updates)
		n.onNack(&msg)
	case MsgPingReq:
		n.applyAll(msg.Updates)
		n.onPingReq(&msg)
	case MsgGossip:
		n.applyAll(msg.Updates)
	case MsgPushPull:
		n.onPushPull(&msg)
	case MsgPushPullReply:
		n.merge(&msg)
		n.joined = true
	}
	return nil
}

func (n *Node) applyAll(us []Update) {
	for _, u := range us {
		n.apply(u, viaGossip)
	}
}

// accusation returns this node's suspicion or death verdict about from, to
// put first in a reply to it: a member that talks to us while we think it
// suspect or dead learns so at once and refutes, instead of waiting for
// the news to find it (it matters after a partition heals, when nobody
// probes the members they declared dead).
func (n *Node) accusation(from NodeID) *Update {
	m, ok := n.members[from]
	if !ok || (m.state != StateSuspect && m.state != StateDead) {
		return nil
	}
	return &Update{Member: m.id, Incarnation: m.inc, State: m.state, From: n.cfg.ID}
}

// send queues a datagram (or, for push-pull kinds, a stream message) to
// to, with first (if any) ahead of the piggybacked updates.
func (n *Node) send(to NodeID, msg Message, first *Update) {
	if len(n.out) >= n.cfg.MaxPendingMessages {
		n.stats.MessagesDropped++
		return
	}
	msg.From, msg.To = n.cfg.ID, to
	if !msg.Kind.Stream() {
		budget := n.cfg.MaxMessageBytes - EncodedSize(&msg) - 2 // the count may grow by 2 bytes
		count := n.cfg.MaxUpdatesPerMessage
		var skip NodeID
		if first != nil {
			msg.Updates = append(msg.Updates, *first)
			budget -= encodedUpdateSize(first)
			count--
			skip = first.Member
		}
		msg.Updates = n.queue.take(msg.Updates, count, budget, n.retransmitLimit(), skip)
	}
	n.stats.MessagesSent++
	n.out = append(n.out, Outbound{Addr: n.addrOf(to), Msg: msg})
}

// addrOf returns the address to send to: the member's own, else a seed's.
func (n *Node) addrOf(id NodeID) string {
	if m, ok := n.members[id]; ok && m.addr != "" {
		return m.addr
	}
	for _, s := range n.seeds {
		if s.ID == id {
			return s.Addr
		}
	}
	return ""
}

// retransmitLimit is λ·ceil(log10(N+1)), the messages each update rides.
// ceil(log10(N+1)) is the number of decimal digits of N.
func (n *Node) retransmitLimit() int {
	digits := 1
	for v := n.live; v >= 10; v /= 10 {
		digits++
	}
	return n.cfg.RetransmitMult * digits
}

// tickGossip sends pending updates to GossipFanout random live members.
func (n *Node) tickGossip() {
	if n.cfg.GossipFanout == 0 || n.left || n.now < n.nextGossip {
		return
	}
	n.nextGossip = n.now + uint64(n.cfg.GossipIntervalTicks)
	if n.queue.size == 0 {
		return
	}
	for _, id := range n.randomLive(n.cfg.GossipFanout, 0) {
		n.send(id, Message{Kind: MsgGossip}, nil)
	}
}

// Ready is the batch of effects the node produced since the last call.
type Ready struct {
	// Incarnation, if not 0, is this node's new incarnation: the driver
	// must persist it (as the next start's Config.LastIncarnation) before
	// it sends Messages, which may carry it.
	Incarnation uint64
	// Messages are to be sent, in order; each is fire-and-forget (the
	// protocol tolerates loss), and push-pull kinds go over a stream.
	Messages []Outbound
	// Events are the membership changes, in order.
	Events []Event
	// EventsDropped counts events dropped at MaxPendingEvents since the
	// last Ready: a subscriber should resynchronize from Members.
	EventsDropped int
}

// HasReady reports whether Ready would return anything.
func (n *Node) HasReady() bool {
	return n.persistInc || len(n.out) > 0 || len(n.events) > 0 || n.eventsDropped > 0
}

// Ready hands out the pending effects; the node forgets them.
func (n *Node) Ready() Ready {
	rd := Ready{Messages: n.out, Events: n.events, EventsDropped: n.eventsDropped}
	if n.persistInc {
		rd.Incarnation = n.self.inc
	}
	n.out, n.events, n.eventsDropped, n.persistInc = nil, nil, 0, false
	return rd
}

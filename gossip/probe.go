package gossip

// This file is SWIM's failure detector (Das, Gupta and Motivala, "SWIM:
// Scalable Weakly-consistent Infection-style Process Group Membership
// Protocol", DSN 2002, §3-4) with Lifeguard's local health awareness
// (Dadgar et al. 2018, §IV-A and IV-C).
//
// Each period this node pings the next member of a shuffled round-robin
// order. Without an ack within the probe timeout it asks IndirectChecks
// helpers to ping the member for it; helpers relay the ack, or send a
// nack when they heard none. At the end of the period an unanswered probe
// makes the member suspect. Both the period and the timeout are scaled by
// the local health multiplier, which rises with each failed probe (by the
// number of nacks that did not come: a node that hears neither acks nor
// nacks is more likely the one at fault) and each refuted suspicion of
// this node, and falls with each successful probe.

// probeState is the probe in progress, if active.
type probeState struct {
	active    bool
	target    NodeID
	targetInc uint64 // the incarnation the probe is about
	seq       uint64
	timeoutAt uint64 // tick at which helpers are asked
	endAt     uint64 // end of the period
	acked     bool
	indirect  bool // helpers were asked
	helpers   int  // nacks expected (Lifeguard), 0 if nacks are off
	nacks     int
}

// relay is an indirect probe this node runs for another.
type relay struct {
	seq       uint64 // our ping's sequence number
	requester NodeID
	reqSeq    uint64 // the requester's sequence number, to answer under
	start     uint64
	nacked    bool
}

// nackTicks is when a helper gives up on the target and nacks: 80% of the
// probe timeout after the ping-req (memberlist), so that the nack reaches
// the prober before its period ends.
func (n *Node) nackTicks() uint64 { return uint64(max(1, n.cfg.ProbeTimeoutTicks*4/5)) }

func (n *Node) tickProbe() {
	if n.left {
		return
	}
	p := &n.probe
	if p.active && !p.acked && !p.indirect && n.now >= p.timeoutAt {
		n.askHelpers()
	}
	if p.active && n.now >= p.endAt {
		n.finishProbe()
	}
	if !p.active && n.now >= n.nextProbe {
		n.startProbe()
	}
}

// nextTarget returns the next live member of the round-robin order,
// reshuffling the order at the end of each round.
func (n *Node) nextTarget() (*member, bool) {
	for pass := 0; pass < 2; pass++ {
		for n.probeNext < len(n.probeOrder) {
			id := n.probeOrder[n.probeNext]
			n.probeNext++
			if m, ok := n.members[id]; ok && m.state.Live() && m != n.self {
				return m, true
			}
		}
		n.probeOrder = n.probeOrder[:0]
		for _, id := range n.all {
			if id != n.cfg.ID {
				n.probeOrder = append(n.probeOrder, id)
			}
		}
		n.rng.Shuffle(len(n.probeOrder), func(i, j int) {
			n.probeOrder[i], n.probeOrder[j] = n.probeOrder[j], n.probeOrder[i]
		})
		n.probeNext = 0
	}
	return nil, false
}

func (n *Node) startProbe() {
	scale := uint64(n.health + 1)
	m, ok := n.nextTarget()
	if !ok {
		n.nextProbe = n.now + uint64(n.cfg.ProbeIntervalTicks)*scale
		return
	}
	n.seq++
	n.probe = probeState{
		active:    true,
		target:    m.id,
		targetInc: m.inc,
		seq:       n.seq,
		timeoutAt: n.now + uint64(n.cfg.ProbeTimeoutTicks)*scale,
		endAt:     n.now + uint64(n.cfg.ProbeIntervalTicks)*scale,
	}
	n.nextProbe = n.probe.endAt
	n.stats.ProbesSent++
	var first *Update
	if m.state == StateSuspect {
		// Tell a suspect member that it is suspected, so that it can refute
		// at once (memberlist and Lifeguard's "buddy system").
		first = &Update{Member: m.id, Incarnation: m.inc, State: StateSuspect, From: n.cfg.ID}
	}
	n.send(m.id, Message{Kind: MsgPing, Seq: n.seq}, first)
}

func (n *Node) askHelpers() {
	p := &n.probe
	p.indirect = true
	helpers := n.randomLive(n.cfg.IndirectChecks, p.target)
	for _, h := range helpers {
		n.send(h, Message{Kind: MsgPingReq, Seq: p.seq, Target: p.target}, nil)
	}
	n.stats.IndirectProbes++
	if n.cfg.Nacks {
		p.helpers = len(helpers)
	}
}

func (n *Node) finishProbe() {
	p := n.probe
	n.probe = probeState{}
	if p.acked {
		n.stats.ProbesAcked++
		n.adjustHealth(-1)
		return
	}
	n.stats.ProbesFailed++
	missing := 1
	if p.helpers > 0 {
		missing = p.helpers - min(p.nacks, p.helpers)
	}
	n.adjustHealth(missing)
	m, ok := n.members[p.target]
	if !ok || !m.state.Live() || m.inc != p.targetInc {
		return // the member changed meanwhile: it refuted, died or left
	}
	n.stats.SuspicionsRaised++
	n.apply(Update{Member: m.id, Incarnation: m.inc, State: StateSuspect, From: n.cfg.ID}, viaGossip)
}

// onAck handles an ack: of our probe (direct, or relayed by a helper), or
// of a ping we sent for a requester, which we relay.
func (n *Node) onAck(msg *Message) {
	if p := &n.probe; p.active && msg.Seq == p.seq {
		p.acked = true
		return
	}
	for i := range n.relays {
		r := &n.relays[i]
		if r.seq == msg.Seq {
			n.send(r.requester, Message{Kind: MsgAck, Seq: r.reqSeq}, nil)
			n.relays = append(n.relays[:i], n.relays[i+1:]...)
			return
		}
	}
}

func (n *Node) onNack(msg *Message) {
	if p := &n.probe; p.active && msg.Seq == p.seq {
		p.nacks++
		n.stats.NacksReceived++
	}
}

// onPingReq starts an indirect probe for msg.From.
func (n *Node) onPingReq(msg *Message) {
	if msg.Target == n.cfg.ID {
		n.send(msg.From, Message{Kind: MsgAck, Seq: msg.Seq}, n.accusation(msg.From))
		return
	}
	if len(n.relays) >= n.cfg.MaxPendingRelays {
		n.stats.RelaysRefused++
		return
	}
	n.seq++
	n.relays = append(n.relays, relay{seq: n.seq, requester: msg.From, reqSeq: msg.Seq, start: n.now})
	n.send(msg.Target, Message{Kind: MsgPing, Seq: n.seq}, nil)
}

// tickRelays nacks the indirect probes that got no ack in time and drops
// them after the probe timeout.
func (n *Node) tickRelays() {
	kept := n.relays[:0]
	for _, r := range n.relays {
		if n.cfg.Nacks && !r.nacked && n.now >= r.start+n.nackTicks() {
			r.nacked = true
			n.stats.NacksSent++
			n.send(r.requester, Message{Kind: MsgNack, Seq: r.reqSeq}, nil)
		}
		if n.now < r.start+uint64(n.cfg.ProbeTimeoutTicks) {
			kept = append(kept, r)
		}
	}
	clear(n.relays[len(kept):])
	n.relays = kept
}

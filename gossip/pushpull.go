package gossip

import "math"

// This file is the full-state exchange (push-pull): anti-entropy with one
// random live member every push-pull interval, joining through seeds, and
// reconnection to dead members, which is how the sides of a healed
// partition, having declared each other dead, find each other again
// (memberlist leaves that to serf's reconnect loop; here it is part of the
// core).

// pushPullTicks is the anti-entropy period for the current cluster size:
// the configured interval up to 32 live members, then one more interval
// per doubling (memberlist's pushPullScale), so that the cluster sends
// O(N / log N) full tables per interval instead of O(N).
func (n *Node) pushPullTicks() uint64 {
	const threshold = 32
	base := uint64(n.cfg.PushPullIntervalTicks)
	if n.live <= threshold {
		return base
	}
	mult := math.Ceil(math.Log2(float64(n.live))-math.Log2(threshold)) + 1
	return base * uint64(mult)
}

func (n *Node) tickPushPull() {
	if n.left {
		return
	}
	if n.now >= n.nextPushPull {
		n.nextPushPull = n.now + n.pushPullTicks()
		if ids := n.randomLive(1, 0); len(ids) == 1 {
			n.sendPushPull(ids[0])
		}
	}
	if n.now >= n.nextReconnect {
		n.nextReconnect = n.now + uint64(n.cfg.ReconnectIntervalTicks)
		if len(n.down) > 0 {
			n.stats.Reconnects++
			n.sendPushPull(n.down[n.rng.IntN(len(n.down))])
		}
	}
}

// tickJoin sends a push-pull to every seed while this node has not heard
// back from one, or knows no other live member.
func (n *Node) tickJoin() {
	if n.left || len(n.seeds) == 0 || (n.joined && n.live > 1) || n.now < n.nextJoin {
		return
	}
	n.nextJoin = n.now + uint64(n.cfg.JoinRetryTicks)
	for _, s := range n.seeds {
		n.sendPushPull(s.ID)
	}
}

func (n *Node) sendPushPull(to NodeID) {
	n.stats.PushPullsSent++
	n.send(to, Message{Kind: MsgPushPull, Updates: n.table()}, nil)
}

// table returns every row of the membership table as an update.
func (n *Node) table() []Update {
	out := make([]Update, 0, len(n.all))
	for _, id := range n.all {
		m := n.members[id]
		out = append(out, Update{Member: m.id, Incarnation: m.inc, State: m.state, Addr: m.addr, Meta: m.meta})
	}
	return out
}

// onPushPull merges a peer's table and answers with ours, unless this
// tick's replies are spent (the peer retries at its next interval).
func (n *Node) onPushPull(msg *Message) {
	if n.repliesInTick >= n.cfg.MaxPushPullRepliesPerTick {
		n.stats.PushPullsRefused++
		return
	}
	n.repliesInTick++
	n.merge(msg)
	n.send(msg.From, Message{Kind: MsgPushPullReply, Updates: n.table()}, nil)
}

// merge applies a peer's table. Suspicions and deaths in it count as
// accusations by the peer.
func (n *Node) merge(msg *Message) {
	for _, u := range msg.Updates {
		if u.State == StateSuspect || u.State == StateDead {
			u.From = msg.From
		}
		o := viaTable
		if u.Member == msg.From {
			o = viaTableOwn
		}
		n.apply(u, o)
	}
}

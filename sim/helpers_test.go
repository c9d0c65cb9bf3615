package sim_test

import (
	"fmt"
	"strconv"

	"github.com/cairndb/cairn/sim"
)

// ping is the message of the trivial test protocol: each tick a node sends
// a ping to a random peer, and a ping is forwarded until it has made Hops
// hops. Every node keeps a durable count of the pings it received.
type ping struct {
	Origin sim.NodeID
	Seq    uint64
	Hops   int
}

func describePing(m ping) string { return fmt.Sprintf("ping %d.%d h%d", m.Origin, m.Seq, m.Hops) }

type pingNode struct {
	h        *sim.Host[ping]
	seq      uint64
	ticks    int
	received []ping
	maxHops  int
	persist  bool
}

func (n *pingNode) Tick() {
	n.ticks++
	n.seq++
	n.h.Send(n.randomPeer(), ping{Origin: n.h.ID(), Seq: n.seq})
}

func (n *pingNode) Deliver(from sim.NodeID, m ping) {
	n.received = append(n.received, m)
	if n.persist {
		d := n.h.Disk()
		d.Append("received", []byte(describePing(m)))
		if m.Seq%2 == 0 {
			d.Sync("received")
		}
	}
	if m.Hops < n.maxHops {
		m.Hops++
		n.h.Send(n.randomPeer(), m)
	}
}

func (n *pingNode) randomPeer() sim.NodeID {
	if n.h.N() == 1 {
		return n.h.ID()
	}
	for {
		p := sim.NodeID(1 + n.h.Rand().IntN(n.h.N()))
		if p != n.h.ID() {
			return p
		}
	}
}

// pingProtocol returns the trivial protocol; started records every
// incarnation built, keyed "id/incarnation".
func pingProtocol(maxHops int, persist bool, started map[string]*pingNode) sim.Protocol[ping] {
	return sim.Protocol[ping]{
		Start: func(h *sim.Host[ping]) sim.Node[ping] {
			n := &pingNode{h: h, maxHops: maxHops, persist: persist}
			if started != nil {
				started[strconv.Itoa(int(h.ID()))+"/"+strconv.FormatUint(h.Incarnation(), 10)] = n
			}
			return n
		},
		Describe: describePing,
	}
}

// newPingWorld builds a world of the trivial protocol or fails the test.
func newPingWorld(tb interface{ Fatal(...any) }, cfg sim.Config, maxHops int) *sim.World[ping] {
	w, err := sim.New(cfg, pingProtocol(maxHops, true, nil))
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

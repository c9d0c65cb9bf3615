package sim

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// NetStats counts what the network did with messages. Every sent message
// ends up delivered, dropped or still in flight; a duplicate adds one more
// message to account for.
type NetStats struct {
	// Sent counts Host.Send calls.
	Sent uint64
	// Delivered counts messages handed to a node.
	Delivered uint64
	// Duplicated counts messages that were sent twice by the network.
	Duplicated uint64
	// DroppedLoss counts messages lost at random (DropProb and loss bursts).
	DroppedLoss uint64
	// DroppedCut counts messages on a cut link, at send or at arrival.
	DroppedCut uint64
	// DroppedDown counts messages that arrived at a crashed node.
	DroppedDown uint64
	// DroppedFull counts messages refused because MaxInFlight or
	// PausedBacklog was reached.
	DroppedFull uint64
}

// Dropped returns the total number of dropped messages.
func (s NetStats) Dropped() uint64 {
	return s.DroppedLoss + s.DroppedCut + s.DroppedDown + s.DroppedFull
}

// NetFault is a temporary degradation on top of NetConfig, set by a
// nemesis: a loss burst or a delay spike. The zero value is no fault.
type NetFault struct {
	// ExtraDrop is added to NetConfig.DropProb (the sum is capped at 1).
	ExtraDrop float64
	// ExtraDelay is added to every message's delay.
	ExtraDelay time.Duration
}

// network is the message-passing part of the world. It draws from its own
// random stream so that protocol changes do not move the fault pattern.
type network struct {
	cfg      NetConfig
	links    *Links
	fault    NetFault
	stats    NetStats
	rng      *rand.Rand
	inFlight int
}

func newNetwork(cfg Config) network {
	return network{cfg: cfg.Net, links: FullLinks(cfg.Nodes), rng: NewRand(cfg.Seed, "net")}
}

// Stats returns the network counters.
func (w *World[M]) Stats() NetStats { return w.net.stats }

// Links returns a copy of the current link matrix.
func (w *World[M]) Links() *Links { return w.net.links.Clone() }

// SetLinks installs a link matrix (a partition); messages in flight on
// links it cuts are dropped when they arrive.
func (w *World[M]) SetLinks(l *Links) {
	if l.N() != w.cfg.Nodes {
		panic(fmt.Sprintf("sim: SetLinks with %d nodes, world has %d", l.N(), w.cfg.Nodes))
	}
	w.net.links = l.Clone()
	w.Note("links " + l.String())
}

// HealLinks removes every partition.
func (w *World[M]) HealLinks() { w.SetLinks(FullLinks(w.cfg.Nodes)) }

// SetNetFault installs a loss burst or delay spike; the zero NetFault
// removes it.
func (w *World[M]) SetNetFault(f NetFault) {
	if !(f.ExtraDrop >= 0 && f.ExtraDrop <= 1) || f.ExtraDelay < 0 {
		panic(fmt.Sprintf("sim: invalid NetFault %+v", f))
	}
	w.net.fault = f
	w.Note(fmt.Sprintf("netfault drop+%.3f delay+%v", f.ExtraDrop, f.ExtraDelay))
}

// NetFault returns the current network fault.
func (w *World[M]) NetFault() NetFault { return w.net.fault }

// send puts a message on the network: it may be dropped, duplicated,
// delayed and reordered according to the configuration and the faults.
func (w *World[M]) send(from, to NodeID, msg M) {
	w.slot(to) // bounds check: sending to a non-node is a programmer error
	n := &w.net
	n.stats.Sent++
	if !n.links.Allowed(from, to) {
		n.stats.DroppedCut++
		return
	}
	if n.rng.Float64() < min(1, n.cfg.DropProb+n.fault.ExtraDrop) {
		n.stats.DroppedLoss++
		return
	}
	copies := 1
	if n.rng.Float64() < n.cfg.DupProb {
		copies = 2
		n.stats.Duplicated++
	}
	for range copies {
		if n.inFlight >= n.cfg.MaxInFlight {
			n.stats.DroppedFull++
			continue
		}
		delay := n.cfg.MinDelay + time.Duration(n.rng.Int64N(int64(n.cfg.MaxDelay-n.cfg.MinDelay)+1)) + n.fault.ExtraDelay
		if n.cfg.ReorderProb > 0 && n.rng.Float64() < n.cfg.ReorderProb {
			delay += time.Duration(n.rng.Int64N(int64(n.cfg.ReorderDelay) + 1))
		}
		n.inFlight++
		w.push(event[M]{at: w.now + delay, kind: EventDeliver, node: to, from: from, msg: msg})
	}
}

// deliver handles an arriving message: dropped if the destination is down
// or the link was cut in flight, held if the destination is paused,
// otherwise handed to the node.
func (w *World[M]) deliver(e *event[M], rec traceRecord) {
	n := &w.net
	if !e.held { // held messages left the flight count when they were held
		n.inFlight--
	}
	rec.from = e.from
	s := w.slot(e.node)
	verdict := ""
	switch {
	case !s.up:
		n.stats.DroppedDown++
		verdict = "drop(down) "
	case !n.links.Allowed(e.from, e.node):
		n.stats.DroppedCut++
		verdict = "drop(cut) "
	case s.paused:
		if len(s.backlog) >= n.cfg.PausedBacklog {
			n.stats.DroppedFull++
			verdict = "drop(backlog) "
		} else {
			s.backlog = append(s.backlog, held[M]{from: e.from, msg: e.msg})
			verdict = "hold "
		}
	}
	rec.text = verdict + w.proto.Describe(e.msg)
	w.trace.add(rec)
	if verdict == "" {
		n.stats.Delivered++
		s.node.Deliver(e.from, e.msg)
	}
}

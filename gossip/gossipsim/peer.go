package gossipsim

import (
	"github.com/cairndb/cairn/gossip"
)

// Peer is one simulated gossip node: a gossip.Node with the driver's
// duties done as the real driver must do them. After every input it takes
// the Ready, persists a new incarnation before sending anything, reports
// the batch to the observer (the checker and the measurements), then sends
// the messages.
type Peer struct {
	core *gossip.Node
	env  peerEnv
}

// peerEnv is what a harness gives a peer: the network, the disk and the
// observer of every Ready.
type peerEnv struct {
	send    func(to gossip.NodeID, m gossip.Message)
	persist func(inc uint64)
	observe func(id gossip.NodeID, rd *gossip.Ready)
	fail    func(err error)
}

// Core returns the peer's protocol state machine, for inspection.
func (p *Peer) Core() *gossip.Node { return p.core }

func (p *Peer) deliver(from gossip.NodeID, m gossip.Message) {
	if err := p.core.Step(from, m); err != nil {
		p.env.fail(err)
	}
	p.flush()
}

func (p *Peer) tick() {
	p.core.Tick()
	p.flush()
}

func (p *Peer) flush() {
	if !p.core.HasReady() {
		return
	}
	rd := p.core.Ready()
	if rd.Incarnation != 0 {
		p.env.persist(rd.Incarnation)
	}
	p.env.observe(p.core.ID(), &rd)
	for i := range rd.Messages {
		p.env.send(rd.Messages[i].Msg.To, rd.Messages[i].Msg)
	}
}

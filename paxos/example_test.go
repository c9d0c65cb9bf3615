package paxos_test

import (
	"fmt"
	"log/slog"
	"math/rand/v2"

	"github.com/cairndb/cairn/clock"
	"github.com/cairndb/cairn/paxos"
)

// A driver in miniature: three replicas with their acceptor state in a
// map, one proposer, and a loop that carries messages. A real driver
// persists AcceptorOutput.State (syncing when MustSync) before sending
// Reply, and sends over the network.
func Example() {
	replicas := []paxos.NodeID{1, 2, 3}
	states := map[paxos.NodeID]paxos.AcceptorState{}
	cfg := paxos.DefaultConfig(9, 1, paxos.LamportBallots(new(clock.Lamport)), rand.New(rand.NewPCG(1, 2)))
	cfg.Logger = slog.New(slog.DiscardHandler)
	p, err := paxos.NewProposer(cfg)
	if err != nil {
		panic(err)
	}
	run := func() {
		for p.HasReady() {
			rd := p.Ready()
			for _, e := range rd.Messages {
				out, err := paxos.StepAcceptor(states[e.To], e.Msg)
				if err != nil {
					panic(err)
				}
				states[e.To] = out.State // persist (and sync if out.MustSync) here
				if out.Reply.Type != 0 {
					if err := p.Step(e.To, out.Reply); err != nil {
						panic(err)
					}
				}
			}
			for _, o := range rd.Outcomes {
				fmt.Printf("op %d: applied=%v prev=%s err=%v\n", o.ID, o.Result.Applied, o.Result.Prev, o.Err)
			}
		}
	}
	_ = p.Propose(1, "lock", replicas, paxos.Op{Kind: paxos.OpSetNX, Value: []byte("alice")})
	run()
	_ = p.Propose(2, "lock", replicas, paxos.Op{Kind: paxos.OpSetNX, Value: []byte("bob")})
	run()
	_ = p.Propose(3, "lock", replicas, paxos.Op{Kind: paxos.OpDeleteIf, Expected: []byte("alice")})
	run()
	fmt.Println(p.Stats().Rounds, "rounds,", p.Stats().FastReads, "answered after the prepare round")
	// Output:
	// op 1: applied=true prev=<absent> err=<nil>
	// op 2: applied=false prev="alice" err=<nil>
	// op 3: applied=true prev="alice" err=<nil>
	// 3 rounds, 1 answered after the prepare round
}

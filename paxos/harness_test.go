package paxos

import (
	"log/slog"
	"math/rand/v2"
	"testing"

	"github.com/cairndb/cairn/clock"
)

// testNet wires acceptors and proposers with a FIFO message queue that a
// test controls: it delivers, drops or holds messages by a predicate, and
// counts what was sent by type.
type testNet struct {
	t        *testing.T
	replicas []NodeID
	// acc holds the acceptor state of each (replica, key).
	acc   map[accKey]*AcceptorState
	props map[NodeID]*Proposer
	queue []testEnvelope
	// drop, if set, loses the messages it returns true for.
	drop     func(from, to NodeID, m Message) bool
	sent     map[MsgType]int
	outcomes map[uint64]Outcome
}

type accKey struct {
	node NodeID
	key  string
}

// state returns the acceptor state of key at replica id.
func (tn *testNet) state(id NodeID, key string) *AcceptorState {
	k := accKey{id, key}
	if tn.acc[k] == nil {
		tn.acc[k] = &AcceptorState{}
	}
	return tn.acc[k]
}

type testEnvelope struct {
	from, to NodeID
	msg      Message
}

func newTestNet(t *testing.T, n int) *testNet {
	tn := &testNet{
		t: t, acc: map[accKey]*AcceptorState{}, props: map[NodeID]*Proposer{},
		sent: map[MsgType]int{}, outcomes: map[uint64]Outcome{},
	}
	for i := 1; i <= n; i++ {
		tn.replicas = append(tn.replicas, NodeID(i))
	}
	return tn
}

func testConfig(id NodeID, epoch uint64) Config {
	cfg := DefaultConfig(id, epoch, LamportBallots(new(clock.Lamport)), rand.New(rand.NewPCG(uint64(id), epoch)))
	cfg.Logger = slog.New(slog.DiscardHandler)
	return cfg
}

func (tn *testNet) addProposer(id NodeID, mod func(*Config)) *Proposer {
	tn.t.Helper()
	cfg := testConfig(id, 1)
	if mod != nil {
		mod(&cfg)
	}
	p, err := NewProposer(cfg)
	if err != nil {
		tn.t.Fatal(err)
	}
	tn.props[id] = p
	return p
}

func (tn *testNet) propose(from NodeID, id uint64, key string, op Op) {
	tn.t.Helper()
	if err := tn.props[from].Propose(id, key, tn.replicas, op); err != nil {
		tn.t.Fatalf("propose %d: %v", id, err)
	}
	tn.collect(from)
}

// collect moves a proposer's Ready into the queue and the outcomes.
func (tn *testNet) collect(id NodeID) {
	p := tn.props[id]
	for p.HasReady() {
		rd := p.Ready()
		for _, e := range rd.Messages {
			tn.enqueue(id, e.To, e.Msg)
		}
		for _, o := range rd.Outcomes {
			if _, dup := tn.outcomes[o.ID]; dup {
				tn.t.Fatalf("proposal %d answered twice", o.ID)
			}
			tn.outcomes[o.ID] = o
		}
	}
}

func (tn *testNet) enqueue(from, to NodeID, m Message) {
	tn.sent[m.Type]++
	if tn.drop != nil && tn.drop(from, to, m) {
		return
	}
	tn.queue = append(tn.queue, testEnvelope{from, to, m})
}

// deliverAll delivers queued messages in order until none is left.
func (tn *testNet) deliverAll() {
	tn.t.Helper()
	for i := 0; len(tn.queue) > 0; i++ {
		if i > 100000 {
			tn.t.Fatal("messages do not settle")
		}
		e := tn.queue[0]
		tn.queue = tn.queue[1:]
		tn.deliver(e)
	}
}

func (tn *testNet) deliver(e testEnvelope) {
	tn.t.Helper()
	// Every message crosses the codec, as on the wire.
	m, err := DecodeMessage(EncodeMessage(e.msg))
	if err != nil {
		tn.t.Fatalf("decode %s: %v", e.msg, err)
	}
	if m.Type.toAcceptor() {
		s := tn.state(e.to, m.Key)
		out, err := StepAcceptor(*s, m)
		if err != nil {
			tn.t.Fatalf("acceptor %d: %s: %v", e.to, m, err)
		}
		if err := out.State.Validate(); err != nil {
			tn.t.Fatalf("acceptor %d after %s: %v", e.to, m, err)
		}
		*s = out.State
		if out.Reply.Type != 0 {
			tn.enqueue(e.to, e.from, out.Reply)
		}
		return
	}
	if err := tn.props[e.to].Step(e.from, m); err != nil {
		tn.t.Fatalf("proposer %d: %s: %v", e.to, m, err)
	}
	tn.collect(e.to)
}

// tick ticks proposer id n times, collecting its output after each.
func (tn *testNet) tick(id NodeID, n int) {
	for range n {
		tn.props[id].Tick()
		tn.collect(id)
	}
}

// run alternates delivering everything and ticking every proposer until
// proposal ids are all answered, within a bound of ticks.
func (tn *testNet) run(ids ...uint64) {
	tn.t.Helper()
	for i := 0; i < 10000; i++ {
		tn.deliverAll()
		done := true
		for _, id := range ids {
			if _, ok := tn.outcomes[id]; !ok {
				done = false
			}
		}
		if done {
			return
		}
		for _, pid := range sortedIDs(tn.props) {
			tn.tick(pid, 1)
		}
	}
	tn.t.Fatalf("proposals %v not answered", ids)
}

func sortedIDs(m map[NodeID]*Proposer) []NodeID {
	var ids []NodeID
	for id := NodeID(1); len(ids) < len(m); id++ {
		if _, ok := m[id]; ok {
			ids = append(ids, id)
		}
	}
	return ids
}

func (tn *testNet) outcome(id uint64) Outcome {
	tn.t.Helper()
	o, ok := tn.outcomes[id]
	if !ok {
		tn.t.Fatalf("proposal %d not answered", id)
	}
	return o
}

func (tn *testNet) mustSucceed(id uint64) Result {
	tn.t.Helper()
	o := tn.outcome(id)
	if o.Err != nil {
		tn.t.Fatalf("proposal %d failed: %v", id, o.Err)
	}
	return o.Result
}

func (tn *testNet) mustFail(id uint64) *Error {
	tn.t.Helper()
	o := tn.outcome(id)
	e, ok := o.Err.(*Error)
	if !ok {
		tn.t.Fatalf("proposal %d: want *Error, got %v (result %+v)", id, o.Err, o.Result)
	}
	return e
}

func val(s string) Value { return Value{Present: true, Data: []byte(s)} }

func setNX(v string) Op { return Op{Kind: OpSetNX, Value: []byte(v)} }

func cas(from, to string) Op { return Op{Kind: OpCAS, Expected: []byte(from), Value: []byte(to)} }

var get = Op{Kind: OpGet}

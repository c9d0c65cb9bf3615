package decision

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cairndb/cairn/txn"
)

// regNet is a tiny randomized network for the register: replicas 1..3 and
// clients 10, 11, 12. Messages are delivered in random order, dropped and
// duplicated at random; replicas crash, keeping only their synced records.
type regNet struct {
	t        *testing.T
	rng      *rand.Rand
	replicas map[txn.NodeID]*Replica
	logs     map[txn.NodeID][]txn.Record // durable records
	clients  map[txn.NodeID]*Client
	queue    []netMsg
	answers  map[txn.ID]map[txn.NodeID]txn.Outcome
	chosen   map[txn.ID]txn.Outcome
	lossy    bool
}

type netMsg struct {
	from, to txn.NodeID
	m        Message
}

var ids = []txn.NodeID{1, 2, 3}

func newRegNet(t *testing.T, seed uint64) *regNet {
	n := &regNet{
		t: t, rng: rand.New(rand.NewPCG(seed, 1)),
		replicas: map[txn.NodeID]*Replica{}, logs: map[txn.NodeID][]txn.Record{}, clients: map[txn.NodeID]*Client{},
		answers: map[txn.ID]map[txn.NodeID]txn.Outcome{}, chosen: map[txn.ID]txn.Outcome{}, lossy: true,
	}
	for _, id := range ids {
		n.start(id)
	}
	for _, c := range []txn.NodeID{10, 11, 12} {
		cl, err := NewClient(ClientConfig{Replicas: ids, RetryTicks: 4, MaxPending: 16})
		if err != nil {
			t.Fatal(err)
		}
		n.clients[c] = cl
	}
	return n
}

func (n *regNet) start(id txn.NodeID) {
	cfg := DefaultConfig(id, ids, rand.New(rand.NewPCG(n.rng.Uint64(), 2)))
	cfg.RetryTicks = 3
	r, err := NewReplica(cfg, n.logs[id])
	if err != nil {
		n.t.Fatalf("restart n%d: %v", id, err)
	}
	n.replicas[id] = r
}

// crash drops n%d's volatile state and its unsynced records, which
// flush never leaves behind here: a Ready's records are synced with it.
func (n *regNet) crash(id txn.NodeID) { n.start(id) }

func (n *regNet) flush() {
	for _, id := range ids {
		r := n.replicas[id]
		for r.HasReady() {
			rd := r.Ready()
			if len(rd.Records) > 0 && !rd.MustSync && slices.ContainsFunc(rd.Records, func(x txn.Record) bool { return x.Kind != txn.RecordDecision }) {
				n.t.Fatalf("n%d: acceptor records without a sync: %v", id, rd.Records)
			}
			n.logs[id] = append(n.logs[id], rd.Records...)
			for _, d := range rd.Decided {
				n.learn(fmt.Sprintf("replica n%d", id), d)
			}
			for _, e := range rd.Messages {
				n.queue = append(n.queue, netMsg{from: id, to: e.To, m: e.Msg})
			}
		}
	}
	for c, cl := range n.clients {
		for _, e := range cl.TakeMessages() {
			n.queue = append(n.queue, netMsg{from: c, to: e.To, m: e.Msg})
		}
	}
}

func (n *regNet) learn(who string, d txn.Decided) {
	if v, ok := n.chosen[d.Txn]; ok && v != d.Outcome {
		n.t.Fatalf("t%d: %s learned %s, but %s was chosen", d.Txn, who, d.Outcome, v)
	}
	n.chosen[d.Txn] = d.Outcome
}

func (n *regNet) step() {
	if len(n.queue) == 0 {
		return
	}
	i := n.rng.IntN(len(n.queue))
	nm := n.queue[i]
	n.queue = slices.Delete(n.queue, i, i+1)
	if n.lossy && n.rng.IntN(10) == 0 {
		return // lost
	}
	if n.lossy && n.rng.IntN(10) == 0 {
		n.queue = append(n.queue, nm) // duplicated
	}
	if r, ok := n.replicas[nm.to]; ok {
		if err := r.Step(nm.from, nm.m); err != nil {
			n.t.Fatalf("n%d: %v", nm.to, err)
		}
	} else {
		d, err := n.clients[nm.to].Step(nm.m)
		if err != nil {
			n.t.Fatalf("client n%d: %v", nm.to, err)
		}
		n.learn(fmt.Sprintf("client n%d", nm.to), d)
		if n.answers[d.Txn] == nil {
			n.answers[d.Txn] = map[txn.NodeID]txn.Outcome{}
		}
		n.answers[d.Txn][nm.to] = d.Outcome
	}
	n.flush()
}

func (n *regNet) tick() {
	for _, id := range ids {
		n.replicas[id].Tick()
	}
	for _, cl := range n.clients {
		cl.Tick()
	}
	n.flush()
}

// TestRegisterChoosesOnce has three clients propose conflicting outcomes
// for the same transactions through different replicas, over a network
// that loses, duplicates and reorders, with replica crashes: every answer
// and every replica agree on one value per transaction, and once the
// network is calm every client gets its answer.
func TestRegisterChoosesOnce(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		n := newRegNet(t, seed)
		for tx := txn.ID(1); tx <= 4; tx++ {
			for c, cl := range n.clients {
				v := txn.Commit
				if n.rng.IntN(2) == 0 {
					v = txn.Abort
				}
				if err := cl.Propose(tx, v); err != nil {
					t.Fatalf("client n%d: %v", c, err)
				}
			}
		}
		n.flush()
		for round := 0; round < 400; round++ {
			for range 3 {
				n.step()
			}
			if round%3 == 0 {
				n.tick()
			}
			if n.rng.IntN(60) == 0 {
				n.crash(ids[n.rng.IntN(len(ids))])
			}
		}
		n.lossy = false
		for round := 0; round < 2000 && !n.allAnswered(); round++ {
			for len(n.queue) > 0 {
				n.step()
			}
			n.tick()
		}
		if !n.allAnswered() {
			t.Fatalf("seed %d: not every client was answered: %v", seed, n.answers)
		}
		for _, id := range ids {
			for tx := txn.ID(1); tx <= 4; tx++ {
				if v, ok := n.replicas[id].Chosen(tx); ok && v != n.chosen[tx] {
					t.Fatalf("seed %d: n%d holds %s for t%d, %s was chosen", seed, id, v, tx, n.chosen[tx])
				}
			}
		}
	}
}

func (n *regNet) allAnswered() bool {
	for tx := txn.ID(1); tx <= 4; tx++ {
		if len(n.answers[tx]) < len(n.clients) {
			return false
		}
	}
	return true
}

// TestReplicaPersistsBeforeAnswering checks the durability contract
// directly: a Promise or Accepted leaves in the Ready that forces the
// state it reports.
func TestReplicaPersistsBeforeAnswering(t *testing.T) {
	r, err := NewReplica(DefaultConfig(2, ids, rand.New(rand.NewPCG(1, 1))), nil)
	if err != nil {
		t.Fatal(err)
	}
	b := txn.Ballot{Round: 4, Node: 1}
	if err := r.Step(1, Message{Type: MsgPrepare, Txn: 9, Ballot: b}); err != nil {
		t.Fatal(err)
	}
	rd := r.Ready()
	if !rd.MustSync || len(rd.Records) != 1 || rd.Records[0].Kind != txn.RecordPromise || rd.Messages[0].Msg.Type != MsgPromise {
		t.Fatalf("prepare: %+v", rd)
	}
	if err := r.Step(1, Message{Type: MsgAccept, Txn: 9, Ballot: b, Value: txn.Commit}); err != nil {
		t.Fatal(err)
	}
	rd = r.Ready()
	if !rd.MustSync || rd.Records[0].Kind != txn.RecordAccept || rd.Messages[0].Msg.Type != MsgAccepted {
		t.Fatalf("accept: %+v", rd)
	}
	// A lower ballot is rejected, and the answer names the promise.
	if err := r.Step(3, Message{Type: MsgPrepare, Txn: 9, Ballot: txn.Ballot{Round: 3, Node: 3}}); err != nil {
		t.Fatal(err)
	}
	if rd = r.Ready(); rd.Messages[0].Msg.Type != MsgReject || rd.Messages[0].Msg.Ballot != b || len(rd.Records) != 0 {
		t.Fatalf("stale prepare: %+v", rd)
	}
	// After a restart from its log, the replica still holds its promise
	// and its accepted value.
	r2, err := NewReplica(DefaultConfig(2, ids, rand.New(rand.NewPCG(1, 1))), []txn.Record{
		{Kind: txn.RecordPromise, Txn: 9, Ballot: b},
		{Kind: txn.RecordAccept, Txn: 9, Ballot: b, Outcome: txn.Commit},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.Step(3, Message{Type: MsgPrepare, Txn: 9, Ballot: txn.Ballot{Round: 5, Node: 3}}); err != nil {
		t.Fatal(err)
	}
	m := r2.Ready().Messages[0].Msg
	if m.Type != MsgPromise || m.Accepted != b || m.Value != txn.Commit {
		t.Fatalf("restarted replica promised %s", m)
	}
}

func TestReplicaRejectsBadInput(t *testing.T) {
	r, _ := NewReplica(DefaultConfig(1, ids, rand.New(rand.NewPCG(1, 1))), nil)
	for _, tc := range []struct {
		from txn.NodeID
		m    Message
	}{
		{10, Message{Type: MsgPrepare, Txn: 1, Ballot: txn.Ballot{Round: 1, Node: 2}}}, // not a replica
		{2, Message{Type: MsgPrepare, Txn: 0, Ballot: txn.Ballot{Round: 1, Node: 2}}},
		{2, Message{Type: MsgAccept, Txn: 1, Ballot: txn.Ballot{Round: 1, Node: 2}}}, // no value
		{10, Message{Type: MsgDecided, Txn: 1, Value: txn.Commit}},
		{10, Message{Type: 42, Txn: 1}},
	} {
		if err := r.Step(tc.from, tc.m); !errors.Is(err, txn.ErrInvalidMessage) {
			t.Errorf("%s from n%d: %v", tc.m, tc.from, err)
		}
	}
	if r.HasReady() {
		t.Errorf("bad input produced output: %+v", r.Ready())
	}
	if _, err := NewReplica(DefaultConfig(4, ids, rand.New(rand.NewPCG(1, 1))), nil); !errors.Is(err, txn.ErrConfigInvalid) {
		t.Errorf("replica outside Replicas: %v", err)
	}
}

func TestReplicaBoundsProposals(t *testing.T) {
	cfg := DefaultConfig(1, ids, rand.New(rand.NewPCG(1, 1)))
	cfg.MaxProposals = 2
	r, _ := NewReplica(cfg, nil)
	for tx := txn.ID(1); tx <= 3; tx++ {
		if err := r.Step(10, Message{Type: MsgPropose, Txn: tx, Value: txn.Abort}); err != nil {
			t.Fatal(err)
		}
	}
	if r.Proposals() != 2 || r.Stats().Dropped != 1 {
		t.Fatalf("proposals %d, dropped %d; want 2 and 1", r.Proposals(), r.Stats().Dropped)
	}
}

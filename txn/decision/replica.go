package decision

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/cairndb/cairn/txn"
)

// Replica is one replica of the decision register: a Paxos acceptor for
// every transaction, and a proposer for the transactions its clients ask
// it to decide. It is a pure state machine: Step, Tick, Ready.
type Replica struct {
	cfg      Config
	log      *slog.Logger
	majority int
	// keys holds the acceptor state of every transaction the replica has
	// seen, decided or not.
	keys map[txn.ID]*acceptor
	// props holds the proposals this replica drives; at most MaxProposals.
	props map[txn.ID]*proposal
	// maxRound is the highest ballot round seen, so a new ballot is above
	// every ballot this replica knows of.
	maxRound uint64
	out      txn.Ready[Message]
	// local holds messages to this replica itself, handled before the
	// public call returns.
	local []Message
	stats Stats
}

// acceptor is the durable Paxos state of one transaction, plus the value
// chosen, once known. Invariant: accepted <= promised.
type acceptor struct {
	promised txn.Ballot
	accepted txn.Ballot
	value    txn.Outcome // accepted value; 0 if none
	chosen   txn.Outcome // 0 until known
}

// proposal is a proposer's volatile state for one transaction.
type proposal struct {
	ballot txn.Ballot
	phase  int         // 1 or 2 while a ballot runs; 0 while backing off
	own    txn.Outcome // the client's value
	// value is what phase 2 proposes: own, unless phase 1 found an
	// accepted value (the one of the highest ballot).
	value        txn.Outcome
	bestAccepted txn.Ballot
	votes        []txn.NodeID // promises (phase 1) or acceptances (phase 2) of ballot
	wait         int          // ticks before a new ballot
	waiters      []txn.NodeID
}

// Stats counts what a replica did; a driver exports them as metrics.
type Stats struct {
	// Proposals is the number of proposals started for clients.
	Proposals uint64
	// Ballots is the number of phase-1 rounds started.
	Ballots uint64
	// Chosen is the number of transactions whose value this replica
	// learned.
	Chosen uint64
	// Dropped is the number of messages dropped at a bound.
	Dropped uint64
}

// NewReplica builds a replica from its log (empty on first start).
func NewReplica(cfg Config, log []txn.Record) (*Replica, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Replica{
		cfg:      cfg,
		log:      cfg.Logger,
		majority: len(cfg.Replicas)/2 + 1,
		keys:     map[txn.ID]*acceptor{},
		props:    map[txn.ID]*proposal{},
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	for i, rec := range log {
		if err := r.replay(rec); err != nil {
			return nil, fmt.Errorf("decision: record %d: %w", i, err)
		}
	}
	return r, nil
}

func (r *Replica) replay(rec txn.Record) error {
	if err := rec.Validate(); err != nil {
		return err
	}
	a := r.acceptorFor(rec.Txn, true)
	switch rec.Kind {
	case txn.RecordPromise:
		if a.promised.Less(rec.Ballot) {
			a.promised = rec.Ballot
		}
	case txn.RecordAccept:
		if a.promised.Less(rec.Ballot) {
			a.promised = rec.Ballot
		}
		a.accepted, a.value = rec.Ballot, rec.Outcome
	case txn.RecordDecision:
		if a.chosen != 0 && a.chosen != rec.Outcome {
			return fmt.Errorf("%w: t%d chosen %s then %s", txn.ErrCorruptRecord, rec.Txn, a.chosen, rec.Outcome)
		}
		a.chosen = rec.Outcome
	default:
		return fmt.Errorf("%w: a register log holds no %s records", txn.ErrCorruptRecord, rec.Kind)
	}
	r.maxRound = max(r.maxRound, rec.Ballot.Round)
	return nil
}

// acceptorFor returns the acceptor state of t, creating it if create is
// set and the MaxKeys bound allows; nil otherwise.
func (r *Replica) acceptorFor(t txn.ID, create bool) *acceptor {
	if a, ok := r.keys[t]; ok {
		return a
	}
	if !create || len(r.keys) >= r.cfg.MaxKeys {
		return nil
	}
	a := &acceptor{}
	r.keys[t] = a
	return a
}

// Chosen returns the value chosen for t, if this replica knows it.
func (r *Replica) Chosen(t txn.ID) (txn.Outcome, bool) {
	if a, ok := r.keys[t]; ok && a.chosen != 0 {
		return a.chosen, true
	}
	return 0, false
}

// Proposals returns the number of proposals this replica drives.
func (r *Replica) Proposals() int { return len(r.props) }

// Stats returns the replica's counters.
func (r *Replica) Stats() Stats { return r.stats }

// HasReady reports whether Ready has something to hand out.
func (r *Replica) HasReady() bool { return !r.out.IsEmpty() }

// Ready hands out the pending output (see txn.Ready for the contract) and
// starts a new one. Ready.Decided lists values this replica learned.
func (r *Replica) Ready() txn.Ready[Message] {
	rd := r.out
	r.out = txn.Ready[Message]{}
	return rd
}

// Step handles a message from another node (a client or a replica).
func (r *Replica) Step(from txn.NodeID, m Message) error {
	if err := m.validate(); err != nil {
		return err
	}
	if m.Type.fromReplica() && !slices.Contains(r.cfg.Replicas, from) {
		return fmt.Errorf("%w: %s from n%d, which is not a replica", txn.ErrInvalidMessage, m, from)
	}
	if m.Type == MsgDecided {
		return fmt.Errorf("%w: a replica does not take %s", txn.ErrInvalidMessage, m)
	}
	err := r.step(from, m)
	if lerr := r.drainLocal(); err == nil {
		err = lerr
	}
	return err
}

// Tick advances the proposers' retry timers.
func (r *Replica) Tick() {
	for _, t := range slices.Sorted(maps.Keys(r.props)) {
		p := r.props[t]
		p.wait--
		if p.wait <= 0 {
			r.startBallot(t, p)
		}
	}
	_ = r.drainLocal() // a replica's messages to itself are well formed
}

func (r *Replica) drainLocal() error {
	var first error
	for len(r.local) > 0 {
		m := r.local[0]
		r.local = r.local[1:]
		if err := r.step(r.cfg.ID, m); err != nil && first == nil {
			first = err
		}
	}
	r.local = nil
	return first
}

func (r *Replica) send(to txn.NodeID, m Message) {
	if to == r.cfg.ID {
		r.local = append(r.local, m)
		return
	}
	r.out.Send(to, m)
}

func (r *Replica) broadcast(m Message) {
	for _, id := range r.cfg.Replicas {
		r.send(id, m)
	}
}

func (r *Replica) step(from txn.NodeID, m Message) error {
	r.maxRound = max(r.maxRound, m.Ballot.Round)
	switch m.Type {
	case MsgPropose:
		r.propose(from, m)
	case MsgPrepare:
		r.prepare(from, m)
	case MsgAccept:
		r.accept(from, m)
	case MsgPromise:
		r.promised(from, m)
	case MsgAccepted:
		r.acceptedBy(from, m)
	case MsgReject:
		if p, ok := r.props[m.Txn]; ok && p.ballot.Less(m.Ballot) && p.phase != 0 {
			p.phase = 0 // back off, then retry above m.Ballot
			p.wait = 1 + r.cfg.Rand.IntN(r.cfg.RetryTicks)
		}
	case MsgLearn:
		return r.choose(m.Txn, m.Value, false)
	}
	return nil
}

func (r *Replica) propose(from txn.NodeID, m Message) {
	if a := r.acceptorFor(m.Txn, false); a != nil && a.chosen != 0 {
		r.send(from, Message{Type: MsgDecided, Txn: m.Txn, Value: a.chosen})
		return
	}
	if p, ok := r.props[m.Txn]; ok {
		if !slices.Contains(p.waiters, from) && len(p.waiters) < r.cfg.MaxWaiters {
			p.waiters = append(p.waiters, from)
		}
		return
	}
	if len(r.props) >= r.cfg.MaxProposals || r.acceptorFor(m.Txn, true) == nil {
		r.stats.Dropped++
		return
	}
	r.stats.Proposals++
	p := &proposal{own: m.Value, waiters: []txn.NodeID{from}}
	r.props[m.Txn] = p
	r.startBallot(m.Txn, p)
}

// startBallot starts phase 1 with a ballot above every ballot seen. The
// replica's own acceptor promises it first (locally), and that promise is
// persisted in the same Ready as the Prepare messages, so after a crash
// maxRound is at least this round and the ballot is never reused.
func (r *Replica) startBallot(t txn.ID, p *proposal) {
	r.stats.Ballots++
	r.maxRound++
	p.ballot = txn.Ballot{Round: r.maxRound, Node: r.cfg.ID}
	p.phase, p.value, p.bestAccepted, p.votes = 1, p.own, txn.Ballot{}, nil
	p.wait = r.cfg.RetryTicks + r.cfg.Rand.IntN(r.cfg.RetryTicks)
	r.broadcast(Message{Type: MsgPrepare, Txn: t, Ballot: p.ballot})
}

func (r *Replica) prepare(from txn.NodeID, m Message) {
	a := r.acceptorFor(m.Txn, true)
	if a == nil {
		r.stats.Dropped++
		return
	}
	switch {
	case a.chosen != 0:
		r.send(from, Message{Type: MsgLearn, Txn: m.Txn, Value: a.chosen})
	case m.Ballot.Less(a.promised):
		r.send(from, Message{Type: MsgReject, Txn: m.Txn, Ballot: a.promised})
	default:
		if a.promised != m.Ballot {
			a.promised = m.Ballot
			r.out.Persist(txn.Record{Kind: txn.RecordPromise, Txn: m.Txn, Ballot: m.Ballot}, true)
		}
		r.send(from, Message{Type: MsgPromise, Txn: m.Txn, Ballot: m.Ballot, Accepted: a.accepted, Value: a.value})
	}
}

func (r *Replica) accept(from txn.NodeID, m Message) {
	a := r.acceptorFor(m.Txn, true)
	if a == nil {
		r.stats.Dropped++
		return
	}
	switch {
	case a.chosen != 0:
		r.send(from, Message{Type: MsgLearn, Txn: m.Txn, Value: a.chosen})
	case m.Ballot.Less(a.promised):
		r.send(from, Message{Type: MsgReject, Txn: m.Txn, Ballot: a.promised})
	default:
		if a.accepted != m.Ballot {
			a.promised, a.accepted, a.value = m.Ballot, m.Ballot, m.Value
			r.out.Persist(txn.Record{Kind: txn.RecordAccept, Txn: m.Txn, Ballot: m.Ballot, Outcome: m.Value}, true)
		}
		r.send(from, Message{Type: MsgAccepted, Txn: m.Txn, Ballot: m.Ballot})
	}
}

func (r *Replica) promised(from txn.NodeID, m Message) {
	p, ok := r.props[m.Txn]
	if !ok || p.phase != 1 || p.ballot != m.Ballot || slices.Contains(p.votes, from) {
		return
	}
	p.votes = append(p.votes, from)
	if !m.Accepted.IsZero() && p.bestAccepted.Less(m.Accepted) {
		p.bestAccepted, p.value = m.Accepted, m.Value
	}
	if len(p.votes) < r.majority {
		return
	}
	p.phase, p.votes = 2, nil
	p.wait = r.cfg.RetryTicks + r.cfg.Rand.IntN(r.cfg.RetryTicks)
	r.broadcast(Message{Type: MsgAccept, Txn: m.Txn, Ballot: p.ballot, Value: p.value})
}

func (r *Replica) acceptedBy(from txn.NodeID, m Message) {
	p, ok := r.props[m.Txn]
	if !ok || p.phase != 2 || p.ballot != m.Ballot || slices.Contains(p.votes, from) {
		return
	}
	p.votes = append(p.votes, from)
	if len(p.votes) >= r.majority {
		_ = r.choose(m.Txn, p.value, true) // p.value cannot conflict: a majority accepted it
	}
}

// choose records that v is chosen for t, answers the waiting clients and,
// if this replica's proposal chose it, tells the other replicas.
func (r *Replica) choose(t txn.ID, v txn.Outcome, announce bool) error {
	a := r.acceptorFor(t, true)
	if a == nil {
		r.stats.Dropped++
		return nil
	}
	if a.chosen != 0 && a.chosen != v {
		r.log.Error("decision: two values chosen", "txn", t, "first", a.chosen, "then", v)
		return fmt.Errorf("%w: t%d was chosen %s, now %s", txn.ErrConflictingOutcome, t, a.chosen, v)
	}
	if a.chosen == 0 {
		a.chosen = v
		r.stats.Chosen++
		// Not forced: a lost record only means Paxos runs again and finds
		// the same value.
		r.out.Persist(txn.Record{Kind: txn.RecordDecision, Txn: t, Outcome: v}, false)
		r.out.Decided = append(r.out.Decided, txn.Decided{Txn: t, Outcome: v})
	}
	p, ok := r.props[t]
	if !ok {
		return nil
	}
	delete(r.props, t)
	for _, c := range p.waiters {
		r.send(c, Message{Type: MsgDecided, Txn: t, Value: v})
	}
	if announce {
		for _, id := range r.cfg.Replicas {
			if id != r.cfg.ID {
				r.send(id, Message{Type: MsgLearn, Txn: t, Value: v})
			}
		}
	}
	return nil
}

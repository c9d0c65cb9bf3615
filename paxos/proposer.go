package paxos

import (
	"fmt"
	"log/slog"
	"slices"
)

// Proposer is the coordinator side of the protocol: it runs the Paxos
// rounds of the operations its clients propose, each on the replicas of
// its key. It is a pure state machine: Propose, Step and Tick are its
// inputs, Ready its output. It holds no durable state (its ballots stay
// unique through Config.Epoch), so a crash only loses the operations in
// flight, whose clients see a timeout.
//
// A Proposer is not safe for concurrent use: the driver calls it from one
// goroutine.
type Proposer struct {
	cfg Config
	log *slog.Logger
	// list holds the pending proposals in Propose order; Tick visits them
	// in this order, so that no map order reaches the output.
	list     []*proposal
	byID     map[uint64]*proposal
	byBallot map[Ballot]*proposal
	// queues holds, per key, the proposals on that key in Propose order:
	// the head runs, the others wait, so that one proposer never duels
	// with itself.
	queues map[string][]*proposal
	// maxSeen is the highest ballot seen or used: every new ballot is
	// above it.
	maxSeen Ballot
	// known remembers, for the last MaxPending keys this proposer got a
	// proposal chosen on, that proposal's ballot (order lists the keys,
	// oldest first). A later round that finds it in progress knows it is
	// chosen and reads it as committed, instead of finishing it again: the
	// usual case when the previous commit is still in flight.
	known map[string]Ballot
	order []string
	out   Ready
	stats Stats
}

// NewProposer validates cfg and returns an idle proposer.
func NewProposer(cfg Config) (*Proposer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Proposer{
		cfg:      cfg,
		log:      cfg.Logger,
		byID:     map[uint64]*proposal{},
		byBallot: map[Ballot]*proposal{},
		queues:   map[string][]*proposal{},
		known:    map[string]Ballot{},
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	return p, nil
}

// Propose starts operation op on key, whose replicas (the preference list,
// this node included or not) are given by the caller. id names the
// proposal in its Outcome; it must not be pending. The operation runs at
// once, or after the earlier proposals of this proposer on the same key.
// An error means the proposal was not taken and had no effect.
func (p *Proposer) Propose(id uint64, key string, replicas []NodeID, op Op) error {
	if len(key) > p.cfg.Limits.MaxKeyBytes {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrKeyTooLarge, len(key), p.cfg.Limits.MaxKeyBytes)
	}
	if err := op.validate(p.cfg.Limits); err != nil {
		return err
	}
	if err := p.checkReplicas(replicas); err != nil {
		return err
	}
	if _, ok := p.byID[id]; ok {
		return fmt.Errorf("%w: %d", ErrDuplicateID, id)
	}
	if len(p.list) >= p.cfg.MaxPending {
		return fmt.Errorf("%w: %d", ErrTooManyPending, p.cfg.MaxPending)
	}
	n := len(replicas)
	pr := &proposal{
		id: id, key: key, replicas: slices.Clone(replicas), majority: n/2 + 1, op: op,
		answered: make([]bool, n), voted: make([]bool, n), ph: phaseQueued,
	}
	p.byID[id] = pr
	p.list = append(p.list, pr)
	p.stats.Proposals++
	q := p.queues[key]
	p.queues[key] = append(q, pr)
	if len(q) == 0 {
		p.startAttempt(pr)
	}
	return nil
}

func (p *Proposer) checkReplicas(replicas []NodeID) error {
	if len(replicas) == 0 || len(replicas) > p.cfg.MaxReplicas {
		return fmt.Errorf("%w: %d replicas, want 1..%d", ErrInvalidReplicas, len(replicas), p.cfg.MaxReplicas)
	}
	for i, r := range replicas {
		if r == 0 || slices.Contains(replicas[:i], r) {
			return fmt.Errorf("%w: %v", ErrInvalidReplicas, replicas)
		}
	}
	return nil
}

// Step handles a Promise, Accepted or Reject from replica from. Replies to
// rounds that are over are ignored; a malformed message, or one from a
// node that is not a replica of its key's proposal, is an error.
func (p *Proposer) Step(from NodeID, m Message) error {
	if m.Type.toAcceptor() {
		return fmt.Errorf("%w: a proposer does not take %s", ErrInvalidMessage, m.Type)
	}
	if err := m.validateShape(); err != nil {
		return err
	}
	p.observe(m)
	pr, ok := p.byBallot[m.Ballot]
	if !ok || pr.key != m.Key {
		return nil // an attempt that is over
	}
	i := slices.Index(pr.replicas, from)
	if i < 0 {
		return fmt.Errorf("%w: %s from n%d, not a replica of %q", ErrInvalidMessage, m.Type, from, m.Key)
	}
	switch m.Type {
	case MsgPromise:
		p.onPromise(pr, i, m)
	case MsgAccepted:
		p.onAccepted(pr, i)
	case MsgReject:
		p.onReject(pr, i)
	}
	return nil
}

// observe raises the ballot floor to every ballot m shows.
func (p *Proposer) observe(m Message) {
	seen := maxBallot(maxBallot(m.Ballot, m.Promised), maxBallot(m.Accepted.Ballot, m.Committed.Ballot))
	if p.maxSeen.Less(seen) {
		p.maxSeen = seen
		p.cfg.Clock.Witness(seen.Time)
	}
}

// Tick advances the round and backoff timers by one tick.
func (p *Proposer) Tick() {
	for _, pr := range slices.Clone(p.list) {
		if pr.ph == phaseQueued || p.byID[pr.id] != pr {
			continue // waiting its turn, or answered during this tick
		}
		pr.timer--
		if pr.timer > 0 {
			continue
		}
		switch pr.ph {
		case phaseBackoff:
			p.startAttempt(pr)
		case phasePrepare, phaseAccept:
			p.stats.Timeouts++
			pr.endAttempt(ErrTimeout)
			if pr.lastAnswered < pr.majority {
				pr.lastCause = ErrNoQuorum
			}
			if pr.ph == phaseAccept && pr.kind == acceptOwn {
				pr.risky = true // some replica may have accepted it
			}
			p.backoff(pr, 1+p.cfg.Rand.IntN(p.cfg.BackoffTicks))
		}
	}
}

// HasReady reports whether Ready has something to hand out.
func (p *Proposer) HasReady() bool { return !p.out.IsEmpty() }

// Ready hands out the pending output (see Ready) and starts a new one.
func (p *Proposer) Ready() Ready {
	rd := p.out
	p.out = Ready{}
	return rd
}

// Pending returns the number of proposals running or queued.
func (p *Proposer) Pending() int { return len(p.list) }

// Stats returns the counters.
func (p *Proposer) Stats() Stats { return p.stats }

func (p *Proposer) send(to NodeID, m Message) {
	p.out.Messages = append(p.out.Messages, Envelope{To: to, Msg: m})
}

func (p *Proposer) broadcast(pr *proposal, m Message) {
	for _, r := range pr.replicas {
		p.send(r, m)
	}
}

// nextBallot returns a ballot above every ballot seen or used.
func (p *Proposer) nextBallot() Ballot {
	t := p.cfg.Clock.Now()
	if !p.maxSeen.Time.Less(t) {
		t = nextTime(p.maxSeen.Time)
	}
	b := Ballot{Time: t, Epoch: p.cfg.Epoch, Node: p.cfg.ID}
	p.maxSeen = b
	return b
}

// succeed answers pr with res and lets the next proposal on its key run.
func (p *Proposer) succeed(pr *proposal, res Result) {
	p.stats.Succeeded++
	p.out.Outcomes = append(p.out.Outcomes, Outcome{ID: pr.id, Key: pr.key, Result: res})
	p.remove(pr)
}

// fail answers pr with an *Error built from its last attempt; unknown
// says the outcome cannot be known although attempts remain.
func (p *Proposer) fail(pr *proposal, unknown bool) {
	kind := pr.lastCause
	if unknown || kind == nil {
		kind = ErrContention // overtaken by other operations
	}
	err := &Error{
		Kind: kind, Key: pr.key, Attempts: pr.attempts, Replicas: len(pr.replicas), Needed: pr.majority,
		Answered: pr.lastAnswered, MaybeApplied: pr.risky || unknown,
	}
	p.stats.Failed++
	if err.MaybeApplied {
		p.stats.Unknown++
	}
	p.log.Debug("paxos: proposal failed", "id", pr.id, "err", err)
	p.out.Outcomes = append(p.out.Outcomes, Outcome{ID: pr.id, Key: pr.key, Err: err})
	p.remove(pr)
}

func (p *Proposer) remove(pr *proposal) {
	delete(p.byID, pr.id)
	if p.byBallot[pr.ballot] == pr {
		delete(p.byBallot, pr.ballot)
	}
	p.list = slices.DeleteFunc(p.list, func(x *proposal) bool { return x == pr })
	q := p.queues[pr.key]
	q = slices.DeleteFunc(q, func(x *proposal) bool { return x == pr })
	if len(q) == 0 {
		delete(p.queues, pr.key)
		return
	}
	p.queues[pr.key] = q
	if q[0].ph == phaseQueued {
		p.startAttempt(q[0])
	}
}

// rememberChosen records that b was chosen on key, forgetting the oldest
// key beyond MaxPending.
func (p *Proposer) rememberChosen(key string, b Ballot) {
	if _, ok := p.known[key]; !ok {
		p.order = append(p.order, key)
		if len(p.order) > p.cfg.MaxPending {
			delete(p.known, p.order[0])
			p.order = slices.Delete(p.order, 0, 1)
		}
	}
	p.known[key] = b
}

package threepc

import (
	"slices"

	"github.com/cairndb/cairn/txn"
)

// round is a termination round this participant leads, with its ballot.
// Invariant: reports and acked are indexed like the transaction's
// participants.
type round struct {
	ballot  txn.Ballot
	phase   roundPhase
	reports []report
	acked   []bool // pre-commit acks (roundPreCommitting) or outcome acks (roundAnnouncing)
	ticks   int
}

type roundPhase uint8

const (
	roundCollecting    roundPhase = iota + 1 // asking every participant for its state
	roundPreCommitting                       // someone usable was pre-committed: pre-commit the rest
	roundAnnouncing                          // decided: telling everyone until they acknowledge
)

type report struct {
	have       bool
	state      State
	recovering bool
}

// startRound makes this participant the leader of a new termination round
// for t: a ballot above every round it has seen, promised to itself
// (forced before the state requests leave), and its own state as the first
// report.
func (p *Participant) startRound(t txn.ID, pt *partTxn) {
	pt.seenRound = max(pt.seenRound, pt.promised.Round, pt.preCommit.Round) + 1
	b := txn.Ballot{Round: pt.seenRound, Node: p.cfg.ID}
	pt.promised = b
	p.out.Persist(txn.Record{Kind: txn.RecordPromise, Txn: t, Ballot: b}, true)
	r := &round{ballot: b, phase: roundCollecting, reports: make([]report, len(pt.participants)), acked: make([]bool, len(pt.participants))}
	r.reports[p.rank(pt)] = report{have: true, state: pt.report(), recovering: pt.recovering}
	pt.round, pt.leader, pt.quiet = r, p.cfg.ID, 0
	p.st.Rounds++
	p.log.Debug("threepc: termination round", "node", p.cfg.ID, "txn", t, "ballot", b, "recovering", pt.recovering)
	p.broadcastRound(t, pt)
}

func (p *Participant) rank(pt *partTxn) int { return slices.Index(pt.participants, p.cfg.ID) }

// broadcastRound sends the round's current request to every other
// participant that still owes an answer; while collecting and
// pre-committing that is everyone, as a heartbeat.
func (p *Participant) broadcastRound(t txn.ID, pt *partTxn) {
	r := pt.round
	var m Message
	switch r.phase {
	case roundCollecting:
		m = Message{Type: MsgStateRequest, Txn: t, Ballot: r.ballot, Participants: pt.participants}
	case roundPreCommitting:
		m = Message{Type: MsgPreCommit, Txn: t, Ballot: r.ballot, Participants: pt.participants}
	case roundAnnouncing:
		m = Message{Type: MsgDecision, Txn: t, Outcome: pt.outcome}
	}
	for i, q := range pt.participants {
		if q == p.cfg.ID || (r.phase == roundAnnouncing && r.acked[i]) {
			continue
		}
		p.out.Send(q, m)
	}
}

func (p *Participant) stepRound(from txn.NodeID, m Message, pt *partTxn) {
	r := pt.round
	idx := slices.Index(pt.participants, from)
	if idx < 0 {
		return
	}
	switch m.Type {
	case MsgState:
		if r.phase != roundCollecting || m.Ballot != r.ballot {
			return
		}
		r.reports[idx] = report{have: true, state: m.State, recovering: m.Recovering}
		if m.State == StateCommitted || m.State == StateAborted || !slices.ContainsFunc(r.reports, func(x report) bool { return !x.have }) {
			p.evaluate(m.Txn, pt)
		}
	case MsgPreCommitAck:
		if r.phase != roundPreCommitting || m.Ballot != r.ballot {
			return
		}
		r.acked[idx] = true
		if !slices.Contains(r.acked, false) {
			p.decideRound(m.Txn, pt, txn.Commit)
		}
	case MsgAck:
		if r.phase != roundAnnouncing {
			return
		}
		r.acked[idx] = true
		if !slices.Contains(r.acked, false) {
			pt.round = nil
		}
	case MsgReject:
		if r.phase != roundAnnouncing && r.ballot.Less(m.Ballot) {
			pt.seenRound = max(pt.seenRound, m.Ballot.Round)
			p.abandonRound(m.Txn, pt, "rejected at "+m.Ballot.String())
		}
	}
}

// evaluate applies the termination rules to the states collected so far
// (Skeen, "Nonblocking Commit Protocols", SIGMOD 1981; Bernstein,
// Hadzilacos and Goodman, "Concurrency Control and Recovery in Database
// Systems", 1987, §7.5):
//
//   - someone aborted: abort;
//   - someone committed: commit;
//   - someone usable is pre-committed: pre-commit the others, then commit;
//   - everyone usable is uncertain: abort.
//
// "Usable" is every answer when every participant answered, and otherwise
// only the answers of participants that have not restarted since they
// voted: a restarted participant may have been down while a round it
// missed decided, so its stale pre-commit must not outvote the uncertain
// states the earlier round saw. With no usable answer the round gives up
// and a later one tries again.
func (p *Participant) evaluate(t txn.ID, pt *partTxn) {
	r := pt.round
	full := true
	var usable []State
	for _, x := range r.reports {
		switch {
		case !x.have:
			full = false
		case x.state == StateAborted:
			p.decideRound(t, pt, txn.Abort)
			return
		case x.state == StateCommitted:
			p.decideRound(t, pt, txn.Commit)
			return
		}
	}
	for _, x := range r.reports {
		if x.have && (full || !x.recovering) {
			usable = append(usable, x.state)
		}
	}
	switch {
	case len(usable) == 0:
		p.abandonRound(t, pt, "no usable state")
	case slices.Contains(usable, StatePreCommitted):
		p.preCommitRound(t, pt)
	default:
		p.decideRound(t, pt, txn.Abort)
	}
}

func (p *Participant) preCommitRound(t txn.ID, pt *partTxn) {
	r := pt.round
	r.phase, r.ticks = roundPreCommitting, 0
	clear(r.acked)
	r.acked[p.rank(pt)] = true
	if pt.state != statePreCommitted || pt.preCommit != r.ballot {
		pt.state, pt.preCommit = statePreCommitted, r.ballot
		p.st.PreCommitted++
		p.out.Persist(txn.Record{Kind: txn.RecordPreCommit, Txn: t, Ballot: r.ballot}, true)
	}
	p.broadcastRound(t, pt)
}

func (p *Participant) decideRound(t txn.ID, pt *partTxn, o txn.Outcome) {
	r := pt.round
	r.phase, r.ticks = roundAnnouncing, 0
	clear(r.acked)
	r.acked[p.rank(pt)] = true
	p.log.Debug("threepc: round decides", "node", p.cfg.ID, "txn", t, "ballot", r.ballot, "outcome", o)
	p.settle(t, pt, o)
	p.broadcastRound(t, pt)
}

func (p *Participant) abandonRound(t txn.ID, pt *partTxn, why string) {
	p.st.RoundsAbandoned++
	p.log.Debug("threepc: round abandoned", "node", p.cfg.ID, "txn", t, "ballot", pt.round.ballot, "why", why)
	pt.round, pt.leader, pt.quiet = nil, 0, 0
}

func (p *Participant) tickRound(t txn.ID, pt *partTxn) {
	r := pt.round
	r.ticks++
	switch {
	case r.phase == roundCollecting && r.ticks >= p.cfg.RoundTicks:
		p.evaluate(t, pt)
		return
	case r.phase == roundPreCommitting && r.ticks >= p.cfg.AckTimeoutTicks:
		// As for the coordinator: the silent are taken for crashed. This
		// participant's own pre-commit is durable, so a later round will
		// find one.
		p.decideRound(t, pt, txn.Commit)
		return
	}
	if r.ticks%p.cfg.RetryTicks == 0 {
		p.broadcastRound(t, pt)
	}
}

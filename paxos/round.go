package paxos

import "slices"

// phase is where a proposal stands.
type phase uint8

const (
	// phaseQueued: waiting for the proposals ahead of it on its key.
	phaseQueued phase = iota + 1
	// phaseBackoff: between two attempts.
	phaseBackoff
	// phasePrepare: waiting for a majority of promises.
	phasePrepare
	// phaseAccept: waiting for a majority of acceptances.
	phaseAccept
)

// acceptKind is what an accept round offers.
type acceptKind uint8

const (
	// acceptOwn offers the operation's own value.
	acceptOwn acceptKind = iota + 1
	// acceptFinish re-proposes a proposal in progress found in the prepare
	// round, so that its instance is decided before going on.
	acceptFinish
	// acceptFence re-proposes the current value (FenceReads).
	acceptFence
)

type promise struct {
	from                int // replica index
	accepted, committed Proposal
	recent              []Link
}

// proposal is one operation's volatile state.
//
// Exactly-once: every value this operation offers (own) was computed on the
// same committed state, the instance slot, so at most one of them can ever
// be chosen (one value per instance). The operation is answered as applied
// only when one of them is seen chosen; while one may still be chosen
// (risky) the operation never computes a value on another state, and fails
// with MaybeApplied if the key moved on so far that it cannot tell.
type proposal struct {
	id       uint64
	key      string
	replicas []NodeID
	majority int
	op       Op

	ph          phase
	timer       int // ticks left in the phase
	attempts    int
	ballot      Ballot
	contentions int // attempts refused in a row, for the backoff

	// Replies to the current attempt, by replica index.
	answered      []bool // anything, in either phase
	voted         []bool // in the current phase
	promises      []promise
	votes, reject int

	kind       acceptKind
	offer      Proposal
	readResult Result // acceptFence: the answer once the fence is chosen

	own       []Ballot // origins of the values offered for this operation
	slot      Ballot   // their Base (when own is not empty)
	ownResult Result
	risky     bool

	lastCause    error
	lastAnswered int
}

func (pr *proposal) countAnswered() int {
	n := 0
	for _, a := range pr.answered {
		if a {
			n++
		}
	}
	return n
}

// endAttempt records why the current attempt ended.
func (pr *proposal) endAttempt(cause error) {
	pr.lastCause, pr.lastAnswered = cause, pr.countAnswered()
}

// startAttempt begins a new ballot, or fails the proposal at MaxAttempts.
func (p *Proposer) startAttempt(pr *proposal) {
	if pr.attempts >= p.cfg.MaxAttempts {
		p.fail(pr, false)
		return
	}
	pr.attempts++
	if p.byBallot[pr.ballot] == pr {
		delete(p.byBallot, pr.ballot)
	}
	pr.ballot = p.nextBallot()
	p.byBallot[pr.ballot] = pr
	pr.ph, pr.timer = phasePrepare, p.cfg.RoundTicks
	clear(pr.answered)
	clear(pr.voted)
	pr.promises, pr.votes, pr.reject = pr.promises[:0], 0, 0
	p.stats.Rounds++
	p.broadcast(pr, Message{Type: MsgPrepare, Key: pr.key, Ballot: pr.ballot})
}

// backoff ends the attempt's round (its late replies are ignored) and waits
// wait ticks before the next one.
func (p *Proposer) backoff(pr *proposal, wait int) {
	if p.byBallot[pr.ballot] == pr {
		delete(p.byBallot, pr.ballot)
	}
	pr.ph, pr.timer = phaseBackoff, wait
}

func (p *Proposer) startAccept(pr *proposal, kind acceptKind, offer Proposal) {
	pr.ph, pr.timer, pr.kind, pr.offer = phaseAccept, p.cfg.RoundTicks, kind, offer
	clear(pr.voted)
	pr.votes, pr.reject = 0, 0
	p.stats.AcceptRounds++
	p.broadcast(pr, Message{Type: MsgAccept, Key: pr.key, Proposal: offer})
}

func (p *Proposer) onPromise(pr *proposal, i int, m Message) {
	pr.answered[i] = true
	if pr.ph != phasePrepare || pr.voted[i] {
		return // late, or a duplicate
	}
	pr.voted[i] = true
	pr.votes++
	pr.promises = append(pr.promises, promise{from: i, accepted: m.Accepted, committed: m.Committed, recent: m.Recent})
	if pr.votes >= pr.majority {
		p.decide(pr)
	}
}

func (p *Proposer) onAccepted(pr *proposal, i int) {
	pr.answered[i] = true
	if pr.ph != phaseAccept || pr.voted[i] {
		return
	}
	pr.voted[i] = true
	pr.votes++
	if pr.votes >= pr.majority {
		p.chosen(pr)
	}
}

func (p *Proposer) onReject(pr *proposal, i int) {
	pr.answered[i] = true
	if (pr.ph != phasePrepare && pr.ph != phaseAccept) || pr.voted[i] {
		return
	}
	pr.voted[i] = true
	pr.reject++
	if pr.reject <= len(pr.replicas)-pr.majority {
		return // a majority may still agree
	}
	if pr.ph == phaseAccept && pr.kind == acceptOwn && pr.reject < len(pr.replicas) {
		pr.risky = true // the replicas that did not refuse may have accepted it
	}
	p.stats.ContentionRetries++
	pr.endAttempt(ErrContention)
	pr.contentions++
	span := min(p.cfg.MaxBackoffTicks, p.cfg.BackoffTicks<<min(pr.contentions-1, 20))
	if pr.risky {
		// An offer of ours may be chosen: come back soon, before the key
		// moves on so far that its fate cannot be read any more.
		span = p.cfg.BackoffTicks
	}
	p.backoff(pr, 1+p.cfg.Rand.IntN(span))
}

// decide runs when a majority promised: it reads the key's current state
// from the promises and picks the accept round, or answers at once.
func (p *Proposer) decide(pr *proposal) {
	pr.contentions = 0
	var mrc, inProgress Proposal
	for _, pm := range pr.promises {
		if mrc.Ballot.Less(pm.committed.Ballot) {
			mrc = pm.committed
		}
	}
	for _, pm := range pr.promises {
		if mrc.Ballot.Less(pm.accepted.Ballot) && inProgress.Ballot.Less(pm.accepted.Ballot) {
			inProgress = pm.accepted
		}
	}
	if b, ok := p.known[pr.key]; ok && !inProgress.Ballot.IsZero() && inProgress.Ballot == b {
		// Chosen by this proposer, its commit still on the way: it is the
		// most recent commit.
		mrc, inProgress = inProgress, Proposal{}
	}
	// Replicas behind on the most recent commit get it now (without
	// waiting: the promises carry the value, so nothing depends on it).
	if !mrc.Ballot.IsZero() {
		for _, pm := range pr.promises {
			if pm.committed.Ballot.Less(mrc.Ballot) {
				p.stats.Repairs++
				p.send(pr.replicas[pm.from], Message{Type: MsgCommit, Key: pr.key, Proposal: mrc})
			}
		}
	}
	if pr.risky {
		switch p.settle(pr, mrc) {
		case settledApplied:
			p.succeed(pr, pr.ownResult)
			return
		case settledLost:
			pr.risky = false // another operation took the instance: ours never applies
		}
	}
	if !inProgress.Ballot.IsZero() {
		// An instance is undecided, or decided without a commit we saw:
		// finish it under our ballot first.
		offer := inProgress
		offer.Ballot = pr.ballot
		p.startAccept(pr, acceptFinish, offer)
		return
	}
	if pr.risky && mrc.Origin != pr.slot {
		// The key moved on since our offers, and the promises do not show
		// which operation its instance chose: it may have been ours. (When
		// mrc.Origin is the slot, the instance is still open: computing
		// again on mrc keeps every offer in one instance.)
		pr.endAttempt(ErrContention)
		p.fail(pr, true)
		return
	}
	next, res, writes := pr.op.apply(mrc.Value)
	if !writes {
		if p.cfg.FenceReads {
			pr.readResult = res
			fence := mrc
			if mrc.Ballot.IsZero() {
				// Nothing was ever committed: fence with the initial absent
				// state as a no-op operation of its own.
				fence = Proposal{Origin: pr.ballot}
			}
			fence.Ballot = pr.ballot
			p.startAccept(pr, acceptFence, fence)
			return
		}
		p.stats.FastReads++
		p.succeed(pr, res)
		return
	}
	if !pr.risky {
		// None of the earlier offers can be chosen: start afresh on mrc.
		pr.own, pr.slot, pr.ownResult = pr.own[:0], mrc.Origin, res
	} else if res.Applied != pr.ownResult.Applied || res.Expired != pr.ownResult.Expired || !res.Prev.Equal(pr.ownResult.Prev) {
		// Two commits with one origin but different values: a replica is
		// broken (an honest one cannot produce this). Do not guess.
		p.log.Error("paxos: one operation origin with two values", "key", pr.key, "origin", pr.slot.String())
		pr.endAttempt(ErrContention)
		p.fail(pr, true)
		return
	}
	pr.own = append(pr.own, pr.ballot)
	p.startAccept(pr, acceptOwn, Proposal{Ballot: pr.ballot, Origin: pr.ballot, Base: mrc.Origin, Value: next})
}

// chosen runs when a majority accepted the offer: it is chosen. The commit
// goes to every replica without waiting for acknowledgements.
func (p *Proposer) chosen(pr *proposal) {
	offer := pr.offer
	p.stats.Commits++
	p.rememberChosen(pr.key, offer.Ballot)
	p.broadcast(pr, Message{Type: MsgCommit, Key: pr.key, Proposal: offer})
	switch pr.kind {
	case acceptOwn:
		p.succeed(pr, pr.ownResult)
	case acceptFence:
		p.succeed(pr, pr.readResult)
	case acceptFinish:
		p.stats.Finished++
		if pr.risky {
			switch {
			case slices.Contains(pr.own, offer.Origin) || slices.Contains(pr.own, offer.Base):
				p.succeed(pr, pr.ownResult) // chosen, or the base of a chosen value
				return
			case offer.Base == pr.slot:
				pr.risky = false // another operation took the instance
			}
		}
		if !pr.risky {
			// The finished value is the newest chosen one: an operation that
			// does not write on it is answered now.
			if _, res, writes := pr.op.apply(offer.Value); !writes {
				p.succeed(pr, res)
				return
			}
		}
		pr.endAttempt(ErrContention)
		p.startAttempt(pr)
	}
}

// settlement is what the promises of a round tell about a risky
// operation's offers.
type settlement uint8

const (
	settledUnknown settlement = iota
	// settledApplied: one of the offers was chosen.
	settledApplied
	// settledLost: another operation was chosen in the offers' instance,
	// so none of them can ever be chosen.
	settledLost
)

// settle looks for the fate of pr's offers in the promises and in mrc (a
// chosen proposal): a commit of one of them (in the Recent links), a
// proposal computed on one of them (its Base: only chosen values are
// computed on), or a commit of another operation in their instance.
func (p *Proposer) settle(pr *proposal, mrc Proposal) settlement {
	lost := false
	if !mrc.Ballot.IsZero() {
		if slices.Contains(pr.own, mrc.Origin) || slices.Contains(pr.own, mrc.Base) {
			return settledApplied
		}
		lost = mrc.Base == pr.slot
	}
	for _, pm := range pr.promises {
		if a := pm.accepted; !a.Ballot.IsZero() && slices.Contains(pr.own, a.Base) {
			return settledApplied
		}
		for _, l := range pm.recent {
			if slices.Contains(pr.own, l.Origin) || slices.Contains(pr.own, l.Base) {
				return settledApplied
			}
			if l.Base == pr.slot {
				lost = true
			}
		}
	}
	if lost {
		return settledLost
	}
	return settledUnknown
}

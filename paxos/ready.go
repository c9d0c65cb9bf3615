package paxos

// Envelope is a message and the replica it goes to.
type Envelope struct {
	To  NodeID
	Msg Message
}

// Outcome is the answer to one proposal: Result if Err is nil, otherwise
// Err is an *Error.
type Outcome struct {
	ID     uint64
	Key    string
	Result Result
	Err    error
}

// Ready is what a Proposer asks the driver to do: send Messages (in any
// order, at any time: a proposer has no durable state, so nothing must be
// persisted first) and hand each Outcome to the client that proposed it.
// A proposer's messages to its own node's acceptor go through the driver
// like the others.
type Ready struct {
	Messages []Envelope
	Outcomes []Outcome
}

// IsEmpty reports whether rd asks for nothing.
func (rd Ready) IsEmpty() bool { return len(rd.Messages) == 0 && len(rd.Outcomes) == 0 }

// Stats counts what a Proposer did; the driver exports them as metrics.
// Counters only grow.
type Stats struct {
	// Proposals counts operations Propose took.
	Proposals uint64
	// Succeeded and Failed count answered operations.
	Succeeded, Failed uint64
	// Unknown counts the failures whose outcome is unknown
	// (Error.MaybeApplied).
	Unknown uint64
	// Rounds counts prepare rounds (ballots) started; AcceptRounds counts
	// accept rounds started.
	Rounds, AcceptRounds uint64
	// ContentionRetries counts attempts ended by a higher ballot.
	ContentionRetries uint64
	// Timeouts counts attempts ended by the round timer.
	Timeouts uint64
	// Finished counts in-progress proposals of other rounds that this
	// proposer re-proposed and committed before going on.
	Finished uint64
	// Repairs counts Commit messages sent to replicas whose most recent
	// commit was behind the newest one in a prepare round.
	Repairs uint64
	// Commits counts proposals this proposer got chosen (its own writes,
	// finished proposals, read fences) and announced with Commit.
	Commits uint64
	// FastReads counts operations answered after the prepare round alone.
	FastReads uint64
}

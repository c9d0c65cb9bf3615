package txn

// Envelope is a message and the node it goes to.
type Envelope[M any] struct {
	To  NodeID
	Msg M
}

// Decided reports an outcome that is durable: in the log of the node that
// hands it out, or in the decision register that chose it. A participant
// applies it to its local resource (makes the transaction's writes visible
// or discards them, and releases its locks); a coordinator answers the
// client that began the transaction; a register replica reports what it
// learned.
type Decided struct {
	Txn     ID
	Outcome Outcome
}

// Ready is what a core asks the application to do. The application handles
// each Ready completely, in this order, before it asks for the next one:
//
//  1. append Records to the node's log in order, and sync the log if
//     MustSync;
//  2. send Messages (in any order: the network reorders anyway);
//  3. act on Decided (apply, or answer the client) and on VoteRequests
//     (prepare the transaction locally, then call the core's Vote).
//
// Step 1 before step 2 is the durability contract: every message whose
// truth depends on a record ("I voted yes", "I accepted the pre-commit",
// "the outcome is commit") travels in the same Ready as that record or in a
// later one, so it never leaves the node before the record is durable.
// Records that a crash may lose without harm (a coordinator's Begin and
// End, presumed abort) come with MustSync false when they are alone.
//
// A crash at any point of the handling is safe: what was not synced is
// lost, and what was not sent is retransmitted by the protocol.
type Ready[M any] struct {
	Records  []Record
	MustSync bool
	Messages []Envelope[M]
	Decided  []Decided
	// VoteRequests (participants) name transactions that were asked to
	// prepare. The application answers each with the core's Vote method,
	// at once or later; until then the participant may still abort
	// unilaterally when asked by its peers.
	VoteRequests []ID
}

// IsEmpty reports whether rd asks for nothing.
func (rd *Ready[M]) IsEmpty() bool {
	return len(rd.Records) == 0 && len(rd.Messages) == 0 && len(rd.Decided) == 0 && len(rd.VoteRequests) == 0
}

// Persist appends r to the Ready; force says whether it must be synced
// before the Ready's messages are sent. Cores use it to build their output.
func (rd *Ready[M]) Persist(r Record, force bool) {
	rd.Records = append(rd.Records, r)
	rd.MustSync = rd.MustSync || force
}

// Send appends a message to the Ready.
func (rd *Ready[M]) Send(to NodeID, m M) {
	rd.Messages = append(rd.Messages, Envelope[M]{To: to, Msg: m})
}

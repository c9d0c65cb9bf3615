package merkle

// Stats are one Session's counters, for the driver's metrics and logs.
type Stats struct {
	// Requests counts requests sent, resends included; Resends counts the
	// resends alone.
	Requests, Resends int
	// Replies counts replies accepted; Ignored counts replies dropped as
	// stale (already answered), duplicated, or of another session.
	Replies, Ignored int
	// BytesSent and BytesReceived are the encoded sizes of the requests
	// sent and of the replies handled (ignored ones included).
	BytesSent, BytesReceived int
	// NodesCompared counts the node hashes the initiator compared with the
	// responder's (two per NodeChildren answer).
	NodesCompared int
	// Levels is the deepest tree level whose hashes were compared (the
	// root is level 0, the leaves level Depth). An exchange takes at least
	// max(1, Levels) round trips, exactly that many when every level's
	// differing nodes fit in MaxInFlight requests and nothing is lost.
	Levels int
	// Ranges counts the ranges found; DifferingLeaves counts those that are
	// single leaves; LeavesCovered counts the leaves under all of them.
	Ranges, DifferingLeaves, LeavesCovered int
	// Truncated reports that MaxRanges stopped the descent somewhere: some
	// ranges cover subtrees that were not compared leaf by leaf.
	Truncated bool
}

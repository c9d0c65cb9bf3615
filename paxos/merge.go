package paxos

// MergeAcceptorStates returns the state of an acceptor that has seen
// everything a and b have: the higher promise, the newer proposal in
// progress and the newer commit (with its Recent links). It is how a new
// replica of a key catches up with the old ones before it answers any
// Prepare or Accept (see below); the result is valid if a and b are.
//
// Why a new acceptor must catch up: the ring moves a key's replicas, and a
// wiped member rejoins empty, so an acceptor set {A, B, C} becomes
// {A', B, C} (or {B, C, D}) where A' has forgotten what A promised and
// accepted. A value chosen by {A, C} whose commit did not reach B is then
// held by C alone, and a proposer that hears from {A', B} chooses another
// one: a second SET NX winner.
//
// Why merging is safe: the merged state is one a real acceptor could reach
// by receiving, in ballot order, the Accept and Prepare messages that
// proposers really sent to a and b, with every answer lost. An acceptor
// that merges before it answers anything is therefore indistinguishable
// from a correct acceptor whose messages were slow. And it is enough: a
// value chosen in the old set is accepted by at least Q of its n members,
// so by at least Q-1 of the n-1 that remain, and any n-Q+1 of those include
// one (likewise for a quorum's promise). An acceptor that merges the states
// of n-Q+1 other replicas therefore restores every chosen value, and every
// promise a quorum gave, to a quorum of the new set (RecoveryPeers).
func MergeAcceptorStates(a, b AcceptorState) AcceptorState {
	out := a
	if a.Committed.Ballot.Less(b.Committed.Ballot) {
		out.Committed, out.Recent = b.Committed, b.Recent
	}
	if a.Accepted.Ballot.Less(b.Accepted.Ballot) {
		out.Accepted = b.Accepted
	}
	if !out.Committed.Ballot.Less(out.Accepted.Ballot) {
		out.Accepted = Proposal{} // overtaken by the commit
	}
	out.Promised = maxBallot(maxBallot(a.Promised, b.Promised), out.Accepted.Ballot)
	return out
}

// RecoveryPeers is how many of a key's other replicas a new acceptor must
// merge the states of before it may answer (see MergeAcceptorStates), for
// a key with n replicas: n-Q+1 with Q = n/2+1, at most n-1. For n = 3 that
// is both others; for n = 5, three of the four.
func RecoveryPeers(n int) int {
	if n <= 1 {
		return 0
	}
	return min(n-(n/2+1)+1, n-1)
}

// Package quorum decides when a set of Raft voters agrees: the highest log
// index acknowledged by a majority (commit, paper §5.3) and the outcome of an
// election (§5.2). A JointConfig is two majority configurations that must
// both agree, as in joint consensus (paper §6; Ongaro's thesis §4.3).
//
// The computations are pure functions of their inputs; they iterate over
// sorted IDs or use order-independent counting, so results never depend on
// map iteration order.
//
// HAZARD: An empty MajorityConfig agrees to everything (CommittedIndex
// returns math.MaxUint64, VoteResult returns VoteWon). That is what makes an
// empty outgoing half of a JointConfig neutral; callers must never use an
// empty configuration on its own as if it were a real cluster.
//
// HAZARD: CommittedIndex counts acknowledgements, not terms. Raft may only
// commit an index by this count when the entry there is from the leader's
// current term (paper §5.4.2, figure 8); the caller checks the term.
package quorum

// Package confchange computes the next Raft configuration from a requested
// membership change, without touching the running tracker: the result is a
// new tracker.Config and ProgressMap that the caller installs when the
// change entry is applied.
//
// Two kinds of transitions exist (paper §6; Ongaro's thesis §4):
//
//   - Simple changes alter at most one voter. Any majority of the old voter
//     set and any majority of the new one share a node, so the two
//     configurations cannot elect different leaders or commit conflicting
//     entries in the same term (thesis §4.1). Learner changes never affect
//     majorities, so any number of them may accompany the one voter change.
//   - Joint consensus (EnterJoint, LeaveJoint) moves through C_old,new where
//     every decision needs a majority of both C_old and C_new, so arbitrary
//     changes are safe (thesis §4.3).
//
// HAZARD: Safety of simple changes also requires that a leader never has two
// configuration changes in flight: it must not propose the next until the
// previous is applied. The raft package enforces this (pendingConfIndex).
//
// HAZARD: A voter that is demoted while joint stays a voter of the outgoing
// half until the joint configuration is left; it is recorded in LearnersNext
// rather than Learners so that a node is never a voter and a learner at once.
package confchange

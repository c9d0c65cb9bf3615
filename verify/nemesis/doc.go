// Package nemesis injects faults into a cluster on a seeded schedule and
// records when each began and ended, for the report's timeline.
//
// # Faults
//
//   - kill: SIGKILL one member (a random one or the leader, and now and
//     then a majority or all of them at once), restart it after the hold.
//   - pause: SIGSTOP a member (random or the leader), SIGCONT after the
//     hold: the process is alive but silent, the fault that breaks
//     lease-based reasoning.
//   - partition: cut links, in one of these shapes: isolate one member,
//     isolate the leader, majority/minority, a bridge (two sides that
//     only one member hears both of), one-way (a member hears nobody, or
//     nobody hears it), and for five or more members a ring of
//     overlapping majorities.
//   - loss and delay: drop a fraction of, or delay, one member's or every
//     member's peer traffic.
//   - member: remove a member through the Cluster API, wipe it, add it
//     back as a learner on a new peer URL, start it with
//     --initial-cluster-state existing, and promote it once it has caught
//     up. It is never combined with another fault.
//
// With several kinds, each step picks one at random and, a quarter of the
// time, adds a second one of another kind on top (a partition with a
// kill, a pause with packet loss), as Jepsen's combined nemesis does.
// Between steps the cluster is left healthy for Interval; a fault is held
// for a random time around Hold.
//
// # Determinism
//
// The seed fixes the sequence of kinds, shapes, targets that are chosen
// by index, and durations; which member leads at a given moment is the
// real cluster's business, so a run is repeatable in what it asks for,
// not in every interleaving.
//
// HAZARD: Heal must run after Run returns: it restarts killed members,
// continues paused ones, heals the network and finishes an interrupted
// membership change. Until it does, the cluster may be left without a
// quorum.
package nemesis

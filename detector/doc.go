// Package detector implements failure detectors: a node records the
// heartbeats it receives from each peer and asks, at any moment, how
// suspicious each peer's silence is.
//
// Two detectors share the Detector interface:
//
//   - FixedTimeout suspects a node once it has been silent for longer than
//     a fixed timeout. It is simple and predictable, but one timeout must
//     suit every node and every load: short enough to detect crashes
//     quickly, long enough never to mistake a pause for a crash.
//
//   - PhiAccrual is the φ accrual failure detector of N. Hayashibara,
//     X. Défago, R. Yared and T. Katayama, "The φ Accrual Failure
//     Detector", SRDS 2004, in the form used by Akka and Cassandra. It
//     learns each node's heartbeat rhythm (a sliding window of
//     inter-arrival times, with their mean and standard deviation) and
//     outputs a suspicion level φ = -log10(P(a live node stays silent this
//     long)) instead of a verdict; the application picks a threshold. A
//     node on a jittery link, or under load, is given longer before it is
//     suspected, and a node on a quiet link is suspected sooner.
//
// # Time
//
// Detectors never read a clock. Every method takes the time as an
// argument (the arrival of a heartbeat, the moment of a question), so the
// caller's clock is the injected clock: time.Now in a node, the
// simulator's clock in tests. Times must come from one monotonic source.
//
// # Node keys
//
// Detectors are generic in the node key (K comparable): gossip keys its
// members by its own ID type, and a type parameter keeps the hot path free
// of conversions and allocations while the compiler checks the key type.
//
// # Memory and concurrency
//
// Each tracked node costs about 8·WindowSize + 150 bytes for PhiAccrual
// (8 KB with the default window of 1000) and about 100 bytes for
// FixedTimeout; MaxNodes bounds the number of nodes, and a heartbeat from
// one node too many gets ErrTooManyNodes. Both detectors are safe for
// concurrent use: queries share a read lock; heartbeats take the write
// lock for O(1) work.
//
// # What the simulation shows
//
// TestSimulationPhiBeatsFixedTimeout (run it with -v for the table) feeds
// both detectors four hours of 1 s heartbeats, per seed, from a node that
// alternates between calm periods and storms of jitter and heavy-tailed
// 2–3 s pauses, and simulates crashes throughout. For every fixed timeout
// from 2 s to 12 s, some phi setting detects crashes at least as fast on
// average with fewer false suspicions (about half as many at 3 s). The
// advantage comes from adaptation: on a node whose heartbeats always
// follow the same distribution, a well-chosen fixed timeout is as good as
// phi, and phi's worst-case detection time (a crash just after a storm,
// while the window still remembers it) is longer than its average.
//
// HAZARD: heartbeat arrival times include the network's delay. A detector
// measures the link as much as the node: a congested link makes a live
// node look slow, and phi will adapt to it (which is the point, and also
// how a slowly degrading node escapes suspicion).
//
// HAZARD: phi assumes inter-arrival times are roughly normal. They are
// not (pauses make them heavy-tailed), so phi = 8 is not a one-in-10^8
// chance of error: it is a tuning knob. The logistic approximation of the
// normal CDF (Akka's) differs from the normal by about 1e-4 and decays
// more slowly in the far tail.
//
// HAZARD: MinStdDev too small on a quiet LAN makes phi explode after a few
// milliseconds of unusual delay: the measured deviation of 1 s heartbeats
// is often under 10 ms. The 100 ms default keeps scheduler noise and one
// retransmission below suspicion.
//
// HAZARD: the window remembers. A storm stays in the window for
// WindowSize heartbeats (about 17 minutes with the defaults), during which
// crashes are detected more slowly; a smaller window forgets sooner but
// estimates the deviation from fewer samples and suspects on the first
// pause after a quiet spell.
//
// HAZARD: silences longer than MaxInterval are not learned, so that an
// outage does not blind the detector to the next one; a node whose
// normal rhythm is slower than MaxInterval is never learned at all.
//
// HAZARD: a node never heard from is available (suspicion 0). Whether it
// should exist is membership's decision, not the detector's: gossip must
// add and Remove members, or the detector's map holds nodes that left.
//
// HAZARD: times from different clocks, or wall-clock readings without a
// monotonic component, make intervals jump when the wall clock is stepped.
// Heartbeats not after the last one are ignored; a forward step looks like
// a long silence.
package detector

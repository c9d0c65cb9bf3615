// Package gossip is the pure protocol core of cairn's membership: SWIM
// failure detection and dissemination with the Lifeguard extensions, as a
// deterministic state machine driven by ticks and messages.
//
// Sources: A. Das, I. Gupta and A. Motivala, "SWIM: Scalable
// Weakly-consistent Infection-style Process Group Membership Protocol",
// DSN 2002; A. Dadgar, J. Phillips and J. Currey, "Lifeguard: Local Health
// Awareness for More Accurate Failure Detection", 2018; and the choices of
// hashicorp/memberlist where the papers leave room (defaults, the
// push-pull exchange, the retransmit count). Nothing is copied from
// memberlist: its goroutines and timers are replaced by ticks.
//
// # Shape
//
// A Node takes inputs — Tick, Step(from, msg), Join(seeds), Leave, SetMeta —
// and piles up effects that Ready hands out: messages to send, membership
// events, and the node's incarnation when it changed. It never reads a
// clock, sleeps, starts a goroutine, touches the network or draws from a
// global random source: time is counted in ticks and randomness comes from
// Config.Rand. The driver (the UDP/TCP loop of a real node, or
// gossip/gossipsim in the simulators) does the I/O.
//
// # The protocol
//
//   - Members are alive, suspect, dead or left, each at an incarnation
//     number that only the member itself raises. Updates are ordered by
//     incarnation, then by state (alive < suspect < dead < left), with two
//     exceptions: alive needs a strictly higher incarnation, and suspect or
//     dead never revive a dead or left member (types.go, members.go).
//   - Failure detection (probe.go): every probe period the node pings the
//     next member of a shuffled round-robin order; without an ack within
//     the probe timeout it asks IndirectChecks helpers to ping for it;
//     without any ack by the end of the period the member becomes suspect.
//   - Suspicion (suspicion.go): a suspect is declared dead when its timer
//     runs out, unless it refutes by raising its incarnation. The timeout
//     is SuspicionMult·max(1, log10 N) periods at least, starts at
//     SuspicionMaxMult times that, and shrinks logarithmically with each
//     independent accuser up to IndirectChecks (Lifeguard §IV-B).
//   - Local health (probe.go): failed probes, missing nacks from helpers
//     (Lifeguard §IV-C) and refutations of this node raise a multiplier
//     that stretches this node's probe period and timeout (§IV-A):
//     a node that cannot hear acks slows down instead of accusing
//     everyone.
//   - Dissemination (broadcast.go): each membership change is queued and
//     piggybacked on pings, acks, ping-reqs and nacks, least-sent and
//     newest first, RetransmitMult·ceil(log10(N+1)) times; an optional
//     gossip fan-out sends the queue to random members too. A suspect
//     member is told of its suspicion in the ping that probes it, and any
//     member that talks to a node that holds it suspect or dead gets that
//     verdict first in the reply, so it can refute at once.
//   - Anti-entropy (pushpull.go): every push-pull interval (stretched with
//     log2 N beyond 32 members), a full-table exchange with one random live
//     member; every reconnect interval, one with a random dead member, so
//     that the two sides of a healed partition find each other; and the
//     join, a push-pull to each seed until one answers. A death in a table
//     is taken as a suspicion only.
//   - Rejoin: the driver persists Ready.Incarnation and passes the last one
//     back as Config.LastIncarnation; the restarted node starts one higher,
//     which overrides its old death.
//   - Phi accrual (package detector), when Config.Phi is set, grades each
//     member by the rhythm of its direct messages: Member.Phi. It informs
//     (metrics, a caller choosing replicas), it does not decide.
//
// # Bounds
//
// Every queue and size is a Config field: the table (MaxMembers), metadata
// and addresses (MaxMetaBytes, MaxAddrBytes), datagrams (MaxMessageBytes,
// MaxUpdatesPerMessage), the piggyback queue (MaxQueuedUpdates), the
// pending output (MaxPendingMessages, MaxPendingEvents), the indirect
// probes run for others (MaxPendingRelays) and the push-pull replies per
// tick. At a bound the node drops the least useful item and counts it in
// Stats. Decode rejects anything over the Limits before allocating for it;
// FuzzDecode checks it.
//
// # Hazards
//
// HAZARD: the driver must persist Ready.Incarnation before sending
// Ready.Messages. A node that restarts below an incarnation it already
// announced is ignored until someone accuses it at that incarnation and it
// refutes: it recovers, but only after the cluster has mourned it.
//
// HAZARD: Message.From is trusted. A driver that can tell the sender from
// the transport (a TCP peer, an authenticated channel) should check it;
// over plain UDP anyone can accuse or impersonate, as in memberlist
// without encryption.
//
// HAZARD: the protocol counts time in ticks. If the driver's ticks stall
// (a paused process, a starved loop), the node's timers stall with them:
// it probes less and declares nobody dead, while the others suspect it.
// That is the intended reading of a pause, but a tick interval set far
// above the network's round trip makes every probe fail.
//
// HAZARD: a push-pull carries the whole table (MaxMembers entries of up to
// MaxAddrBytes+MaxMetaBytes each): the driver must send it over a stream
// and bound what it reads with Config.Limits, never over UDP.
//
// HAZARD: a partition longer than DeadRetentionTicks leaves the two sides
// with nothing to reconnect to but the seeds; a side without a seed stays
// apart until one of its nodes restarts or is given a seed.
//
// HAZARD: news travels at most MaxUpdatesPerMessage to a datagram. When
// hundreds of members change at once (half the cluster cut off), the last
// node hears the last change after many periods: in the simulator, 120
// periods for two halves of 500 nodes to bury each other, against 17 for
// one crash. Push-pull bounds the tail.
//
// HAZARD: a slow node (one that answers in several periods) is declared
// dead over and over: Lifeguard protects the healthy members it accuses,
// not the slow node itself, whose local health also makes it talk less.
//
// HAZARD: metadata is versioned by incarnation only: SetMeta raises it,
// and a stale copy can never win, but two nodes started with the same ID
// (a misconfiguration) fight with refutations forever.
//
// HAZARD: Members and Member compute phi under the detector's lock; Events
// carry no phi. Map iteration never reaches an output: the table is walked
// through its slice, and random choices come only from Config.Rand.
package gossip

/*
Package clock provides the logical and hybrid clocks that order events in
cairn: Lamport clocks, version vectors, dotted version vectors and a hybrid
logical clock. Each has its own type, because each answers a different
question, and their readings must never be mixed up with one another or with
an MVCC revision of the strong tier.

# Lamport clocks

A Lamport clock (Lamport, "Time, Clocks, and the Ordering of Events in a
Distributed System", CACM 21(7), 1978) is one counter per process: tick it
for every local event and send, and on receipt move it past the sender's
time (Lamport.Witness: max(local, remote) + 1). If a happened before b then
L(a) < L(b). The converse is false: Lamport times give a total order that is
consistent with causality but cannot detect concurrency. Use a LamportTime
where a cheap, compact order consistent with causality is enough, such as
ordering protocol messages or breaking ties.

# Version vectors

A VersionVector (Parker et al., "Detection of Mutual Inconsistency in
Distributed Systems", IEEE TSE 1983; the vector clocks of Fidge 1988 and
Mattern 1989) holds one counter per replica: the number of that replica's
events that have been seen. Comparing two vectors tells exactly whether one
history contains the other or whether they are concurrent (Before, After,
Equal, Concurrent), and Merge is the pointwise maximum, which is commutative,
associative and idempotent. Use one where concurrent updates must be detected
rather than silently ordered; the crdt package builds its causal contexts
from them.

# Dotted version vectors

A DVV (Preguiça, Baquero, Almeida, Fonte and Gonçalves, "Dotted Version
Vectors: Logical Clocks for Optimistic Replication", arXiv:1011.5808, 2010;
also PODC 2012) is the clock of one stored version: the dot of the write that
made it and the version vector that its writer had read. With plain version
vectors keyed by server, two clients writing through the same coordinator
with the same context get clocks that look ordered, and one write is lost;
with vectors keyed by client, the vectors grow with the number of clients. A
DVV keys by server yet keeps the two writes concurrent, because each has its
own dot. The eventual tier keeps a set of Sibling versions per key: Put at
the coordinator, Sync when replicas exchange sets, Join to give a reader the
context of its next write. Each comparison is a single lookup.

# Hybrid logical clocks

An HLC (Kulkarni, Demirbas, Madappa, Avva and Leone, "Logical Physical Clocks
and Consistent Snapshots in Globally Distributed Databases", OPODIS 2014)
issues Timestamps that are close to physical time, yet, like a Lamport
clock, respect causality: HLC.Now for local and send events, HLC.Update (the
paper's receive rule) for a received timestamp. Timestamps are totally
ordered, fit in 12 bytes, and their encoding sorts like the timestamps, so
they can end a key in an ordered store. Use an HLC where a timestamp must mean
roughly "when", such as last-writer-wins registers, TTLs and snapshot reads.
The physical clock is injected (PhysicalClock): SystemClock on a node,
ManualClock in tests and the simulator, SkewedClock for injected skew.

Which to use: ordering alone calls for a LamportTime; detecting concurrent
updates calls for a VersionVector, or a DVV per stored version; an order that
also tracks real time calls for an HLC Timestamp.

# Hazards

HAZARD: the HLC assumes that every node's physical clock is within MaxOffset
of every other's. Update rejects a remote timestamp more than MaxOffset ahead
of the local physical clock (ClockOffsetError, counted by HLC.Rejected), but a
node whose clock is behind is not detected here: its timestamps are merely
low, and its last-writer-wins writes lose. Anything that turns an HLC
timestamp into a promise about real time (leases, uncertainty windows, TTL
expiry) is only as good as this assumption.

HAZARD: a node whose clock jumps ahead by less than MaxOffset drags every
peer it talks to forward with it: an HLC never moves backwards, so those
peers' timestamps stay ahead of physical time, counting only logically, until
real time catches up. HLC.MaxForwardJump exposes how far that has gone. A
node whose clock is further ahead than MaxOffset has its messages rejected by
every peer and is effectively partitioned until it is fixed.

HAZARD: an HLC keeps its state in memory only. After a restart it starts from
the physical clock, so if the clock stepped back across the restart, the node
can issue timestamps lower than ones it issued before the crash. A caller that
needs monotonic timestamps across restarts must persist an upper bound of the
timestamps it issued, or wait until the physical clock passes it, before
serving.

HAZARD: when an HLC's Logical component would overflow, WallTime moves 1ns
forward instead (see HLC). A peer that sends timestamps with Logical near
math.MaxUint32 can therefore push this clock ahead of physical time by 1ns per
message, still bounded by what MaxOffset lets in.

HAZARD: ManualClock is for tests and the simulator only; a node running on
one would issue timestamps that have nothing to do with time. SkewedClock
exists for fault injection; in a node it must be reachable only through a
guarded admin call.

HAZARD: a Lamport clock saturates at MaxLamportTime instead of wrapping, and a
peer can send that time. After that, events are no longer strictly ordered.
Lamport times from untrusted peers need a bound at the edge.

HAZARD: a version vector grows by one entry for every replica that ever
wrote, and an entry can only be dropped when every replica agrees that the
replica is gone for good. A replica ID must never be reused, and
DecodeVersionVector refuses more than 65,536 entries. VersionVector.Increment
panics rather than wrap a counter at math.MaxUint64; only a corrupt or hostile
peer can send a counter that large, so bound counters where vectors enter.

HAZARD: a replica that loses its data (a disk wiped, a store restored from an
old backup) must come back with a new ReplicaID. Otherwise it reissues dots
that already name other writes, and versions that share a dot are treated as
one: a write is lost without an error.

HAZARD: DVV comparisons are exact only for histories that this protocol
produced. Replicas must exchange whole sibling sets (Sync the coordinator's
full result of Put into each replica's set), never one new version on its
own: Join turns a history with a gap into a version vector that claims the
gap, and a replica holding dot r:n without r's earlier concurrent siblings
would then give a reader a context under which a later write silently
discards versions the reader never saw.

HAZARD: a client context is trusted. A client that presents a context
covering versions it never read makes its write discard them, as in Riak and
Dynamo. The number of siblings per key is unbounded here (Sync is quadratic in
it); the eventual tier must bound it and say what happens at the bound.
*/
package clock

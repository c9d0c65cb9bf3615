// Package gossipnet runs cairn's SWIM membership (the pure core in package
// gossip) on the real network: datagrams over UDP, full-table push-pulls
// over gRPC on the node's peer server, real time from a ticker, the
// incarnation persisted through a callback, fault injection shared with
// the peer transport, events for subscribers, and Prometheus metrics.
//
// # Shape
//
// One goroutine, the loop, owns the gossip.Node; nothing else touches it.
//
//	time.Ticker (Core.TickDuration) ──────────────────────────┐
//	UDP reader ── decode, inbound faults ──▶ inbox (InboxLen) ─┤
//	push-pull clients ── reply ──────────▶ replies ───────────┤
//	gRPC PushPull handler ───────────────▶ serving ───────────┼──▶ loop: Tick / Step / Join / Leave / SetMeta
//	Join, Leave, SetMeta, Members, Subscribe ──▶ ctl ─────────┘        then flush the Ready:
//	                                                                    1. Persist(Ready.Incarnation)
//	                                                                    2. events → metrics, logs, subscribers
//	                                                                    3. datagrams → outbound faults → UDP
//	                                                                       push-pulls → a goroutine each
//
// After every input the loop flushes the node's Ready, in the order the
// core requires: a new incarnation is persisted before any message that
// may carry it is sent (gossip's HAZARD); while Persist fails nothing is
// sent, and every tick retries. Datagrams are encoded and written from the
// loop (a write to a UDP socket does not wait for the peer); each is at
// most Core.MaxMessageBytes, which the core guarantees.
//
// Push-pulls carry the whole table and never travel over UDP. The
// service cairn.gossip.v1.Gossip/PushPull is registered by Register on
// the node's peer gRPC server (the one the transport serves Raft on), so
// SWIM uses the peer port number twice: UDP for datagrams, TCP (gRPC) for
// push-pulls. It is unary and its messages are raw bytes in the core's
// wire format, through a codec of its own ("cairn-gossip"): the
// transport's "cairn-raw" codec only reads the transport's own types. An
// outbound push-pull runs on its own goroutine (at most
// MaxPushPullsInFlight) over a fresh connection, and its reply goes back
// to the loop. An inbound one is decoded in the handler, handed to the
// loop, which steps it and takes the node's reply out of the same Ready
// (every Step is followed by a flush, so the reply to this request is
// there, or the node refused it for MaxPushPullRepliesPerTick and the
// caller gets ResourceExhausted).
//
// # Identity
//
// A gossip id is the transport's node id (the server's MemberID), so one
// transport.Faults rule, keyed by node id and direction, cuts Raft and
// gossip alike. A push-pull must be addressed to this node (To), and its
// reply must come from the member it was sent to: a member's address
// reused by another member is caught there (FailedPrecondition), and by
// the core for pings (Misdirected).
//
// # Events
//
// Subscribe returns a Subscription and, atomically with it, the table.
// Each subscriber has a queue of SubscriberBuffer events; at the bound
// the subscriber loses events (counted per subscriber and in
// cairn_gossip_subscriber_events_dropped_total) and must resynchronize
// from Members, which is always current. The loop never waits for a
// subscriber.
//
// # Bounds
//
// Every queue is a Config field: the inbox of received datagrams
// (InboxLen, drops at the bound), the push-pulls in flight
// (MaxPushPullsInFlight, result "busy") and waiting to be served
// (MaxPushPullsServing, ResourceExhausted), each push-pull's size
// (MaxPushPullBytes) and time (PushPullTimeout), subscribers and their
// queues, datagrams held by a delay rule (MaxDelayedDatagrams), the
// address cache, the pings timed for the round-trip histogram and the phi
// gauges. Received bytes are parsed only by decodeDatagram and
// decodePushPull, which bound sizes before the core's Decode bounds counts
// (both fuzzed).
//
// # Fault injection
//
// With Config.Faults set, every datagram is checked against the rule of
// its receiver (Outbound) when sent and of its sender (Inbound) when
// received: a partition or a drop discards it, a delay holds it back. A
// push-pull to or from a partitioned peer fails at once (Unavailable), as
// the transport's snapshots do.
//
// # Observability
//
// Metrics (cairn_gossip_*): members by state, phi per member, local
// health, incarnation, probe round trips (direct and indirect), messages
// and bytes sent and received by type, datagrams dropped by reason,
// push-pulls by direction and result and their duration, events by kind,
// events lost by subscribers, persist failures, and the core's counters
// (probes, nacks, suspicions raised, deaths declared, refutations,
// push-pulls refused, reconnects, ...). Logs: every change of a member's
// state at info (join, suspect, alive, dead, leave), metadata updates at
// debug, repeating errors at most once per ErrorLogInterval.
//
// HAZARD: the sender of a datagram is the one it names (Message.From):
// plain UDP cannot tell otherwise, so anyone who reaches the port can
// accuse or impersonate a member, as in memberlist without encryption.
// Run the peer port on a trusted network.
//
// HAZARD: the ticker drops the ticks a stalled loop missed, so a paused
// process (SIGSTOP, a long GC pause, a starved machine) stops its node's
// clock: it declares nobody dead while paused, and the others suspect it.
// When it resumes it reads the datagrams its socket buffered
// (SocketBufferBytes, capped by the kernel), learns it was suspected and
// refutes. A pause longer than the others' suspicion timeout gets it
// declared dead first; it then refutes with a higher incarnation and is
// alive again.
//
// HAZARD: the peer gRPC server's receive limit (set by the transport, 3
// MiB) applies to push-pulls before MaxPushPullBytes: a table larger than
// that (about 15,000 members with a 200-byte address and metadata) is
// refused, and the cluster falls back on gossip alone.
//
// HAZARD: a host name in a member's address is resolved on the loop (and
// cached); a slow resolver stalls the node. Advertise IP addresses.
//
// HAZARD: Close without Leave makes the others detect a failure (suspect,
// then dead) instead of a departure. Leave sends the leave to
// Core.LeaveFanout members at once and lingers LeaveLinger answering pings
// with it; a member that missed both marks the node dead after its
// suspicion timeout.
package gossipnet

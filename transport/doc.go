// Package transport carries bytes between cairn nodes over gRPC on the
// peer port: ordered streams of opaque frames (Raft messages today,
// eventual-tier replication later) and large snapshots on streams of their
// own. It knows nothing of what a frame holds.
//
// # Shape
//
// Each peer has a bounded queue and one sender goroutine:
//
//	Send(to, frame) ──▶ queue (QueueLen frames, QueueBytes) ──▶ sender ──▶ Frames stream ──▶ peer's HandleFrames
//	   never blocks:         full → false                    batches:  one message per batch,
//	   false = dropped                                      ≤ MaxBatchFrames, ≤ MaxBatchBytes
//
// Send never blocks. It returns false when it drops the frame (queue full,
// unknown peer, breaker open, frame too large, transport closed), so that
// a Raft node can call ReportUnreachable. The sender waits for one frame,
// takes whatever else is queued up to the batch bounds, and writes it as
// one message on a long-lived client stream: under load, batches grow by
// themselves; when idle, a frame goes out alone at once (no linger).
//
// On error the sender reconnects with exponential backoff and jitter
// (BackoffMin doubling to BackoffMax, each wait shortened by up to
// BackoffJitter). Each connection attempt and each batch is a call through
// the peer's circuit breaker (package breaker): after repeated failures it
// opens, Send fails fast, and the frames queued for the peer are dropped
// as stale; after its open time a probe connection tests the peer.
//
// Snapshots (SendSnapshot) use a separate client-streaming call on the
// same connection: a header message, body chunks of SnapshotChunkBytes,
// an end marker with the length and CRC-32C, then the receiver's answer
// once its handler has returned. HTTP/2 multiplexes the streams with
// per-stream flow control, so a long or stalled snapshot does not hold up
// the frames.
//
// # Why hand-written gRPC with a raw codec
//
// The transport must not depend on the Raft codec, and the project uses no
// protoc step. The service (service.go) is a hand-written grpc.ServiceDesc
// with two streaming methods, and its messages pass through a codec
// (codec.go) that moves bytes untouched: the transport frames its own
// messages (a varint-prefixed batch, see batch.go). The codec implements
// encoding.CodecV2, so an outgoing batch is encoded once into a buffer from
// gRPC's pool and handed to gRPC by reference (no copy, returned to the
// pool when written), and an incoming one is copied once out of gRPC's
// buffers. Clients force the codec with grpc.ForceCodecV2; servers find
// it by its content-subtype, "cairn-raw", in gRPC's codec registry, where
// an init function registers it. A distinct name leaves the "proto" codec,
// and every other service on the same server, untouched. (A wrapper
// message in protobuf would have cost a copy in each direction and a
// dependency on generated code; a raw net.Conn protocol would have lost
// HTTP/2 multiplexing, flow control, keepalives and TLS for nothing.)
//
// # Identity
//
// Every stream carries, in its request metadata, the sender's cluster id
// and node id, the node it is meant for, and the sender's incarnation and
// stream number. The receiver refuses a stream from another cluster, or
// addressed to another node, with codes.FailedPrecondition and its own
// identity in the trailer; the sender turns that into a *MismatchError
// (errors.Is ErrClusterMismatch or ErrNodeMismatch), visible in
// PeerInfo.LastError and returned by SendSnapshot. A frame stream counts as
// connected only once the receiver accepts it and sends its header.
//
// # Ordering and loss
//
// Frames to one peer leave in Send order and are delivered in that order,
// by calls to HandleFrames that never overlap for one peer. Only the
// newest stream from a peer delivers (see inboundPeer): frames are never
// duplicated or reordered, even across reconnects. Frames can be lost:
// those in flight when a stream breaks, those in a batch that failed
// (counted as send-failed), those dropped at Send. A batch that gRPC
// refused because its stream had already ended (io.EOF from SendMsg) was
// not sent at all, and is sent first on the next stream. Raft tolerates
// loss; a caller that does not must acknowledge above this layer.
//
// # Bounds
//
// Every queue and size is a Config field with a documented default:
// QueueLen and QueueBytes per peer, MaxFrameBytes, MaxBatchFrames and
// MaxBatchBytes per message, SnapshotChunkBytes, MaxSnapshotsInFlight per
// direction, DialTimeout per connection, SendTimeout per message, and
// ServerOptions sets the server's receive limit to the largest message the
// transport sends.
//
// # Fault injection
//
// Config.Faults (nil by default) lets a test or the verification harness
// drop, delay or black-hole frames per peer and direction at run time,
// deterministically from a seed. See Faults.
//
// # Observability
//
// Metrics (cairn_transport_*): frames and bytes sent and received per
// peer, drops per peer and reason, batch sizes in frames and bytes,
// connection attempts by result, broken streams, breaker state per peer,
// queue depth, snapshot bytes per peer and direction, snapshot durations.
// Logs: connections, broken streams, breaker transitions and refused
// identities, each repeating event at most once per LogInterval per peer,
// with the count of those held back.
//
// HAZARD: a slow handler stalls its peer. HandleFrames runs on the
// stream's goroutine; while it blocks, flow control stops the sender, and
// after SendTimeout the stream is cut and the breaker counts a failure.
// A handler must hand frames to a bounded queue and drop when it is full.
//
// HAZARD: Send takes ownership of the frame; a caller that reuses the
// buffer corrupts frames still queued. HandleFrames may keep frames, but
// one kept frame keeps its whole batch's buffer alive.
//
// HAZARD: Send returning true is not delivery. Anything that needs an
// answer must time out above the transport.
//
// HAZARD: all nodes of a cluster should share the size bounds. A receiver
// refuses a message over its own limit (ServerOptions), which breaks the
// stream and, repeated, opens the sender's breaker.
//
// HAZARD: no authentication without Credentials. The cluster id check
// catches misconfiguration, not an attacker: anyone who reaches the peer
// port can claim any id. Use mutual TLS on untrusted networks.
//
// HAZARD: Close does not end idle inbound streams: they live in the
// node's grpc.Server, which the node must stop (Stop or GracefulStop).
// After Close no frame or snapshot reaches the handler.
//
// HAZARD: gRPC reconnects a broken connection on its own schedule (set to
// the same bounds as the transport's backoff), and a stream attempt while
// the connection is down fails at once. A peer that returns is reached
// after up to about twice BackoffMax, not at the next attempt.
package transport

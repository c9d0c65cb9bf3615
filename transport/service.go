package transport

import (
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// The peer service, written by hand in place of protoc output: two
// streaming methods whose messages are raw bytes (see rawCodec).
//
//	service Peer {
//	  // Frames carries batches from the client to the server for as long
//	  // as the connection lives. The server sends no message; it sends
//	  // its header once it has accepted the stream.
//	  rpc Frames(stream bytes) returns (stream bytes);
//	  // Snapshot carries one snapshot: a header message, body chunks,
//	  // an end marker; the server answers with one empty message once
//	  // its handler has returned.
//	  rpc Snapshot(stream bytes) returns (bytes);
//	}
//
// defaultServiceName is the service of the transport whose Config.Channel
// is empty; a transport on channel c serves defaultServiceName + "." + c, so
// that transports on distinct channels share one gRPC server.
const defaultServiceName = "cairn.transport.v1.Peer"

// peerService is the HandlerType of the service: gRPC checks that what is
// registered implements it.
type peerService interface {
	serveFrames(grpc.ServerStream) error
	serveSnapshot(grpc.ServerStream) error
}

var _ peerService = (*Transport)(nil)

var (
	framesStreamDesc = grpc.StreamDesc{
		StreamName:    "Frames",
		Handler:       func(srv any, ss grpc.ServerStream) error { return srv.(peerService).serveFrames(ss) },
		ClientStreams: true,
		// Bidirectional although the server sends no message: a
		// client-streaming method must end with exactly one response.
		ServerStreams: true,
	}
	snapshotStreamDesc = grpc.StreamDesc{
		StreamName:    "Snapshot",
		Handler:       func(srv any, ss grpc.ServerStream) error { return srv.(peerService).serveSnapshot(ss) },
		ClientStreams: true,
	}
)

// service names one channel's gRPC service and its two methods.
type service struct {
	desc                   grpc.ServiceDesc
	framesMethod, snapshot string
}

func newService(channel string) service {
	name := defaultServiceName
	if channel != "" {
		name += "." + channel
	}
	return service{
		desc: grpc.ServiceDesc{
			ServiceName: name,
			HandlerType: (*peerService)(nil),
			Streams:     []grpc.StreamDesc{framesStreamDesc, snapshotStreamDesc},
			Metadata:    "transport/service.go",
		},
		framesMethod: "/" + name + "/Frames",
		snapshot:     "/" + name + "/Snapshot",
	}
}

// Metadata keys. A client names itself and its cluster in the request
// headers; a server names itself in its response header or, when it
// refuses the stream, in the trailer.
const (
	mdCluster     = "cairn-cluster-id"
	mdFrom        = "cairn-from"
	mdTo          = "cairn-to"
	mdIncarnation = "cairn-incarnation"
	mdStreamSeq   = "cairn-stream-seq"
	mdNode        = "cairn-node-id"
)

// streamKey identifies a frame stream: the sending transport's
// incarnation (random per New) and the stream's sequence number in it.
type streamKey struct {
	incarnation, seq uint64
}

// streamHeader is what a client says about a stream.
type streamHeader struct {
	cluster, from, to uint64
	key               streamKey
}

// outgoingMD is the request metadata of a stream to peer to.
func (t *Transport) outgoingMD(to, seq uint64) metadata.MD {
	return metadata.Pairs(
		mdCluster, strconv.FormatUint(t.cfg.ClusterID, 10),
		mdFrom, strconv.FormatUint(t.cfg.LocalID, 10),
		mdTo, strconv.FormatUint(to, 10),
		mdIncarnation, strconv.FormatUint(t.incarnation, 10),
		mdStreamSeq, strconv.FormatUint(seq, 10),
	)
}

// identityMD names this node and its cluster.
func (t *Transport) identityMD() metadata.MD {
	return metadata.Pairs(
		mdCluster, strconv.FormatUint(t.cfg.ClusterID, 10),
		mdNode, strconv.FormatUint(t.cfg.LocalID, 10),
	)
}

// mdUint returns the single unsigned value of key in md.
func mdUint(md metadata.MD, key string) (uint64, bool) {
	v := md.Get(key)
	if len(v) != 1 {
		return 0, false
	}
	x, err := strconv.ParseUint(v[0], 10, 64)
	return x, err == nil
}

// accept checks who opens a stream. It refuses a stream from another
// cluster, or addressed to another node, with codes.FailedPrecondition and
// this node's identity in the trailer, so the client can report the
// mismatch precisely.
func (t *Transport) accept(ss grpc.ServerStream) (streamHeader, error) {
	if t.closed.Load() {
		return streamHeader{}, status.Error(codes.Unavailable, ErrClosed.Error())
	}
	md, _ := metadata.FromIncomingContext(ss.Context())
	var h streamHeader
	var ok [5]bool
	h.cluster, ok[0] = mdUint(md, mdCluster)
	h.from, ok[1] = mdUint(md, mdFrom)
	h.to, ok[2] = mdUint(md, mdTo)
	h.key.incarnation, ok[3] = mdUint(md, mdIncarnation)
	h.key.seq, ok[4] = mdUint(md, mdStreamSeq)
	if ok != [5]bool{true, true, true, true, true} || h.from == 0 {
		return h, status.Error(codes.InvalidArgument, "transport: stream without a valid cluster id, sender, receiver, incarnation and sequence")
	}
	if h.cluster != t.cfg.ClusterID || h.to != t.cfg.LocalID {
		ss.SetTrailer(t.identityMD())
		t.logRejected(h)
		if h.cluster != t.cfg.ClusterID {
			return h, status.Errorf(codes.FailedPrecondition, "transport: node %d of cluster %x refuses node %d of cluster %x", t.cfg.LocalID, t.cfg.ClusterID, h.from, h.cluster)
		}
		return h, status.Errorf(codes.FailedPrecondition, "transport: node %d refuses a stream that node %d addressed to node %d", t.cfg.LocalID, h.from, h.to)
	}
	return h, nil
}

// logRejected logs a refused stream, at most once per LogInterval: a
// misconfigured peer retries forever.
func (t *Transport) logRejected(h streamHeader) {
	ok, suppressed := t.rejectLog.Allow(time.Now())
	if !ok {
		return
	}
	t.log.Error("transport: refused a stream from a peer with another identity",
		"from", h.from, "peer_cluster", h.cluster, "cluster", t.cfg.ClusterID,
		"addressed_to", h.to, "node", t.cfg.LocalID, "suppressed", suppressed)
}

// mismatch turns a refusal's trailer into a *MismatchError, or returns nil
// when the trailer shows no mismatch.
func (t *Transport) mismatch(p *peer, trailer metadata.MD) error {
	cluster, ok1 := mdUint(trailer, mdCluster)
	node, ok2 := mdUint(trailer, mdNode)
	switch {
	case !ok1 || !ok2:
		return nil
	case cluster != t.cfg.ClusterID:
		return &MismatchError{Peer: p.id, Addr: p.addr, Cluster: true, Want: t.cfg.ClusterID, Got: cluster}
	case node != p.id:
		return &MismatchError{Peer: p.id, Addr: p.addr, Want: p.id, Got: node}
	}
	return nil
}

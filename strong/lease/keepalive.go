package lease

import (
	"errors"
	"io"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// LeaseKeepAlive serves a keepalive stream as etcd does: one response per
// request, in order, carrying the request's lease ID and the renewed TTL,
// or TTL 0 when the lease does not exist (the stream goes on; clientv3
// then closes that lease's keepalive channel). Any other renew error ends
// the stream with its gRPC error, and the client opens a new stream.
//
// The header is taken before the renew, as etcd does, so its revision is
// never past a revoke of the lease that the renew did not see.
//
// Requests are served one at a time: a renew that waits (an expired lease
// whose revoke is pending) holds the stream, which bounds each stream's
// work to one renew.
func (s *Service) LeaseKeepAlive(stream pb.Lease_LeaseKeepAliveServer) error {
	ctx := stream.Context()
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			s.logStreamError("receive", ctx.Err(), err)
			return err
		}
		resp := &pb.LeaseKeepAliveResponse{ID: req.ID, Header: s.header()}
		ttl, err := s.backend.KeepAlive(ctx, ID(req.ID))
		switch {
		case isLeaseNotFound(err):
			ttl = 0
		case err != nil:
			return ToGRPCError(err)
		}
		resp.TTL = ttl
		if err := stream.Send(resp); err != nil {
			s.logStreamError("send", ctx.Err(), err)
			return err
		}
	}
}

// logStreamError logs a failed stream operation: quietly when the client
// went away, loudly otherwise.
func (s *Service) logStreamError(op string, ctxErr, err error) {
	if ctxErr != nil || status.Code(err) == codes.Canceled || status.Code(err) == codes.DeadlineExceeded {
		s.log.Debug("keepalive stream ended by the client", "op", op, "err", err)
		return
	}
	s.log.Warn("keepalive stream failed", "op", op, "err", err)
}

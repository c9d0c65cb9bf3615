package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// service is the etcd v3 Watch gRPC service over a Hub.
type service struct {
	etcdserverpb.UnimplementedWatchServer
	hub    *Hub
	header func(rev int64) *etcdserverpb.ResponseHeader
	opts   ServiceOptions
	log    *slog.Logger
}

var _ etcdserverpb.WatchServer = (*service)(nil)

// NewService returns the etcd v3 Watch service over hub; register it with
// etcdserverpb.RegisterWatchServer. header builds each response's header
// for a revision (cluster ID, member ID, Raft term); it is called from
// many goroutines.
func NewService(hub *Hub, header func(rev int64) *etcdserverpb.ResponseHeader, opts ServiceOptions) (etcdserverpb.WatchServer, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if hub == nil || header == nil {
		return nil, fmt.Errorf("%w: nil Hub or header function", ErrInvalidOptions)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &service{hub: hub, header: header, opts: opts, log: log.With("component", "watch-service")}, nil
}

// Watch implements etcdserverpb.WatchServer as etcd's v3rpc watch server
// does, seen from the client: one goroutine reads requests, this one sends
// the stream's responses in order. A client that half-closes its side
// keeps receiving events until it cancels the call, as with etcd.
func (s *service) Watch(gs etcdserverpb.Watch_WatchServer) error {
	st, err := s.hub.NewStream()
	if err != nil {
		return rpctypes.ErrGRPCStopped
	}
	defer st.Close()
	ctx, cancel := context.WithCancelCause(gs.Context())
	defer cancel(nil)
	go func() {
		if err := s.recvLoop(ctx, gs, st); err != nil {
			cancel(err)
		}
	}()
	for {
		r, err := st.Recv(ctx)
		if err != nil {
			return s.endError(ctx, err)
		}
		if err := s.send(gs, r); err != nil {
			s.log.Debug("sending a watch response failed", "err", err)
			return err
		}
	}
}

// endError maps why the stream ended to what the client gets.
func (s *service) endError(ctx context.Context, err error) error {
	if errors.Is(err, ErrClosed) || errors.Is(err, ErrStreamClosed) {
		return rpctypes.ErrGRPCStopped
	}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		if !errors.Is(cause, context.DeadlineExceeded) {
			s.log.Debug("receiving watch requests failed", "err", cause)
		}
		return cause
	}
	return rpctypes.ErrGRPCWatchCanceled
}

// recvLoop serves the client's requests until the stream ends; nil on the
// client's half-close or when the stream was closed.
func (s *service) recvLoop(ctx context.Context, gs etcdserverpb.Watch_WatchServer, st *Stream) error {
	for {
		req, err := gs.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch u := req.RequestUnion.(type) {
		case *etcdserverpb.WatchRequest_CreateRequest:
			if u.CreateRequest == nil {
				continue
			}
			if _, err := st.Watch(ctx, specFromRequest(u.CreateRequest)); stopped(ctx, err) {
				return nil
			}
		case *etcdserverpb.WatchRequest_CancelRequest:
			if u.CancelRequest == nil {
				continue
			}
			if err := st.Cancel(ctx, u.CancelRequest.WatchId); stopped(ctx, err) {
				return nil
			}
		case *etcdserverpb.WatchRequest_ProgressRequest:
			if u.ProgressRequest != nil {
				st.RequestProgress()
			}
		default:
			// Like etcd, an unknown request does not end the stream.
			s.log.Debug("ignoring an unknown watch request", "type", fmt.Sprintf("%T", u))
		}
	}
}

// stopped reports whether err means the stream is over (as opposed to a
// rejected request, already answered on the stream).
func stopped(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, ErrStreamClosed) || errors.Is(err, ErrClosed)
}

// specFromRequest converts etcd's create request.
func specFromRequest(c *etcdserverpb.WatchCreateRequest) WatchSpec {
	spec := WatchSpec{
		ID:             c.WatchId,
		Key:            c.Key,
		End:            c.RangeEnd,
		StartRev:       c.StartRevision,
		PrevKV:         c.PrevKv,
		Fragment:       c.Fragment,
		ProgressNotify: c.ProgressNotify,
	}
	for _, f := range c.Filters {
		switch f {
		case etcdserverpb.WatchCreateRequest_NOPUT:
			spec.NoPut = true
		case etcdserverpb.WatchCreateRequest_NODELETE:
			spec.NoDelete = true
		}
	}
	return spec
}

// send converts r to etcd's WatchResponse and sends it, in fragments when
// the watcher allows them and it is large.
func (s *service) send(gs etcdserverpb.Watch_WatchServer, r Response) error {
	wr := &etcdserverpb.WatchResponse{Header: s.header(r.Revision), WatchId: r.WatchID}
	switch r.Kind {
	case KindCreated:
		wr.Created = true
	case KindCreateFailed:
		wr.Created, wr.Canceled, wr.CancelReason = true, true, r.CancelReason
	case KindEvents:
		wr.Events = eventsForClient(r.Events, r.PrevKV)
		if r.Fragment {
			for _, f := range fragments(wr, s.opts.MaxResponseBytes) {
				if err := gs.Send(f); err != nil {
					return err
				}
			}
			return nil
		}
	case KindProgress:
	case KindCanceled:
		wr.Canceled = true
	case KindCompacted:
		wr.Canceled, wr.CompactRevision = true, r.CompactRevision
	default:
		return fmt.Errorf("watch: unknown response kind %v", r.Kind)
	}
	return gs.Send(wr)
}

// eventsForClient drops PrevKv from shared events when the watcher did
// not ask for it, copying only the events that carry one.
func eventsForClient(evs []*mvccpb.Event, prevKV bool) []*mvccpb.Event {
	if prevKV {
		return evs
	}
	var out []*mvccpb.Event
	for i, ev := range evs {
		if ev.PrevKv == nil {
			if out != nil {
				out[i] = ev
			}
			continue
		}
		if out == nil {
			out = make([]*mvccpb.Event, len(evs))
			copy(out, evs[:i])
		}
		out[i] = &mvccpb.Event{Type: ev.Type, Kv: ev.Kv}
	}
	if out == nil {
		return evs
	}
	return out
}

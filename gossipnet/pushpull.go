package gossipnet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/cairndb/cairn/gossip"
	"github.com/cairndb/cairn/transport"
)

// The push-pull service, written by hand in place of protoc output: one
// unary method whose request and response are a gossip.Message in the
// core's wire format (see rawCodec).
//
//	service Gossip {
//	  // PushPull sends the caller's table (a MsgPushPull) and answers
//	  // with the receiver's (a MsgPushPullReply). ResourceExhausted: the
//	  // receiver is answering too many this tick, retry at the next
//	  // interval. FailedPrecondition: the receiver is not the member the
//	  // request names (an address reused by another member).
//	  rpc PushPull(bytes) returns (bytes);
//	}
const (
	serviceName    = "cairn.gossip.v1.Gossip"
	pushPullMethod = "/" + serviceName + "/PushPull"
)

// gossipService is the HandlerType of the service: gRPC checks that what
// is registered implements it.
type gossipService interface {
	servePushPull(ctx context.Context, req []byte) ([]byte, error)
}

var _ gossipService = (*Driver)(nil)

var serviceDesc = grpc.ServiceDesc{
	ServiceName: serviceName,
	HandlerType: (*gossipService)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "PushPull", Handler: pushPullHandler}},
	Metadata:    "gossipnet/pushpull.go",
}

func pushPullHandler(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	in := new(rawMessage)
	if err := dec(in); err != nil {
		return nil, err
	}
	handle := func(ctx context.Context, req any) (any, error) {
		out, err := srv.(gossipService).servePushPull(ctx, req.(*rawMessage).data)
		if err != nil {
			return nil, err
		}
		return &rawMessage{data: out}, nil
	}
	if interceptor == nil {
		return handle(ctx, in)
	}
	return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: pushPullMethod}, handle)
}

// Push-pull results, the result label of cairn_gossip_push_pulls_total.
const (
	resultOK          = "ok"
	resultRefused     = "refused"     // the peer answers too many this tick
	resultBusy        = "busy"        // MaxPushPullsInFlight or MaxPushPullsServing reached
	resultTimeout     = "timeout"     // PushPullTimeout ran out
	resultUnreachable = "unreachable" // no connection, or the peer is stopping
	resultFault       = "fault"       // a fault rule dropped it
	resultTooLarge    = "too-large"   // over MaxPushPullBytes
	resultMalformed   = "malformed"   // the other side's bytes do not decode
	resultMisdirected = "misdirected" // the peer is not the member addressed
	resultNoAddress   = "no-address"  // the core knows no address for the member
	resultError       = "error"       // anything else
)

var pushPullResults = []string{resultOK, resultRefused, resultBusy, resultTimeout, resultUnreachable,
	resultFault, resultTooLarge, resultMalformed, resultMisdirected, resultNoAddress, resultError}

// errMisdirected: a push-pull for another member, or a reply from one.
var errMisdirected = errors.New("push-pull for another member")

// decodePushPull parses a push-pull exchange message of kind want,
// addressed to self, at most maxBytes and within lim (MaxMembers entries).
// When from is not 0 the message must come from it (a reply from the
// member the request was sent to). It is the only parsing of the RPC's
// untrusted bytes (FuzzDecodePushPull).
func decodePushPull(b []byte, lim gossip.Limits, maxBytes int, want gossip.MsgKind, self, from gossip.NodeID) (gossip.Message, error) {
	if len(b) > maxBytes {
		return gossip.Message{}, fmt.Errorf("%w: %s of %d bytes, limit %d", gossip.ErrMalformed, want, len(b), maxBytes)
	}
	m, err := gossip.Decode(b, lim)
	if err != nil {
		return gossip.Message{}, err
	}
	switch {
	case m.Kind != want:
		return gossip.Message{}, fmt.Errorf("%w: got %s, want %s", gossip.ErrMalformed, m.Kind, want)
	case m.To != self:
		return gossip.Message{}, fmt.Errorf("%w: %s addressed to %s, this is %s", errMisdirected, want, hexID(m.To), hexID(self))
	case from != 0 && m.From != from:
		return gossip.Message{}, fmt.Errorf("%w: %s from %s, sent to %s", errMisdirected, want, hexID(m.From), hexID(from))
	}
	return m, nil
}

// servePushPull answers one inbound push-pull on the peer gRPC server.
func (d *Driver) servePushPull(ctx context.Context, req []byte) ([]byte, error) {
	msg, err := decodePushPull(req, d.lim, d.cfg.MaxPushPullBytes, gossip.MsgPushPull, d.id, 0)
	if err != nil {
		if errors.Is(err, errMisdirected) {
			d.m.pushPull(dirInbound, resultMisdirected)
			return nil, status.Error(codes.FailedPrecondition, err.Error())
		}
		d.m.pushPull(dirInbound, resultMalformed)
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	d.m.received.WithLabelValues(kindLabel(msg.Kind)).Inc()
	d.m.bytesReceived.WithLabelValues(kindLabel(msg.Kind)).Add(float64(len(req)))
	// A partitioned peer's call fails at once rather than hang, as the
	// transport's snapshots do.
	if drop, delay := d.faults.verdict(msg.From, transport.Inbound); drop {
		d.m.pushPull(dirInbound, resultFault)
		return nil, status.Error(codes.Unavailable, "gossipnet: partitioned (fault injection)")
	} else if delay > 0 && !sleepCtx(ctx, delay) {
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	r := &ppRequest{msg: msg, reply: make(chan *gossip.Message, 1)}
	select {
	case d.serving <- r:
	case <-d.stop:
		d.m.pushPull(dirInbound, resultUnreachable)
		return nil, status.Error(codes.Unavailable, ErrClosed.Error())
	default:
		d.m.pushPull(dirInbound, resultBusy)
		return nil, status.Error(codes.ResourceExhausted, "gossipnet: too many push-pulls waiting")
	}
	var reply *gossip.Message
	select {
	case reply = <-r.reply:
	case <-d.done:
		d.m.pushPull(dirInbound, resultUnreachable)
		return nil, status.Error(codes.Unavailable, ErrClosed.Error())
	case <-ctx.Done():
		d.m.pushPull(dirInbound, resultTimeout)
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	if reply == nil {
		d.m.pushPull(dirInbound, resultRefused)
		return nil, status.Error(codes.ResourceExhausted, "gossipnet: push-pull refused this tick; retry later")
	}
	if drop, delay := d.faults.verdict(msg.From, transport.Outbound); drop {
		d.m.pushPull(dirInbound, resultFault)
		return nil, status.Error(codes.Unavailable, "gossipnet: partitioned (fault injection)")
	} else if delay > 0 && !sleepCtx(ctx, delay) {
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	out := gossip.Encode(reply)
	if len(out) > d.cfg.MaxPushPullBytes {
		d.m.pushPull(dirInbound, resultTooLarge)
		d.errLog.log(d.log, "pp-too-large", "gossip: table over MaxPushPullBytes; push-pull reply not sent", "bytes", len(out), "limit", d.cfg.MaxPushPullBytes)
		return nil, status.Error(codes.ResourceExhausted, "gossipnet: table over MaxPushPullBytes")
	}
	d.m.sent.WithLabelValues(kindLabel(reply.Kind)).Inc()
	d.m.bytesSent.WithLabelValues(kindLabel(reply.Kind)).Add(float64(len(out)))
	d.m.pushPull(dirInbound, resultOK)
	return out, nil
}

// startPushPull runs an outbound push-pull on its own goroutine, within
// MaxPushPullsInFlight.
func (d *Driver) startPushPull(ob gossip.Outbound) {
	select {
	case d.ppSlots <- struct{}{}:
	default:
		d.m.pushPull(dirOutbound, resultBusy)
		return
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer func() { <-d.ppSlots }()
		start := time.Now()
		result, err := d.pushPull(ob)
		d.m.pushPull(dirOutbound, result)
		if result == resultOK {
			d.m.pushPullSeconds.Observe(time.Since(start).Seconds())
			return
		}
		if err != nil && d.ctx.Err() == nil {
			d.errLog.log(d.log, "pp-"+result, "gossip: push-pull failed", "member", hexID(ob.Msg.To), "addr", ob.Addr, "result", result, "err", err)
		}
	}()
}

// pushPull sends the table to ob.Msg.To over gRPC and hands the reply to
// the loop. A new connection per exchange, as memberlist opens one TCP
// connection per push-pull: they are rare (one per PushPullInterval per
// node, plus joins and reconnections), and nothing stale is kept.
func (d *Driver) pushPull(ob gossip.Outbound) (string, error) {
	to := ob.Msg.To
	if ob.Addr == "" {
		return resultNoAddress, nil
	}
	req := gossip.Encode(&ob.Msg)
	if len(req) > d.cfg.MaxPushPullBytes {
		return resultTooLarge, fmt.Errorf("table of %d bytes over MaxPushPullBytes %d", len(req), d.cfg.MaxPushPullBytes)
	}
	if drop, delay := d.faults.verdict(to, transport.Outbound); drop {
		return resultFault, nil
	} else if delay > 0 && !sleepCtx(d.ctx, delay) {
		return resultUnreachable, d.ctx.Err()
	}
	ctx, cancel := context.WithTimeout(d.ctx, d.cfg.PushPullTimeout)
	defer cancel()
	opts := append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(
			grpc.ForceCodecV2(rawCodec{}),
			grpc.MaxCallSendMsgSize(d.cfg.MaxPushPullBytes),
			grpc.MaxCallRecvMsgSize(d.cfg.MaxPushPullBytes),
		),
	}, d.cfg.DialOptions...)
	cc, err := grpc.NewClient("passthrough:///"+ob.Addr, opts...)
	if err != nil {
		return resultError, err
	}
	defer cc.Close()
	d.m.sent.WithLabelValues(kindLabel(ob.Msg.Kind)).Inc()
	d.m.bytesSent.WithLabelValues(kindLabel(ob.Msg.Kind)).Add(float64(len(req)))
	var resp rawMessage
	if err := cc.Invoke(ctx, pushPullMethod, &rawMessage{data: req}, &resp); err != nil {
		// Not WaitForReady: a dead member's connection fails at once, and
		// the slot is free for the next exchange.
		switch status.Code(err) {
		case codes.ResourceExhausted:
			return resultRefused, err
		case codes.DeadlineExceeded:
			return resultTimeout, err
		case codes.FailedPrecondition:
			return resultMisdirected, err
		case codes.Unavailable, codes.Canceled:
			return resultUnreachable, err
		}
		return resultError, err
	}
	reply, err := decodePushPull(resp.data, d.lim, d.cfg.MaxPushPullBytes, gossip.MsgPushPullReply, d.id, to)
	if err != nil {
		if errors.Is(err, errMisdirected) {
			return resultMisdirected, err
		}
		return resultMalformed, err
	}
	d.m.received.WithLabelValues(kindLabel(reply.Kind)).Inc()
	d.m.bytesReceived.WithLabelValues(kindLabel(reply.Kind)).Add(float64(len(resp.data)))
	if drop, delay := d.faults.verdict(to, transport.Inbound); drop {
		return resultFault, nil
	} else if delay > 0 && !sleepCtx(d.ctx, delay) {
		return resultUnreachable, d.ctx.Err()
	}
	// d.replies holds MaxPushPullsInFlight replies, one per slot: this
	// send waits only when the loop is behind.
	select {
	case d.replies <- inbound{msg: reply, at: time.Now()}:
	case <-d.ctx.Done():
		return resultUnreachable, d.ctx.Err()
	}
	return resultOK, nil
}

// sleepCtx waits for d or ctx; false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

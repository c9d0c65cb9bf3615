package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// clientStream is the client side of a stream to a peer, whose every
// message write is bounded by SendTimeout.
type clientStream struct {
	cs     grpc.ClientStream
	ctx    context.Context
	cancel context.CancelCauseFunc
	// watchdog cuts the stream (cause ErrSendTimeout) when a write takes
	// longer than timeout; one timer serves every write.
	watchdog *time.Timer
	timeout  time.Duration
}

// errStreamEnded reports a frame stream that the server ended without an
// error (it does not while it runs; a stopping server may).
var errStreamEnded = errors.New("transport: peer ended the stream")

// newClientStream prepares a stream that ends with parent; open starts it.
func (p *peer) newClientStream(parent context.Context) *clientStream {
	ctx, cancel := context.WithCancelCause(parent)
	s := &clientStream{ctx: ctx, cancel: cancel, timeout: p.t.cfg.SendTimeout}
	s.watchdog = time.AfterFunc(time.Hour, func() { cancel(ErrSendTimeout) })
	s.watchdog.Stop()
	return s
}

// open starts the gRPC stream of method on p's connection. It fails at
// once if the connection is down (no wait-for-ready: the sender's backoff
// paces retries), and waits while it is being established.
func (s *clientStream) open(p *peer, desc *grpc.StreamDesc, method string) error {
	md := p.t.outgoingMD(p.id, p.t.streamSeq.Add(1))
	cs, err := p.cc.NewStream(metadata.NewOutgoingContext(s.ctx, md), desc, method)
	if err != nil {
		return s.cause(err)
	}
	s.cs = cs
	return nil
}

// send writes one message holding buf (whose ownership passes to gRPC).
// io.EOF means the stream had already ended and the message was not sent;
// finish then tells why the stream ended.
func (s *clientStream) send(out *outMessage, buf *[]byte) error {
	out.set(buf)
	s.watchdog.Reset(s.timeout)
	err := s.cs.SendMsg(out)
	s.watchdog.Stop()
	out.release()
	if err != nil && !errors.Is(err, io.EOF) {
		return s.cause(err)
	}
	return err
}

// finish returns why an ended frame stream ended: the peer's status (a
// *MismatchError if it refused us for our identity), or the cause of our
// own cut.
func (s *clientStream) finish(p *peer) error {
	var m inMessage
	err := s.cs.RecvMsg(&m)
	switch {
	case err == nil:
		err = errors.New("transport: unexpected message on a frame stream")
	case errors.Is(err, io.EOF):
		err = errStreamEnded
	}
	if mm := p.t.mismatch(p, s.cs.Trailer()); mm != nil {
		return mm
	}
	return s.cause(err)
}

// cause prefers the reason this side cut the stream (a timeout, the peer
// stopping) over gRPC's "context canceled".
func (s *clientStream) cause(err error) error {
	if s.ctx.Err() == nil {
		return err
	}
	cause := context.Cause(s.ctx)
	if errors.Is(cause, ErrSendTimeout) || errors.Is(cause, ErrDialTimeout) {
		return fmt.Errorf("%w (%v)", cause, err)
	}
	return err
}

// close cancels the stream, which releases its resources in gRPC.
func (s *clientStream) close() {
	s.watchdog.Stop()
	s.cancel(context.Canceled)
}

// dial opens a frame stream and waits, at most DialTimeout, for the peer
// to accept it (it sends its header only then).
func (p *peer) dial() (*clientStream, error) {
	s := p.newClientStream(p.ctx)
	handshake := time.AfterFunc(p.t.cfg.DialTimeout, func() { s.cancel(ErrDialTimeout) })
	err := s.open(p, &framesStreamDesc, p.t.svc.framesMethod)
	if err == nil {
		var md metadata.MD
		md, err = s.cs.Header()
		if md == nil && err == nil { // refused: the status follows
			err = s.finish(p)
		}
	}
	if !handshake.Stop() && err == nil {
		err = ErrDialTimeout // fired just as the handshake ended: the stream is cut
	}
	if err != nil {
		s.close()
		return nil, fmt.Errorf("transport: connect to peer %d at %s: %w", p.id, p.addr, err)
	}
	return s, nil
}

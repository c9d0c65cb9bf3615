package transport

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"google.golang.org/grpc/mem"

	"github.com/cairndb/cairn/breaker"
)

// sendSnapshot is SendSnapshot for this peer.
func (p *peer) sendSnapshot(ctx context.Context, header []byte, body io.Reader) (err error) {
	t := p.t
	switch {
	case len(header) > t.cfg.MaxFrameBytes:
		return fmt.Errorf("%w: snapshot header of %d bytes, MaxFrameBytes %d", ErrTooLarge, len(header), t.cfg.MaxFrameBytes)
	case t.cfg.Faults.partitioned(p.id, Outbound):
		return fmt.Errorf("%w: peer %d", ErrPartitioned, p.id)
	case p.breaker.State() == breaker.Open:
		// Say why it opened: a peer that is another node or cluster stays
		// refused, and the caller should see that, not only "open".
		if last := p.lastError(); last != nil {
			return fmt.Errorf("transport: snapshot to peer %d: %w (last error: %w)", p.id, breaker.ErrOpen, last)
		}
		return fmt.Errorf("transport: snapshot to peer %d: %w", p.id, breaker.ErrOpen)
	}
	select {
	case t.snapshotsOut <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-p.ctx.Done():
		return ErrClosed
	}
	defer func() { <-t.snapshotsOut }()

	start := time.Now()
	var sent uint64
	defer func() {
		p.m.snapshotBytes.Add(float64(sent))
		t.m.snapshotSeconds.WithLabelValues("sent", result(err)).Observe(time.Since(start).Seconds())
		if err != nil {
			p.log.Warn("transport: snapshot send failed", "bytes", sent, "err", err)
		} else {
			p.log.Info("transport: snapshot sent", "bytes", sent, "duration", time.Since(start))
		}
	}()

	// The stream ends with ctx, or when the peer is removed or the
	// transport closed.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(p.ctx, cancel)()
	s := p.newClientStream(ctx)
	defer s.close()
	if err := s.open(p, &snapshotStreamDesc, p.t.svc.snapshot); err != nil {
		return fmt.Errorf("transport: snapshot to peer %d at %s: %w", p.id, p.addr, err)
	}
	sent, err = p.streamSnapshot(s, header, body)
	if err == nil || errors.Is(err, io.EOF) {
		err = s.finishSnapshot(p)
	}
	if err != nil {
		if p.ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ErrClosed, err)
		}
		return fmt.Errorf("transport: snapshot to peer %d at %s: %w", p.id, p.addr, err)
	}
	return nil
}

// streamSnapshot writes the header, the body in chunks and the end
// marker, and half-closes. It returns the body bytes sent, and io.EOF if
// the peer ended the stream early (its handler returned, or it refused
// the stream: finishSnapshot tells which).
func (p *peer) streamSnapshot(s *clientStream, header []byte, body io.Reader) (uint64, error) {
	var out outMessage
	b := newOutBuffer(1 + len(header))
	(*b)[0] = kindHeader
	copy((*b)[1:], header)
	if err := s.send(&out, b); err != nil {
		return 0, err
	}
	var n uint64
	var crc uint32
	chunk := p.t.cfg.SnapshotChunkBytes
	for {
		b := newOutBuffer(1 + chunk)
		(*b)[0] = kindChunk
		k, rerr := io.ReadFull(body, (*b)[1:])
		if k > 0 {
			*b = (*b)[:1+k] // a prefix, as the pool requires
			crc = crc32.Update(crc, castagnoli, (*b)[1:])
			n += uint64(k)
			if err := s.send(&out, b); err != nil {
				return n, err
			}
		} else {
			mem.DefaultBufferPool().Put(b)
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return n, fmt.Errorf("reading the snapshot body: %w", rerr)
		}
	}
	end := appendEndMarker(make([]byte, 0, endMarkerLen), n, crc) // too small to pool
	if err := s.send(&out, &end); err != nil {
		return n, err
	}
	return n, s.cs.CloseSend()
}

// finishSnapshot waits for the receiver's answer: nil once its handler
// returned nil, else its error (a *MismatchError for a refused identity).
func (s *clientStream) finishSnapshot(p *peer) error {
	var ack inMessage
	err := s.cs.RecvMsg(&ack)
	if err == nil {
		return nil
	}
	if mm := p.t.mismatch(p, s.cs.Trailer()); mm != nil {
		return mm
	}
	return s.cause(err)
}

func result(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}

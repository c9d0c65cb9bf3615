package transport

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// serveSnapshot receives one snapshot and answers once the handler has
// returned.
func (t *Transport) serveSnapshot(ss grpc.ServerStream) (err error) {
	h, err := t.accept(ss)
	if err != nil {
		return err
	}
	if t.cfg.Faults.partitioned(h.from, Inbound) {
		return status.Error(codes.Unavailable, ErrPartitioned.Error())
	}
	select {
	case t.snapshotsIn <- struct{}{}:
	default:
		return status.Errorf(codes.ResourceExhausted, "transport: node %d is receiving MaxSnapshotsInFlight (%d) snapshots already",
			t.cfg.LocalID, t.cfg.MaxSnapshotsInFlight)
	}
	defer func() { <-t.snapshotsIn }()

	var first inMessage // not reused: the header is the handler's
	if err := ss.RecvMsg(&first); err != nil {
		if errors.Is(err, io.EOF) {
			return status.Error(codes.InvalidArgument, "transport: snapshot stream without a header")
		}
		return err
	}
	if len(first.data) == 0 || first.data[0] != kindHeader {
		return status.Error(codes.InvalidArgument, "transport: snapshot stream must start with its header")
	}
	in := t.inbound(h.from)
	body := &snapshotReader{ss: ss, msg: inMessage{reuse: true}}
	start := time.Now()
	err = t.cfg.Handler.HandleSnapshot(ss.Context(), h.from, first.data[1:], body)
	in.m.snapshotBytes.Add(float64(body.n))
	t.m.snapshotSeconds.WithLabelValues("received", result(err)).Observe(time.Since(start).Seconds())
	if err != nil {
		t.log.Warn("transport: snapshot handler failed", "from", h.from, "bytes", body.n, "err", err)
		if _, ok := status.FromError(err); ok {
			return err // a gRPC status already (the stream's own error, say)
		}
		return status.Errorf(codes.Unknown, "transport: node %d: snapshot handler: %v", t.cfg.LocalID, err)
	}
	t.log.Info("transport: snapshot received", "from", h.from, "bytes", body.n, "duration", time.Since(start))
	return ss.SendMsg(&outMessage{})
}

// snapshotReader is the body of a received snapshot: it reads chunk
// messages and checks the end marker.
type snapshotReader struct {
	ss    grpc.ServerStream
	msg   inMessage // reused: a chunk is copied out before the next arrives
	chunk []byte    // unread part of the current chunk
	n     uint64    // body bytes received
	crc   uint32
	// err is sticky: io.EOF once the end marker matched, else the
	// failure.
	err error
}

// Read implements io.Reader.
func (r *snapshotReader) Read(p []byte) (int, error) {
	for len(r.chunk) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.err = r.next()
	}
	n := copy(p, r.chunk)
	r.chunk = r.chunk[n:]
	return n, nil
}

// next receives the next message: a chunk (nil error), the end marker
// (io.EOF if it matches), or a failure.
func (r *snapshotReader) next() error {
	if err := r.ss.RecvMsg(&r.msg); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: the stream ended after %d bytes without an end marker", ErrSnapshotTruncated, r.n)
		}
		return err
	}
	d := r.msg.data
	if len(d) == 0 {
		return status.Error(codes.InvalidArgument, "transport: empty snapshot message")
	}
	switch d[0] {
	case kindChunk:
		r.chunk = d[1:]
		r.n += uint64(len(r.chunk))
		r.crc = crc32.Update(r.crc, castagnoli, r.chunk)
		return nil
	case kindEnd:
		n, crc, ok := parseEndMarker(d[1:])
		switch {
		case !ok:
			return fmt.Errorf("%w: malformed end marker", ErrSnapshotCorrupt)
		case n != r.n || crc != r.crc:
			return fmt.Errorf("%w: received %d bytes with CRC-32C %08x, sender sent %d with %08x", ErrSnapshotCorrupt, r.n, r.crc, n, crc)
		}
		return io.EOF
	}
	return status.Errorf(codes.InvalidArgument, "transport: unexpected snapshot message of kind %d", d[0])
}

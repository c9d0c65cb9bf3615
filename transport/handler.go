package transport

import (
	"context"
	"io"
)

// Handler receives what peers send. A Transport calls it from gRPC server
// goroutines.
type Handler interface {
	// HandleFrames is called once per received batch, with the frames in
	// the order the peer sent them. Calls for one peer never overlap and
	// follow the peer's sending order; calls for different peers may run
	// at once.
	//
	// Ownership: each frame is a sub-slice (with its capacity cut at its
	// end) of a buffer the transport allocated for this batch and never
	// reuses, so the handler may keep frames. It must not keep the frames
	// slice itself, which is reused for the next batch.
	//
	// HandleFrames should return quickly: while it runs, the peer's
	// stream is not read, flow control stops the peer's sender, and a
	// sender blocked longer than SendTimeout cuts the stream and counts a
	// failure. Hand frames to a bounded queue and drop when it is full.
	HandleFrames(from uint64, frames [][]byte)

	// HandleSnapshot is called once per snapshot a peer sends, with the
	// header given to SendSnapshot (owned by the handler) and the body as
	// a reader. Read returns io.EOF only after the whole body arrived and
	// its length and CRC-32C matched; a body cut short returns
	// ErrSnapshotTruncated (or the stream's error), a damaged one
	// ErrSnapshotCorrupt. The sender's SendSnapshot returns when
	// HandleSnapshot has returned, with its error (as a gRPC status with
	// the error's text) if not nil. ctx ends if the sender gives up.
	// HandleSnapshot may run at the same time as HandleFrames calls, for
	// the same peer too.
	HandleSnapshot(ctx context.Context, from uint64, header []byte, body io.Reader) error
}

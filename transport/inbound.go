package transport

import (
	"errors"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// inboundPeer is the receiving side's state for one sending peer.
//
// Only the newest frame stream from a peer delivers. When a sender
// reconnects, its old stream may still have messages in flight on the
// server; letting both deliver would interleave old and new frames. So
// each stream carries its sender's incarnation and a sequence number, the
// newest accepted stream becomes current, and a superseded stream stops at
// its next message. Within one incarnation a stream older than the current
// one is refused. Frames from a peer are thus never reordered or
// duplicated; around a reconnect some may be lost.
type inboundPeer struct {
	id uint64
	m  inboundMetrics
	// mu is held while HandleFrames runs, so calls for one peer never
	// overlap.
	mu struct {
		sync.Mutex
		current streamKey
	}
}

// inbound returns the state for peer id, creating it on first use.
//
// HAZARD: entries are never removed, so the map grows with every distinct
// sender id that passes the cluster check. Within a cluster that is the
// membership; anyone else able to reach the peer port can forge ids
// (use Credentials).
func (t *Transport) inbound(id uint64) *inboundPeer {
	t.inMu.Lock()
	defer t.inMu.Unlock()
	in, ok := t.inPeers[id]
	if !ok {
		in = &inboundPeer{id: id, m: t.m.forInbound(id)}
		t.inPeers[id] = in
	}
	return in
}

// admit makes k the current stream, unless a newer stream of the same
// incarnation is current.
func (in *inboundPeer) admit(k streamKey) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if k.incarnation == in.mu.current.incarnation && k.seq < in.mu.current.seq {
		return false
	}
	in.mu.current = k
	return true
}

// errSuperseded ends a stream that a newer one from the same peer
// replaced.
var errSuperseded = status.Error(codes.Aborted, "transport: stream superseded by a newer one from the same peer")

// serveFrames receives one peer's frame stream until it ends.
func (t *Transport) serveFrames(ss grpc.ServerStream) error {
	h, err := t.accept(ss)
	if err != nil {
		return err
	}
	in := t.inbound(h.from)
	if !in.admit(h.key) {
		return errSuperseded
	}
	if err := ss.SendHeader(t.identityMD()); err != nil {
		return err
	}
	t.log.Debug("transport: peer stream accepted", "from", h.from)
	var frames [][]byte
	for {
		var msg inMessage // fresh data per batch: the handler may keep frames
		if err := ss.RecvMsg(&msg); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		frames, err = decodeBatch(msg.data, frames[:0])
		if err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
		frames = t.inboundFaults(h.from, in, frames)
		if len(frames) > 0 {
			if err := t.deliver(in, h.key, frames); err != nil {
				return err
			}
		}
		clear(frames) // let the batch's buffer go once the handler is done with it
	}
}

// deliver passes frames to the handler if the stream is still current.
func (t *Transport) deliver(in *inboundPeer, k streamKey, frames [][]byte) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if t.closed.Load() {
		return status.Error(codes.Unavailable, ErrClosed.Error())
	}
	if in.mu.current != k {
		return errSuperseded
	}
	t.cfg.Handler.HandleFrames(in.id, frames)
	n := 0
	for _, f := range frames {
		n += len(f)
	}
	in.m.frames.Add(float64(len(frames)))
	in.m.bytes.Add(float64(n))
	return nil
}

// inboundFaults applies the Inbound fault rule for the peer: it removes
// dropped frames in place and waits out a delay.
func (t *Transport) inboundFaults(from uint64, in *inboundPeer, frames [][]byte) [][]byte {
	f := t.cfg.Faults
	r, ok := f.rule(from, Inbound)
	if !ok {
		return frames
	}
	if r.Delay > 0 {
		t.sleep(r.Delay)
	}
	kept := frames[:0]
	for _, fr := range frames {
		if f.drops(from, Inbound, r) {
			in.m.dropped.Inc()
			continue
		}
		kept = append(kept, fr)
	}
	clear(frames[len(kept):])
	return kept
}

// sleep waits d or until the transport closes.
func (t *Transport) sleep(d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-t.ctx.Done():
	}
}

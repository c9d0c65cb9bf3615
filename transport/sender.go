package transport

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/cairndb/cairn/breaker"
	"github.com/cairndb/cairn/internal/loglimit"
)

// senderState is what the sender goroutine keeps between batches and
// streams.
type senderState struct {
	backoff backoff
	out     outMessage
	// batch holds the frames of the next message; batchBytes is the sum
	// of their encoded lengths.
	batch      [][]byte
	batchBytes int
	// carry is a frame taken from the queue that did not fit the batch
	// before it (hasCarry, since a frame may be empty).
	carry    []byte
	hasCarry bool
	// resend is set when a stream refused batch whole because it had
	// already ended: the next stream sends it first.
	resend bool
	// upLog limits "connected" logs; downLog limits failure and
	// disconnection logs. downLogged records that the last log said the
	// peer was down, so that its recovery is always logged.
	upLog, downLog *loglimit.Limiter
	downLogged     bool
}

func newSenderState(cfg Config, seed uint64) senderState {
	return senderState{
		backoff: newBackoff(cfg, seed),
		batch:   make([][]byte, 0, min(cfg.MaxBatchFrames, cfg.QueueLen)),
		upLog:   loglimit.New(cfg.LogInterval),
		downLog: loglimit.New(cfg.LogInterval),
	}
}

// run is the sender goroutine: connect (if the breaker allows), pump
// batches until the stream fails, repeat, until the peer stops.
func (p *peer) run() {
	defer close(p.done)
	s := &p.sender
	for p.ctx.Err() == nil {
		permit, err := p.breaker.Allow()
		if err != nil {
			// Open (or half-open with the probe taken): what is queued
			// for a peer we will not try for a while is stale.
			// Waiting a random extra BackoffMin at most keeps peers
			// whose breakers opened together from probing together.
			p.dropPending(dropBreakerOpen)
			p.sleep(retryAfter(err) + s.backoff.jittered(p.t.cfg.BackoffMin))
			continue
		}
		fs, err := p.dial()
		permit.Done(p.outcome(err))
		if err != nil {
			p.connectFailed(err)
			p.sleep(s.backoff.next())
			continue
		}
		p.connected()
		progressed, err := p.pump(fs)
		fs.close()
		if p.ctx.Err() != nil {
			break
		}
		p.disconnected(err)
		if !progressed {
			// A stream that broke before carrying anything is a failed
			// connection as far as pacing goes.
			p.sleep(s.backoff.next())
		}
	}
	p.setStatus(false, nil)
}

// retryAfter is how long a breaker that refused a permit asks to wait
// (nothing if half-open with its probe in flight).
func retryAfter(err error) time.Duration {
	var open *breaker.OpenError
	if errors.As(err, &open) {
		return max(open.RetryAfter, 0)
	}
	return 0
}

// pump sends batches on fs until it fails or the peer stops. progressed
// reports whether at least one batch went out.
func (p *peer) pump(fs *clientStream) (progressed bool, err error) {
	s := &p.sender
	for {
		if !s.resend && !p.fill() {
			return progressed, p.ctx.Err()
		}
		if d := p.t.cfg.Faults.delay(p.id, Outbound); d > 0 && !p.sleep(d) {
			return progressed, p.ctx.Err()
		}
		permit, err := p.breaker.Allow()
		if err != nil { // only this goroutine feeds the breaker: cannot happen
			p.dropPending(dropBreakerOpen)
			return progressed, err
		}
		err = fs.send(&s.out, p.encode())
		permit.Done(p.outcome(err))
		if err != nil {
			if errors.Is(err, io.EOF) {
				// gRPC refused the message because the stream had
				// already ended: none of it was sent, so the next
				// stream can send it without duplicating anything.
				s.resend = true
				err = fs.finish(p)
			} else {
				p.dropBatch(dropSendFailed)
			}
			return progressed, err
		}
		progressed = true
		s.backoff.reset()
		p.sent()
	}
}

// fill gathers the next batch: it waits for one frame, then takes queued
// frames without waiting, up to MaxBatchFrames and MaxBatchBytes (a frame
// larger than MaxBatchBytes goes alone). It returns false if the peer
// stopped first.
func (p *peer) fill() bool {
	s := &p.sender
	cfg := &p.t.cfg
	if !s.hasCarry {
		select {
		case f := <-p.queue:
			p.queuedBytes.Add(-int64(len(f)))
			s.carry, s.hasCarry = f, true
		case <-p.ctx.Done():
			return false
		}
	}
	p.add(s.carry)
	s.carry, s.hasCarry = nil, false
	for len(s.batch) < cfg.MaxBatchFrames {
		var f []byte
		select {
		case f = <-p.queue:
			p.queuedBytes.Add(-int64(len(f)))
		default:
			return true
		}
		if s.batchBytes+frameEncodedLen(len(f)) > cfg.MaxBatchBytes {
			s.carry, s.hasCarry = f, true
			return true
		}
		p.add(f)
	}
	return true
}

func (p *peer) add(f []byte) {
	s := &p.sender
	s.batch = append(s.batch, f)
	s.batchBytes += frameEncodedLen(len(f))
}

// encode writes the batch into a pooled buffer, whose ownership passes to
// gRPC with the message.
func (p *peer) encode() *[]byte {
	s := &p.sender
	b := newOutBuffer(batchEncodedLen(len(s.batch), s.batchBytes))
	encodeBatch(*b, s.batch)
	return b
}

// sent accounts for the batch just sent and empties it.
func (p *peer) sent() {
	s := &p.sender
	n := 0
	for _, f := range s.batch {
		n += len(f)
	}
	p.m.framesSent.Add(float64(len(s.batch)))
	p.m.bytesSent.Add(float64(n))
	p.t.m.batchFrames.Observe(float64(len(s.batch)))
	p.t.m.batchBytes.Observe(float64(batchEncodedLen(len(s.batch), s.batchBytes)))
	p.m.queued.Set(float64(len(p.queue)))
	p.clearBatch()
}

func (p *peer) clearBatch() {
	s := &p.sender
	clear(s.batch) // let the frames go: gRPC holds its own encoded copy
	s.batch = s.batch[:0]
	s.batchBytes = 0
	s.resend = false
}

// dropBatch drops the batch, counting its frames for r.
func (p *peer) dropBatch(r dropReason) {
	if n := len(p.sender.batch); n > 0 {
		p.dropped(r, n)
	}
	p.clearBatch()
}

// dropPending drops everything not yet sent: the batch, the carried frame
// and the queue.
func (p *peer) dropPending(r dropReason) {
	s := &p.sender
	p.dropBatch(r)
	if s.hasCarry {
		p.dropped(r, 1)
		s.carry, s.hasCarry = nil, false
	}
	p.dropQueued(r)
}

// outcome is the error to report to the breaker: a call cut short because
// the peer is stopping says nothing about the peer.
func (p *peer) outcome(err error) error {
	if err != nil && p.ctx.Err() != nil {
		return context.Canceled
	}
	return err
}

// sleep waits d; it returns false if the peer stopped first.
func (p *peer) sleep(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-p.ctx.Done():
		return false
	}
}

func (p *peer) connectFailed(err error) {
	if p.ctx.Err() != nil {
		return
	}
	p.m.connectErr.Inc()
	p.setStatus(false, err)
	s := &p.sender
	if ok, suppressed := s.downLog.Allow(time.Now()); ok {
		p.log.Warn("transport: cannot connect to peer", "err", err, "failures_since_last_log", suppressed+1)
		s.downLogged = true
	}
}

func (p *peer) connected() {
	p.m.connectOK.Inc()
	p.setStatus(true, nil)
	s := &p.sender
	if ok, _ := s.upLog.Allow(time.Now()); ok || s.downLogged {
		p.log.Info("transport: connected to peer")
		s.downLogged = false
		s.downLog.Reset()
	}
}

func (p *peer) disconnected(err error) {
	p.m.disconnects.Inc()
	p.setStatus(false, err)
	s := &p.sender
	if ok, suppressed := s.downLog.Allow(time.Now()); ok {
		p.log.Warn("transport: stream to peer broke", "err", err, "breaks_since_last_log", suppressed+1)
		s.downLogged = true
	}
}

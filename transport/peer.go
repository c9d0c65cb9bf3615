package transport

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	grpcbackoff "google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	"github.com/cairndb/cairn/breaker"
	"github.com/cairndb/cairn/internal/loglimit"
)

// peer is the sending side of one peer: a bounded queue that Send fills,
// and a sender goroutine (sender.go) that drains it into a stream on one
// gRPC connection.
type peer struct {
	t    *Transport
	id   uint64
	addr string
	cc   *grpc.ClientConn
	log  *slog.Logger
	m    peerMetrics

	// queue holds at most QueueLen frames; queuedBytes counts their
	// bytes, at most QueueBytes (Send adds before it enqueues, the
	// sender subtracts as it dequeues).
	queue       chan []byte
	queuedBytes atomic.Int64
	// open mirrors the breaker's Open state, so Send fails fast with one
	// atomic load.
	open    atomic.Bool
	breaker *breaker.Breaker
	dropLog *loglimit.Limiter

	// ctx ends when the peer is stopped (or the transport closed).
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when the sender has returned

	status struct {
		sync.Mutex
		connected bool
		lastErr   error
	}

	sender senderState // owned by the sender goroutine
}

func newPeer(t *Transport, id uint64, addr string) (*peer, error) {
	cc, err := grpc.NewClient(addr, t.dialOptions()...)
	if err != nil {
		return nil, fmt.Errorf("transport: peer %d at %s: %w", id, addr, err)
	}
	ctx, cancel := context.WithCancel(t.ctx)
	p := &peer{
		t:       t,
		id:      id,
		addr:    addr,
		cc:      cc,
		log:     t.log.With("peer", id, "addr", addr),
		m:       t.m.forPeer(id),
		queue:   make(chan []byte, t.cfg.QueueLen),
		dropLog: loglimit.New(t.cfg.LogInterval),
		ctx:     ctx,
		cancel:  cancel,
		done:    make(chan struct{}),
	}
	bcfg := t.cfg.Breaker
	user := bcfg.OnStateChange
	bcfg.OnStateChange = func(tr breaker.Transition) {
		p.breakerChanged(tr)
		if user != nil {
			user(tr)
		}
	}
	if p.breaker, err = breaker.New(bcfg); err != nil {
		panic(fmt.Sprintf("transport: breaker config passed Validate but not breaker.New: %v", err))
	}
	p.sender = newSenderState(t.cfg, id^t.incarnation)
	return p, nil
}

// dialOptions configure a peer's connection. Two backoffs are at work,
// with the same bounds: gRPC's reconnects the TCP connection in the
// background while it is down, and the sender's paces its stream attempts
// (which fail at once while the connection is down, as they do not wait
// for readiness) and feeds the breaker. A returning peer is thus reached
// within about twice BackoffMax. (gRPC's ResetConnectBackoff would let the
// sender drive reconnection alone, but it is experimental and, in gRPC-Go
// 1.85, iterates the connection set without its lock.)
func (t *Transport) dialOptions() []grpc.DialOption {
	creds := t.cfg.Credentials
	if creds == nil {
		creds = insecure.NewCredentials()
	}
	limit := t.cfg.maxMessageBytes()
	return []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: grpcbackoff.Config{
				BaseDelay:  t.cfg.BackoffMin,
				Multiplier: 2,
				Jitter:     t.cfg.BackoffJitter / 2, // gRPC's jitter is ±, ours only shortens
				MaxDelay:   t.cfg.BackoffMax,
			},
			MinConnectTimeout: t.cfg.DialTimeout,
		}),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                t.cfg.KeepaliveInterval,
			Timeout:             t.cfg.KeepaliveTimeout,
			PermitWithoutStream: true,
		}),
		grpc.WithDefaultCallOptions(
			grpc.ForceCodecV2(rawCodec{}),
			grpc.MaxCallSendMsgSize(limit),
			grpc.MaxCallRecvMsgSize(limit),
		),
	}
}

func (p *peer) start() { go p.run() }

// stop ends the sender, closes the connection and drops the queued frames.
func (p *peer) stop() {
	p.cancel()
	<-p.done
	if err := p.cc.Close(); err != nil {
		p.log.Debug("transport: closing peer connection", "err", err)
	}
	p.dropQueued(dropPeerRemoved)
}

// enqueue is Send for this peer.
func (p *peer) enqueue(frame []byte) bool {
	cfg := &p.t.cfg
	if len(frame) > cfg.MaxFrameBytes {
		p.dropped(dropTooLarge, 1)
		return false
	}
	if p.open.Load() {
		p.dropped(dropBreakerOpen, 1)
		return false
	}
	if r, ok := cfg.Faults.rule(p.id, Outbound); ok && cfg.Faults.drops(p.id, Outbound, r) {
		p.dropped(dropFaultOutbound, 1)
		return true // lost on the way, as far as the caller can tell
	}
	n := int64(len(frame))
	if p.queuedBytes.Add(n) > int64(cfg.QueueBytes) {
		p.queuedBytes.Add(-n)
		p.dropped(dropQueueFull, 1)
		return false
	}
	select {
	case p.queue <- frame:
		return true
	default:
		p.queuedBytes.Add(-n)
		p.dropped(dropQueueFull, 1)
		return false
	}
}

// dropped counts n frames dropped for reason r, and logs queue overflows
// at most once per LogInterval (the other reasons show in the breaker's
// and connection's logs).
func (p *peer) dropped(r dropReason, n int) {
	p.m.dropped[r].Add(float64(n))
	if r != dropQueueFull {
		return
	}
	if ok, suppressed := p.dropLog.Allow(time.Now()); ok {
		p.log.Warn("transport: queue full, dropping frames", "queue_len", p.t.cfg.QueueLen,
			"queue_bytes", p.t.cfg.QueueBytes, "dropped_since_last_log", suppressed+1)
	}
}

// dropQueued empties the queue, counting the frames as dropped for r.
func (p *peer) dropQueued(r dropReason) {
	n := 0
	for {
		select {
		case f := <-p.queue:
			p.queuedBytes.Add(-int64(len(f)))
			n++
		default:
			if n > 0 {
				p.dropped(r, n)
			}
			return
		}
	}
}

// breakerChanged is the breaker's OnStateChange.
func (p *peer) breakerChanged(tr breaker.Transition) {
	p.open.Store(tr.To == breaker.Open)
	p.m.breakerState.Set(float64(tr.To))
	level := slog.LevelInfo
	if tr.To == breaker.Open {
		level = slog.LevelWarn
	}
	p.log.Log(context.Background(), level, "transport: peer breaker "+tr.To.String(),
		"from", tr.From.String(), "reason", tr.Reason.String())
}

func (p *peer) setStatus(connected bool, err error) {
	p.status.Lock()
	p.status.connected = connected
	if err != nil {
		p.status.lastErr = err
	}
	p.status.Unlock()
}

// lastError is the error that failed the last connection attempt or
// stream, or nil.
func (p *peer) lastError() error {
	p.status.Lock()
	defer p.status.Unlock()
	return p.status.lastErr
}

func (p *peer) info() PeerInfo {
	state := p.breaker.State() // may call breakerChanged: not under status
	p.status.Lock()
	defer p.status.Unlock()
	return PeerInfo{
		ID:        p.id,
		Addr:      p.addr,
		Connected: p.status.connected,
		Breaker:   state,
		Queued:    len(p.queue),
		LastError: p.status.lastErr,
	}
}

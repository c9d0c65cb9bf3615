package transport

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/cairndb/cairn/breaker"
	"github.com/cairndb/cairn/internal/loglimit"
)

// Transport carries frames and snapshots between this node and its peers.
// Its methods are safe for concurrent use.
type Transport struct {
	cfg Config
	log *slog.Logger
	m   *metrics
	svc service
	// incarnation tells this Transport's streams from those of an
	// earlier process with the same node id; streamSeq numbers them.
	incarnation uint64
	streamSeq   atomic.Uint64
	// ctx ends at Close, and with it every stream and wait.
	ctx    context.Context
	cancel context.CancelFunc
	closed atomic.Bool
	// peers is read without a lock by Send; it is replaced, never
	// modified, under mu.
	peers atomic.Pointer[map[uint64]*peer]
	// mu serializes AddPeer, UpdatePeer, RemovePeer and Close.
	mu sync.Mutex

	inMu    sync.Mutex
	inPeers map[uint64]*inboundPeer

	// snapshotsOut and snapshotsIn are semaphores of
	// MaxSnapshotsInFlight slots.
	snapshotsOut, snapshotsIn chan struct{}
	rejectLog                 *loglimit.Limiter
}

// New returns a Transport with no peers, or the error of cfg.Validate.
func New(cfg Config) (*Transport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &Transport{
		cfg:          cfg,
		log:          log.With("node", cfg.LocalID),
		m:            newMetrics(cfg.Registerer),
		svc:          newService(cfg.Channel),
		incarnation:  rand.Uint64(),
		ctx:          ctx,
		cancel:       cancel,
		inPeers:      map[uint64]*inboundPeer{},
		snapshotsOut: make(chan struct{}, cfg.MaxSnapshotsInFlight),
		snapshotsIn:  make(chan struct{}, cfg.MaxSnapshotsInFlight),
		rejectLog:    loglimit.New(cfg.LogInterval),
	}
	t.peers.Store(&map[uint64]*peer{})
	return t, nil
}

// Register registers the peer service on s, the server of the node's peer
// listener. Create s with ServerOptions.
func (t *Transport) Register(s grpc.ServiceRegistrar) {
	s.RegisterService(&t.svc.desc, t)
}

// ServerOptions returns the options the peer listener's grpc.Server needs:
// a receive limit that fits the largest message the transport sends, a
// keepalive policy that accepts the clients' pings, and Credentials if
// set. They apply to every service on that server.
func (t *Transport) ServerOptions() []grpc.ServerOption {
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(t.cfg.maxMessageBytes()),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             t.cfg.KeepaliveInterval / 2,
			PermitWithoutStream: true,
		}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			Time:    t.cfg.KeepaliveInterval,
			Timeout: t.cfg.KeepaliveTimeout,
		}),
	}
	if t.cfg.Credentials != nil {
		opts = append(opts, grpc.Creds(t.cfg.Credentials))
	}
	return opts
}

// AddPeer adds peer id at addr ("host:port" of its peer listener) and
// starts its sender, which connects at once. The id must be non-zero and
// not this node's.
func (t *Transport) AddPeer(id uint64, addr string) error {
	if err := t.checkPeer(id, addr); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed.Load() {
		return ErrClosed
	}
	if _, ok := (*t.peers.Load())[id]; ok {
		return fmt.Errorf("%w: %d", ErrPeerExists, id)
	}
	p, err := newPeer(t, id, addr)
	if err != nil {
		return err
	}
	t.publishLocked(id, p)
	p.start()
	return nil
}

// UpdatePeer moves peer id to addr. If the address changed, the peer is
// replaced: its connection, queue (the frames in it are dropped) and
// breaker start afresh, as they describe the old address.
func (t *Transport) UpdatePeer(id uint64, addr string) error {
	if err := t.checkPeer(id, addr); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed.Load() {
		return ErrClosed
	}
	old, ok := (*t.peers.Load())[id]
	if !ok {
		return fmt.Errorf("%w: %d", ErrUnknownPeer, id)
	}
	if old.addr == addr {
		return nil
	}
	p, err := newPeer(t, id, addr)
	if err != nil {
		return err
	}
	old.stop()
	t.publishLocked(id, p)
	p.start()
	t.log.Info("transport: peer address changed", "peer", id, "old_addr", old.addr, "addr", addr)
	return nil
}

// RemovePeer stops sending to peer id and drops the frames queued for it.
// Frames the peer sends are still received (its sender is its own).
func (t *Transport) RemovePeer(id uint64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed.Load() {
		return ErrClosed
	}
	p, ok := (*t.peers.Load())[id]
	if !ok {
		return fmt.Errorf("%w: %d", ErrUnknownPeer, id)
	}
	t.publishLocked(id, nil)
	p.stop()
	t.m.forget(id)
	return nil
}

// Send queues frame for peer to and returns at once. It returns false if
// the frame was dropped: the peer is unknown, its breaker is open, its
// queue is full, the frame is larger than MaxFrameBytes, or the transport
// is closed; a Raft node then reports the peer unreachable. True means
// queued, not delivered: a frame can still be lost with its connection,
// or to a fault rule.
//
// Send takes ownership of frame: the caller must not modify it afterwards.
func (t *Transport) Send(to uint64, frame []byte) bool {
	p, ok := (*t.peers.Load())[to]
	if !ok {
		if t.closed.Load() {
			t.m.drop(dropClosed, 1)
		} else {
			t.m.drop(dropUnknownPeer, 1)
		}
		return false
	}
	return p.enqueue(frame)
}

// SendSnapshot streams a snapshot to peer to: header (at most
// MaxFrameBytes), then body read to its end, in chunks of
// SnapshotChunkBytes, on a stream of its own beside the frame stream. It
// returns when the peer's HandleSnapshot has returned, with that error if
// any, or with the error that stopped the transfer; ctx bounds the whole
// transfer and SendTimeout each chunk. At most MaxSnapshotsInFlight
// snapshots are sent at once; SendSnapshot waits for a slot.
//
// The peer's breaker is consulted (an open breaker fails the call with an
// error matching breaker.ErrOpen and the peer's last connection error,
// such as a MismatchError) but not fed: a snapshot's outcome
// depends on its size and the receiver's disk more than on the link.
func (t *Transport) SendSnapshot(ctx context.Context, to uint64, header []byte, body io.Reader) error {
	if t.closed.Load() {
		return ErrClosed
	}
	p, ok := (*t.peers.Load())[to]
	if !ok {
		return fmt.Errorf("%w: %d", ErrUnknownPeer, to)
	}
	return p.sendSnapshot(ctx, header, body)
}

// PeerInfo describes a peer as its sender sees it.
type PeerInfo struct {
	ID   uint64
	Addr string
	// Connected is true while a frame stream to the peer is open.
	Connected bool
	// Breaker is the state of the peer's breaker.
	Breaker breaker.State
	// Queued is the number of frames waiting in the queue.
	Queued int
	// LastError is the error that failed the last connection attempt or
	// ended the last stream; nil if none has failed yet.
	LastError error
}

// Peers describes every peer, ordered by id.
func (t *Transport) Peers() []PeerInfo {
	peers := *t.peers.Load()
	out := make([]PeerInfo, 0, len(peers))
	for _, p := range peers {
		out = append(out, p.info())
	}
	slices.SortFunc(out, func(a, b PeerInfo) int { return cmpUint64(a.ID, b.ID) })
	return out
}

// Close stops every sender and snapshot sent, drops the queued frames and
// closes the connections. Frames received afterwards are not delivered,
// and their streams are ended as they arrive; a stream that stays idle
// ends when the node stops its grpc.Server, which it must. Close returns
// nil; later calls do nothing.
func (t *Transport) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed.Swap(true) {
		return nil
	}
	peers := *t.peers.Load()
	t.peers.Store(&map[uint64]*peer{})
	t.cancel()
	for _, p := range peers {
		p.stop()
	}
	return nil
}

func (t *Transport) checkPeer(id uint64, addr string) error {
	if id == 0 || id == t.cfg.LocalID {
		return fmt.Errorf("transport: invalid peer id %d (zero, or this node's)", id)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("transport: peer %d address %q: %w", id, addr, err)
	}
	return nil
}

// publishLocked replaces the peer map with one where id maps to p (or is
// absent when p is nil).
func (t *Transport) publishLocked(id uint64, p *peer) {
	old := *t.peers.Load()
	next := make(map[uint64]*peer, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	if p == nil {
		delete(next, id)
	} else {
		next[id] = p
	}
	t.peers.Store(&next)
}

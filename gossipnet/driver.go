package gossipnet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	"github.com/cairndb/cairn/gossip"
)

// Driver runs one gossip.Node on the network: a single goroutine (the
// loop) owns the node and feeds it ticks, received datagrams, push-pull
// exchanges and the caller's requests; see the package documentation.
// Its methods are safe for concurrent use.
type Driver struct {
	cfg    Config
	log    *slog.Logger
	id     gossip.NodeID
	lim    gossip.Limits
	conn   *net.UDPConn
	m      *metrics
	faults *faultFilter
	errLog *rateLog

	// Owned by the loop goroutine (and by New before it starts).
	node *gossip.Node
	// unpersisted is an incarnation the node announced whose Persist
	// failed: nothing is sent until a retry succeeds.
	unpersisted uint64
	sendBuf     []byte
	addrs       map[string]netip.AddrPort
	pings       map[uint64]pingRecord
	phiLabels   map[gossip.NodeID]string

	inbox   chan inbound    // datagrams, from the reader
	replies chan inbound    // push-pull replies, from the clients
	serving chan *ppRequest // push-pulls to answer, from the gRPC handler
	ctl     chan ctlRequest // the caller's requests

	ppSlots chan struct{} // one token per outbound push-pull in flight
	delayed atomic.Int64  // datagrams held back by a fault delay

	subs struct {
		sync.Mutex
		list   []*Subscription
		closed bool
	}
	snap struct {
		sync.Mutex
		stats gossip.Stats
		// final is the table when the loop stopped, for Members after
		// Close.
		final []gossip.Member
	}

	ctx       context.Context // canceled by Close: ends push-pulls
	cancel    context.CancelFunc
	stop      chan struct{} // closed by Close
	done      chan struct{} // closed when the loop has returned
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// inbound is a message for the loop: a datagram (at is its arrival, for
// the round-trip histogram) or a push-pull reply.
type inbound struct {
	msg gossip.Message
	at  time.Time
}

// ppRequest is an inbound push-pull handed to the loop; reply receives
// the node's answer, or nil when it refused (MaxPushPullRepliesPerTick) or
// could not send (its incarnation not persisted).
type ppRequest struct {
	msg   gossip.Message
	reply chan *gossip.Message
}

// ctlRequest runs fn on the loop, then closes done.
type ctlRequest struct {
	fn   func(*gossip.Node)
	done chan struct{}
}

// pingRecord is a ping awaiting its ack, for the round-trip histogram.
type pingRecord struct {
	to   gossip.NodeID
	sent time.Time
}

// hexID formats a member id as the server logs member ids.
func hexID(id gossip.NodeID) string { return fmt.Sprintf("%x", uint64(id)) }

// placeholderRand stands in for Core.Rand in Validate, which only checks
// that one is set; New sets the real one.
var placeholderRand = rand.New(rand.NewPCG(0, 0))

// New binds the UDP socket, starts the node (persisting its first
// incarnation before anything is sent) and its goroutines, and joins
// cfg.Seeds. Call Register before the peer gRPC server serves, and Close
// (after Leave, for a graceful exit) to stop.
func New(cfg Config) (*Driver, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Core.Rand == nil {
		// Outside the core the process's random source is fine: the
		// seed only spreads probe orders apart.
		cfg.Core.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if cfg.Core.Logger == nil {
		cfg.Core.Logger = cfg.Logger
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	node, err := gossip.New(cfg.Core)
	if err != nil {
		return nil, err
	}
	d := &Driver{
		cfg:       cfg,
		log:       cfg.Logger,
		id:        cfg.Core.ID,
		lim:       cfg.Core.Limits(),
		node:      node,
		errLog:    newRateLog(cfg.ErrorLogInterval),
		addrs:     map[string]netip.AddrPort{},
		pings:     map[uint64]pingRecord{},
		phiLabels: map[gossip.NodeID]string{},
		inbox:     make(chan inbound, cfg.InboxLen),
		replies:   make(chan inbound, cfg.MaxPushPullsInFlight),
		serving:   make(chan *ppRequest, cfg.MaxPushPullsServing),
		ctl:       make(chan ctlRequest),
		ppSlots:   make(chan struct{}, cfg.MaxPushPullsInFlight),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	if cfg.Faults != nil {
		d.faults = newFaultFilter(cfg.Faults)
	}
	d.m = newMetrics(d)
	// The first Ready holds the starting incarnation: it must be stored
	// before the node says anything (gossip's HAZARD), and a node that
	// cannot store it must not start.
	rd := node.Ready()
	if rd.Incarnation != 0 {
		if err := cfg.Persist(rd.Incarnation); err != nil {
			return nil, fmt.Errorf("gossipnet: persist incarnation %d: %w", rd.Incarnation, err)
		}
	}
	if err := d.m.register(cfg.Registerer); err != nil {
		return nil, err
	}
	laddr, err := net.ResolveUDPAddr("udp", cfg.ListenAddr)
	if err != nil {
		d.m.unregister(cfg.Registerer)
		return nil, fmt.Errorf("gossipnet: listen address %s: %w", cfg.ListenAddr, err)
	}
	if d.conn, err = net.ListenUDP("udp", laddr); err != nil {
		d.m.unregister(cfg.Registerer)
		return nil, fmt.Errorf("gossipnet: listen udp %s: %w", cfg.ListenAddr, err)
	}
	if cfg.SocketBufferBytes > 0 {
		// The kernel caps both at its own maximum; a smaller buffer only
		// drops more under a burst, which the protocol tolerates.
		_ = d.conn.SetReadBuffer(cfg.SocketBufferBytes)
		_ = d.conn.SetWriteBuffer(cfg.SocketBufferBytes)
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.handleEvents(rd.Events, rd.EventsDropped)
	d.refreshMetrics()
	d.wg.Add(1)
	go d.read()
	go d.run(cfg.Seeds)
	return d, nil
}

// Register adds the push-pull service (cairn.gossip.v1.Gossip/PushPull)
// to the node's peer gRPC server. Call it before the server serves.
func (d *Driver) Register(s grpc.ServiceRegistrar) {
	s.RegisterService(&serviceDesc, d)
}

// ID returns this node's gossip id.
func (d *Driver) ID() gossip.NodeID { return d.id }

// LocalAddr returns the bound UDP address.
func (d *Driver) LocalAddr() *net.UDPAddr { return d.conn.LocalAddr().(*net.UDPAddr) }

// do runs fn on the loop and waits for it: ErrClosed after Close, ErrBusy
// if the loop did not take it within ControlTimeout.
func (d *Driver) do(fn func(*gossip.Node)) error {
	req := ctlRequest{fn: fn, done: make(chan struct{})}
	t := time.NewTimer(d.cfg.ControlTimeout)
	defer t.Stop()
	select {
	case d.ctl <- req:
	case <-d.done:
		return ErrClosed
	case <-t.C:
		return ErrBusy
	}
	// The loop runs a request it took before it looks at anything else,
	// even Close.
	<-req.done
	return nil
}

// Join (re)starts joining through seeds: the node sends them its table
// until one answers, and again whenever it finds itself alone.
func (d *Driver) Join(seeds []gossip.Seed) error {
	var err error
	if e := d.do(func(n *gossip.Node) { err = n.Join(seeds) }); e != nil {
		return e
	}
	return err
}

// SetMeta publishes new metadata under a new incarnation.
func (d *Driver) SetMeta(meta []byte) error {
	var err error
	if e := d.do(func(n *gossip.Node) { err = n.SetMeta(meta) }); e != nil {
		return e
	}
	return err
}

// Members returns this node's view of every member, sorted by id, with
// phi filled in. After Close it returns the table as the loop left it.
func (d *Driver) Members() ([]gossip.Member, error) {
	var out []gossip.Member
	err := d.do(func(n *gossip.Node) { out = n.Members() })
	if errors.Is(err, ErrClosed) {
		d.snap.Lock()
		defer d.snap.Unlock()
		return append([]gossip.Member(nil), d.snap.final...), nil
	}
	return out, err
}

// Member returns this node's view of one member.
func (d *Driver) Member(id gossip.NodeID) (gossip.Member, bool, error) {
	var m gossip.Member
	var ok bool
	err := d.do(func(n *gossip.Node) { m, ok = n.Member(id) })
	return m, ok, err
}

// Stats returns the core's counters as of the last metrics refresh.
func (d *Driver) Stats() gossip.Stats {
	d.snap.Lock()
	defer d.snap.Unlock()
	return d.snap.stats
}

// Leave announces that this node leaves: the core sends the leave to
// LeaveFanout live members at once and keeps answering pings with it for
// LeaveLinger (or until ctx ends); then the caller should Close. A node
// that left cannot rejoin: restart it (with a higher incarnation).
func (d *Driver) Leave(ctx context.Context) error {
	if err := d.do(func(n *gossip.Node) { n.Leave() }); err != nil {
		return err
	}
	t := time.NewTimer(d.cfg.LeaveLinger)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	case <-d.done:
	}
	return nil
}

// Close stops the loop, ends the push-pulls in flight, closes the socket
// and every subscription. It does not leave: call Leave first for that.
func (d *Driver) Close() error {
	d.closeOnce.Do(func() {
		close(d.stop)
		<-d.done
		d.cancel()
		_ = d.conn.Close()
		d.wg.Wait()
		d.closeSubscriptions()
		d.m.unregister(d.cfg.Registerer)
	})
	return nil
}

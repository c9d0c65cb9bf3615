package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairndb/cairn/clock"
	"github.com/cairndb/cairn/eventual/commands"
	"github.com/cairndb/cairn/eventual/coord"
	"github.com/cairndb/cairn/eventual/merkle"
	"github.com/cairndb/cairn/eventual/replica"
	"github.com/cairndb/cairn/eventual/resp"
	"github.com/cairndb/cairn/gossip"
	"github.com/cairndb/cairn/ring"
	"github.com/cairndb/cairn/transport"
)

// This file wires the eventual tier into a node: the replica store in the
// node's Pebble, a transport on the "eventual" channel of the peer port, the
// coordinator, and the RESP server. The ring follows the strong tier's member
// list (the authoritative membership, so a restart or a crash never moves
// keys); gossip says which members are alive.

// eventualFrameBytes bounds one eventual-tier frame: a delta of the largest
// value (object.MaxValueBytes, 16 MiB) with room for its key and state.
const eventualFrameBytes = 24 << 20

// startEventual starts the eventual tier's store, transport and coordinator,
// and registers the transport on the peer server, which must not serve yet.
func (n *Node) startEventual(reg prometheus.Registerer, memberID, clusterID uint64, faults *transport.Faults) error {
	cfg, log := n.cfg, n.log
	sync := replica.SyncAlways
	switch {
	case cfg.UnsafeNoFsync:
		// No periodic sync either: it would sync the Raft log's writes too
		// (one Pebble WAL), and the power-loss tests check that this mode
		// really loses them.
		sync = replica.SyncNever
	case cfg.EventualFsync == "periodic":
		sync = replica.SyncPeriodic
	}
	n.evTrees = coord.NewTrees(merkle.DefaultConfig())
	var err error
	if n.evStore, err = replica.Open(replica.Config{DB: n.db, Sync: sync, Observer: n.evTrees, Logger: log, Registerer: reg}); err != nil {
		return err
	}
	ref := &eventualRef{}
	tcfg := transport.DefaultConfig()
	tcfg.LocalID, tcfg.ClusterID, tcfg.Handler, tcfg.Channel = memberID, clusterID, ref, "eventual"
	tcfg.Logger = log.With("component", "eventual-transport")
	tcfg.Registerer = prometheus.WrapRegistererWith(prometheus.Labels{"channel": "eventual"}, reg)
	tcfg.Faults = faults
	tcfg.MaxFrameBytes = eventualFrameBytes
	tcfg.MaxBatchBytes = 1 << 20
	// As for Raft: a replica that comes back must be reached within a
	// fraction of a second (its writes at ALL, its hints), not after a
	// long open breaker; gossip already says who is down.
	tcfg.BackoffMax = 250 * time.Millisecond
	tcfg.Breaker.OpenDuration = 100 * time.Millisecond
	tcfg.Breaker.MaxOpenDuration = 400 * time.Millisecond
	if n.evTransport, err = transport.New(tcfg); err != nil {
		return err
	}
	n.evTransport.Register(n.peerSrv)
	n.evMembers = newEventualMembership(memberID, n, log.With("component", "eventual"))
	n.evMembers.refresh()
	n.evCoord, err = coord.New(coord.Config{
		LocalID: memberID, Store: n.evStore, Sender: n.evTransport,
		Clock:      clock.NewHLC(n.physical, 500*time.Millisecond),
		Membership: n.evMembers, Replicas: cfg.EventualReplicas,
		Trees: n.evTrees, AntiEntropyInterval: cfg.AntiEntropyInterval,
		NewCluster: cfg.InitialClusterState == "new",
		Logger:     log, Registerer: reg,
	})
	if err != nil {
		return err
	}
	ref.c = n.evCoord
	n.evMembers.start()
	return nil
}

// startRESP serves the eventual tier's Redis protocol on --listen-redis.
func (n *Node) startRESP(reg prometheus.Registerer) error {
	if n.cfg.ListenRedis == "" {
		return nil
	}
	level, err := coord.ParseLevel(n.cfg.EventualConsistency)
	if err != nil {
		return err
	}
	now := func() time.Time { return time.Unix(0, n.physical.Now()) }
	svc := commands.New(commands.Config{Coordinator: n.evCoord, ReadLevel: level, WriteLevel: level, Now: now, Info: func() []string {
		return []string{fmt.Sprintf("cairn_member:%s", n.cfg.Name), fmt.Sprintf("cairn_version:%s", Version)}
	}})
	rcfg := resp.DefaultConfig()
	rcfg.Addr, rcfg.Commands = n.cfg.ListenRedis, svc.Table()
	rcfg.Version = "7.2.0"
	rcfg.Logger = n.log.With("component", "resp")
	rcfg.Registerer = reg
	if n.resp, err = resp.New(rcfg); err != nil {
		return err
	}
	if err := n.resp.Start(); err != nil {
		return fmt.Errorf("--listen-redis %s: %w", n.cfg.ListenRedis, err)
	}
	n.RedisAddr = n.resp.Addr().String()
	if n.gossip != nil && n.RedisAddr != n.cfg.ListenRedis {
		// Advertise the bound address (the flag may have asked for port 0).
		var clientURLs []string
		for _, u := range n.cfg.AdvertiseClientURLs {
			clientURLs = append(clientURLs, u.String())
		}
		meta, err := json.Marshal(GossipMeta{Name: n.cfg.Name, ClientURLs: clientURLs, HTTP: n.cfg.ListenHTTP, Redis: n.RedisAddr, Zone: n.cfg.Zone})
		if err == nil {
			err = n.gossip.SetMeta(meta)
		}
		if err != nil {
			n.log.Warn("could not advertise the RESP address in gossip", "err", err)
		}
	}
	return nil
}

// closeEventual stops the RESP server, the coordinator, the transport and
// the store, in that order.
func (n *Node) closeEventual() {
	if n.resp != nil {
		_ = n.resp.Close()
	}
	if n.evMembers != nil {
		n.evMembers.stop()
	}
	if n.evCoord != nil {
		n.evCoord.Close()
	}
	if n.evTransport != nil {
		_ = n.evTransport.Close()
	}
	if n.evStore != nil {
		_ = n.evStore.Close()
	}
}

// eventualRef lets the transport start before the coordinator exists.
type eventualRef struct{ c *coord.Coordinator }

func (r *eventualRef) HandleFrames(from uint64, frames [][]byte) {
	if c := r.c; c != nil {
		c.HandleFrames(from, frames)
	}
}

func (r *eventualRef) HandleSnapshot(ctx context.Context, from uint64, header []byte, body io.Reader) error {
	return errors.New("eventual: snapshots are not used on this channel")
}

// eventualMembership is the coordinator's view: the ring of the strong
// tier's members, refreshed every second, and gossip's liveness.
type eventualMembership struct {
	self  uint64
	node  *Node
	log   interface{ Warn(string, ...any) }
	ring  atomic.Pointer[ring.Ring]
	ids   atomic.Pointer[[]string] // the members and zones the ring was built from
	mu    sync.Mutex
	state map[uint64]gossip.State
	zones map[uint64]string // from gossip metadata
	quit  chan struct{}
	done  sync.WaitGroup
}

func newEventualMembership(self uint64, n *Node, log interface{ Warn(string, ...any) }) *eventualMembership {
	return &eventualMembership{self: self, node: n, log: log, state: map[uint64]gossip.State{}, zones: map[uint64]string{self: n.cfg.Zone},
		quit: make(chan struct{})}
}

// Ring implements coord.Membership.
func (m *eventualMembership) Ring() *ring.Ring { return m.ring.Load() }

// Alive implements coord.Membership: a member gossip has not heard of yet
// counts as alive (a request to it times out and leaves a hint); suspect
// members are still tried.
func (m *eventualMembership) Alive(id uint64) bool {
	if id == m.self {
		return true
	}
	m.mu.Lock()
	st, ok := m.state[id]
	m.mu.Unlock()
	return !ok || st == gossip.StateAlive || st == gossip.StateSuspect
}

func (m *eventualMembership) start() {
	m.done.Add(1)
	go m.loop()
}

func (m *eventualMembership) stop() {
	close(m.quit)
	m.done.Wait()
}

// loop follows gossip events and refreshes the ring every second.
func (m *eventualMembership) loop() {
	defer m.done.Done()
	var events <-chan gossip.Event
	var dropped uint64
	var sub interface {
		Dropped() uint64
		Close()
	}
	if d := m.node.gossip; d != nil {
		s, snapshot, err := d.Subscribe()
		if err == nil {
			sub, events = s, s.C()
			m.setStates(snapshot)
			defer s.Close()
		}
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-m.quit:
			return
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			m.setStates([]gossip.Member{ev.Member})
		case <-t.C:
			m.refresh()
			if sub != nil && sub.Dropped() != dropped {
				dropped = sub.Dropped()
				if members, err := m.node.gossip.Members(); err == nil {
					m.setStates(members)
				}
			}
		}
	}
}

func (m *eventualMembership) setStates(members []gossip.Member) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, mem := range members {
		m.state[uint64(mem.ID)] = mem.State
		if meta, err := ParseGossipMeta(mem.Meta); err == nil {
			m.zones[uint64(mem.ID)] = meta.Zone
		}
	}
}

// refresh rebuilds the ring when the strong tier's member list changed,
// and points the eventual transport at every member's peer address.
func (m *eventualMembership) refresh() {
	members, err := m.node.strong.Members()
	if err != nil || len(members) == 0 {
		members = m.node.cfg.InitialMembers()
	}
	nodes := make([]ring.Node, 0, len(members))
	m.mu.Lock()
	for _, mem := range members {
		nodes = append(nodes, ring.Node{ID: coord.NodeID(mem.ID), Zone: m.zones[mem.ID], Weight: 1})
	}
	m.mu.Unlock()
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].ID < nodes[j].ID })
	ids := make([]string, 0, len(nodes))
	for _, nd := range nodes {
		ids = append(ids, string(nd.ID)+"@"+nd.Zone)
	}
	if old := m.ids.Load(); old != nil && slices.Equal(*old, ids) {
		return
	}
	r, err := ring.New(nodes, ring.DefaultConfig())
	if err != nil {
		m.log.Warn("cannot build the eventual ring", "err", err)
		return
	}
	for _, mem := range members {
		if mem.ID == m.self || len(mem.PeerURLs) == 0 {
			continue
		}
		u, err := url.Parse(mem.PeerURLs[0])
		if err != nil {
			continue
		}
		if err := m.node.evTransport.AddPeer(mem.ID, u.Host); err != nil {
			_ = m.node.evTransport.UpdatePeer(mem.ID, u.Host)
		}
	}
	m.ring.Store(r)
	m.ids.Store(&ids)
}

// eventualReadyHandler answers /eventual/ready: 200 once this node's
// eventual tier has streamed its ranges and caught up on their Paxos
// acceptor states since the last ring change (coord.CaughtUp), 503 with
// what is pending before that. Replace members one at a time, each after
// the previous one's /eventual/ready says ok.
func (n *Node) eventualReadyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if n.evCoord == nil {
			http.Error(w, "the eventual tier is not running", http.StatusServiceUnavailable)
			return
		}
		if err := n.evCoord.CaughtUp(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
}

package strong

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/membershippb"
	"google.golang.org/grpc"

	"github.com/cairndb/cairn/raft"
	"github.com/cairndb/cairn/raft/raftpb"
	"github.com/cairndb/cairn/storage/raftlog"
	"github.com/cairndb/cairn/strong/lease"
	"github.com/cairndb/cairn/strong/watch"
)

// Transport is what the strong tier needs from the peer transport.
type Transport interface {
	Sender
	AddPeer(id uint64, addr string) error
	UpdatePeer(id uint64, addr string) error
	RemovePeer(id uint64) error
}

// Member is a cluster member as the Cluster API lists it.
type Member struct {
	ID         uint64   `json:"id"`
	Name       string   `json:"name"`
	PeerURLs   []string `json:"peerURLs"`
	ClientURLs []string `json:"clientURLs,omitempty"`
	IsLearner  bool     `json:"isLearner,omitempty"`
}

// Config configures a strong-tier member.
type Config struct {
	// MemberID and ClusterID identify this member and its cluster.
	MemberID, ClusterID uint64
	// Name is this member's name.
	Name string
	// ClientURLs are this member's advertised client URLs.
	ClientURLs []string
	// InitialMembers bootstrap a new cluster (ignored on restart). When
	// Join is set they are the members to contact instead: this member
	// was added to a running cluster (MemberAdd) and waits for the
	// leader's snapshot.
	InitialMembers []Member
	Join           bool
	// ClusterToken is the token member IDs are derived from (MemberID).
	ClusterToken string
	// DB is the node's Pebble store, shared with other components.
	DB *pebble.DB
	// DataDir holds received snapshots while they are installed.
	DataDir string
	// Transport carries Raft messages and snapshots between members.
	Transport Transport
	// TickInterval is the Raft tick; ElectionTicks the election timeout
	// in ticks.
	TickInterval  time.Duration
	ElectionTicks int
	// SnapshotCount is the number of applied entries between two Raft
	// snapshots (log compactions).
	SnapshotCount uint64
	// CatchUpEntries are the entries kept behind a snapshot for followers
	// that are slightly behind (etcd keeps 5000).
	CatchUpEntries uint64
	// MaxRequestBytes bounds a request; MaxTxnOps the operations of a Txn.
	MaxRequestBytes, MaxTxnOps int
	// QuotaBackendBytes is the size past which writes are refused with
	// the NOSPACE alarm.
	QuotaBackendBytes int64
	// UnsafeNoFsync persists the Raft log without fsync (tests only).
	UnsafeNoFsync bool
	// Logger and Registerer; nil means slog.Default() and no metrics.
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Server is one member of the strong tier.
type Server struct {
	cfg   Config
	log   *slog.Logger
	node  *raftNode
	sm    *stateMachine
	reads *readBatcher
	ids   *idGenerator
	// watchHub fans MVCC events out to watchers.
	watchHub *watch.Hub
	timeout  time.Duration
	stopped  chan struct{}
}

// New opens (or bootstraps) the member's state from cfg.DB. Start runs it.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.CatchUpEntries == 0 {
		cfg.CatchUpEntries = 5000
	}
	// Sub-packages tag their own lines with a component; base has none,
	// so that no line carries the key twice.
	base := cfg.Logger.With("member", fmt.Sprintf("%x", cfg.MemberID))
	log := base.With("component", "strong")
	storage, err := raftlog.Open(cfg.DB, raftlog.Options{
		KeyPrefix: raftlog.DefaultKeyPrefix, CacheBytes: 64 << 20, Registerer: cfg.Registerer, Logger: base,
	})
	if err != nil {
		return nil, fmt.Errorf("strong: open raft log: %w", err)
	}
	sm, err := newStateMachine(cfg, base)
	if err != nil {
		return nil, err
	}
	hs, cs, err := storage.InitialState()
	if err != nil {
		return nil, err
	}
	first, _ := storage.FirstIndex()
	fresh := hs.IsEmpty() && len(cs.Voters) == 0 && first <= 1
	switch {
	case fresh && cfg.Join:
		// Nothing to bootstrap: the configuration, the members and the
		// state all arrive with the leader's first snapshot.
		log.Info("joining an existing cluster; waiting for the leader", "cluster", fmt.Sprintf("%x", cfg.ClusterID))
	case fresh:
		if len(cfg.InitialMembers) == 0 {
			return nil, errors.New("strong: empty data dir and no initial cluster")
		}
		voters := make([]uint64, 0, len(cfg.InitialMembers))
		for _, m := range cfg.InitialMembers {
			voters = append(voters, m.ID)
			if err := sm.putMember(m); err != nil {
				return nil, err
			}
		}
		if err := sm.setClusterID(cfg.ClusterID); err != nil {
			return nil, err
		}
		if err := cfg.DB.Flush(); err != nil {
			return nil, err
		}
		cs = raftpb.ConfState{Voters: voters}
		if err := storage.Bootstrap(cs); err != nil {
			return nil, fmt.Errorf("strong: bootstrap: %w", err)
		}
		log.Info("bootstrapped a new cluster", "members", len(voters), "cluster", fmt.Sprintf("%x", cfg.ClusterID))
	default:
		if stored := sm.clusterID(); stored != 0 && stored != cfg.ClusterID {
			return nil, fmt.Errorf("strong: the data dir belongs to cluster %x, but --initial-cluster-token gives %x", stored, cfg.ClusterID)
		}
	}
	snap, _ := storage.Snapshot()
	rc := raft.DefaultConfig()
	rc.ID = cfg.MemberID
	rc.Storage = storage
	// Entries after the Raft snapshot are handed out again: configuration
	// changes are re-applied, normal entries at or below the state
	// machine's consistent index are skipped.
	rc.Applied = snap.Metadata.Index
	rc.ElectionTick = cfg.ElectionTicks
	rc.HeartbeatTick = 1
	rc.Rand = rand.New(rand.NewPCG(cfg.MemberID, uint64(time.Now().UnixNano())))
	rc.Logger = base.With("component", "raft")
	rn, err := raft.NewRawNode(rc)
	if err != nil {
		return nil, fmt.Errorf("strong: raft: %w", err)
	}
	m := newMetrics(cfg.Registerer, func() float64 { return float64(sm.sizeBytes()) })
	n := &raftNode{
		id: cfg.MemberID, log: log, rn: rn, storage: storage, sm: sm, send: cfg.Transport, m: m,
		noFsync: cfg.UnsafeNoFsync,
		tick:    cfg.TickInterval, electionTicks: cfg.ElectionTicks, snapshotCount: cfg.SnapshotCount, catchUp: cfg.CatchUpEntries,
		snapDir: filepath.Join(cfg.DataDir, "snap.recv"),
		waiters: newWaiters(), applied: newAppliedNotifier(sm.ConsistentIndex()),
		cs: cs, snapI: snap.Metadata.Index,
	}
	s := &Server{
		cfg: cfg, log: log, node: n, sm: sm,
		ids: newIDGenerator(cfg.MemberID, time.Now()),
		// etcd's request timeout: 5s plus two election timeouts.
		timeout: 5*time.Second + 2*time.Duration(cfg.ElectionTicks)*cfg.TickInterval,
		stopped: make(chan struct{}),
	}
	s.reads = newReadBatcher(n, s.timeout)
	wo := watch.DefaultOptions()
	wo.Logger = base
	wo.Registerer = cfg.Registerer
	if s.watchHub, err = watch.NewHub(sm.kv, wo); err != nil {
		return nil, err
	}
	electionTimeout := time.Duration(cfg.ElectionTicks) * cfg.TickInterval
	leading := false
	n.onRole = func(leader bool) {
		switch {
		case leader && !leading:
			// Leases do not expire during the election that made us
			// leader: every one gets its full TTL plus an election.
			sm.lessor.Promote(electionTimeout)
		case !leader && leading:
			sm.lessor.Demote()
		}
		leading = leader
	}
	sm.srv = s
	return s, nil
}

// Start connects to the known members and runs the Raft loop.
func (s *Server) Start() error {
	members, err := s.sm.members()
	if err != nil {
		return err
	}
	if len(members) == 0 {
		// A joining member knows its peers only from its flags until the
		// snapshot brings the member list.
		members = s.cfg.InitialMembers
	}
	for _, m := range members {
		if m.ID == s.cfg.MemberID {
			continue
		}
		if err := s.addPeer(m); err != nil {
			return err
		}
	}
	s.node.start()
	go s.reads.loop()
	go s.expireLeases()
	go s.publishAttributes()
	return nil
}

// addPeer connects the transport to a member (adding or updating it).
func (s *Server) addPeer(m Member) error {
	if len(m.PeerURLs) == 0 {
		return fmt.Errorf("strong: member %x has no peer URL", m.ID)
	}
	u, err := url.Parse(m.PeerURLs[0])
	if err != nil {
		return fmt.Errorf("strong: member %x peer URL: %w", m.ID, err)
	}
	if err := s.cfg.Transport.AddPeer(m.ID, u.Host); err != nil {
		return s.cfg.Transport.UpdatePeer(m.ID, u.Host)
	}
	return nil
}

// Stop stops the Raft loop and waits for it. It does not close the DB.
func (s *Server) Stop() {
	select {
	case <-s.stopped:
		return
	default:
	}
	close(s.stopped)
	if s.node.stopc != nil { // started
		s.node.stop()
	}
	s.watchHub.Close()
	s.sm.close()
}

// Register adds the etcd v3 services to a gRPC server.
func (s *Server) Register(g *grpc.Server) {
	etcdserverpb.RegisterKVServer(g, &kvService{s: s})
	so := watch.DefaultServiceOptions()
	so.Logger = s.log
	ws, err := watch.NewService(s.watchHub, s.header, so)
	if err != nil {
		panic(err) // the default options are valid
	}
	etcdserverpb.RegisterWatchServer(g, ws)
	etcdserverpb.RegisterLeaseServer(g, lease.NewService(leaseServiceBackend{s: s}, s.log))
	etcdserverpb.RegisterClusterServer(g, &clusterService{s: s})
	etcdserverpb.RegisterMaintenanceServer(g, &maintenanceService{s: s})
}

// HandleFrames takes Raft messages from the transport.
func (s *Server) HandleFrames(from uint64, frames [][]byte) {
	for _, f := range frames {
		m, err := raftpb.UnmarshalMessage(f)
		if err != nil {
			s.log.Warn("undecodable raft message", "from", fmt.Sprintf("%x", from), "err", err)
			continue
		}
		// Never block the peer's stream: Raft recovers from a lost
		// message, a stalled transport stream does not.
		select {
		case s.node.recvc <- m:
		default:
			s.node.m.recvDrops.Inc()
		}
	}
}

// HandleSnapshot takes a snapshot stream from the transport.
func (s *Server) HandleSnapshot(ctx context.Context, _ uint64, header []byte, body io.Reader) error {
	return s.node.receiveSnapshot(ctx, header, body)
}

// Members returns the cluster's members as this member has applied them
// (learners included): the authoritative member list, which the eventual
// tier's ring follows.
func (s *Server) Members() ([]Member, error) { return s.sm.members() }

// Leader returns the current leader's ID (0 if none) and the term.
func (s *Server) Leader() (uint64, uint64) { return s.node.lead.Load(), s.node.term.Load() }

// Health is etcd's health check: a leader is known and no alarm is raised.
func (s *Server) Health(context.Context) error {
	if lead, _ := s.Leader(); lead == 0 {
		return errors.New("no leader")
	}
	if a := s.sm.alarms(); len(a) > 0 {
		return fmt.Errorf("alarm raised: %s", a[0].Alarm)
	}
	return nil
}

// Ready reports whether this member can serve linearizable requests: it
// knows a leader and has applied what the leader had committed.
func (s *Server) Ready(ctx context.Context) error {
	if lead, _ := s.Leader(); lead == 0 {
		return errors.New("no leader")
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := s.reads.wait(ctx); err != nil {
		return fmt.Errorf("cannot confirm a read index: %w", err)
	}
	return nil
}

// header fills an etcd response header.
func (s *Server) header(rev int64) *etcdserverpb.ResponseHeader {
	_, term := s.Leader()
	return &etcdserverpb.ResponseHeader{ClusterId: s.cfg.ClusterID, MemberId: s.cfg.MemberID, Revision: rev, RaftTerm: term}
}

// replicate proposes a request and waits for its result.
func (s *Server) replicate(ctx context.Context, req *etcdserverpb.InternalRaftRequest) (any, error) {
	req.ID = s.ids.id()
	req.Header = &etcdserverpb.RequestHeader{ID: req.ID}
	// etcd's rule: the whole marshalled request, not just the value, must
	// fit in --max-request-bytes.
	return s.node.replicate(ctx, req, s.cfg.MaxRequestBytes, s.timeout)
}

// publishAttributes replicates this member's name and client URLs, as
// etcd members do after they start, so MemberList shows them everywhere.
func (s *Server) publishAttributes() {
	for attempt := 0; ; attempt++ {
		select {
		case <-s.stopped:
			return
		case <-time.After(time.Duration(min(attempt, 10)) * 200 * time.Millisecond):
		}
		if lead, _ := s.Leader(); lead == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		_, err := s.replicate(ctx, &etcdserverpb.InternalRaftRequest{ClusterMemberAttrSet: &membershippb.ClusterMemberAttrSetRequest{
			Member_ID:        s.cfg.MemberID,
			MemberAttributes: &membershippb.Attributes{Name: s.cfg.Name, ClientUrls: s.cfg.ClientURLs},
		}})
		cancel()
		if err == nil {
			s.log.Info("published member attributes", "name", s.cfg.Name, "client_urls", s.cfg.ClientURLs)
			return
		}
		s.log.Warn("publishing member attributes failed; retrying", "err", err)
	}
}

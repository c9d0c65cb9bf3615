package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/cairndb/cairn/admin"
	"github.com/cairndb/cairn/clock"
	"github.com/cairndb/cairn/eventual/coord"
	"github.com/cairndb/cairn/eventual/replica"
	"github.com/cairndb/cairn/eventual/resp"
	"github.com/cairndb/cairn/gossipnet"
	"github.com/cairndb/cairn/strong"
	"github.com/cairndb/cairn/strong/concurrency"
	"github.com/cairndb/cairn/transport"
)

// Version is the cairn version; EtcdVersion the etcd API version it speaks.
const (
	Version     = "0.1.0-dev"
	EtcdVersion = "3.7.3"
)

// Node is a running cairn node.
type Node struct {
	cfg       Config
	log       *slog.Logger
	db        *pebble.DB
	transport *transport.Transport
	strong    *strong.Server
	peerSrv   *grpc.Server
	clientSrv *grpc.Server
	gossip    *gossipnet.Driver

	// physical is the node's wall clock, skewed only by the clock-skew
	// fault (/debug/clock, with --enable-fault-injection).
	physical *clock.SkewedClock

	// The eventual tier (eventual.go).
	evStore     *replica.Store
	evTrees     *coord.Trees
	evTransport *transport.Transport
	evMembers   *eventualMembership
	evCoord     *coord.Coordinator
	resp        *resp.Server

	// selfClient is the Election and Lock services' client of this
	// node's own client port.
	selfClient *clientv3.Client

	admin     *admin.Server
	listeners []net.Listener
	closeOnce sync.Once
	// ClientAddrs and PeerAddr are the bound addresses (useful with port 0).
	ClientAddrs []string
	PeerAddr    string
	// RedisAddr is the bound RESP address ("" if --listen-redis is empty).
	RedisAddr string
}

// handlerRef lets the transport reach the strong tier, which is built
// after it (the strong tier sends through the transport).
type handlerRef struct{ s *strong.Server }

func (h *handlerRef) HandleFrames(from uint64, frames [][]byte) { h.s.HandleFrames(from, frames) }
func (h *handlerRef) HandleSnapshot(ctx context.Context, from uint64, header []byte, body io.Reader) error {
	return h.s.HandleSnapshot(ctx, from, header, body)
}

// Start opens the data dir and starts every component of the node.
func Start(cfg Config, log *slog.Logger) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	n := &Node{cfg: cfg, log: log, physical: clock.NewSkewedClock(clock.SystemClock{})}
	if err := n.start(); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// start brings the components up in order; Start closes what started if
// it fails.
func (n *Node) start() (err error) {
	cfg, log := n.cfg, n.log
	if cfg.FS != nil {
		if err := cfg.FS.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return fmt.Errorf("data dir: %w", err)
		}
	} else if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	n.db, err = pebble.Open(filepath.Join(cfg.DataDir, "db"), pebbleOptions(log, cfg.FS))
	if err != nil {
		return fmt.Errorf("open store in %s: %w", cfg.DataDir, err)
	}
	// Pebble syncs the entries inside its own directory, not the entry of
	// that directory in the data dir, nor the data dir's own entry (and
	// MkdirAll may have created several levels): without these syncs a
	// power cut soon after the first start loses the whole store,
	// acknowledged writes included.
	if err := syncDirs(cfg.FS, ancestors(cfg.DataDir)...); err != nil {
		return fmt.Errorf("sync data dir: %w", err)
	}
	members := cfg.InitialMembers()
	memberID := MemberID(cfg.InitialAdvertisePeerURLs, cfg.InitialClusterToken)
	clusterID := ClusterID(cfg.InitialClusterToken)
	log = log.With("name", cfg.Name)
	n.log = log
	n.cfg = cfg

	ref := &handlerRef{}
	tcfg := transport.DefaultConfig()
	tcfg.LocalID, tcfg.ClusterID = memberID, clusterID
	tcfg.Handler = ref
	tcfg.Logger = log.With("component", "transport")
	// Each transport channel labels its metrics (same names, channel label).
	tcfg.Registerer = prometheus.WrapRegistererWith(prometheus.Labels{"channel": "raft"}, reg)
	// A member that restarts must hear from the leader within a fraction
	// of an election timeout (etcd's peers retry every 100ms), not after a
	// minute of open breaker: Raft peers retry fast and cap the wait low.
	// The breaker still stops the queue filling with frames for a dead
	// peer; a dial to a dead loopback or LAN peer fails in microseconds.
	tcfg.BackoffMax = 250 * time.Millisecond
	tcfg.Breaker.OpenDuration = 100 * time.Millisecond
	tcfg.Breaker.MaxOpenDuration = 400 * time.Millisecond
	if cfg.EnableFaultInjection {
		tcfg.Faults = transport.NewFaults(uint64(time.Now().UnixNano()))
	}
	if n.transport, err = transport.New(tcfg); err != nil {
		return err
	}
	var clientURLs []string
	for _, u := range cfg.AdvertiseClientURLs {
		clientURLs = append(clientURLs, u.String())
	}
	n.strong, err = strong.New(strong.Config{
		MemberID: memberID, ClusterID: clusterID, Name: cfg.Name, ClientURLs: clientURLs,
		InitialMembers: members, Join: cfg.InitialClusterState == "existing", ClusterToken: cfg.InitialClusterToken, DB: n.db, DataDir: cfg.DataDir, Transport: n.transport,
		TickInterval: cfg.TickInterval, ElectionTicks: cfg.ElectionTicks, SnapshotCount: cfg.SnapshotCount,
		CatchUpEntries:  cfg.SnapshotCatchUpEntries,
		MaxRequestBytes: cfg.MaxRequestBytes, MaxTxnOps: cfg.MaxTxnOps, QuotaBackendBytes: cfg.QuotaBackendBytes,
		UnsafeNoFsync: cfg.UnsafeNoFsync,
		Logger:        log, Registerer: reg,
	})
	if err != nil {
		return err
	}
	ref.s = n.strong

	n.peerSrv = grpc.NewServer(n.transport.ServerOptions()...)
	n.transport.Register(n.peerSrv)
	if err := n.startGossip(n.peerSrv, reg, memberID, tcfg.Faults); err != nil {
		return err
	}
	if err := n.startEventual(reg, memberID, clusterID, tcfg.Faults); err != nil {
		return fmt.Errorf("eventual tier: %w", err)
	}
	for _, u := range cfg.ListenPeerURLs {
		ln, err := net.Listen("tcp", u.Host)
		if err != nil {
			return fmt.Errorf("--listen-peer-urls %s: %w", u.String(), err)
		}
		n.listeners = append(n.listeners, ln)
		n.PeerAddr = ln.Addr().String()
		go func() { _ = n.peerSrv.Serve(ln) }()
	}
	if err := n.strong.Start(); err != nil {
		return err
	}

	n.clientSrv = grpc.NewServer(
		grpc.MaxRecvMsgSize(cfg.MaxRequestBytes+512*1024),
		grpc.MaxSendMsgSize(1<<31-1),
		grpc.MaxConcurrentStreams(1<<31-1),
		grpc.NumStreamWorkers(1024),
	)
	n.strong.Register(n.clientSrv)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(n.clientSrv, hs)
	var clientLns []net.Listener
	for _, u := range cfg.ListenClientURLs {
		ln, err := net.Listen("tcp", u.Host)
		if err != nil {
			return fmt.Errorf("--listen-client-urls %s: %w", u.String(), err)
		}
		n.listeners = append(n.listeners, ln)
		n.ClientAddrs = append(n.ClientAddrs, ln.Addr().String())
		clientLns = append(clientLns, ln)
	}
	// Election and Lock run on the node's own KV, Lease and Watch through
	// a client of its first client listener, as etcd's do. The client
	// dials lazily, so it needs neither Serve nor a leader yet; gRPC wants
	// every service registered before Serve.
	if n.selfClient, err = concurrency.NewLocalClient(n.ClientAddrs[0]); err != nil {
		return err
	}
	ccfg := concurrency.DefaultConfig()
	ccfg.Client = n.selfClient
	ccfg.Logger = log.With("component", "concurrency")
	ccfg.Registerer = reg
	if err := concurrency.Register(n.clientSrv, ccfg); err != nil {
		return err
	}
	for _, ln := range clientLns {
		go func() { _ = n.clientSrv.Serve(ln) }()
	}

	if err := n.startRESP(reg); err != nil {
		return err
	}

	handlers := map[string]http.Handler{"/members": n.membersHandler(), "/eventual/ready": n.eventualReadyHandler()}
	if tcfg.Faults != nil {
		handlers["/debug/faults"] = faultsHandler(tcfg.Faults)
		handlers["/debug/clock"] = clockHandler(n.physical, n.log)
		offset := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "cairn", Name: "clock_injected_offset_seconds",
			Help: "Offset the clock-skew fault adds to this node's wall clock (/debug/clock)."},
			func() float64 { return n.physical.Offset().Seconds() })
		if err := reg.Register(offset); err != nil {
			return err
		}
	}
	n.admin, err = admin.Start(admin.Config{
		Addr: cfg.ListenHTTP, Gatherer: reg,
		Checks:   admin.Checks{Health: n.strong.Health, Ready: n.strong.Ready},
		Version:  map[string]string{"etcdserver": EtcdVersion, "etcdcluster": "3.7.0", "cairn": Version},
		Handlers: handlers,
		Logger:   log.With("component", "admin"),
	})
	if err != nil {
		return fmt.Errorf("--listen-http %s: %w", cfg.ListenHTTP, err)
	}
	log.Info("cairn node started", "member", fmt.Sprintf("%x", memberID), "cluster", fmt.Sprintf("%x", clusterID),
		"client", n.ClientAddrs, "peer", n.PeerAddr, "redis", n.RedisAddr, "http", n.admin.Addr(), "data_dir", cfg.DataDir)
	return nil
}

// AdminAddr returns the bound admin address.
func (n *Node) AdminAddr() string { return n.admin.Addr() }

// Strong returns the node's strong tier (for tests and tools).
func (n *Node) Strong() *strong.Server { return n.strong }

// Close stops every component in the reverse order and closes the store.
func (n *Node) Close() {
	n.closeOnce.Do(func() {
		left := n.leaveGossip()
		if n.admin != nil {
			_ = n.admin.Close()
		}
		if n.selfClient != nil {
			// First, so that calls blocked in Lock, Campaign or Observe
			// end now instead of holding up the graceful stop.
			_ = n.selfClient.Close()
		}
		if n.clientSrv != nil {
			stopGracefully(n.clientSrv, 2*time.Second)
		}
		n.closeEventual()
		if n.strong != nil {
			n.strong.Stop()
		}
		if n.transport != nil {
			_ = n.transport.Close()
		}
		n.stopGossip(left)
		if n.peerSrv != nil {
			stopGracefully(n.peerSrv, time.Second)
		}
		for _, ln := range n.listeners {
			_ = ln.Close()
		}
		if n.db != nil {
			if err := n.db.Close(); err != nil && !errors.Is(err, pebble.ErrClosed) {
				n.log.Error("closing the store", "err", err)
			}
		}
		n.log.Info("cairn node stopped")
	})
}

func stopGracefully(s *grpc.Server, within time.Duration) {
	done := make(chan struct{})
	go func() { s.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(within):
		s.Stop()
	}
}

// ancestors returns dir and every directory above it.
func ancestors(dir string) []string {
	dir, _ = filepath.Abs(dir)
	out := []string{dir}
	for p := filepath.Dir(dir); p != dir; dir, p = p, filepath.Dir(p) {
		out = append(out, p)
	}
	return out
}

// syncDirs fsyncs directories so the entries in them survive a power cut.
func syncDirs(fs vfs.FS, dirs ...string) error {
	if fs == nil {
		fs = vfs.Default
	}
	for _, d := range dirs {
		f, err := fs.OpenDir(d)
		if err != nil {
			return err
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", d, err)
		}
	}
	return nil
}

// Pebble sizing: the default 8 MiB block cache made every write's lookup
// of the key's previous version read and decompress sstable blocks
// (a fifth of the leader's CPU under a put load).
const (
	pebbleCacheBytes    = 256 << 20
	pebbleMemTableBytes = 64 << 20
)

func pebbleOptions(log *slog.Logger, fs vfs.FS) *pebble.Options {
	o := &pebble.Options{
		Logger:       pebbleLogger{log},
		Cache:        pebble.NewCache(pebbleCacheBytes),
		MemTableSize: pebbleMemTableBytes,
		FS:           fs,
	}
	for i := range o.Levels {
		o.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	o.EnsureDefaults()
	return o
}

// pebbleLogger sends Pebble's messages to slog.
type pebbleLogger struct{ log *slog.Logger }

func (l pebbleLogger) Infof(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}
func (l pebbleLogger) Errorf(format string, args ...any) {
	l.log.Error(fmt.Sprintf(format, args...), "component", "pebble")
}
func (l pebbleLogger) Fatalf(format string, args ...any) {
	l.log.Error(fmt.Sprintf(format, args...), "component", "pebble")
	os.Exit(1)
}

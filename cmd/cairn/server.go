package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairndb/cairn/server"
)

// serverFlags are the raw flag values; toConfig validates them.
type serverFlags struct {
	name, dataDir                       string
	listenClient, advertiseClient       string
	listenPeer, advertisePeer           string
	initialCluster, clusterState, token string
	listenHTTP, listenRedis, logLevel   string
	heartbeatMS, electionMS             int
	snapshotCount, catchUp              uint64
	quota                               int64
	maxRequestBytes, maxTxnOps          int
	faultInjection, unsafeNoFsync       bool
	gossipInterval                      time.Duration
	gossipSuspicionMult                 int
	eventualReplicas                    int
	eventualFsync                       string
	eventualConsistency                 string
	zone                                string
	antiEntropyInterval                 time.Duration
}

func newServerCommand() *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run a cairn node (etcd v3 API on the client URLs)",
		Long: `server runs one cairn node. Its flags are etcd's where etcd has the same idea,
so an etcd command line carries over. With no flags it runs a single-node cluster
with its data in ./default.cairn, serving the etcd v3 API on localhost:2379.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.toConfig()
			if err != nil {
				return err
			}
			log := newLogger(f.logLevel)
			node, err := server.Start(cfg, log)
			if err != nil {
				return err
			}
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
			s := <-sig
			log.Info("signal received, stopping", "signal", s.String())
			node.Close()
			return nil
		},
	}
	d := server.DefaultConfig()
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", d.Name, "human-readable name of this member")
	fl.StringVar(&f.dataDir, "data-dir", "", "directory of the node's data (default ${name}.cairn)")
	fl.StringVar(&f.listenClient, "listen-client-urls", server.DefaultClientURL, "URLs to serve the etcd v3 API on")
	fl.StringVar(&f.advertiseClient, "advertise-client-urls", server.DefaultClientURL, "client URLs advertised to the cluster and clients")
	fl.StringVar(&f.listenPeer, "listen-peer-urls", server.DefaultPeerURL, "URLs to listen on for peer traffic")
	fl.StringVar(&f.advertisePeer, "initial-advertise-peer-urls", server.DefaultPeerURL, "this member's peer URLs as the others reach them")
	fl.StringVar(&f.initialCluster, "initial-cluster", "", "initial members, name=peerURL,... (default ${name}=${initial-advertise-peer-urls})")
	fl.StringVar(&f.clusterState, "initial-cluster-state", "new", "new (bootstrap) or existing (join)")
	fl.StringVar(&f.token, "initial-cluster-token", server.DefaultClusterToken, "token that tells clusters built from the same flags apart")
	fl.StringVar(&f.listenHTTP, "listen-http", server.DefaultListenHTTP, "address of the admin HTTP endpoints (/health, /ready, /metrics)")
	fl.StringVar(&f.listenRedis, "listen-redis", server.DefaultListenRedis, "address of the Redis protocol (eventual tier); empty turns it off")
	fl.IntVar(&f.heartbeatMS, "heartbeat-interval", int(d.TickInterval/time.Millisecond), "Raft heartbeat interval in milliseconds")
	fl.IntVar(&f.electionMS, "election-timeout", int(d.TickInterval/time.Millisecond)*d.ElectionTicks, "Raft election timeout in milliseconds")
	fl.Uint64Var(&f.snapshotCount, "snapshot-count", d.SnapshotCount, "applied entries between two snapshots (log compactions)")
	fl.Uint64Var(&f.catchUp, "snapshot-catchup-entries", d.SnapshotCatchUpEntries, "entries kept behind a snapshot for followers slightly behind")
	fl.Int64Var(&f.quota, "quota-backend-bytes", d.QuotaBackendBytes, "size of the store past which writes are refused (NOSPACE alarm)")
	fl.IntVar(&f.maxRequestBytes, "max-request-bytes", d.MaxRequestBytes, "largest client request in bytes")
	fl.IntVar(&f.maxTxnOps, "max-txn-ops", d.MaxTxnOps, "most operations in one transaction")
	fl.BoolVar(&f.faultInjection, "enable-fault-injection", false, "serve the transport fault hook on /debug/faults (testing only)")
	fl.BoolVar(&f.unsafeNoFsync, "unsafe-no-fsync", false, "skip fsync of the Raft log: a power cut loses acknowledged writes (testing only, as etcd's)")
	fl.DurationVar(&f.gossipInterval, "gossip-interval", d.GossipInterval, "SWIM probe period; every gossip timing scales with it")
	fl.IntVar(&f.gossipSuspicionMult, "gossip-suspicion-mult", d.GossipSuspicionMult, "minimum suspicion timeout in probe periods (times log10 of the cluster size)")
	fl.IntVar(&f.eventualReplicas, "eventual-replicas", d.EventualReplicas, "copies of each eventual-tier (Redis) key")
	fl.StringVar(&f.zone, "zone", "", "this node's failure domain (rack, availability zone): eventual-tier replicas go to distinct zones first")
	fl.StringVar(&f.eventualConsistency, "eventual-consistency", d.EventualConsistency, "a new Redis connection's read and write level: ONE, TWO, QUORUM, ALL or a count (CAIRN.CONSISTENCY changes it)")
	fl.StringVar(&f.eventualFsync, "eventual-fsync", d.EventualFsync, "eventual tier durability: always (fsync before acknowledging) or periodic (every 10ms, like Redis's everysec)")
	fl.DurationVar(&f.antiEntropyInterval, "anti-entropy-interval", d.AntiEntropyInterval, "time for one anti-entropy pass over the eventual tier")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	return cmd
}

func (f serverFlags) toConfig() (server.Config, error) {
	cfg := server.DefaultConfig()
	cfg.Name = f.name
	cfg.DataDir = f.dataDir
	if cfg.DataDir == "" {
		cfg.DataDir = f.name + ".cairn"
	}
	var err error
	if cfg.ListenClientURLs, err = server.ParseURLs(f.listenClient); err != nil {
		return cfg, fmt.Errorf("--listen-client-urls: %w", err)
	}
	if cfg.AdvertiseClientURLs, err = server.ParseURLs(f.advertiseClient); err != nil {
		return cfg, fmt.Errorf("--advertise-client-urls: %w", err)
	}
	if cfg.ListenPeerURLs, err = server.ParseURLs(f.listenPeer); err != nil {
		return cfg, fmt.Errorf("--listen-peer-urls: %w", err)
	}
	if cfg.InitialAdvertisePeerURLs, err = server.ParseURLs(f.advertisePeer); err != nil {
		return cfg, fmt.Errorf("--initial-advertise-peer-urls: %w", err)
	}
	ic := f.initialCluster
	if ic == "" {
		ic = f.name + "=" + f.advertisePeer
		ic = strings.ReplaceAll(ic, ",", ","+f.name+"=")
	}
	if cfg.InitialCluster, err = server.ParseInitialCluster(ic); err != nil {
		return cfg, err
	}
	cfg.InitialClusterState = f.clusterState
	cfg.InitialClusterToken = f.token
	cfg.ListenHTTP = f.listenHTTP
	cfg.ListenRedis = f.listenRedis
	if f.heartbeatMS <= 0 || f.electionMS < 3*f.heartbeatMS {
		return cfg, fmt.Errorf("--election-timeout (%d ms) must be at least 3 times --heartbeat-interval (%d ms)", f.electionMS, f.heartbeatMS)
	}
	cfg.TickInterval = time.Duration(f.heartbeatMS) * time.Millisecond
	cfg.ElectionTicks = f.electionMS / f.heartbeatMS
	cfg.SnapshotCount = f.snapshotCount
	cfg.SnapshotCatchUpEntries = f.catchUp
	cfg.QuotaBackendBytes = f.quota
	cfg.MaxRequestBytes = f.maxRequestBytes
	cfg.MaxTxnOps = f.maxTxnOps
	cfg.EnableFaultInjection = f.faultInjection
	cfg.UnsafeNoFsync = f.unsafeNoFsync
	cfg.GossipInterval = f.gossipInterval
	cfg.GossipSuspicionMult = f.gossipSuspicionMult
	cfg.EventualReplicas = f.eventualReplicas
	cfg.EventualFsync = f.eventualFsync
	cfg.EventualConsistency = f.eventualConsistency
	cfg.Zone = f.zone
	cfg.AntiEntropyInterval = f.antiEntropyInterval
	return cfg, cfg.Validate()
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

package server

import (
	"cmp"
	"errors"
	"fmt"
	"github.com/cairndb/cairn/eventual/coord"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/cairndb/cairn/strong"
)

// Config is everything a node needs to start. The field names follow
// etcd's flags (--name, --data-dir, --listen-client-urls, ...), so that a
// user who runs etcd can read a cairn command line at a glance.
type Config struct {
	// Name is this member's human-readable name, unique in the cluster.
	Name string
	// DataDir holds the node's Pebble store (Raft log and state machine).
	DataDir string
	// ListenClientURLs are where the etcd v3 gRPC API listens.
	ListenClientURLs []url.URL
	// AdvertiseClientURLs are the client URLs told to other members and
	// to clients (MemberList).
	AdvertiseClientURLs []url.URL
	// ListenPeerURLs are where the peer transport listens.
	ListenPeerURLs []url.URL
	// InitialAdvertisePeerURLs are this member's peer URLs as the others
	// reach them.
	InitialAdvertisePeerURLs []url.URL
	// InitialCluster maps every initial member's name to its peer URLs.
	InitialCluster map[string][]url.URL
	// InitialClusterState is "new" (bootstrap) or "existing" (join).
	InitialClusterState string
	// InitialClusterToken distinguishes clusters built from the same
	// configuration: member and cluster IDs are derived from it.
	InitialClusterToken string
	// ListenHTTP is the admin address (/health, /ready, /metrics, pprof).
	ListenHTTP string
	// ListenRedis is the RESP address of the eventual tier.
	ListenRedis string
	// QuotaBackendBytes bounds the state machine's size; past it the
	// cluster raises the NOSPACE alarm and refuses writes, as etcd does.
	QuotaBackendBytes int64
	// TickInterval is the Raft tick (etcd's --heartbeat-interval).
	TickInterval time.Duration
	// ElectionTicks is the election timeout in ticks (etcd's
	// --election-timeout divided by the heartbeat interval).
	ElectionTicks int
	// SnapshotCount is how many applied entries trigger a state-machine
	// snapshot and log compaction (etcd's --snapshot-count).
	SnapshotCount uint64
	// SnapshotCatchUpEntries are the entries kept behind a snapshot, so a
	// follower only slightly behind catches up from the log instead of a
	// snapshot (etcd's --experimental-snapshot-catchup-entries).
	SnapshotCatchUpEntries uint64
	// MaxRequestBytes bounds a client request (etcd's
	// --max-request-bytes, default 1.5 MiB).
	MaxRequestBytes int
	// MaxTxnOps bounds the operations of one Txn (etcd's --max-txn-ops).
	MaxTxnOps int
	// GossipInterval is the SWIM probe period; every other gossip timing
	// (tick, probe timeout, suspicion, push-pull) keeps its ratio to it.
	GossipInterval time.Duration
	// GossipSuspicionMult sets the minimum suspicion timeout to this many
	// probe periods (times log10 of the cluster size, at least 1); a
	// suspicion starts at six times that and shrinks as others confirm it.
	GossipSuspicionMult int
	// Zone is this node's failure domain (--zone): the eventual tier puts
	// a key's replicas in distinct zones first. Empty is a zone like any
	// other.
	Zone string
	// EventualReplicas is N, the copies of each eventual-tier key
	// (--eventual-replicas, default 3; fewer when the cluster is smaller).
	EventualReplicas int
	// EventualConsistency is a new RESP connection's read and write level
	// (--eventual-consistency: ONE, TWO, QUORUM, ALL or a count; default
	// QUORUM); CAIRN.CONSISTENCY changes it per connection.
	EventualConsistency string
	// EventualFsync is the eventual tier's durability: "always" (every
	// acknowledged write is fsynced on each replica that counts toward W,
	// grouped with concurrent writes; the default) or "periodic" (the
	// write-ahead log is fsynced every 10ms, like Redis's appendfsync
	// everysec or Cassandra's periodic commit log: a power cut of every
	// replica holding a write within that window loses it).
	EventualFsync string
	// AntiEntropyInterval is the time for one anti-entropy pass over the
	// eventual tier's arcs (--anti-entropy-interval, default 5m).
	AntiEntropyInterval time.Duration
	// EnableFaultInjection turns on the transport's fault hook and its
	// admin endpoint, for the verification harness. Off by default.
	EnableFaultInjection bool
	// UnsafeNoFsync skips the Raft log's fsync (etcd's --unsafe-no-fsync):
	// a power cut loses acknowledged writes. For tests and benchmarks only.
	UnsafeNoFsync bool
	// FS, if set, holds the Pebble store instead of the real file system:
	// the power-loss tests use Pebble's crashable in-memory file system.
	FS vfs.FS
}

// Defaults for a single-node cluster in ./default.cairn, as `cairn server`
// with no flags runs.
const (
	DefaultName          = "default"
	DefaultClientURL     = "http://localhost:2379"
	DefaultPeerURL       = "http://localhost:2380"
	DefaultListenHTTP    = "127.0.0.1:8080"
	DefaultListenRedis   = "127.0.0.1:6379"
	DefaultClusterToken  = "cairn-cluster"
	DefaultQuotaBytes    = 8 << 30
	DefaultTickInterval  = 100 * time.Millisecond
	DefaultElectionTicks = 10
	DefaultSnapshotCount = 100000
	DefaultCatchUp       = 5000
	DefaultMaxRequest    = 1536 * 1024
	DefaultMaxTxnOps     = 128
	// memberlist's LAN profile: a probe per second, suspicion from 4 to
	// 24 periods.
	DefaultGossipInterval      = time.Second
	DefaultGossipSuspicionMult = 4
	// The eventual tier: three copies, a full anti-entropy pass every
	// five minutes.
	DefaultEventualReplicas    = 3
	DefaultAntiEntropyInterval = 5 * time.Minute
)

// DefaultConfig returns the configuration of `cairn server` with no flags.
func DefaultConfig() Config {
	client, peer := mustURL(DefaultClientURL), mustURL(DefaultPeerURL)
	return Config{
		Name:                     DefaultName,
		DataDir:                  DefaultName + ".cairn",
		ListenClientURLs:         []url.URL{client},
		AdvertiseClientURLs:      []url.URL{client},
		ListenPeerURLs:           []url.URL{peer},
		InitialAdvertisePeerURLs: []url.URL{peer},
		InitialCluster:           map[string][]url.URL{DefaultName: {peer}},
		InitialClusterState:      "new",
		InitialClusterToken:      DefaultClusterToken,
		ListenHTTP:               DefaultListenHTTP,
		ListenRedis:              DefaultListenRedis,
		QuotaBackendBytes:        DefaultQuotaBytes,
		TickInterval:             DefaultTickInterval,
		ElectionTicks:            DefaultElectionTicks,
		SnapshotCount:            DefaultSnapshotCount,
		SnapshotCatchUpEntries:   DefaultCatchUp,
		MaxRequestBytes:          DefaultMaxRequest,
		MaxTxnOps:                DefaultMaxTxnOps,
		GossipInterval:           DefaultGossipInterval,
		GossipSuspicionMult:      DefaultGossipSuspicionMult,
		EventualReplicas:         DefaultEventualReplicas,
		EventualFsync:            "always",
		EventualConsistency:      "QUORUM",
		AntiEntropyInterval:      DefaultAntiEntropyInterval,
	}
}

func mustURL(s string) url.URL {
	u, err := parseURL(s)
	if err != nil {
		panic(err)
	}
	return u
}

// ParseURLs parses a comma-separated URL list as etcd's flags take it.
func ParseURLs(s string) ([]url.URL, error) {
	var out []url.URL
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		u, err := parseURL(part)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	if len(out) == 0 {
		return nil, errors.New("no URL given")
	}
	return out, nil
}

func parseURL(s string) (url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return url.URL{}, fmt.Errorf("bad URL %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "unix" {
		return url.URL{}, fmt.Errorf("URL %q: scheme must be http or https", s)
	}
	if u.Scheme == "https" {
		return url.URL{}, fmt.Errorf("URL %q: TLS is not supported yet; use http", s)
	}
	if u.Host == "" || u.Port() == "" {
		return url.URL{}, fmt.Errorf("URL %q: want scheme://host:port", s)
	}
	if u.Path != "" && u.Path != "/" {
		return url.URL{}, fmt.Errorf("URL %q: a path is not allowed", s)
	}
	u.Path = ""
	return *u, nil
}

// ParseInitialCluster parses "name=url,name=url" (a name may repeat to
// give several URLs), as etcd's --initial-cluster.
func ParseInitialCluster(s string) (map[string][]url.URL, error) {
	out := map[string][]url.URL{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, raw, ok := strings.Cut(part, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("--initial-cluster entry %q: want name=url", part)
		}
		u, err := parseURL(raw)
		if err != nil {
			return nil, fmt.Errorf("--initial-cluster member %q: %w", name, err)
		}
		out[name] = append(out[name], u)
	}
	if len(out) == 0 {
		return nil, errors.New("--initial-cluster is empty")
	}
	return out, nil
}

// Validate reports the first inconsistency, in terms of the flags.
func (c *Config) Validate() error {
	switch {
	case c.Name == "":
		return errors.New("--name must not be empty")
	case c.DataDir == "":
		return errors.New("--data-dir must not be empty")
	case len(c.ListenClientURLs) == 0:
		return errors.New("--listen-client-urls must not be empty")
	case len(c.AdvertiseClientURLs) == 0:
		return errors.New("--advertise-client-urls must not be empty")
	case len(c.ListenPeerURLs) == 0:
		return errors.New("--listen-peer-urls must not be empty")
	case len(c.InitialAdvertisePeerURLs) == 0:
		return errors.New("--initial-advertise-peer-urls must not be empty")
	case c.InitialClusterState != "new" && c.InitialClusterState != "existing":
		return fmt.Errorf("--initial-cluster-state is %q, want new or existing", c.InitialClusterState)
	case c.InitialClusterToken == "":
		return errors.New("--initial-cluster-token must not be empty")
	case c.QuotaBackendBytes <= 0:
		return errors.New("--quota-backend-bytes must be positive")
	case c.TickInterval <= 0 || c.ElectionTicks < 3:
		return errors.New("the election timeout must be at least 3 heartbeat intervals")
	case c.SnapshotCount == 0:
		return errors.New("--snapshot-count must be positive")
	case c.MaxRequestBytes <= 0 || c.MaxTxnOps <= 0:
		return errors.New("--max-request-bytes and --max-txn-ops must be positive")
	case c.GossipInterval < 10*time.Millisecond || c.GossipInterval > time.Minute:
		return fmt.Errorf("--gossip-interval is %v, want 10ms..1m", c.GossipInterval)
	case c.GossipSuspicionMult < 1 || c.GossipSuspicionMult > 64:
		return fmt.Errorf("--gossip-suspicion-mult is %d, want 1..64", c.GossipSuspicionMult)
	case c.EventualReplicas < 1 || c.EventualReplicas > 16:
		return fmt.Errorf("--eventual-replicas is %d, want 1..16", c.EventualReplicas)
	case !validLevel(c.EventualConsistency):
		return fmt.Errorf("--eventual-consistency is %q, want ONE, TWO, QUORUM, ALL or a count", c.EventualConsistency)
	case c.EventualFsync != "always" && c.EventualFsync != "periodic":
		return fmt.Errorf("--eventual-fsync is %q, want always or periodic", c.EventualFsync)
	case c.AntiEntropyInterval < time.Second:
		return fmt.Errorf("--anti-entropy-interval is %v, want at least 1s", c.AntiEntropyInterval)
	}
	mine, ok := c.InitialCluster[c.Name]
	if !ok {
		return fmt.Errorf("--initial-cluster has no member named %q (--name)", c.Name)
	}
	if !sameURLs(mine, c.InitialAdvertisePeerURLs) {
		return fmt.Errorf("--initial-cluster gives %s for %q but --initial-advertise-peer-urls is %s",
			urlsString(mine), c.Name, urlsString(c.InitialAdvertisePeerURLs))
	}
	seen := map[uint64]string{}
	for name, urls := range c.InitialCluster {
		id := MemberID(urls, c.InitialClusterToken)
		if other, dup := seen[id]; dup {
			return fmt.Errorf("--initial-cluster members %q and %q have the same peer URLs", other, name)
		}
		seen[id] = name
	}
	return nil
}

func sameURLs(a, b []url.URL) bool {
	return slices.Equal(sortedURLs(a), sortedURLs(b))
}

func sortedURLs(us []url.URL) []string {
	s := make([]string, len(us))
	for i, u := range us {
		s[i] = u.String()
	}
	slices.Sort(s)
	return s
}

func urlsString(us []url.URL) string { return strings.Join(sortedURLs(us), ",") }

// MemberID derives a member's ID from its peer URLs and the cluster token
// (see strong.MemberID).
func MemberID(peerURLs []url.URL, token string) uint64 {
	return strong.MemberID(sortedURLs(peerURLs), token)
}

// ClusterID derives the cluster's ID from the cluster token alone, so a
// member that joins later computes the same ID as the founders.
func ClusterID(token string) uint64 { return strong.ClusterID(token) }

// InitialMembers returns the initial members with their IDs, sorted by ID.
func (c *Config) InitialMembers() []strong.Member {
	out := make([]strong.Member, 0, len(c.InitialCluster))
	for name, urls := range c.InitialCluster {
		out = append(out, strong.Member{ID: MemberID(urls, c.InitialClusterToken), Name: name, PeerURLs: sortedURLs(urls)})
	}
	slices.SortFunc(out, func(a, b strong.Member) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// validLevel reports whether s names a consistency level.
func validLevel(s string) bool {
	_, err := coord.ParseLevel(s)
	return err == nil
}

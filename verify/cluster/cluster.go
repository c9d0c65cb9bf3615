package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// ErrUnsupported is returned by a lever the target does not have (process
// control on an attached cluster).
var ErrUnsupported = errors.New("cluster: not supported by this target")

// Member is one member's addresses.
type Member struct {
	// Name is the member's --name.
	Name string
	// ClientURL is the etcd v3 API's URL (http://host:port).
	ClientURL string
	// PeerURL is the member's peer URL: its identity in the Raft
	// configuration.
	PeerURL string
	// RedisAddr is the RESP address (host:port), "" if unknown.
	RedisAddr string
	// HTTPAddr is the admin address (host:port), "" if unknown.
	HTTPAddr string
}

// Endpoint is the client URL in clientv3's host:port form.
func (m Member) Endpoint() string { return strings.TrimPrefix(m.ClientURL, "http://") }

// State is a member process's state.
type State uint8

// The process states. The zero State is unset.
const (
	// Running: the process runs.
	Running State = iota + 1
	// Paused: the process is stopped with SIGSTOP.
	Paused
	// Stopped: no process runs (killed, or not started).
	Stopped
)

// String returns "running", "paused" or "stopped".
func (s State) String() string {
	switch s {
	case Running:
		return "running"
	case Paused:
		return "paused"
	case Stopped:
		return "stopped"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Cluster is a cluster under test. Member indexes are 0..Size()-1 and
// stable: a member restarted as a new member keeps its index.
// Implementations are safe for concurrent use.
type Cluster interface {
	// Size is the number of member slots.
	Size() int
	// Member returns member i's current addresses.
	Member(i int) Member
	// Endpoints returns every member's client endpoint (host:port).
	Endpoints() []string
	// State returns member i's process state.
	State(i int) State
	// Kill sends SIGKILL to member i and waits for it to exit.
	Kill(i int) error
	// Start starts member i again with its flags and waits until it is
	// ready or timeout passes.
	Start(i int, timeout time.Duration) error
	// Pause stops member i with SIGSTOP; Resume continues it.
	Pause(i int) error
	Resume(i int) error
	// NewPeerURL stops member i, wipes its data and returns the peer URL
	// it will have as a new member; Join then starts it with
	// --initial-cluster-state existing and initialCluster (name=peerURL,...).
	NewPeerURL(i int) (string, error)
	Join(i int, initialCluster string, timeout time.Duration) error
	// Wiped reports whether member i was wiped by NewPeerURL and has not
	// joined yet: Start refuses it.
	Wiped(i int) bool
	// Network returns the network fault lever, or nil if the target has
	// none.
	Network() Network
	// WaitReady waits until every running member reports ready.
	WaitReady(timeout time.Duration) error
	// Describe names the target for the report.
	Describe() string
	// LogTail returns the last lines of member i's output, if known.
	LogTail(i, lines int) string
	// Close stops every member and removes what the cluster created
	// (data dirs unless kept, namespaces).
	Close() error
}

// Link is the direction of traffic from member From to member To.
type Link struct{ From, To int }

// Faults is a network state: links cut, and loss and delay on members'
// peer traffic. The zero Faults is a healthy network.
type Faults struct {
	// Cut links drop every packet from From to To.
	Cut []Link
	// Loss drops this fraction (0..1) of member i's peer packets, both
	// ways.
	Loss map[int]float64
	// Delay holds member i's peer packets back this long.
	Delay map[int]time.Duration
}

// Empty reports whether f is a healthy network.
func (f Faults) Empty() bool { return len(f.Cut) == 0 && len(f.Loss) == 0 && len(f.Delay) == 0 }

// String describes f for the fault timeline.
func (f Faults) String() string {
	if f.Empty() {
		return "healthy"
	}
	var parts []string
	for _, l := range f.Cut {
		parts = append(parts, fmt.Sprintf("%d->%d cut", l.From, l.To))
	}
	for i, p := range f.Loss {
		parts = append(parts, fmt.Sprintf("%d loses %.0f%%", i, 100*p))
	}
	for i, d := range f.Delay {
		parts = append(parts, fmt.Sprintf("%d delayed %v", i, d))
	}
	return strings.Join(parts, ", ")
}

// Network applies network faults between members.
type Network interface {
	// Apply replaces the faults in force with f, on every member it can
	// reach now and on the others when they run again.
	Apply(f Faults) error
	// Describe names the mechanism ("fault hook", "iptables").
	Describe() string
}

// memberIDs asks the cluster at endpoints for its member list (a few
// tries) and returns each member's Raft ID by peer URL.
func memberIDs(endpoints []string) (map[string]uint64, error) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	var list *clientv3.MemberListResponse
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		list, err = cli.MemberList(ctx)
		cancel()
		if err == nil || attempt == 5 {
			break
		}
		time.Sleep(time.Second)
	}
	if err != nil {
		return nil, fmt.Errorf("member list: %w", err)
	}
	ids := map[string]uint64{}
	for _, m := range list.Members {
		for _, u := range m.PeerURLs {
			ids[u] = m.ID
		}
	}
	return ids, nil
}

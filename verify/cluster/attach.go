package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Attached is a cluster the harness did not start: it can use it and, if
// the members' admin addresses are known and they run with
// --enable-fault-injection, fault its network; it cannot kill, pause or
// restart members.
type Attached struct {
	members []Member
	ids     []uint64
	net     *faultsNet
	hc      *http.Client
}

var _ Cluster = (*Attached)(nil)

// NewAttach attaches to members (ClientURL required; HTTPAddr enables
// network faults, RedisAddr the eventual-tier workloads) and learns their
// Raft IDs.
func NewAttach(members []Member) (*Attached, error) {
	if len(members) == 0 {
		return nil, errors.New("cluster: no endpoints to attach to")
	}
	a := &Attached{members: members, ids: make([]uint64, len(members)), hc: &http.Client{Timeout: 2 * time.Second}}
	cli, err := clientv3.New(clientv3.Config{Endpoints: a.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, m := range members {
		st, err := cli.Status(ctx, m.Endpoint())
		if err != nil {
			return nil, fmt.Errorf("cluster: status of %s: %w", m.Endpoint(), err)
		}
		a.ids[i] = st.Header.MemberId
	}
	withHTTP := true
	for _, m := range members {
		withHTTP = withHTTP && m.HTTPAddr != ""
	}
	if withHTTP {
		a.net = &faultsNet{n: len(members), hc: a.hc, dirty: map[int]bool{},
			target: func(i int) (string, []uint64, bool) { return a.members[i].HTTPAddr, a.ids, true }}
	}
	return a, nil
}

// Size implements Cluster.
func (a *Attached) Size() int { return len(a.members) }

// Member implements Cluster.
func (a *Attached) Member(i int) Member { return a.members[i] }

// Endpoints implements Cluster.
func (a *Attached) Endpoints() []string {
	eps := make([]string, len(a.members))
	for i, m := range a.members {
		eps[i] = m.Endpoint()
	}
	return eps
}

// State implements Cluster: an attached member is taken to run.
func (a *Attached) State(int) State { return Running }

// Kill implements Cluster.
func (a *Attached) Kill(int) error { return ErrUnsupported }

// Start implements Cluster.
func (a *Attached) Start(int, time.Duration) error { return ErrUnsupported }

// Pause implements Cluster.
func (a *Attached) Pause(int) error { return ErrUnsupported }

// Resume implements Cluster.
func (a *Attached) Resume(int) error { return ErrUnsupported }

// NewPeerURL implements Cluster.
func (a *Attached) NewPeerURL(int) (string, error) { return "", ErrUnsupported }

// Join implements Cluster.
func (a *Attached) Join(int, string, time.Duration) error { return ErrUnsupported }

// Wiped implements Cluster.
func (a *Attached) Wiped(int) bool { return false }

// Network implements Cluster.
func (a *Attached) Network() Network {
	if a.net == nil {
		return nil
	}
	return a.net
}

// WaitReady implements Cluster: /readyz where known, else Status.
func (a *Attached) WaitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, m := range a.members {
		for {
			var err error
			if m.HTTPAddr != "" {
				var resp *http.Response
				if resp, err = a.hc.Get("http://" + m.HTTPAddr + "/readyz"); err == nil {
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("readyz: %s", resp.Status)
					}
				}
			} else {
				err = a.status(m)
			}
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s not ready within %v: %w", m.Endpoint(), timeout, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

func (a *Attached) status(m Member) error {
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{m.Endpoint()}, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := cli.Status(ctx, m.Endpoint())
	if err == nil && st.Leader == 0 {
		err = errors.New("no leader")
	}
	return err
}

// Describe implements Cluster.
func (a *Attached) Describe() string {
	how := "no network faults (no admin addresses)"
	if a.net != nil {
		how = "faults by " + a.net.Describe()
	}
	return fmt.Sprintf("attached to %s (%s)", strings.Join(a.Endpoints(), ","), how)
}

// LogTail implements Cluster.
func (a *Attached) LogTail(int, int) string { return "" }

// Close implements Cluster: it heals what it faulted.
func (a *Attached) Close() error {
	if a.net != nil {
		return a.net.Apply(Faults{})
	}
	return nil
}

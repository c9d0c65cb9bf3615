package nemesis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairndb/cairn/verify/cluster"
)

// memberStepTimeout bounds each step of a membership change (a remove, an
// add, the promotion once the learner has caught up).
const memberStepTimeout = time.Minute

// replace removes member v, wipes it and brings it back as a new member.
// It stops when ctx ends (the run is over); Heal then finishes a
// half-done change (ensureMember).
func (n *Nemesis) replace(ctx context.Context, v int) error {
	cli, err := n.client(v)
	if err != nil {
		return err
	}
	defer cli.Close()
	peer := n.c.Member(v).PeerURL
	err = retryFor(ctx, memberStepTimeout, func(cctx context.Context) error {
		list, err := cli.MemberList(cctx)
		if err != nil {
			return err
		}
		m := findPeer(list.Members, peer)
		if m == nil {
			return nil // already removed
		}
		_, err = cli.MemberRemove(cctx, m.ID)
		if errors.Is(err, rpctypes.ErrMemberNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("remove: %w", err)
	}
	if _, err := n.c.NewPeerURL(v); err != nil {
		return err
	}
	return n.ensureMember(ctx, v)
}

// ensureMember makes member v a running voter: added as a learner on its
// current peer URL if the configuration lacks it, started with
// --initial-cluster-state existing if it does not run, promoted if it is
// a learner.
func (n *Nemesis) ensureMember(ctx context.Context, v int) error {
	cli, err := n.client(v)
	if err != nil {
		return err
	}
	defer cli.Close()
	var list *clientv3.MemberListResponse
	if err := retryFor(ctx, memberStepTimeout, func(cctx context.Context) (err error) {
		list, err = cli.MemberList(cctx)
		return err
	}); err != nil {
		return fmt.Errorf("member list: %w", err)
	}
	me := findPeer(list.Members, n.c.Member(v).PeerURL)
	if me == nil {
		if n.c.State(v) != cluster.Stopped {
			// It runs but the configuration lacks it: a remove that
			// committed without the replace finishing. Start afresh.
			if _, err := n.c.NewPeerURL(v); err != nil {
				return err
			}
		}
		peer := n.c.Member(v).PeerURL
		if err := retryFor(ctx, memberStepTimeout, func(cctx context.Context) error {
			add, err := cli.MemberAddAsLearner(cctx, []string{peer})
			if errors.Is(err, rpctypes.ErrPeerURLExist) {
				return nil
			}
			if err == nil {
				list.Members = add.Members
			}
			return err
		}); err != nil {
			return fmt.Errorf("add as learner: %w", err)
		}
		if err := retryFor(ctx, memberStepTimeout, func(cctx context.Context) (err error) {
			list, err = cli.MemberList(cctx)
			return err
		}); err != nil {
			return fmt.Errorf("member list: %w", err)
		}
		if me = findPeer(list.Members, peer); me == nil {
			return fmt.Errorf("added %s but the member list lacks it", peer)
		}
	}
	if n.c.State(v) == cluster.Stopped {
		if err := n.c.Join(v, initialCluster(list.Members, me.ID, n.c.Member(v).Name), n.cfg.RestartTimeout); err != nil {
			return fmt.Errorf("join: %w", err)
		}
	}
	if me.IsLearner {
		// The promotion is refused until the learner has caught up.
		if err := retryFor(ctx, memberStepTimeout, func(cctx context.Context) error {
			_, err := cli.MemberPromote(cctx, me.ID)
			if errors.Is(err, rpctypes.ErrMemberNotLearner) {
				return nil
			}
			return err
		}); err != nil {
			return fmt.Errorf("promote: %w", err)
		}
	}
	// As an operator must: the change is done when the new member also
	// holds the eventual tier's data (its ranges streamed, its Paxos
	// acceptor caught up), or the next replacement could take away the
	// last copy of a write.
	if err := n.waitEventualCaughtUp(ctx, v); err != nil {
		return fmt.Errorf("eventual tier: %w", err)
	}
	return nil
}

// waitEventualCaughtUp waits until member v's /eventual/ready answers
// 200. A member without an admin address, or one that does not serve the
// endpoint (404), is not waited for.
func (n *Nemesis) waitEventualCaughtUp(ctx context.Context, v int) error {
	addr := n.c.Member(v).HTTPAddr
	if addr == "" {
		return nil
	}
	hc := &http.Client{Timeout: 2 * time.Second}
	return retryFor(ctx, memberStepTimeout, func(cctx context.Context) error {
		req, err := http.NewRequestWithContext(cctx, http.MethodGet, "http://"+addr+"/eventual/ready", nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNotFound {
			return nil
		}
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	})
}

// findPeer returns the member whose peer URLs include peer.
func findPeer(ms []*etcdserverpb.Member, peer string) *etcdserverpb.Member {
	for _, m := range ms {
		if slices.Contains(m.PeerURLs, peer) {
			return m
		}
	}
	return nil
}

// initialCluster is --initial-cluster for a joining member: every member
// by name, the joining one (not started yet, so nameless) by its own.
func initialCluster(ms []*etcdserverpb.Member, self uint64, selfName string) string {
	var parts []string
	for _, m := range ms {
		name := m.Name
		if m.ID == self {
			name = selfName
		}
		if name == "" {
			continue
		}
		for _, u := range m.PeerURLs {
			parts = append(parts, name+"="+u)
		}
	}
	return strings.Join(parts, ",")
}

// retryFor calls f (each call with a 5 s deadline) until it succeeds,
// ctx ends or timeout passes, and returns the last error.
func retryFor(ctx context.Context, timeout time.Duration, f func(context.Context) error) error {
	deadline := time.Now().Add(timeout)
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := f(cctx)
		cancel()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(300 * time.Millisecond)
	}
}

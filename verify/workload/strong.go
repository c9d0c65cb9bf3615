package workload

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// strongClients are one client per member and one over every member,
// shared by a workload's workers (a clientv3 client is safe for
// concurrent use and multiplexes its requests).
type strongClients struct {
	perNode []*clientv3.Client
	all     *clientv3.Client
}

// connect makes the clients; the cluster must be healthy.
func (b *base) connect() (strongClients, error) {
	var sc strongClients
	for i := range b.cfg.Cluster.Size() {
		cli, err := b.newClient(i)
		if err != nil {
			return sc, fmt.Errorf("connect to member %d: %w", i, err)
		}
		sc.perNode = append(sc.perNode, cli)
	}
	cli, err := b.newClient(-1)
	if err != nil {
		return sc, err
	}
	sc.all = cli
	return sc, nil
}

// of returns the client of member node, or the all-members client.
func (sc strongClients) of(node int) *clientv3.Client {
	if node < 0 {
		return sc.all
	}
	return sc.perNode[node]
}

// getOpts are the options of a read the workload calls linearizable:
// serializable instead when the unsafe self-test setting is on.
func (b *base) getOpts(extra ...clientv3.OpOption) []clientv3.OpOption {
	if b.cfg.UnsafeSerializableReads {
		extra = append(extra, clientv3.WithSerializable())
	}
	return extra
}

// linearizableGet reads key with retries until timeout, for the final
// state.
func linearizableGet(ctx context.Context, cli *clientv3.Client, key string, timeoutOpts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	var resp *clientv3.GetResponse
	err := retryRead(ctx, finalReadTimeout, func(cctx context.Context) (err error) {
		resp, err = cli.Get(cctx, key, timeoutOpts...)
		return err
	})
	return resp, err
}

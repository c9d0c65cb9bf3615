package bench

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// strongDialTimeout bounds connecting to one endpoint in Open.
const strongDialTimeout = 5 * time.Second

// strongWorkload runs put, range, txn and watch through etcd's clientv3.
// It opens Spec.Conns clients (gRPC connections); connection j goes to
// endpoint j mod len(endpoints) and client c uses connection c mod Conns,
// as etcd's benchmark spreads them.
type strongWorkload struct {
	spec      Spec
	endpoints []string
	conns     []*clientv3.Client
	keys      []*keyGen // per client
	seq       atomic.Int64
	value     string
	watch     *watchFanout // KindWatch only
}

func newStrongWorkload(spec Spec, endpoints []string) *strongWorkload {
	return &strongWorkload{spec: spec, endpoints: endpoints}
}

func (w *strongWorkload) Open(ctx context.Context) error {
	for j := range w.spec.Conns {
		ep := w.endpoints[j%len(w.endpoints)]
		cli, err := clientv3.New(clientv3.Config{
			Endpoints:   []string{ep},
			DialTimeout: strongDialTimeout,
			Logger:      zap.NewNop(),
			// Requests as large as the servers accept (1.5 MiB).
			MaxCallSendMsgSize: 2 << 20,
		})
		if err != nil {
			return fmt.Errorf("connect %s: %w", ep, err)
		}
		w.conns = append(w.conns, cli)
	}
	// clientv3.New does not wait for the connection: ask each endpoint
	// once, so that an unreachable one fails here and clearly.
	for _, ep := range w.endpoints[:min(len(w.endpoints), len(w.conns))] {
		sctx, cancel := context.WithTimeout(ctx, strongDialTimeout)
		_, err := w.conns[0].Status(sctx, ep)
		cancel()
		if err != nil {
			return fmt.Errorf("etcd v3 endpoint %s does not answer: %w", ep, err)
		}
	}
	for c := range w.spec.Clients {
		w.keys = append(w.keys, newKeyGen(&w.spec, c, &w.seq))
	}
	w.value = string(makeValue(w.spec.ValueSize))
	switch w.spec.Kind {
	case KindRange:
		// The key a range reads, with a value of the spec's size (as
		// bench/etcdcompare wrote "foo" before its range runs).
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if _, err := w.conns[0].Put(pctx, w.spec.RangeKey, w.value); err != nil {
			return fmt.Errorf("write the range key %q: %w", w.spec.RangeKey, err)
		}
	case KindWatch:
		wf, err := startWatchFanout(ctx, &w.spec, w.conns)
		if err != nil {
			return err
		}
		w.watch = wf
	}
	return nil
}

func (w *strongWorkload) conn(c int) *clientv3.Client { return w.conns[c%len(w.conns)] }

func (w *strongWorkload) Do(ctx context.Context, c, _ int) error {
	cli := w.conn(c)
	switch w.spec.Kind {
	case KindPut:
		_, err := cli.Put(ctx, w.keys[c].next(), w.value)
		return err
	case KindRange:
		var opts []clientv3.OpOption
		if w.spec.RangeEnd != "" {
			opts = append(opts, clientv3.WithRange(w.spec.RangeEnd))
		}
		if w.spec.Serializable {
			opts = append(opts, clientv3.WithSerializable())
		}
		_, err := cli.Get(ctx, w.spec.RangeKey, opts...)
		return err
	case KindTxn:
		ops := make([]clientv3.Op, w.spec.TxnOps)
		first := w.keys[c].next()
		ops[0] = clientv3.OpPut(first, w.value)
		for i := 1; i < len(ops); i++ {
			ops[i] = clientv3.OpPut(w.keys[c].next(), w.value)
		}
		// The compare always holds (a version is never negative): the
		// cost measured is a txn's, not a retry loop's.
		_, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.Version(first), ">", -1)).Then(ops...).Commit()
		return err
	case KindWatch:
		_, err := cli.Put(ctx, w.keys[c].next(), stampedValue(w.value))
		return err
	}
	return fmt.Errorf("strong tier: no workload %q", w.spec.Kind)
}

func (w *strongWorkload) events(ctx context.Context, puts int64, elapsed, drain time.Duration) *EventResult {
	if w.watch == nil {
		return nil
	}
	return w.watch.finish(ctx, puts, elapsed, drain)
}

func (w *strongWorkload) Close() error {
	if w.watch != nil {
		w.watch.stop()
	}
	var errs []error
	for _, c := range w.conns {
		errs = append(errs, c.Close())
	}
	w.conns = nil
	return errors.Join(errs...)
}

var (
	_ Workload    = (*strongWorkload)(nil)
	_ eventSource = (*strongWorkload)(nil)
)

package workload

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairndb/cairn/verify/check"
	"github.com/cairndb/cairn/verify/history"
)

// Bank workload sizes.
const (
	bankAccounts = 5
	bankInitial  = 100
	// bankWorkers: the first transfer, the rest read (a third of the
	// reads serializable, through one member).
	bankWorkers   = 5
	bankTransfers = 3
)

type bank struct {
	*base
	sc   strongClients
	spec check.BankSpec

	mu struct {
		sync.Mutex
		reads     []check.BankRead
		transfers []check.BankTransfer
	}
}

func (b *bank) account(i int) string { return fmt.Sprintf("%sacct%d", b.prefix, i) }

func (b *bank) Setup(ctx context.Context) (err error) {
	if b.sc, err = b.connect(); err != nil {
		return err
	}
	b.spec = check.BankSpec{Total: bankAccounts * bankInitial}
	var cmps []clientv3.Cmp
	var puts []clientv3.Op
	for i := range bankAccounts {
		a := b.account(i)
		b.spec.Accounts = append(b.spec.Accounts, a)
		cmps = append(cmps, clientv3.Compare(clientv3.Version(a), "=", 0))
		puts = append(puts, clientv3.OpPut(a, strconv.Itoa(bankInitial)))
	}
	err = retryRead(ctx, finalReadTimeout, func(cctx context.Context) error {
		_, err := b.sc.all.Txn(cctx).If(cmps...).Then(puts...).Commit()
		return err
	})
	if err != nil {
		return err
	}
	// Whichever attempt committed, the accounts' create revision is the
	// setup's revision.
	return retryRead(ctx, finalReadTimeout, func(cctx context.Context) error {
		get, err := b.sc.all.Get(cctx, b.prefix, clientv3.WithPrefix())
		if err != nil {
			return err
		}
		if len(get.Kvs) != bankAccounts {
			return fmt.Errorf("bank setup found %d accounts, want %d", len(get.Kvs), bankAccounts)
		}
		b.spec.SetupRevision = get.Kvs[0].CreateRevision
		return nil
	})
}

func (b *bank) Run(ctx context.Context) {
	var ws []*worker
	for i := range bankWorkers {
		ws = append(ws, b.newWorker(i, bankWorkers, b.nodeOf(i)))
	}
	run(ctx, ws, func(ctx context.Context, w *worker) {
		idx := 0
		for i, x := range ws {
			if x == w {
				idx = i
			}
		}
		if idx < bankTransfers {
			b.transferLoop(ctx, w)
		} else {
			b.readLoop(ctx, w)
		}
	})
}

// read takes one snapshot of every account.
func (b *bank) read(ctx context.Context, w *worker, cli *clientv3.Client, serializable bool) (check.BankRead, *clientv3.GetResponse, error) {
	opts := []clientv3.OpOption{clientv3.WithPrefix()}
	if serializable {
		opts = append(opts, clientv3.WithSerializable())
	} else {
		opts = b.getOpts(opts...)
	}
	rd := check.BankRead{Client: w.id, Serializable: serializable, Call: b.now()}
	cctx, cancel := w.opCtx(ctx)
	resp, err := cli.Get(cctx, b.prefix, opts...)
	cancel()
	rd.Return = b.now()
	kind := "read"
	if serializable {
		kind = "read-serializable"
	}
	if err != nil {
		w.record(kind, rd.Call, rd.Return, history.Failed, "read accounts ("+errString(err)+")")
		return rd, nil, err
	}
	rd.Revision = resp.Header.Revision
	rd.Balances = map[string]int64{}
	var parts []string
	for _, kv := range resp.Kvs {
		v, perr := strconv.ParseInt(string(kv.Value), 10, 64)
		if perr != nil {
			v = -1 << 40 // shows as a violation, never as a valid balance
		}
		rd.Balances[string(kv.Key)] = v
		parts = append(parts, fmt.Sprintf("%s=%s", strings.TrimPrefix(string(kv.Key), b.prefix), kv.Value))
	}
	w.record(kind, rd.Call, rd.Return, history.OK, fmt.Sprintf("read @%d %s", rd.Revision, strings.Join(parts, " ")))
	b.mu.Lock()
	b.mu.reads = append(b.mu.reads, rd)
	b.mu.Unlock()
	return rd, resp, nil
}

func (b *bank) readLoop(ctx context.Context, w *worker) {
	cli := b.sc.of(w.node)
	for w.next(ctx) {
		// Serializable reads only through a single member: a client
		// over all members might read two members in one history, which
		// is allowed to go back in time.
		_, _, _ = b.read(ctx, w, cli, w.node >= 0 && w.rng.IntN(3) == 0)
	}
}

func (b *bank) transferLoop(ctx context.Context, w *worker) {
	cli := b.sc.of(w.node)
	for w.next(ctx) {
		rd, resp, err := b.read(ctx, w, cli, false)
		if err != nil || len(resp.Kvs) != bankAccounts {
			continue
		}
		from, to := w.rng.IntN(bankAccounts), w.rng.IntN(bankAccounts-1)
		if to >= from {
			to++
		}
		fk, tk := b.account(from), b.account(to)
		fb, tb := rd.Balances[fk], rd.Balances[tk]
		if fb <= 0 {
			continue
		}
		amount := 1 + w.rng.Int64N(min(fb, 20))
		var fmod, tmod int64
		for _, kv := range resp.Kvs {
			switch string(kv.Key) {
			case fk:
				fmod = kv.ModRevision
			case tk:
				tmod = kv.ModRevision
			}
		}
		tr := check.BankTransfer{Client: w.id, From: fk, To: tk, Amount: amount, Call: b.now()}
		cctx, cancel := w.opCtx(ctx)
		tresp, err := cli.Txn(cctx).
			If(clientv3.Compare(clientv3.ModRevision(fk), "=", fmod), clientv3.Compare(clientv3.ModRevision(tk), "=", tmod)).
			Then(clientv3.OpPut(fk, strconv.FormatInt(fb-amount, 10)), clientv3.OpPut(tk, strconv.FormatInt(tb+amount, 10))).
			Commit()
		cancel()
		tr.Return = b.now()
		desc := fmt.Sprintf("transfer %d %s->%s", amount, strings.TrimPrefix(fk, b.prefix), strings.TrimPrefix(tk, b.prefix))
		switch {
		case err != nil:
			tr.Outcome = history.Unknown
			desc += " (" + errString(err) + ")"
		case !tresp.Succeeded:
			tr.Outcome = history.Failed
			desc += " refused: balances moved"
		default:
			tr.Outcome, tr.Revision = history.OK, tresp.Header.Revision
			desc += fmt.Sprintf(" @%d", tr.Revision)
		}
		w.record("transfer", tr.Call, tr.Return, tr.Outcome, desc)
		b.mu.Lock()
		b.mu.transfers = append(b.mu.transfers, tr)
		b.mu.Unlock()
		if tr.Outcome == history.Unknown {
			w.renew()
		}
	}
}

func (b *bank) Finish(ctx context.Context, f FinishConfig) []check.Result {
	// A final read through every member, linearizable then serializable:
	// after heal every member must hold a consistent snapshot.
	w := b.newWorker(99, 1, -1)
	for i := range b.cfg.Cluster.Size() {
		cli := b.sc.of(i)
		for _, ser := range []bool{false, true} {
			_ = retryRead(ctx, finalReadTimeout, func(cctx context.Context) error {
				_, _, err := b.read(cctx, w, cli, ser)
				return err
			})
		}
	}
	b.mu.Lock()
	reads := append([]check.BankRead(nil), b.mu.reads...)
	trs := append([]check.BankTransfer(nil), b.mu.transfers...)
	b.mu.Unlock()
	return []check.Result{b.cappedNote(check.CheckBank(b.spec, reads, trs))}
}

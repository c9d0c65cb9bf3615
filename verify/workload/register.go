package workload

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairndb/cairn/sim/porcupinekv"
	"github.com/cairndb/cairn/verify/check"
	"github.com/cairndb/cairn/verify/history"
)

// Register workload bounds.
const (
	// registerWorkers is the number of concurrent clients.
	registerWorkers = 6
	// registerSlots is how many keys are in use at a time.
	registerSlots = 3
	// OpsPerKey retires a key after this many operations (Jepsen's
	// ops-per-key idea): Porcupine's search is exponential in the
	// concurrency of one key's history, not in its length, but short
	// histories keep a failure's visualization readable.
	OpsPerKey = 150
	// MaxUnknownPerKey retires a key after this many unknown outcomes:
	// each one may take effect anywhere until the end, which is what
	// makes the search expensive.
	MaxUnknownPerKey = 6
	// finalReadTimeout bounds a final read's retries.
	finalReadTimeout = 30 * time.Second
)

type register struct {
	*base
	sc strongClients

	mu struct {
		sync.Mutex
		ops []check.RegisterOp
		// gen and count are each slot's key generation and its
		// operation and unknown counts.
		gen, count, unknown [registerSlots]int
	}
}

func (r *register) Setup(ctx context.Context) (err error) {
	r.sc, err = r.connect()
	return err
}

// key returns the current key of slot s, retiring it if it is used up.
func (r *register) key(s int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.count[s] >= OpsPerKey || r.mu.unknown[s] >= MaxUnknownPerKey {
		r.mu.gen[s]++
		r.mu.count[s], r.mu.unknown[s] = 0, 0
	}
	r.mu.count[s]++
	return fmt.Sprintf("%sk%d.%d", r.prefix, s, r.mu.gen[s])
}

func (r *register) add(op check.RegisterOp, slot int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mu.ops = append(r.mu.ops, op)
	if op.Outcome == history.Unknown {
		r.mu.unknown[slot]++
	}
}

func (r *register) Run(ctx context.Context) {
	var ws []*worker
	for i := range registerWorkers {
		ws = append(ws, r.newWorker(i, registerWorkers, r.nodeOf(i)))
	}
	run(ctx, ws, r.work)
}

func (r *register) work(ctx context.Context, w *worker) {
	cli := r.sc.of(w.node)
	seen := map[string]string{} // last value this worker saw per key
	seq := 0
	for w.next(ctx) {
		slot := w.rng.IntN(registerSlots)
		key := r.key(slot)
		seq++
		val := fmt.Sprintf("%d.%d", w.id, seq)
		in := porcupinekv.Input{Key: key}
		switch x := w.rng.IntN(10); {
		case x < 4:
			in.Kind = porcupinekv.OpGet
		case x < 7:
			in.Kind, in.Value = porcupinekv.OpPut, val
		default:
			in.Kind, in.Value, in.Expected = porcupinekv.OpCAS, val, seen[key]
		}
		op := check.RegisterOp{Client: w.id, Input: in}
		cctx, cancel := w.opCtx(ctx)
		op.Call = r.now()
		var err error
		switch in.Kind {
		case porcupinekv.OpGet:
			var resp *clientv3.GetResponse
			resp, err = cli.Get(cctx, key, r.getOpts()...)
			if err == nil && len(resp.Kvs) == 1 {
				op.Output = porcupinekv.Output{Value: string(resp.Kvs[0].Value), Found: true}
				seen[key] = op.Output.Value
			}
		case porcupinekv.OpPut:
			_, err = cli.Put(cctx, key, val)
			if err == nil {
				seen[key] = val
			}
		case porcupinekv.OpCAS:
			var resp *clientv3.TxnResponse
			resp, err = cli.Txn(cctx).If(clientv3.Compare(clientv3.Value(key), "=", in.Expected)).
				Then(clientv3.OpPut(key, val)).Commit()
			if err == nil {
				op.Output.OK = resp.Succeeded
				if resp.Succeeded {
					seen[key] = val
				}
			}
		}
		op.Return = r.now()
		cancel()
		desc := porcupinekv.Model.DescribeOperation(in, op.Output)
		switch {
		case err == nil:
			op.Outcome = history.OK
			r.add(op, slot)
		case in.Kind == porcupinekv.OpGet:
			// A failed read had no effect: leave it out of the history.
			op.Outcome = history.Failed
		default:
			op.Outcome = history.Unknown
			r.add(op, slot)
		}
		if err != nil {
			desc += " (" + errString(err) + ")"
		}
		w.record(in.Kind.String(), op.Call, op.Return, op.Outcome, desc)
		if op.Outcome == history.Unknown {
			w.renew()
		}
	}
}

func (r *register) Finish(ctx context.Context, f FinishConfig) []check.Result {
	r.mu.Lock()
	ops := append([]check.RegisterOp(nil), r.mu.ops...)
	r.mu.Unlock()
	// A last read of every key through the all-members client pins the
	// final state into the history.
	keys := map[string]bool{}
	for _, op := range ops {
		keys[op.Input.Key] = true
	}
	for key := range keys {
		op := check.RegisterOp{Client: int(clientIDs.Add(1) - 1), Input: porcupinekv.Input{Kind: porcupinekv.OpGet, Key: key}, Call: r.now()}
		resp, err := linearizableGet(ctx, r.sc.all, key)
		op.Return = r.now()
		if err != nil {
			continue
		}
		if len(resp.Kvs) == 1 {
			op.Output = porcupinekv.Output{Value: string(resp.Kvs[0].Value), Found: true}
		}
		op.Outcome = history.OK
		ops = append(ops, op)
	}
	cfg := check.RegisterConfig{Timeout: check.DefaultRegisterTimeout, Annotations: f.Annotations}
	if f.OutDir != "" {
		cfg.VisualizePath = filepath.Join(f.OutDir, "register-linearizability.html")
	}
	return []check.Result{r.cappedNote(check.CheckRegisters(ops, cfg))}
}

// errString shortens an error for a history line.
func errString(err error) string {
	s := err.Error()
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}

package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Timeouts of the RESP clients. A request slower than respIOTimeout fails
// (and counts as an error) instead of hanging the run.
const (
	// ConsistencyCommand sets a cairn RESP connection's read and write
	// levels (eventual/commands).
	ConsistencyCommand = "CAIRN.CONSISTENCY"
	respDialTimeout    = 5 * time.Second
	respIOTimeout      = 30 * time.Second
	// preloadBatch is the pipeline depth used to write the keys a get or
	// mixed workload reads.
	preloadBatch = 500
)

// respWorkload runs set, get, incr, sadd and mixed through go-redis. Every
// client has its own connection (as redis-benchmark's clients do); client
// c connects to address c mod len(addrs). Spec.Consistency is sent as
// ConsistencyCommand on every new connection, before the clock starts.
type respWorkload struct {
	spec    Spec
	addrs   []string
	clients []*redis.Client // one pool per address
	conns   []*redis.Conn   // per bench client
	keys    []*keyGen
	rnd     []*rand.Rand
	seq     atomic.Int64
	value   string
}

func newRESPWorkload(spec Spec, addrs []string) *respWorkload {
	return &respWorkload{spec: spec, addrs: addrs}
}

func (w *respWorkload) Open(ctx context.Context) error {
	perAddr := (w.spec.Clients + len(w.addrs) - 1) / len(w.addrs)
	for _, a := range w.addrs {
		opt := &redis.Options{
			Addr: a,
			// RESP2 and no CLIENT SETINFO: the connection carries only
			// the workload's commands, as redis-benchmark's do.
			Protocol:        2,
			DisableIdentity: true,
			DialTimeout:     respDialTimeout,
			ReadTimeout:     respIOTimeout,
			WriteTimeout:    respIOTimeout,
			PoolSize:        perAddr + 1,
			PoolTimeout:     respIOTimeout,
			// A failed request is measured as failed, not retried.
			MaxRetries: -1,
		}
		if lvl := w.spec.Consistency; lvl != "" {
			args := []any{ConsistencyCommand}
			for f := range strings.FieldsSeq(lvl) {
				args = append(args, f)
			}
			opt.OnConnect = func(ctx context.Context, cn *redis.Conn) error {
				return cn.Do(ctx, args...).Err()
			}
		}
		w.clients = append(w.clients, redis.NewClient(opt))
	}
	w.value = string(makeValue(w.spec.ValueSize))
	for c := range w.spec.Clients {
		w.conns = append(w.conns, w.clients[c%len(w.clients)].Conn())
		w.keys = append(w.keys, newKeyGen(&w.spec, c, &w.seq))
		w.rnd = append(w.rnd, clientRand(&w.spec, c+MaxClients))
	}
	// Connect every client now (and send the level), so that an
	// unreachable server or a refused level fails here, clearly, and
	// connecting is not timed.
	for c, cn := range w.conns {
		if err := cn.Ping(ctx).Err(); err != nil {
			if w.spec.Consistency != "" && strings.Contains(err.Error(), "CONSISTENCY") {
				return fmt.Errorf("RESP server %s refuses %s %s (a cairn command: leave the level empty against Redis): %w", w.addrs[c%len(w.addrs)], ConsistencyCommand, w.spec.Consistency, err)
			}
			return fmt.Errorf("RESP server %s: %w", w.addrs[c%len(w.addrs)], err)
		}
	}
	if w.spec.Kind == KindGet || w.spec.Kind == KindMixed {
		return w.preload(ctx)
	}
	return nil
}

// preload writes every key of the key space, so that get reads values of
// the spec's size, not misses. Clients write disjoint slices in parallel.
func (w *respWorkload) preload(ctx context.Context) error {
	n := int64(w.spec.KeySpace)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, len(w.conns))
	for c, cn := range w.conns {
		wg.Go(func() {
			for {
				lo := next.Add(preloadBatch) - preloadBatch
				if lo >= n || ctx.Err() != nil {
					return
				}
				hi := min(lo+preloadBatch, n)
				_, err := cn.Pipelined(ctx, func(p redis.Pipeliner) error {
					for k := lo; k < hi; k++ {
						p.Set(ctx, formatKey(keyPrefix(w.spec.Kind), k, w.spec.KeySize), w.value, 0)
					}
					return nil
				})
				if err != nil {
					errs[c] = fmt.Errorf("preload keys %d-%d: %w", lo, hi, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return ctx.Err()
}

// command sends (on a connection) or queues (on a pipeline) client c's
// next command.
func (w *respWorkload) command(ctx context.Context, p redis.Cmdable, c int) redis.Cmder {
	key := w.keys[c].next()
	switch w.spec.Kind {
	case KindSet:
		return p.Set(ctx, key, w.value, 0)
	case KindGet:
		return p.Get(ctx, key)
	case KindIncr:
		return p.Incr(ctx, key)
	case KindSAdd:
		return p.SAdd(ctx, key, "m"+strconv.Itoa(w.rnd[c].IntN(w.spec.Members)))
	default: // KindMixed (Validate admits no other RESP kind)
		if w.rnd[c].Float64() < w.spec.ReadRatio {
			return p.Get(ctx, key)
		}
		return p.Set(ctx, key, w.value, 0)
	}
}

func (w *respWorkload) Do(ctx context.Context, c, n int) error {
	cn := w.conns[c]
	if n == 1 {
		// One command, no pipeline, as redis-benchmark -P 1.
		return nilIsOK(w.command(ctx, cn, c).Err())
	}
	cmds, err := cn.Pipelined(ctx, func(p redis.Pipeliner) error {
		for range n {
			w.command(ctx, p, c)
		}
		return nil
	})
	if err == nil {
		return nil
	}
	// Pipelined returns the first failed command's error, which may be a
	// miss (redis.Nil) ahead of a real failure.
	for _, cmd := range cmds {
		if e := nilIsOK(cmd.Err()); e != nil {
			return e
		}
	}
	return nilIsOK(err)
}

// nilIsOK treats a GET of a missing key as an answer, not a failure.
func nilIsOK(err error) error {
	if errors.Is(err, redis.Nil) {
		return nil
	}
	return err
}

func (w *respWorkload) Close() error {
	var errs []error
	for _, cn := range w.conns {
		errs = append(errs, cn.Close())
	}
	for _, c := range w.clients {
		errs = append(errs, c.Close())
	}
	w.conns, w.clients = nil, nil
	// Closing a connection that never connected is not worth reporting.
	var out []error
	for _, e := range errs {
		if e != nil && !errors.Is(e, redis.ErrClosed) {
			out = append(out, e)
		}
	}
	return errors.Join(out...)
}

var _ Workload = (*respWorkload)(nil)

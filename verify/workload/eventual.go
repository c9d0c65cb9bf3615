package workload

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairndb/cairn/verify/check"
	"github.com/cairndb/cairn/verify/history"
)

// eventualWorkers is the number of workers of each eventual workload: one
// per member, at most this many.
const eventualWorkers = 5

// resp is what the eventual-tier workloads share: a go-redis client per
// member, and the reason they are skipped if the RESP ports do not
// answer.
type resp struct {
	*base
	rdbs []*redis.Client
	skip string
}

// redisLogOnce routes go-redis's own log lines (one per failed dial of
// a killed member) to the harness's logger at debug level. go-redis has
// one process-wide logger.
var redisLogOnce sync.Once

type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(_ context.Context, format string, v ...any) {
	l.log.Debug("verify: go-redis: " + fmt.Sprintf(format, v...))
}

// connectRESP makes a client per member and pings each; if none
// answers, the workload is skipped with the reason.
func (r *resp) connectRESP(ctx context.Context) {
	redisLogOnce.Do(func() { redis.SetLogger(redisLog{r.log()}) })
	var errs []string
	for i := range r.cfg.Cluster.Size() {
		addr := r.cfg.Cluster.Member(i).RedisAddr
		if addr == "" {
			errs = append(errs, fmt.Sprintf("member %d has no RESP address", i))
			continue
		}
		rdb := redis.NewClient(&redis.Options{
			Addr: addr, DialTimeout: time.Second, ReadTimeout: r.cfg.OpTimeout, WriteTimeout: r.cfg.OpTimeout,
			// No retries: a retried INCR may count twice, and the
			// checker must see what the client really sent.
			MaxRetries: -1, PoolSize: 4, Protocol: 2, DisableIdentity: true,
		})
		r.rdbs = append(r.rdbs, rdb)
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := rdb.Ping(pctx).Err()
		cancel()
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", addr, err))
		}
	}
	if len(errs) == r.cfg.Cluster.Size() {
		r.skip = "no member's RESP port answered (the eventual tier is not served by this build?): " + strings.Join(errs, "; ")
	}
}

func (r *resp) Close() {
	for _, c := range r.rdbs {
		c.Close()
	}
	r.base.Close()
}

// workers returns one worker per member (up to eventualWorkers), each
// bound to its member.
func (r *resp) workers() []*worker {
	n := min(r.cfg.Cluster.Size(), eventualWorkers)
	var ws []*worker
	for i := range n {
		ws = append(ws, r.newWorker(i, n, i))
	}
	return ws
}

// converge polls read on every member until all answers agree (by key)
// or timeout passes, and returns the last answers.
func converge[T any](ctx context.Context, r *resp, timeout time.Duration, key func(T) string, read func(context.Context, *redis.Client) (T, error)) []check.NodeValue[T] {
	deadline := time.Now().Add(timeout)
	for {
		var out []check.NodeValue[T]
		agree := true
		for i, rdb := range r.rdbs {
			cctx, cancel := context.WithTimeout(ctx, r.cfg.OpTimeout)
			v, err := read(cctx, rdb)
			cancel()
			nv := check.NodeValue[T]{Node: r.cfg.Cluster.Member(i).Name, Value: v}
			if err != nil {
				nv.Err = err.Error()
				agree = false
			} else if len(out) > 0 && out[0].Err == "" && key(out[0].Value) != key(v) {
				agree = false
			}
			out = append(out, nv)
		}
		if agree || time.Now().After(deadline) || ctx.Err() != nil {
			return out
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// outcome classifies a write's error: nil is OK, anything else Unknown
// (a NOQUORUM write may have reached some replicas).
func outcome(err error) history.Outcome {
	if err == nil {
		return history.OK
	}
	return history.Unknown
}

// counter: INCRBY through every member.
type counter struct {
	resp
	mu   sync.Mutex
	adds []check.CounterAdd
}

func (c *counter) key() string { return c.prefix + "ctr" }

func (c *counter) Setup(ctx context.Context) error { c.connectRESP(ctx); return nil }

func (c *counter) Run(ctx context.Context) {
	if c.skip != "" {
		return
	}
	run(ctx, c.workers(), func(ctx context.Context, w *worker) {
		for w.next(ctx) {
			d := 1 + w.rng.Int64N(5)
			cctx, cancel := w.opCtx(ctx)
			call := c.now()
			v, err := c.rdbs[w.node].IncrBy(cctx, c.key(), d).Result()
			cancel()
			o := outcome(err)
			desc := fmt.Sprintf("incrby %d -> %d", d, v)
			if err != nil {
				desc = fmt.Sprintf("incrby %d (%s)", d, errString(err))
			}
			w.record("incrby", call, c.now(), o, desc)
			c.mu.Lock()
			c.adds = append(c.adds, check.CounterAdd{Delta: d, Outcome: o})
			c.mu.Unlock()
		}
	})
}

func (c *counter) Finish(ctx context.Context, f FinishConfig) []check.Result {
	const name = "counter convergence"
	if c.skip != "" {
		return []check.Result{check.Skipped(name, c.skip)}
	}
	finals := converge(ctx, &c.resp, f.Timeout, func(v int64) string { return fmt.Sprint(v) },
		func(ctx context.Context, rdb *redis.Client) (int64, error) {
			v, err := rdb.Get(ctx, c.key()).Int64()
			if errors.Is(err, redis.Nil) {
				return 0, nil
			}
			return v, err
		})
	c.mu.Lock()
	adds := slices.Clone(c.adds)
	c.mu.Unlock()
	return []check.Result{c.cappedNote(check.CheckCounter(adds, finals))}
}

// set: SADD of unique elements, and SREM of some, through every member.
type set struct {
	resp
	mu  sync.Mutex
	ops []check.SetOp
}

func (s *set) key() string { return s.prefix + "set" }

func (s *set) Setup(ctx context.Context) error { s.connectRESP(ctx); return nil }

func (s *set) Run(ctx context.Context) {
	if s.skip != "" {
		return
	}
	run(ctx, s.workers(), func(ctx context.Context, w *worker) {
		var mine []string
		seq := 0
		for w.next(ctx) {
			op := check.SetOp{}
			if len(mine) > 0 && w.rng.IntN(10) == 0 {
				i := w.rng.IntN(len(mine))
				op.Remove, op.Elem = true, mine[i]
				mine = slices.Delete(mine, i, i+1)
			} else {
				seq++
				op.Elem = fmt.Sprintf("e%d.%d", w.id, seq)
			}
			cctx, cancel := w.opCtx(ctx)
			call := s.now()
			var err error
			kind := "sadd"
			if op.Remove {
				kind = "srem"
				err = s.rdbs[w.node].SRem(cctx, s.key(), op.Elem).Err()
			} else {
				err = s.rdbs[w.node].SAdd(cctx, s.key(), op.Elem).Err()
			}
			cancel()
			op.Outcome = outcome(err)
			if !op.Remove && err == nil {
				mine = append(mine, op.Elem)
			}
			desc := kind + " " + op.Elem
			if err != nil {
				desc += " (" + errString(err) + ")"
			}
			w.record(kind, call, s.now(), op.Outcome, desc)
			s.mu.Lock()
			s.ops = append(s.ops, op)
			s.mu.Unlock()
		}
	})
}

func (s *set) Finish(ctx context.Context, f FinishConfig) []check.Result {
	const name = "set convergence (add-wins)"
	if s.skip != "" {
		return []check.Result{check.Skipped(name, s.skip)}
	}
	finals := converge(ctx, &s.resp, f.Timeout, func(v []string) string {
		v = slices.Clone(v)
		sort.Strings(v)
		return strings.Join(v, ",")
	}, func(ctx context.Context, rdb *redis.Client) ([]string, error) {
		return rdb.SMembers(ctx, s.key()).Result()
	})
	s.mu.Lock()
	ops := slices.Clone(s.ops)
	s.mu.Unlock()
	return []check.Result{s.cappedNote(check.CheckSet(ops, finals))}
}

// session: each connection adds unique elements to a shared set and
// reads it back.
type session struct {
	resp
	mu       sync.Mutex
	ops      []check.SessionOp
	sessions int
}

func (s *session) key() string { return s.prefix + "shared" }

func (s *session) Setup(ctx context.Context) error { s.connectRESP(ctx); return nil }

func (s *session) newSession() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions++
	return s.sessions
}

func (s *session) Run(ctx context.Context) {
	if s.skip != "" {
		return
	}
	run(ctx, s.workers(), func(ctx context.Context, w *worker) {
		conn := s.rdbs[w.node].Conn()
		sid := s.newSession()
		defer func() { conn.Close() }()
		seq := 0
		for w.next(ctx) {
			op := check.SessionOp{Session: sid, Read: w.rng.IntN(2) == 0}
			cctx, cancel := w.opCtx(ctx)
			op.Call = s.now()
			var err error
			kind := "sadd"
			if op.Read {
				kind = "smembers"
				op.Elems, err = conn.SMembers(cctx, s.key()).Result()
			} else {
				seq++
				op.Elem = fmt.Sprintf("s%d.%d", sid, seq)
				err = conn.SAdd(cctx, s.key(), op.Elem).Err()
			}
			cancel()
			op.Return = s.now()
			op.Outcome = outcome(err)
			if op.Read && err != nil {
				op.Outcome = history.Failed
			}
			desc := fmt.Sprintf("session %d %s", sid, kind)
			if op.Read && err == nil {
				desc += fmt.Sprintf(" -> %d members", len(op.Elems))
			} else if !op.Read {
				desc += " " + op.Elem
			}
			if err != nil {
				desc += " (" + errString(err) + ")"
			}
			w.record(kind, op.Call, op.Return, op.Outcome, desc)
			s.mu.Lock()
			s.ops = append(s.ops, op)
			s.mu.Unlock()
			if err != nil {
				// The guarantees hold within a connection: after an
				// error, start a new session on a new connection.
				conn.Close()
				conn = s.rdbs[w.node].Conn()
				sid = s.newSession()
			}
		}
	})
}

func (s *session) Finish(ctx context.Context, f FinishConfig) []check.Result {
	const name = "session guarantees (read-your-writes, monotonic reads)"
	if s.skip != "" {
		return []check.Result{check.Skipped(name, s.skip)}
	}
	s.mu.Lock()
	ops := slices.Clone(s.ops)
	s.mu.Unlock()
	return []check.Result{s.cappedNote(check.CheckSessions(ops))}
}

// setnx: SET key value NX races on a few keys.
type setnx struct {
	resp
	mu          sync.Mutex
	attempts    []check.SetNXAttempt
	unsupported string
}

func (s *setnx) Setup(ctx context.Context) error { s.connectRESP(ctx); return nil }

func (s *setnx) Run(ctx context.Context) {
	if s.skip != "" {
		return
	}
	run(ctx, s.workers(), func(ctx context.Context, w *worker) {
		for w.next(ctx) {
			// A new key every few attempts, shared by all workers.
			key := fmt.Sprintf("%snx%d", s.prefix, (s.ops.Load()/8)%1_000_000)
			val := fmt.Sprintf("v%d.%d", w.id, s.ops.Load())
			cctx, cancel := w.opCtx(ctx)
			call := s.now()
			res, err := s.rdbs[w.node].SetArgs(cctx, key, val, redis.SetArgs{Mode: "NX"}).Result()
			cancel()
			a := check.SetNXAttempt{Key: key, Value: val}
			switch {
			case errors.Is(err, redis.Nil):
				a.Outcome = history.OK
			case err == nil:
				a.Outcome, a.Won = history.OK, res == "OK"
			case isRefusal(err):
				s.mu.Lock()
				s.unsupported = err.Error()
				s.mu.Unlock()
				w.record("setnx", call, s.now(), history.Failed, "set nx refused: "+errString(err))
				return
			default:
				a.Outcome = history.Unknown
			}
			desc := fmt.Sprintf("set %s %s nx -> won=%v", key, val, a.Won)
			if a.Outcome == history.Unknown {
				desc = fmt.Sprintf("set %s %s nx (%s)", key, val, errString(err))
			}
			w.record("setnx", call, s.now(), a.Outcome, desc)
			s.mu.Lock()
			s.attempts = append(s.attempts, a)
			s.mu.Unlock()
		}
	})
}

// isRefusal reports a server that does not offer SET NX (a clear error,
// not a fault).
func isRefusal(err error) bool {
	var re redis.Error
	if !errors.As(err, &re) {
		return false
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "not supported") || strings.Contains(msg, "unknown") ||
		strings.Contains(msg, "not offered") || strings.Contains(msg, "syntax") || strings.Contains(msg, "paxos") ||
		strings.Contains(msg, "does not serve") || strings.Contains(msg, "need a linearizable")
}

func (s *setnx) Finish(ctx context.Context, f FinishConfig) []check.Result {
	const name = "SET NX (one winner per key)"
	if s.skip != "" {
		return []check.Result{check.Skipped(name, s.skip)}
	}
	s.mu.Lock()
	attempts := slices.Clone(s.attempts)
	unsupported := s.unsupported
	s.mu.Unlock()
	if unsupported != "" && len(attempts) == 0 {
		return []check.Result{check.Skipped(name, "the server refuses SET NX: "+unsupported)}
	}
	keys := map[string]bool{}
	for _, a := range attempts {
		keys[a.Key] = true
	}
	finals := map[string][]check.NodeValue[string]{}
	for _, key := range slices.Sorted(maps.Keys(keys)) {
		finals[key] = converge(ctx, &s.resp, f.Timeout, func(v string) string { return v },
			func(ctx context.Context, rdb *redis.Client) (string, error) {
				v, err := rdb.Get(ctx, key).Result()
				if errors.Is(err, redis.Nil) {
					return "", nil
				}
				return v, err
			})
	}
	return []check.Result{s.cappedNote(check.CheckSetNX(attempts, finals))}
}

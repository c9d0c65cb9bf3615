package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// chaosLedger is what the clients know of their own operations.
type chaosLedger struct {
	mu                     sync.Mutex
	ackedIncr, unknownIncr int64
	added, unknownAdd      map[string]bool // set members whose SADD was acknowledged / not learned
	removed, unknownRem    map[string]bool // and whose SREM was
	written                map[string]bool // every SET value tried
	ops, failures          int
}

// TestEventualTierConvergesAfterFaults runs clients on every node of a 3-
// and a 5-node cluster doing INCRBY, SADD, SREM and SET while one node is
// paused (SIGSTOP), one cut off by the fault hook, and one killed with
// SIGKILL and restarted. After the heal every node must answer the same at
// CONSISTENCY ONE within 30 s, the counter must equal the acknowledged
// increments (plus at most those whose outcome was unknown), the add-wins
// set must hold exactly the acknowledged adds minus the acknowledged
// removes (unknown ones either way), and the register must hold one of the
// values written.
func TestEventualTierConvergesAfterFaults(t *testing.T) {
	if !cairnOnly(t, "the eventual tier") {
		t.Skip("etcd has no Redis protocol")
	}
	for _, nodes := range []int{3, 5} {
		t.Run(fmt.Sprintf("%d nodes", nodes), func(t *testing.T) { runEventualChaos(t, nodes) })
	}
}

func runEventualChaos(t *testing.T, nodes int) {
	c := startCluster(t, nodes, append([]string{"--enable-fault-injection", "--anti-entropy-interval", "5s"}, fastGossipFlags...)...)
	const runFor = 12 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), runFor)
	defer cancel()
	l := &chaosLedger{added: map[string]bool{}, unknownAdd: map[string]bool{}, removed: map[string]bool{},
		unknownRem: map[string]bool{}, written: map[string]bool{}}
	var wg sync.WaitGroup
	for client := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			chaosClient(ctx, c.procs[client], client, l)
		}()
	}
	// The nemesis, one fault at a time on distinct nodes.
	time.Sleep(2 * time.Second)
	paused := c.procs[0].cmd.Process
	_ = paused.Signal(syscall.SIGSTOP)
	time.Sleep(2 * time.Second)
	_ = paused.Signal(syscall.SIGCONT)
	c.setFault(1, `{"peer":0,"direction":"both","partition":true}`)
	time.Sleep(3 * time.Second)
	c.healFaults(1)
	c.procs[2].kill()
	time.Sleep(2 * time.Second)
	c.procs[2].start()
	wg.Wait()
	c.waitReady(c.all()...)
	l.mu.Lock()
	defer l.mu.Unlock()
	t.Logf("%d nodes: %d operations, %d failed or unknown; counter acked %d (+%d unknown); %d adds acked, %d removes acked",
		nodes, l.ops, l.failures, l.ackedIncr, l.unknownIncr, len(l.added), len(l.removed))
	if l.ops-l.failures < 200 {
		t.Fatalf("too few acknowledged operations to judge (%d of %d)", l.ops-l.failures, l.ops)
	}

	// Convergence: every node answers the same at ONE.
	type view struct {
		ctr     string
		members []string
		reg     string
	}
	read := func(p *serverProc) (view, error) {
		cli := redis.NewClient(&redis.Options{Addr: p.redisAddr, MaxRetries: -1})
		defer cli.Close()
		rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer rcancel()
		conn := cli.Conn()
		defer conn.Close()
		if err := conn.Do(rctx, "CAIRN.CONSISTENCY", "ONE").Err(); err != nil {
			return view{}, err
		}
		var v view
		var err error
		if v.ctr, err = conn.Get(rctx, "ctr").Result(); err != nil && err != redis.Nil {
			return v, err
		}
		if v.members, err = conn.SMembers(rctx, "set").Result(); err != nil {
			return v, err
		}
		sort.Strings(v.members)
		if v.reg, err = conn.Get(rctx, "reg").Result(); err != nil && err != redis.Nil {
			return v, err
		}
		return v, nil
	}
	var final view
	eventually(t, 30*time.Second, "every node answers the same", func() error {
		views := make([]view, nodes)
		for i, p := range c.procs {
			v, err := read(p)
			if err != nil {
				return fmt.Errorf("%s: %v", p.name, err)
			}
			views[i] = v
		}
		for i := 1; i < nodes; i++ {
			if views[i].ctr != views[0].ctr || views[i].reg != views[0].reg || !slices.Equal(views[i].members, views[0].members) {
				return fmt.Errorf("%s and %s differ: ctr %s/%s, reg %s/%s, %d/%d members", c.procs[0].name, c.procs[i].name,
					views[0].ctr, views[i].ctr, views[0].reg, views[i].reg, len(views[0].members), len(views[i].members))
			}
		}
		final = views[0]
		return nil
	})

	// No acknowledged write lost, nothing invented.
	ctr, _ := strconv.ParseInt(final.ctr, 10, 64)
	if ctr < l.ackedIncr || ctr > l.ackedIncr+l.unknownIncr {
		t.Errorf("counter %d, want between %d (acknowledged) and %d (with the unknown)", ctr, l.ackedIncr, l.ackedIncr+l.unknownIncr)
	}
	in := map[string]bool{}
	for _, m := range final.members {
		in[m] = true
		if !l.added[m] && !l.unknownAdd[m] {
			t.Errorf("member %s was never added", m)
		}
	}
	for m := range l.added {
		switch {
		case l.removed[m] && in[m]:
			t.Errorf("member %s is present after an acknowledged SREM", m)
		case !l.removed[m] && !l.unknownRem[m] && !in[m]:
			t.Errorf("member %s lost: its SADD was acknowledged", m)
		}
	}
	if final.reg != "" && !l.written[final.reg] {
		t.Errorf("register holds %q, which nobody wrote", final.reg)
	}
}

// chaosClient runs one client's operations against node p until ctx ends.
func chaosClient(ctx context.Context, p *serverProc, client int, l *chaosLedger) {
	cli := redis.NewClient(&redis.Options{Addr: p.redisAddr, MaxRetries: -1, DialTimeout: time.Second,
		ReadTimeout: 3 * time.Second, WriteTimeout: 3 * time.Second})
	defer cli.Close()
	rng := rand.New(rand.NewPCG(uint64(client), 11))
	var mine []string // acknowledged adds not yet removed
	for seq := 0; ctx.Err() == nil; seq++ {
		opCtx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		var err error
		switch op := rng.IntN(4); {
		case op == 0:
			n := int64(rng.IntN(5) + 1)
			err = cli.IncrBy(opCtx, "ctr", n).Err()
			l.mu.Lock()
			if err == nil {
				l.ackedIncr += n
			} else {
				l.unknownIncr += n
			}
			l.mu.Unlock()
		case op == 1 || len(mine) == 0:
			m := fmt.Sprintf("c%d-%d", client, seq)
			err = cli.SAdd(opCtx, "set", m).Err()
			l.mu.Lock()
			if err == nil {
				l.added[m] = true
				mine = append(mine, m)
			} else {
				l.unknownAdd[m] = true
			}
			l.mu.Unlock()
		case op == 2:
			m := mine[rng.IntN(len(mine))]
			mine = slices.DeleteFunc(mine, func(x string) bool { return x == m })
			err = cli.SRem(opCtx, "set", m).Err()
			l.mu.Lock()
			if err == nil {
				l.removed[m] = true
			} else {
				l.unknownRem[m] = true
			}
			l.mu.Unlock()
		default:
			v := fmt.Sprintf("c%d-%d", client, seq)
			l.mu.Lock()
			l.written[v] = true
			l.mu.Unlock()
			err = cli.Set(opCtx, "reg", v, 0).Err()
		}
		cancel()
		l.mu.Lock()
		l.ops++
		if err != nil {
			l.failures++
		}
		l.mu.Unlock()
		if err != nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
}

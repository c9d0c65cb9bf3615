package resp

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// go-redis v9 is the client the eventual tier's tests use. It connects with
// HELLO 3 (RESP3) by default, then pipelines CLIENT SETINFO LIB-NAME and
// LIB-VER; both must succeed for it to work unchanged.

func newGoRedis(t *testing.T, addr string, mutate func(*redis.Options)) *redis.Client {
	t.Helper()
	opt := &redis.Options{Addr: addr, DialTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	if mutate != nil {
		mutate(opt)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestGoRedis(t *testing.T) {
	for _, proto := range []int{3, 2} {
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) {
			ts := startServer(t, nil)
			ctx := context.Background()
			c := newGoRedis(t, ts.addr, func(o *redis.Options) { o.Protocol = proto; o.ClientName = "tester" })

			if err := c.Ping(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
				t.Fatal(err)
			}
			if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
				t.Fatalf("GET k: %q, %v", v, err)
			}
			if _, err := c.Get(ctx, "nosuch").Result(); err != redis.Nil {
				t.Fatalf("GET nosuch: %v, want redis.Nil", err)
			}
			for i := 1; i <= 3; i++ {
				if n, err := c.Incr(ctx, "n").Result(); err != nil || n != int64(i) {
					t.Fatalf("INCR: %d, %v", n, err)
				}
			}
			if err := c.Incr(ctx, "k").Err(); err == nil || err.Error() != "ERR value is not an integer or out of range" {
				t.Fatalf("INCR of a string: %v", err)
			}
			if vals, err := c.MGet(ctx, "k", "nosuch", "n").Result(); err != nil || fmt.Sprint(vals) != "[v <nil> 3]" {
				t.Fatalf("MGET: %v, %v", vals, err)
			}
			if n, err := c.Del(ctx, "k", "n", "nosuch").Result(); err != nil || n != 2 {
				t.Fatalf("DEL: %d, %v", n, err)
			}
			if v, err := c.Echo(ctx, "hello").Result(); err != nil || v != "hello" {
				t.Fatalf("ECHO: %q, %v", v, err)
			}
			if err := c.Do(ctx, "frobnicate", "a").Err(); err == nil ||
				err.Error() != "ERR unknown command 'frobnicate', with args beginning with: 'a' " {
				t.Fatalf("unknown command: %v", err)
			}
			if err := c.Do(ctx, "get").Err(); err == nil || err.Error() != "ERR wrong number of arguments for 'get' command" {
				t.Fatalf("wrong arity: %v", err)
			}

			// What go-redis sent at connect: HELLO with SETNAME, CLIENT SETINFO.
			if name, err := c.ClientGetName(ctx).Result(); err != nil || name != "tester" {
				t.Fatalf("CLIENT GETNAME: %q, %v", name, err)
			}
			info, err := c.ClientInfo(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			if info.Resp != proto || info.Name != "tester" || !strings.HasPrefix(info.LibName, "go-redis") ||
				info.LibVer != redis.Version() || info.ID < 1 || info.LastCmd != "client|info" {
				t.Fatalf("CLIENT INFO parsed as %+v", info)
			}
			if id, err := c.ClientID(ctx).Result(); err != nil || id != info.ID {
				t.Fatalf("CLIENT ID: %d, %v (INFO said %d)", id, err, info.ID)
			}
			hello, err := c.Do(ctx, "HELLO").Result()
			if err != nil {
				t.Fatal(err)
			}
			if proto == 3 {
				m, ok := hello.(map[any]any)
				if !ok || m["server"] != "redis" || m["proto"] != int64(3) || m["mode"] != "standalone" {
					t.Fatalf("HELLO in RESP3: %#v", hello)
				}
			} else if a, ok := hello.([]any); !ok || len(a) != 14 {
				t.Fatalf("HELLO in RESP2: %#v", hello)
			}

			cmds, err := c.Command(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			if g := cmds["get"]; g == nil || !g.ReadOnly || g.Arity != 2 || g.FirstKeyPos != 1 {
				t.Fatalf("COMMAND's get: %+v", g)
			}
			if s := cmds["set"]; s == nil || s.ReadOnly || s.Arity != -3 {
				t.Fatalf("COMMAND's set: %+v", s)
			}
			if _, ok := cmds["client"]; !ok {
				t.Fatal("COMMAND lacks client")
			}
		})
	}
}

func TestGoRedisPipeline(t *testing.T) {
	ts := startServer(t, nil)
	ctx := context.Background()
	c := newGoRedis(t, ts.addr, nil)
	const n = 500
	cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range n {
			p.Set(ctx, "p"+strconv.Itoa(i), i, 0)
			p.Incr(ctx, "pn")
			p.Get(ctx, "p"+strconv.Itoa(i))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if v := cmds[3*i+1].(*redis.IntCmd).Val(); v != int64(i+1) {
			t.Fatalf("INCR %d in the pipeline: %d", i, v)
		}
		if v := cmds[3*i+2].(*redis.StringCmd).Val(); v != strconv.Itoa(i) {
			t.Fatalf("GET %d in the pipeline: %q", i, v)
		}
	}
}

// Many clients at once, each with a pool of connections: every INCR is
// counted once.
func TestGoRedisConcurrentClients(t *testing.T) {
	ts := startServer(t, nil)
	ctx := context.Background()
	const clients, each = 8, 200
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		c := newGoRedis(t, ts.addr, func(o *redis.Options) { o.PoolSize = 4 })
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				if err := c.Incr(ctx, "shared").Err(); err != nil {
					errs <- err
					return
				}
				k := fmt.Sprintf("c%d-%d", i, j)
				if err := c.Set(ctx, k, k, 0).Err(); err != nil {
					errs <- err
					return
				}
				if v, err := c.Get(ctx, k).Result(); err != nil || v != k {
					errs <- fmt.Errorf("GET %s: %q, %v", k, v, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if v, _ := ts.store.value("shared"); v != strconv.Itoa(clients*each) {
		t.Fatalf("shared counter %s, want %d", v, clients*each)
	}
}

func TestGoRedisPassword(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Password = "secret" })
	ctx := context.Background()
	for _, proto := range []int{3, 2} {
		good := newGoRedis(t, ts.addr, func(o *redis.Options) { o.Password = "secret"; o.Protocol = proto })
		if err := good.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatalf("RESP%d with the password: %v", proto, err)
		}
	}
	none := newGoRedis(t, ts.addr, func(o *redis.Options) { o.MaxRetries = -1 })
	if err := none.Get(ctx, "k").Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Fatalf("without the password: %v", err)
	}
	wrong := newGoRedis(t, ts.addr, func(o *redis.Options) { o.Password = "nope"; o.MaxRetries = -1 })
	if err := wrong.Get(ctx, "k").Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Fatalf("with a wrong password: %v", err)
	}
}

// A large value through go-redis, both ways.
func TestGoRedisLargeValue(t *testing.T) {
	ts := startServer(t, nil)
	ctx := context.Background()
	c := newGoRedis(t, ts.addr, nil)
	big := strings.Repeat("x", 8<<20)
	if err := c.Set(ctx, "big", big, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, "big").Result(); err != nil || v != big {
		t.Fatalf("GET big: %d bytes, %v", len(v), err)
	}
	// Over MaxBulkBytes: the server answers the header with a protocol
	// error and closes, while go-redis is still writing the value, so the
	// client sees either that error or the broken connection.
	small := startServer(t, func(c *Config) { c.Limits.MaxBulkBytes = 1 << 20; c.Limits.MaxCommandBytes = 2 << 20 })
	sc := newGoRedis(t, small.addr, func(o *redis.Options) { o.MaxRetries = -1 })
	if err := sc.Set(ctx, "big", big, 0).Err(); err == nil {
		t.Fatal("SET over MaxBulkBytes succeeded")
	}
	if n := counterValue(t, small.reg, "cairn_resp_protocol_errors_total"); n != 1 {
		t.Fatalf("%v protocol errors counted, want 1", n)
	}
}

package commands

import (
	"context"
	"io"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/clock"
	"github.com/cairndb/cairn/eventual/coord"
	"github.com/cairndb/cairn/eventual/replica"
	"github.com/cairndb/cairn/eventual/resp"
	"github.com/cairndb/cairn/ring"
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/redis/go-redis/v9"
)

type oneNode struct{ r *ring.Ring }

func (o oneNode) Ring() *ring.Ring { return o.r }
func (oneNode) Alive(uint64) bool  { return true }

type noPeers struct{}

func (noPeers) Send(uint64, []byte) bool { return false }

// startNode serves the command set of a one-node eventual tier (real
// store, coordinator and RESP server) and returns a go-redis client.
func startNode(t *testing.T) *redis.Client {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := pebble.Open("db", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	store, err := replica.Open(replica.Config{DB: db, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	r, err := ring.New([]ring.Node{{ID: coord.NodeID(1), Weight: 1}}, ring.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	co, err := coord.New(coord.Config{LocalID: 1, Store: store, Sender: noPeers{}, Clock: clock.NewHLC(clock.SystemClock{}, time.Second),
		Membership: oneNode{r}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	svc := New(Config{Coordinator: co})
	rcfg := resp.DefaultConfig()
	rcfg.Addr, rcfg.Commands, rcfg.Logger = "127.0.0.1:0", svc.Table(), quiet
	srv, err := resp.New(rcfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	cli := redis.NewClient(&redis.Options{Addr: srv.Addr().String()})
	t.Cleanup(func() { cli.Close(); srv.Close(); co.Close(); store.Close(); db.Close() })
	return cli
}

func TestRedisCommandsThroughGoRedis(t *testing.T) {
	cli := startNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(cli.Set(ctx, "s", "v1", 0).Err())
	if v := cli.Get(ctx, "s").Val(); v != "v1" {
		t.Fatalf("GET = %q", v)
	}
	if err := cli.Get(ctx, "missing").Err(); err != redis.Nil {
		t.Fatalf("GET missing: %v", err)
	}
	if v, err := cli.SetArgs(ctx, "s", "v2", redis.SetArgs{Get: true}).Result(); err != nil || v != "v1" {
		t.Fatalf("SET GET = %q %v", v, err)
	}
	// Compare-and-set through Paxos (one replica here).
	if ok, err := cli.SetNX(ctx, "lock", "a", 0).Result(); err != nil || !ok {
		t.Fatalf("SETNX on a new key = %v, %v", ok, err)
	}
	if ok, err := cli.SetNX(ctx, "lock", "b", 0).Result(); err != nil || ok {
		t.Fatalf("SETNX on an existing key = %v, %v", ok, err)
	}
	if ok := cli.SetXX(ctx, "lock", "c", 0).Val(); !ok {
		t.Fatal("SET XX on an existing key did not set")
	}
	if n := cli.Do(ctx, "CAIRN.CAS", "lock", "wrong", "d").Val(); n != int64(0) {
		t.Fatalf("CAS with a wrong expectation = %v", n)
	}
	if n := cli.Do(ctx, "CAIRN.CAS", "lock", "c", "d").Val(); n != int64(1) {
		t.Fatalf("CAS = %v", n)
	}
	if v := cli.Do(ctx, "CAIRN.LGET", "lock").Val(); v != "d" {
		t.Fatalf("LGET = %v", v)
	}
	// The commit reaches the plain read path asynchronously.
	for deadline := time.Now().Add(10 * time.Second); cli.Get(ctx, "lock").Val() != "d"; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("GET of a CAS-written key = %q", cli.Get(ctx, "lock").Val())
		}
	}
	if n := cli.Do(ctx, "CAIRN.CAD", "lock", "d").Val(); n != int64(1) {
		t.Fatalf("CAD = %v", n)
	}
	// The lock idiom: SET NX PX, held until it expires.
	if ok := cli.SetArgs(ctx, "lock", "e", redis.SetArgs{Mode: "NX", TTL: 300 * time.Millisecond}).Val(); ok != "OK" {
		t.Fatalf("SET NX PX on a free lock = %q", ok)
	}
	if err := cli.SetArgs(ctx, "lock", "f", redis.SetArgs{Mode: "NX", TTL: time.Second}).Err(); err != redis.Nil {
		t.Fatalf("SET NX on a held lock: %v", err)
	}
	time.Sleep(350 * time.Millisecond)
	if ok := cli.SetArgs(ctx, "lock", "g", redis.SetArgs{Mode: "NX", TTL: time.Second}).Val(); ok != "OK" {
		t.Fatalf("SET NX after the lock expired = %q", ok)
	}
	must(cli.Set(ctx, "ttl", "v", 10*time.Second).Err())
	if d := cli.TTL(ctx, "ttl").Val(); d < 9*time.Second || d > 10*time.Second {
		t.Fatalf("TTL = %v", d)
	}
	if d := cli.PTTL(ctx, "ttl").Val(); d <= 9*time.Second {
		t.Fatalf("PTTL = %v", d)
	}
	must(cli.Persist(ctx, "ttl").Err())
	if d := cli.TTL(ctx, "ttl").Val(); d != -1 {
		t.Fatalf("TTL after PERSIST = %v", d)
	}
	must(cli.PExpire(ctx, "ttl", 50*time.Millisecond).Err())
	time.Sleep(120 * time.Millisecond)
	if n := cli.Exists(ctx, "ttl").Val(); n != 0 {
		t.Fatal("an expired key exists")
	}
	// Counters.
	for range 5 {
		must(cli.Incr(ctx, "c").Err())
	}
	if v := cli.DecrBy(ctx, "c", 2).Val(); v != 3 {
		t.Fatalf("DECRBY = %d", v)
	}
	if v := cli.Get(ctx, "c").Val(); v != "3" {
		t.Fatalf("GET counter = %q", v)
	}
	if err := cli.Incr(ctx, "s").Err(); err == nil || !strings.Contains(err.Error(), "not an integer") {
		t.Fatalf("INCR on a non-integer: %v", err)
	}
	// Sets.
	if n := cli.SAdd(ctx, "set", "a", "b", "a").Val(); n != 2 {
		t.Fatalf("SADD = %d", n)
	}
	m := cli.SMembers(ctx, "set").Val()
	sort.Strings(m)
	if strings.Join(m, ",") != "a,b" {
		t.Fatalf("SMEMBERS = %v", m)
	}
	if err := cli.Get(ctx, "set").Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
		t.Fatalf("GET on a set: %v", err)
	}
	if typ := cli.Type(ctx, "set").Val(); typ != "set" {
		t.Fatalf("TYPE = %q", typ)
	}
	// Hashes.
	must(cli.HSet(ctx, "h", "f1", "1", "f2", "2").Err())
	if v := cli.HGetAll(ctx, "h").Val(); len(v) != 2 || v["f2"] != "2" {
		t.Fatalf("HGETALL = %v", v)
	}
	if n := cli.HDel(ctx, "h", "f1", "nope").Val(); n != 1 {
		t.Fatalf("HDEL = %d", n)
	}
	// DEL, MSET/MGET, a pipeline.
	if n := cli.Del(ctx, "s", "set", "nope").Val(); n != 2 {
		t.Fatalf("DEL = %d", n)
	}
	must(cli.MSet(ctx, "m1", "a", "m2", "b").Err())
	if v := cli.MGet(ctx, "m1", "nope", "m2").Val(); len(v) != 3 || v[0] != "a" || v[1] != nil || v[2] != "b" {
		t.Fatalf("MGET = %v", v)
	}
	pipe := cli.Pipeline()
	for range 50 {
		pipe.Incr(ctx, "pc")
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if v := cli.Get(ctx, "pc").Val(); v != "50" {
		t.Fatalf("pipelined INCRs = %q", v)
	}
	// Consistency levels per connection.
	conn := cli.Conn()
	defer conn.Close()
	must(conn.Do(ctx, "CAIRN.CONSISTENCY", "ONE", "ALL").Err())
	lv, err := conn.Do(ctx, "CAIRN.CONSISTENCY").Result()
	if err != nil || !strings.Contains(strings.ToUpper(toString(lv)), "ALL") {
		t.Fatalf("CONSISTENCY = %v %v", lv, err)
	}
	if err := conn.Do(ctx, "CAIRN.CONSISTENCY", "SOME").Err(); err == nil {
		t.Fatal("an unknown level was accepted")
	}
	if keys := cli.Keys(ctx, "m*").Val(); len(keys) != 2 {
		t.Fatalf("KEYS m* = %v", keys)
	}
	if n := cli.DBSize(ctx).Val(); n < 5 {
		t.Fatalf("DBSIZE = %d", n)
	}
	var scanned []string
	for cursor := uint64(0); ; {
		keys, next, err := cli.Scan(ctx, cursor, "", 2).Result()
		if err != nil {
			t.Fatal(err)
		}
		scanned = append(scanned, keys...)
		if next == 0 {
			break
		}
		cursor = next
	}
	if int64(len(scanned)) != cli.DBSize(ctx).Val() {
		t.Fatalf("SCAN listed %d keys, DBSIZE says %d", len(scanned), cli.DBSize(ctx).Val())
	}
	if info := cli.Info(ctx).Val(); !strings.Contains(info, "redis_version") {
		t.Fatalf("INFO = %q", info)
	}
}

func toString(v any) string {
	var b strings.Builder
	switch x := v.(type) {
	case map[any]any:
		for k, v := range x {
			b.WriteString(toString(k) + "=" + toString(v) + " ")
		}
	case []any:
		for _, e := range x {
			b.WriteString(toString(e) + " ")
		}
	case string:
		b.WriteString(x)
	}
	return b.String()
}

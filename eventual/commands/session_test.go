package commands

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/cairndb/cairn/clock"
	"github.com/cairndb/cairn/eventual/coord"
	"github.com/cairndb/cairn/eventual/object"
	"github.com/cairndb/cairn/eventual/resp"
	"github.com/redis/go-redis/v9"
)

// TestSessionStateCoversStaleReads: a read from a replica that missed the
// session's write still shows it, and the window is bounded.
func TestSessionStateCoversStaleReads(t *testing.T) {
	c := newSeenCache(2)
	var o object.Object
	st := object.Stamp{Replica: 1, TS: clock.Timestamp{WallTime: 1e12}}
	delta, _ := o.Set(st, []byte("mine"), object.SetOptions{})
	c.merge([]byte("k"), delta)
	stale := object.Object{} // a replica that never got the write
	got := c.merge([]byte("k"), stale)
	if v, ok, _ := got.Get(1e6); !ok || string(v) != "mine" {
		t.Fatalf("read after own write = %q %v", v, ok)
	}
	// A newer state read from a replica sticks (monotonic reads).
	newer := o.Clone()
	st.TS.WallTime += 1e9
	newer.Set(st, []byte("theirs"), object.SetOptions{})
	c.merge([]byte("k"), newer)
	if v, _, _ := c.merge([]byte("k"), stale).Get(1e6); string(v) != "theirs" {
		t.Fatalf("monotonic read went back to %q", v)
	}
	for i := range 3 {
		c.merge([]byte(fmt.Sprint("other", i)), delta)
	}
	if c.order.Len() != 2 || c.byKey["k"] != nil {
		t.Fatalf("the window holds %d keys (k kept: %v)", c.order.Len(), c.byKey["k"] != nil)
	}
}

// TestCausalTokenCarriesWritesAcrossConnections: a second connection that
// takes the first one's token reads the first one's write even from a
// replica that never received it (here: the state is only in the token).
func TestCausalTokenCarriesWritesAcrossConnections(t *testing.T) {
	cli := startNode(t)
	ctx := context.Background()
	a, b := cli.Conn(), cli.Conn()
	defer a.Close()
	defer b.Close()
	if err := a.SAdd(ctx, "s", "x").Err(); err != nil {
		t.Fatal(err)
	}
	tok, err := a.Do(ctx, "CAIRN.TOKEN").Text()
	if err != nil || tok == "" {
		t.Fatalf("CAIRN.TOKEN = %q, %v", tok, err)
	}
	if err := b.Do(ctx, "CAIRN.AFTER", tok).Err(); err != nil {
		t.Fatal(err)
	}
	if err := b.Do(ctx, "CAIRN.AFTER", "not-a-token").Err(); err == nil {
		t.Fatal("a malformed token was accepted")
	}
	if ok := b.SIsMember(ctx, "s", "x").Val(); !ok {
		t.Fatal("the second connection does not see the first one's write")
	}
}

// staleCoordinator writes nowhere but answers writes with their delta, and
// reads as a replica that never received anything: what a connection then
// reads comes only from its session state.
type staleCoordinator struct{}

func (staleCoordinator) Write(_ context.Context, _ []byte, op coord.Op, _ coord.Level) (coord.Result, error) {
	o := op.Seen // a remove sees only what the connection sent along
	st := object.Stamp{Replica: 1, TS: clock.Timestamp{WallTime: time.Now().UnixNano()}}
	var d object.Object
	var n int
	var err error
	switch op.Code {
	case coord.OpSAdd:
		d, n, err = o.SAdd(st, op.Members...)
	case coord.OpSRem:
		d, n, err = o.SRem(st, op.Members...)
	default:
		return coord.Result{}, fmt.Errorf("op %d not in this stub", op.Code)
	}
	return coord.Result{N: int64(n), Delta: d}, err
}

func (staleCoordinator) Read(context.Context, []byte, coord.Level) (object.Object, error) {
	return object.Object{}, nil
}

func TestSessionAndTokenOverAStaleReplica(t *testing.T) {
	svc := New(Config{Coordinator: staleCoordinator{}})
	rcfg := resp.DefaultConfig()
	rcfg.Addr, rcfg.Commands = "127.0.0.1:0", svc.Table()
	rcfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := resp.New(rcfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cli := redis.NewClient(&redis.Options{Addr: srv.Addr().String()})
	defer cli.Close()
	ctx := context.Background()
	a, b, c := cli.Conn(), cli.Conn(), cli.Conn()
	defer a.Close()
	defer b.Close()
	defer c.Close()
	if err := a.SAdd(ctx, "s", "x").Err(); err != nil {
		t.Fatal(err)
	}
	if !a.SIsMember(ctx, "s", "x").Val() {
		t.Fatal("read-your-writes failed over a stale replica")
	}
	if c.SIsMember(ctx, "s", "x").Val() {
		t.Fatal("a connection without the token sees the write: the stub is not stale")
	}
	tok := a.Do(ctx, "CAIRN.TOKEN").Val().(string)
	if err := b.Do(ctx, "CAIRN.AFTER", tok).Err(); err != nil {
		t.Fatal(err)
	}
	if !b.SIsMember(ctx, "s", "x").Val() {
		t.Fatal("CAIRN.AFTER did not make the write visible")
	}
	// Remove-your-writes: an SREM carries the session, so even a replica
	// that never saw the SADD removes the member; a connection without
	// the session removes nothing there.
	if n := c.SRem(ctx, "s", "x").Val(); n != 0 {
		t.Fatalf("SREM without the session removed %d over a stale replica", n)
	}
	if n := a.SRem(ctx, "s", "x").Val(); n != 1 {
		t.Fatalf("SREM by the connection that added removed %d, want 1", n)
	}
	if a.SIsMember(ctx, "s", "x").Val() {
		t.Fatal("the member is still there for the connection that removed it")
	}
}

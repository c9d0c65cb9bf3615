package coord

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairndb/cairn/clock"
	"github.com/cairndb/cairn/eventual/merkle"
	"github.com/cairndb/cairn/eventual/object"
	"github.com/cairndb/cairn/eventual/replica"
	"github.com/cairndb/cairn/ring"
	"github.com/cairndb/cairn/transport"
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"google.golang.org/grpc"
)

// testMembership is a ring of fixed nodes with liveness set by the test.
type testMembership struct {
	r    *ring.Ring
	mu   sync.Mutex
	dead map[uint64]bool
}

func (m *testMembership) Ring() *ring.Ring { return m.r }
func (m *testMembership) Alive(id uint64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.dead[id]
}
func (m *testMembership) setDead(id uint64, dead bool) {
	m.mu.Lock()
	m.dead[id] = dead
	m.mu.Unlock()
}

// handlerRef lets the transport start before the coordinator exists, and
// outlive it when a test replaces the node's store and coordinator.
type handlerRef struct{ c atomic.Pointer[Coordinator] }

func (h *handlerRef) HandleFrames(from uint64, frames [][]byte) {
	h.c.Load().HandleFrames(from, frames)
}
func (h *handlerRef) HandleSnapshot(ctx context.Context, from uint64, hdr []byte, body io.Reader) error {
	return h.c.Load().HandleSnapshot(ctx, from, hdr, body)
}

type testNode struct {
	id    uint64
	co    *Coordinator
	store *replica.Store
	tr    *transport.Transport
	ref   *handlerRef
	n     int    // replicas per key
	stop  func() // stops the coordinator and closes the store
}

type testCluster struct {
	nodes  []*testNode
	mem    []*testMembership // each node's own view
	faults *transport.Faults
}

// newTestCluster starts size nodes with real transports on loopback and
// stores on in-memory Pebble; every key has n replicas.
func newTestCluster(t *testing.T, size, n int) *testCluster {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var rnodes []ring.Node
	for i := range size {
		rnodes = append(rnodes, ring.Node{ID: NodeID(uint64(i + 1)), Weight: 1})
	}
	r, err := ring.New(rnodes, ring.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	tc := &testCluster{faults: transport.NewFaults(1)}
	addrs := make([]string, size)
	for i := range size {
		id := uint64(i + 1)
		ref := &handlerRef{}
		tcfg := transport.DefaultConfig()
		tcfg.LocalID, tcfg.ClusterID, tcfg.Handler, tcfg.Channel = id, 99, ref, "eventual"
		tcfg.Logger, tcfg.Faults = quiet, tc.faults
		tr, err := transport.New(tcfg)
		if err != nil {
			t.Fatal(err)
		}
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = lis.Addr().String()
		srv := grpc.NewServer(tr.ServerOptions()...)
		tr.Register(srv)
		go func() { _ = srv.Serve(lis) }()
		mem := &testMembership{r: r, dead: map[uint64]bool{}}
		tc.mem = append(tc.mem, mem)
		nd := &testNode{id: id, tr: tr, ref: ref, n: n}
		tc.nodes = append(tc.nodes, nd)
		tc.startNode(t, nd, true)
		t.Cleanup(func() { _ = tr.Close(); srv.Stop() })
	}
	for _, nd := range tc.nodes {
		for j, addr := range addrs {
			if uint64(j+1) != nd.id {
				if err := nd.tr.AddPeer(uint64(j+1), addr); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return tc
}

// startNode gives nd a new, empty store on in-memory Pebble and a
// coordinator over it (a new cluster's member, or one wiped and added back).
func (tc *testCluster) startNode(t *testing.T, nd *testNode, newCluster bool) {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := pebble.Open("db", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	trees := NewTrees(merkle.DefaultConfig())
	store, err := replica.Open(replica.Config{DB: db, Logger: quiet, Observer: trees})
	if err != nil {
		t.Fatal(err)
	}
	co, err := New(Config{LocalID: nd.id, Store: store, Sender: nd.tr, Clock: clock.NewHLC(clock.SystemClock{}, 500*time.Millisecond),
		Membership: tc.mem[nd.id-1], Replicas: nd.n, RequestTimeout: time.Second, HintReplayInterval: 50 * time.Millisecond, Logger: quiet,
		Trees: trees, AntiEntropyInterval: time.Hour, NewCluster: newCluster})
	if err != nil {
		t.Fatal(err)
	}
	nd.co, nd.store = co, store
	nd.stop = sync.OnceFunc(func() { co.Close(); _ = store.Close(); _ = db.Close() })
	nd.ref.c.Store(co)
	t.Cleanup(nd.stop)
}

// replace wipes node id and starts it again empty, as a member removed,
// wiped and added back: not a new cluster's member.
func (tc *testCluster) replace(t *testing.T, id uint64) {
	t.Helper()
	nd := tc.nodes[id-1]
	nd.stop()
	tc.startNode(t, nd, false)
}

// outsider returns a node that is not among prefs, a key's replicas.
func (tc *testCluster) outsider(prefs []uint64) *testNode {
	for _, nd := range tc.nodes {
		if !contains(prefs, nd.id) {
			return nd
		}
	}
	return nil
}

// down partitions node id away and tells every view it is dead.
func (tc *testCluster) down(id uint64) {
	tc.faults.Partition(id)
	for _, m := range tc.mem {
		m.setDead(id, true)
	}
}

func (tc *testCluster) up(id uint64) {
	tc.faults.Heal()
	for _, m := range tc.mem {
		m.setDead(id, false)
	}
}

func tctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func getString(t *testing.T, o object.Object) string {
	t.Helper()
	v, ok, err := o.Get(time.Now().UnixMilli())
	if err != nil || !ok {
		t.Fatalf("value missing: ok=%v err=%v", ok, err)
	}
	return string(v)
}

func TestWriteQuorumReadAllAcrossNodes(t *testing.T) {
	tc := newTestCluster(t, 3, 3)
	ctx := tctx(t)
	if _, err := tc.nodes[0].co.Write(ctx, []byte("k"), Op{Code: OpSet, Value: []byte("v1")}, LevelQuorum); err != nil {
		t.Fatal(err)
	}
	o, err := tc.nodes[1].co.Read(ctx, []byte("k"), LevelAll)
	if err != nil {
		t.Fatal(err)
	}
	if got := getString(t, o); got != "v1" {
		t.Fatalf("read %q", got)
	}
	// Concurrent increments through every node add up.
	var wg sync.WaitGroup
	for _, nd := range tc.nodes {
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := nd.co.Write(ctx, []byte("ctr"), Op{Code: OpIncr, N: 1}, LevelQuorum); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	o, err = tc.nodes[2].co.Read(ctx, []byte("ctr"), LevelAll)
	if err != nil {
		t.Fatal(err)
	}
	if got := getString(t, o); got != "60" {
		t.Fatalf("counter %s, want 60", got)
	}
}

func TestDownReplicaGetsItsWritesByHintedHandoff(t *testing.T) {
	tc := newTestCluster(t, 3, 3)
	ctx := tctx(t)
	tc.down(3)
	if _, err := tc.nodes[0].co.Write(ctx, []byte("k"), Op{Code: OpSAdd, Members: []string{"a"}}, LevelQuorum); err != nil {
		t.Fatal(err)
	}
	_, err := tc.nodes[0].co.Write(ctx, []byte("k"), Op{Code: OpSAdd, Members: []string{"b"}}, LevelAll)
	var un *UnavailableError
	if !errors.As(err, &un) || un.Need != 3 || un.Answered != 2 || un.Replicas != 3 {
		t.Fatalf("ALL with a replica down: %v", err)
	}
	if _, err := tc.nodes[1].co.Read(ctx, []byte("k"), LevelAll); !errors.As(err, &un) {
		t.Fatalf("read ALL with a replica down: %v", err)
	}
	if o, _ := tc.nodes[2].store.Get([]byte("k")); o.Visible(time.Now().UnixMilli()) {
		t.Fatal("the partitioned replica got the write")
	}
	tc.up(3)
	deadline := time.Now().Add(15 * time.Second)
	for {
		o, _ := tc.nodes[2].store.Get([]byte("k"))
		if m, _ := o.Members(time.Now().UnixMilli()); len(m) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("hints were not replayed to the replica that came back")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestReadRepairsReplicasThatWereBehind(t *testing.T) {
	tc := newTestCluster(t, 3, 3)
	ctx := tctx(t)
	// Only node 1's store holds the write (as if its shipping was lost).
	st := object.Stamp{Replica: tc.nodes[0].store.ReplicaID(), TS: tc.nodes[0].co.cfg.Clock.Now()}
	if _, err := tc.nodes[0].store.Mutate([]byte("k"), func(o *object.Object) (object.Object, error) {
		return o.Set(st, []byte("only-on-1"), object.SetOptions{})
	}); err != nil {
		t.Fatal(err)
	}
	o, err := tc.nodes[1].co.Read(ctx, []byte("k"), LevelAll)
	if err != nil || getString(t, o) != "only-on-1" {
		t.Fatalf("read ALL: %v", err)
	}
	want, _ := tc.nodes[0].store.Get([]byte("k"))
	for _, nd := range tc.nodes[1:] {
		got, _ := nd.store.Get([]byte("k"))
		if !got.Equal(want) {
			t.Fatalf("node %d was not repaired by a read at ALL", nd.id)
		}
	}
}

func TestForwardingAndSloppyQuorumOnALargerRing(t *testing.T) {
	tc := newTestCluster(t, 5, 3)
	ctx := tctx(t)
	key := []byte("some-key")
	prefs, fallbacks := tc.nodes[0].co.placement(key)
	outsider := tc.outsider(prefs)
	if _, err := outsider.co.Write(ctx, key, Op{Code: OpSet, Value: []byte("x")}, LevelAll); err != nil {
		t.Fatalf("forwarded write: %v", err)
	}
	for _, p := range prefs {
		o, _ := tc.nodes[p-1].store.Get(key)
		if getString(t, o) != "x" {
			t.Fatalf("replica %d lacks the forwarded write", p)
		}
	}
	// With a replica down, a fallback takes the write as a hint: QUORUM
	// and even ALL (hinted stand-ins count, as in Dynamo) succeed.
	tc.down(prefs[2])
	if _, err := tc.nodes[prefs[0]-1].co.Write(ctx, key, Op{Code: OpSet, Value: []byte("y")}, LevelAll); err != nil {
		t.Fatalf("sloppy write: %v", err)
	}
	fb := fallbacks[0]
	if fb == prefs[2] {
		t.Fatal("fallback is the down node")
	}
	if targets := tc.nodes[fb-1].store.HintTargets(); len(targets) != 1 || targets[0] != prefs[2] {
		t.Fatalf("fallback %d holds hints for %v, want [%d]", fb, targets, prefs[2])
	}
	tc.up(prefs[2])
	deadline := time.Now().Add(15 * time.Second)
	for {
		o, _ := tc.nodes[prefs[2]-1].store.Get(key)
		if v, ok, _ := o.Get(time.Now().UnixMilli()); ok && string(v) == "y" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the fallback's hint did not reach the replica")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAntiEntropyRepairsWhatNothingElseDid writes keys straight into one
// replica's store (no shipping, no hints), then runs anti-entropy: every
// replica ends with equal state, in both directions.
func TestAntiEntropyRepairsWhatNothingElseDid(t *testing.T) {
	tc := newTestCluster(t, 3, 3)
	// Wait for every node to build its trees.
	deadline := time.Now().Add(15 * time.Second)
	for _, nd := range tc.nodes {
		for len(nd.co.cfg.Trees.current().arcs) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("trees were not built")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	write := func(nd *testNode, key string) {
		st := object.Stamp{Replica: nd.store.ReplicaID(), TS: nd.co.cfg.Clock.Now()}
		if _, err := nd.store.Mutate([]byte(key), func(o *object.Object) (object.Object, error) {
			d, _, err := o.SAdd(st, key+"@"+string(NodeID(nd.id)))
			return d, err
		}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 300 {
		write(tc.nodes[0], fmt.Sprint("a", i))
	}
	for i := range 50 {
		write(tc.nodes[2], fmt.Sprint("a", i)) // concurrent adds on another replica
		write(tc.nodes[2], fmt.Sprint("c", i))
	}
	if err := tc.nodes[1].co.SyncArcs(); err != nil {
		t.Fatal(err)
	}
	if err := tc.nodes[0].co.SyncArcs(); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		for _, k := range []string{fmt.Sprint("a", i), fmt.Sprint("c", i%50)} {
			want, _ := tc.nodes[0].store.Get([]byte(k))
			for _, nd := range tc.nodes[1:] {
				got, _ := nd.store.Get([]byte(k))
				if !got.Equal(want) {
					t.Fatalf("key %s differs on node %d after anti-entropy", k, nd.id)
				}
			}
		}
	}
	// The trees agree too: a second pass finds nothing to repair.
	for _, nd := range tc.nodes {
		for _, a := range nd.co.cfg.Trees.current().arcs {
			for _, p := range a.peers {
				other := tc.nodes[p-1].co.cfg.Trees.current().byRng[a.tree.Range()]
				a.mu.Lock()
				other.mu.Lock()
				diff, err := merkle.Diff(a.tree, other.tree)
				other.mu.Unlock()
				a.mu.Unlock()
				if err != nil || len(diff) != 0 {
					t.Fatalf("trees of node %d and %d differ on %v after repair: %v %v", nd.id, p, a.arc, diff, err)
				}
			}
		}
	}
}

// TestUnansweredApplyLeavesAHint: a replica that the views still think
// alive but that never answers gets the write later, from the hint its
// coordinator kept when the apply failed (the callback path of startThen).
func TestUnansweredApplyLeavesAHint(t *testing.T) {
	tc := newTestCluster(t, 3, 3)
	ctx := tctx(t)
	tc.faults.Partition(3)
	if _, err := tc.nodes[0].co.Write(ctx, []byte("k"), Op{Code: OpSet, Value: []byte("v")}, LevelOne); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // past the request timeout: the apply to node 3 failed
	if o, _ := tc.nodes[2].store.Get([]byte("k")); o.Visible(time.Now().UnixMilli()) {
		t.Fatal("the partitioned replica got the write")
	}
	if !slices.Contains(tc.nodes[0].store.HintTargets(), 3) {
		t.Fatalf("the coordinator holds hints for %v, not for node 3", tc.nodes[0].store.HintTargets())
	}
	tc.faults.Heal()
	deadline := time.Now().Add(15 * time.Second)
	for {
		o, _ := tc.nodes[2].store.Get([]byte("k"))
		if v, ok, _ := o.Get(time.Now().UnixMilli()); ok && string(v) == "v" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no hint was kept for the replica that did not answer")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRemoveAtQuorumRemovesWhatAQuorumAcknowledged: a replica that missed
// an SADD acknowledged at QUORUM (its hint is still held) coordinates an
// SREM of that member at QUORUM. The remove merges a read quorum first, so
// it sees the member and removes it: removed on every replica, not
// resurrected when the hint arrives.
func TestRemoveAtQuorumRemovesWhatAQuorumAcknowledged(t *testing.T) {
	tc := newTestCluster(t, 3, 3)
	ctx := tctx(t)
	tc.faults.Partition(3)
	tc.mem[0].setDead(3, true) // node 1 holds node 3's hint while it thinks 3 is down
	tc.mem[1].setDead(3, true)
	if _, err := tc.nodes[0].co.Write(ctx, []byte("s"), Op{Code: OpSAdd, Members: []string{"a"}}, LevelQuorum); err != nil {
		t.Fatal(err)
	}
	tc.faults.Heal()
	tc.mem[1].setDead(3, false)
	if o, _ := tc.nodes[2].store.Get([]byte("s")); o.Visible(time.Now().UnixMilli()) {
		t.Fatal("node 3 got the SADD: the test needs it to have missed it")
	}
	res, err := tc.nodes[2].co.Write(ctx, []byte("s"), Op{Code: OpSRem, Members: []string{"a"}}, LevelQuorum)
	if err != nil {
		t.Fatal(err)
	}
	if res.N != 1 {
		t.Fatalf("SREM at QUORUM removed %d members, want 1: it did not see the acknowledged SADD", res.N)
	}
	tc.mem[0].setDead(3, false) // the hint goes to node 3 now
	time.Sleep(300 * time.Millisecond)
	o, err := tc.nodes[1].co.Read(ctx, []byte("s"), LevelAll)
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := o.Members(time.Now().UnixMilli()); len(m) != 0 {
		t.Fatalf("members %v after an acknowledged SREM", m)
	}
}

// TestRemoveCarriesWhatTheConnectionSaw: at ONE, a remove forwarded to a
// replica that missed the add still removes it when the request carries
// what the connection saw (Op.Seen, its session); without it the remove
// sees nothing to remove.
func TestRemoveCarriesWhatTheConnectionSaw(t *testing.T) {
	tc := newTestCluster(t, 5, 3)
	ctx := tctx(t)
	key := []byte("some-set")
	prefs, _ := tc.nodes[0].co.placement(key)
	outsider := tc.outsider(prefs)
	// prefs[0], the replica the outsider forwards to, misses the adds;
	// prefs[1] coordinates them and, seeing no other live node, keeps the
	// hint itself, for a replica it still thinks is down.
	missing, coordinator := prefs[0], tc.nodes[prefs[1]-1]
	tc.faults.Partition(missing)
	for _, nd := range tc.nodes {
		if nd.id != prefs[1] && nd.id != prefs[2] {
			tc.mem[prefs[1]-1].setDead(nd.id, true)
		}
	}
	var seen object.Object
	for _, m := range []string{"a", "b"} {
		res, err := coordinator.co.Write(ctx, key, Op{Code: OpSAdd, Members: []string{m}}, LevelQuorum)
		if err != nil {
			t.Fatal(err)
		}
		seen.Merge(res.Delta)
	}
	tc.faults.Heal()
	res, err := outsider.co.Write(ctx, key, Op{Code: OpSRem, Members: []string{"a"}}, LevelOne)
	if err != nil || res.N != 0 {
		t.Fatalf("forwarded SREM at ONE without the session removed %d (%v): want 0, the replica never saw the add", res.N, err)
	}
	res, err = outsider.co.Write(ctx, key, Op{Code: OpSRem, Members: []string{"a"}, Seen: seen.Clone()}, LevelOne)
	if err != nil || res.N != 1 {
		t.Fatalf("forwarded SREM at ONE with the session removed %d (%v), want 1", res.N, err)
	}
	o, _ := tc.nodes[missing-1].store.Get(key)
	if m, _ := o.Members(time.Now().UnixMilli()); len(m) != 1 || m[0] != "b" {
		t.Fatalf("the replica holds %v, want [b]", m)
	}
}

package watch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// testServer is a real gRPC server on loopback serving the Watch service
// over a Hub on a fakeSource.
type testServer struct {
	hub  *Hub
	src  *fakeSource
	reg  *prometheus.Registry
	addr string
}

func testHeader(rev int64) *etcdserverpb.ResponseHeader {
	return &etcdserverpb.ResponseHeader{ClusterId: 11, MemberId: 22, Revision: rev, RaftTerm: 33}
}

func startServer(t testing.TB, mod func(*Options), smod func(*ServiceOptions)) *testServer {
	t.Helper()
	reg := prometheus.NewRegistry()
	h, src := newTestHub(t, func(o *Options) {
		o.Registerer = reg
		if mod != nil {
			mod(o)
		}
	})
	sopts := DefaultServiceOptions()
	if smod != nil {
		smod(&sopts)
	}
	svc, err := NewService(h, testHeader, sopts)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	etcdserverpb.RegisterWatchServer(g, svc)
	go g.Serve(lis)
	t.Cleanup(g.Stop)
	return &testServer{hub: h, src: src, reg: reg, addr: lis.Addr().String()}
}

func (ts *testServer) client(t testing.TB) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{ts.addr}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rawStream opens a bare gRPC Watch stream, for what clientv3 hides.
func (ts *testServer) rawStream(t testing.TB, ctx context.Context) etcdserverpb.Watch_WatchClient {
	t.Helper()
	conn, err := grpc.NewClient(ts.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ws, err := etcdserverpb.NewWatchClient(conn).Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func (ts *testServer) metric(t testing.TB, name string) float64 {
	t.Helper()
	return metricValue(t, ts.reg, name)
}

// collect reads the watch channel until n events arrived, checking that
// revisions only grow and each response's header covers its events.
func collect(t testing.TB, wch clientv3.WatchChan, n int) []*mvccpb.Event {
	t.Helper()
	var evs []*mvccpb.Event
	timeout := time.After(20 * time.Second)
	var last int64
	for len(evs) < n {
		select {
		case resp, ok := <-wch:
			if !ok {
				t.Fatalf("watch channel closed after %d of %d events", len(evs), n)
			}
			if err := resp.Err(); err != nil {
				t.Fatalf("watch error after %d events: %v", len(evs), err)
			}
			if resp.IsProgressNotify() {
				continue
			}
			for _, ev := range resp.Events {
				if ev.Kv.ModRevision < last {
					t.Fatalf("event at %d after one at %d", ev.Kv.ModRevision, last)
				}
				last = ev.Kv.ModRevision
			}
			if resp.Header.Revision < last || resp.Header.ClusterId != 11 || resp.Header.RaftTerm != 33 {
				t.Fatalf("header %+v with events up to %d", resp.Header, last)
			}
			evs = append(evs, resp.Events...)
		case <-timeout:
			t.Fatalf("timed out after %d of %d events", len(evs), n)
		}
	}
	return evs
}

func TestClientWatchFromRevPrefixPrevKV(t *testing.T) {
	ts := startServer(t, nil, nil)
	src := ts.src
	for i := range 30 {
		src.commit(put(fmt.Sprintf("a/%d", i%4), fmt.Sprint(i)), put("b", "x"))
	}
	src.commit(del("a/1"))
	from := int64(10)
	c := ts.client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wch := c.Watch(ctx, "a/", clientv3.WithPrefix(), clientv3.WithRev(from), clientv3.WithPrevKV())
	// Writes while the watcher catches up.
	for i := range 30 {
		src.commit(put(fmt.Sprintf("a/%d", i%5), fmt.Sprint("live", i)))
	}
	spec := WatchSpec{Key: []byte("a/"), End: []byte("a0")}
	want := flatten(src.expected(spec, from, src.Rev()))
	got := collect(t, wch, len(want))
	if g, w := evString(got, true), evString(want, true); g != w {
		t.Fatalf("got  %s\nwant %s", g, w)
	}
	if !strings.Contains(evString(got, true), "DELETE:a/1=<") {
		t.Fatalf("the delete of a/1 lacks its previous value: %s", evString(got, true))
	}
	// Without WithPrevKV, no previous values.
	wch2 := c.Watch(ctx, "a/", clientv3.WithPrefix(), clientv3.WithRev(from))
	for _, ev := range collect(t, wch2, len(want)) {
		if ev.PrevKv != nil {
			t.Fatalf("PrevKv sent without WithPrevKV: %v", ev)
		}
	}
}

func TestClientFilters(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := ts.client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	noPut := c.Watch(ctx, "k", clientv3.WithFilterPut(), clientv3.WithCreatedNotify())
	noDel := c.Watch(ctx, "k", clientv3.WithFilterDelete(), clientv3.WithCreatedNotify())
	<-noPut
	<-noDel
	ts.src.commit(put("k", "1"))
	ts.src.commit(del("k"))
	ts.src.commit(put("k", "2"))
	if got := evString(collect(t, noPut, 1), false); got != "3:DELETE:k= " {
		t.Errorf("NOPUT watcher got %q", got)
	}
	if got := evString(collect(t, noDel, 2), false); got != "2:PUT:k=1 4:PUT:k=2 " {
		t.Errorf("NODELETE watcher got %q", got)
	}
}

func TestClientCancelAndStreamEnd(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := ts.client(t)
	ctx, cancel := context.WithCancel(context.Background())
	wch := c.Watch(ctx, "k", clientv3.WithCreatedNotify())
	<-wch
	other := c.Watch(context.Background(), "k", clientv3.WithCreatedNotify())
	<-other
	waitFor(t, func() bool { return ts.metric(t, "cairn_watch_watchers") == 2 })
	cancel()
	for range wch {
	}
	// The client cancels on the server; the other watcher lives on.
	waitFor(t, func() bool { return ts.metric(t, "cairn_watch_watchers") == 1 })
	ts.src.commit(put("k", "1"))
	collect(t, other, 1)
	// Closing the client ends the stream and frees its watchers.
	c.Close()
	waitFor(t, func() bool {
		return ts.metric(t, "cairn_watch_watchers") == 0 && ts.metric(t, "cairn_watch_streams") == 0
	})
}

func TestClientCompacted(t *testing.T) {
	ts := startServer(t, nil, nil)
	for i := range 20 {
		ts.src.commit(put("k", fmt.Sprint(i)))
	}
	ts.src.compactTo(15)
	c := ts.client(t)
	wch := c.Watch(context.Background(), "k", clientv3.WithRev(5))
	resp, ok := <-wch
	if !ok {
		t.Fatal("channel closed without a response")
	}
	if resp.CompactRevision != 15 || !errors.Is(resp.Err(), rpctypes.ErrCompacted) || !resp.Canceled {
		t.Fatalf("response %+v (err %v), want compacted at 15", resp, resp.Err())
	}
	if _, ok := <-wch; ok {
		t.Fatal("channel open after compaction")
	}
	// From the compaction revision on, the history is there.
	wch = c.Watch(context.Background(), "k", clientv3.WithRev(15))
	if got := collect(t, wch, 6); got[0].Kv.ModRevision != 15 {
		t.Fatalf("first event at %d", got[0].Kv.ModRevision)
	}
}

// TestClientSlowWatcherCatchesUp: a burst larger than the server's queues
// makes the watcher fall behind on the server; the client still sees
// every event once, in order.
func TestClientSlowWatcherCatchesUp(t *testing.T) {
	ts := startServer(t, func(o *Options) { o.StreamQueueLength, o.WatcherQueueLength, o.HistoryEvents = 4, 2, 16 }, nil)
	c := ts.client(t)
	wch := c.Watch(context.Background(), "k/", clientv3.WithPrefix(), clientv3.WithCreatedNotify(), clientv3.WithPrevKV())
	created := <-wch
	for i := range 3000 {
		ts.src.commit(put(fmt.Sprintf("k/%d", i%13), fmt.Sprint(i)))
	}
	spec := WatchSpec{Key: []byte("k/"), End: []byte("k0")}
	want := flatten(ts.src.expected(spec, created.Header.Revision+1, ts.src.Rev()))
	if g, w := evString(collect(t, wch, len(want)), true), evString(want, true); g != w {
		t.Fatalf("events differ (%d vs %d bytes)", len(g), len(w))
	}
	if n := ts.metric(t, "cairn_watch_slow_watchers_total"); n < 1 {
		t.Fatalf("the watcher never fell behind (slow transitions %v): the test proves nothing", n)
	}
}

// TestRawClientBackpressure: a client that stops reading fills gRPC's flow
// control window and the server's queue; Notify keeps its pace, and the
// client gets everything once it reads again.
func TestRawClientBackpressure(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ws := ts.rawStream(t, ctx)
	create := &etcdserverpb.WatchRequest{RequestUnion: &etcdserverpb.WatchRequest_CreateRequest{
		CreateRequest: &etcdserverpb.WatchCreateRequest{Key: []byte("k")}}}
	if err := ws.Send(create); err != nil {
		t.Fatal(err)
	}
	if r, err := ws.Recv(); err != nil || !r.Created {
		t.Fatalf("created: %v %v", r, err)
	}
	value := strings.Repeat("v", 8<<10)
	start := time.Now()
	const n = 2000 // 16 MiB: far beyond gRPC's windows and the queue
	first := ts.src.Rev() + 1
	for range n {
		ts.src.commit(put("k", value))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("commits took %v with a client not reading", d)
	}
	waitFor(t, func() bool { return ts.metric(t, "cairn_watch_slow_watchers_total") >= 1 })
	next := first
	for next <= ts.src.Rev() {
		r, err := ws.Recv()
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range r.Events {
			if ev.Kv.ModRevision != next || ev.Kv.Version != next-first+1 {
				t.Fatalf("event at %d version %d, want %d", ev.Kv.ModRevision, ev.Kv.Version, next)
			}
			next++
		}
	}
}

// TestClientManyWatchersOneStream: 1,000 watchers share one gRPC stream
// (clientv3 multiplexes watches of one context) and each gets its own
// events only.
func TestClientManyWatchersOneStream(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := ts.client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const n = 1000
	chans := make([]clientv3.WatchChan, n)
	for i := range n {
		chans[i] = c.Watch(ctx, fmt.Sprintf("key/%04d", i), clientv3.WithCreatedNotify())
	}
	for i := range n {
		if r := <-chans[i]; !r.Created {
			t.Fatalf("watcher %d: %+v", i, r)
		}
	}
	if s := ts.metric(t, "cairn_watch_streams"); s != 1 {
		t.Fatalf("%v streams, want the one clientv3 multiplexes onto", s)
	}
	for round := range 3 {
		for i := range n {
			ts.src.commit(put(fmt.Sprintf("key/%04d", i), fmt.Sprint(round)))
		}
	}
	for i := range n {
		evs := collect(t, chans[i], 3)
		for round, ev := range evs {
			if string(ev.Kv.Key) != fmt.Sprintf("key/%04d", i) || string(ev.Kv.Value) != fmt.Sprint(round) {
				t.Fatalf("watcher %d got %s", i, evString(evs, false))
			}
		}
	}
}

func TestClientFragment(t *testing.T) {
	ts := startServer(t, nil, func(o *ServiceOptions) { o.MaxResponseBytes = MinResponseBytes })
	value := strings.Repeat("x", 300)
	first := ts.src.Rev() + 1
	for range 40 {
		ts.src.commit(put("f", value))
	}
	// Raw: the 40-event catch-up response (12 KiB) comes in fragments
	// below 1 KiB, all but the last marked.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ws := ts.rawStream(t, ctx)
	if err := ws.Send(&etcdserverpb.WatchRequest{RequestUnion: &etcdserverpb.WatchRequest_CreateRequest{
		CreateRequest: &etcdserverpb.WatchCreateRequest{Key: []byte("f"), StartRevision: first, Fragment: true}}}); err != nil {
		t.Fatal(err)
	}
	if r, err := ws.Recv(); err != nil || !r.Created {
		t.Fatalf("created: %v %v", r, err)
	}
	var frags, events int
	for events < 40 {
		r, err := ws.Recv()
		if err != nil {
			t.Fatal(err)
		}
		frags++
		events += len(r.Events)
		if r.Fragment != (events < 40) {
			t.Fatalf("fragment %d flag %v with %d events so far", frags, r.Fragment, events)
		}
	}
	if frags < 10 {
		t.Fatalf("%d fragments for 12 KiB at 1 KiB each", frags)
	}
	// clientv3 reassembles them into one response.
	c := ts.client(t)
	wch := c.Watch(ctx, "f", clientv3.WithRev(first), clientv3.WithFragment())
	resp := <-wch
	if len(resp.Events) != 40 {
		t.Fatalf("clientv3 got %d events in the first response, want 40 reassembled", len(resp.Events))
	}
	// Without WithFragment the response goes whole.
	resp = <-c.Watch(ctx, "f", clientv3.WithRev(first))
	if len(resp.Events) != 40 {
		t.Fatalf("unfragmented response with %d events", len(resp.Events))
	}
}

func TestClientProgress(t *testing.T) {
	ts := startServer(t, func(o *Options) { o.ProgressNotifyInterval = 30 * time.Millisecond }, nil)
	c := ts.client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wch := c.Watch(ctx, "p", clientv3.WithCreatedNotify())
	<-wch
	ts.src.commit(put("other", "1"))
	if err := c.RequestProgress(ctx); err != nil {
		t.Fatal(err)
	}
	resp := <-wch
	if !resp.IsProgressNotify() || resp.Header.Revision != ts.src.Rev() {
		t.Fatalf("response %+v, want progress at %d", resp, ts.src.Rev())
	}
	// Periodic progress for a watcher that asked for it.
	pch := c.Watch(ctx, "q", clientv3.WithProgressNotify())
	resp = <-pch
	if !resp.IsProgressNotify() || resp.Header.Revision != ts.src.Rev() {
		t.Fatalf("response %+v, want a periodic progress notification", resp)
	}
}

func TestRawRequests(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ws := ts.rawStream(t, ctx)
	send := func(req *etcdserverpb.WatchRequest) {
		t.Helper()
		if err := ws.Send(req); err != nil {
			t.Fatal(err)
		}
	}
	create := func(c *etcdserverpb.WatchCreateRequest) *etcdserverpb.WatchRequest {
		return &etcdserverpb.WatchRequest{RequestUnion: &etcdserverpb.WatchRequest_CreateRequest{CreateRequest: c}}
	}
	recv := func() *etcdserverpb.WatchResponse {
		t.Helper()
		r, err := ws.Recv()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	send(create(&etcdserverpb.WatchCreateRequest{Key: []byte("a")}))
	if r := recv(); !r.Created || r.WatchId != 0 || r.Canceled || r.Header.Revision != ts.src.Rev() {
		t.Fatalf("first create: %v", r)
	}
	send(create(&etcdserverpb.WatchCreateRequest{Key: []byte("a"), WatchId: 7}))
	if r := recv(); !r.Created || r.WatchId != 7 {
		t.Fatalf("chosen ID: %v", r)
	}
	for _, c := range []struct {
		req    *etcdserverpb.WatchCreateRequest
		reason string
	}{
		{&etcdserverpb.WatchCreateRequest{Key: []byte("a"), WatchId: 7}, ErrWatcherDuplicateID.Error()},
		{&etcdserverpb.WatchCreateRequest{Key: []byte("b"), RangeEnd: []byte("a")}, ErrEmptyWatcherRange.Error()},
		{&etcdserverpb.WatchCreateRequest{Key: []byte("a"), StartRevision: -3}, rpctypes.ErrCompacted.Error()},
	} {
		send(create(c.req))
		if r := recv(); !r.Created || !r.Canceled || r.WatchId != InvalidWatchID || r.CancelReason != c.reason {
			t.Fatalf("create %v: got %v, want canceled with %q", c.req, r, c.reason)
		}
	}
	// Cancel of an unknown ID: no response (the next one is the event).
	send(&etcdserverpb.WatchRequest{RequestUnion: &etcdserverpb.WatchRequest_CancelRequest{CancelRequest: &etcdserverpb.WatchCancelRequest{WatchId: 99}}})
	send(&etcdserverpb.WatchRequest{RequestUnion: &etcdserverpb.WatchRequest_CancelRequest{CancelRequest: &etcdserverpb.WatchCancelRequest{WatchId: 7}}})
	if r := recv(); !r.Canceled || r.WatchId != 7 || r.CancelReason != "" {
		t.Fatalf("cancel: %v", r)
	}
	// A half-closed client keeps receiving events, as with etcd.
	if err := ws.CloseSend(); err != nil {
		t.Fatal(err)
	}
	rev := ts.src.commit(put("a", "1"))
	if r := recv(); r.WatchId != 0 || len(r.Events) != 1 || r.Header.Revision != rev {
		t.Fatalf("event after half-close: %v", r)
	}
}

func TestServiceHubClosed(t *testing.T) {
	ts := startServer(t, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ws := ts.rawStream(t, ctx)
	if err := ws.Send(&etcdserverpb.WatchRequest{RequestUnion: &etcdserverpb.WatchRequest_CreateRequest{
		CreateRequest: &etcdserverpb.WatchCreateRequest{Key: []byte("a")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ws.Recv(); err != nil {
		t.Fatal(err)
	}
	ts.hub.Close()
	if _, err := ws.Recv(); err == nil || rpctypes.ErrorDesc(err) != rpctypes.ErrorDesc(rpctypes.ErrGRPCStopped) {
		t.Fatalf("Recv after hub Close: %v, want %v", err, rpctypes.ErrGRPCStopped)
	}
}

func TestFragmentsUnit(t *testing.T) {
	ev := func(n int) *mvccpb.Event {
		return &mvccpb.Event{Kv: &mvccpb.KeyValue{Key: []byte("k"), Value: make([]byte, n), ModRevision: 5}}
	}
	wr := &etcdserverpb.WatchResponse{Header: testHeader(5), WatchId: 3, Events: []*mvccpb.Event{ev(100), ev(5000), ev(100), ev(100), ev(100)}}
	frags := fragments(wr, 1024)
	var sizes []int
	total := 0
	for i, f := range frags {
		total += len(f.Events)
		sizes = append(sizes, len(f.Events))
		if f.Fragment != (i < len(frags)-1) || f.WatchId != 3 || f.Header != wr.Header {
			t.Fatalf("fragment %d: %v", i, f)
		}
		if len(f.Events) > 1 && protoSize(f) >= 1024 {
			t.Fatalf("fragment %d of %d bytes with %d events", i, protoSize(f), len(f.Events))
		}
	}
	// The 5000-byte event goes alone; the small ones are grouped.
	if total != 5 || fmt.Sprint(sizes) != "[1 1 3]" {
		t.Fatalf("fragment sizes %v", sizes)
	}
	if got := fragments(&etcdserverpb.WatchResponse{Events: []*mvccpb.Event{ev(100), ev(100)}}, 1024); len(got) != 1 || got[0].Fragment {
		t.Fatalf("small response fragmented: %v", got)
	}
}

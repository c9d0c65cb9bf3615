package watch

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// benchSource serves a history generated before the timer starts; rev
// is published as the benchmark notifies, so catch-up reads are correct
// and cost the notifying loop nothing.
type benchSource struct {
	revs []revision // revs[i].rev == i+2
	rev  atomic.Int64
}

func newBenchSource(n int, key func(i int) []byte) *benchSource {
	s := &benchSource{revs: make([]revision, n)}
	for i := range s.revs {
		rev := int64(i) + 2
		s.revs[i] = revision{rev: rev, events: []*mvccpb.Event{{Type: mvccpb.Event_PUT,
			Kv: &mvccpb.KeyValue{Key: key(i), Value: []byte("v"), CreateRevision: 2, ModRevision: rev, Version: rev - 1}}}}
	}
	s.rev.Store(1)
	return s
}

func (s *benchSource) Rev() int64        { return s.rev.Load() }
func (s *benchSource) CompactRev() int64 { return -1 }
func (s *benchSource) Changes(from int64, key, end []byte, limit int) ([]*mvccpb.Event, int64, error) {
	last := s.rev.Load()
	var out []*mvccpb.Event
	for r := max(from, 2); r <= last; r++ {
		if len(out) >= limit {
			return out, r, nil
		}
		for _, ev := range s.revs[r-2].events {
			if inTestRange(ev.Kv.Key, key, end) {
				out = append(out, ev)
			}
		}
	}
	return out, max(from, last+1), nil
}

// notify publishes and notifies revision i of the generated history.
func (s *benchSource) notify(h *Hub, i int) {
	r := s.revs[i]
	s.rev.Store(r.rev)
	h.Notify(r.rev, r.events)
}

// BenchmarkNotify measures one Notify of a one-event revision (ns/op is
// per event) with n watchers on distinct keys: "hit" events land on a
// watched key (one delivery), "miss" events on an unwatched one (lookup
// only); "prefixes" are prefix watches (indexed by prefix), "spans" other
// ranges (scanned per event). Each stream of up to 1000 watchers is
// drained by its own goroutine; "slow/op" reports how often a watcher's
// queue was full (its delivery then skipped Notify and went through
// catch-up), so that the ns/op figure can be read honestly.
func BenchmarkNotify(b *testing.B) {
	for _, c := range []struct {
		name    string
		n       int
		kind    rangeKind
		missing bool
	}{
		{"keys=1/hit", 1, rangeSingle, false},
		{"keys=100/hit", 100, rangeSingle, false},
		{"keys=10000/hit", 10000, rangeSingle, false},
		{"keys=10000/miss", 10000, rangeSingle, true},
		{"prefixes=10000/hit", 10000, rangePrefix, false},
		{"spans=10/hit", 10, rangeSpan, false},
		{"spans=100/hit", 100, rangeSpan, false},
		{"spans=1000/hit", 1000, rangeSpan, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			src := newBenchSource(b.N, func(i int) []byte {
				if c.missing {
					return fmt.Appendf(nil, "other/%05d", i)
				}
				return fmt.Appendf(nil, "key/%05d", i%c.n)
			})
			h, err := NewHub(src, DefaultOptions())
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var s *Stream
			for i := range c.n {
				if i%1000 == 0 {
					if s, err = h.NewStream(); err != nil {
						b.Fatal(err)
					}
					defer s.Close()
					go func(s *Stream) {
						for {
							if _, err := s.Recv(ctx); err != nil {
								return
							}
						}
					}(s)
				}
				spec := WatchSpec{Key: fmt.Appendf(nil, "key/%05d", i)}
				switch c.kind {
				case rangePrefix:
					spec.End = prefixEnd(spec.Key)
				case rangeSpan:
					spec.End = fmt.Appendf(nil, "key/%05d0", i) // the key and its "children"
				}
				if _, err := s.Watch(ctx, spec); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				src.notify(h, i)
			}
			b.StopTimer()
			b.ReportMetric(float64(h.metricsSnapshotSlow())/float64(b.N), "slow/op")
		})
	}
}

// BenchmarkEndToEnd measures events per second from commit (Notify) to
// one clientv3 watcher over a real gRPC connection on loopback, one event
// per revision.
func BenchmarkEndToEnd(b *testing.B) {
	ts := startServer(b, nil, nil)
	c := ts.client(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wch := c.Watch(ctx, "k", clientv3.WithCreatedNotify())
	<-wch
	b.ResetTimer()
	start := time.Now()
	done := make(chan int)
	go func() {
		n := 0
		for n < b.N {
			resp, ok := <-wch
			if !ok {
				break
			}
			n += len(resp.Events)
		}
		done <- n
	}()
	// Commits go through the fake store (which notifies the Hub and keeps
	// the history a watcher that falls behind is caught up from).
	for range b.N {
		ts.src.commit(put("k", "value-of-some-bytes"))
	}
	if n := <-done; n != b.N {
		b.Fatalf("received %d of %d events", n, b.N)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// metricsSnapshotSlow reads the slow-watcher counter.
func (h *Hub) metricsSnapshotSlow() float64 {
	m := &dto.Metric{}
	if err := h.metrics.slowWatchers.Write(m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// BenchmarkEndToEndLatency measures one commit's trip to a clientv3
// watcher (commit, then wait for the event): the live path alone, one
// response per event.
func BenchmarkEndToEndLatency(b *testing.B) {
	ts := startServer(b, nil, nil)
	c := ts.client(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wch := c.Watch(ctx, "k", clientv3.WithCreatedNotify())
	<-wch
	b.ResetTimer()
	for range b.N {
		ts.src.commit(put("k", "value-of-some-bytes"))
		if resp := <-wch; len(resp.Events) != 1 {
			b.Fatalf("response %+v", resp)
		}
	}
}

package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/metadata"
)

// watchStampBytes is the send time (Unix nanoseconds, big-endian) at the
// head of every value the watch workload puts: a watcher reads it from the
// event and needs no shared map to compute the put -> event latency (the
// senders and the watchers share this process's clock).
const watchStampBytes = 8

// stampedValue is base with the current time in its first 8 bytes.
func stampedValue(base string) string {
	b := []byte(base)
	binary.BigEndian.PutUint64(b, uint64(time.Now().UnixNano()))
	return string(b)
}

// watchFanout is the watch workload's watchers: Spec.Watchers watch
// streams on the key prefix of the workload, spread over the connections.
// clientv3 shares one gRPC stream among the watches of a client whose
// contexts carry the same metadata; each watcher's context carries its own
// number, so each has a stream of its own, as a fleet of separate
// watching processes would.
type watchFanout struct {
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	received atomic.Int64
	mu       struct {
		sync.Mutex
		hist Histogram
		errs []error
	}
	watchers int
}

// startWatchFanout opens the watches and waits until every one is
// created, so that no put of the run precedes a watch.
func startWatchFanout(ctx context.Context, spec *Spec, conns []*clientv3.Client) (*watchFanout, error) {
	wctx, cancel := context.WithCancel(context.Background())
	f := &watchFanout{cancel: cancel, watchers: spec.Watchers}
	prefix := keyPrefix(KindWatch)
	created := make(chan error, spec.Watchers)
	for i := range spec.Watchers {
		cli := conns[i%len(conns)]
		sctx := metadata.AppendToOutgoingContext(wctx, "cairn-bench-watcher", strconv.Itoa(i))
		ch := cli.Watch(sctx, prefix, clientv3.WithPrefix(), clientv3.WithCreatedNotify())
		f.wg.Go(func() { f.watch(ch, created) })
	}
	for range spec.Watchers {
		select {
		case err := <-created:
			if err != nil {
				f.stop()
				return nil, fmt.Errorf("open watch: %w", err)
			}
		case <-ctx.Done():
			f.stop()
			return nil, fmt.Errorf("open %d watches: %w", spec.Watchers, ctx.Err())
		}
	}
	return f, nil
}

// watch is one watcher: it reports creation, then records the latency of
// every event until the channel closes.
func (f *watchFanout) watch(ch clientv3.WatchChan, created chan<- error) {
	var hist Histogram
	first := true
	var fail error
	defer func() {
		f.mu.Lock()
		f.mu.hist.Merge(&hist)
		if fail != nil {
			f.mu.errs = append(f.mu.errs, fail)
		}
		f.mu.Unlock()
	}()
	for resp := range ch {
		if first {
			// With WithCreatedNotify the first response is the creation
			// notice (or the error that prevented it).
			first = false
			created <- resp.Err()
		}
		if err := resp.Err(); err != nil {
			fail = err
			return
		}
		now := time.Now().UnixNano()
		for _, ev := range resp.Events {
			if len(ev.Kv.Value) < watchStampBytes {
				continue
			}
			sent := int64(binary.BigEndian.Uint64(ev.Kv.Value))
			hist.Record(time.Duration(now - sent))
		}
		f.received.Add(int64(len(resp.Events)))
	}
	if first {
		created <- errors.New("watch channel closed before the watch was created")
	}
}

// finish waits up to drain for every watcher to see every put, then stops
// the watchers and sums up what they saw.
func (f *watchFanout) finish(ctx context.Context, puts int64, elapsed, drain time.Duration) *EventResult {
	expected := puts * int64(f.watchers)
	deadline := time.Now().Add(drain)
	for f.received.Load() < expected && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	f.stop()
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.mu.hist.Clone()
	res := &EventResult{Watchers: f.watchers, Expected: expected, Received: f.received.Load(), Histogram: h, Latency: h.Summary()}
	if elapsed > 0 {
		res.Throughput = float64(res.Received) / elapsed.Seconds()
	}
	return res
}

// stop cancels every watch and waits for the watchers to end. Idempotent.
func (f *watchFanout) stop() {
	f.cancel()
	f.wg.Wait()
}

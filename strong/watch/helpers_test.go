package watch

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"
)

// newTestHub returns a Hub over a new fakeSource whose commits notify it.
func newTestHub(t testing.TB, mod func(*Options)) (*Hub, *fakeSource) {
	t.Helper()
	src := newFakeSource()
	opts := DefaultOptions()
	opts.SyncRetryInterval = 5 * time.Millisecond
	if mod != nil {
		mod(&opts)
	}
	h, err := NewHub(src, opts)
	if err != nil {
		t.Fatal(err)
	}
	src.hook = h.Notify
	t.Cleanup(h.Close)
	return h, src
}

func newTestStream(t testing.TB, h *Hub) *Stream {
	t.Helper()
	s, err := h.NewStream()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// mustWatch creates a watcher and consumes its created response.
func mustWatch(t testing.TB, s *Stream, spec WatchSpec) (id, createdRev int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	id, err := s.Watch(ctx, spec)
	if err != nil {
		t.Fatalf("Watch(%+v): %v", spec, err)
	}
	r := mustRecv(t, s)
	if r.Kind != KindCreated || r.WatchID != id {
		t.Fatalf("first response %+v, want created for %d", r, id)
	}
	return id, r.Revision
}

func mustRecv(t testing.TB, s *Stream) Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := s.Recv(ctx)
	if err != nil {
		t.Fatalf("Recv: %v", err)
	}
	return r
}

// recvNothing checks that no response comes within d.
func recvNothing(t testing.TB, s *Stream, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if r, err := s.Recv(ctx); err == nil {
		t.Fatalf("unexpected response %+v", r)
	}
}

// evString renders events compactly: rev:TYPE:key=value[<prev].
func evString(evs []*mvccpb.Event, withPrev bool) string {
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "%d:%s:%s=%s", ev.Kv.ModRevision, ev.Type, ev.Kv.Key, ev.Kv.Value)
		if withPrev && ev.PrevKv != nil {
			fmt.Fprintf(&b, "<%s@%d", ev.PrevKv.Value, ev.PrevKv.ModRevision)
		}
		b.WriteString(" ")
	}
	return b.String()
}

func flatten(revs []revision) []*mvccpb.Event {
	var out []*mvccpb.Event
	for _, r := range revs {
		out = append(out, r.events...)
	}
	return out
}

// eventLog checks the invariants of one watcher's event responses as they
// arrive and collects the events.
type eventLog struct {
	events  []*mvccpb.Event
	lastRev int64 // the last response's Revision
}

func (l *eventLog) add(t testing.TB, r Response) {
	t.Helper()
	if r.Kind != KindEvents {
		t.Fatalf("response %v, want events", r.Kind)
	}
	if len(r.Events) == 0 {
		t.Fatalf("empty events response")
	}
	first, last := r.Events[0].Kv.ModRevision, r.Events[len(r.Events)-1].Kv.ModRevision
	// A response's events are newer than everything the watcher saw, and
	// its Revision covers them.
	if first <= l.lastRev || r.Revision < last {
		t.Fatalf("response rev %d events %d..%d after rev %d", r.Revision, first, last, l.lastRev)
	}
	l.lastRev = r.Revision
	l.events = append(l.events, r.Events...)
}

// drainUntilProgress requests a stream-wide progress notification and
// hands every response before it to onResponse; it returns the
// notification's revision. The notification is queued only once every
// watcher of the stream has all events up to it queued, so after it the
// stream has delivered everything committed before the call.
func drainUntilProgress(t testing.TB, ctx context.Context, s *Stream, onResponse func(Response)) (int64, error) {
	t.Helper()
	s.RequestProgress()
	for {
		r, err := s.Recv(ctx)
		if err != nil {
			return 0, err
		}
		if r.Kind == KindProgress && r.WatchID == InvalidWatchID {
			return r.Revision, nil
		}
		onResponse(r)
	}
}

func protoSize(m proto.Message) int { return proto.Size(m) }

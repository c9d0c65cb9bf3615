package watch

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Stream is one client connection's watchers and the ordered queue of
// responses for it. Watch, Cancel and RequestProgress are meant for the
// goroutine that reads the client's requests, Recv for the one that sends
// responses; Close for whoever ends the connection.
type Stream struct {
	hub *Hub
	// out is the response queue, bounded by Options.StreamQueueLength.
	// Event responses are queued without waiting (or the watcher falls
	// behind); created and canceled responses wait for room.
	out  chan Response
	done chan struct{}
	// unsynced mirrors how many of the stream's watchers are unsynced, so
	// that Recv knows without the Hub's lock when to wake the catch-up
	// goroutine.
	unsynced atomic.Int32
	// progressWanted is set by RequestProgress until the stream-wide
	// progress notification is queued.
	progressWanted atomic.Bool
	ticker         *time.Ticker
	closeOnce      sync.Once

	// Under Hub.mu:
	watchers map[int64]*watcher
	nextID   int64
	closed   bool
}

// newProgressTicker ticks every interval plus up to 10% jitter, so that
// watchers created together do not all get progress at once (as etcd).
func newProgressTicker(interval time.Duration) *time.Ticker {
	return time.NewTicker(interval + rand.N(interval/10+1))
}

// Watch creates a watcher and queues its created response (waiting for
// room in the queue). It returns the watch ID. On failure it queues a
// create-failed response carrying the error, as etcd does, and returns
// the error; ctx bounds only the wait for room.
func (s *Stream) Watch(ctx context.Context, spec WatchSpec) (int64, error) {
	w, rev, err := s.reserve(spec)
	if err != nil {
		r := Response{Kind: KindCreateFailed, WatchID: InvalidWatchID, Revision: rev, CancelReason: err.Error()}
		return InvalidWatchID, joinErr(err, s.push(ctx, r))
	}
	if err := s.push(ctx, Response{Kind: KindCreated, WatchID: w.id, Revision: rev}); err != nil {
		h := s.hub
		h.mu.Lock()
		h.removeLocked(w, true)
		h.mu.Unlock()
		return InvalidWatchID, err
	}
	s.activate(w, rev)
	return w.id, nil
}

// joinErr returns err unless the push failed too.
func joinErr(err, pushErr error) error {
	if pushErr != nil {
		return pushErr
	}
	return err
}

// reserve validates spec and takes the watch ID; rev is the last notified
// revision, the created response's revision.
func (s *Stream) reserve(spec WatchSpec) (*watcher, int64, error) {
	rng, rangeErr := newKeyRange(spec.Key, spec.End)
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	rev := h.mu.notifiedRev
	switch {
	case s.closed || h.mu.closed:
		return nil, rev, ErrStreamClosed
	case spec.StartRev < 0:
		return nil, rev, ErrCompactedStart
	case rangeErr != nil:
		return nil, rev, rangeErr
	case spec.ID < 0:
		return nil, rev, ErrNegativeWatchID
	case len(s.watchers) >= h.opts.MaxWatchersPerStream:
		return nil, rev, ErrTooManyWatchers
	}
	id := spec.ID
	if id == AutoWatchID {
		// etcd's rule: the lowest unused ID from a per-stream counter.
		for s.watchers[s.nextID] != nil {
			s.nextID++
		}
		id = s.nextID
		s.nextID++
	} else if s.watchers[id] != nil {
		return nil, rev, ErrWatcherDuplicateID
	}
	w := &watcher{
		id:     id,
		stream: s,
		filter: filter{rng: rng, noPut: spec.NoPut, noDelete: spec.NoDelete},
		spec:   spec,
		state:  stateCreating,
	}
	s.watchers[id] = w
	h.mu.watchers++
	return w, rev, nil
}

// activate puts the watcher, whose created response (at createdRev) is
// queued, in its group. A watcher from now (StartRev 0) must see every
// revision after createdRev, and notifications may have come in since:
// then it starts unsynced and catches up from the history.
func (s *Stream) activate(w *watcher, createdRev int64) {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if w.state != stateCreating {
		return // the stream was closed meanwhile
	}
	next := w.spec.StartRev
	if next == 0 {
		next = createdRev + 1
	}
	if next > h.mu.notifiedRev {
		w.nextRev = next
		h.addSyncedLocked(w)
		return
	}
	h.addUnsyncedLocked(w, next)
}

// Cancel removes the watcher id and queues its canceled response
// (waiting for room); events queued for it and not yet taken by Recv are
// dropped. It returns ErrWatcherNotExist, queuing nothing (as etcd), for
// an unknown id.
func (s *Stream) Cancel(ctx context.Context, id int64) error {
	h := s.hub
	h.mu.Lock()
	w := s.watchers[id]
	if w == nil || s.closed {
		h.mu.Unlock()
		return ErrWatcherNotExist
	}
	h.removeLocked(w, true)
	rev := h.mu.notifiedRev
	h.mu.Unlock()
	return s.push(ctx, Response{Kind: KindCanceled, WatchID: id, Revision: rev})
}

// RequestProgress asks for a progress notification for the whole stream
// (watch ID InvalidWatchID) at the last notified revision. It is queued
// once every watcher of the stream is synced, at once if they are. A
// stream without watchers gets none, as etcd.
func (s *Stream) RequestProgress() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(s.watchers) == 0 || s.closed {
		return
	}
	s.progressWanted.Store(true)
	s.flushProgressLocked()
}

// flushProgressLocked queues the requested stream-wide progress
// notification if every watcher is synced (so every event up to the
// notified revision is queued before it) and the queue has room.
func (s *Stream) flushProgressLocked() {
	if !s.progressWanted.Load() || s.unsynced.Load() > 0 {
		return
	}
	r := Response{Kind: KindProgress, WatchID: InvalidWatchID, Revision: s.hub.mu.notifiedRev}
	select {
	case s.out <- r:
		s.progressWanted.Store(false)
	default: // retried by Recv once it has taken a response
	}
}

// Recv returns the next response, waiting for one. Call it from one
// goroutine. It also sends the periodic progress notifications. It fails
// with ErrStreamClosed, ErrClosed (the Hub) or ctx's error.
func (s *Stream) Recv(ctx context.Context) (Response, error) {
	h := s.hub
	for {
		select {
		case r := <-s.out:
			if r.w != nil {
				r.w.queued.Add(-1)
			}
			if s.unsynced.Load() > 0 {
				h.kick()
			} else if s.progressWanted.Load() {
				h.mu.Lock()
				s.flushProgressLocked()
				h.mu.Unlock()
			}
			if r.Kind == KindEvents {
				if r.w.dropQueued.Load() {
					continue
				}
				r.w.sentSinceTick = true
				h.metrics.eventsSent.Add(float64(len(r.Events)))
			}
			return r, nil
		case <-s.ticker.C:
			s.periodicProgress()
		case <-s.done:
			return Response{}, ErrStreamClosed
		case <-h.stopc:
			return Response{}, ErrClosed
		case <-ctx.Done():
			return Response{}, ctx.Err()
		}
	}
}

// periodicProgress queues a progress notification for each synced watcher
// created with ProgressNotify that was sent no events since the last
// tick (etcd's rule); runs on Recv's goroutine.
func (s *Stream) periodicProgress() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, w := range s.watchers {
		if !w.spec.ProgressNotify {
			continue
		}
		if w.state == stateSynced && !w.sentSinceTick {
			select {
			case s.out <- Response{Kind: KindProgress, WatchID: w.id, Revision: h.mu.notifiedRev}:
			default: // the queue is busy: the client is hardly idle
			}
		}
		w.sentSinceTick = false
	}
}

// Close removes every watcher of the stream from the Hub; Recv then fails
// with ErrStreamClosed. Idempotent.
func (s *Stream) Close() {
	s.closeOnce.Do(func() {
		h := s.hub
		h.mu.Lock()
		for _, w := range s.watchers {
			h.removeLocked(w, true)
		}
		s.closed = true
		delete(h.mu.streams, s)
		h.mu.Unlock()
		close(s.done)
		s.ticker.Stop()
	})
}

// push queues a control response, waiting for room.
func (s *Stream) push(ctx context.Context, r Response) error {
	select {
	case s.out <- r:
		return nil
	case <-s.done:
		return ErrStreamClosed
	case <-s.hub.stopc:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// tryPush queues an event or compaction response for w if both w's quota
// and the queue have room; it never waits. Called under Hub.mu.
func (s *Stream) tryPush(w *watcher, r Response) bool {
	if int(w.queued.Load()) >= s.hub.opts.WatcherQueueLength {
		return false
	}
	r.w = w
	w.queued.Add(1)
	select {
	case s.out <- r:
		return true
	default:
		w.queued.Add(-1)
		return false
	}
}

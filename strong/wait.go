package strong

import "sync"

// waitResult is what applying a proposal produced for its proposer.
type waitResult struct {
	resp any
	err  error
}

// waiters maps proposal IDs to the channels of the requests waiting for
// them to apply. A proposal applied on another node (or after this node
// restarted) has no waiter; its result is dropped. When the node stops,
// every waiter, and every later one, gets the stop error: so a request
// waits on its own channel and its context only, not on a stop channel
// that a thousand waiting requests would contend for (its lock was a
// tenth of a leader's CPU under the 1,000-client put load).
type waiters struct {
	mu      sync.Mutex
	m       map[uint64]chan waitResult
	stopped error
}

func newWaiters() *waiters { return &waiters{m: map[uint64]chan waitResult{}} }

// register returns the channel that receives id's result.
func (w *waiters) register(id uint64) <-chan waitResult {
	ch := make(chan waitResult, 1)
	w.mu.Lock()
	if w.stopped != nil {
		ch <- waitResult{err: w.stopped}
	} else {
		w.m[id] = ch
	}
	w.mu.Unlock()
	return ch
}

// stop hands err to every waiter, now and from now on.
func (w *waiters) stop(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = err
	for _, ch := range w.m {
		ch <- waitResult{err: err}
	}
	clear(w.m)
}

// cancel forgets id (its requester gave up).
func (w *waiters) cancel(id uint64) {
	w.mu.Lock()
	delete(w.m, id)
	w.mu.Unlock()
}

// trigger hands id's result to its waiter, if any.
func (w *waiters) trigger(id uint64, r waitResult) {
	w.mu.Lock()
	ch, ok := w.m[id]
	delete(w.m, id)
	w.mu.Unlock()
	if ok {
		ch <- r
	}
}

// appliedNotifier lets goroutines wait until the applied index reaches a
// value (linearizable reads wait for their read index).
type appliedNotifier struct {
	mu      sync.Mutex
	applied uint64
	waiting map[uint64][]chan struct{}
}

func newAppliedNotifier(applied uint64) *appliedNotifier {
	return &appliedNotifier{applied: applied, waiting: map[uint64][]chan struct{}{}}
}

// wait returns a channel closed once the applied index is at least index.
func (a *appliedNotifier) wait(index uint64) <-chan struct{} {
	ch := make(chan struct{})
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.applied >= index {
		close(ch)
		return ch
	}
	a.waiting[index] = append(a.waiting[index], ch)
	return ch
}

// advance records a new applied index and wakes whoever waited for it.
func (a *appliedNotifier) advance(index uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if index <= a.applied {
		return
	}
	a.applied = index
	for i, chs := range a.waiting {
		if i <= index {
			for _, ch := range chs {
				close(ch)
			}
			delete(a.waiting, i)
		}
	}
}

func (a *appliedNotifier) get() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.applied
}

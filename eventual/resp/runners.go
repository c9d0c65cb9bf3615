package resp

import "sync/atomic"

// runners runs Concurrent commands on goroutines that are kept for the
// next command instead of ending with this one. A goroutine starts with a
// small stack, and a command's call chain (the handler, the coordinator,
// the store, the CRDT code) grows it, copying it each time: with a fresh
// goroutine per pipelined command that was a sixth of a node's CPU. A kept
// goroutine has already grown its stack.
//
// A command is handed to an idle runner if one is waiting, else to a new
// goroutine, so a command never waits for a runner. At most maxIdle
// runners wait for work; one finding that many already idle ends instead.
// Close ends the idle ones.
type runners struct {
	work chan func() // unbuffered: a send succeeds only if a runner waits
	quit chan struct{}
	idle atomic.Int32
}

// maxIdleRunners bounds the goroutines kept waiting: enough for 50
// clients pipelining 16 commands each, about 16 MiB of grown stacks at
// most.
const maxIdleRunners = 1024

func newRunners() *runners {
	return &runners{work: make(chan func()), quit: make(chan struct{})}
}

// run runs fn on an idle runner or a new goroutine.
func (r *runners) run(fn func()) {
	select {
	case r.work <- fn:
	default:
		go r.loop(fn)
	}
}

// loop runs fn, then the work handed to it, until it is not needed.
func (r *runners) loop(fn func()) {
	for {
		fn()
		if r.idle.Add(1) > maxIdleRunners {
			r.idle.Add(-1)
			return
		}
		select {
		case fn = <-r.work:
			r.idle.Add(-1)
		case <-r.quit:
			r.idle.Add(-1)
			return
		}
	}
}

// close ends the idle runners; those running end after their command.
func (r *runners) close() { close(r.quit) }

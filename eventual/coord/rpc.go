package coord

import (
	"context"
	"sync"
	"time"
)

// pending tracks the requests this node sent and awaits answers for. One
// sweeper goroutine fails the calls past their deadline, so that a call
// costs no timer of its own.
type pending struct {
	mu    sync.Mutex
	next  uint64
	calls map[uint64]pendingCall
}

type pendingCall struct {
	done     chan message  // nil for a call made with startThen
	then     func(message) // startThen's callback
	deadline int64         // Unix nanoseconds
}

// errNotSent is the error of a call whose frame the transport refused: the
// peer never saw the request.
const errNotSent = "not sent: peer unreachable"

// call is one request in flight: done receives the answer (or a
// synthesized failure) exactly once.
type call struct {
	to   uint64
	id   uint64
	done chan message
}

// start sends m to peer to and returns the call. A frame the transport
// refuses fails the call at once.
func (c *Coordinator) start(to uint64, m message) *call {
	ch := make(chan message, 1)
	return &call{to: to, id: c.send(to, m, pendingCall{done: ch}), done: ch}
}

// startThen sends m to peer to and calls then with the answer (or a
// synthesized failure) exactly once, on the goroutine that has it: the
// transport's, the sweeper's, Close's, or this one's if the transport
// refused the frame. then must not block. It costs no goroutine and no
// channel, where start and wait cost both.
func (c *Coordinator) startThen(to uint64, m message, then func(message)) {
	c.send(to, m, pendingCall{then: then})
}

// send registers pc and sends m as its request; it returns the call's id.
func (c *Coordinator) send(to uint64, m message, pc pendingCall) uint64 {
	pc.deadline = time.Now().Add(c.cfg.RequestTimeout).UnixNano()
	c.pend.mu.Lock()
	c.pend.next++
	id := c.pend.next
	c.pend.calls[id] = pc
	c.pend.mu.Unlock()
	// Checked after registering: a call registered after Close's
	// failPending sees closed here, so none is left pending for good.
	select {
	case <-c.closed:
		c.finish(id, message{err: ErrClosed.Error()})
		return id
	default:
	}
	m.id = id
	m.clock = c.cfg.Clock.Now()
	if !c.cfg.Sender.Send(to, m.appendBinary(nil)) {
		c.finish(id, message{err: errNotSent})
	}
	return id
}

// finish delivers an answer to a pending call, if it is still pending.
func (c *Coordinator) finish(id uint64, m message) {
	c.pend.mu.Lock()
	pc, ok := c.pend.calls[id]
	delete(c.pend.calls, id)
	c.pend.mu.Unlock()
	switch {
	case !ok:
	case pc.then != nil:
		pc.then(m)
	default:
		pc.done <- m
	}
}

// failPending fails every call still pending; Close calls it once the
// sweeper has stopped, so that every startThen callback runs.
func (c *Coordinator) failPending() {
	c.pend.mu.Lock()
	ids := make([]uint64, 0, len(c.pend.calls))
	for id := range c.pend.calls {
		ids = append(ids, id)
	}
	c.pend.mu.Unlock()
	for _, id := range ids {
		c.finish(id, message{err: "timed out"})
	}
}

// sweepLoop fails the calls whose request timeout has passed.
func (c *Coordinator) sweepLoop() {
	defer c.wg.Done()
	period := min(max(c.cfg.RequestTimeout/20, 5*time.Millisecond), 100*time.Millisecond)
	t := time.NewTicker(period)
	defer t.Stop()
	var expired []uint64
	for {
		select {
		case <-c.closed:
			return
		case now := <-t.C:
			expired = expired[:0]
			c.pend.mu.Lock()
			for id, pc := range c.pend.calls {
				if pc.deadline <= now.UnixNano() {
					expired = append(expired, id)
				}
			}
			c.pend.mu.Unlock()
			for _, id := range expired {
				c.finish(id, message{err: "timed out"})
			}
		}
	}
}

// wait waits for the call's answer until ctx ends or the request timeout
// passes (the sweeper answers "timed out"), whichever is first.
func (c *Coordinator) wait(ctx context.Context, cl *call) message {
	select {
	case m := <-cl.done:
		return m
	case <-ctx.Done():
	case <-c.closed:
	}
	c.finish(cl.id, message{err: "timed out"})
	return <-cl.done
}

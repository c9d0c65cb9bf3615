package coord

import (
	"context"
	"sync"
	"time"
)

// pending tracks the requests this node sent and awaits answers for.
type pending struct {
	mu    sync.Mutex
	next  uint64
	calls map[uint64]chan message
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
	c.pend.mu.Lock()
	c.pend.next++
	id := c.pend.next
	c.pend.calls[id] = ch
	c.pend.mu.Unlock()
	m.id = id
	m.clock = c.cfg.Clock.Now()
	if !c.cfg.Sender.Send(to, m.appendBinary(nil)) {
		c.finish(id, message{err: errNotSent})
	}
	return &call{to: to, id: id, done: ch}
}

// finish delivers an answer to a pending call, if it is still pending.
func (c *Coordinator) finish(id uint64, m message) {
	c.pend.mu.Lock()
	ch, ok := c.pend.calls[id]
	delete(c.pend.calls, id)
	c.pend.mu.Unlock()
	if ok {
		ch <- m
	}
}

// wait waits for the call's answer until ctx ends or the request timeout
// passes, whichever is first.
func (c *Coordinator) wait(ctx context.Context, cl *call) message {
	t := time.NewTimer(c.cfg.RequestTimeout)
	defer t.Stop()
	select {
	case m := <-cl.done:
		return m
	case <-t.C:
	case <-ctx.Done():
	case <-c.closed:
	}
	c.finish(cl.id, message{err: "timed out"})
	return <-cl.done
}

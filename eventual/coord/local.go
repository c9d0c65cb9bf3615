package coord

import "github.com/cairndb/cairn/eventual/object"

// Peer requests that only touch this node's store (apply, read, purge) are
// served by a fixed pool of workers rather than a goroutine each: a worker
// takes all such requests of one received batch, applies its deltas, syncs
// once for all of them, then answers each. Long-lived workers also keep
// the stacks they grew, where a goroutine per request grew a new one
// (object decoding and Pebble's write path run deep) every time.
//
// Requests that wait on other nodes (a forwarded write, anti-entropy)
// keep a goroutine of their own: a worker blocked on a peer whose workers
// are blocked on this node would stall both until the timeouts.

// localWorkers is the size of the pool. The store's work is short, but
// under overload the workers compete for the CPU with every RESP command
// in flight (hundreds with pipelining), each a goroutine of its own: with
// 4 workers the replica side fell behind and dropped applies over
// MaxInFlight (pipelined SET at ONE: 5,580 dropped and 14,773 hints in
// 10 s, against none dropped and 3,556 hints with 16).
const localWorkers = 16

// localJob is the store requests of one batch from one peer.
type localJob struct {
	from uint64
	reqs []message
}

// isLocal reports whether a request of type t is served by the pool.
func isLocal(t msgType) bool { return t == msgApply || t == msgRead || t == msgPurge }

// startLocal starts the workers; Close stops them (wg).
func (c *Coordinator) startLocal() {
	// Every queued request holds a slot of sem, so the queue can never
	// hold more than cap(sem) jobs: enqueueLocal never blocks.
	c.local = make(chan localJob, cap(c.sem))
	c.wg.Add(localWorkers)
	for range localWorkers {
		go c.localLoop()
	}
}

func (c *Coordinator) localLoop() {
	defer c.wg.Done()
	for {
		select {
		case <-c.closed:
			return
		case j := <-c.local:
			c.serveLocal(j)
		}
	}
}

// enqueueLocal hands a batch's store requests to the workers. Each request
// already holds a slot of sem.
func (c *Coordinator) enqueueLocal(j localJob) {
	c.serving.RLock()
	defer c.serving.RUnlock()
	if c.isClosed {
		c.releaseLocal(j)
		return
	}
	select {
	case c.local <- j:
	default: // cannot happen while every job holds a slot; never block the transport
		for _, m := range j.reqs {
			c.m.peerReqs.WithLabelValues(typeName(m.typ), "dropped").Inc()
		}
		c.releaseLocal(j)
	}
}

// releaseLocal gives back the slots of requests that will not be served.
func (c *Coordinator) releaseLocal(j localJob) {
	for range j.reqs {
		<-c.sem
		c.m.inFlight.Dec()
	}
}

// dropQueuedLocal releases the jobs left in the queue once the workers
// have stopped (Close); their senders time out.
func (c *Coordinator) dropQueuedLocal() {
	for {
		select {
		case j := <-c.local:
			c.releaseLocal(j)
		default:
			return
		}
	}
}

// serveLocal serves one job: the deltas are merged without waiting for
// durability, one Sync covers them all, and only then are they answered.
func (c *Coordinator) serveLocal(j localJob) {
	resps := make([]message, len(j.reqs))
	wrote := false
	for i, m := range j.reqs {
		var w bool
		resps[i], w = c.serveStore(m)
		wrote = wrote || w
	}
	if wrote {
		if err := c.cfg.Store.Sync(); err != nil {
			for i, m := range j.reqs {
				if m.typ == msgApply && resps[i].err == "" {
					resps[i].err = errText(err)
				}
			}
		}
	}
	for i, m := range j.reqs {
		result := "ok"
		if resps[i].err != "" {
			result = "error"
		}
		c.m.peerReqs.WithLabelValues(typeName(m.typ), result).Inc()
		c.reply(j.from, m, resps[i])
		<-c.sem
		c.m.inFlight.Dec()
	}
}

// serveStore answers one store request, and reports whether it wrote
// something that still needs a Sync.
func (c *Coordinator) serveStore(m message) (message, bool) {
	switch m.typ {
	case msgApply:
		d, err := object.Decode(m.obj)
		if err != nil {
			return message{err: errText(err)}, false
		}
		if m.hintFor != 0 && m.hintFor != c.cfg.LocalID {
			// AddHint syncs on its own.
			return message{err: errText(c.cfg.Store.AddHint(m.hintFor, m.key, d, timeNow()))}, false
		}
		changed, err := c.cfg.Store.ApplyUnsynced(m.key, d)
		return message{err: errText(err)}, changed && err == nil
	case msgRead:
		enc, err := c.cfg.Store.GetEncoded(m.key)
		return message{err: errText(err), obj: enc}, false
	default: // msgPurge
		ok, err := c.cfg.Store.Purge(m.key, m.obj)
		return message{err: errText(err), result: wireResult{OK: ok}}, false
	}
}

package coord

import (
	"context"
	"errors"
	"io"

	"github.com/cairndb/cairn/eventual/object"
	"github.com/cairndb/cairn/paxos"
)

// HandleFrames implements transport.Handler: answers are delivered to their
// calls; requests to the store are handed to the workers (local.go), one
// job per batch, and the others are served on their own goroutines; at
// most MaxInFlight requests at once (beyond that they are dropped, and
// their senders time out).
func (c *Coordinator) HandleFrames(from uint64, frames [][]byte) {
	job := localJob{from: from}
	defer func() {
		if len(job.reqs) > 0 {
			c.enqueueLocal(job)
		}
	}()
	for _, f := range frames {
		m, err := decodeMessage(f)
		if err != nil {
			c.m.peerReqs.WithLabelValues("malformed", "error").Inc()
			c.log.Warn("malformed eventual-tier frame", "from", from, "err", err)
			continue
		}
		if _, err := c.cfg.Clock.Update(m.clock); err != nil {
			c.m.clockSkews.Inc()
			if isRequest(m.typ) {
				c.reply(from, m, message{err: ErrClockSkew.Error()})
			} else {
				c.finish(m.id, message{typ: m.typ, err: ErrClockSkew.Error()})
			}
			continue
		}
		if m.typ == msgPaxos {
			pm, err := paxos.DecodeMessage(m.obj)
			if err != nil || pm.Validate(paxos.DefaultLimits()) != nil {
				c.m.peerReqs.WithLabelValues("paxos", "malformed").Inc()
				continue
			}
			c.routePaxos(from, pm)
			continue
		}
		if !isRequest(m.typ) {
			c.finish(m.id, m)
			continue
		}
		select {
		case c.sem <- struct{}{}:
		default:
			c.m.peerReqs.WithLabelValues(typeName(m.typ), "dropped").Inc()
			continue
		}
		c.m.inFlight.Inc()
		if isLocal(m.typ) {
			if job.reqs == nil {
				job.reqs = make([]message, 0, len(frames))
			}
			job.reqs = append(job.reqs, m)
			continue
		}
		c.serveAsync(from, m)
	}
}

// serveAsync serves a request that is not a store request on a goroutine
// of its own. (A function of its own so that only these requests' messages
// escape to the heap, not every message decoded.)
func (c *Coordinator) serveAsync(from uint64, m message) {
	// Close waits for the requests being served, so that none touches
	// the store after it is closed.
	c.background(func() {
		defer func() { <-c.sem; c.m.inFlight.Dec() }()
		c.serve(from, m)
	}, func() { <-c.sem; c.m.inFlight.Dec() })
}

// HandleSnapshot implements transport.Handler; the eventual channel sends
// no snapshots.
func (c *Coordinator) HandleSnapshot(context.Context, uint64, []byte, io.Reader) error {
	return errors.New("eventual: snapshots are not used on this channel")
}

func isRequest(t msgType) bool {
	return t == msgMutate || t == msgApply || t == msgRead || t == msgTree || t == msgRange || t == msgKeys || t == msgPurge || t == msgAcceptors
}

func typeName(t msgType) string {
	switch t {
	case msgMutate:
		return "mutate"
	case msgApply:
		return "apply"
	case msgRead:
		return "read"
	case msgTree:
		return "tree"
	case msgRange:
		return "range"
	case msgKeys:
		return "keys"
	case msgPurge:
		return "purge"
	case msgAcceptors:
		return "acceptors"
	}
	return "response"
}

// serve answers one peer request that is not a store request (isLocal).
func (c *Coordinator) serve(from uint64, m message) {
	var resp message
	switch m.typ {
	case msgMutate:
		ctx, cancel := context.WithTimeout(context.Background(), 2*c.cfg.RequestTimeout)
		prefs, fallbacks := c.placement(m.key)
		var (
			res Result
			err error
		)
		if len(m.obj) > 0 {
			m.op.Seen, err = object.Decode(m.obj)
		}
		// A forwarded write is coordinated here even if this node's ring
		// disagrees that it is a replica: forwarding again could loop.
		if err == nil {
			res, err = c.coordinateWrite(ctx, m.key, m.op, m.level, withSelf(prefs, c.cfg.LocalID), fallbacks)
		}
		cancel()
		resp = message{result: wireResult{N: res.N, OK: res.OK}, err: errText(err), obj: res.Delta.AppendBinary(nil)}
	case msgTree:
		resp = c.serveTree(m.obj)
	case msgRange:
		resp = c.serveRange(m.obj)
	case msgKeys:
		resp = c.serveKeys(m.obj)
	case msgAcceptors:
		resp = c.serveAcceptors(m.obj)
	}
	result := "ok"
	if resp.err != "" {
		result = "error"
	}
	c.m.peerReqs.WithLabelValues(typeName(m.typ), result).Inc()
	c.reply(from, m, resp)
}

// reply sends resp as the answer to request req.
func (c *Coordinator) reply(to uint64, req, resp message) {
	resp.typ = req.typ + 1
	resp.id = req.id
	resp.clock = c.cfg.Clock.Now()
	c.cfg.Sender.Send(to, resp.appendBinary(nil))
}

// withSelf returns prefs with self in place of its last member if self is
// not among them.
func withSelf(prefs []uint64, self uint64) []uint64 {
	if contains(prefs, self) || len(prefs) == 0 {
		return prefs
	}
	out := append([]uint64(nil), prefs...)
	out[len(out)-1] = self
	return out
}

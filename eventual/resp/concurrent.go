package resp

import (
	"bytes"
	"time"
)

// Concurrent commands. A pipeline of commands that each wait on the
// network (a quorum write) would run one after the other; a command marked
// Concurrent instead runs on a goroutine of its own, against a private
// Writer, while the connection goes on reading, and its reply is copied
// into the connection's stream in command order. Commands whose keys
// overlap an earlier command still running, and every other command, wait
// for the earlier ones first: the connection behaves as if its commands ran
// in order, as Redis promises. A Concurrent command with nothing in flight
// before it and no input behind it runs inline (dispatch).

// future is a Concurrent command in flight.
type future struct {
	done  chan struct{}
	buf   bytes.Buffer
	w     *Writer
	cmd   *Command
	name  []byte
	start time.Time
	keys  []string
}

// dispatchConcurrent starts cmd on a goroutine of its own (a runner) if it
// may run beside the commands in flight, and reports whether it did.
func (s *Server) dispatchConcurrent(c *Conn, args [][]byte, cmd *Command) bool {
	keys := cmd.Keys(nil, args)
	for _, k := range keys {
		if c.inflight[string(k)] > 0 {
			s.drain(c) // the same key: keep the order
			break
		}
	}
	f := &future{done: make(chan struct{}), cmd: cmd, start: time.Now()}
	own := make([][]byte, len(args))
	for i, a := range args {
		own[i] = bytes.Clone(a)
	}
	f.name = own[0]
	for _, k := range keys {
		ks := string(k)
		f.keys = append(f.keys, ks)
		if c.inflight == nil {
			c.inflight = map[string]int{}
		}
		c.inflight[ks]++
	}
	f.w = NewWriter(&f.buf, 512) // flushes into f.buf; drain copies it out
	f.w.SetProtocol(c.Protocol())
	req := &Request{Conn: c, Args: own, Cmd: cmd}
	c.futures = append(c.futures, f)
	c.lastCmd.Store(cmd)
	s.run.run(func() {
		defer close(f.done)
		s.handler.ServeRESP(f.w, req)
	})
	if len(c.futures) >= s.cfg.MaxPipeline {
		s.drain(c)
	}
	return true
}

// drain waits for the connection's Concurrent commands in order and writes
// their replies to its stream.
func (s *Server) drain(c *Conn) {
	for i, f := range c.futures {
		<-f.done
		m := s.metricsFor(f.cmd)
		if n := f.w.replies; n != 1 || !f.w.complete() {
			s.handlerFault(c, f.name, n)
		} else {
			_ = f.w.Flush()
			c.wr.appendReply(f.buf.Bytes(), f.w.errs > 0)
			if f.w.errs > 0 {
				m.err.Inc()
			} else {
				m.ok.Inc()
			}
		}
		m.duration.Observe(time.Since(f.start).Seconds())
		for _, k := range f.keys {
			if c.inflight[k]--; c.inflight[k] <= 0 {
				delete(c.inflight, k)
			}
		}
		c.futures[i] = nil
	}
	c.futures = c.futures[:0]
	c.lastActive.Store(time.Now().UnixNano())
}

package resp

import (
	"errors"
	"io"
	"net"
	"time"
)

// lingerTimeout and lingerBytes bound the draining of a connection the
// server closes while its client may still be sending (after QUIT or a
// protocol error). Reading what it sent lets the close end in a FIN
// rather than an RST, which could destroy the last reply before the
// client has read it.
const (
	lingerTimeout = 500 * time.Millisecond
	lingerBytes   = 256 << 10
)

// serveConn runs one connection: read a command, execute it, repeat. The
// Reader flushes the replies before it blocks for more input (beforeRead),
// so a pipeline gets one write for all its replies.
func (s *Server) serveConn(c *Conn) {
	defer s.endConn(c)
	if s.observer != nil {
		s.observer.ConnOpened(c)
	}
	for {
		args, err := c.rd.ReadCommand()
		if err != nil {
			s.readFailed(c, err)
			return
		}
		if s.closing.Load() {
			return // shutting down: commands not started are dropped
		}
		s.dispatch(c, args)
		if c.closing || c.wr.Err() != nil {
			return
		}
		if c.wr.pending >= s.cfg.MaxPipeline {
			c.wr.Flush() //nolint:errcheck // sticky: seen by the check above next time
			c.clockStale = true
		}
	}
}

// beforeRead runs before the connection's Reader blocks for more input:
// it flushes the replies owed, returns the write buffer to the pool while
// the connection waits, and arms the idle timeout.
func (c *Conn) beforeRead() error {
	s := c.srv
	c.clockStale = true
	if len(c.futures) > 0 {
		s.drain(c)
	}
	if err := c.wr.Flush(); err != nil {
		return err
	}
	c.wr.release()
	s.reportBytes(c)
	if s.closing.Load() {
		return ErrServerClosed
	}
	if s.cfg.IdleTimeout > 0 {
		if err := c.nc.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout)); err != nil {
			return err
		}
		// Close may have set its wake-up deadline just before this one
		// replaced it: look again.
		if s.closing.Load() {
			return ErrServerClosed
		}
	}
	return nil
}

// beforeWrite arms the write timeout before each write to the socket.
func (c *Conn) beforeWrite() error {
	return c.nc.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
}

// dispatch executes one command: a connection command here, any other in
// the handler, after the checks Redis makes first (in its order: the
// arity of a known command, then authentication).
func (s *Server) dispatch(c *Conn, args [][]byte) {
	// A clock read costs as much as a small command, so a command's time
	// starts where the previous one's ended, unless a read or a flush
	// came between: one read per command, and the command's parse counts.
	cmd := s.lookup(args[0])
	// A Concurrent command runs inline when there is nothing to overlap it
	// with: no command in flight and no more input read (an unpipelined
	// client). That saves its goroutine, its copy of the arguments and its
	// private Writer.
	if cmd != nil && cmd.Concurrent && c.authed && cmd.builtin == nil && ArityOK(cmd.Arity, len(args)) &&
		(len(c.futures) > 0 || c.rd.Buffered() > 0) {
		s.dispatchConcurrent(c, args, cmd)
		return
	}
	if len(c.futures) > 0 {
		s.drain(c) // every other command runs after the ones in flight
		c.clockStale = true
	}
	start := c.lastEnd
	if c.clockStale {
		start = time.Now()
	}
	if cmd != nil {
		c.lastCmd.Store(cmd)
	}
	errs := c.wr.errs
	switch {
	case cmd == nil && !c.authed:
		c.wr.Error(MsgUnknownCommand(args))
	case cmd == nil:
		s.callHandler(c, args, nil)
	case !ArityOK(cmd.Arity, len(args)):
		c.wr.Error(MsgWrongArgs(cmd.nameFull))
	case !c.authed && cmd.Flags&FlagNoAuth == 0:
		c.wr.Error(MsgNoAuth)
	case cmd.builtin != nil:
		cmd.builtin(s, c, args)
	default:
		s.callHandler(c, args, cmd)
	}
	end := time.Now()
	c.lastEnd, c.clockStale = end, false
	c.lastActive.Store(end.UnixNano())
	m := s.metricsFor(cmd)
	if c.wr.errs != errs {
		m.err.Inc()
	} else {
		m.ok.Inc()
	}
	m.duration.Observe(end.Sub(start).Seconds())
}

// callHandler hands a command to the handler and checks that it wrote
// exactly one whole reply.
func (s *Server) callHandler(c *Conn, args [][]byte, cmd *Command) {
	c.req = Request{Conn: c, Args: args, Cmd: cmd}
	replies := c.wr.replies
	s.handler.ServeRESP(c.wr, &c.req)
	c.req.Args = nil // do not keep the buffer's slices reachable
	if n := c.wr.replies - replies; n != 1 || !c.wr.complete() {
		s.handlerFault(c, args[0], n)
	}
}

// handlerFault closes a connection whose handler wrote no reply, several,
// or an unfinished aggregate: the client would pair later replies with the
// wrong commands.
func (s *Server) handlerFault(c *Conn, name []byte, replies int) {
	s.m.handlerFaults.Inc()
	if ok, n := s.faultLog.Allow(time.Now()); ok {
		s.log.Error("resp: handler wrote a wrong number of replies; closing connection",
			"command", string(name[:min(len(name), maxNameLen)]), "replies", replies,
			"unfinished_aggregate", !c.wr.complete(), "client_id", c.id, "suppressed", n)
	}
	c.closing, c.lingered = true, true
}

// readFailed handles the end of a connection's input: a protocol error is
// answered (Redis's "-ERR Protocol error: ..."), anything else ends the
// connection quietly.
func (s *Server) readFailed(c *Conn, err error) {
	var pe *ProtocolError
	switch {
	case errors.As(err, &pe):
		s.m.protocolErrors.Inc()
		if ok, n := s.protoLog.Allow(time.Now()); ok {
			s.log.Warn("resp: protocol error; closing connection",
				"error", pe.Error(), "remote", c.nc.RemoteAddr().String(), "client_id", c.id, "suppressed", n)
		}
		c.wr.Error("ERR " + pe.Error())
		c.lingered = true
	case s.closing.Load(), errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
	case isTimeout(err) && s.cfg.IdleTimeout > 0:
		s.log.Debug("resp: closing idle connection", "client_id", c.id, "idle_timeout", s.cfg.IdleTimeout)
	default:
		s.log.Debug("resp: connection read failed", "client_id", c.id, "error", err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// endConn flushes what the connection is owed, closes it, and forgets it.
func (s *Server) endConn(c *Conn) {
	if len(c.futures) > 0 {
		s.drain(c)
	}
	c.wr.Flush() //nolint:errcheck // the connection is ending either way
	if c.lingered && c.wr.Err() == nil && !s.closing.Load() {
		linger(c.nc)
	}
	c.nc.Close()
	c.cancel()
	if s.observer != nil {
		s.observer.ConnClosed(c)
	}
	c.wr.release()
	s.reportBytes(c)
	s.m.clients.Dec() // before the delete: once Clients drops, the gauge has
	s.mu.Lock()
	delete(s.mu.conns, c.id)
	s.mu.Unlock()
	s.wg.Done()
}

// linger half-closes nc and reads what the peer still sends, for at most
// lingerTimeout and lingerBytes, so that the final close does not reset
// the connection under the replies just written.
func linger(nc net.Conn) {
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		if cw.CloseWrite() != nil {
			return
		}
	}
	if nc.SetReadDeadline(time.Now().Add(lingerTimeout)) != nil {
		return
	}
	io.CopyN(io.Discard, nc, lingerBytes) //nolint:errcheck // draining only
}

// reportBytes adds the bytes moved since the last report to the byte
// counters. Called on the connection's goroutine only.
func (s *Server) reportBytes(c *Conn) {
	in, out := c.rd.BytesRead(), c.wr.BytesWritten()
	if d := in - c.reportedIn; d > 0 {
		s.m.bytesIn.Add(float64(d))
	}
	if d := out - c.reportedOut; d > 0 {
		s.m.bytesOut.Add(float64(d))
	}
	c.reportedIn, c.reportedOut = in, out
}

package resp

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cairndb/cairn/internal/loglimit"
)

// ErrServerClosed is returned by Serve and Start once Close has been
// called.
var ErrServerClosed = errors.New("resp: server closed")

// Accept back-off after an error (out of file descriptors): from
// acceptBackoffMin doubling to acceptBackoffMax, as net/http does.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// rejectWriteTimeout bounds the write of the max-clients error to a
// connection being refused, so that the accept loop never waits on it.
const rejectWriteTimeout = 100 * time.Millisecond

// Server serves the RESP protocol: it accepts connections, parses their
// commands, answers the connection commands itself and hands the others
// to its Handler. See the package comment.
type Server struct {
	cfg      Config
	handler  Handler
	observer ConnObserver // the handler's, or nil
	log      *slog.Logger
	m        *metrics

	// cmds holds the built-ins and Config.Commands by lower-case name;
	// visible is what COMMAND lists, sorted by name. Both are fixed at New.
	cmds           map[string]*Command
	visible        []*Command
	builtinMetrics []cmdMetrics // by Command.id of the built-ins
	tableMetrics   []cmdMetrics // by Command.id of Config.Commands
	otherMetrics   cmdMetrics

	wbufs  sync.Pool // write buffers of WriteBufferBytes
	run    *runners  // goroutines of Concurrent commands
	nextID atomic.Uint64
	// closing is set first thing in Close; connections check it between
	// commands and before each read.
	closing atomic.Bool
	wg      sync.WaitGroup // accept loops and connections

	protoLog, rejectLog, acceptLog, faultLog *loglimit.Limiter

	mu struct {
		sync.Mutex
		closed    bool
		addr      net.Addr
		listeners map[net.Listener]struct{}
		conns     map[uint64]*Conn
	}
}

// New returns a Server for cfg, which it validates. It freezes
// cfg.Commands.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Server{
		run:       newRunners(),
		cfg:       cfg,
		handler:   cfg.Handler,
		log:       cfg.Logger,
		m:         m,
		protoLog:  loglimit.New(cfg.LogInterval),
		rejectLog: loglimit.New(cfg.LogInterval),
		acceptLog: loglimit.New(cfg.LogInterval),
		faultLog:  loglimit.New(cfg.LogInterval),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.handler == nil {
		s.handler = cfg.Commands
	}
	s.observer, _ = s.handler.(ConnObserver)
	s.mu.listeners = make(map[net.Listener]struct{})
	s.mu.conns = make(map[uint64]*Conn)

	bt := builtinTable()
	s.cmds = make(map[string]*Command, len(bt.list))
	for _, c := range bt.list {
		s.cmds[c.Name] = c
		s.builtinMetrics = append(s.builtinMetrics, m.forCommand(c.Name))
		if !c.hidden {
			s.visible = append(s.visible, c)
		}
	}
	if t := cfg.Commands; t != nil {
		t.freeze()
		for _, c := range t.list {
			s.cmds[c.Name] = c
			s.tableMetrics = append(s.tableMetrics, m.forCommand(c.Name))
			s.visible = append(s.visible, c)
		}
	}
	slices.SortFunc(s.visible, func(a, b *Command) int { return strings.Compare(a.Name, b.Name) })
	s.otherMetrics = m.forCommand(otherCommand)
	return s, nil
}

// Start listens on Config.Addr and serves in the background. It returns
// once the listener is open (its error, such as an address in use, is
// Start's); Close stops it.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	if !s.track(ln) {
		ln.Close()
		return ErrServerClosed
	}
	go s.serve(ln) //nolint:errcheck // ends with ErrServerClosed, or logs
	return nil
}

// Serve accepts connections on ln and serves each on a goroutine of its
// own, until ln fails or Close is called; it then returns ErrServerClosed
// (after Close) or the accept error. It may be called for several
// listeners.
func (s *Server) Serve(ln net.Listener) error {
	if !s.track(ln) {
		ln.Close()
		return ErrServerClosed
	}
	return s.serve(ln)
}

// Addr returns the address of the first listener served, or nil.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.addr
}

// Clients returns the number of connections open.
func (s *Server) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mu.conns)
}

// Close stops the server: it closes the listeners, cancels every
// connection's Context, and lets each connection finish the command it is
// executing and flush the replies it owes (within WriteTimeout) before
// closing it; pipelined commands not yet started are dropped. It returns
// once every connection and accept loop has ended. Handlers must return
// once their connection's Context is done, or Close waits for them.
func (s *Server) Close() error {
	s.closing.Store(true)
	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.mu.closed = true
	var err error
	for ln := range s.mu.listeners {
		if cerr := ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) && err == nil {
			err = cerr
		}
	}
	for _, c := range s.mu.conns {
		c.cancel()
		// Wake a read blocked waiting for the next command. The
		// connection sees closing and ends after flushing.
		c.nc.SetReadDeadline(time.Unix(1, 0)) //nolint:errcheck // best effort: a failed conn ends anyway
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.run.close()
	return err
}

// track registers ln for Close; false if the server is closed.
func (s *Server) track(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return false
	}
	s.mu.listeners[ln] = struct{}{}
	if s.mu.addr == nil {
		s.mu.addr = ln.Addr()
	}
	s.wg.Add(1)
	return true
}

func (s *Server) serve(ln net.Listener) error {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Out of descriptors or an aborted handshake: wait and retry.
			backoff = min(max(2*backoff, acceptBackoffMin), acceptBackoffMax)
			if ok, n := s.acceptLog.Allow(time.Now()); ok {
				s.log.Warn("resp: accept failed; retrying", "error", err, "retry_in", backoff, "suppressed", n)
			}
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		s.accept(nc)
	}
}

// accept registers nc and starts serving it, or refuses it when
// MaxClients connections are open.
func (s *Server) accept(nc net.Conn) {
	s.m.accepted.Inc()
	now := time.Now()
	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if len(s.mu.conns) >= s.cfg.MaxClients {
		s.mu.Unlock()
		s.reject(nc)
		return
	}
	c := s.newConn(nc, now)
	s.mu.conns[c.id] = c
	s.wg.Add(1)
	s.mu.Unlock()
	s.m.clients.Inc()
	go s.serveConn(c)
}

// reject tells a connection over MaxClients so, as Redis does, and closes
// it.
func (s *Server) reject(nc net.Conn) {
	s.m.rejected.Inc()
	if ok, n := s.rejectLog.Allow(time.Now()); ok {
		s.log.Warn("resp: connection refused: max number of clients reached",
			"remote", nc.RemoteAddr().String(), "max_clients", s.cfg.MaxClients, "suppressed", n)
	}
	nc.SetWriteDeadline(time.Now().Add(rejectWriteTimeout)) //nolint:errcheck // best effort
	nc.Write([]byte("-" + MsgMaxClients + "\r\n"))          //nolint:errcheck // best effort
	nc.Close()
}

func (s *Server) newConn(nc net.Conn, now time.Time) *Conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &Conn{
		srv:     s,
		nc:      nc,
		id:      s.nextID.Add(1),
		fd:      connFD(nc),
		created: now,
		ctx:     ctx,
		cancel:  cancel,
		authed:  s.cfg.Password == "",
		// The first command's start is read from the clock.
		clockStale: true,
	}
	c.rd = NewReader(nc, s.cfg.ReadBufferBytes, s.cfg.Limits)
	c.rd.unauth = !c.authed
	c.rd.beforeFill = c.beforeRead
	c.wr = newPooledWriter(nc, s.cfg.WriteBufferBytes, &s.wbufs)
	c.wr.beforeWrite = c.beforeWrite
	c.proto.Store(2)
	c.lastActive.Store(now.UnixNano())
	return c
}

// connFD returns the connection's file descriptor for CLIENT LIST, or -1.
func connFD(nc net.Conn) int {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return -1
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	if err := raw.Control(func(f uintptr) { fd = int(f) }); err != nil {
		return -1
	}
	return fd
}

// lookup returns the command named name, in any case, or nil, without
// allocating.
func (s *Server) lookup(name []byte) *Command {
	if len(name) > maxNameLen {
		return nil
	}
	var lower [maxNameLen]byte
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	return s.cmds[string(lower[:len(name)])]
}

func (s *Server) metricsFor(cmd *Command) cmdMetrics {
	switch {
	case cmd == nil:
		return s.otherMetrics
	case cmd.builtin != nil:
		return s.builtinMetrics[cmd.id]
	default:
		return s.tableMetrics[cmd.id]
	}
}

// conns returns the open connections, by id.
func (s *Server) conns() []*Conn {
	s.mu.Lock()
	out := make([]*Conn, 0, len(s.mu.conns))
	for _, c := range s.mu.conns {
		out = append(out, c)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b *Conn) int {
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	return out
}

package resp

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Conn is one client connection: what the server knows of it, and a place
// for the handler's own per-connection state.
type Conn struct {
	// Value is the handler's state for this connection (a consistency
	// level, a session's causal context, a MULTI queue). The server never
	// reads it; it is nil on a new connection, and a handler that also
	// implements ConnObserver resets it on RESET. Handler calls for one
	// connection never overlap, so it needs no lock when only they use it.
	Value any

	srv      *Server
	nc       net.Conn
	id       uint64
	fd       int
	created  time.Time
	ctx      context.Context
	cancel   context.CancelFunc
	rd       *Reader
	wr       *Writer
	req      Request
	authed   bool // a password was given, or none is required
	closing  bool // close once the replies so far are flushed (QUIT, a handler fault)
	lingered bool // the peer may still be sending: drain before closing

	reportedIn, reportedOut int64 // bytes already added to the metrics

	// Concurrent commands in flight, in command order, and how many of
	// them hold each key (concurrent.go). Only the connection's goroutine
	// touches them.
	futures  []*future
	inflight map[string]int
	// lastEnd is when the last command ended; clockStale that a read or a
	// flush came after it, so the next command's start must be read.
	lastEnd    time.Time
	clockStale bool

	// Read by CLIENT LIST on other connections' goroutines:
	proto      atomic.Int32
	lastActive atomic.Int64 // unix nanoseconds of the last command
	lastCmd    atomic.Pointer[Command]
	info       struct {
		sync.Mutex
		name, libName, libVer string
	}
}

// ID returns the connection's id: unique within its server, increasing in
// the order connections were accepted, from 1 (CLIENT ID).
func (c *Conn) ID() uint64 { return c.id }

// Name returns the name set by CLIENT SETNAME or HELLO SETNAME, or "".
func (c *Conn) Name() string {
	c.info.Lock()
	defer c.info.Unlock()
	return c.info.name
}

// Lib returns the client library's name and version, as set by CLIENT
// SETINFO ("go-redis(,go1.26.8)", "9.23.0"), or "".
func (c *Conn) Lib() (name, version string) {
	c.info.Lock()
	defer c.info.Unlock()
	return c.info.libName, c.info.libVer
}

// Protocol returns the protocol the connection speaks: 2, or 3 after
// HELLO 3.
func (c *Conn) Protocol() int { return int(c.proto.Load()) }

// RemoteAddr returns the client's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// LocalAddr returns the server's address the client connected to.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// Context returns a context that is cancelled when the connection ends or
// the server is closed. A handler that waits (for replicas, for a lock)
// should give up when it is done, so that Close is not held up.
func (c *Conn) Context() context.Context { return c.ctx }

// CloseAfterReply makes the server close the connection once the current
// command's reply is written, as QUIT does; commands pipelined after it
// are not executed. Only a handler call may use it.
func (c *Conn) CloseAfterReply() { c.closing, c.lingered = true, true }

func (c *Conn) setName(name string) {
	c.info.Lock()
	c.info.name = name
	c.info.Unlock()
}

// ConnObserver may be implemented by a Handler to follow its connections'
// lives, for instance to set up and release what it keeps in Conn.Value.
// Each method is called on the connection's own goroutine, never at the
// same time as ServeRESP for that connection.
type ConnObserver interface {
	// ConnOpened is called once, before the connection's first command.
	ConnOpened(c *Conn)
	// ConnReset is called when the client sends RESET, after the server
	// has reset its own state of the connection (name, protocol,
	// authentication).
	ConnReset(c *Conn)
	// ConnClosed is called once, after the connection's last command,
	// when its socket is closed.
	ConnClosed(c *Conn)
}

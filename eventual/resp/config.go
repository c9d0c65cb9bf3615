package resp

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Limits bound what one request may make the Reader hold. Each bound is
// checked against the declared sizes before anything is allocated for
// them; a request over a bound is a protocol error (the server replies
// and closes the connection, as Redis does).
type Limits struct {
	// MaxArgs is the most arguments one multibulk command may declare
	// (the command name counts). Over it: "Protocol error: invalid
	// multibulk length". An inline command is bounded by MaxInlineBytes
	// instead (at most one argument per two bytes).
	MaxArgs int
	// MaxBulkBytes is the longest one argument may be (Redis's
	// proto-max-bulk-len). Over it: "Protocol error: invalid bulk length".
	MaxBulkBytes int
	// MaxInlineBytes is the longest an inline command line, or a header
	// line of a multibulk command, may be (Redis's PROTO_INLINE_MAX_SIZE).
	// Over it: "Protocol error: too big inline request" (or "too big
	// mbulk count string", "too big bulk count string").
	MaxInlineBytes int
	// MaxCommandBytes is the most bytes one whole command may take on
	// the wire, headers included (Redis's client-query-buffer-limit, per
	// command). Over it: "Protocol error: too big command".
	MaxCommandBytes int
}

// Bounds of the bounds, checked by Validate.
const (
	maxMaxArgs         = 1 << 24
	maxMaxBulkBytes    = 1 << 30
	minMaxInlineBytes  = 64
	maxMaxInlineBytes  = 1 << 20
	maxMaxCommandBytes = 4 << 30
	minBufferBytes     = 64
	maxBufferBytes     = 16 << 20
	maxMaxClients      = 1 << 20
	maxMaxPipeline     = 1 << 20
	maxTimeout         = 24 * time.Hour
	minTimeout         = time.Millisecond
	// maxNameBytes bounds ServerName and Version.
	maxNameBytes = 128
)

// DefaultLimits returns:
//   - MaxArgs 1024*1024: Redis's bound before 7.0 (7.0 raised it to
//     INT_MAX); a million arguments is far beyond any real MSET or SADD,
//     and bounds the reader's argument table at 40 MiB;
//   - MaxBulkBytes 64 MiB: an eighth of Redis's 512 MiB default, because
//     a cairn value is replicated N times and carried in one transport
//     frame; larger values belong in another store;
//   - MaxInlineBytes 64 KiB: Redis's PROTO_INLINE_MAX_SIZE;
//   - MaxCommandBytes 128 MiB: room for a SET of the largest value plus
//     its key, or MSET of two; Redis's client-query-buffer-limit is 1 GiB
//     but cairn bounds a command, not the whole pipeline.
func DefaultLimits() Limits {
	return Limits{
		MaxArgs:         1024 * 1024,
		MaxBulkBytes:    64 << 20,
		MaxInlineBytes:  64 << 10,
		MaxCommandBytes: 128 << 20,
	}
}

// Validate reports the first bound out of range, or rule between bounds
// broken.
func (l Limits) Validate() error {
	switch {
	case l.MaxArgs < 1 || l.MaxArgs > maxMaxArgs:
		return fmt.Errorf("resp: MaxArgs %d out of range [1, %d]", l.MaxArgs, maxMaxArgs)
	case l.MaxBulkBytes < 1 || l.MaxBulkBytes > maxMaxBulkBytes:
		return fmt.Errorf("resp: MaxBulkBytes %d out of range [1, %d]", l.MaxBulkBytes, maxMaxBulkBytes)
	case l.MaxInlineBytes < minMaxInlineBytes || l.MaxInlineBytes > maxMaxInlineBytes:
		return fmt.Errorf("resp: MaxInlineBytes %d out of range [%d, %d]", l.MaxInlineBytes, minMaxInlineBytes, maxMaxInlineBytes)
	case l.MaxCommandBytes < l.MaxBulkBytes || l.MaxCommandBytes > maxMaxCommandBytes:
		return fmt.Errorf("resp: MaxCommandBytes %d out of range [MaxBulkBytes %d, %d]", l.MaxCommandBytes, l.MaxBulkBytes, maxMaxCommandBytes)
	}
	return nil
}

// Config configures a Server. Start from DefaultConfig and set Handler
// (and Commands, to have arity checks, COMMAND replies and per-command
// metrics).
type Config struct {
	// Addr is the TCP address Start listens on ("host:port"); Serve
	// takes a listener instead and ignores it.
	Addr string
	// Handler serves every command that is not a connection command
	// (see the package comment). Nil means Commands serves them, and
	// then every command in Commands must have a Func.
	Handler Handler
	// Commands, if not nil, is the table of the data commands: the
	// server looks a command up in it to check its arity before the
	// handler sees it, to label its metrics, and to answer COMMAND. The
	// server freezes it: Register fails from then on.
	Commands *CommandTable
	// Logger receives protocol errors, rejected connections and handler
	// faults; nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives the cairn_resp_* metrics; nil means they are
	// not registered.
	Registerer prometheus.Registerer

	// ServerName and Version are what HELLO reports as "server" and
	// "version". Clients may gate features on the version, so it names
	// the Redis version whose behaviour cairn follows.
	ServerName, Version string
	// Password, if not empty, is required (AUTH or HELLO AUTH, user
	// "default") before any command but AUTH, HELLO, QUIT and RESET, as
	// Redis's requirepass. Empty means no password, as Redis's default
	// user with nopass: AUTH default <anything> succeeds.
	Password string

	// Limits bound each request (see Limits).
	Limits Limits
	// MaxClients is the most connections served at once (Redis's
	// maxclients). A connection over it gets "-ERR max number of
	// clients reached" and is closed.
	MaxClients int
	// IdleTimeout closes a connection that sends nothing for this long.
	// Zero means never, as Redis's "timeout 0" (an idle connection costs
	// a goroutine and its read buffer, nothing else).
	IdleTimeout time.Duration
	// WriteTimeout closes a connection that takes no reply bytes for this
	// long: a client that stops reading cannot hold its goroutine (and
	// Close) forever. Redis has output buffer limits instead; cairn's
	// replies wait in the socket, not in memory.
	WriteTimeout time.Duration
	// ReadBufferBytes is a connection's read buffer. It grows, up to
	// about twice Limits.MaxCommandBytes, only while a larger command
	// arrives, and shrinks back after.
	ReadBufferBytes int
	// WriteBufferBytes is a connection's write buffer, taken from a pool
	// while replies are written and returned when they are flushed.
	// Replies are flushed when it fills; a bulk larger than it is written
	// straight from the caller's slice.
	WriteBufferBytes int
	// MaxPipeline is the most replies held before a flush: replies are
	// flushed when the buffered commands are all executed (one write per
	// pipeline), or after this many, whichever is first.
	MaxPipeline int
	// LogInterval is the least time between two logs of the same kind of
	// event (protocol errors, rejected connections, accept errors).
	LogInterval time.Duration
}

// DefaultConfig returns the defaults, with Handler and Commands left for
// the caller:
//   - Addr ":6379", Redis's port;
//   - ServerName "redis" and Version "7.2.0": clients and tools that
//     check the HELLO map expect Redis, and 7.2 is the version whose
//     connection commands (CLIENT SETINFO included) cairn implements;
//   - Limits DefaultLimits();
//   - MaxClients 10000: Redis's maxclients; each connection holds a
//     goroutine and a 16 KiB read buffer, 160 MiB for all of them;
//   - IdleTimeout 0 (never), as Redis;
//   - WriteTimeout 60 s: a client that reads nothing for a minute is
//     gone or stuck;
//   - ReadBufferBytes 16 KiB: Redis's PROTO_IOBUF_LEN, which holds a
//     few hundred pipelined small commands per read;
//   - WriteBufferBytes 16 KiB: as many replies per write;
//   - MaxPipeline 1024: a reply waits behind at most 1023 others;
//   - LogInterval 10 s.
func DefaultConfig() Config {
	return Config{
		Addr:             ":6379",
		ServerName:       "redis",
		Version:          "7.2.0",
		Limits:           DefaultLimits(),
		MaxClients:       10000,
		WriteTimeout:     60 * time.Second,
		ReadBufferBytes:  16 << 10,
		WriteBufferBytes: 16 << 10,
		MaxPipeline:      1024,
		LogInterval:      10 * time.Second,
	}
}

// Validate reports the first field out of range, or rule between fields
// broken.
func (c Config) Validate() error {
	if err := c.Limits.Validate(); err != nil {
		return err
	}
	switch {
	case c.Handler == nil && c.Commands == nil:
		return errors.New("resp: Handler and Commands are both nil")
	case c.ServerName == "" || len(c.ServerName) > maxNameBytes || !validClientAttr(c.ServerName):
		return fmt.Errorf("resp: ServerName %q must be 1 to %d printable characters without spaces", c.ServerName, maxNameBytes)
	case c.Version == "" || len(c.Version) > maxNameBytes || !validClientAttr(c.Version):
		return fmt.Errorf("resp: Version %q must be 1 to %d printable characters without spaces", c.Version, maxNameBytes)
	case c.MaxClients < 1 || c.MaxClients > maxMaxClients:
		return fmt.Errorf("resp: MaxClients %d out of range [1, %d]", c.MaxClients, maxMaxClients)
	case c.IdleTimeout != 0 && (c.IdleTimeout < minTimeout || c.IdleTimeout > maxTimeout):
		return fmt.Errorf("resp: IdleTimeout %v out of range: 0 (never) or [%v, %v]", c.IdleTimeout, minTimeout, maxTimeout)
	case c.WriteTimeout < minTimeout || c.WriteTimeout > maxTimeout:
		return fmt.Errorf("resp: WriteTimeout %v out of range [%v, %v]", c.WriteTimeout, minTimeout, maxTimeout)
	case c.ReadBufferBytes < minBufferBytes || c.ReadBufferBytes > maxBufferBytes:
		return fmt.Errorf("resp: ReadBufferBytes %d out of range [%d, %d]", c.ReadBufferBytes, minBufferBytes, maxBufferBytes)
	case c.WriteBufferBytes < minBufferBytes || c.WriteBufferBytes > maxBufferBytes:
		return fmt.Errorf("resp: WriteBufferBytes %d out of range [%d, %d]", c.WriteBufferBytes, minBufferBytes, maxBufferBytes)
	case c.MaxPipeline < 1 || c.MaxPipeline > maxMaxPipeline:
		return fmt.Errorf("resp: MaxPipeline %d out of range [1, %d]", c.MaxPipeline, maxMaxPipeline)
	case c.LogInterval < minTimeout || c.LogInterval > maxTimeout:
		return fmt.Errorf("resp: LogInterval %v out of range [%v, %v]", c.LogInterval, minTimeout, maxTimeout)
	}
	if c.Handler == nil {
		for _, cmd := range c.Commands.Commands() {
			if cmd.Func == nil {
				return fmt.Errorf("resp: Handler is nil and command %q has no Func", cmd.Name)
			}
		}
	}
	return nil
}

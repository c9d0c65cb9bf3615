package commands

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/cairndb/cairn/eventual/coord"
	"github.com/cairndb/cairn/eventual/object"
	"github.com/cairndb/cairn/eventual/resp"
)

// Coordinator is what the commands need of package coord.
type Coordinator interface {
	Write(ctx context.Context, key []byte, op coord.Op, level coord.Level) (coord.Result, error)
	Read(ctx context.Context, key []byte, level coord.Level) (object.Object, error)
}

// Config configures the command set.
type Config struct {
	// Coordinator runs the reads and writes.
	Coordinator Coordinator
	// ReadLevel and WriteLevel are a new connection's levels (default
	// QUORUM).
	ReadLevel, WriteLevel coord.Level
	// Timeout bounds one command (default 5s).
	Timeout time.Duration
	// Now returns the time expiry is judged by; nil means time.Now.
	Now func() time.Time
	// SessionKeys is how many recently used keys a connection remembers
	// for its session guarantees (default 1024; negative turns them off).
	SessionKeys int
	// Info returns extra "key:value" lines for INFO's server section
	// (node id, cluster size); nil adds none.
	Info func() []string
}

// Service holds the command table.
type Service struct {
	cfg          Config
	table        *resp.CommandTable
	sessionLocks [64]sync.Mutex
}

// New builds the command table.
func New(cfg Config) *Service {
	if cfg.ReadLevel.Kind == 0 {
		cfg.ReadLevel = coord.LevelQuorum
	}
	if cfg.WriteLevel.Kind == 0 {
		cfg.WriteLevel = coord.LevelQuorum
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionKeys == 0 {
		cfg.SessionKeys = 1024
	}
	s := &Service{cfg: cfg, table: resp.NewCommandTable()}
	s.register()
	return s
}

// Table returns the command table, for resp.Config.Commands.
func (s *Service) Table() *resp.CommandTable { return s.table }

// session returns the connection's state, creating it on first use.
// Concurrent commands of one connection run on goroutines of their own, so
// c.Value is only touched under a lock (striped by connection).
func (s *Service) session(c *resp.Conn) *session {
	mu := &s.sessionLocks[c.ID()%uint64(len(s.sessionLocks))]
	mu.Lock()
	defer mu.Unlock()
	if se, ok := c.Value.(*session); ok {
		return se
	}
	se := &session{read: s.cfg.ReadLevel, write: s.cfg.WriteLevel, seen: newSeenCache(s.cfg.SessionKeys)}
	c.Value = se
	return se
}

func (s *Service) ctx(r *resp.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Conn.Context(), s.cfg.Timeout)
}

func (s *Service) nowMs() int64 { return s.cfg.Now().UnixMilli() }

// write runs one mutation at the connection's write level.
func (s *Service) write(r *resp.Request, key []byte, op coord.Op) (coord.Result, error) {
	ctx, cancel := s.ctx(r)
	defer cancel()
	se := s.session(r.Conn)
	if op.RemovesObserved() {
		op.Seen = se.seen.removeContext(key)
	}
	res, err := s.cfg.Coordinator.Write(ctx, key, op, se.write)
	if err == nil && !res.Delta.IsZero() {
		se.seen.merge(key, res.Delta)
	}
	return res, err
}

// read reads one key at the connection's read level.
func (s *Service) read(r *resp.Request, key []byte) (object.Object, error) {
	ctx, cancel := s.ctx(r)
	defer cancel()
	se := s.session(r.Conn)
	o, err := s.cfg.Coordinator.Read(ctx, key, se.read)
	if err != nil {
		return o, err
	}
	return se.seen.keep(key, o), nil
}

// replyErr writes err in Redis's form: typed errors carry their own code
// (WRONGTYPE, NOQUORUM), others get ERR.
func replyErr(w *resp.Writer, err error) {
	var un *coord.UnavailableError
	switch {
	case errors.As(err, &un):
		w.Error(un.Error())
	case errors.Is(err, context.DeadlineExceeded):
		w.Error("TIMEOUT the request did not complete in time; it may or may not have been applied")
	default:
		w.Error(err.Error())
	}
}

// parseInt parses a Redis integer argument.
func parseInt(b []byte) (int64, bool) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	return n, err == nil
}

// copyBytes copies an argument the server's buffer would reuse.
func copyBytes(b []byte) []byte { return append([]byte(nil), b...) }

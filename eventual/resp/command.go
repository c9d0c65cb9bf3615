package resp

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
)

// Handler serves the data commands of a connection: every command that is
// not a connection command (see the package comment).
type Handler interface {
	// ServeRESP executes one command and writes exactly one reply to w
	// (an aggregate counts as one). Calls for one connection never
	// overlap and come in the order the commands were sent; calls for
	// different connections run concurrently. A call that writes no
	// reply, or more than one, is a bug: the server logs it and closes
	// the connection, whose reply stream is out of step. A panic is not
	// recovered.
	ServeRESP(w *Writer, r *Request)
}

// HandlerFunc is a function serving as a Handler.
type HandlerFunc func(w *Writer, r *Request)

// ServeRESP calls f(w, r).
func (f HandlerFunc) ServeRESP(w *Writer, r *Request) { f(w, r) }

// Request is one command for a Handler. The server reuses it for the
// connection's next command: a handler must not keep it, nor Args, after
// it returns.
type Request struct {
	// Conn is the connection the command came on.
	Conn *Conn
	// Args is the command, its name first, as the client sent it (any
	// case). The slices alias the connection's read buffer: a handler
	// that keeps an argument (a key or value it stores) must copy it.
	Args [][]byte
	// Cmd is the command's entry in Config.Commands, its arity already
	// checked; nil if the table has no such command (or there is no
	// table), in which case the handler decides (CommandTable's
	// ServeRESP replies MsgUnknownCommand).
	Cmd *Command
}

// Flags describe a command, as Redis's command flags: COMMAND reports
// them, and clients use some (go-redis routes "readonly" commands to
// replicas in cluster mode).
type Flags uint32

// Command flags, named as COMMAND reports them.
const (
	FlagWrite    Flags = 1 << iota // "write": may modify data
	FlagReadOnly                   // "readonly": only reads data
	FlagDenyOOM                    // "denyoom": may grow memory use
	FlagAdmin                      // "admin": administrative
	FlagPubSub                     // "pubsub": publish/subscribe
	FlagNoScript                   // "noscript": not allowed in scripts
	FlagBlocking                   // "blocking": may block the client
	FlagLoading                    // "loading": allowed while loading
	FlagStale                      // "stale": allowed with stale data
	FlagFast                       // "fast": O(1) or O(log N)
	// FlagNoAuth ("no_auth") lets the command run before the client has
	// authenticated, when Config.Password is set.
	FlagNoAuth

	flagEnd
)

var flagNames = [...]string{"write", "readonly", "denyoom", "admin", "pubsub", "noscript", "blocking", "loading", "stale", "fast", "no_auth"}

// Names returns the names of the flags set, in bit order.
func (f Flags) Names() []string {
	var names []string
	for i, name := range flagNames {
		if f&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	return names
}

// Command describes one command: what COMMAND reports about it, what the
// server checks before calling the handler, and optionally the function
// that serves it.
type Command struct {
	// Name is the command's name, matched without regard to case; it is
	// stored in lower case.
	Name string
	// Arity is Redis's arity: the exact number of arguments, the name
	// included, when positive; the least number when negative. A command
	// sent with another number gets MsgWrongArgs and never reaches the
	// handler.
	Arity int
	// Flags describe the command (see Flags).
	Flags Flags
	// FirstKey, LastKey and KeyStep locate the keys among the arguments
	// as Redis's legacy key positions do: the first key's index (0 for a
	// command without keys), the last key's (negative counts from the
	// end: -1 is the last argument), and the distance between keys (2
	// for MSET's key-value pairs).
	FirstKey, LastKey, KeyStep int
	// Group, Summary, Since and Complexity are COMMAND DOCS's fields
	// ("string", "Returns the string value of a key.", "1.0.0", "O(1)");
	// Group also gives the ACL category ("@string"). Empty ones are
	// left out.
	Group, Summary, Since, Complexity string
	// Concurrent lets the server run the command on a goroutine of its own
	// while the connection reads and starts the next ones (replies still
	// go out in command order, and a command whose keys overlap one in
	// flight waits for it). The handler must then be safe for concurrent
	// calls on one connection (its Conn.Value state included), and the
	// key positions must name every key the command touches.
	Concurrent bool
	// Func serves the command when the table is the server's handler
	// (Config.Handler nil), or when a Handler calls the table's
	// ServeRESP; a Handler of its own may ignore it.
	Func HandlerFunc

	// Set when the command is registered:
	id      int                                     // index in its table (or among the built-ins)
	builtin func(s *Server, c *Conn, args [][]byte) // a connection command's implementation
	subs    map[string]*Command                     // a container's subcommands (CLIENT, COMMAND)
	hidden  bool                                    // left out of COMMAND (POST, HOST:)
	// nameFull is Name with its container's name ("client|list"), as
	// MsgWrongArgs and CLIENT LIST's cmd= name a subcommand.
	nameFull string
}

// Keys appends to dst the arguments of args (a whole command, name
// first) that are keys according to FirstKey, LastKey and KeyStep, and
// returns it: the keys a coordinator routes the command by. A command
// without keys, or args too short for its first key, has none.
func (c *Command) Keys(dst [][]byte, args [][]byte) [][]byte {
	if c.FirstKey == 0 || c.FirstKey >= len(args) {
		return dst
	}
	last := c.LastKey
	if last < 0 {
		last += len(args)
	}
	last = min(last, len(args)-1)
	for i := c.FirstKey; i <= last; i += c.KeyStep {
		dst = append(dst, args[i])
	}
	return dst
}

// maxNameLen is the longest command name; a longer one is unknown without
// a lookup. Redis's longest is 28 bytes.
const maxNameLen = 64

// CommandTable holds the data commands a server knows. Register them all
// before the table is given to a Server: the Server freezes the table, and
// lookups then run without locks.
type CommandTable struct {
	byName map[string]*Command
	list   []*Command
	frozen atomic.Bool
}

// NewCommandTable returns an empty table.
func NewCommandTable() *CommandTable {
	return &CommandTable{byName: make(map[string]*Command)}
}

// errFrozen is Register's error once a server uses the table.
var errFrozen = errors.New("resp: command table is in use by a server; register commands before creating it")

// Register adds cmd. It fails if the table is frozen, the name is taken
// (a connection command's included), or cmd is malformed: a name that is
// empty, longer than 64 bytes, or holds a space or control byte; arity 0;
// key positions that do not describe any argument; or both FlagWrite and
// FlagReadOnly.
func (t *CommandTable) Register(cmd Command) error {
	if t.frozen.Load() {
		return errFrozen
	}
	cmd.Name = strings.ToLower(cmd.Name)
	if err := cmd.validate(); err != nil {
		return err
	}
	if _, ok := t.byName[cmd.Name]; ok {
		return fmt.Errorf("resp: command %q registered twice", cmd.Name)
	}
	if builtinTable().byName[cmd.Name] != nil {
		return fmt.Errorf("resp: command %q is a connection command the server serves itself", cmd.Name)
	}
	c := cmd
	c.id = len(t.list)
	c.nameFull = c.Name
	t.byName[c.Name] = &c
	t.list = append(t.list, &c)
	return nil
}

// MustRegister registers each command, and panics on the first error: for
// tables built at start-up from literals.
func (t *CommandTable) MustRegister(cmds ...Command) {
	for _, cmd := range cmds {
		if err := t.Register(cmd); err != nil {
			panic(err)
		}
	}
}

func (c *Command) validate() error {
	switch {
	case c.Name == "" || len(c.Name) > maxNameLen:
		return fmt.Errorf("resp: command name %q must be 1 to %d bytes", c.Name, maxNameLen)
	case strings.IndexFunc(c.Name, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0:
		return fmt.Errorf("resp: command name %q holds a space, control or non-ASCII byte", c.Name)
	case c.Arity == 0:
		return fmt.Errorf("resp: command %q has arity 0 (use n for exactly n arguments, -n for at least n)", c.Name)
	case c.Flags >= flagEnd:
		return fmt.Errorf("resp: command %q has unknown flags %#x", c.Name, uint32(c.Flags))
	case c.Flags&FlagWrite != 0 && c.Flags&FlagReadOnly != 0:
		return fmt.Errorf("resp: command %q is both write and readonly", c.Name)
	case c.FirstKey < 0:
		return fmt.Errorf("resp: command %q has FirstKey %d < 0", c.Name, c.FirstKey)
	case c.FirstKey == 0 && (c.LastKey != 0 || c.KeyStep != 0):
		return fmt.Errorf("resp: command %q has no FirstKey but LastKey %d, KeyStep %d", c.Name, c.LastKey, c.KeyStep)
	case c.FirstKey > 0 && c.KeyStep < 1:
		return fmt.Errorf("resp: command %q has KeyStep %d < 1", c.Name, c.KeyStep)
	case c.FirstKey > 0 && c.LastKey >= 0 && c.LastKey < c.FirstKey:
		return fmt.Errorf("resp: command %q has LastKey %d before FirstKey %d", c.Name, c.LastKey, c.FirstKey)
	}
	return nil
}

// Lookup returns the command named name, in any case, or nil. It does not
// allocate.
func (t *CommandTable) Lookup(name []byte) *Command {
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
	return t.byName[string(lower[:len(name)])]
}

// Commands returns the registered commands, sorted by name. They must not
// be modified.
func (t *CommandTable) Commands() []*Command {
	out := slices.Clone(t.list)
	slices.SortFunc(out, func(a, b *Command) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Len returns the number of registered commands.
func (t *CommandTable) Len() int { return len(t.list) }

// ServeRESP makes the table a Handler: it calls the command's Func, or
// replies MsgUnknownCommand for a command it does not have. The arity is
// checked when the server found r.Cmd; a caller of its own that sets
// r.Cmd to nil gets the lookup and the check done here.
func (t *CommandTable) ServeRESP(w *Writer, r *Request) {
	cmd := r.Cmd
	if cmd == nil {
		if len(r.Args) > 0 {
			cmd = t.Lookup(r.Args[0])
		}
		if cmd == nil {
			w.Error(MsgUnknownCommand(r.Args))
			return
		}
		if !ArityOK(cmd.Arity, len(r.Args)) {
			w.Error(MsgWrongArgs(cmd.nameFull))
			return
		}
	}
	if cmd.Func == nil {
		w.Error(MsgUnknownCommand(r.Args))
		return
	}
	cmd.Func(w, r)
}

func (t *CommandTable) freeze() { t.frozen.Store(true) }

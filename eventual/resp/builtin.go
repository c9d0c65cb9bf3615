package resp

import (
	"crypto/subtle"
	"sync"
	"time"
)

// The connection commands the server serves itself, in Redis 7.2's words.
// Their replies were checked byte for byte against redis-server (see
// oracle_test.go).

// Replies of the connection commands that have no Msg constant.
const (
	msgAuthNoPassword = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
	msgHelloBadProto  = "ERR Protocol version is not an integer or out of range"
	msgHelloNoProto   = "NOPROTO unsupported protocol version"
	msgHelloNoAuth    = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
	msgClientName     = "ERR Client names cannot contain spaces, newlines or special characters."
)

// defaultUser is the only user: Redis's, whose password is requirepass.
const defaultUser = "default"

// builtinTable holds the connection commands, built once. It is not
// built with Register, which consults it.
var builtinTable = sync.OnceValue(func() *CommandTable {
	t := &CommandTable{byName: make(map[string]*Command)}
	add := func(c *Command) *Command {
		c.id = len(t.list)
		c.nameFull = c.Name
		if c.Group == "" {
			c.Group = "connection"
		}
		t.byName[c.Name] = c
		t.list = append(t.list, c)
		return c
	}
	const always = FlagNoScript | FlagLoading | FlagStale | FlagFast
	add(&Command{Name: "ping", Arity: -1, Flags: FlagFast, builtin: cmdPing,
		Summary: "Returns the server's liveliness response.", Since: "1.0.0", Complexity: "O(1)"})
	add(&Command{Name: "echo", Arity: 2, Flags: FlagFast, builtin: cmdEcho,
		Summary: "Returns the given string.", Since: "1.0.0", Complexity: "O(1)"})
	add(&Command{Name: "quit", Arity: -1, Flags: always | FlagNoAuth, builtin: cmdQuit,
		Summary: "Closes the connection.", Since: "1.0.0", Complexity: "O(1)"})
	add(&Command{Name: "select", Arity: 2, Flags: FlagLoading | FlagStale | FlagFast, builtin: cmdSelect,
		Summary: "Changes the selected database (only database 0 exists).", Since: "1.0.0", Complexity: "O(1)"})
	add(&Command{Name: "auth", Arity: -2, Flags: always | FlagNoAuth, builtin: cmdAuth,
		Summary: "Authenticates the connection.", Since: "1.0.0", Complexity: "O(N) where N is the number of passwords defined for the user"})
	add(&Command{Name: "hello", Arity: -1, Flags: always | FlagNoAuth, builtin: cmdHello,
		Summary: "Handshakes with the server.", Since: "6.0.0", Complexity: "O(1)"})
	add(&Command{Name: "reset", Arity: 1, Flags: always | FlagNoAuth, builtin: cmdReset,
		Summary: "Resets the connection.", Since: "6.2.0", Complexity: "O(1)"})
	add(clientCommand())
	add(commandCommand())
	// An HTTP request sent to the port (a browser, a cross-protocol
	// attack): Redis closes the connection without a reply.
	for _, name := range []string{"post", "host:"} {
		add(&Command{Name: name, Arity: -1, Flags: FlagNoAuth, builtin: cmdSecurityWarning, hidden: true})
	}
	return t
})

// container returns a command that dispatches on its first argument to
// subs, as Redis's CLIENT and COMMAND. run, if not nil, serves the
// command sent without a subcommand (COMMAND alone).
func container(c *Command, run func(s *Server, c *Conn, args [][]byte), subs ...*Command) *Command {
	c.subs = make(map[string]*Command, len(subs))
	for _, sub := range subs {
		sub.nameFull = c.Name + "|" + sub.Name
		sub.id = -1
		if sub.Group == "" {
			sub.Group = c.Group
		}
		c.subs[sub.Name] = sub
	}
	c.builtin = func(s *Server, conn *Conn, args [][]byte) {
		if len(args) == 1 && run != nil {
			run(s, conn, args)
			return
		}
		sub := lookupIn(c.subs, args[1])
		switch {
		case sub == nil:
			conn.wr.Error(MsgUnknownSubcommand(c.Name, args[1]))
		case !ArityOK(sub.Arity, len(args)):
			conn.wr.Error(MsgWrongArgs(sub.nameFull))
		default:
			conn.lastCmd.Store(sub)
			sub.builtin(s, conn, args)
		}
	}
	return c
}

// lookupIn returns m's command named name, in any case, without
// allocating.
func lookupIn(m map[string]*Command, name []byte) *Command {
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
	return m[string(lower[:len(name)])]
}

func cmdPing(_ *Server, c *Conn, args [][]byte) {
	if len(args) > 2 { // Redis's arity is -1, but it takes one argument at most
		c.wr.Error(MsgWrongArgs("ping"))
		return
	}
	if len(args) == 1 {
		c.wr.SimpleString("PONG")
		return
	}
	c.wr.Bulk(args[1])
}

func cmdEcho(_ *Server, c *Conn, args [][]byte) { c.wr.Bulk(args[1]) }

func cmdQuit(_ *Server, c *Conn, _ [][]byte) {
	c.wr.SimpleString("OK")
	c.closing, c.lingered = true, true
}

func cmdSecurityWarning(s *Server, c *Conn, _ [][]byte) {
	s.m.protocolErrors.Inc()
	if ok, n := s.protoLog.Allow(time.Now()); ok {
		s.log.Warn("resp: an HTTP request was sent to the RESP port (a browser, or a cross-protocol attack); connection closed",
			"remote", c.nc.RemoteAddr().String(), "client_id", c.id, "suppressed", n)
	}
	c.closing = true // without a reply, as Redis does
}

func cmdSelect(_ *Server, c *Conn, args [][]byte) {
	n, ok := parseInt(args[1])
	switch {
	case !ok:
		c.wr.Error(MsgNotInteger)
	case n < -1<<31 || n > 1<<31-1:
		c.wr.Error("ERR value is out of range, value must between -2147483648 and 2147483647")
	case n != 0:
		c.wr.Error(MsgDBOutOfRange)
	default:
		c.wr.SimpleString("OK")
	}
}

func cmdAuth(s *Server, c *Conn, args [][]byte) {
	var user, pass []byte
	switch len(args) {
	case 2:
		if s.cfg.Password == "" {
			c.wr.Error(msgAuthNoPassword)
			return
		}
		user, pass = []byte(defaultUser), args[1]
	case 3:
		user, pass = args[1], args[2]
	default:
		c.wr.Error(MsgSyntax)
		return
	}
	if !s.checkAuth(user, pass) {
		c.wr.Error(MsgWrongPass)
		return
	}
	c.setAuthed(true)
	c.wr.SimpleString("OK")
}

// checkAuth reports whether user and pass are the default user's: any
// password when Config.Password is empty (Redis's nopass).
func (s *Server) checkAuth(user, pass []byte) bool {
	if string(user) != defaultUser {
		return false
	}
	return s.cfg.Password == "" || subtle.ConstantTimeCompare(pass, []byte(s.cfg.Password)) == 1
}

func (c *Conn) setAuthed(v bool) {
	c.authed = v
	c.rd.unauth = !v
}

// cmdHello: HELLO [protover [AUTH username password] [SETNAME clientname]].
func cmdHello(s *Server, c *Conn, args [][]byte) {
	proto := 0
	next := 1
	if len(args) >= 2 {
		n, ok := parseInt(args[1])
		if !ok {
			c.wr.Error(msgHelloBadProto)
			return
		}
		if n < 2 || n > 3 {
			c.wr.Error(msgHelloNoProto)
			return
		}
		proto, next = int(n), 2
	}
	var user, pass, name []byte
	auth, setName := false, false
	for j := next; j < len(args); j++ {
		more := len(args) - 1 - j
		switch opt := args[j]; {
		case equalFold(opt, "auth") && more >= 2:
			user, pass, auth = args[j+1], args[j+2], true
			j += 2
		case equalFold(opt, "setname") && more >= 1:
			name, setName = args[j+1], true
			if !validClientAttr(string(name)) {
				c.wr.Error(msgClientName)
				return
			}
			j++
		default:
			c.wr.Error("ERR Syntax error in HELLO option '" + string(opt) + "'")
			return
		}
	}
	if auth {
		if !s.checkAuth(user, pass) {
			c.wr.Error(MsgWrongPass)
			return
		}
		c.setAuthed(true)
	}
	if !c.authed {
		c.wr.Error(msgHelloNoAuth)
		return
	}
	if setName {
		c.setName(string(name))
	}
	if proto != 0 {
		c.wr.SetProtocol(proto)
		c.proto.Store(int32(proto))
	}
	w := c.wr
	w.MapLen(7)
	w.BulkString("server")
	w.BulkString(s.cfg.ServerName)
	w.BulkString("version")
	w.BulkString(s.cfg.Version)
	w.BulkString("proto")
	w.Integer(int64(w.Protocol()))
	w.BulkString("id")
	w.Integer(int64(c.id))
	w.BulkString("mode")
	w.BulkString("standalone")
	w.BulkString("role")
	w.BulkString("master")
	w.BulkString("modules")
	w.ArrayLen(0)
}

// cmdReset returns the connection to its state at accept, as Redis's
// RESET: no name, RESP2, not authenticated if a password is required;
// then the handler resets its own state.
func cmdReset(s *Server, c *Conn, _ [][]byte) {
	c.setName("")
	c.wr.SetProtocol(2)
	c.proto.Store(2)
	c.setAuthed(s.cfg.Password == "")
	if s.observer != nil {
		s.observer.ConnReset(c)
	}
	c.wr.SimpleString("RESET")
}

// equalFold reports whether b equals the lower-case ASCII word lower, in
// any case.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// validClientAttr reports whether s may be a client name or library
// attribute: printable ASCII without spaces ('!' to '~'), as Redis
// requires so that CLIENT LIST stays parseable. Empty is valid (it clears
// a name).
func validClientAttr(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return true
}

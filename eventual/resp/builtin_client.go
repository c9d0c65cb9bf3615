package resp

import (
	"strconv"
	"time"
)

// clientCommand is CLIENT with the subcommands clients send at connect
// and tools use: ID, GETNAME, SETNAME, INFO, LIST, SETINFO, NO-EVICT, NO-TOUCH,
// HELP.
func clientCommand() *Command {
	const flags = FlagNoScript | FlagLoading | FlagStale
	return container(&Command{Name: "client", Arity: -2, Flags: flags,
		Summary: "A container for client connection commands.", Since: "2.4.0", Complexity: "Depends on subcommand."},
		nil,
		&Command{Name: "id", Arity: 2, Flags: flags, builtin: cmdClientID,
			Summary: "Returns the unique client ID of the connection.", Since: "5.0.0", Complexity: "O(1)"},
		&Command{Name: "getname", Arity: 2, Flags: flags, builtin: cmdClientGetName,
			Summary: "Returns the name of the connection.", Since: "2.6.9", Complexity: "O(1)"},
		&Command{Name: "setname", Arity: 3, Flags: flags, builtin: cmdClientSetName,
			Summary: "Sets the connection name.", Since: "2.6.9", Complexity: "O(1)"},
		&Command{Name: "info", Arity: 2, Flags: flags, builtin: cmdClientInfo,
			Summary: "Returns information about the connection.", Since: "6.2.0", Complexity: "O(1)"},
		&Command{Name: "list", Arity: -2, Flags: flags | FlagAdmin, builtin: cmdClientList,
			Summary: "Lists open connections.", Since: "2.4.0", Complexity: "O(N) where N is the number of client connections"},
		&Command{Name: "setinfo", Arity: 4, Flags: flags, builtin: cmdClientSetInfo,
			Summary: "Sets information specific to the client or connection.", Since: "7.2.0", Complexity: "O(1)"},
		&Command{Name: "no-evict", Arity: 3, Flags: flags | FlagAdmin, builtin: cmdClientOnOff,
			Summary: "Sets the client eviction mode of the connection (cairn evicts no client: a no-op).", Since: "7.0.0", Complexity: "O(1)"},
		&Command{Name: "no-touch", Arity: 3, Flags: flags, builtin: cmdClientOnOff,
			Summary: "Controls whether commands sent by the client affect the LRU/LFU of accessed keys (a no-op).", Since: "7.2.0", Complexity: "O(1)"},
		&Command{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, builtin: cmdClientHelp,
			Summary: "Returns helpful text about the different subcommands.", Since: "5.0.0", Complexity: "O(1)"},
	)
}

func cmdClientID(_ *Server, c *Conn, _ [][]byte) { c.wr.Integer(int64(c.id)) }

func cmdClientGetName(_ *Server, c *Conn, _ [][]byte) {
	if name := c.Name(); name != "" {
		c.wr.BulkString(name)
		return
	}
	c.wr.Null()
}

func cmdClientSetName(_ *Server, c *Conn, args [][]byte) {
	name := string(args[2])
	if !validClientAttr(name) {
		c.wr.Error(msgClientName)
		return
	}
	c.setName(name)
	c.wr.SimpleString("OK")
}

// cmdClientSetInfo: CLIENT SETINFO LIB-NAME|LIB-VER value, which go-redis
// and redis-py send on every new connection (Redis 7.2).
func cmdClientSetInfo(_ *Server, c *Conn, args [][]byte) {
	attr, val := args[2], string(args[3])
	lib := equalFold(attr, "lib-name")
	if !lib && !equalFold(attr, "lib-ver") {
		c.wr.Error("ERR Unrecognized option '" + string(attr) + "'")
		return
	}
	if !validClientAttr(val) {
		c.wr.Error("ERR " + string(attr) + " cannot contain spaces, newlines or special characters.")
		return
	}
	c.info.Lock()
	if lib {
		c.info.libName = val
	} else {
		c.info.libVer = val
	}
	c.info.Unlock()
	c.wr.SimpleString("OK")
}

// cmdClientOnOff serves the CLIENT switches that mean nothing to cairn
// (NO-EVICT, NO-TOUCH): ON or OFF is accepted, as Redis accepts it.
func cmdClientOnOff(_ *Server, c *Conn, args [][]byte) {
	if !equalFold(args[2], "on") && !equalFold(args[2], "off") {
		c.wr.Error(MsgSyntax)
		return
	}
	c.wr.SimpleString("OK")
}

func cmdClientInfo(_ *Server, c *Conn, _ [][]byte) {
	line := c.appendInfo(nil, time.Now())
	c.wr.Verbatim("txt", append(line, '\n'))
}

// cmdClientList: CLIENT LIST [TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID id ...].
// Every connection is a normal one.
func cmdClientList(s *Server, c *Conn, args [][]byte) {
	conns := s.conns()
	switch {
	case len(args) == 2:
	case len(args) == 4 && equalFold(args[2], "type"):
		switch {
		case equalFold(args[3], "normal"):
		case equalFold(args[3], "master"), equalFold(args[3], "replica"), equalFold(args[3], "slave"), equalFold(args[3], "pubsub"):
			conns = nil
		default:
			c.wr.Error("ERR Unknown client type '" + string(args[3]) + "'")
			return
		}
	case len(args) > 3 && equalFold(args[2], "id"):
		byID := make(map[uint64]*Conn, len(conns))
		for _, o := range conns {
			byID[o.id] = o
		}
		conns = conns[:0]
		for _, a := range args[3:] {
			id, ok := parseInt(a)
			if !ok {
				c.wr.Error("ERR Invalid client ID")
				return
			}
			if o := byID[uint64(id)]; id > 0 && o != nil {
				conns = append(conns, o)
			}
		}
	default:
		c.wr.Error(MsgSyntax)
		return
	}
	now := time.Now()
	var out []byte
	for _, o := range conns {
		out = append(o.appendInfo(out, now), '\n')
	}
	c.wr.Verbatim("txt", out)
}

// appendInfo appends the connection's CLIENT LIST line. It has Redis's
// fields in Redis's order, but only those cairn keeps: clients that parse
// the line (go-redis's ClientInfo) skip missing fields, but some would
// take invented numbers at face value.
func (c *Conn) appendInfo(b []byte, now time.Time) []byte {
	c.info.Lock()
	name, lib, libVer := c.info.name, c.info.libName, c.info.libVer
	c.info.Unlock()
	cmd := "NULL"
	if last := c.lastCmd.Load(); last != nil {
		cmd = last.nameFull
	}
	b = append(b, "id="...)
	b = strconv.AppendUint(b, c.id, 10)
	b = append(b, " addr="...)
	b = append(b, c.nc.RemoteAddr().String()...)
	b = append(b, " laddr="...)
	b = append(b, c.nc.LocalAddr().String()...)
	b = append(b, " fd="...)
	b = strconv.AppendInt(b, int64(c.fd), 10)
	b = append(b, " name="...)
	b = append(b, name...)
	b = append(b, " age="...)
	b = strconv.AppendInt(b, int64(now.Sub(c.created)/time.Second), 10)
	b = append(b, " idle="...)
	b = strconv.AppendInt(b, max(0, int64(now.Sub(time.Unix(0, c.lastActive.Load()))/time.Second)), 10)
	b = append(b, " flags=N db=0 sub=0 psub=0 ssub=0 events=r cmd="...)
	b = append(b, cmd...)
	b = append(b, " user="...)
	b = append(b, defaultUser...)
	b = append(b, " redir=-1 resp="...)
	b = strconv.AppendInt(b, int64(c.proto.Load()), 10)
	b = append(b, " lib-name="...)
	b = append(b, lib...)
	b = append(b, " lib-ver="...)
	b = append(b, libVer...)
	return b
}

var clientHelp = []string{
	"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"GETNAME",
	"    Return the name of the current connection.",
	"ID",
	"    Return the ID of the current connection.",
	"INFO",
	"    Return information about the current client connection.",
	"LIST [TYPE <type>] [ID <id> [<id> ...]]",
	"    Return information about client connections. Options:",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Return clients of specified type.",
	"SETNAME <name>",
	"    Assign the name <name> to the current connection.",
	"NO-EVICT (ON|OFF)",
	"    Accepted for compatibility: cairn evicts no client.",
	"NO-TOUCH (ON|OFF)",
	"    Accepted for compatibility: cairn keeps no LRU/LFU.",
	"SETINFO <option> <value>",
	"    Set client meta attr. Options are:",
	"    * LIB-NAME: the client lib name.",
	"    * LIB-VER: the client lib version.",
	"HELP",
	"    Print this help.",
}

func cmdClientHelp(_ *Server, c *Conn, _ [][]byte) { writeHelp(c.wr, clientHelp) }

func writeHelp(w *Writer, lines []string) {
	w.ArrayLen(len(lines))
	for _, l := range lines {
		w.SimpleString(l)
	}
}

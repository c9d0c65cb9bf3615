package commands

import (
	"path"
	"strings"

	"github.com/cairndb/cairn/eventual/coord"
	"github.com/cairndb/cairn/eventual/resp"
)

// consistency serves CAIRN.CONSISTENCY [level | read-level write-level].
func (s *Service) consistency(w *resp.Writer, r *resp.Request) {
	se := s.session(r.Conn)
	switch len(r.Args) {
	case 1:
		w.MapLen(2)
		w.BulkString("read")
		w.BulkString(se.read.String())
		w.BulkString("write")
		w.BulkString(se.write.String())
		return
	case 2, 3:
		rl, err := coord.ParseLevel(string(r.Args[1]))
		if err != nil {
			w.Error("ERR " + err.Error())
			return
		}
		wl := rl
		if len(r.Args) == 3 {
			if wl, err = coord.ParseLevel(string(r.Args[2])); err != nil {
				w.Error("ERR " + err.Error())
				return
			}
		}
		se.read, se.write = rl, wl
		w.SimpleString("OK")
	default:
		w.Error(resp.MsgWrongArgs("cairn.consistency"))
	}
}

// info serves INFO with a server section (and the keyspace section empty:
// counting keys would take a cluster-wide scan).
func (s *Service) info(w *resp.Writer, r *resp.Request) {
	var b strings.Builder
	b.WriteString("# Server\r\nredis_version:7.2.0\r\nredis_mode:standalone\r\ncairn_tier:eventual\r\n")
	if s.cfg.Info != nil {
		for _, line := range s.cfg.Info() {
			b.WriteString(line)
			b.WriteString("\r\n")
		}
	}
	se := s.session(r.Conn)
	b.WriteString("cairn_read_level:" + se.read.String() + "\r\ncairn_write_level:" + se.write.String() + "\r\n")
	b.WriteString("\r\n# Keyspace\r\n")
	w.BulkString(b.String())
}

// configParams are the parameters CONFIG GET reports: what tools ask
// (redis-benchmark reads save and appendonly) with values that describe
// cairn (durability is cairn's own: see --unsafe-no-fsync).
var configParams = [][2]string{
	{"appendonly", "no"},
	{"databases", "1"},
	{"maxmemory", "0"},
	{"save", ""},
}

// config serves CONFIG GET pattern... and refuses CONFIG SET.
func (s *Service) config(w *resp.Writer, r *resp.Request) {
	switch strings.ToUpper(string(r.Args[1])) {
	case "GET":
		var out [][2]string
		for _, p := range configParams {
			for _, pat := range r.Args[2:] {
				if ok, _ := path.Match(strings.ToLower(string(pat)), p[0]); ok {
					out = append(out, p)
					break
				}
			}
		}
		w.MapLen(len(out))
		for _, p := range out {
			w.BulkString(p[0])
			w.BulkString(p[1])
		}
	default:
		w.Error("ERR CONFIG " + strings.ToUpper(string(r.Args[1])) + " is not supported: configure cairn with its command line")
	}
}

// register fills the command table.
func (s *Service) register() {
	const (
		wr   = resp.FlagWrite | resp.FlagDenyOOM
		ro   = resp.FlagReadOnly
		fast = resp.FlagFast
	)
	// Commands on named keys run concurrently within a pipeline (package
	// resp keeps the replies, and the commands on one key, in order):
	// each waits on the network, and a pipeline of them would otherwise
	// pay the round trips one after the other.
	key1 := func(c resp.Command) resp.Command {
		c.FirstKey, c.LastKey, c.KeyStep, c.Concurrent = 1, 1, 1, true
		return c
	}
	keys := func(c resp.Command) resp.Command {
		c.FirstKey, c.LastKey, c.KeyStep, c.Concurrent = 1, -1, 1, true
		return c
	}
	s.table.MustRegister(
		key1(resp.Command{Name: "get", Arity: 2, Flags: ro | fast, Group: "string", Summary: "Returns the string value of a key.", Func: s.get}),
		key1(resp.Command{Name: "set", Arity: -3, Flags: wr, Group: "string", Summary: "Sets the string value of a key, ignoring its type.", Func: s.set}),
		key1(resp.Command{Name: "setex", Arity: 4, Flags: wr, Group: "string", Summary: "Sets a string value and its expiry in seconds.", Func: s.setex("EX")}),
		key1(resp.Command{Name: "psetex", Arity: 4, Flags: wr, Group: "string", Summary: "Sets a string value and its expiry in milliseconds.", Func: s.setex("PX")}),
		key1(resp.Command{Name: "setnx", Arity: 3, Flags: wr | fast, Group: "string", Summary: "Sets a key if it does not exist (linearizable, Paxos).", Func: s.setnx}),
		resp.Command{Name: "scan", Arity: -2, Flags: ro, Group: "generic", Summary: "Iterates the keys across the ring.", Func: s.scanCmd},
		resp.Command{Name: "keys", Arity: 2, Flags: ro, Group: "generic", Summary: "Lists the keys matching a pattern (a whole scan of the ring).", Func: s.keys},
		resp.Command{Name: "dbsize", Arity: 1, Flags: ro, Group: "server", Summary: "Counts the keys (a whole scan of the ring).", Func: s.dbsize},
		key1(resp.Command{Name: "cairn.cas", Arity: 4, Flags: wr | fast, Group: "string", Summary: "Sets a key if it holds the expected value (cairn; linearizable, Paxos).", Func: s.casCmd}),
		key1(resp.Command{Name: "cairn.cad", Arity: 3, Flags: resp.FlagWrite | fast, Group: "string", Summary: "Deletes a key if it holds the expected value (cairn; linearizable, Paxos).", Func: s.cad}),
		key1(resp.Command{Name: "cairn.lget", Arity: 2, Flags: ro | fast, Group: "string", Summary: "Reads a key linearizably through Paxos (cairn).", Func: s.lget}),
		key1(resp.Command{Name: "getset", Arity: 3, Flags: wr, Group: "string", Summary: "Returns the old value and sets a new one (not atomic).", Func: s.getThen(coord.OpSet)}),
		key1(resp.Command{Name: "getdel", Arity: 2, Flags: wr, Group: "string", Summary: "Returns the value and deletes the key (not atomic).", Func: s.getThen(coord.OpDel)}),
		keys(resp.Command{Name: "mget", Arity: -2, Flags: ro | fast, Group: "string", Summary: "Returns the values of keys.", Func: s.mget}),
		func() resp.Command {
			return resp.Command{Name: "mset", Arity: -3, Flags: wr, FirstKey: 1, LastKey: -1, KeyStep: 2, Concurrent: true, Group: "string", Summary: "Sets keys (not atomic across keys).", Func: s.mset}
		}(),
		key1(resp.Command{Name: "incr", Arity: 2, Flags: wr | fast, Group: "string", Summary: "Increments a counter by one.", Func: s.incr(1, 1)}),
		key1(resp.Command{Name: "decr", Arity: 2, Flags: wr | fast, Group: "string", Summary: "Decrements a counter by one.", Func: s.incr(-1, 1)}),
		key1(resp.Command{Name: "incrby", Arity: 3, Flags: wr | fast, Group: "string", Summary: "Increments a counter.", Func: s.incr(0, 1)}),
		key1(resp.Command{Name: "decrby", Arity: 3, Flags: wr | fast, Group: "string", Summary: "Decrements a counter.", Func: s.incr(0, -1)}),
		key1(resp.Command{Name: "strlen", Arity: 2, Flags: ro | fast, Group: "string", Summary: "Returns the length of a string value.", Func: s.strlen}),
		key1(resp.Command{Name: "append", Arity: 3, Flags: wr, Group: "string", Summary: "Appends to a string (last writer wins).", Func: s.appendCmd}),
		keys(resp.Command{Name: "del", Arity: -2, Flags: resp.FlagWrite, Group: "generic", Summary: "Deletes keys.", Func: s.del}),
		keys(resp.Command{Name: "unlink", Arity: -2, Flags: resp.FlagWrite | fast, Group: "generic", Summary: "Deletes keys.", Func: s.del}),
		keys(resp.Command{Name: "exists", Arity: -2, Flags: ro | fast, Group: "generic", Summary: "Counts the keys that exist.", Func: s.exists}),
		key1(resp.Command{Name: "type", Arity: 2, Flags: ro | fast, Group: "generic", Summary: "Returns the type of a key.", Func: s.typeCmd}),
		key1(resp.Command{Name: "expire", Arity: -3, Flags: resp.FlagWrite | fast, Group: "generic", Summary: "Sets a key's time to live in seconds.", Func: s.expire("EX")}),
		key1(resp.Command{Name: "pexpire", Arity: -3, Flags: resp.FlagWrite | fast, Group: "generic", Summary: "Sets a key's time to live in milliseconds.", Func: s.expire("PX")}),
		key1(resp.Command{Name: "expireat", Arity: -3, Flags: resp.FlagWrite | fast, Group: "generic", Summary: "Sets a key's expiry as a Unix time in seconds.", Func: s.expire("EXAT")}),
		key1(resp.Command{Name: "pexpireat", Arity: -3, Flags: resp.FlagWrite | fast, Group: "generic", Summary: "Sets a key's expiry as a Unix time in milliseconds.", Func: s.expire("PXAT")}),
		key1(resp.Command{Name: "ttl", Arity: 2, Flags: ro | fast, Group: "generic", Summary: "Returns a key's time to live in seconds.", Func: s.ttl(false)}),
		key1(resp.Command{Name: "pttl", Arity: 2, Flags: ro | fast, Group: "generic", Summary: "Returns a key's time to live in milliseconds.", Func: s.ttl(true)}),
		key1(resp.Command{Name: "persist", Arity: 2, Flags: resp.FlagWrite | fast, Group: "generic", Summary: "Removes a key's expiry.", Func: s.persist}),
		key1(resp.Command{Name: "sadd", Arity: -3, Flags: wr | fast, Group: "set", Summary: "Adds members to a set.", Func: s.countWrite(coord.OpSAdd)}),
		key1(resp.Command{Name: "srem", Arity: -3, Flags: resp.FlagWrite | fast, Group: "set", Summary: "Removes members from a set.", Func: s.countWrite(coord.OpSRem)}),
		key1(resp.Command{Name: "smembers", Arity: 2, Flags: ro, Group: "set", Summary: "Returns the members of a set.", Func: s.smembers}),
		key1(resp.Command{Name: "sismember", Arity: 3, Flags: ro | fast, Group: "set", Summary: "Tells whether a member is in a set.", Func: s.sismember}),
		key1(resp.Command{Name: "smismember", Arity: -3, Flags: ro | fast, Group: "set", Summary: "Tells whether members are in a set.", Func: s.smismember}),
		key1(resp.Command{Name: "scard", Arity: 2, Flags: ro | fast, Group: "set", Summary: "Returns the number of members of a set.", Func: s.scard}),
		key1(resp.Command{Name: "hset", Arity: -4, Flags: wr | fast, Group: "hash", Summary: "Sets hash fields.", Func: s.hset(false)}),
		key1(resp.Command{Name: "hmset", Arity: -4, Flags: wr | fast, Group: "hash", Summary: "Sets hash fields.", Func: s.hset(true)}),
		key1(resp.Command{Name: "hget", Arity: 3, Flags: ro | fast, Group: "hash", Summary: "Returns a hash field's value.", Func: s.hget}),
		key1(resp.Command{Name: "hmget", Arity: -3, Flags: ro | fast, Group: "hash", Summary: "Returns hash fields' values.", Func: s.hmget}),
		key1(resp.Command{Name: "hgetall", Arity: 2, Flags: ro, Group: "hash", Summary: "Returns all fields and values of a hash.", Func: s.hgetall(true, true)}),
		key1(resp.Command{Name: "hkeys", Arity: 2, Flags: ro, Group: "hash", Summary: "Returns the fields of a hash.", Func: s.hgetall(true, false)}),
		key1(resp.Command{Name: "hvals", Arity: 2, Flags: ro, Group: "hash", Summary: "Returns the values of a hash.", Func: s.hgetall(false, true)}),
		key1(resp.Command{Name: "hdel", Arity: -3, Flags: resp.FlagWrite | fast, Group: "hash", Summary: "Deletes hash fields.", Func: s.countWrite(coord.OpHDel)}),
		key1(resp.Command{Name: "hlen", Arity: 2, Flags: ro | fast, Group: "hash", Summary: "Returns the number of fields of a hash.", Func: s.hlen}),
		key1(resp.Command{Name: "hexists", Arity: 3, Flags: ro | fast, Group: "hash", Summary: "Tells whether a hash field exists.", Func: s.hexists}),
		resp.Command{Name: "cairn.token", Arity: 1, Flags: fast, Group: "connection", Summary: "Returns this connection's causal context as an opaque token (cairn).", Func: s.token},
		resp.Command{Name: "cairn.after", Arity: 2, Flags: fast, Group: "connection", Summary: "Makes this connection's reads causally after a token's context (cairn).", Func: s.after},
		resp.Command{Name: "cairn.consistency", Arity: -1, Flags: fast, Group: "connection", Summary: "Shows or sets the connection's read and write consistency levels (cairn).", Func: s.consistency},
		resp.Command{Name: "info", Arity: -1, Flags: resp.FlagLoading | resp.FlagStale, Group: "server", Summary: "Returns information about the server.", Func: s.info},
		resp.Command{Name: "config", Arity: -2, Flags: resp.FlagAdmin, Group: "server", Summary: "CONFIG GET answers empty; settings are command-line flags.", Func: s.config},
	)
}

// Package commands is the eventual tier's Redis command set: a
// resp.CommandTable whose commands run through the coordinator (package
// coord) at the connection's consistency levels.
//
// # Commands
//
// Strings and counters: GET, SET (EX, PX, EXAT, PXAT, KEEPTTL, GET, NX,
// XX), SETNX, SETEX, PSETEX, GETSET, GETDEL, MGET, MSET, INCR, DECR, INCRBY,
// DECRBY, STRLEN, APPEND. Compare-and-set (linearizable, through Paxos among
// the key's replicas): SET ... NX|XX, SETNX, and cairn's own CAIRN.CAS key
// expected new, CAIRN.CAD key expected (delete if equal) and CAIRN.LGET key (a
// linearizable read). Keys: DEL, UNLINK, EXISTS, TYPE, EXPIRE, PEXPIRE, EXPIREAT,
// PEXPIREAT, TTL, PTTL, PERSIST. Sets: SADD, SREM, SMEMBERS, SISMEMBER,
// SMISMEMBER, SCARD. Hashes: HSET, HMSET, HSETNX is not offered, HGET, HMGET, HGETALL, HDEL, HLEN, HEXISTS, HKEYS, HVALS.
// Server: INFO, CONFIG GET (answers what redis-benchmark asks), DBSIZE is
// not offered (it would need a cluster-wide scan).
//
// CAIRN.CONSISTENCY [level | read-level write-level] shows or sets the
// connection's levels (ONE, TWO, QUORUM, ALL or a count); the server's
// defaults apply to new connections (QUORUM both ways). A command that
// cannot meet its level fails with "-NOQUORUM ... needs 2 of 3 replicas, 1
// answered", never a silent downgrade.
//
// # Semantics (see package object for the merge rules)
//
// Writes are CRDT mutations: concurrent INCRs add up, concurrent SADDs
// union, a write concurrent with a DEL survives it, strings are last writer
// wins by hybrid logical clock. A read-modify-write command (GETSET,
// GETDEL, APPEND, SET ... GET) reads at the connection's read level and
// then writes: it is not atomic against concurrent writers, as Redis
// Active-Active also documents. SET NX and XX (and SETNX, MSETNX) need a
// linearizable compare-and-set and are refused with a clear error until the
// Paxos path serves them.
//
// # Session guarantees
//
// Read-your-writes and monotonic reads hold within a connection at every
// level: the connection remembers what it wrote and read of its most
// recently used keys (Config.SessionKeys, 1024 by default) and merges it
// into each read of them (see session). Beyond that window, R + W > N (the
// QUORUM defaults) still gives them.
//
// CAIRN.TOKEN returns the connection's context as an opaque token (its
// window's states, most recent first, up to 64 KiB) and CAIRN.AFTER token
// merges it into another connection's window: that connection's reads are
// then causally after everything the first had written and read (causal
// consistency across clients, for the keys the token holds).
//
// HAZARD: the session's state is merged into what it reads, so a reply can
// show a write that the replicas have not all received yet: the write was
// acknowledged at its level, and hints and anti-entropy bring the rest.
package commands

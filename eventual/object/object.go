package object

import (
	"errors"
	"strconv"

	"github.com/cairndb/cairn/clock"
	"github.com/cairndb/cairn/crdt"
)

// Kind is the Redis type a key shows.
type Kind uint8

// The kinds, in the order used to break ties between concurrent writes of
// different types that carry the same timestamp.
const (
	None Kind = iota
	String
	Counter
	Set
	Hash
)

var kindNames = [...]string{None: "none", String: "string", Counter: "string", Set: "set", Hash: "hash"}

// String returns the name Redis's TYPE command gives: a counter is a
// "string" to Redis clients.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// tag is k's element in the kinds set.
func (k Kind) tag() string { return string(rune('0' + k)) }

var (
	// ErrWrongType is Redis's WRONGTYPE: the key holds another type.
	ErrWrongType = errors.New("WRONGTYPE Operation against a key holding the wrong kind of value")
	// ErrNotInteger is returned by INCR and friends on a string that is
	// not a base-10 int64.
	ErrNotInteger = errors.New("ERR value is not an integer or out of range")
	// ErrOverflow is returned by INCR and friends when the result would
	// leave the int64 range, in Redis's words.
	ErrOverflow = errors.New("ERR increment or decrement would overflow")
	// ErrTooLarge is returned for a value, member or field larger than
	// MaxValueBytes.
	ErrTooLarge = errors.New("ERR value is larger than the eventual tier's limit")
)

// MaxValueBytes bounds a string value, set member, hash field or hash value.
// It is crdt.MaxValueSize (16 MiB), below Redis's 512 MiB default.
const MaxValueBytes = crdt.MaxValueSize

// Object is the replicated state of one key. The zero value is a key that
// was never written. Objects hold maps and slices: use Clone to copy one,
// and do not share one between goroutines without a lock.
type Object struct {
	kinds crdt.ORSet         // the kinds written and not removed since (add wins)
	typ   crdt.LWWRegister   // the kind of the latest type-defining write
	str   crdt.LWWRegister   // string value
	ctr   crdt.CausalCounter // counter value
	set   crdt.ORSet         // set members
	hash  crdt.ORMap[crdt.MVRegister]
	ttl   crdt.MVRegister // deadlines: 8 bytes of Unix ms, or empty for "no expiry"
}

// Stamp is what a mutation needs from its replica: the replica's ID (for
// dots and LWW ties) and an HLC reading taken for this mutation.
type Stamp struct {
	Replica clock.ReplicaID
	TS      clock.Timestamp
}

// nowMs is the stamp's wall time in Unix milliseconds, for expiry.
func (s Stamp) nowMs() int64 { return s.TS.WallTime / 1e6 }

// Merge merges o into x. It is commutative, associative and idempotent.
func (x *Object) Merge(o Object) {
	x.kinds.Merge(o.kinds)
	x.typ.Merge(o.typ)
	x.str.Merge(o.str)
	x.ctr.Merge(o.ctr)
	x.set.Merge(o.set)
	x.hash.Merge(o.hash)
	x.ttl.Merge(o.ttl)
}

// Clone returns a copy that shares no storage with x.
func (x Object) Clone() Object {
	return Object{
		kinds: x.kinds.Clone(), typ: x.typ.Clone(), str: x.str.Clone(), ctr: x.ctr.Clone(),
		set: x.set.Clone(), hash: x.hash.Clone(), ttl: x.ttl.Clone(),
	}
}

// Equal reports whether x and o hold the same state.
func (x Object) Equal(o Object) bool {
	return x.kinds.Equal(o.kinds) && x.typ.Equal(o.typ) && x.str.Equal(o.str) && x.ctr.Equal(o.ctr) &&
		x.set.Equal(o.set) && x.hash.Equal(o.hash) && x.ttl.Equal(o.ttl)
}

// IsZero reports whether x holds no state at all: a key never written.
func (x Object) IsZero() bool {
	return x.kinds.IsZero() && x.typ.IsZero() && x.str.IsZero() && x.ctr.IsZero() &&
		x.set.IsZero() && x.hash.IsZero() && x.ttl.IsZero()
}

// Kind returns the type the key shows at nowMs (Unix milliseconds): None if
// it was never written, was deleted, or is past its deadline.
func (x Object) Kind(nowMs int64) Kind {
	k := x.rawKind()
	if k == None {
		return None
	}
	if d, ok := x.Deadline(); ok && d <= nowMs {
		return None
	}
	return k
}

// rawKind is the kind shown regardless of expiry. Concurrent writes of
// different kinds leave several in the kinds set: the one named by the
// latest type write wins, and if that one was removed, the largest kind.
func (x Object) rawKind() Kind {
	n := x.kinds.Len()
	if n == 0 {
		return None
	}
	if v := x.typ.Value(); len(v) == 1 && x.kinds.Contains(string(v)) {
		return Kind(v[0] - '0')
	}
	best := None
	for _, e := range x.kinds.Elements() {
		if len(e) == 1 && Kind(e[0]-'0') > best && Kind(e[0]-'0') <= Hash {
			best = Kind(e[0] - '0')
		}
	}
	return best
}

// Visible reports whether the key exists at nowMs.
func (x Object) Visible(nowMs int64) bool { return x.Kind(nowMs) != None }

// Tombstone reports whether x holds state but shows no key at nowMs: a
// deleted or expired key whose state must be kept until every replica has
// merged it.
func (x Object) Tombstone(nowMs int64) bool { return !x.IsZero() && !x.Visible(nowMs) }

// Deadline returns the key's expiry in Unix milliseconds, and false if it
// has none: no deadline written, or a PERSIST (or a SET that cleared the
// TTL) among the concurrent latest ones.
func (x Object) Deadline() (int64, bool) {
	if x.ttl.Len() == 0 { // most keys: spare Values its sorted copy
		return 0, false
	}
	vals := x.ttl.Values()
	if len(vals) == 0 {
		return 0, false
	}
	var latest int64
	for _, v := range vals {
		d, ok := decodeDeadline(v)
		if !ok {
			return 0, false // persist wins
		}
		latest = max(latest, d)
	}
	return latest, true
}

func encodeDeadline(ms int64) []byte {
	if ms <= 0 {
		return nil
	}
	var b [8]byte
	for i := range 8 {
		b[i] = byte(uint64(ms) >> (56 - 8*i))
	}
	return b[:]
}

func decodeDeadline(b []byte) (int64, bool) {
	if len(b) != 8 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return int64(v), int64(v) > 0
}

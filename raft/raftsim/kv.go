package raftsim

import (
	"encoding/binary"
	"hash/fnv"
	"maps"
	"slices"

	"github.com/cairndb/cairn/sim/porcupinekv"
)

// command is one client write, the payload of a normal log entry.
type command struct {
	// client and seq identify the request, so that the node the client
	// talks to can answer it when it applies the entry.
	client, seq uint64
	in          porcupinekv.Input
}

type cmdID struct{ client, seq uint64 }

func (c command) id() cmdID { return cmdID{c.client, c.seq} }

func encodeCommand(c command) []byte {
	b := binary.AppendUvarint(nil, c.client)
	b = binary.AppendUvarint(b, c.seq)
	b = binary.AppendUvarint(b, uint64(c.in.Kind))
	b = appendBytes(b, []byte(c.in.Key))
	b = appendBytes(b, []byte(c.in.Value))
	return appendBytes(b, []byte(c.in.Expected))
}

func decodeCommand(rec []byte) (command, error) {
	d := decoder{b: rec}
	c := command{client: d.uvarint(), seq: d.uvarint()}
	c.in.Kind = porcupinekv.OpKind(d.uvarint())
	c.in.Key = string(d.bytes())
	c.in.Value = string(d.bytes())
	c.in.Expected = string(d.bytes())
	return c, d.done()
}

// kvState is the replicated state machine: a map of registers, and for
// each client the sequence number of its last applied write. The network
// may deliver a forwarded proposal twice and Raft does not deduplicate
// proposals, so the state machine does, as a session table would: a write
// whose sequence number is not above its client's last is ignored.
type kvState struct {
	data map[string]string
	last map[uint64]session
}

// session is a client's last applied write and its result, so that a
// retried write is answered without being executed again.
type session struct {
	seq uint64
	ok  bool
}

func newKV() kvState { return kvState{data: map[string]string{}, last: map[uint64]session{}} }

// apply executes a write and returns what its client is told. A write
// that is not newer than its client's last is not executed; if it is that
// last write, its recorded result is returned, else ok is false (the
// client gave up on it long ago, nobody waits for the answer).
func (s kvState) apply(c command) (out porcupinekv.Output, ok bool) {
	if last := s.last[c.client]; c.seq <= last.seq {
		return porcupinekv.Output{OK: last.ok}, c.seq == last.seq
	}
	in := c.in
	switch in.Kind {
	case porcupinekv.OpPut:
		s.data[in.Key] = in.Value
	case porcupinekv.OpCAS:
		if v, found := s.data[in.Key]; found && v == in.Expected {
			s.data[in.Key] = in.Value
			out.OK = true
		}
	}
	s.last[c.client] = session{seq: c.seq, ok: out.OK}
	return out, true
}

func (s kvState) get(key string) porcupinekv.Output {
	v, ok := s.data[key]
	return porcupinekv.Output{Value: v, Found: ok}
}

// encode is the canonical snapshot form: keys and clients in order.
func (s kvState) encode() []byte {
	b := binary.AppendUvarint(nil, uint64(len(s.data)))
	for _, k := range slices.Sorted(maps.Keys(s.data)) {
		b = appendBytes(b, []byte(k))
		b = appendBytes(b, []byte(s.data[k]))
	}
	b = binary.AppendUvarint(b, uint64(len(s.last)))
	for _, c := range slices.Sorted(maps.Keys(s.last)) {
		b = binary.AppendUvarint(b, c)
		b = binary.AppendUvarint(b, s.last[c].seq)
		ok := uint64(0)
		if s.last[c].ok {
			ok = 1
		}
		b = binary.AppendUvarint(b, ok)
	}
	return b
}

func decodeKV(rec []byte) (kvState, error) {
	d := decoder{b: rec}
	s := newKV()
	n := d.uvarint()
	if n > uint64(len(rec)) {
		return s, errShort
	}
	for range n {
		k := string(d.bytes())
		s.data[k] = string(d.bytes())
	}
	n = d.uvarint()
	if n > uint64(len(rec)) {
		return s, errShort
	}
	for range n {
		c := d.uvarint()
		s.last[c] = session{seq: d.uvarint(), ok: d.uvarint() == 1}
	}
	return s, d.done()
}

func hashBytes(parts ...[]byte) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		var n [binary.MaxVarintLen64]byte
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(p)))])
		h.Write(p)
	}
	return h.Sum64()
}

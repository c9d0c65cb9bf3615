package replica

import (
	"encoding/binary"

	"github.com/cairndb/cairn/eventual/object"
	"github.com/cairndb/cairn/ring"
	"github.com/cockroachdb/pebble/v2"
)

// Entry is one stored key, as a scan sees it.
type Entry struct {
	Token ring.Token
	Key   []byte // valid only during the callback
	// Encoded is the Object's encoding, valid only during the callback;
	// a digest of it is a digest of the state (the encoding is canonical).
	Encoded []byte
}

// Object decodes the entry's state.
func (e Entry) Object() (object.Object, error) { return object.Decode(e.Encoded) }

// Scan calls fn for every key whose token is in r (Start exclusive, End
// inclusive, wrapping), in token order, until fn returns false. It reads a
// consistent snapshot of the store.
func (s *Store) Scan(r ring.TokenRange, fn func(Entry) bool) error {
	spans := tokenSpans(r)
	snap := s.db.NewSnapshot()
	defer snap.Close()
	for _, sp := range spans {
		it, err := snap.NewIter(&pebble.IterOptions{LowerBound: sp[0], UpperBound: sp[1]})
		if err != nil {
			return err
		}
		for it.First(); it.Valid(); it.Next() {
			k := it.Key()[len(prefixObject):]
			if len(k) < 8 {
				continue
			}
			e := Entry{Token: ring.Token(binary.BigEndian.Uint64(k)), Key: k[8:], Encoded: it.Value()}
			if !fn(e) {
				it.Close()
				return nil
			}
		}
		if err := it.Close(); err != nil {
			return err
		}
	}
	return nil
}

// tokenSpans turns a token range into Pebble key spans [lo, hi).
func tokenSpans(r ring.TokenRange) [][2][]byte {
	key := func(t uint64) []byte {
		return binary.BigEndian.AppendUint64([]byte(prefixObject), t)
	}
	end := prefixEnd(prefixObject)
	// Tokens t with Start < t <= End: keys from token Start+1 up to the
	// first key of token End+1.
	after := func(t ring.Token) []byte {
		if t == ^ring.Token(0) {
			return end
		}
		return key(uint64(t) + 1)
	}
	if r.Start == r.End { // the whole ring
		return [][2][]byte{{[]byte(prefixObject), end}}
	}
	if r.Start < r.End {
		return [][2][]byte{{after(r.Start), after(r.End)}}
	}
	// Wraps: (Start, max] and [0, End].
	spans := [][2][]byte{}
	if r.Start != ^ring.Token(0) {
		spans = append(spans, [2][]byte{after(r.Start), end})
	}
	return append(spans, [2][]byte{[]byte(prefixObject), after(r.End)})
}

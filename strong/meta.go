package strong

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// metaPrefix is the key prefix of the strong tier's own records in the
// node's Pebble store: members, leases and alarms (0x01 is the Raft log,
// 0x02 the MVCC store).
const metaPrefix = "\x03s"

// metaStore keeps the small replicated records that are not MVCC keys.
// Writes are applied by the Raft loop without fsync (the log is the
// durable copy); a Sync before log compaction makes them durable.
type metaStore struct {
	db *pebble.DB
}

func metaKey(kind string, id uint64) []byte {
	k := append([]byte(metaPrefix), kind...)
	k = append(k, '/')
	return binary.BigEndian.AppendUint64(k, id)
}

func metaKindBounds(kind string) (lo, hi []byte) {
	lo = append(append([]byte(metaPrefix), kind...), '/')
	hi = append(append([]byte(metaPrefix), kind...), '/'+1)
	return lo, hi
}

func (s *metaStore) put(kind string, id uint64, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.db.Set(metaKey(kind, id), b, pebble.NoSync)
}

func (s *metaStore) delete(kind string, id uint64) error {
	return s.db.Delete(metaKey(kind, id), pebble.NoSync)
}

func (s *metaStore) get(kind string, id uint64, v any) (bool, error) {
	b, closer, err := s.db.Get(metaKey(kind, id))
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer closer.Close()
	return true, json.Unmarshal(b, v)
}

// list calls fn with every record of a kind, in ID order.
func (s *metaStore) list(kind string, fn func(id uint64, raw []byte) error) error {
	lo, hi := metaKindBounds(kind)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) != len(lo)+8 {
			return fmt.Errorf("strong: malformed meta key %q", k)
		}
		if err := fn(binary.BigEndian.Uint64(k[len(lo):]), slices.Clone(it.Value())); err != nil {
			return err
		}
	}
	return it.Error()
}

// The snapshot section of the meta records: a count, then length-prefixed
// keys and values.

func (s *metaStore) writeSnapshot(w io.Writer, snap *pebble.Snapshot) error {
	lo := []byte(metaPrefix)
	hi := []byte(metaPrefix[:len(metaPrefix)-1] + string(metaPrefix[len(metaPrefix)-1]+1))
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	defer it.Close()
	var recs [][2][]byte
	for it.First(); it.Valid(); it.Next() {
		recs = append(recs, [2][]byte{slices.Clone(it.Key()), slices.Clone(it.Value())})
	}
	if err := it.Error(); err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.Write(binary.AppendUvarint(nil, uint64(len(recs))))
	for _, r := range recs {
		buf.Write(binary.AppendUvarint(nil, uint64(len(r[0]))))
		buf.Write(r[0])
		buf.Write(binary.AppendUvarint(nil, uint64(len(r[1]))))
		buf.Write(r[1])
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// maxMetaRecord bounds one record of a received snapshot.
const maxMetaRecord = 16 << 20

func (s *metaStore) restoreSnapshot(r *bufio.Reader) error {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return fmt.Errorf("strong: snapshot meta count: %w", err)
	}
	lo := []byte(metaPrefix)
	hi := []byte(metaPrefix[:len(metaPrefix)-1] + string(metaPrefix[len(metaPrefix)-1]+1))
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.DeleteRange(lo, hi, nil); err != nil {
		return err
	}
	read := func() ([]byte, error) {
		l, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, err
		}
		if l > maxMetaRecord {
			return nil, fmt.Errorf("strong: snapshot meta record of %d bytes", l)
		}
		v := make([]byte, l)
		_, err = io.ReadFull(r, v)
		return v, err
	}
	for range n {
		k, err := read()
		if err != nil {
			return fmt.Errorf("strong: snapshot meta key: %w", err)
		}
		if !bytes.HasPrefix(k, lo) {
			return fmt.Errorf("strong: snapshot meta key %q outside the meta keyspace", k)
		}
		v, err := read()
		if err != nil {
			return fmt.Errorf("strong: snapshot meta value: %w", err)
		}
		if err := b.Set(k, v, nil); err != nil {
			return err
		}
	}
	return b.Commit(pebble.NoSync)
}

package mvcc

import (
	"encoding/binary"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// kvFormatV1 is the first byte of a put record's value.
const kvFormatV1 byte = 1

// metaFormatV1 is the first byte of the meta record.
const metaFormatV1 byte = 1

// appendKVValue encodes the value of a put record: format, create
// revision, version and lease as varints, then the value bytes. The key and
// mod revision live in the record key.
func appendKVValue(dst []byte, create, version, lease int64, value []byte) []byte {
	dst = append(dst, kvFormatV1)
	dst = binary.AppendUvarint(dst, uint64(create))
	dst = binary.AppendUvarint(dst, uint64(version))
	dst = binary.AppendVarint(dst, lease)
	return append(dst, value...)
}

// kvHeader is the decoded head of a put record's value.
type kvHeader struct {
	create  int64
	version int64
	lease   int64
	value   []byte // aliases the input
}

// decodeKVValue decodes a put record's value. modRev bounds the create
// revision: a key cannot be created after it was modified.
func decodeKVValue(v []byte, modRev int64) (kvHeader, error) {
	if len(v) == 0 || v[0] != kvFormatV1 {
		return kvHeader{}, fmt.Errorf("%w: put record of unknown format", ErrCorrupt)
	}
	v = v[1:]
	create, n := binary.Uvarint(v)
	if n <= 0 {
		return kvHeader{}, fmt.Errorf("%w: put record create revision", ErrCorrupt)
	}
	v = v[n:]
	version, n := binary.Uvarint(v)
	if n <= 0 {
		return kvHeader{}, fmt.Errorf("%w: put record version", ErrCorrupt)
	}
	v = v[n:]
	lease, n := binary.Varint(v)
	if n <= 0 {
		return kvHeader{}, fmt.Errorf("%w: put record lease", ErrCorrupt)
	}
	if create == 0 || create > uint64(modRev) || version == 0 || version > uint64(modRev) {
		return kvHeader{}, fmt.Errorf("%w: put record create %d version %d at revision %d", ErrCorrupt, create, version, modRev)
	}
	return kvHeader{create: int64(create), version: int64(version), lease: lease, value: v[n:]}, nil
}

// decodeKV builds the KeyValue of a put record. It copies key and value
// (Pebble's buffers are reused) into one allocation; keysOnly leaves Value
// nil.
func decodeKV(userKey []byte, modRev int64, v []byte, keysOnly bool) (*mvccpb.KeyValue, error) {
	h, err := decodeKVValue(v, modRev)
	if err != nil {
		return nil, err
	}
	kv := &mvccpb.KeyValue{CreateRevision: h.create, ModRevision: modRev, Version: h.version, Lease: h.lease}
	n := len(userKey)
	if !keysOnly {
		n += len(h.value)
	}
	buf := make([]byte, n)
	copy(buf, userKey)
	kv.Key = buf[:len(userKey):len(userKey)]
	if !keysOnly && len(h.value) > 0 {
		copy(buf[len(userKey):], h.value)
		kv.Value = buf[len(userKey):]
	}
	return kv, nil
}

// appendRevValue encodes a revision record's value: the kind, then the user key.
func appendRevValue(dst []byte, kind byte, key []byte) []byte {
	return append(append(dst, kind), key...)
}

// decodeRevValue decodes a revision record's value.
func decodeRevValue(v []byte) (kind byte, key []byte, err error) {
	if len(v) < 2 || (v[0] != kindPut && v[0] != kindTombstone) {
		return 0, nil, fmt.Errorf("%w: revision record value of %d bytes", ErrCorrupt, len(v))
	}
	return v[0], v[1:], nil
}

// meta is the store's durable state besides the records, written as one
// record in the same batch as every change to it.
type meta struct {
	// consistentIndex is the raft index of the last entry applied.
	consistentIndex uint64
	// rev is the revision of the last write that changed something.
	rev int64
	// compactRev is the last compaction requested (-1: none, as etcd).
	// Reads below it fail with ErrCompacted from the moment it is set.
	compactRev int64
	// finishedCompactRev is the last compaction whose records are all
	// deleted; compactRev > finishedCompactRev means one is in progress.
	finishedCompactRev int64
	// keys is the number of live keys.
	keys int64
}

// freshMeta is the state of an empty store: revision 1 and no compaction,
// exactly as a new etcd member.
func freshMeta() meta {
	return meta{rev: 1, compactRev: -1, finishedCompactRev: -1}
}

func (m meta) encode() []byte {
	dst := make([]byte, 0, 1+5*binary.MaxVarintLen64)
	dst = append(dst, metaFormatV1)
	dst = binary.AppendUvarint(dst, m.consistentIndex)
	dst = binary.AppendVarint(dst, m.rev)
	dst = binary.AppendVarint(dst, m.compactRev)
	dst = binary.AppendVarint(dst, m.finishedCompactRev)
	return binary.AppendVarint(dst, m.keys)
}

func decodeMeta(v []byte) (meta, error) {
	if len(v) == 0 || v[0] != metaFormatV1 {
		return meta{}, fmt.Errorf("%w: meta record of unknown format", ErrCorrupt)
	}
	v = v[1:]
	var m meta
	var n int
	if m.consistentIndex, n = binary.Uvarint(v); n <= 0 {
		return meta{}, fmt.Errorf("%w: meta consistent index", ErrCorrupt)
	}
	v = v[n:]
	fields := []*int64{&m.rev, &m.compactRev, &m.finishedCompactRev, &m.keys}
	for _, f := range fields {
		if *f, n = binary.Varint(v); n <= 0 {
			return meta{}, fmt.Errorf("%w: meta field", ErrCorrupt)
		}
		v = v[n:]
	}
	if len(v) != 0 {
		return meta{}, fmt.Errorf("%w: %d bytes after meta record", ErrCorrupt, len(v))
	}
	if err := m.valid(); err != nil {
		return meta{}, err
	}
	return m, nil
}

// valid checks the invariants between the fields:
// -1 <= finishedCompactRev <= compactRev <= rev, 1 <= rev, 0 <= keys.
func (m meta) valid() error {
	if m.rev < 1 || m.compactRev < -1 || m.compactRev > m.rev ||
		m.finishedCompactRev < -1 || m.finishedCompactRev > m.compactRev || m.keys < 0 {
		return fmt.Errorf("%w: meta rev %d compact %d finished %d keys %d",
			ErrCorrupt, m.rev, m.compactRev, m.finishedCompactRev, m.keys)
	}
	return nil
}

package raftsim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cairndb/cairn/raft/raftpb"
)

// This file encodes what a simulated node keeps on its disk. The format is
// private to the simulator: it only has to round-trip exactly.

var errShort = errors.New("raftsim: record too short")

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errShort
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("raftsim: %d trailing bytes", len(d.b))
	}
	return d.err
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// Entries and hard state use the wire codec of raftpb (decoded copies
// are taken, since raftpb's decoders alias their input and the disk's
// records may be reused).

func encodeEntry(e raftpb.Entry) []byte { return raftpb.AppendEntry(nil, e) }

func decodeEntry(rec []byte) (raftpb.Entry, error) {
	return raftpb.UnmarshalEntry(bytes.Clone(rec))
}

func encodeHardState(hs raftpb.HardState) []byte { return raftpb.AppendHardState(nil, hs) }

func decodeHardState(rec []byte) (raftpb.HardState, error) { return raftpb.UnmarshalHardState(rec) }

// snapRecord is the content of the "snap" file: the latest snapshot and
// where the log that follows it lives.
type snapRecord struct {
	snap raftpb.Snapshot
	// gen names the log file that holds the entries after the snapshot.
	gen uint64
	// base is the index of the first record of that log file.
	base uint64
}

func encodeSnap(r snapRecord) []byte {
	b := binary.AppendUvarint(nil, r.gen)
	b = binary.AppendUvarint(b, r.base)
	return raftpb.AppendSnapshot(b, r.snap)
}

func decodeSnap(rec []byte) (snapRecord, error) {
	d := decoder{b: rec}
	r := snapRecord{gen: d.uvarint(), base: d.uvarint()}
	if d.err != nil {
		return r, d.err
	}
	var err error
	r.snap, err = raftpb.UnmarshalSnapshot(bytes.Clone(d.b))
	return r, err
}

package raftsim

import (
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

func (d *decoder) ids() []uint64 {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err = errShort
	}
	if d.err != nil || n == 0 {
		return nil
	}
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = d.uvarint()
	}
	return ids
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

func appendIDs(b []byte, ids []uint64) []byte {
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		b = binary.AppendUvarint(b, id)
	}
	return b
}

func encodeEntry(e raftpb.Entry) []byte {
	b := binary.AppendUvarint(nil, e.Term)
	b = binary.AppendUvarint(b, e.Index)
	b = binary.AppendUvarint(b, uint64(e.Type))
	return appendBytes(b, e.Data)
}

func decodeEntry(rec []byte) (raftpb.Entry, error) {
	d := decoder{b: rec}
	e := raftpb.Entry{Term: d.uvarint(), Index: d.uvarint(), Type: raftpb.EntryType(d.uvarint())}
	e.Data = d.bytes()
	return e, d.done()
}

func encodeHardState(hs raftpb.HardState) []byte {
	b := binary.AppendUvarint(nil, hs.Term)
	b = binary.AppendUvarint(b, hs.Vote)
	return binary.AppendUvarint(b, hs.Commit)
}

func decodeHardState(rec []byte) (raftpb.HardState, error) {
	d := decoder{b: rec}
	hs := raftpb.HardState{Term: d.uvarint(), Vote: d.uvarint(), Commit: d.uvarint()}
	return hs, d.done()
}

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
	m := r.snap.Metadata
	b := binary.AppendUvarint(nil, m.Index)
	b = binary.AppendUvarint(b, m.Term)
	b = appendIDs(b, m.ConfState.Voters)
	b = appendIDs(b, m.ConfState.Learners)
	b = appendIDs(b, m.ConfState.VotersOutgoing)
	b = appendIDs(b, m.ConfState.LearnersNext)
	auto := uint64(0)
	if m.ConfState.AutoLeave {
		auto = 1
	}
	b = binary.AppendUvarint(b, auto)
	b = binary.AppendUvarint(b, r.gen)
	b = binary.AppendUvarint(b, r.base)
	return appendBytes(b, r.snap.Data)
}

func decodeSnap(rec []byte) (snapRecord, error) {
	d := decoder{b: rec}
	var r snapRecord
	m := &r.snap.Metadata
	m.Index, m.Term = d.uvarint(), d.uvarint()
	m.ConfState.Voters = d.ids()
	m.ConfState.Learners = d.ids()
	m.ConfState.VotersOutgoing = d.ids()
	m.ConfState.LearnersNext = d.ids()
	m.ConfState.AutoLeave = d.uvarint() == 1
	r.gen, r.base = d.uvarint(), d.uvarint()
	r.snap.Data = d.bytes()
	return r, d.done()
}

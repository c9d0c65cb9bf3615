package sim

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
)

// LossMode is what a crash does to the writes a node made but did not sync.
type LossMode int

const (
	// LossNone keeps every write: a process crash (kill -9), where the
	// operating system's page cache survives.
	LossNone LossMode = iota + 1
	// LossAll drops every unsynced write: a power loss.
	LossAll
	// LossPrefix keeps, for each file independently, a random prefix of its
	// unsynced writes (possibly none, possibly all): a power loss that tore
	// the tail of each file. Across files the survivors are an arbitrary
	// subset, so a protocol must not assume that an unsynced write to one
	// file implies an earlier unsynced write to another.
	LossPrefix
)

// String returns the mode's name.
func (m LossMode) String() string {
	switch m {
	case LossNone:
		return "LossNone"
	case LossAll:
		return "LossAll"
	case LossPrefix:
		return "LossPrefix"
	}
	return fmt.Sprintf("LossMode(%d)", int(m))
}

func (m LossMode) valid() bool { return m >= LossNone && m <= LossPrefix }

// Disk is one node's simulated durable storage, modelled on Pebble's
// crashable in-memory filesystem (vfs.NewCrashableMem): every write is
// visible to the running node at once, but only Sync makes it survive a
// crash. A file is a sequence of records; a log is built with Append and
// Truncate, a small state file (Raft's hard state, a 2PC decision) with
// WriteFile, which replaces the whole content atomically as a
// write-to-temporary-then-rename would.
//
// A Disk outlives the node that uses it: the World hands the same Disk to
// the node's next incarnation after a crash. Records returned by Records
// and ReadFile alias the disk's memory and stay valid only until the next
// write to that file; callers must not modify them.
type Disk struct {
	files map[string]*diskFile
}

// diskFile keeps both the state the running node sees and the state that a
// crash would leave, plus the unsynced operations between the two.
type diskFile struct {
	current fileState
	durable fileState
	pending []diskOp
}

type fileState struct {
	exists bool
	recs   [][]byte
}

type diskOpKind int

const (
	opAppend diskOpKind = iota + 1
	opTruncate
	opWrite
	opRemove
)

type diskOp struct {
	kind diskOpKind
	rec  []byte // opAppend, opWrite
	n    int    // opTruncate
}

// NewDisk returns an empty disk.
func NewDisk() *Disk { return &Disk{files: make(map[string]*diskFile)} }

func (d *Disk) file(name string) *diskFile {
	f, ok := d.files[name]
	if !ok {
		f = &diskFile{}
		d.files[name] = f
	}
	return f
}

func (d *Disk) do(name string, op diskOp) {
	f := d.file(name)
	f.current.apply(op)
	f.pending = append(f.pending, op)
}

// Append adds a copy of rec at the end of the named file, creating it if
// needed. The write is lost on a crash until the file is synced.
func (d *Disk) Append(name string, rec []byte) {
	d.do(name, diskOp{kind: opAppend, rec: bytes.Clone(rec)})
}

// Truncate keeps the first n records of the named file. It returns an error
// if the file does not exist or has fewer than n records.
func (d *Disk) Truncate(name string, n int) error {
	f, ok := d.files[name]
	if !ok || !f.current.exists {
		return fmt.Errorf("sim: truncate %q: no such file", name)
	}
	if n < 0 || n > len(f.current.recs) {
		return fmt.Errorf("sim: truncate %q to %d records: file has %d", name, n, len(f.current.recs))
	}
	d.do(name, diskOp{kind: opTruncate, n: n})
	return nil
}

// WriteFile replaces the content of the named file with a copy of data, as
// one record, creating the file if needed. The replacement is atomic: after
// a crash the file holds either the old or the new content, never a mix.
func (d *Disk) WriteFile(name string, data []byte) {
	d.do(name, diskOp{kind: opWrite, rec: bytes.Clone(data)})
}

// Remove deletes the named file; removing a missing file does nothing.
func (d *Disk) Remove(name string) {
	if !d.Exists(name) {
		return
	}
	d.do(name, diskOp{kind: opRemove})
}

// Sync makes every earlier write to the named file durable.
func (d *Disk) Sync(name string) {
	f, ok := d.files[name]
	if !ok {
		return
	}
	for _, op := range f.pending {
		f.durable.apply(op)
	}
	f.pending = f.pending[:0]
}

// SyncAll syncs every file.
func (d *Disk) SyncAll() {
	for _, name := range d.sortedNames() {
		d.Sync(name)
	}
}

// Exists reports whether the named file exists.
func (d *Disk) Exists(name string) bool {
	f, ok := d.files[name]
	return ok && f.current.exists
}

// Records returns the records of the named file, or nil if it does not
// exist. See Disk for aliasing.
func (d *Disk) Records(name string) [][]byte {
	f, ok := d.files[name]
	if !ok || !f.current.exists {
		return nil
	}
	return slices.Clip(f.current.recs)
}

// Len returns the number of records in the named file (0 if missing).
func (d *Disk) Len(name string) int {
	f, ok := d.files[name]
	if !ok || !f.current.exists {
		return 0
	}
	return len(f.current.recs)
}

// ReadFile returns the concatenation of the named file's records and
// whether the file exists.
func (d *Disk) ReadFile(name string) ([]byte, bool) {
	f, ok := d.files[name]
	if !ok || !f.current.exists {
		return nil, false
	}
	if len(f.current.recs) == 1 {
		return f.current.recs[0], true
	}
	return bytes.Join(f.current.recs, nil), true
}

// Names returns the names of the existing files, sorted.
func (d *Disk) Names() []string {
	var out []string
	for _, name := range d.sortedNames() {
		if d.files[name].current.exists {
			out = append(out, name)
		}
	}
	return out
}

// Unsynced returns the number of writes to the named file that a crash
// could lose.
func (d *Disk) Unsynced(name string) int {
	if f, ok := d.files[name]; ok {
		return len(f.pending)
	}
	return 0
}

// Crash applies mode to the unsynced writes, drawing the surviving prefix of
// each file (LossPrefix) from rng in sorted file-name order. Afterwards
// every file is synced: what survived is all there is.
func (d *Disk) Crash(mode LossMode, rng *rand.Rand) {
	for _, name := range d.sortedNames() {
		f := d.files[name]
		keep := 0
		switch mode {
		case LossNone:
			keep = len(f.pending)
		case LossAll:
			keep = 0
		case LossPrefix:
			keep = rng.IntN(len(f.pending) + 1)
		default:
			panic(fmt.Sprintf("sim: Disk.Crash with invalid mode %v", mode))
		}
		for _, op := range f.pending[:keep] {
			f.durable.apply(op)
		}
		f.pending = f.pending[:0]
		f.current = fileState{exists: f.durable.exists, recs: slices.Clone(f.durable.recs)}
	}
}

// sortedNames returns every known file name, sorted: map order must never
// reach the random source or the trace.
func (d *Disk) sortedNames() []string { return slices.Sorted(maps.Keys(d.files)) }

func (s *fileState) apply(op diskOp) {
	switch op.kind {
	case opAppend:
		s.exists = true
		s.recs = append(s.recs, op.rec)
	case opTruncate:
		clear(s.recs[op.n:])
		s.recs = s.recs[:op.n]
	case opWrite:
		s.exists = true
		clear(s.recs)
		s.recs = append(s.recs[:0], op.rec)
	case opRemove:
		s.exists = false
		clear(s.recs)
		s.recs = s.recs[:0]
	}
}

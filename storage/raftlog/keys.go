package raftlog

import (
	"encoding/binary"
	"fmt"
)

// Record names, the byte after the prefix (see the key layout in doc.go).
const (
	recordEntry     = 'e'
	recordEntryEnd  = recordEntry + 1 // exclusive end of the entry span
	recordHardState = 'h'
	recordSnapshot  = 's'
	recordTruncated = 't'
)

// keys builds the keys of one Storage.
type keys struct {
	prefix    string
	hardState []byte
	snapshot  []byte
	truncated []byte
	// entryEnd is the exclusive upper bound of every entry key.
	entryEnd []byte
}

func newKeys(prefix string) keys {
	record := func(r byte) []byte { return append([]byte(prefix), r) }
	return keys{
		prefix:    prefix,
		hardState: record(recordHardState),
		snapshot:  record(recordSnapshot),
		truncated: record(recordTruncated),
		entryEnd:  record(recordEntryEnd),
	}
}

// entry appends the key of the entry at index to dst.
func (k *keys) entry(dst []byte, index uint64) []byte {
	dst = append(dst, k.prefix...)
	dst = append(dst, recordEntry)
	return binary.BigEndian.AppendUint64(dst, index)
}

// entryIndex parses an entry key.
func (k *keys) entryIndex(key []byte) (uint64, error) {
	n := len(k.prefix) + 1
	if len(key) != n+8 || string(key[:n-1]) != k.prefix || key[n-1] != recordEntry {
		return 0, fmt.Errorf("%w: %q is not an entry key", ErrCorrupt, key)
	}
	return binary.BigEndian.Uint64(key[n:]), nil
}

// truncatedState is the last entry dropped from the log: FirstIndex-1 and
// its term. Zero for a log that was never truncated.
type truncatedState struct {
	Index uint64
	Term  uint64
}

const truncatedVersion = 1

func appendTruncatedState(dst []byte, t truncatedState) []byte {
	dst = append(dst, truncatedVersion)
	dst = binary.AppendUvarint(dst, t.Index)
	return binary.AppendUvarint(dst, t.Term)
}

func decodeTruncatedState(b []byte) (truncatedState, error) {
	bad := func(why string) (truncatedState, error) {
		return truncatedState{}, fmt.Errorf("%w: truncated state %x: %s", ErrCorrupt, b, why)
	}
	if len(b) == 0 || b[0] != truncatedVersion {
		return bad("unknown version")
	}
	var t truncatedState
	rest := b[1:]
	for _, field := range []*uint64{&t.Index, &t.Term} {
		v, n := binary.Uvarint(rest)
		if n <= 0 {
			return bad("bad varint")
		}
		*field, rest = v, rest[n:]
	}
	if len(rest) != 0 {
		return bad("trailing bytes")
	}
	return t, nil
}

package mvcc

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Record tags: the byte after the generation prefix names the record kind.
const (
	tagMeta  byte = 'm'
	tagKey   byte = 'k'
	tagRev   byte = 'r'
	tagLease byte = 'l'
)

// Kinds of KV record, the last byte of a record key (as etcd marks its
// tombstones with a trailing 't').
const (
	kindPut       byte = 'p'
	kindTombstone byte = 't'
)

// Generations: the live keyspace is under prefix+generation; Restore writes
// the other one and flips the active marker (see doc.go).
const (
	activeMarker byte = 0x00
	genA         byte = 0x01
	genB         byte = 0x02
)

const (
	// revSuffixLen is the fixed tail of a KV record key: ^main, ^sub, kind.
	revSuffixLen = 8 + 8 + 1
	// revKeyLen is the tail of a revision record key: main, sub.
	revKeyLen = 8 + 8
	// escapeByte starts an escape sequence in an encoded user key.
	escapeByte byte = 0x00
	// escapedZero follows escapeByte for a 0x00 of the user key.
	escapedZero byte = 0xff
	// terminator follows escapeByte at the end of an encoded user key.
	terminator byte = 0x01
)

// layout builds the keys of one generation of one store. Its slices are
// never modified after construction, so they may be handed to Pebble as
// iterator bounds.
type layout struct {
	gen    byte
	prefix []byte // KeyPrefix + gen
	meta   []byte
	kLower []byte // first possible KV record key
	kUpper []byte // bound past every KV record key
	rLower []byte
	rUpper []byte
	lLower []byte
	lUpper []byte
	end    []byte // bound past every key of the generation
}

func newLayout(keyPrefix []byte, gen byte) layout {
	p := append(bytes.Clone(keyPrefix), gen)
	tagged := func(tag byte) []byte { return append(bytes.Clone(p), tag) }
	return layout{
		gen:    gen,
		prefix: p,
		meta:   tagged(tagMeta),
		kLower: tagged(tagKey),
		kUpper: tagged(tagKey + 1),
		rLower: tagged(tagRev),
		rUpper: tagged(tagRev + 1),
		lLower: tagged(tagLease),
		lUpper: tagged(tagLease + 1),
		end:    append(bytes.Clone(keyPrefix), gen+1),
	}
}

// activeKey is the key of the active-generation marker.
func activeKey(keyPrefix []byte) []byte {
	return append(bytes.Clone(keyPrefix), activeMarker)
}

// appendEscaped appends the order-preserving encoding of a user key:
// every 0x00 becomes 0x00 0xff and the key ends with 0x00 0x01. For any user
// keys a < b, enc(a)+x < enc(b)+y for all suffixes x and y, and no
// encoding is a prefix of another, so a record's user key is exactly the
// bytes before its fixed-length revision suffix.
func appendEscaped(dst, key []byte) []byte {
	for {
		i := bytes.IndexByte(key, escapeByte)
		if i < 0 {
			break
		}
		dst = append(dst, key[:i]...)
		dst = append(dst, escapeByte, escapedZero)
		key = key[i+1:]
	}
	dst = append(dst, key...)
	return append(dst, escapeByte, terminator)
}

// appendUnescaped appends the user key whose encoding fills all of src.
func appendUnescaped(dst, src []byte) ([]byte, error) {
	for len(src) > 0 {
		i := bytes.IndexByte(src, escapeByte)
		if i < 0 || i+1 >= len(src) {
			return nil, fmt.Errorf("%w: unterminated user key", ErrCorrupt)
		}
		dst = append(dst, src[:i]...)
		switch src[i+1] {
		case escapedZero:
			dst = append(dst, 0)
			src = src[i+2:]
		case terminator:
			if i+2 != len(src) {
				return nil, fmt.Errorf("%w: bytes after user key terminator", ErrCorrupt)
			}
			return dst, nil
		default:
			return nil, fmt.Errorf("%w: bad escape 0x%02x in user key", ErrCorrupt, src[i+1])
		}
	}
	return nil, fmt.Errorf("%w: unterminated user key", ErrCorrupt)
}

// keyPrefix returns the KV-record prefix of a user key: every record of the
// key starts with it.
func (l layout) keyPrefix(key []byte) []byte {
	dst := make([]byte, 0, len(l.kLower)+len(key)+2+revSuffixLen)
	return appendEscaped(append(dst, l.kLower...), key)
}

// prefixSuccessor returns the smallest key greater than every key that
// starts with the KV-record prefix p (which ends with 0x00 0x01): replacing
// the terminator with 0x02 works because 0x00 is never followed by a byte
// in (0x01, 0xff) in an encoding.
func prefixSuccessor(p []byte) []byte {
	s := bytes.Clone(p)
	s[len(s)-1] = terminator + 1
	return s
}

// appendRevSuffix appends the descending revision suffix: bitwise-inverted
// big-endian main and sub, so newer revisions of a key sort first.
func appendRevSuffix(dst []byte, main, sub int64, kind byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, ^uint64(main))
	dst = binary.BigEndian.AppendUint64(dst, ^uint64(sub))
	return append(dst, kind)
}

// seekAtRev returns the key that SeekGE positions on the newest record of
// the key with prefix p whose main revision is <= rev.
func seekAtRev(dst, p []byte, rev int64) []byte {
	dst = append(dst[:0], p...)
	dst = binary.BigEndian.AppendUint64(dst, ^uint64(rev))
	return binary.BigEndian.AppendUint64(dst, 0)
}

// recordKey is a decoded KV record key.
type recordKey struct {
	prefix []byte // the KV-record prefix of the user key (aliases the input)
	main   int64
	sub    int64
	kind   byte
}

// splitRecordKey splits a KV record key without decoding the user key.
func splitRecordKey(k []byte) (recordKey, error) {
	if len(k) < revSuffixLen+2 {
		return recordKey{}, fmt.Errorf("%w: KV record key of %d bytes", ErrCorrupt, len(k))
	}
	n := len(k) - revSuffixLen
	main := int64(^binary.BigEndian.Uint64(k[n:]))
	sub := int64(^binary.BigEndian.Uint64(k[n+8:]))
	kind := k[len(k)-1]
	if main <= 0 || sub < 0 || (kind != kindPut && kind != kindTombstone) {
		return recordKey{}, fmt.Errorf("%w: KV record key revision %d.%d kind 0x%02x", ErrCorrupt, main, sub, kind)
	}
	return recordKey{prefix: k[:n], main: main, sub: sub, kind: kind}, nil
}

// recordPrefixOf returns the user-key prefix of a record key, or nil when
// the key is too short to be one. It is the hot-path form of
// splitRecordKey for comparisons.
func recordPrefixOf(k []byte) []byte {
	if len(k) < revSuffixLen {
		return nil
	}
	return k[:len(k)-revSuffixLen]
}

// recordMain returns the main revision of a record key of valid length.
func recordMain(k []byte) int64 {
	return int64(^binary.BigEndian.Uint64(k[len(k)-revSuffixLen:]))
}

// revKey returns the key of the revision record for main.sub.
func (l layout) revKey(main, sub int64) []byte {
	dst := make([]byte, 0, len(l.rLower)+revKeyLen)
	dst = append(dst, l.rLower...)
	dst = binary.BigEndian.AppendUint64(dst, uint64(main))
	return binary.BigEndian.AppendUint64(dst, uint64(sub))
}

// decodeRevKey decodes a revision record key.
func (l layout) decodeRevKey(k []byte) (main, sub int64, err error) {
	if len(k) != len(l.rLower)+revKeyLen || !bytes.HasPrefix(k, l.rLower) {
		return 0, 0, fmt.Errorf("%w: revision record key of %d bytes", ErrCorrupt, len(k))
	}
	main = int64(binary.BigEndian.Uint64(k[len(l.rLower):]))
	sub = int64(binary.BigEndian.Uint64(k[len(l.rLower)+8:]))
	if main <= 0 || sub < 0 {
		return 0, 0, fmt.Errorf("%w: revision record %d.%d", ErrCorrupt, main, sub)
	}
	return main, sub, nil
}

// leaseKey returns the key recording that key is attached to lease.
func (l layout) leaseKey(lease int64, key []byte) []byte {
	dst := make([]byte, 0, len(l.lLower)+8+len(key))
	dst = append(dst, l.lLower...)
	dst = binary.BigEndian.AppendUint64(dst, uint64(lease))
	return append(dst, key...)
}

// leasePrefix returns the prefix of every lease record of lease.
func (l layout) leasePrefix(lease int64) []byte {
	return l.leaseKey(lease, nil)
}

// decodeLeaseKey decodes a lease record key.
func (l layout) decodeLeaseKey(k []byte) (lease int64, key []byte, err error) {
	if len(k) <= len(l.lLower)+8 || !bytes.HasPrefix(k, l.lLower) {
		return 0, nil, fmt.Errorf("%w: lease record key of %d bytes", ErrCorrupt, len(k))
	}
	lease = int64(binary.BigEndian.Uint64(k[len(l.lLower):]))
	if lease == 0 {
		return 0, nil, fmt.Errorf("%w: lease record for lease 0", ErrCorrupt)
	}
	return lease, k[len(l.lLower)+8:], nil
}

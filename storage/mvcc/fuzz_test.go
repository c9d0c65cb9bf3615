package mvcc

import (
	"bytes"
	"testing"
)

// FuzzKeyEncoding checks the user-key encoding: it round-trips, preserves
// order with any suffixes, and no encoding is a prefix of another.
func FuzzKeyEncoding(f *testing.F) {
	f.Add([]byte("a"), []byte("a\x00"))
	f.Add([]byte("\x00"), []byte("\x00\x01"))
	f.Add([]byte("ab\xff"), []byte("ab"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		ea, eb := appendEscaped(nil, a), appendEscaped(nil, b)
		got, err := appendUnescaped(nil, ea)
		if err != nil || !bytes.Equal(got, a) {
			t.Fatalf("round trip of %q: %q, %v", a, got, err)
		}
		// Order holds with arbitrary revision suffixes appended.
		sa := appendRevSuffix(bytes.Clone(ea), 1, 0, kindPut)
		sb := appendRevSuffix(bytes.Clone(eb), 1<<40, 7, kindTombstone)
		if c := bytes.Compare(a, b); c != 0 && bytes.Compare(sa, sb) != c {
			t.Fatalf("order of %q and %q not preserved", a, b)
		}
		if !bytes.Equal(a, b) && (bytes.HasPrefix(ea, eb) || bytes.HasPrefix(eb, ea)) {
			t.Fatalf("encodings of %q and %q are prefixes", a, b)
		}
		if p := prefixSuccessor(ea); bytes.Compare(sa, p) >= 0 || (bytes.Compare(a, b) < 0 && bytes.Compare(sb, p) < 0) {
			t.Fatalf("successor of %q does not bound its records", a)
		}
	})
}

// FuzzStoredDecoders feeds arbitrary bytes to every decoder of stored data:
// none may panic, and what decodes must re-encode to the same bytes.
func FuzzStoredDecoders(f *testing.F) {
	l := newLayout([]byte(DefaultKeyPrefix), genA)
	f.Add(appendKVValue(nil, 3, 2, 7, []byte("value")))
	f.Add(freshMeta().encode())
	f.Add(meta{consistentIndex: 9, rev: 5, compactRev: 3, finishedCompactRev: 2, keys: 4}.encode())
	f.Add(appendRevSuffix(l.keyPrefix([]byte("k\x00")), 5, 1, kindPut))
	f.Add(l.revKey(5, 1))
	f.Add(l.leaseKey(3, []byte("k")))
	f.Add(appendRevValue(nil, kindTombstone, []byte("k")))
	f.Fuzz(func(t *testing.T, data []byte) {
		if h, err := decodeKVValue(data, 1<<40); err == nil {
			re := appendKVValue(nil, h.create, h.version, h.lease, h.value)
			h2, err := decodeKVValue(re, 1<<40)
			if err != nil || h2.create != h.create || h2.version != h.version || h2.lease != h.lease || !bytes.Equal(h2.value, h.value) {
				t.Fatalf("KV value %x does not round-trip: %x %v", data, re, err)
			}
		}
		if m, err := decodeMeta(data); err == nil {
			if m2, err := decodeMeta(m.encode()); err != nil || m2 != m {
				t.Fatalf("meta %+v does not round-trip: %+v %v", m, m2, err)
			}
		}
		if rk, err := splitRecordKey(data); err == nil {
			if re := appendRevSuffix(bytes.Clone(rk.prefix), rk.main, rk.sub, rk.kind); !bytes.Equal(re, data) {
				t.Fatalf("record key %x re-encodes as %x", data, re)
			}
			_, _ = l.appendUserKey(nil, rk.prefix)
		}
		_, _ = appendUnescaped(nil, data)
		key := append(bytes.Clone(l.rLower), data...)
		if main, sub, err := l.decodeRevKey(key); err == nil && !bytes.Equal(l.revKey(main, sub), key) {
			t.Fatalf("revision key %x does not round-trip", key)
		}
		_, _, _ = decodeRevValue(data)
		_, _, _ = l.decodeLeaseKey(append(bytes.Clone(l.lLower), data...))
	})
}

// FuzzSnapshotStream feeds arbitrary streams to the snapshot decoder and
// record validation: no panic, no unbounded allocation, and a stream that
// decodes fully restores.
func FuzzSnapshotStream(f *testing.F) {
	src := newTestStore(f)
	writeHistory(f, src, 0, 20)
	snap, _ := snapshotOf(f, src)
	f.Add(snap)
	f.Add([]byte(snapshotMagic))
	f.Add(append([]byte(snapshotMagic), 0, 0, 0, 0, 0, 0))
	l := newLayout([]byte(DefaultKeyPrefix), genB)
	f.Fuzz(func(t *testing.T, data []byte) {
		sr, err := newSnapshotReader(bytes.NewReader(data), 1<<10, 1<<10)
		if err != nil {
			return
		}
		valid := true
		key := bytes.Clone(l.prefix)
		for {
			ok, err := sr.next()
			if err != nil {
				return
			}
			if !ok {
				break
			}
			key = append(key[:len(l.prefix)], sr.key...)
			if _, _, err := validateRecord(l, key, sr.value); err != nil {
				valid = false
			}
		}
		if valid {
			dst := newTestStore(t)
			if _, err := dst.Restore(bytes.NewReader(data)); err != nil {
				t.Fatalf("a stream that decodes failed to restore: %v", err)
			}
		}
	})
}

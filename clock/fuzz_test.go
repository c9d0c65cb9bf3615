package clock

import (
	"bytes"
	"testing"
)

// FuzzDecodeVersionVector: any input decodes or fails cleanly, a decoded
// vector keeps the invariant, and it re-encodes to exactly the bytes read.
func FuzzDecodeVersionVector(f *testing.F) {
	f.Add([]byte{0})
	f.Add(vv(1, 1, 2, 5, 300, 7).AppendBinary(nil))
	f.Add(vv(0, 1, 1<<62, 1<<63).AppendBinary(nil))
	f.Add([]byte{0x81, 0x80, 0x04})              // too many entries
	f.Add([]byte{2, 5, 1, 0, 1})                 // repeated replica
	f.Add([]byte{1, 5, 0x81, 0x00})              // non-minimal varint
	f.Add(append(vv(3, 3).AppendBinary(nil), 9)) // trailing byte
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := DecodeVersionVector(b)
		if err != nil {
			if n != 0 || v.Len() != 0 {
				t.Fatalf("error %v with n=%d v=%v", err, n, v)
			}
			return
		}
		checkVV(t, v)
		if n <= 0 || n > len(b) {
			t.Fatalf("consumed %d of %d bytes", n, len(b))
		}
		if re := v.AppendBinary(nil); !bytes.Equal(re, b[:n]) {
			t.Fatalf("re-encoding %v gives %x, read %x", v, re, b[:n])
		}
	})
}

// FuzzDecodeTimestamp: a decoded timestamp re-encodes to the same 12 bytes.
func FuzzDecodeTimestamp(f *testing.F) {
	f.Add(Timestamp{}.AppendBinary(nil))
	f.Add(Timestamp{WallTime: -1, Logical: 7}.AppendBinary(nil))
	f.Add(Timestamp{WallTime: 1_700_000_000_000_000_000, Logical: 1}.AppendBinary(nil))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, err := DecodeTimestamp(b)
		if err != nil {
			if len(b) == TimestampSize {
				t.Fatalf("12 bytes refused: %v", err)
			}
			return
		}
		if re := ts.AppendBinary(nil); !bytes.Equal(re, b) {
			t.Fatalf("re-encoding %v gives %x, read %x", ts, re, b)
		}
	})
}

// FuzzDecodeDVV: any input decodes or fails cleanly, a decoded DVV is valid,
// and it re-encodes to exactly the bytes read.
func FuzzDecodeDVV(f *testing.F) {
	f.Add(dvv(1, 1).AppendBinary(nil))
	f.Add(dvv(2, 9, 1, 4, 2, 8, 1<<40, 3).AppendBinary(nil))
	f.Add([]byte{1, 3, 1, 1, 3}) // context contains the dot
	f.Add([]byte{1, 0, 0})       // zero counter
	f.Add([]byte{0x81, 0x00, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, n, err := DecodeDVV(b)
		if err != nil {
			if n != 0 {
				t.Fatalf("error %v with n=%d", err, n)
			}
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("decoded an invalid DVV %v: %v", d, err)
		}
		checkVV(t, d.Context)
		if n <= 0 || n > len(b) {
			t.Fatalf("consumed %d of %d bytes", n, len(b))
		}
		if re := d.AppendBinary(nil); !bytes.Equal(re, b[:n]) {
			t.Fatalf("re-encoding %v gives %x, read %x", d, re, b[:n])
		}
	})
}

package crdt

import (
	"encoding/binary"
	"errors"
	"runtime"
	"testing"

	"github.com/cairndb/cairn/clock"
)

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{
		0: "Kind(0)", KindCausalContext: "CausalContext", KindGCounter: "GCounter",
		KindPNCounter: "PNCounter", KindLWWRegister: "LWWRegister", KindMVRegister: "MVRegister",
		KindORSet: "ORSet", KindCausalCounter: "CausalCounter", KindORMap: "ORMap", 99: "Kind(99)",
	} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", uint8(k), got, want)
		}
	}
}

func TestKindOf(t *testing.T) {
	var m ORMap[ORSet]
	for _, tc := range []struct {
		b    []byte
		want Kind
		err  error
	}{
		{GCounter{}.AppendBinary(nil), KindGCounter, nil},
		{m.AppendBinary(nil), KindORMap, nil},
		{nil, 0, ErrTruncated},
		{[]byte{encodingVersion}, 0, ErrTruncated},
		{[]byte{2, byte(KindORSet)}, 0, ErrVersion},
		{[]byte{encodingVersion, 0}, 0, ErrInvalid},
		{[]byte{encodingVersion, 200}, 0, ErrInvalid},
	} {
		got, err := KindOf(tc.b)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("KindOf(%x) = %v, %v; want %v, %v", tc.b, got, err, tc.want, tc.err)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	uv := func(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }
	hdr := func(k Kind) []byte { return appendHeader(nil, k) }
	var empty clock.VersionVector
	ctx := func(k Kind) []byte { return appendDotList(empty.AppendBinary(hdr(k)), nil) }
	mapCtx := appendDotList(empty.AppendBinary(append(hdr(KindORMap), byte(KindORSet))), nil)
	var set ORSet
	set.Add(1, "x")
	goodSet := set.AppendBinary(nil)

	for _, tc := range []struct {
		name   string
		decode func([]byte) error
		b      []byte
		want   error
	}{
		{"wrong kind", decodeErr(DecodeORSet), GCounter{}.AppendBinary(nil), ErrKind},
		{"wrong version", decodeErr(DecodeGCounter), []byte{9, byte(KindGCounter), 0}, ErrVersion},
		{"trailing bytes", decodeErr(DecodeORSet), append(goodSet, 0), ErrInvalid},
		{"truncated", decodeErr(DecodeORSet), goodSet[:len(goodSet)-1], ErrTruncated},
		{"count beyond MaxEntries", decodeErr(DecodeGCounter), uv(hdr(KindGCounter), MaxEntries+1), ErrTooLarge},
		{"count beyond the input", decodeErr(DecodeGCounter), uv(hdr(KindGCounter), 1000), ErrTruncated},
		{"uvarint overflow", decodeErr(DecodeGCounter), append(hdr(KindGCounter), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), ErrInvalid},
		{"zero count entry", decodeErr(DecodeGCounter), uv(uv(uv(hdr(KindGCounter), 1), 5), 0), ErrInvalid},
		{"duplicate replica", decodeErr(DecodeGCounter), uv(uv(uv(uv(uv(hdr(KindGCounter), 2), 5), 1), 0), 1), ErrInvalid},
		{"value beyond MaxValueSize", decodeErr(DecodeLWWRegister), uv(uv(clock.Timestamp{}.AppendBinary(hdr(KindLWWRegister)), 1), MaxValueSize+1), ErrTooLarge},
		{"value beyond the input", decodeErr(DecodeLWWRegister), uv(uv(clock.Timestamp{}.AppendBinary(hdr(KindLWWRegister)), 1), 10), ErrTruncated},
		{"set dot outside the context", decodeErr(DecodeORSet), appendDotList(appendString(uv(ctx(KindORSet), 1), "x"), []clock.Dot{dot(1, 1)}), ErrInvalid},
		{"set element without dots", decodeErr(DecodeORSet), appendDotList(appendString(uv(ctx(KindORSet), 1), "xyz"), nil), ErrInvalid},
		{"zero counter contribution", decodeErr(DecodeCausalCounter), binary.AppendVarint(appendDot(uv(ctx(KindCausalCounter), 1), dot(1, 1), 0), 0), ErrInvalid},
		{"map of another value kind", decodeErr(DecodeORMap[ORSet]), ORMap[MVRegister]{}.AppendBinary(nil), ErrKind},
		{"map field without value", decodeErr(DecodeORMap[ORSet]), uv(appendString(uv(mapCtx, 1), "abc"), 0), ErrInvalid},
	} {
		if err := tc.decode(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func decodeErr[T any](decode func([]byte) (T, error)) func([]byte) error {
	return func(b []byte) error {
		_, err := decode(b)
		return err
	}
}

// TestDecodeAllocationIsBoundedByInput feeds each decoder a short input
// whose count or length claims the maximum, and checks that the decoder
// does not allocate for the claim before finding the input too short.
func TestDecodeAllocationIsBoundedByInput(t *testing.T) {
	uv := func(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }
	var empty clock.VersionVector
	ctx := func(k Kind) []byte { return appendDotList(empty.AppendBinary(appendHeader(nil, k)), nil) }
	pad := make([]byte, 64)
	for _, tc := range []struct {
		name   string
		decode func([]byte) error
		b      []byte
	}{
		{"GCounter entries", decodeErr(DecodeGCounter), uv(appendHeader(nil, KindGCounter), MaxEntries)},
		{"LWW value", decodeErr(DecodeLWWRegister), uv(uv(clock.Timestamp{}.AppendBinary(appendHeader(nil, KindLWWRegister)), 1), MaxValueSize)},
		{"context cloud", decodeErr(DecodeCausalContext), uv(empty.AppendBinary(appendHeader(nil, KindCausalContext)), MaxEntries)},
		{"ORSet elements", decodeErr(DecodeORSet), uv(ctx(KindORSet), MaxEntries)},
		{"ORSet dots", decodeErr(DecodeORSet), uv(appendString(uv(ctx(KindORSet), 1), "x"), MaxEntries)},
		{"MVRegister entries", decodeErr(DecodeMVRegister), uv(ctx(KindMVRegister), MaxEntries)},
		{"CausalCounter entries", decodeErr(DecodeCausalCounter), uv(ctx(KindCausalCounter), MaxEntries)},
		{"ORMap fields", decodeErr(DecodeORMap[ORSet]), uv(appendDotList(empty.AppendBinary(append(appendHeader(nil, KindORMap), byte(KindORSet))), nil), MaxEntries)},
	} {
		b := append(tc.b, pad...)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := tc.decode(b)
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("%s: decoded a hostile input", tc.name)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
			t.Errorf("%s: allocated %d bytes for a %d-byte input", tc.name, n, len(b))
		}
	}
}

func TestDecodeRejectsLongUvarints(t *testing.T) {
	long := append(appendHeader(nil, KindGCounter), 0x81, 0x00, 0x05, 0x01) // count 1 in two bytes
	if _, err := DecodeGCounter(long); !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	short := append(appendHeader(nil, KindGCounter), 0x01, 0x05, 0x01)
	if _, err := DecodeGCounter(short); err != nil {
		t.Fatalf("canonical form: %v", err)
	}
}

package object

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// TestAppendPrefixed checks the in-place length prefix against encoding
// the body apart, across the sizes where the uvarint grows.
func TestAppendPrefixed(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 16383, 16384, 70000} {
		body := bytes.Repeat([]byte{0xab}, n)
		head := []byte("head")
		got := appendPrefixed(bytes.Clone(head), func(b []byte) []byte { return append(b, body...) })
		want := append(binary.AppendUvarint(bytes.Clone(head), uint64(n)), body...)
		if !bytes.Equal(got, want) {
			t.Fatalf("body of %d bytes: got %d bytes, want %d", n, len(got), len(want))
		}
	}
}

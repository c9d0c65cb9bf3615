package transport

import (
	"encoding/binary"
	"hash/crc32"
)

// A snapshot travels on its own stream as a sequence of messages, each
// starting with a kind byte:
//
//	header: kindHeader || header bytes         (exactly one, first)
//	chunk:  kindChunk  || body bytes           (any number, non-empty)
//	end:    kindEnd    || uvarint(body length) || CRC-32C of the body (4 bytes, big endian)
//
// then the client half-closes. The end marker makes a complete body
// distinguishable from one cut short, whatever the reason, and the CRC
// catches a damaged one (TCP's checksum is weak, and a bug could reorder
// chunks).
const (
	kindHeader byte = iota + 1
	kindChunk
	kindEnd
)

// castagnoli is the CRC-32C table (hardware-accelerated on amd64 and
// arm64).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// endMarkerLen is the most bytes an end marker takes.
const endMarkerLen = 1 + binary.MaxVarintLen64 + 4

// appendEndMarker appends the end marker for a body of n bytes with the
// given CRC.
func appendEndMarker(dst []byte, n uint64, crc uint32) []byte {
	dst = append(dst, kindEnd)
	dst = binary.AppendUvarint(dst, n)
	return binary.BigEndian.AppendUint32(dst, crc)
}

// parseEndMarker returns the body length and CRC of an end marker without
// its kind byte.
func parseEndMarker(b []byte) (n uint64, crc uint32, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || len(b)-k != 4 {
		return 0, 0, false
	}
	return n, binary.BigEndian.Uint32(b[k:]), true
}

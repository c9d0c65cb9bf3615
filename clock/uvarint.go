package clock

import "encoding/binary"

// uvarint reads one uvarint from the front of b like binary.Uvarint, and also
// rejects encodings that are not in shortest form, so that every value has
// exactly one accepted encoding and a decoded value re-encodes to the same
// bytes. It returns the value and the number of bytes read; n == 0 means b
// ended mid-value, n < 0 means the bytes are not a canonical uvarint.
func uvarint(b []byte) (v uint64, n int) {
	v, n = binary.Uvarint(b)
	if n > 1 && b[n-1] == 0 {
		return 0, -n // a trailing zero group adds nothing: not the shortest form
	}
	return v, n
}

// uvarintError maps a failed uvarint read (n <= 0) to the caller's errors.
func uvarintError(n int, truncated, invalid error) error {
	if n == 0 {
		return truncated
	}
	return invalid
}

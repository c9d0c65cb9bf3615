package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A batch is the body of one stream message: the frame count, then each
// frame as its length and its bytes, all lengths as unsigned varints:
//
//	uvarint(count) { uvarint(len) bytes[len] }*count
//
// A frame is opaque to the transport.

// errBadBatch is wrapped by every batch decoding error.
var errBadBatch = errors.New("transport: malformed batch")

// frameEncodedLen is the bytes a frame of n bytes takes in a batch.
func frameEncodedLen(n int) int { return uvarintLen(uint64(n)) + n }

// batchEncodedLen is the size of a batch of count frames whose encoded
// lengths sum to frameBytes.
func batchEncodedLen(count, frameBytes int) int { return uvarintLen(uint64(count)) + frameBytes }

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// encodeBatch writes frames into dst, which must be exactly
// batchEncodedLen(len(frames), Σ frameEncodedLen) bytes long.
func encodeBatch(dst []byte, frames [][]byte) {
	n := binary.PutUvarint(dst, uint64(len(frames)))
	for _, f := range frames {
		n += binary.PutUvarint(dst[n:], uint64(len(f)))
		n += copy(dst[n:], f)
	}
	if n != len(dst) {
		panic(fmt.Sprintf("transport: batch encoded to %d bytes into a buffer of %d", n, len(dst)))
	}
}

// decodeBatch appends the frames of data to frames and returns it. The
// frames alias data, each with its capacity cut at its end so that an
// append to one cannot overwrite the next. Every frame takes at least one
// byte (its length), which bounds the count by len(data) before anything
// is allocated.
func decodeBatch(data []byte, frames [][]byte) ([][]byte, error) {
	count, n := binary.Uvarint(data)
	if n <= 0 {
		return frames, fmt.Errorf("%w: bad frame count", errBadBatch)
	}
	rest := data[n:]
	if count > uint64(len(rest)) {
		return frames, fmt.Errorf("%w: %d frames in %d bytes", errBadBatch, count, len(rest))
	}
	for i := range count {
		size, n := binary.Uvarint(rest)
		if n <= 0 {
			return frames, fmt.Errorf("%w: bad length of frame %d", errBadBatch, i)
		}
		rest = rest[n:]
		if size > uint64(len(rest)) {
			return frames, fmt.Errorf("%w: frame %d of %d bytes, %d left", errBadBatch, i, size, len(rest))
		}
		frames = append(frames, rest[:size:size])
		rest = rest[size:]
	}
	if len(rest) != 0 {
		return frames, fmt.Errorf("%w: %d bytes after the last frame", errBadBatch, len(rest))
	}
	return frames, nil
}

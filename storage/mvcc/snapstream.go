package mvcc

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
)

// The snapshot stream:
//
//	magic      8 bytes "cairnmv1"
//	records    uvarint len(key), key, uvarint len(value), value; keys
//	           relative to the generation prefix, strictly ascending
//	end        uvarint 0 (no record key is empty)
//	count      uvarint number of records
//	checksum   4 bytes big-endian CRC-32C of every byte before it
const snapshotMagic = "cairnmv1"

// snapshotWriter encodes a snapshot stream.
type snapshotWriter struct {
	w     *bufio.Writer
	crc   hash.Hash32
	count uint64
	buf   []byte
}

func newSnapshotWriter(w io.Writer) (*snapshotWriter, error) {
	sw := &snapshotWriter{w: bufio.NewWriterSize(w, 64<<10), crc: crc32.New(castagnoli)}
	if err := sw.write([]byte(snapshotMagic)); err != nil {
		return nil, err
	}
	// The magic goes out at once: its arrival tells a reader that the
	// snapshot's point in time is fixed (see Store.Snapshot).
	return sw, sw.w.Flush()
}

func (sw *snapshotWriter) write(p []byte) error {
	sw.crc.Write(p)
	_, err := sw.w.Write(p)
	return err
}

func (sw *snapshotWriter) record(key, value []byte) error {
	sw.count++
	sw.buf = binary.AppendUvarint(sw.buf[:0], uint64(len(key)))
	if err := errors.Join(sw.write(sw.buf), sw.write(key)); err != nil {
		return err
	}
	sw.buf = binary.AppendUvarint(sw.buf[:0], uint64(len(value)))
	return errors.Join(sw.write(sw.buf), sw.write(value))
}

func (sw *snapshotWriter) finish() error {
	sw.buf = binary.AppendUvarint(sw.buf[:0], 0)
	sw.buf = binary.AppendUvarint(sw.buf, sw.count)
	if err := sw.write(sw.buf); err != nil {
		return err
	}
	if _, err := sw.w.Write(binary.BigEndian.AppendUint32(nil, sw.crc.Sum32())); err != nil {
		return err
	}
	return sw.w.Flush()
}

// snapshotReader decodes a snapshot stream, bounding every length so a
// corrupt stream cannot make it allocate without limit.
type snapshotReader struct {
	r        *bufio.Reader
	crc      hash.Hash32
	maxKey   uint64
	maxValue uint64
	count    uint64
	prev     []byte
	key      []byte
	value    []byte
	done     bool
}

func newSnapshotReader(r io.Reader, maxKey, maxValue int) (*snapshotReader, error) {
	sr := &snapshotReader{r: bufio.NewReaderSize(r, 64<<10), crc: crc32.New(castagnoli),
		maxKey: uint64(maxKey), maxValue: uint64(maxValue)}
	magic := make([]byte, len(snapshotMagic))
	if err := sr.read(magic); err != nil {
		return nil, err
	}
	if string(magic) != snapshotMagic {
		return nil, fmt.Errorf("%w: bad magic %q", ErrSnapshotCorrupt, magic)
	}
	return sr, nil
}

// read fills p and feeds it to the checksum.
func (sr *snapshotReader) read(p []byte) error {
	if _, err := io.ReadFull(sr.r, p); err != nil {
		return fmt.Errorf("%w: %w", ErrSnapshotCorrupt, err)
	}
	sr.crc.Write(p)
	return nil
}

func (sr *snapshotReader) uvarint() (uint64, error) {
	var b [binary.MaxVarintLen64]byte
	for i := range b {
		c, err := sr.r.ReadByte()
		if err != nil {
			return 0, fmt.Errorf("%w: %w", ErrSnapshotCorrupt, err)
		}
		b[i] = c
		if c < 0x80 {
			sr.crc.Write(b[:i+1])
			v, n := binary.Uvarint(b[:i+1])
			if n <= 0 {
				return 0, fmt.Errorf("%w: bad varint", ErrSnapshotCorrupt)
			}
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: varint too long", ErrSnapshotCorrupt)
}

// next reads the next record into sr.key and sr.value (valid until the
// following call); it returns false at the end of the records, after
// verifying the trailer.
func (sr *snapshotReader) next() (bool, error) {
	if sr.done {
		return false, nil
	}
	n, err := sr.uvarint()
	if err != nil {
		return false, err
	}
	if n == 0 {
		sr.done = true
		return false, sr.trailer()
	}
	if n > sr.maxKey {
		return false, fmt.Errorf("%w: record key of %d bytes", ErrSnapshotCorrupt, n)
	}
	sr.prev = append(sr.prev[:0], sr.key...)
	sr.key = grow(sr.key, int(n))
	if err := sr.read(sr.key); err != nil {
		return false, err
	}
	if sr.count > 0 && bytes.Compare(sr.prev, sr.key) >= 0 {
		return false, fmt.Errorf("%w: record keys out of order", ErrSnapshotCorrupt)
	}
	if n, err = sr.uvarint(); err != nil {
		return false, err
	}
	if n > sr.maxValue {
		return false, fmt.Errorf("%w: record value of %d bytes", ErrSnapshotCorrupt, n)
	}
	sr.value = grow(sr.value, int(n))
	if err := sr.read(sr.value); err != nil {
		return false, err
	}
	sr.count++
	return true, nil
}

func (sr *snapshotReader) trailer() error {
	count, err := sr.uvarint()
	if err != nil {
		return err
	}
	want := sr.crc.Sum32()
	var sum [4]byte
	if _, err := io.ReadFull(sr.r, sum[:]); err != nil {
		return fmt.Errorf("%w: %w", ErrSnapshotCorrupt, err)
	}
	switch {
	case count != sr.count:
		return fmt.Errorf("%w: trailer counts %d records, stream had %d", ErrSnapshotCorrupt, count, sr.count)
	case binary.BigEndian.Uint32(sum[:]) != want:
		return fmt.Errorf("%w: checksum mismatch", ErrSnapshotCorrupt)
	}
	if _, err := sr.r.ReadByte(); err != io.EOF {
		return fmt.Errorf("%w: data after the trailer", ErrSnapshotCorrupt)
	}
	return nil
}

// grow returns b resized to n bytes, reusing its storage when it can.
func grow(b []byte, n int) []byte {
	if cap(b) >= n {
		return b[:n]
	}
	return make([]byte, n)
}

package resp

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"
)

// directWriteChunk is the most bytes of a large bulk written in one call,
// so that each chunk gets a fresh write deadline: WriteTimeout bounds a
// stall, not the time to send a whole large value.
const directWriteChunk = 1 << 20

// Writer encodes replies in RESP2 or RESP3 into a buffer, and writes the
// buffer out when it fills or on Flush. RESP3 types are downgraded on a
// RESP2 connection the way Redis downgrades them: a map becomes a flat
// array of keys and values, a set or push an array, a double a bulk
// string, a boolean the integer 1 or 0, a null a null bulk (or null
// array), a verbatim string a bulk string.
//
// A write error is sticky: later replies are dropped and Flush and Err
// return it. Not safe for concurrent use.
//
// The Writer counts complete top-level replies (an aggregate counts once
// its last element is written), so that the server can check that a
// handler wrote exactly one per command.
type Writer struct {
	dst   io.Writer
	size  int
	pool  *sync.Pool // of *[]byte of cap size; nil: buf is the Writer's own
	bufp  *[]byte    // the pool's box of buf, reused so that release does not allocate
	buf   []byte
	err   error
	proto int

	// open aggregates, innermost last: how many elements each still
	// expects, and whether it is a push (out of band: not a reply).
	stack []frame
	// replies and errs count top-level replies and error replies
	// written; pending counts replies since the last flush.
	replies, errs, pending int

	// beforeWrite runs before each write to dst (the server sets the
	// write deadline there).
	beforeWrite func() error
	written     int64
}

type frame struct {
	left int
	push bool
}

// NewWriter returns a Writer to dst with a buffer of bufBytes, speaking
// RESP2 until SetProtocol(3).
func NewWriter(dst io.Writer, bufBytes int) *Writer {
	bufBytes = max(bufBytes, minBufferBytes)
	return &Writer{dst: dst, size: bufBytes, buf: make([]byte, 0, bufBytes), proto: 2}
}

// newPooledWriter returns a Writer that takes its buffer from pool when
// it first writes, and gives it back on release.
func newPooledWriter(dst io.Writer, bufBytes int, pool *sync.Pool) *Writer {
	return &Writer{dst: dst, size: bufBytes, pool: pool, proto: 2}
}

// Protocol returns the protocol version replies are encoded in: 2 or 3.
func (w *Writer) Protocol() int { return w.proto }

// SetProtocol selects RESP2 (2) or RESP3 (3). It panics on any other
// version: the server negotiates it (HELLO), a handler never should.
func (w *Writer) SetProtocol(proto int) {
	if proto != 2 && proto != 3 {
		panic(fmt.Sprintf("resp: protocol version %d", proto))
	}
	w.proto = proto
}

// SimpleString writes a status reply: "+OK". CR and LF in s are written
// as spaces, so that s cannot break the stream.
func (w *Writer) SimpleString(s string) {
	w.grow(len(s) + 3)
	w.buf = append(w.buf, '+')
	w.appendLine(s)
	w.value()
}

// Error writes an error reply. msg starts with an error code, an
// upper-case word (ERR, WRONGTYPE, NOSCRIPT, ...): if its first word is
// not one, "ERR " is put before it, as Redis's addReplyError does; a
// leading '-' is dropped. CR and LF are written as spaces.
//
//	w.Error("WRONGTYPE Operation against a key holding the wrong kind of value")
//	w.Error("value is not an integer or out of range") // -ERR value is ...
func (w *Writer) Error(msg string) {
	if len(msg) > 0 && msg[0] == '-' {
		msg = msg[1:]
	}
	w.grow(len(msg) + 7)
	w.buf = append(w.buf, '-')
	if !hasErrorCode(msg) {
		w.buf = append(w.buf, "ERR "...)
	}
	w.appendLine(msg)
	w.errs++
	w.value()
}

// hasErrorCode reports whether msg starts with an error code: two or more
// upper-case letters ending at a space or at the end.
func hasErrorCode(msg string) bool {
	i := 0
	for i < len(msg) && 'A' <= msg[i] && msg[i] <= 'Z' {
		i++
	}
	return i >= 2 && (i == len(msg) || msg[i] == ' ')
}

// Integer writes an integer reply: ":42".
func (w *Writer) Integer(n int64) {
	w.grow(24)
	w.buf = append(w.buf, ':')
	w.buf = strconv.AppendInt(w.buf, n, 10)
	w.buf = append(w.buf, '\r', '\n')
	w.value()
}

// Bulk writes a bulk string reply. A nil b is an empty string, not a
// null: use Null for that. A b larger than the buffer is written from b
// itself, without a copy.
func (w *Writer) Bulk(b []byte) {
	w.header('$', len(b))
	if len(b) >= w.size {
		w.direct(b)
		w.grow(2)
	} else {
		w.grow(len(b) + 2)
		w.buf = append(w.buf, b...)
	}
	w.buf = append(w.buf, '\r', '\n')
	w.value()
}

// BulkString writes a bulk string reply from a string.
func (w *Writer) BulkString(s string) {
	w.header('$', len(s))
	for len(s) >= w.size {
		n := min(len(s), directWriteChunk)
		w.direct([]byte(s[:n]))
		s = s[n:]
	}
	w.grow(len(s) + 2)
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '\r', '\n')
	w.value()
}

// Null writes a null: "_" in RESP3, the null bulk "$-1" in RESP2 (a
// missing key's GET).
func (w *Writer) Null() {
	w.grow(5)
	if w.proto == 3 {
		w.buf = append(w.buf, '_', '\r', '\n')
	} else {
		w.buf = append(w.buf, "$-1\r\n"...)
	}
	w.value()
}

// NullArray writes a null aggregate: "_" in RESP3, the null array "*-1"
// in RESP2 (an aborted EXEC, a timed-out blocking pop).
func (w *Writer) NullArray() {
	w.grow(5)
	if w.proto == 3 {
		w.buf = append(w.buf, '_', '\r', '\n')
	} else {
		w.buf = append(w.buf, "*-1\r\n"...)
	}
	w.value()
}

// ArrayLen starts an array of n elements; the next n replies written are
// its elements. It panics if n is negative (use NullArray).
func (w *Writer) ArrayLen(n int) { w.aggregate('*', n, n, false) }

// MapLen starts a map of n key-value pairs; the next 2n replies written
// are its keys and values, alternating. In RESP2 it is an array of 2n
// elements, as Redis sends HGETALL.
func (w *Writer) MapLen(n int) {
	if w.proto == 3 {
		w.aggregate('%', n, 2*n, false)
	} else {
		w.aggregate('*', 2*n, 2*n, false)
	}
}

// SetLen starts a set of n elements (an array in RESP2).
func (w *Writer) SetLen(n int) {
	if w.proto == 3 {
		w.aggregate('~', n, n, false)
	} else {
		w.aggregate('*', n, n, false)
	}
}

// PushLen starts an out-of-band push of n elements (an array in RESP2).
// A push is not a reply to a command: it does not count as one.
func (w *Writer) PushLen(n int) {
	if w.proto == 3 {
		w.aggregate('>', n, n, true)
	} else {
		w.aggregate('*', n, n, true)
	}
}

// Double writes a floating-point reply: ",3.14" in RESP3, a bulk string
// in RESP2. Infinities are "inf" and "-inf", NaN is "nan", as in Redis.
func (w *Writer) Double(f float64) {
	var tmp [32]byte
	s := appendDouble(tmp[:0], f)
	if w.proto == 3 {
		w.grow(len(s) + 3)
		w.buf = append(w.buf, ',')
		w.buf = append(w.buf, s...)
		w.buf = append(w.buf, '\r', '\n')
		w.value()
		return
	}
	w.Bulk(s)
}

// appendDouble formats f in the shortest form that parses back to it,
// positional within [1e-4, 1e17) as Redis 7.2 prints it, scientific
// outside.
func appendDouble(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case math.IsNaN(f):
		return append(b, "nan"...)
	}
	if a := math.Abs(f); a == 0 || (a >= 1e-4 && a < 1e17) {
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// Bool writes a boolean: "#t" or "#f" in RESP3, the integer 1 or 0 in
// RESP2.
func (w *Writer) Bool(v bool) {
	if w.proto != 3 {
		if v {
			w.Integer(1)
		} else {
			w.Integer(0)
		}
		return
	}
	w.grow(4)
	if v {
		w.buf = append(w.buf, "#t\r\n"...)
	} else {
		w.buf = append(w.buf, "#f\r\n"...)
	}
	w.value()
}

// Verbatim writes a verbatim string: "=<len>\r\ntxt:<text>" in RESP3 (what
// CLIENT INFO and INFO send), a bulk string of text in RESP2. format is
// three bytes, "txt" or "mkd"; it panics on any other length.
func (w *Writer) Verbatim(format string, text []byte) {
	if len(format) != 3 {
		panic(fmt.Sprintf("resp: verbatim format %q is not 3 bytes", format))
	}
	if w.proto != 3 {
		w.Bulk(text)
		return
	}
	w.header('=', len(text)+4)
	w.grow(len(text) + 6)
	w.buf = append(w.buf, format...)
	w.buf = append(w.buf, ':')
	if len(text) >= w.size {
		w.direct(text)
		w.grow(2)
	} else {
		w.grow(len(text) + 2)
		w.buf = append(w.buf, text...)
	}
	w.buf = append(w.buf, '\r', '\n')
	w.value()
}

// Flush writes the buffered replies out, and returns the Writer's sticky
// error, if any.
func (w *Writer) Flush() error {
	w.flushBuf()
	return w.err
}

// Buffered returns the bytes written to the buffer and not yet flushed.
func (w *Writer) Buffered() int { return len(w.buf) }

// Err returns the sticky write error, if any.
func (w *Writer) Err() error { return w.err }

// BytesWritten returns the bytes written out so far.
func (w *Writer) BytesWritten() int64 { return w.written }

// release gives a pooled buffer back once it is empty (the server calls
// it when the connection goes idle, so that idle connections hold no
// write buffer).
func (w *Writer) release() {
	if w.pool != nil && w.buf != nil && len(w.buf) == 0 && cap(w.buf) == w.size {
		if w.bufp == nil {
			w.bufp = new([]byte)
		}
		*w.bufp = w.buf
		w.pool.Put(w.bufp)
		w.buf, w.bufp = nil, nil
	}
}

// complete reports whether no aggregate is open.
func (w *Writer) complete() bool { return len(w.stack) == 0 }

// value records that one complete value was written: it fills a slot of
// the innermost open aggregate (closing those it completes), or is a
// top-level reply.
func (w *Writer) value() {
	for len(w.stack) > 0 {
		top := &w.stack[len(w.stack)-1]
		top.left--
		if top.left > 0 {
			return
		}
		push := top.push
		w.stack = w.stack[:len(w.stack)-1]
		if push && len(w.stack) == 0 {
			return // a whole push: out of band
		}
	}
	w.replies++
	w.pending++
}

func (w *Writer) aggregate(typ byte, n, elems int, push bool) {
	if n < 0 {
		panic(fmt.Sprintf("resp: aggregate of %d elements", n))
	}
	w.header(typ, n)
	if elems == 0 {
		if push && len(w.stack) == 0 {
			return
		}
		w.value()
		return
	}
	w.stack = append(w.stack, frame{left: elems, push: push})
}

func (w *Writer) header(typ byte, n int) {
	w.grow(24)
	w.buf = append(w.buf, typ)
	w.buf = strconv.AppendInt(w.buf, int64(n), 10)
	w.buf = append(w.buf, '\r', '\n')
}

// appendLine appends s with CR and LF replaced by spaces, then CRLF.
func (w *Writer) appendLine(s string) {
	for i := 0; i < len(s); i++ {
		w.buf = append(w.buf, sanitizeByte(s[i]))
	}
	w.buf = append(w.buf, '\r', '\n')
}

// grow makes room for n more bytes, flushing if they do not fit. Lines
// longer than the buffer (long error or status texts) grow it instead,
// until the next flush.
func (w *Writer) grow(n int) {
	if w.buf == nil {
		w.acquire()
	}
	if len(w.buf)+n <= cap(w.buf) {
		return
	}
	w.flushBuf()
	if w.buf == nil {
		w.acquire()
	}
}

func (w *Writer) acquire() {
	if w.pool != nil {
		if b, ok := w.pool.Get().(*[]byte); ok && cap(*b) == w.size {
			w.buf, w.bufp = (*b)[:0], b
			*b = nil
			return
		}
	}
	w.buf = make([]byte, 0, w.size)
}

// direct writes b out after what is buffered, in chunks.
func (w *Writer) direct(b []byte) {
	w.flushBuf()
	for len(b) > 0 && w.err == nil {
		n := min(len(b), directWriteChunk)
		w.write(b[:n])
		b = b[n:]
	}
}

func (w *Writer) flushBuf() {
	if len(w.buf) > 0 && w.err == nil {
		w.write(w.buf)
	}
	w.pending = 0
	switch {
	case cap(w.buf) > w.size:
		w.buf = nil // grown by a long line: do not keep it
	case w.buf != nil:
		w.buf = w.buf[:0]
	}
}

func (w *Writer) write(b []byte) {
	if w.beforeWrite != nil {
		if err := w.beforeWrite(); err != nil {
			w.err = err
			return
		}
	}
	n, err := w.dst.Write(b)
	w.written += int64(n)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = err
	}
}

// appendReply writes one whole reply encoded elsewhere (a Concurrent
// command's private Writer), counting it as a reply, and as an error reply
// if isErr.
func (w *Writer) appendReply(b []byte, isErr bool) {
	w.grow(len(b))
	if len(b) > cap(w.buf)-len(w.buf) { // larger than the buffer: straight out
		w.flushBuf()
		w.write(b)
	} else {
		w.buf = append(w.buf, b...)
	}
	w.replies++
	w.pending++
	if isErr {
		w.errs++
	}
}
